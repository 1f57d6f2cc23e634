import { defineStruct, field, type StructLayout } from "./layout";

/** The number of control characters in the kernel's `struct termios` (NCCS of asm-generic/termbits.h). */
export const KERNEL_NCCS = 19;

/**
 * The kernel's `struct termios` (36 bytes) that TCGETS and TCSETS transfer.
 * glibc's `struct termios` is a different, larger structure that glibc
 * converts to and from this one.
 */
export interface Termios {
  c_iflag: number;
  c_oflag: number;
  c_cflag: number;
  c_lflag: number;
  c_line: number;
  c_cc: number[];
}

/** Layout of the kernel's `struct termios`. */
export const TermiosLayout: StructLayout<Termios> = defineStruct<Termios>("termios", [
  field.u32("c_iflag"),
  field.u32("c_oflag"),
  field.u32("c_cflag"),
  field.u32("c_lflag"),
  field.u8("c_line"),
  field.array(field.u8(), KERNEL_NCCS, "c_cc"),
]);

/** `struct winsize` (8 bytes) of TIOCGWINSZ and TIOCSWINSZ. */
export interface Winsize {
  ws_row: number;
  ws_col: number;
  ws_xpixel: number;
  ws_ypixel: number;
}

/** Layout of `struct winsize`. */
export const WinsizeLayout: StructLayout<Winsize> = defineStruct<Winsize>("winsize", [
  field.u16("ws_row"),
  field.u16("ws_col"),
  field.u16("ws_xpixel"),
  field.u16("ws_ypixel"),
]);
