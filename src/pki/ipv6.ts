/**
 * IPv6 text to its eight 16-bit pieces and back, exactly as the WHATWG URL standard parses and
 * serialises a bracketed host (https://url.spec.whatwg.org/#concept-ipv6-parser, #concept-ipv6-serializer;
 * the serialisation is RFC 5952's). san.ts used `new URL('http://[…]/')` for both, ~0.9 µs each, and
 * parsed a SAN's IPv6 address twice (validation, then normalisation): `::1` in parseHosts cost ~3.8 µs,
 * now ~0.6 µs.
 * test/unit/pki-ipv6.test.ts checks it against URL itself on hand-picked and generated strings.
 * Internal: not part of the library.
 */

const hexValue = (c: number): number =>
  c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const COLON = 0x3a;
const DOT = 0x2e;
const charAt = (s: string, i: number): number => (i < s.length ? s.charCodeAt(i) : -1);

/** The pieces of an IPv6 address without brackets or zone, or undefined where URL would fail. */
export function parseIpv6(s: string): number[] | undefined {
  const address = [0, 0, 0, 0, 0, 0, 0, 0];
  let pieceIndex = 0;
  let compress = -1;
  let p = 0;
  if (charAt(s, p) === COLON) {
    if (charAt(s, p + 1) !== COLON) return undefined;
    p += 2;
    compress = ++pieceIndex;
  }
  while (p < s.length) {
    if (pieceIndex === 8) return undefined;
    if (charAt(s, p) === COLON) {
      if (compress !== -1) return undefined;
      p++;
      compress = ++pieceIndex;
      continue;
    }
    let value = 0;
    let length = 0;
    while (length < 4 && hexValue(charAt(s, p)) >= 0) {
      value = value * 16 + hexValue(charAt(s, p));
      p++;
      length++;
    }
    if (charAt(s, p) === DOT) {
      // An embedded IPv4 address fills the last two pieces: four decimal parts, no leading zeros.
      if (length === 0) return undefined;
      p -= length;
      if (pieceIndex > 6) return undefined;
      let numbersSeen = 0;
      while (p < s.length) {
        let ipv4Piece = -1;
        if (numbersSeen > 0) {
          if (charAt(s, p) === DOT && numbersSeen < 4) p++;
          else return undefined;
        }
        if (!isDigit(charAt(s, p))) return undefined;
        while (isDigit(charAt(s, p))) {
          const n = charAt(s, p) - 0x30;
          if (ipv4Piece === -1) ipv4Piece = n;
          else if (ipv4Piece === 0) return undefined;
          else ipv4Piece = ipv4Piece * 10 + n;
          if (ipv4Piece > 255) return undefined;
          p++;
        }
        address[pieceIndex] = (address[pieceIndex] as number) * 0x100 + ipv4Piece;
        numbersSeen++;
        if (numbersSeen === 2 || numbersSeen === 4) pieceIndex++;
      }
      if (numbersSeen !== 4) return undefined;
      break;
    } else if (charAt(s, p) === COLON) {
      p++;
      if (p >= s.length) return undefined;
    } else if (p < s.length) return undefined;
    address[pieceIndex] = value;
    pieceIndex++;
  }
  if (compress !== -1) {
    let swaps = pieceIndex - compress;
    pieceIndex = 7;
    while (pieceIndex !== 0 && swaps > 0) {
      const other = compress + swaps - 1;
      [address[pieceIndex], address[other]] = [address[other] as number, address[pieceIndex] as number];
      pieceIndex--;
      swaps--;
    }
  } else if (pieceIndex !== 8) return undefined;
  return address;
}

/** Compressed lower-case text: the first longest run of two or more zero pieces becomes `::`. */
export function formatIpv6(address: readonly number[]): string {
  let compress = -1;
  let best = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && address[j] === 0) j++;
    if (j - i > best) {
      best = j - i;
      compress = i;
    }
    i = j === i ? i + 1 : j;
  }
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === compress) {
      out += i === 0 ? '::' : ':';
      i += best - 1;
      continue;
    }
    out += (address[i] as number).toString(16);
    if (i !== 7) out += ':';
  }
  return out;
}
