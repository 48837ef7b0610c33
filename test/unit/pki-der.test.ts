// The hand-written DER encoder and TLV reader: length forms at their boundaries, INTEGER minimal form,
// OIDs (checked against openssl asn1parse), SET OF ordering, the UTCTime/GeneralizedTime switch, and
// the reader's refusal of truncated or non-DER input.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { children, decodeOid, decodeTime, DerError, oid, printableString, readElement, sequence, setOf, smallInteger, TAG, time, tlv, unsignedInteger, utf8String } from '../../src/pki/der.js';
import { parsePemBlocks, toPem } from '../../src/pki/pem.js';
import { requireBinary, run } from '../helpers/components.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (h: string): Buffer => Buffer.from(h.replace(/\s+/g, ''), 'hex');

describe('der: lengths', () => {
  const cases: [number, string][] = [
    [0, '0400'],
    [1, '0401'],
    [127, '047f'],
    [128, '048180'],
    [255, '0481ff'],
    [256, '04820100'],
    [65535, '0482ffff'],
    [65536, '0483010000'],
  ];
  for (const [n, header] of cases) {
    test(`a ${n}-byte element has header ${header} and reads back`, () => {
      const el = tlv(TAG.OCTET_STRING, Buffer.alloc(n, 0xab));
      assert.equal(hex(el.subarray(0, header.length / 2)), header);
      assert.equal(el.length, header.length / 2 + n);
      const read = readElement(el, 0);
      assert.deepEqual(read, { tag: TAG.OCTET_STRING, start: 0, contentStart: header.length / 2, end: el.length });
    });
  }

  test('a constructed element sums its children', () => {
    const el = sequence(Buffer.alloc(100, 1), Buffer.alloc(100, 2));
    assert.equal(hex(el.subarray(0, 3)), '3081c8');
    assert.equal(el.length, 203);
  });
});

describe('der: INTEGER', () => {
  const cases: [string, string][] = [
    ['', '020100'],
    ['00', '020100'],
    ['000000', '020100'],
    ['01', '020101'],
    ['7f', '02017f'],
    ['80', '02020080'],
    ['000080', '02020080'],
    ['0001', '020101'],
    ['ffff', '020300ffff'],
    ['7fffffffffffffffffffffffffffffffffffffff', '02147fffffffffffffffffffffffffffffffffffffff'],
  ];
  for (const [magnitude, der] of cases) {
    test(`unsignedInteger(${magnitude || 'empty'}) = ${der}`, () => {
      assert.equal(hex(unsignedInteger(bytes(magnitude))), der);
    });
  }

  const small: [number, string][] = [
    [0, '020100'],
    [127, '02017f'],
    [128, '02020080'],
    [256, '02020100'],
    [2 ** 32, '02050100000000'],
  ];
  for (const [n, der] of small) test(`smallInteger(${n}) = ${der}`, () => assert.equal(hex(smallInteger(n)), der));

  test('smallInteger refuses negatives and fractions (API misuse)', () => {
    assert.throws(() => smallInteger(-1), TypeError);
    assert.throws(() => smallInteger(1.5), TypeError);
  });
});

