// The FPU and extended register state in x86-64 signal frames, built and
// checked as Linux does it (arch/x86/kernel/fpu/signal.c).
import {
  FP_XSTATE_MAGIC2,
  FP_XSTATE_MAGIC2_SIZE,
  FXSAVE_MXCSR,
  FXSAVE_MXCSR_MASK,
  FXSAVE_SIZE,
  FXSAVE_SW_RESERVED,
  initialFxsave,
  XFEATURE_MASK_FPSSE,
  XSAVE_HEADER_END,
  xsaveLayout,
} from "@sandbox/abi";

/** The MXCSR bits a processor without DAZ accepts (Intel SDM, "Guidelines for Writing to the MXCSR Register"). */
const DEFAULT_MXCSR_MASK = 0xffbf;

/**
 * Returns the bytes that a signal frame holds for `state`, an image from
 * Context.readFpState: an XSAVE image with FP_XSTATE_MAGIC2 after it, or a
 * bare FXSAVE image.
 */
export function frameFpState(state: Uint8Array): Uint8Array {
  const layout = xsaveLayout(state);
  if (layout === undefined || layout.size !== state.length || state.length < XSAVE_HEADER_END) {
    const legacy = state.slice(0, FXSAVE_SIZE);
    legacy.fill(0, FXSAVE_SW_RESERVED);
    return legacy;
  }
  const bytes = new Uint8Array(state.length + FP_XSTATE_MAGIC2_SIZE);
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
  const mask = current.length >= FXSAVE_SIZE ? currentView.getUint32(FXSAVE_MXCSR_MASK, true) || DEFAULT_MXCSR_MASK : DEFAULT_MXCSR_MASK;
  if ((legacyView.getUint32(FXSAVE_MXCSR, true) & ~mask) !== 0) return undefined;

  const host = xsaveLayout(current);
  const frame = xsaveLayout(legacy);
  const hostImage = host !== undefined && host.size === current.length && current.length >= XSAVE_HEADER_END;
  if (hostImage && frame !== undefined && frame.size >= XSAVE_HEADER_END && frame.size <= current.length && frame.size + FP_XSTATE_MAGIC2_SIZE <= frame.extendedSize) {
    const image = copyIn(addr, frame.size + FP_XSTATE_MAGIC2_SIZE);
    const imageView = new DataView(image.buffer, image.byteOffset, image.length);
    if (imageView.getUint32(frame.size, true) === FP_XSTATE_MAGIC2) {
      const state = new Uint8Array(current.length);
      state.set(image.subarray(0, frame.size));
      // The thread's own description of its image, and a header in the
      // standard format with only the components both sides have.
      state.set(current.subarray(FXSAVE_SW_RESERVED, FXSAVE_SIZE), FXSAVE_SW_RESERVED);
      const header = new DataView(state.buffer, FXSAVE_SIZE, 64);
      header.setBigUint64(0, header.getBigUint64(0, true) & frame.features & host.features, true);
      for (let offset = 8; offset < 64; offset += 8) header.setBigUint64(offset, 0n, true);
      return state;
    }
  }

  if (!hostImage) {
    legacy.fill(0, FXSAVE_SW_RESERVED);
    return legacy;
  }
  // x87 and SSE from the frame; every other component initial.
  const state = new Uint8Array(current.length);
  state.set(legacy.subarray(0, FXSAVE_SW_RESERVED));
  state.set(current.subarray(FXSAVE_SW_RESERVED, FXSAVE_SIZE), FXSAVE_SW_RESERVED);
  new DataView(state.buffer, FXSAVE_SIZE, 8).setBigUint64(0, XFEATURE_MASK_FPSSE, true);
  return state;
}
