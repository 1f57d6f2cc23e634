/** The number of bytes of a string or buffer strace prints by default (`-s 32`). */
export const STRING_LIMIT = 32;

/** The number of bytes of a path strace prints (PATH_MAX). */
export const PATH_LIMIT = 4096;

const NAMED_ESCAPES: ReadonlyMap<number, string> = new Map([
  [0x09, "\\t"],
  [0x0a, "\\n"],
  [0x0b, "\\v"],
  [0x0c, "\\f"],
  [0x0d, "\\r"],
  [0x22, '\\"'],
  [0x5c, "\\\\"],
]);

/**
 * Quotes bytes as strace does. Printable ASCII stays as it is, and `"`, `\`
 * and the control characters \t \n \v \f \r get C escapes. Every other byte
 * is an octal escape, with three digits when the next byte is an octal digit
 * so that the escape stays unambiguous. `truncated` appends `...` after the
 * closing quote.
 */
export function quoteBytes(bytes: Uint8Array, truncated: boolean): string {
  let text = '"';
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    const named = NAMED_ESCAPES.get(byte);
    if (named !== undefined) {
      text += named;
    } else if (byte >= 0x20 && byte < 0x7f) {
      text += String.fromCharCode(byte);
    } else {
      const next = i + 1 < bytes.length ? bytes[i + 1] : -1;
      const octal = byte.toString(8);
      text += next >= 0x30 && next <= 0x37 ? `\\${octal.padStart(3, "0")}` : `\\${octal}`;
    }
  }
  return truncated ? `${text}"...` : `${text}"`;
}