describe('der: OBJECT IDENTIFIER', () => {
  const known: [string, string][] = [
    ['2.5.29.17', '0603551d11'],
    ['1.2.840.113549', '06062a864886f70d'],
    ['1.2.840.10045.3.1.7', '06082a8648ce3d030107'],
    ['0.9.2342', '0603099226'],
    ['2.999.3', '0603883703'],
    ['1.3.6.1.4.1.4294967296', '060a2b060104019080808000'], // 2^32: past 32-bit arithmetic
  ];
  for (const [dotted, der] of known) {
    test(`${dotted} encodes as ${der} and decodes back`, () => {
      const el = oid(dotted);
      assert.equal(hex(el), der);
      assert.equal(decodeOid(el.subarray(2)), dotted);
    });
  }

  const roundTrips = [
    '2.25.329800735698586629295641978511506172918', // a UUID arc: 128 bits, beyond a double's precision
    '1.3.6.1.4.1.9007199254740993', // 2^53 + 1
    '1.3.6.1.4.1.9007199254740991', // 2^53 - 1
    '2.47.1',
    '2.48.1',
    '2.100000.1',
    '1.39',
    '0.0',
    // decodeOid adds arcs up in a double below 2^46 and switches to BigInt there.
    '1.3.70368744177663', // 2^46 - 1
    '1.3.70368744177664', // 2^46
    '1.3.70368744177665.7',
    '2.70368744177584', // a first sub-identifier of 2^46 - 1 (80 + arc)
    '2.70368744177585',
  ];
  for (const dotted of roundTrips) test(`${dotted} round-trips`, () => assert.equal(decodeOid(oid(dotted).subarray(2)), dotted));

  test('5,000 random OIDs round-trip, arcs of every size from 0 to 200 bits', () => {
    let seed = 7;
    const next = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    const arc = (): string => {
      const bits = next() % 200;
      let v = 0n;
      for (let b = 0; b < bits; b += 16) v = (v << 16n) | BigInt(next() & 0xffff);
      return (v >> BigInt(Math.max(0, Math.ceil(bits / 16) * 16 - bits))).toString();
    };
    for (let i = 0; i < 5000; i++) {
      const first = next() % 3;
      const second = first === 2 ? arc() : String(next() % 40);
      const dotted = [first, second, ...Array.from({ length: next() % 6 }, arc)].join('.');
      assert.equal(decodeOid(oid(dotted).subarray(2)), dotted);
    }
  });

  test('openssl reads our encoding of large arcs the same way', async (t) => {
    if (!requireBinary(t, 'openssl')) return;
    const dotted = ['2.25.329800735698586629295641978511506172918', '1.3.6.1.4.1.4294967296', '2.999.3'];
    const der = sequence(...dotted.map((d) => oid(d)));
    const r = await run('openssl', ['asn1parse', '-inform', 'DER'], { stdin: der });
    assert.equal(r.code, 0, r.stderr);
    const seen = [...r.stdout.matchAll(/OBJECT\s+:(\S+)/g)].map((m) => m[1]);
    assert.deepEqual(seen, dotted);
  });

  for (const bad of ['', '1', '1..2', '.1.2', '1.2.', '3.1', '1.40', '0.40', 'a.b', '1.2e3', '0x1.2', ' 1.2', '1.-2']) {
    test(`oid(${JSON.stringify(bad)}) is refused`, () => assert.throws(() => oid(bad), TypeError));
  }

  test('decodeOid refuses an unterminated sub-identifier', () => {
    assert.throws(() => decodeOid(bytes('2a86')), DerError);
    assert.throws(() => decodeOid(Buffer.alloc(0)), DerError);
  });
});

describe('der: SET OF', () => {
  test('elements are sorted by their encodings whatever the input order', () => {
    const a = printableString('a');
    const b = printableString('b');
    const aa = printableString('aa');
    const u = utf8String('z');
    for (const order of [
      [b, aa, a, u],
      [u, a, aa, b],
      [aa, u, b, a],
    ]) {
      const set = setOf(...order);
      assert.equal(set[0], TAG.SET);
      const kids = children(set, readElement(set, 0)).map((el) => hex(set.subarray(el.start, el.end)));
      assert.deepEqual(kids, [u, a, b, aa].map(hex));
    }
  });

  test('setOf does not reorder its arguments in place', () => {
    const items = [printableString('b'), printableString('a')];
    setOf(...items);
    assert.equal(items[0]?.toString('latin1', 2), 'b');
  });
});

describe('der: time', () => {
  const cases: [string, number, string][] = [
    ['1950-01-01T00:00:00Z', TAG.UTC_TIME, '500101000000Z'],
    ['1999-12-31T23:59:59Z', TAG.UTC_TIME, '991231235959Z'],
    ['2000-01-01T00:00:00Z', TAG.UTC_TIME, '000101000000Z'],
    ['2025-03-04T05:06:07Z', TAG.UTC_TIME, '250304050607Z'],
    ['2049-12-31T23:59:59Z', TAG.UTC_TIME, '491231235959Z'],
    ['2050-01-01T00:00:00Z', TAG.GENERALIZED_TIME, '20500101000000Z'],
    ['2124-02-29T12:00:00Z', TAG.GENERALIZED_TIME, '21240229120000Z'],
    ['9999-12-31T23:59:59Z', TAG.GENERALIZED_TIME, '99991231235959Z'],
  ];
  for (const [iso, tag, text] of cases) {
    test(`${iso} is ${tag === TAG.UTC_TIME ? 'UTCTime' : 'GeneralizedTime'} ${text} and decodes back`, () => {
      const el = time(new Date(iso));
      assert.equal(el[0], tag);
      assert.equal(el.subarray(2).toString('latin1'), text);
      assert.equal(decodeTime(el, readElement(el, 0)).toISOString(), new Date(iso).toISOString());
    });
  }

  test('milliseconds are dropped (seconds precision, as RFC 5280 requires)', () => {
    const el = time(new Date('2030-06-01T00:00:00.999Z'));
    assert.equal(el.subarray(2).toString('latin1'), '300601000000Z');
  });

  for (const bad of ['1949-12-31T23:59:59Z', '+010000-01-01T00:00:00Z', 'not a date']) {
    test(`time(${bad}) is refused`, () => assert.throws(() => time(new Date(bad)), TypeError));
  }

  test('decodeTime refuses local times and fractions', () => {
    for (const s of ['2501010000Z', '250101000000', '250101000000.5Z']) {
      const el = tlv(TAG.UTC_TIME, Buffer.from(s, 'latin1'));
      assert.throws(() => decodeTime(el, readElement(el, 0)), DerError, s);
    }
  });
});

