/**
 * A flag or enumeration table: `[name, value]` pairs in the order strace
 * prints them. A value may span several bits (O_SYNC contains O_DSYNC); such
 * an entry must come before the entries whose bits it contains.
 */
export type FlagTable = ReadonlyArray<readonly [name: string, value: number | bigint]>;

/** Options of {@link formatFlags}. */
export interface FormatFlagsOptions {
  /** Name printed for a value of 0, such as "PROT_NONE"; "0" when unset. */
  readonly zero?: string;
}

/**
 * Formats a bit mask in strace's style: the names of the set flags joined by
 * `|`, then any bits no entry names as one hexadecimal number, as in
 * `O_CREAT|O_CLOEXEC|0x40000000`. The value is taken as unsigned 64-bit.
 */
export function formatFlags(value: number | bigint, table: FlagTable, options: FormatFlagsOptions = {}): string {
  let rest = toUint64(value);
  if (rest === 0n) {
    return options.zero ?? "0";
  }

  const parts: string[] = [];
  for (const [name, flag] of table) {
    const bits = toUint64(flag);
    if (bits !== 0n && (rest & bits) === bits) {
      parts.push(name);
      rest &= ~bits;
    }
  }

  if (rest !== 0n) {
    parts.push(`0x${rest.toString(16)}`);
  }
  return parts.join("|");
}

/**
 * Formats one value of an enumeration by its name. An unknown value prints as
 * strace prints it, in hexadecimal followed by a comment such as `/* F_??? *\/`.
 * Values are compared as signed 64-bit integers.
 */
export function formatEnum(value: number | bigint, table: FlagTable, unknownPrefix: string): string {
  const name = lookupName(value, table);
  if (name !== undefined) {
    return name;
  }
  return `${formatHex(value)} /* ${unknownPrefix}??? */`;
}

/** Returns the name of the first table entry whose value equals `value`, or undefined. */
export function lookupName(value: number | bigint, table: FlagTable): string | undefined {
  const wanted = toInt64(value);
  for (const [name, entry] of table) {
    if (toInt64(entry) === wanted) {
      return name;
    }
  }
  return undefined;
}

/** Formats a value as `0x` followed by its unsigned 64-bit hexadecimal digits. */
export function formatHex(value: number | bigint): string {
  return `0x${toUint64(value).toString(16)}`;
}

/** Makes a table of the named entries of a constants object, in the given order. */
export function tableOf<T extends Record<string, number | bigint>>(constants: T, names: ReadonlyArray<keyof T & string>): FlagTable {
  return names.map((name) => [name, constants[name]] as const);
}

/** Converts a number or bigint to an unsigned 64-bit bigint, wrapping negative values. */
export function toUint64(value: number | bigint): bigint {
  return BigInt.asUintN(64, typeof value === "bigint" ? value : BigInt(Math.trunc(value)));
}

/** Converts a number or bigint to a signed 64-bit bigint. */
export function toInt64(value: number | bigint): bigint {
  return BigInt.asIntN(64, typeof value === "bigint" ? value : BigInt(Math.trunc(value)));
}
