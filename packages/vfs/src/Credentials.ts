/**
 * The identity that file system permission checks use: the file system user
 * and group IDs and the supplementary groups of a task. For access(2) without
 * AT_EACCESS the caller passes the real IDs instead.
 *
 * User ID 0 means a task with the file capabilities of root
 * (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER, CAP_CHOWN, CAP_FSETID
 * and CAP_MKNOD). NOTE: capability sets are not modeled, so a root task that
 * dropped its capabilities still passes these checks.
 */
export class Credentials {
  /** Supplementary group IDs. */
  readonly groups: readonly number[];

  constructor(
    readonly uid: number,
    readonly gid: number,
    groups: readonly number[] = [],
  ) {
    for (const id of [uid, gid, ...groups]) {
      if (!Number.isInteger(id) || id < 0 || id > 0xffff_ffff) {
        throw new RangeError(`invalid user or group ID ${id}: expected an integer in [0, 2^32)`);
      }
    }
    this.groups = Object.freeze([...groups]);
  }

  /** Returns credentials of root (user and group 0, no supplementary groups). */
  static root(): Credentials {
    return new Credentials(0, 0);
  }

  /** Reports whether these credentials carry the file capabilities of root. */
  get isRoot(): boolean {
    return this.uid === 0;
  }

  /** Reports whether `gid` is the primary group or a supplementary group. */
  inGroup(gid: number): boolean {
    return gid === this.gid || this.groups.includes(gid);
  }
}