describe('der: readElement', () => {
  const bad: [string, string][] = [
    ['', 'empty input'],
    ['30', 'tag without length'],
    ['3005010203', 'content shorter than its length'],
    ['0482 01', 'length bytes cut short'],
    ['0485 0000000001 00', 'five length bytes'],
    ['0480 0000', 'indefinite length (BER, not DER)'],
    ['0481 05 0102030405', 'long form for a length under 128 (not DER)'],
    ['0482 0080' + '00'.repeat(128), 'a length with a leading zero byte (not DER)'],
    ['1f01 00', 'multi-byte tag'],
  ];
  for (const [h, why] of bad) test(`refuses ${why}`, () => assert.throws(() => readElement(bytes(h), 0), DerError));

  test('a child may not run past its container even when the buffer is longer', () => {
    // SEQUENCE of length 3 holding an OCTET STRING that claims 4 bytes; the buffer has 6 after the header.
    const buf = bytes('3003 0404 010203 0405');
    assert.throws(() => children(buf, readElement(buf, 0)), DerError);
  });

  test('children walks a SEQUENCE', () => {
    const buf = sequence(smallInteger(1), oid('2.5.29.17'), utf8String('x'));
    const kids = children(buf, readElement(buf, 0));
    assert.deepEqual(
      kids.map((k) => k.tag),
      [TAG.INTEGER, TAG.OID, TAG.UTF8_STRING],
    );
    assert.equal(kids[2]?.end, buf.length);
  });
});

describe('der: PEM', () => {
  const a = Buffer.from('first block');
  const b = Buffer.alloc(100, 7);

  test('toPem wraps at 64 characters and parsePemBlocks reads it back', () => {
    const pem = toPem('CERTIFICATE', b);
    const lines = pem.trimEnd().split('\n');
    assert.equal(lines[0], '-----BEGIN CERTIFICATE-----');
    assert.equal(lines.at(-1), '-----END CERTIFICATE-----');
    assert.ok(lines.slice(1, -1).every((l) => l.length <= 64));
    assert.equal(lines[1]?.length, 64);
    assert.deepEqual(parsePemBlocks(pem), [{ label: 'CERTIFICATE', der: b }]);
  });

  test('several blocks are read in order, with text between them ignored', () => {
    const text = `Bag Attributes: junk\n${toPem('CERTIFICATE', a)}some garbage -----\n\n${toPem('EC PRIVATE KEY', b)}trailing`;
    assert.deepEqual(parsePemBlocks(text), [
      { label: 'CERTIFICATE', der: a },
      { label: 'EC PRIVATE KEY', der: b },
    ]);
  });

  test('CRLF line endings are accepted', () => {
    assert.deepEqual(parsePemBlocks(toPem('CERTIFICATE', a).replace(/\n/g, '\r\n')), [{ label: 'CERTIFICATE', der: a }]);
  });

  test('no blocks, or a BEGIN without its END, gives an empty list', () => {
    assert.deepEqual(parsePemBlocks('hello'), []);
    assert.deepEqual(parsePemBlocks('-----BEGIN CERTIFICATE-----\nAAAA\n-----END X509 CRL-----\n'), []);
  });

  test('toPem: every length from 0 to 200 bytes, as openssl wraps it, from a Buffer or a view into a larger array', () => {
    // What toPem wrote before it was made faster: one base64 string cut into 64-character lines.
    const reference = (label: string, der: Uint8Array): string => {
      const lines = Buffer.from(der).toString('base64').match(/.{1,64}/g) ?? [];
      return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
    };
    const backing = new Uint8Array(256).map((_, i) => (i * 89 + 7) & 0xff);
    for (let n = 0; n <= 200; n++) {
      const view = backing.subarray(3, 3 + n);
      assert.equal(toPem('X', view), reference('X', view), `${n} bytes, Uint8Array view`);
      assert.equal(toPem('X', Buffer.from(view)), reference('X', view), `${n} bytes, Buffer`);
    }
    assert.equal(toPem('CERTIFICATE', new Uint8Array(0)), '-----BEGIN CERTIFICATE-----\n\n-----END CERTIFICATE-----\n');
  });

  test('a body with characters outside base64 is an error naming the block', () => {
    assert.throws(
      () => parsePemBlocks('-----BEGIN CERTIFICATE-----\nMIIB*not base64*\n-----END CERTIFICATE-----\n'),
      (e: unknown) => e instanceof DerError && /"CERTIFICATE"/.test(e.message),
    );
  });
});
