import { describe, expect, it } from "vitest";
import { FXSAVE_SIZE, initialFxsave, xsaveLayout } from "@sandbox/abi";
import { frameFpState, restoredFpState } from "./fpstate";

const SIZE = 832; // FXSAVE area, XSAVE header and the 256-byte YMM component
const YMM = 576;
const FEATURES = 0x7n; // x87, SSE and AVX
const BASE = 0x10_0000;

/** Returns an XSAVE image of SIZE bytes whose software-reserved bytes describe it as Linux's signal frames do. */
function xsaveImage(fill: number, features = FEATURES): Uint8Array {
  const image = new Uint8Array(SIZE).fill(fill);
  const view = new DataView(image.buffer);
  view.setUint32(24, 0x1f80, true); // MXCSR
  view.setUint32(28, 0xffff, true); // MXCSR_MASK
  image.fill(0, 464, 512);
  view.setUint32(464, 0x4650_5853, true);
  view.setUint32(468, SIZE + 4, true);
  view.setBigUint64(472, features, true);
  view.setUint32(480, SIZE, true);
  image.fill(0, 512, 576);
  view.setBigUint64(512, features, true);
  return image;
}

/** Application memory at BASE that contains `bytes`, read as the Sentry's copyIn does. */
function memory(bytes: Uint8Array) {
  return (addr: number, length: number) => {
    if (addr < BASE || addr + length > BASE + bytes.length) throw new RangeError(`unmapped 0x${addr.toString(16)}`);
    return bytes.slice(addr - BASE, addr - BASE + length);
  };
}

function xstateBv(image: Uint8Array): bigint {
  return new DataView(image.buffer, image.byteOffset).getBigUint64(FXSAVE_SIZE, true);
}

describe("signal frame FPU state", () => {
  it("frames an XSAVE image with the second magic number", () => {
    const framed = frameFpState(xsaveImage(0x11));
    expect(framed.length).toBe(SIZE + 4);
    expect(new DataView(framed.buffer).getUint32(SIZE, true)).toBe(0x4650_5845);
    expect(xsaveLayout(framed)).toEqual({ size: SIZE, extendedSize: SIZE + 4, features: FEATURES });
  });

  it("frames a bare FXSAVE image as it is", () => {
    const framed = frameFpState(initialFxsave());
    expect(framed).toEqual(initialFxsave());
    expect(xsaveLayout(framed)).toBeUndefined();
  });

  it("restores a whole XSAVE frame", () => {
    const frame = frameFpState(xsaveImage(0x22));
    const restored = restoredFpState(memory(frame), BASE, xsaveImage(0x33)) as Uint8Array;
    expect(restored.length).toBe(SIZE);
    expect(restored.subarray(YMM)).toEqual(new Uint8Array(SIZE - YMM).fill(0x22));
    expect(xstateBv(restored)).toBe(FEATURES);
  });

  it("limits components to those both sides have", () => {
    const frame = frameFpState(xsaveImage(0x22, 0x3n));
    new DataView(frame.buffer).setBigUint64(FXSAVE_SIZE, 0xffn, true);
    const restored = restoredFpState(memory(frame), BASE, xsaveImage(0x33)) as Uint8Array;
    expect(xstateBv(restored)).toBe(0x3n);
  });

  it("restores only x87 and SSE without the second magic number", () => {
    const frame = frameFpState(xsaveImage(0x22));
    new DataView(frame.buffer).setUint32(SIZE, 0, true);
    const restored = restoredFpState(memory(frame), BASE, xsaveImage(0x33)) as Uint8Array;
    expect(restored.length).toBe(SIZE);
    expect(restored.subarray(160, 176)).toEqual(new Uint8Array(16).fill(0x22));
    expect(xstateBv(restored)).toBe(0x3n);
    expect(restored.subarray(YMM)).toEqual(new Uint8Array(SIZE - YMM));
  });

  it("restores only x87 and SSE when the frame claims a larger image", () => {
    const frame = frameFpState(xsaveImage(0x22));
    const view = new DataView(frame.buffer);
    view.setUint32(480, SIZE + 64, true);
    view.setUint32(468, SIZE + 68, true);
    const padded = new Uint8Array(SIZE + 128);
    padded.set(frame);
    const restored = restoredFpState(memory(padded), BASE, xsaveImage(0x33)) as Uint8Array;
    expect(xstateBv(restored)).toBe(0x3n);
  });

  it("rejects reserved MXCSR bits", () => {
    const frame = frameFpState(xsaveImage(0x22));
    new DataView(frame.buffer).setUint32(24, 0x1_0000, true);
    expect(restoredFpState(memory(frame), BASE, xsaveImage(0x33))).toBeUndefined();
  });

  it("restores the initial state without an FPU area", () => {
    const restored = restoredFpState(memory(new Uint8Array(0)), 0, xsaveImage(0x33)) as Uint8Array;
    const view = new DataView(restored.buffer);
    expect(view.getUint16(0, true)).toBe(0x37f);
    expect(view.getUint32(24, true)).toBe(0x1f80);
    expect(xstateBv(restored)).toBe(0x3n);
  });

  it("keeps a bare FXSAVE image for a thread without XSAVE state", () => {
    const frame = frameFpState(xsaveImage(0x22));
    const restored = restoredFpState(memory(frame), BASE, initialFxsave()) as Uint8Array;
    expect(restored.length).toBe(FXSAVE_SIZE);
    expect(xsaveLayout(restored)).toBeUndefined();
    expect(restored.subarray(160, 176)).toEqual(new Uint8Array(16).fill(0x22));
  });

  it("fails on an unreadable frame", () => {
    expect(() => restoredFpState(memory(new Uint8Array(100)), BASE, xsaveImage(0x33))).toThrow(RangeError);
  });
});
