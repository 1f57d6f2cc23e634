// The FPU and extended register state in x86-64 signal frames. Linux puts
// an XSAVE image there (arch/x86/kernel/fpu/signal.c): the 512-byte FXSAVE
// area, whose software-reserved bytes describe the image, then the XSAVE
// header and components, then a second magic number.

/** Size of the legacy FXSAVE area (x87, MXCSR and XMM registers). */
export const FXSAVE_SIZE = 512;
/** Size of the FXSAVE area and the XSAVE header: the smallest XSAVE image. */
const XSAVE_MIN_SIZE = FXSAVE_SIZE + 64;
/** Offset of the software-reserved bytes (struct _fpx_sw_bytes) in the FXSAVE area. */
const SW_RESERVED = 464;
const FP_XSTATE_MAGIC1 = 0x4650_5853;
const FP_XSTATE_MAGIC2 = 0x4650_5845;
/** Size of FP_XSTATE_MAGIC2 after the XSAVE image. */
const MAGIC2_SIZE = 4;
const MXCSR = 24;
const MXCSR_MASK = 28;
/** The MXCSR bits a processor without DAZ accepts (Intel SDM, "Guidelines for Writing to the MXCSR Register"). */
const DEFAULT_MXCSR_MASK = 0xffbf;
/** The x87 and SSE bits of XSTATE_BV, which an FXSAVE-only frame restores. */
const XFEATURE_FP_SSE = 0x3n;

/** The description of an XSAVE image in the software-reserved bytes of a signal frame. */
export interface XsaveLayout {
  /** Size of the image without the second magic number. */
  readonly size: number;
  /** Size of the image with the second magic number. */
  readonly extendedSize: number;
  /** The state components the image may hold (XCR0 bits). */
  readonly features: bigint;
}

/** Returns the layout that the software-reserved bytes of `image` describe, or undefined for a bare FXSAVE image. */
export function xsaveLayout(image: Uint8Array): XsaveLayout | undefined {
  if (image.length < FXSAVE_SIZE) return undefined;
  const view = new DataView(image.buffer, image.byteOffset, FXSAVE_SIZE);
  if (view.getUint32(SW_RESERVED, true) !== FP_XSTATE_MAGIC1) return undefined;
  return {
    extendedSize: view.getUint32(SW_RESERVED + 4, true),
    features: view.getBigUint64(SW_RESERVED + 8, true),
    size: view.getUint32(SW_RESERVED + 16, true),
  };
}

/** Returns the FXSAVE image of a new thread: x87 control word 0x37f, MXCSR 0x1f80. */
export function initialFxsave(): Uint8Array {
  const state = new Uint8Array(FXSAVE_SIZE);
  const view = new DataView(state.buffer);
  view.setUint16(0, 0x37f, true);
  view.setUint32(MXCSR, 0x1f80, true);
  return state;
}

/**
 * Returns the bytes that a signal frame holds for `state`, an image from
 * Context.readFpState: an XSAVE image with FP_XSTATE_MAGIC2 after it, or a
 * bare FXSAVE image.
 */
export function frameFpState(state: Uint8Array): Uint8Array {
  const layout = xsaveLayout(state);
  if (layout === undefined || layout.size !== state.length || state.length < XSAVE_MIN_SIZE) {
    const legacy = state.slice(0, FXSAVE_SIZE);
    legacy.fill(0, SW_RESERVED);
    return legacy;
  }
  const bytes = new Uint8Array(state.length + MAGIC2_SIZE);
  bytes.set(state);
  new DataView(bytes.buffer).setUint32(state.length, FP_XSTATE_MAGIC2, true);
  return bytes;
}

/** Reads memory of the application; throws where it is not readable. */
export type CopyIn = (addr: number, length: number) => Uint8Array;

/**
 * Rebuilds the state that rt_sigreturn loads from the frame's FPU area at
 * `addr`, in the format of `current` (the thread's state from
 * Context.readFpState). The rules are Linux's:
 * - no FPU area (`addr` 0) restores the initial state;
 * - an XSAVE image with valid magic numbers and sizes is restored with the
 *   components that both the frame and the thread have;
 * - any other frame restores x87 and SSE, and the rest starts initial.
 * Returns undefined for an MXCSR value the processor rejects, where Linux
 * sends SIGSEGV.
 */
export function restoredFpState(copyIn: CopyIn, addr: number, current: Uint8Array): Uint8Array | undefined {
  const legacy = addr === 0 ? initialFxsave() : copyIn(addr, FXSAVE_SIZE);
  const legacyView = new DataView(legacy.buffer, legacy.byteOffset, FXSAVE_SIZE);
  const currentView = new DataView(current.buffer, current.byteOffset, Math.min(current.length, FXSAVE_SIZE));
  const mask = current.length >= FXSAVE_SIZE ? currentView.getUint32(MXCSR_MASK, true) || DEFAULT_MXCSR_MASK : DEFAULT_MXCSR_MASK;
  if ((legacyView.getUint32(MXCSR, true) & ~mask) !== 0) return undefined;

  const host = xsaveLayout(current);
  const frame = xsaveLayout(legacy);
  const hostImage = host !== undefined && host.size === current.length && current.length >= XSAVE_MIN_SIZE;
  if (hostImage && frame !== undefined && frame.size >= XSAVE_MIN_SIZE && frame.size <= current.length && frame.size + MAGIC2_SIZE <= frame.extendedSize) {
    const image = copyIn(addr, frame.size + MAGIC2_SIZE);
    const imageView = new DataView(image.buffer, image.byteOffset, image.length);
    if (imageView.getUint32(frame.size, true) === FP_XSTATE_MAGIC2) {
      const state = new Uint8Array(current.length);
      state.set(image.subarray(0, frame.size));
      // The thread's own description of its image, and a header in the
      // standard format with only the components both sides have.
      state.set(current.subarray(SW_RESERVED, FXSAVE_SIZE), SW_RESERVED);
      const header = new DataView(state.buffer, FXSAVE_SIZE, 64);
      header.setBigUint64(0, header.getBigUint64(0, true) & frame.features & host.features, true);
      for (let offset = 8; offset < 64; offset += 8) header.setBigUint64(offset, 0n, true);
      return state;
    }
  }

  if (!hostImage) {
    legacy.fill(0, SW_RESERVED);
    return legacy;
  }
  // x87 and SSE from the frame; every other component initial.
  const state = new Uint8Array(current.length);
  state.set(legacy.subarray(0, SW_RESERVED));
  state.set(current.subarray(SW_RESERVED, FXSAVE_SIZE), SW_RESERVED);
  new DataView(state.buffer, FXSAVE_SIZE, 8).setBigUint64(0, XFEATURE_FP_SSE, true);
  return state;
}
