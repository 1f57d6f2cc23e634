import { O_RDONLY, O_WRONLY, S_IALLUGO, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG } from "../constants";
import type { Inode } from "../FileSystem";

/** Size of the chunks that a copy-up reads and writes. */
const COPY_CHUNK = 1 << 16;

/**
 * Creates in `upperParent` the upper copy of `lower` named `name`: the same
 * type, data, mode, owner and times. Chunks of zeros are left as holes, so
 * a sparse file stays sparse. Returns the new upper inode.
 */
export function copyUpInode(lower: Inode, upperParent: Inode, name: string): Inode {
  const attributes = lower.stat();
  const owner = { uid: attributes.uid, gid: attributes.gid };
  const permissions = attributes.mode & S_IALLUGO;
  let upper: Inode;
  switch (attributes.mode & S_IFMT) {
    case S_IFDIR:
      upper = upperParent.mkdir(name, permissions, owner);
      break;
    case S_IFREG:
      upper = upperParent.create(name, permissions, owner);
      try {
        copyData(lower, upper, attributes.size);
      } catch (error) {
        upperParent.unlink(name);
        throw error;
      }
      break;
    case S_IFLNK:
      upper = upperParent.symlink(name, lower.readlink(), owner);
      break;
    default:
      upper = upperParent.mknod(name, attributes.mode, attributes.rdev, owner);
      break;
  }
  upper.setattr({ mode: permissions, atime: attributes.atime, mtime: attributes.mtime });
  return upper;
}

function copyData(lower: Inode, upper: Inode, size: number): void {
  const source = lower.open(O_RDONLY);
  const destination = upper.open(O_WRONLY);
  try {
    const chunk = new Uint8Array(COPY_CHUNK);
    for (let offset = 0; ; ) {
      const count = source.read(chunk, offset);
      if (count === 0) {
        break;
      }
      const data = chunk.subarray(0, count);
      if (data.some((byte) => byte !== 0)) {
        destination.write(data, offset);
      }
      offset += count;
    }
    upper.setattr({ size: Math.max(size, source.stat().size) });
  } finally {
    source.release();
    destination.release();
  }
}
