// The hand-written IPv6 parser and serialiser (src/pki/ipv6.ts) against the WHATWG URL parser they
// replace: the same strings accepted, the same canonical text, and the bytes ipBytes writes.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatIpv6, parseIpv6 } from '../../src/pki/ipv6.js';
import { ipBytes, normalizeIp } from '../../src/pki/san.js';

/** What URL makes of a bracketed host: its canonical text, or undefined when it refuses it. */
function viaUrl(s: string): string | undefined {
  try {
    return new URL(`http://[${s}]/`).hostname.slice(1, -1);
  } catch {
    return undefined;
  }
}

/** The 16 bytes of URL's canonical text, expanded independently of src/pki/ipv6.ts. */
function bytesOfCanonical(canonical: string): string {
  const [head = '', tail] = canonical.split('::');
  const groups = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const h = groups(head);
  const t = tail === undefined ? [] : groups(tail);
  const all = tail === undefined ? h : [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  return all.map((g) => g.toString(16).padStart(4, '0')).join('');
}

function assertAgrees(s: string): void {
  const want = viaUrl(s);
  const pieces = parseIpv6(s);
  assert.equal(pieces === undefined ? undefined : formatIpv6(pieces), want, JSON.stringify(s));
}

const FIXED = [
  '::', '::1', '1::', '1::1', '::ffff:1.2.3.4', '::1.2.3.4', '1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:7:1.2.3.4', '1:2:3:4:5:1.2.3.4',
  '::ffff:1.2.3.04', '::ffff:01.2.3.4', '::ffff:0.0.0.0', '::ffff:256.1.1.1', '::ffff:1.2.3', '::ffff:1.2.3.4.5', '::ffff:1..2.3',
  '::ffff:.1.2.3', '::ffff:1.2.3.', '1.2.3.4', '::1.2.3.4:1', '2001:db8::1', '2001:DB8::8:800:200C:417A', '2001:db8:0:0:1:0:0:1',
  '0:0:0:0:0:0:0:0', '0:0:0:0:0:0:0:1', '1:0:0:0:0:0:0:0', '1:0:0:2:0:0:0:3', '1:0:0:2:0:0:3:4', '1:2:0:0:3:0:0:4', '0:1:0:1:0:1:0:1',
  '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7::', '::2:3:4:5:6:7:8', '1::3:4:5:6:7:8', '1:2:3:4:5:6:7', ':1', '1:', ':::', '1:::2',
  '::1::2', '00001::1', '0001::1', 'fFfF::', 'g::1', '', ':', '.', '1', '1.', '::.', '::1.', 'fe80::1:2:3:4:5:6', '1:2:3:4:5:6:7:8:',
  ':1:2:3:4:5:6:7', '::0:0:0:0:0:0:0', '::0:0:0:0:0:0:0:0', '0::0:0:0:0:0:0:0', '1:2:3:4::5:6:7:8', 'a:b:c:d:e:f:0:0',
];

describe('ipv6: the parser agrees with the WHATWG URL parser', () => {
  test('hand-picked strings: accepted or refused alike, the same canonical text', () => {
    for (const s of FIXED) assertAgrees(s);
  });

  test('30,000 generated strings: pieces with `::`, embedded IPv4 with odd numbers, and random characters', () => {
    // xorshift32: an LCG's low bits repeat with short periods, which made these choices correlated.
    let seed = 7;
    const rand = (n: number): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const piece = (): string => (rand(3) === 0 ? '0' : rand(0x10000).toString(16).padStart(rand(5), '0'));
    const octet = (): string => (rand(8) === 0 ? `0${rand(10)}` : String(rand(300)));
    const alphabet = '0123456789abcdefABCDEF:.';
    let accepted = 0;
    for (let i = 0; i < 30_000; i++) {
      let s: string;
      if (i % 3 === 0) {
        // Eight pieces, or fewer with one `::` in a random place; now and then one too many or a stray colon.
        const n = rand(3) === 0 ? 8 + rand(2) : 1 + rand(7);
        const parts = Array.from({ length: n }, piece);
        const at = rand(n + 1);
        s = n >= 8 && rand(4) ? parts.join(':') : `${parts.slice(0, at).join(':')}::${parts.slice(at).join(':')}`;
        if (rand(8) === 0) s = rand(2) ? `:${s}` : `${s}:`;
      } else if (i % 3 === 1) {
        const head = Array.from({ length: rand(7) }, piece).join(':');
        s = `${head}${rand(2) ? '::' : ':'}${Array.from({ length: 3 + rand(3) }, octet).join('.')}`;
      } else s = Array.from({ length: 1 + rand(24) }, () => alphabet[rand(alphabet.length)]).join('');
      assertAgrees(s);
      if (viaUrl(s) !== undefined) accepted++;
    }
    // The generator must reach both branches: a parser that refused everything would agree too often.
    assert.ok(accepted > 5_000 && accepted < 25_000, `${accepted} of the generated strings were valid addresses`);
  });

  test('the longest run of zeros is compressed, the first of equal runs, never a single zero', () => {
    assert.equal(formatIpv6([1, 0, 0, 2, 0, 0, 0, 3]), '1:0:0:2::3');
    assert.equal(formatIpv6([1, 0, 0, 2, 0, 0, 3, 4]), '1::2:0:0:3:4');
    assert.equal(formatIpv6([1, 0, 2, 0, 3, 0, 4, 0]), '1:0:2:0:3:0:4:0');
    assert.equal(formatIpv6([0, 0, 0, 0, 0, 0, 0, 0]), '::');
  });
});

describe('ipv6: what san.ts builds on it', () => {
  const valid = FIXED.filter((s) => viaUrl(s) !== undefined);

  test('normalizeIp gives URL\'s canonical text for every valid address', () => {
    for (const s of valid) assert.equal(normalizeIp(s), viaUrl(s), s);
  });

  test('ipBytes writes the 16 bytes of that canonical text', () => {
    for (const s of valid) assert.equal(ipBytes(s).toString('hex'), bytesOfCanonical(viaUrl(s) as string), s);
  });

  test('what the parser refuses still goes to URL: a tab is stripped, garbage throws as before', () => {
    assert.equal(normalizeIp('::1\t'), '::1');
    assert.throws(() => normalizeIp('not an ip'), TypeError);
    assert.throws(() => ipBytes('1:2:3'), TypeError);
  });
});
