/** ipVersion must answer exactly as node:net's isIP does (it exists only to keep node:net off the CLI's start-up path). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import { ipVersion } from '../../src/pki/san.js';

const FIXED = [
  '127.0.0.1', '0.0.0.0', '255.255.255.255', '256.0.0.1', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1.2.3.04', ' 1.2.3.4', '1.2.3.4 ',
  '10.0.0.300', '1..2.3', '', '.', '::', '::1', '1::', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7::', '::ffff:1.2.3.4',
  '::ffff:1.2.3.04', '::ffff:256.1.1.1', '1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:7:1.2.3.4', 'fe80::1%eth0', 'fe80::1%', 'fe80::1%25',
  ':::', '1:::2', 'g::1', '12345::1', '::1::2', '[::1]', 'localhost', 'example.com', '1.2.3.4:80', 'FFFF::ABCD', '0:0:0:0:0:0:0:0',
];

test('ipVersion agrees with node:net isIP on hand-picked cases', () => {
  for (const s of FIXED) assert.equal(ipVersion(s), isIP(s), JSON.stringify(s));
});

test('ipVersion agrees with node:net isIP on 20,000 generated strings', () => {
  let seed = 42;
  const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
  const alphabet = '0123456789abcdefABCDEF:.%x ';
  for (let i = 0; i < 20_000; i++) {
    let s: string;
    if (i % 3 === 0) s = Array.from({ length: 4 }, () => String(rand(300))).join('.');
    else if (i % 3 === 1) s = Array.from({ length: 1 + rand(9) }, () => (rand(4) === 0 ? '' : rand(0x10000).toString(16))).join(':');
    else s = Array.from({ length: 1 + rand(20) }, () => alphabet[rand(alphabet.length)]).join('');
    assert.equal(ipVersion(s), isIP(s), JSON.stringify(s));
  }
});
