// The FPU state that x86-64 signal frames carry: an XSAVE image in the
// standard format whose FXSAVE area's software-reserved bytes describe it
// (struct _fpx_sw_bytes, arch/x86/include/uapi/asm/sigcontext.h), followed
// by FP_XSTATE_MAGIC2, or a bare FXSAVE image.

/** Size of the legacy FXSAVE area (x87, MXCSR and XMM registers). */
export const FXSAVE_SIZE = 512;
/** End of the XSAVE header after the FXSAVE area: the size of the smallest XSAVE image. */
export const XSAVE_HEADER_END = FXSAVE_SIZE + 64;
/** Offset of the software-reserved bytes in the FXSAVE area. */
export const FXSAVE_SW_RESERVED = 464;
/** Offset of MXCSR in the FXSAVE area. */
export const FXSAVE_MXCSR = 24;
/** Offset of MXCSR_MASK in the FXSAVE area. */
export const FXSAVE_MXCSR_MASK = 28;
/** The first word of the software-reserved bytes of an XSAVE image in a signal frame. */
export const FP_XSTATE_MAGIC1 = 0x4650_5853;
/** The word after an XSAVE image in a signal frame. */
export const FP_XSTATE_MAGIC2 = 0x4650_5845;
export const FP_XSTATE_MAGIC2_SIZE = 4;
/** The x87 and SSE bits of XCR0 and of XSTATE_BV in the XSAVE header. */
export const XFEATURE_MASK_FPSSE = 0x3n;

/** The description of an XSAVE image in the software-reserved bytes of a signal frame. */
export interface XsaveLayout {
  /** Size of the image without FP_XSTATE_MAGIC2. */
  readonly size: number;
  /** Size of the image with FP_XSTATE_MAGIC2. */
  readonly extendedSize: number;
  /** The state components the image may hold (XCR0 bits). */
  readonly features: bigint;
}

/** Returns the layout that the software-reserved bytes of `image` describe, or undefined for a bare FXSAVE image. */
export function xsaveLayout(image: Uint8Array): XsaveLayout | undefined {
  if (image.length < FXSAVE_SIZE) return undefined;
  const view = new DataView(image.buffer, image.byteOffset, FXSAVE_SIZE);
  if (view.getUint32(FXSAVE_SW_RESERVED, true) !== FP_XSTATE_MAGIC1) return undefined;
  return {
    extendedSize: view.getUint32(FXSAVE_SW_RESERVED + 4, true),
    features: view.getBigUint64(FXSAVE_SW_RESERVED + 8, true),
    size: view.getUint32(FXSAVE_SW_RESERVED + 16, true),
  };
}

/** Returns the FXSAVE image of a new thread: x87 control word 0x37f, MXCSR 0x1f80, MXCSR_MASK 0xffff. */
export function initialFxsave(): Uint8Array {
  const state = new Uint8Array(FXSAVE_SIZE);
  const view = new DataView(state.buffer);
  view.setUint16(0, 0x37f, true);
  view.setUint32(FXSAVE_MXCSR, 0x1f80, true);
  view.setUint32(FXSAVE_MXCSR_MASK, 0xffff, true);
  return state;
}
