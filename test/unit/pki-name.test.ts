// Subject names from cfssl-style input: repeated attributes kept, Go's attribute order, validation, and
// the string type each value is encoded with (checked with openssl asn1parse).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildName, commonName, encodeName, formatName, type Name } from '../../src/pki/name.js';
import { requireBinary, run } from '../helpers/components.js';
import { rejects } from '../helpers/assertions.js';


describe('name: buildName', () => {
  test("the blog's CA: both Org Units kept, order C, ST, L, O, OU, CN", () => {
    const name = buildName({
      CN: 'My own CA',
      names: [{ OU: ['Org Unit 1', 'Org Unit 2'], O: 'My Company Name', L: 'San Francisco', ST: 'California', C: 'US' }],
    });
    assert.equal(
      formatName(name),
      'C=US, ST=California, L=San Francisco, O=My Company Name, OU=Org Unit 1, OU=Org Unit 2, CN=My own CA',
    );
    assert.equal(commonName(name), 'My own CA');
  });

  test('values from several names entries are grouped by type, entries in order', () => {
    const name = buildName({
      CN: 'etcd',
      names: [
        { OU: 'A', O: 'X' },
        { OU: 'B', C: 'DE' },
        { OU: ['C', 'D'], O: 'Y' },
      ],
    });
    assert.equal(formatName(name), 'C=DE, O=X, O=Y, OU=A, OU=B, OU=C, OU=D, CN=etcd');
  });

  test('emails and subject serial numbers follow CN-less attributes; blanks are dropped, values trimmed', () => {
    const name = buildName({
      CN: '  node-1 ',
      serialNumber: '42',
      names: [{ O: ' ', OU: ['', ' ops '], E: 'admin@example.com', SerialNumber: '43' }],
    });
    assert.deepEqual(name, [
      { type: 'OU', value: 'ops' },
      { type: 'E', value: 'admin@example.com' },
      { type: 'CN', value: 'node-1' },
      { type: 'serialNumber', value: '42' },
      { type: 'serialNumber', value: '43' },
    ]);
  });

  test('no CN and no names: an empty name, encoded as an empty SEQUENCE', () => {
    assert.deepEqual(buildName({}), []);
    assert.equal(encodeName([]).toString('hex'), '3000');
    assert.equal(commonName([]), undefined);
  });

  for (const c of ['USA', 'U', 'U1', '12', 'ÜS']) {
    test(`C ${JSON.stringify(c)} is BAD_NAME naming the file and the entry`, () =>
      rejects(
        () => buildName({ CN: 'x', names: [{ O: 'o' }, { C: c }] }, 'ca-csr.json'),
        'BAD_NAME',
        new RegExp(`^ca-csr\\.json: names\\[1\\]\\.C: "${c}" is not a two-letter country code$`),
      ));
  }

  test('a lower-case country code is accepted as given', () => {
    assert.equal(formatName(buildName({ names: [{ C: 'de' }] })), 'C=de');
  });

  test('a serial number or email outside its string type is BAD_NAME when encoded', () => {
    rejects(() => encodeName([{ type: 'serialNumber', value: 'a_b' }]), 'BAD_NAME', /serialNumber: "a_b"/);
    rejects(() => encodeName([{ type: 'E', value: 'jürgen@example.com' }]), 'BAD_NAME', /E: "jürgen@example\.com"/);
  });
});

describe('name: encoding', () => {
  test('each attribute is its own RDN, in the order given', () => {
    const der = encodeName([
      { type: 'C', value: 'US' },
      { type: 'CN', value: 'a' },
    ]);
    assert.equal(der.toString('hex'), '3019310b3009060355040613025553310a30080603550403130161');
  });

  test('openssl asn1parse: PrintableString where possible, UTF8String otherwise, IA5String for emails', async (t) => {
    if (!requireBinary(t, 'openssl')) return;
    const name: Name = [
      { type: 'C', value: 'US' },
      { type: 'O', value: 'Müller GmbH' },
      { type: 'OU', value: 'etcd_ops' },
      { type: 'OU', value: "A-Z a-z 0-9 '()+,-./:=?" },
      { type: 'E', value: 'ops@example.com' },
      { type: 'CN', value: 'etcd-1.example.com' },
      { type: 'serialNumber', value: '1234' },
    ];
    const r = await run('openssl', ['asn1parse', '-inform', 'DER'], { stdin: encodeName(name) });
    assert.equal(r.code, 0, r.stderr);
    const strings = [...r.stdout.matchAll(/prim:\s+(PRINTABLESTRING|UTF8STRING|IA5STRING)\s+:(.*)$/gm)].map((m) => `${m[1]} ${m[2]}`);
    assert.deepEqual(strings, [
      'PRINTABLESTRING US',
      'UTF8STRING Müller GmbH',
      'UTF8STRING etcd_ops',
      "PRINTABLESTRING A-Z a-z 0-9 '()+,-./:=?",
      'IA5STRING ops@example.com',
      'PRINTABLESTRING etcd-1.example.com',
      'PRINTABLESTRING 1234',
    ]);
    assert.equal((r.stdout.match(/cons:\s+SET/g) ?? []).length, name.length);
  });

  test('openssl prints the subject in our order with both OUs', async (t) => {
    if (!requireBinary(t, 'openssl')) return;
    const name = buildName({ CN: 'My own CA', names: [{ C: 'US', O: 'Co', OU: ['Org Unit 1', 'Org Unit 2'] }] });
    const r = await run('openssl', ['asn1parse', '-inform', 'DER'], { stdin: encodeName(name) });
    assert.equal(r.code, 0, r.stderr);
    const objects = [...r.stdout.matchAll(/OBJECT\s+:(\S+)/g)].map((m) => m[1]);
    assert.deepEqual(objects, ['countryName', 'organizationName', 'organizationalUnitName', 'organizationalUnitName', 'commonName']);
  });
});
