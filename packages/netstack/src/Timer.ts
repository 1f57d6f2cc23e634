/**
 * A one-shot timer that can be moved cheaply. Protocol code re-arms timers on
 * nearly every segment, so moving the deadline later only records it. The
 * underlying Node timer is re-armed when it fires early or when the deadline
 * moves earlier. Timers are unref'd, so they never keep the process alive.
 */
export class Timer {
  private deadline = 0;
  private armedAt = 0;
  private handle: NodeJS.Timeout | null = null;

  constructor(private readonly callback: () => void) {}

  /** Arms the timer to fire `ms` milliseconds from now, replacing any earlier arming. */
  set(ms: number): void {
    const when = performance.now() + ms;
    this.deadline = when;
    if (this.handle !== null && this.armedAt <= when) return;
    this.arm(ms);
  }

  /** Disarms the timer. */
  cancel(): void {
    this.deadline = 0;
    if (this.handle !== null) {
      clearTimeout(this.handle);
      this.handle = null;
    }
  }

  /** Reports whether the timer is armed. */
  get pending(): boolean {
    return this.deadline !== 0;
  }

  private arm(ms: number): void {
    if (this.handle !== null) clearTimeout(this.handle);
    this.armedAt = performance.now() + ms;
    this.handle = setTimeout(() => this.fire(), Math.max(0, Math.ceil(ms)));
    this.handle.unref();
  }

  private fire(): void {
    this.handle = null;
    if (this.deadline === 0) return;
    const left = this.deadline - performance.now();
    if (left > 0.5) {
      this.arm(left);
      return;
    }
    this.deadline = 0;
    this.callback();
  }
}
