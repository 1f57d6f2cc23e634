/**
 * The decoding of one system call argument for strace-style output. A kind
 * with `:N` refers to argument N (from 0), which is the length of an input
 * buffer, the count of an array, or the flags that decide whether the
 * argument is printed.
 */
export type ArgKind =
  /** Signed 32-bit decimal (C `int`). */
  | "int"
  /** Unsigned 32-bit decimal. */
  | "uint"
  /** Signed 64-bit decimal (C `long`, `off_t`). */
  | "long"
  /** Unsigned 64-bit decimal. */
  | "ulong"
  /** A size in bytes, unsigned 64-bit decimal. */
  | "size"
  /** Undecoded: unsigned hexadecimal. */
  | "hex"
  /** A user address: `NULL` or hexadecimal. */
  | "ptr"
  /** A file descriptor. */
  | "fd"
  /** A directory file descriptor: `AT_FDCWD` or a descriptor. */
  | "dirfd"
  /** A NUL-terminated path in user memory, printed in full. */
  | "path"
  /** A NUL-terminated string in user memory, cut like strace's `-s 32`. */
  | "str"
  /** Bytes in user memory whose length is argument N. */
  | `bufin:${number}`
  /** Bytes the call wrote to user memory; the result is their length. */
  | "bufout"
  /** An iovec array written by the program; argument N is its count. */
  | `iovin:${number}`
  /** An iovec array the call filled; argument N is its count, the result the byte total. */
  | `iovout:${number}`
  /** open(2) flags. */
  | "oflags"
  /** open(2) flags without the access mode, as pipe2(2) and dup3(2) take them. */
  | "oflagbits"
  /** A file mode printed only when the flags in argument N contain O_CREAT or O_TMPFILE. */
  | `openmode:${number}`
  /** A statx(2) mask of STATX_* bits. */
  | "statxmask"
  /** Permission bits in octal. */
  | "mode"
  /** A file type and permission bits, as `st_mode`. */
  | "statmode"
  | "prot"
  | "mapflags"
  | "mremapflags"
  | "msyncflags"
  | "madvise"
  /** clone(2) flags with the exit signal in the low byte. */
  | "cloneflags"
  | "unshareflags"
  | "fcntlcmd"
  /** The third argument of fcntl(2), decoded by the command in argument N. */
  | `fcntlarg:${number}`
  | "atflags"
  | "faccessatflags"
  | "statxflags"
  | "accessmode"
  | "signal"
  /** A pointer to a 64-bit signal set. */
  | "sigset"
  | "sighow"
  /** A pointer to a kernel `struct sigaction`. */
  | "sigaction"
  /** A pointer to `struct stat`. */
  | "stat"
  /** A pointer to `struct statx`. */
  | "statx"
  /** A pointer to `struct timespec`. */
  | "timespec"
  /** A pointer to `struct timeval`. */
  | "timeval"
  /** A pointer to `struct new_utsname`. */
  | "utsname"
  /** A pointer to `struct rlimit`. */
  | "rlimit"
  | "rlimitres"
  | "whence"
  | "archprctl"
  | "clockid"
  | "ioctlreq"
  | "futexop"
  | "waitoptions"
  /** A pointer to an int wait status. */
  | "wstatus"
  | "idtype"
  /** A `struct pollfd` array; argument N is its count. */
  | `pollfds:${number}`
  /** A NULL-terminated array of string pointers (execve's argv). */
  | "argv"
  /** A NULL-terminated array of string pointers printed as a count (execve's envp). */
  | "envp"
  /** A pointer to two ints the call fills, as pipe(2) does. */
  | "pipefds"
  /** A pointer to one int the call fills. */
  | "intptr";

/** The name of an argument kind without its argument index, such as "bufin" for "bufin:2". */
export type ArgKindName = KindName<ArgKind>;

type KindName<K> = K extends `${infer Name}:${number}` ? Name : K;

/** The format of a system call's result: signed decimal, hexadecimal for addresses, or none for calls that never return. */
export type ResultKind = "int" | "hex" | "none";

/** One entry of the system call table. */
export interface SyscallInfo {
  /** The x86-64 system call number (`orig_rax`). */
  readonly number: number;
  /** The name Linux gives the call in syscall_64.tbl, such as "newfstatat". */
  readonly name: string;
  /** The kind of each argument, in order; the length is the number of arguments. */
  readonly args: readonly ArgKind[];
  /** The format of the result. */
  readonly result: ResultKind;
}
