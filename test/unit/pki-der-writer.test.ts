// The one-pass DER encoder (el/encode in src/pki/der.ts) against encoding level by level with tlv: the same
// bytes for generated trees whose lengths cross every length-form boundary, strings written as
// Buffer.from(s, 'ascii') writes them, and a header for every length the writer can be asked for.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { el, encode, headerLength, type Part, readElement, sizeOf, tlv, writeHeader } from '../../src/pki/der.js';

/** The reference: each element encoded on its own with der.ts's tlv, strings as 'ascii' bytes. */
function reference(p: Part): Buffer {
  if (typeof p === 'string') return Buffer.from(p, 'ascii');
  if (p instanceof Uint8Array) return Buffer.from(p);
  return tlv(p.tag, Buffer.concat(p.parts.map(reference)));
}

describe('DER encoder: one-pass tree', () => {
  test('headers at the length-form boundaries match tlv and read back', () => {
    for (const n of [0, 1, 127, 128, 255, 256, 65535, 65536, 100_000]) {
      const content = Buffer.alloc(n, 0x5a);
      const out = encode(el(0x04, [content]));
      assert.equal(out.length, headerLength(n) + n, `${n}`);
      assert.equal(out.subarray(0, headerLength(n)).toString('hex'), tlv(0x04, content).subarray(0, headerLength(n)).toString('hex'), `${n}`);
      const back = readElement(out, 0);
      assert.deepEqual([back.contentStart, back.end], [headerLength(n), out.length]);
    }
  });

  test('writeHeader writes at an offset and returns where the content starts', () => {
    const out = Buffer.alloc(8, 0xee);
    assert.equal(writeHeader(out, 0x30, 300, 2), 6);
    assert.equal(out.toString('hex'), 'eeee3082012ceeee');
  });

  test('300 generated trees: the same bytes as element-by-element encoding', () => {
    let seed = 3; // xorshift32
    const rand = (n: number): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const sizes = [0, 1, 2, 60, 120, 126, 127, 128, 129, 200, 254, 255, 256, 300];
    const part = (depth: number): Part => {
      const r = rand(4);
      if (depth > 3 || r === 0) return Buffer.alloc(sizes[rand(sizes.length)] as number, rand(256));
      if (r === 1) return 'x'.repeat(sizes[rand(sizes.length)] as number);
      return el([0x30, 0x31, 0xa3, 0x82, 0x04][rand(5)] as number, Array.from({ length: rand(5) }, () => part(depth + 1)));
    };
    for (let i = 0; i < 300; i++) {
      const tree = el(0x30, Array.from({ length: 1 + rand(4) }, () => part(0)));
      const want = reference(tree);
      assert.equal(sizeOf(tree), want.length);
      assert.equal(encode(tree).toString('hex'), want.toString('hex'), `tree ${i}`);
    }
  });

  test("strings are written as Buffer.from(s, 'ascii') writes them, one byte per UTF-16 unit", () => {
    for (const s of ['member1', 'Jürgen', '€uro', '😀', '\u0000\u007f\u0080\u00ff\u0100'])
      assert.equal(encode(el(0x16, [s])).toString('hex'), tlv(0x16, Buffer.from(s, 'ascii')).toString('hex'), JSON.stringify(s));
  });

  test('an element too large for four length bytes is refused (API misuse)', () => {
    assert.throws(() => headerLength(0x1000000), RangeError);
  });
});
