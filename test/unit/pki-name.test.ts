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

// cfssl HEAD's `"names": [{"OID": {"1.2.3": "value"}}]`: Go's pkix.Name puts these ExtraNames after CN
// and serialNumber, one RDN each, PrintableString when the value allows it and UTF8String otherwise.
describe('name: custom attributes by OID', () => {
  const DOC = '1.3.6.1.4.1.32473'; // IANA's enterprise number for documentation (RFC 5612)

  test('each OID is its own RDN after CN and serialNumber, entries in order, keys in the order written', () => {
    const name = buildName({
      CN: 'member1',
      serialNumber: '7',
      names: [
        { O: 'etcd', OID: { [`${DOC}.2`]: 'b', [`${DOC}.1`]: ' a ' } },
        { OU: 'ops', OID: { [`${DOC}.3`]: 'c', [`${DOC}.4`]: '  ' } },
      ],
    });
    assert.equal(formatName(name), `O=etcd, OU=ops, CN=member1, serialNumber=7, ${DOC}.2=b, ${DOC}.1=a, ${DOC}.3=c`);
    assert.deepEqual(name.at(-2), { type: 'OID', oid: `${DOC}.1`, value: 'a' });
  });

  test('street and postalCode have no field of their own, so an OID may set them', () => {
    assert.equal(formatName(buildName({ names: [{ OID: { '2.5.4.9': 'Main St 1', '2.5.4.17': '60311' } }] })), '2.5.4.9=Main St 1, 2.5.4.17=60311');
  });

  test('openssl asn1parse: the OID as given, PrintableString or UTF8String as Go chooses', async (t) => {
    if (!requireBinary(t, 'openssl')) return;
    const name = buildName({ CN: 'x', names: [{ OID: { [`${DOC}.1`]: 'team-a', [`${DOC}.2`]: 'Zürich', [`${DOC}.3`]: 'a*b', '2.25.329800735698586629295641978511506172918': 'uuid' } }] });
    const r = await run('openssl', ['asn1parse', '-inform', 'DER'], { stdin: encodeName(name) });
    assert.equal(r.code, 0, r.stderr);
    const pairs = [...r.stdout.matchAll(/OBJECT\s+:(\S+)\n.*prim:\s+(PRINTABLESTRING|UTF8STRING)\s+:(.*)$/gm)].map((m) => `${m[1]} ${m[2]} ${m[3]}`);
    assert.deepEqual(pairs, [
      'commonName PRINTABLESTRING x',
      `${DOC}.1 PRINTABLESTRING team-a`,
      `${DOC}.2 UTF8STRING Zürich`,
      // Go's asn1 leaves '*' and '&' out of PrintableString when it marshals.
      `${DOC}.3 UTF8STRING a*b`,
      '2.25.329800735698586629295641978511506172918 PRINTABLESTRING uuid',
    ]);
  });

  const bad: [string, Record<string, unknown>, string, RegExp][] = [
    ['a key that is not dotted decimal', { '1.2.x': 'v' }, 'BAD_NAME', /^csr\.json: names\[1\]\.OID\."1\.2\.x": is not a dotted OID/],
    ['one arc', { '1': 'v' }, 'BAD_NAME', /^csr\.json: names\[1\]\.OID\."1": is not a dotted OID/],
    ['a leading zero', { '1.02.3': 'v' }, 'BAD_NAME', /names\[1\]\.OID\."1\.02\.3": is not a dotted OID/],
    ['a first arc above 2', { '3.1': 'v' }, 'BAD_NAME', /names\[1\]\.OID\."3\.1": is not a dotted OID/],
    ['a second arc of 40 under arc 1', { '1.40.1': 'v' }, 'BAD_NAME', /names\[1\]\.OID\."1\.40\.1": is not a valid OID \(under arc 0 or 1 the second arc must be below 40\)/],
    ['the OID of CN', { '2.5.4.3': 'v' }, 'BAD_NAME', /names\[1\]\.OID\."2\.5\.4\.3": 2\.5\.4\.3 is CN; set it with the "CN" field/],
    ['the OID of emailAddress', { '1.2.840.113549.1.9.1': 'a@b.example' }, 'BAD_NAME', /is E; set it with the "E" field/],
    ['a value that is not a string', { '1.2.3': 7 }, 'BAD_NAME', /names\[1\]\.OID\."1\.2\.3": expected a string value, got number/],
    ['a control character in the value', { '1.2.3': 'a\nb' }, 'CONTROL_CHARACTER', /^csr\.json: names\[1\]\.OID\."1\.2\.3": contains a control character \(U\+000A at character 2\)/],
    ['a control character in the key, never echoed', { '1.2\u009b3': 'v' }, 'CONTROL_CHARACTER', /^csr\.json: names\[1\]\.OID: key 1: contains a control character \(U\+009B at character 4\)/],
    ['a value over 256 characters', { '1.2.3': 'x'.repeat(257) }, 'TOO_LONG', /^csr\.json: names\[1\]\.OID\."1\.2\.3": is 257 characters long; the limit is 256$/],
  ];
  for (const [what, OID, code, message] of bad) {
    test(`${what}: ${code} naming the file, entry and key`, () =>
      rejects(() => buildName({ CN: 'x', names: [{ O: 'o' }, { OID: OID as Record<string, string> }] }, 'csr.json'), code, message));
  }
});
