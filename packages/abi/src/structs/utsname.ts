import { defineStruct, field, type StructLayout } from "./layout";

/** The size of each field of `struct new_utsname`, including the NUL (`__NEW_UTS_LEN + 1`). */
export const UTSNAME_FIELD_LENGTH = 65;

/** `struct new_utsname` (390 bytes) of uname(2). */
export interface Utsname {
  sysname: string;
  nodename: string;
  release: string;
  version: string;
  machine: string;
  domainname: string;
}

/** Layout of `struct new_utsname`; strings longer than 64 bytes are cut when encoded. */
export const UtsnameLayout: StructLayout<Utsname> = defineStruct<Utsname>("new_utsname", [
  field.string(UTSNAME_FIELD_LENGTH, "sysname"),
  field.string(UTSNAME_FIELD_LENGTH, "nodename"),
  field.string(UTSNAME_FIELD_LENGTH, "release"),
  field.string(UTSNAME_FIELD_LENGTH, "version"),
  field.string(UTSNAME_FIELD_LENGTH, "machine"),
  field.string(UTSNAME_FIELD_LENGTH, "domainname"),
]);
