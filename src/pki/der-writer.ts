/**
 * DER written in one pass: elements are built as a tree whose lengths are summed as it grows, then
 * encoded into a single Buffer. Encoding element by element allocated every element and copied its
 * bytes again at each level above it: ~45 small Buffers for a leaf certificate, over a third of what
 * issuing did besides signing (CPU profile of bench/issue.ts's leaf). Internal: not part of the library.
 */

/** Bytes; a string, written byte for byte as `Buffer.from(s, 'latin1')` (= 'ascii') writes it; or an element. */
export type Part = Uint8Array | string | Tlv;

export interface Tlv {
  readonly tag: number;
  readonly parts: readonly Part[];
  /** Content length: the parts' encoded sizes summed. */
  readonly length: number;
}

export function headerLength(n: number): number {
  if (n < 0x80) return 2;
  if (n < 0x100) return 3;
  if (n < 0x10000) return 4;
  if (n < 0x1000000) return 5;
  throw new RangeError(`DER element of ${n} bytes is too large`);
}

/** Write tag and length at `at` (headerLength(n) bytes); returns the content offset. */
export function writeHeader(out: Uint8Array, tag: number, n: number, at = 0): number {
  out[at] = tag;
  const h = headerLength(n);
  if (h === 2) out[at + 1] = n;
  else {
    out[at + 1] = 0x80 | (h - 2);
    for (let i = h - 1, v = n; i >= 2; i--, v >>>= 8) out[at + i] = v & 0xff;
  }
  return at + h;
}

export const sizeOf = (p: Part): number => (typeof p === 'string' || p instanceof Uint8Array ? p.length : headerLength(p.length) + p.length);

/** An element of `tag` around `parts`; nothing is written until `encode`. */
export function el(tag: number, parts: readonly Part[]): Tlv {
  let length = 0;
  for (const p of parts) length += sizeOf(p);
  return { tag, parts, length };
}

function write(out: Buffer, p: Part, at: number): number {
  if (typeof p === 'string') return at + out.write(p, at, 'latin1');
  if (p instanceof Uint8Array) {
    out.set(p, at);
    return at + p.length;
  }
  let o = writeHeader(out, p.tag, p.length, at);
  for (const child of p.parts) o = write(out, child, o);
  return o;
}

/** The DER of `p`, in one Buffer of exactly its size. */
export function encode(p: Part): Buffer {
  const out = Buffer.allocUnsafe(sizeOf(p));
  const end = write(out, p, 0);
  if (end !== out.length) throw new Error(`der-writer: wrote ${end} of ${out.length} bytes`);
  return out;
}
