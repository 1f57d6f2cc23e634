import { describe, expect, it } from "vitest";
import { FP_XSTATE_MAGIC1, FXSAVE_SIZE, FXSAVE_SW_RESERVED, initialFxsave, xsaveLayout } from "./fpstate";

describe("FPU state images", () => {
  it("reads the software-reserved bytes of an XSAVE image", () => {
    const image = new Uint8Array(832);
    const view = new DataView(image.buffer);
    view.setUint32(FXSAVE_SW_RESERVED, FP_XSTATE_MAGIC1, true);
    view.setUint32(FXSAVE_SW_RESERVED + 4, 836, true);
    view.setBigUint64(FXSAVE_SW_RESERVED + 8, 0x7n, true);
    view.setUint32(FXSAVE_SW_RESERVED + 16, 832, true);
    expect(xsaveLayout(image)).toEqual({ size: 832, extendedSize: 836, features: 0x7n });
  });

  it("finds no layout in a bare or short image", () => {
    expect(xsaveLayout(initialFxsave())).toBeUndefined();
    expect(xsaveLayout(new Uint8Array(100))).toBeUndefined();
  });

  it("builds the initial FXSAVE image", () => {
    const view = new DataView(initialFxsave().buffer);
    expect(view.byteLength).toBe(FXSAVE_SIZE);
    expect(view.getUint16(0, true)).toBe(0x37f);
    expect(view.getUint32(24, true)).toBe(0x1f80);
  });
});
