// Message types, header layout and limits of the gofer protocol. README.md
// of this package lays out the body of every message.

/** Largest message in either direction, in bytes. A SOCK_SEQPACKET message of this size fits the default socket buffers. */
export const MAX_MESSAGE = 64 * 1024;

/** Largest file name (NAME_MAX). */
export const NAME_MAX = 255;

/** Largest symbolic link target, without the NUL (PATH_MAX - 1). */
export const TARGET_MAX = 4095;

/**
 * Bytes of host directory entries that one READDIR reads. Each entry on the
 * wire is no longer than its struct linux_dirent64, so a reply fits
 * MAX_MESSAGE.
 */
export const READDIR_CHUNK = 32 * 1024;
/**
 * Bytes of getdents64 records a READDIR with READDIR_WITH_STAT reads at
 * once: each entry then carries WIRE_STAT_SIZE bytes more, and the reply
 * must still fit MAX_MESSAGE (a record takes at least 24 bytes).
 */
export const READDIR_STAT_CHUNK = 8 * 1024;
/** READDIR request flag: every entry carries the attributes fstatat reports for it. */
export const READDIR_WITH_STAT = 1;

/** Handle numbers per RELEASE message at most. */
export const RELEASE_MAX = 4096;

/** The handle of the mount root, which ATTACH returns and RELEASE never frees. */
export const ROOT_HANDLE = 1;

/** Message types. A reply has the type of its request. */
export const enum MessageType {
  ATTACH = 1,
  WALK = 2,
  STAT = 3,
  OPEN = 4,
  READDIR = 5,
  READLINK = 6,
  STATFS = 7,
  CREATE = 8,
  MKDIR = 9,
  SYMLINK = 10,
  LINK = 11,
  UNLINK = 12,
  RENAME = 13,
  SETATTR = 14,
  RELEASE = 15,
  OPENAT = 16,
}

/** The last message type; types above it are invalid. */
export const LAST_MESSAGE_TYPE = MessageType.OPENAT;

/**
 * Offsets of the 8-byte header that starts every message. A request has
 * errno 0. A reply with a nonzero errno has no body.
 */
export const enum Header {
  /** u16: MessageType. */
  TYPE = 0,
  /** u16: 0 in a request and in a successful reply, else the positive errno of the failure. */
  ERRNO = 2,
  /** u32: chosen by the client, echoed in the reply. */
  TAG = 4,
  /** The body starts here. */
  SIZE = 8,
}

/** Bit of ATTACH's reply flags: the gofer serves the mount read-only. */
export const ATTACH_READ_ONLY = 1;

/** SETATTR mask bits: which attributes the request changes. */
export const enum SetattrMask {
  MODE = 1,
  UID = 2,
  GID = 4,
  SIZE = 8,
  ATIME = 16,
  MTIME = 32,
}

/** Returns a readable name of a message type, for errors and logs. */
export function messageTypeName(type: number): string {
  const names = [
    "ATTACH",
    "WALK",
    "STAT",
    "OPEN",
    "READDIR",
    "READLINK",
    "STATFS",
    "CREATE",
    "MKDIR",
    "SYMLINK",
    "LINK",
    "UNLINK",
    "RENAME",
    "SETATTR",
    "RELEASE",
    "OPENAT",
  ];
  return names[type - 1] ?? `message type ${type}`;
}
