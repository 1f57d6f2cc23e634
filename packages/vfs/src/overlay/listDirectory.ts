import { O_DIRECTORY, O_RDONLY } from "../constants";
import type { Inode } from "../FileSystem";

/** One entry of a directory listing: its name and d_type. */
export interface ListedEntry {
  name: string;
  type: number;
}

/** Lists every entry of the directory `directory` ("." and ".." left out), in the file system's order. */
export function listDirectory(directory: Inode): ListedEntry[] {
  const impl = directory.open(O_RDONLY | O_DIRECTORY);
  const entries: ListedEntry[] = [];
  try {
    impl.readdir?.(0, (name, _ino, type) => {
      entries.push({ name, type });
      return true;
    });
  } finally {
    impl.release();
  }
  return entries;
}
