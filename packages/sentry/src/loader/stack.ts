import { randomFillSync } from "node:crypto";

/** Auxiliary vector entry types (include/uapi/linux/auxvec.h). */
export const AuxType = {
  AT_NULL: 0,
  AT_PHDR: 3,
  AT_PHENT: 4,
  AT_PHNUM: 5,
  AT_PAGESZ: 6,
  AT_BASE: 7,
  AT_FLAGS: 8,
  AT_ENTRY: 9,
  AT_UID: 11,
  AT_EUID: 12,
  AT_GID: 13,
  AT_EGID: 14,
  AT_PLATFORM: 15,
  AT_HWCAP: 16,
  AT_CLKTCK: 17,
  AT_SECURE: 23,
  AT_RANDOM: 25,
  AT_HWCAP2: 26,
  AT_EXECFN: 31,
  AT_MINSIGSTKSZ: 51,
} as const;

/** What goes on a new program's initial stack. */
export interface InitialStack {
  readonly argv: readonly string[];
  readonly envp: readonly string[];
  readonly execfn: string;
  /** Auxiliary vector entries other than AT_RANDOM, AT_PLATFORM, AT_EXECFN and AT_NULL, which are added here. */
  readonly auxv: ReadonlyArray<readonly [number, bigint]>;
}

/** The finished stack image and where it goes. */
export interface StackImage {
  /** Lowest address of the image; the initial stack pointer (argc is there). */
  readonly sp: number;
  readonly bytes: Uint8Array;
}

/**
 * Strings are byte strings (one character per byte, as the VFS uses them).
 * Lays out the initial process stack below `top` as Linux's create_elf_tables
 * does: strings at the top (execfn, environment, arguments, the platform
 * name, 16 random bytes), then, 16-byte aligned, argc, argv pointers, NULL,
 * envp pointers, NULL and the auxiliary vector.
 */
export function buildInitialStack(top: number, spec: InitialStack): StackImage {
  const strings: Uint8Array[] = [];
  let cursor = top;
  const place = (data: Uint8Array): number => {
    cursor -= data.length;
    strings.push(data);
    return cursor;
  };
  const placeString = (text: string) => place(Buffer.from(`${text}\0`, "latin1"));

  const execfnAddr = placeString(spec.execfn);
  // Strings are placed last to first, so argv[0] ends up lowest and each
  // vector's strings are contiguous and in order, as /proc/PID/cmdline expects.
  const envAddrs = [...spec.envp].reverse().map(placeString).reverse();
  const argAddrs = [...spec.argv].reverse().map(placeString).reverse();
  const platformAddr = placeString("x86_64");
  cursor -= cursor % 16;
  const random = randomFillSync(new Uint8Array(16));
  const randomAddr = place(random);

  const auxv: Array<readonly [number, bigint]> = [
    ...spec.auxv,
    [AuxType.AT_RANDOM, BigInt(randomAddr)],
    [AuxType.AT_PLATFORM, BigInt(platformAddr)],
    [AuxType.AT_EXECFN, BigInt(execfnAddr)],
    [AuxType.AT_NULL, 0n],
  ];
  const words = 1 + argAddrs.length + 1 + envAddrs.length + 1 + auxv.length * 2;
  const unaligned = cursor - words * 8;
  const sp = unaligned - (unaligned % 16);
  const image = new Uint8Array(top - sp);
  const view = new DataView(image.buffer);

  let offset = 0;
  const word = (value: bigint | number) => {
    view.setBigUint64(offset, BigInt(value), true);
    offset += 8;
  };
  word(spec.argv.length);
  argAddrs.forEach(word);
  word(0);
  envAddrs.forEach(word);
  word(0);
  for (const [type, value] of auxv) {
    word(type);
    word(value);
  }

  let stringAddr = top;
  for (const data of strings) {
    stringAddr -= data.length;
    image.set(data, stringAddr - sp);
  }
  return { sp, bytes: image };
}
