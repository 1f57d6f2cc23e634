/** Severity of a log line, lowest first. */
export enum LogLevel {
  Debug = 0,
  Info = 1,
  Warning = 2,
  Error = 3,
}

/** Where the Sentry writes its log lines; the sandbox id and task id are added by the logger. */
export type LogSink = (line: string) => void;

/**
 * The Sentry's one logger: leveled lines prefixed with the sandbox id and,
 * where there is one, the task id, e.g. `W sandbox=3f2a tid=1 unsupported syscall ...`.
 */
export class Logger {
  constructor(
    readonly sandboxId: string,
    private readonly sink: LogSink,
    private readonly minimum: LogLevel = LogLevel.Warning,
  ) {}

  enabled(level: LogLevel): boolean {
    return level >= this.minimum;
  }

  log(level: LogLevel, message: string, tid?: number): void {
    if (level < this.minimum) return;
    const letter = "DIWE"[level];
    const task = tid === undefined ? "" : ` tid=${tid}`;
    this.sink(`${letter} sandbox=${this.sandboxId}${task} ${message}`);
  }

  debug(message: string, tid?: number): void {
    this.log(LogLevel.Debug, message, tid);
  }

  info(message: string, tid?: number): void {
    this.log(LogLevel.Info, message, tid);
  }

  warning(message: string, tid?: number): void {
    this.log(LogLevel.Warning, message, tid);
  }

  error(message: string, tid?: number): void {
    this.log(LogLevel.Error, message, tid);
  }
}
