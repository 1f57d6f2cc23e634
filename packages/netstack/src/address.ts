/**
 * IP addresses. The API takes and returns them as strings in their canonical
 * text form ("10.0.0.1", "fe80::1"); packets carry them as 4 or 16 bytes.
 */

/** Parses a dotted-quad IPv4 address; returns null if `s` is not one. */
export function parseIPv4(s: string): Uint8Array | null {
  const parts = s.split(".");
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i];
    if (!/^\d{1,3}$/.test(p)) return null;
    const v = Number(p);
    if (v > 255) return null;
    out[i] = v;
  }
  return out;
}

/** Parses an IPv6 address (with optional embedded IPv4 tail); returns null if invalid. */
export function parseIPv6(s: string): Uint8Array | null {
  const zone = s.indexOf("%");
  if (zone >= 0) s = s.slice(0, zone);
  const out = new Uint8Array(16);
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const parseGroups = (part: string): number[] | null => {
    if (part === "") return [];
    const groups: number[] = [];
    const items = part.split(":");
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      if (i === items.length - 1 && item.includes(".")) {
        const v4 = parseIPv4(item);
        if (v4 === null) return null;
        groups.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(item)) return null;
      groups.push(parseInt(item, 16));
    }
    return groups;
  };
  const head = parseGroups(halves[0]);
  const tail = halves.length === 2 ? parseGroups(halves[1]) : [];
  if (head === null || tail === null) return null;
  if (halves.length === 1 && head.length !== 8) return null;
  if (halves.length === 2 && head.length + tail.length > 7) return null;
  head.forEach((g, i) => {
    out[i * 2] = g >>> 8;
    out[i * 2 + 1] = g & 0xff;
  });
  tail.forEach((g, i) => {
    const at = 16 - (tail.length - i) * 2;
    out[at] = g >>> 8;
    out[at + 1] = g & 0xff;
  });
  return out;
}

/** Parses an IPv4 or IPv6 address; returns null if `s` is neither. */
export function parseAddress(s: string): Uint8Array | null {
  return s.includes(":") ? parseIPv6(s) : parseIPv4(s);
}

/** Formats the 4-byte IPv4 address at `off`. */
export function formatIPv4(b: Uint8Array, off: number): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

/** Formats the 16-byte IPv6 address at `off` in the RFC 5952 canonical form. */
export function formatIPv6(b: Uint8Array, off: number): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((b[off + i * 2] << 8) | b[off + i * 2 + 1]);
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number) => g.slice(from, to).map((v) => v.toString(16)).join(":");
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLen, 8)}`;
}

/** Formats an address of 4 or 16 bytes at `off`. */
export function formatAddress(b: Uint8Array, off: number, len: number): string {
  return len === 4 ? formatIPv4(b, off) : formatIPv6(b, off);
}

/** Reports whether the first `prefixLen` bits of `a` and `b` match. */
export function prefixMatch(a: Uint8Array, aOff: number, b: Uint8Array, prefixLen: number): boolean {
  let bits = prefixLen;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((a[aOff + i] & mask) !== (b[i] & mask)) return false;
  }
  return true;
}

/** Reports whether the IPv4 address at `off` is a multicast (224.0.0.0/4) address. */
export function isIPv4Multicast(b: Uint8Array, off: number): boolean {
  return (b[off] & 0xf0) === 0xe0;
}

/** Reports whether `s` names the IPv4 or IPv6 unspecified address. */
export function isUnspecified(s: string): boolean {
  return s === "0.0.0.0" || s === "::";
}

/** Returns the solicited-node multicast address (ff02::1:ffXX:XXXX) of an IPv6 address. */
export function solicitedNodeAddress(addr: Uint8Array): Uint8Array {
  const out = parseIPv6("ff02::1:ff00:0") as Uint8Array;
  out[13] = addr[13];
  out[14] = addr[14];
  out[15] = addr[15];
  return out;
}

/** Returns the EUI-64 based link-local address (fe80::/64) for a MAC address. */
export function linkLocalFromMac(mac: Uint8Array): Uint8Array {
  const out = new Uint8Array(16);
  out[0] = 0xfe;
  out[1] = 0x80;
  out[8] = mac[0] ^ 0x02;
  out[9] = mac[1];
  out[10] = mac[2];
  out[11] = 0xff;
  out[12] = 0xfe;
  out[13] = mac[3];
  out[14] = mac[4];
  out[15] = mac[5];
  return out;
}

/** Formats a 6-byte MAC address as "aa:bb:cc:dd:ee:ff". */
export function formatMac(b: Uint8Array, off = 0): string {
  const parts: string[] = [];
  for (let i = 0; i < 6; i++) parts.push(b[off + i].toString(16).padStart(2, "0"));
  return parts.join(":");
}

/** Parses "aa:bb:cc:dd:ee:ff"; returns null if invalid. */
export function parseMac(s: string): Uint8Array | null {
  const parts = s.split(":");
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p))) return null;
  return Uint8Array.from(parts.map((p) => parseInt(p, 16)));
}
