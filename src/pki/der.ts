/**
 * A minimal DER encoder and reader: just the X.509 subset etcd-tls emits and needs to read back on
 * the issuing hot path. Hand-written because it must be fast: issuing through @peculiar/asn1-schema
 * reaches ~550 certificates/s against ~4,000 for the bare node:crypto keygen+sign loop, and loading
 * it adds ~130 ms to a 130 ms CLI start (bench/). Everything emitted here is checked by openssl in
 * test/interop; the reader below is what parseCertificate (src/pki/certificate.ts) walks certificates with.
 *
 * One encoder: elements are a tree (`el`) whose lengths are summed as it grows, written by `encode` into
 * a single Buffer of exactly its size. Encoding element by element allocated every element and copied
 * its bytes again at each level above it: ~45 small Buffers for a leaf certificate, over a third of what
 * issuing did besides signing (CPU profile of bench/issue.ts's leaf). The element helpers below (`tlv`,
 * `sequence`, `oid`, ...) are that encoder applied to one level, for the small structures (keys, CSRs)
 * where a tree buys nothing. Internal: none of this is part of the library's API.
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
  if (end !== out.length) throw new Error(`der: wrote ${end} of ${out.length} bytes`);
  return out;
}

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

// One element, encoded at once (header and content in one allocation, by `encode`).
export const tlv = (tag: number, content: Uint8Array): Buffer => encode(el(tag, [content]));

const constructed = (tag: number, items: readonly Uint8Array[]): Buffer => encode(el(tag, items));

export const sequence = (...items: Uint8Array[]): Buffer => constructed(TAG.SEQUENCE, items);

/** DER SET OF: elements sorted by their encodings (X.690 11.6). */
export function setOf(...items: Uint8Array[]): Buffer {
  return constructed(TAG.SET, [...items].sort(Buffer.compare));
}

export const nullValue = (): Buffer => Buffer.from([TAG.NULL, 0]);
export const boolean = (v: boolean): Buffer => Buffer.from([TAG.BOOLEAN, 1, v ? 0xff : 0]);
export const octetString = (b: Uint8Array): Buffer => tlv(TAG.OCTET_STRING, b);
export const bitString = (b: Uint8Array, unusedBits = 0): Buffer =>
  constructed(TAG.BIT_STRING, [Buffer.from([unusedBits]), b]);

/** A non-negative INTEGER from big-endian magnitude bytes: minimal form, sign byte when needed. */
export function unsignedInteger(magnitude: Uint8Array): Buffer {
  let i = 0;
  while (i < magnitude.length - 1 && magnitude[i] === 0) i++;
  let body = Buffer.from(magnitude.subarray(i));
  if (body.length === 0) body = Buffer.from([0]);
  if ((body[0] as number) & 0x80) body = Buffer.concat([Buffer.from([0]), body]);
  return tlv(TAG.INTEGER, body);
}

export function smallInteger(n: number): Buffer {
  if (!Number.isInteger(n) || n < 0) throw new TypeError(`smallInteger: ${n} is not a non-negative integer`);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return unsignedInteger(Buffer.from(bytes.length ? bytes : [0]));
}

/**
 * Why `dotted` is not an OID this encoder can write, or undefined when it is one: at least two arcs,
 * decimal without leading zeros, a first arc of 0-2 and, under 0 and 1, a second arc below 40 (X.690).
 * The one rule for every OID read from input (policy IDs, custom name attributes).
 */
export function oidProblem(dotted: string): string | undefined {
  if (!/^[0-2](\.(0|[1-9][0-9]*))+$/.test(dotted)) return 'is not a dotted OID (decimal arcs, the first 0, 1 or 2, e.g. 1.3.6.1.4.1.32473.1)';
  const second = BigInt(dotted.split('.')[1] as string);
  if (!dotted.startsWith('2') && second >= 40n) return 'is not a valid OID (under arc 0 or 1 the second arc must be below 40)';
  return undefined;
}

const oidCache = new Map<string, Buffer>();
export function oid(dotted: string): Buffer {
  const cached = oidCache.get(dotted);
  if (cached) return cached;
  const problem = oidProblem(dotted);
  if (problem) throw new TypeError(`OID ${dotted} ${problem}`);
  // Arcs are BigInts: UUID arcs under 2.25 are 128 bits, far past a double. The cache makes this free.
  const arcs = dotted.split('.').map(BigInt);
  const [first = 0n, second = 0n] = arcs;
  const out: number[] = [];
  const push = (v: bigint): void => {
    const stack = [Number(v & 0x7fn)];
    for (v >>= 7n; v > 0n; v >>= 7n) stack.unshift(Number(v & 0x7fn) | 0x80);
    out.push(...stack);
  };
  push(first * 40n + second);
  for (const a of arcs.slice(2)) push(a);
  const encoded = tlv(TAG.OID, Buffer.from(out));
  oidCache.set(dotted, encoded);
  return encoded;
}

export const utf8String = (s: string): Buffer => tlv(TAG.UTF8_STRING, Buffer.from(s, 'utf8'));
export const ia5String = (s: string): Buffer => tlv(TAG.IA5_STRING, Buffer.from(s, 'ascii'));
export const printableString = (s: string): Buffer => tlv(TAG.PRINTABLE_STRING, Buffer.from(s, 'ascii'));
export const isPrintableString = (s: string): boolean => /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(s);

const two = (n: number): string => (n < 10 ? `0${n}` : `${n}`);

/** RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. Seconds precision, Zulu. */
export function time(d: Date): Buffer {
  const year = d.getUTCFullYear();
  if (!(year >= 1950 && year <= 9999)) throw new TypeError(`time: year ${year} out of range`);
  const rest = `${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}${two(d.getUTCHours())}${two(d.getUTCMinutes())}${two(d.getUTCSeconds())}Z`;
  return year < 2050
    ? tlv(TAG.UTC_TIME, Buffer.from(`${two(year % 100)}${rest}`, 'latin1'))
    : tlv(TAG.GENERALIZED_TIME, Buffer.from(`${year}${rest}`, 'latin1'));
}

/** [n] EXPLICIT: a constructed context tag around a complete element. */
export const explicit = (n: number, inner: Uint8Array): Buffer => tlv(0xa0 | n, inner);
/** [n] IMPLICIT on a primitive type: the content bytes under a context tag. */
export const implicitPrimitive = (n: number, content: Uint8Array): Buffer => tlv(0x80 | n, content);
/** [n] IMPLICIT on a constructed type (SEQUENCE/SET): the content bytes under a constructed context tag. */
export const implicitConstructed = (n: number, content: Uint8Array): Buffer => tlv(0xa0 | n, content);

// ---------------------------------------------------------------------------------------------
// Reading: a TLV walker, enough to pull the issuer fields the issuing path needs without loading
// a schema library. It validates lengths and never reads past the buffer.

export interface Element {
  tag: number;
  /** Offset of the tag byte within the buffer. */
  start: number;
  /** Offset of the first content byte. */
  contentStart: number;
  /** Offset one past the last content byte. */
  end: number;
}

export class DerError extends Error {
  override readonly name = 'DerError';
}

export function readElement(buf: Uint8Array, offset: number, limit = buf.length): Element {
  if (offset + 2 > limit) throw new DerError(`truncated element at offset ${offset}`);
  const tag = buf[offset] as number;
  if ((tag & 0x1f) === 0x1f) throw new DerError(`multi-byte tags are not supported (offset ${offset})`);
  let len = buf[offset + 1] as number;
  let p = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new DerError(`unsupported length form at offset ${offset}`);
    if (p + n > limit) throw new DerError(`truncated length at offset ${offset}`);
    // DER (X.690 10.1): the fewest length octets, so no leading zero and no long form below 128.
    if (buf[p] === 0) throw new DerError(`non-minimal length at offset ${offset}`);
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (buf[p + i] as number);
    p += n;
    if (len < 0x80) throw new DerError(`non-minimal length at offset ${offset}`);
  }
  if (p + len > limit) throw new DerError(`element at offset ${offset} runs past its container`);
  return { tag, start: offset, contentStart: p, end: p + len };
}

/** The children of a constructed element. */
export function children(buf: Uint8Array, el: Element): Element[] {
  const out: Element[] = [];
  for (let p = el.contentStart; p < el.end; ) {
    const child = readElement(buf, p, el.end);
    out.push(child);
    p = child.end;
  }
  return out;
}

/**
 * The bytes of an element (raw) or of its content, as a view of `buf`, not a copy: a certificate's
 * fields are read by the hundred per check, and copying each made a third of check's garbage.
 * Callers copy before changing one (BMPString's swap16).
 */
export const raw = (buf: Uint8Array, el: Element): Buffer => Buffer.from(buf.buffer, buf.byteOffset + el.start, el.end - el.start);
export const content = (buf: Uint8Array, el: Element): Buffer => Buffer.from(buf.buffer, buf.byteOffset + el.contentStart, el.end - el.contentStart);

/** Arcs below 2^46 add up in a double exactly; a UUID arc (2.25.<128 bits>) takes the BigInt path. */
const SMALL_ARC_LIMIT = 2 ** 46;

export function decodeOid(bytes: Uint8Array): string {
  let dotted = '';
  let v = 0;
  let first = true;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    v = v * 128 + (b & 0x7f);
    if (v >= SMALL_ARC_LIMIT) return decodeOidBig(bytes);
    if (b & 0x80) continue;
    if (first) dotted = v < 80 ? `${Math.floor(v / 40)}.${v % 40}` : `2.${v - 80}`;
    else dotted += `.${v}`;
    first = false;
    v = 0;
  }
  if (first || (bytes[bytes.length - 1] as number) & 0x80) throw new DerError('truncated OBJECT IDENTIFIER');
  return dotted;
}

function decodeOidBig(bytes: Uint8Array): string {
  const arcs: bigint[] = [];
  let v = 0n;
  let pending = false;
  for (const b of bytes) {
    v = (v << 7n) | BigInt(b & 0x7f);
    pending = (b & 0x80) !== 0;
    if (!pending) {
      if (arcs.length === 0) arcs.push(v < 80n ? v / 40n : 2n, v < 80n ? v % 40n : v - 80n);
      else arcs.push(v);
      v = 0n;
    }
  }
  if (arcs.length === 0 || pending) throw new DerError('truncated OBJECT IDENTIFIER');
  return arcs.join('.');
}

/** Decode a UTCTime or GeneralizedTime element (Zulu, seconds precision, as RFC 5280 requires). */
export function decodeTime(buf: Uint8Array, el: Element): Date {
  const s = content(buf, el).toString('ascii');
  const m = el.tag === TAG.UTC_TIME ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s) : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) throw new DerError(`unsupported time value "${s}"`);
  let year = Number(m[1]);
  if (el.tag === TAG.UTC_TIME) year += year < 50 ? 2000 : 1900;
  return new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
}
