// Custom subject attributes by OID (cfssl HEAD's `"names": [{"OID": {"1.2.3": "value"}}]`), through the
// real CLI as a user runs it, judged by openssl: gencert -initca, gencert, genkey, selfsign, sign of an
// openssl-made CSR that carries one, the cluster spec's CA, and certinfo's `names`.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { etcdTls, findBinary, requireBinary, run } from '../helpers/components.js';
import { makeTempDir } from '../helpers/tmp.js';

const TEAM = '1.3.6.1.4.1.32473.1'; // under IANA's enterprise number for documentation (RFC 5612)
const CITY = '1.3.6.1.4.1.32473.2';
const NAMES = [{ O: 'etcd', OID: { [TEAM]: 'team-a', [CITY]: 'Zürich' } }];

async function openssl(args: string[], cwd: string): Promise<string> {
  const r = await run('openssl', args, { cwd });
  assert.equal(r.code, 0, `openssl ${args.join(' ')}:\n${r.stderr}`);
  return r.stdout;
}

/** `etcd-tls <args> - | etcd-tls json -bare NAME` in dir. */
async function cfssl(dir: string, name: string, args: string[], stdin: string): Promise<void> {
  const gen = await etcdTls([...args, '-'], { cwd: dir, stdin });
  assert.equal(gen.code, 0, `${args.join(' ')}: ${gen.stderr}`);
  const json = await etcdTls(['json', '-bare', name], { cwd: dir, stdin: gen.stdout });
  assert.equal(json.code, 0, json.stderr);
}

/** The subject as `openssl -nameopt oid` prints it: every attribute by its dotted OID, in encoding order. */
const subjectOf = (dir: string, file: string, kind: 'x509' | 'req'): Promise<string> =>
  openssl([kind, '-in', file, '-noout', '-subject', '-nameopt', 'oid,sep_comma_plus_space,utf8,-esc_msb'], dir).then((s) => s.trim());

const SUBJECT = (cn: string): string => `subject=2.5.4.10=etcd, 2.5.4.3=${cn}, ${TEAM}=team-a, ${CITY}=Zürich`;

let dir = '';
let available = false;
before(async () => {
  available = findBinary('openssl') !== null;
  if (!available) return;
  dir = await makeTempDir('file', 'interop-oid-');
  await cfssl(dir, 'ca', ['gencert', '-initca'], JSON.stringify({ CN: 'oid CA', names: NAMES }));
});

describe('custom OID name attributes, as openssl reads them', () => {
  test('gencert -initca: after CN, one RDN each, PrintableString or UTF8String as Go chooses', async (t) => {
    if (!requireBinary(t, 'openssl') || !available) return;
    assert.equal(await subjectOf(dir, 'ca.pem', 'x509'), SUBJECT('oid CA'));
    assert.equal(await subjectOf(dir, 'ca.csr', 'req'), SUBJECT('oid CA'));
    const parsed = await openssl(['asn1parse', '-in', 'ca.pem'], dir);
    const subject = parsed.slice(parsed.indexOf(':commonName', parsed.indexOf(':commonName') + 1)); // the second name is the subject
    assert.match(subject, new RegExp(`OBJECT +:${TEAM.replace(/\./g, '\\.')}\\n.*PRINTABLESTRING +:team-a\\n`));
    assert.match(subject, new RegExp(`OBJECT +:${CITY.replace(/\./g, '\\.')}\\n.*UTF8STRING +:Zürich\\n`));
    assert.match(await openssl(['verify', '-x509_strict', '-CAfile', 'ca.pem', 'ca.pem'], dir), /ca\.pem: OK/);
  });

  test('gencert, genkey and selfsign carry them too', async (t) => {
    if (!requireBinary(t, 'openssl') || !available) return;
    const leaf = JSON.stringify({ CN: 'member1', hosts: ['127.0.0.1'], names: NAMES });
    await cfssl(dir, 'member1', ['gencert', '-ca=ca.pem', '-ca-key=ca-key.pem'], leaf);
    assert.equal(await subjectOf(dir, 'member1.pem', 'x509'), SUBJECT('member1'));
    assert.match(await openssl(['verify', '-x509_strict', '-CAfile', 'ca.pem', 'member1.pem'], dir), /member1\.pem: OK/);
    await cfssl(dir, 'keyonly', ['genkey'], leaf);
    assert.equal(await subjectOf(dir, 'keyonly.csr', 'req'), SUBJECT('member1'));
    await cfssl(dir, 'self', ['selfsign', 'localhost'], leaf);
    assert.equal(await subjectOf(dir, 'self.pem', 'x509'), SUBJECT('member1'));
  });

  test('sign keeps a custom attribute of an openssl-made CSR', async (t) => {
    if (!requireBinary(t, 'openssl') || !available) return;
    // openssl's -subj skips numeric OIDs it has no name for; a config's oid_section names it. The attribute
    // comes before CN here, and after CN in the certificate: sign puts RDNs in cfssl's order.
    writeFileSync(path.join(dir, 'req.cnf'), `oid_section = oids\n[oids]\nteam = ${TEAM}\n[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nO = ops\nteam = team-b\nCN = from-openssl\n`);
    await openssl(['req', '-new', '-config', 'req.cnf', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'os-key.pem', '-out', 'os.csr'], dir);
    assert.equal(await subjectOf(dir, 'os.csr', 'req'), `subject=2.5.4.10=ops, ${TEAM}=team-b, 2.5.4.3=from-openssl`);
    const signed = await etcdTls(['sign', '-ca=ca.pem', '-ca-key=ca-key.pem', 'os.csr'], { cwd: dir });
    assert.equal(signed.code, 0, signed.stderr);
    assert.equal((await etcdTls(['json', '-bare', 'os'], { cwd: dir, stdin: signed.stdout })).code, 0);
    assert.equal(await subjectOf(dir, 'os.pem', 'x509'), `subject=2.5.4.10=ops, 2.5.4.3=from-openssl, ${TEAM}=team-b`);
  });

  test("certinfo lists their values in the subject's names, as cfssl's certinfo does", async (t) => {
    if (!requireBinary(t, 'openssl') || !available) return;
    const r = await etcdTls(['certinfo', '-cert', 'ca.pem'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const info = JSON.parse(r.stdout) as { subject: { common_name: string; organization: string; names: string[] } };
    assert.deepEqual(info.subject, { common_name: 'oid CA', organization: 'etcd', names: ['etcd', 'oid CA', 'team-a', 'Zürich'] });
  });

  test('the cluster spec: ca.names[].OID ends up in the CA that gen issues', async (t) => {
    if (!requireBinary(t, 'openssl') || !available) return;
    const spec = path.join(dir, 'cluster.yaml');
    writeFileSync(spec, `cluster: oid\nca:\n  cn: spec CA\n  names:\n    - O: etcd\n      OID:\n        ${TEAM}: team-a\n        ${CITY}: Zürich\nmembers:\n  - name: m1\n    ips: [127.0.0.1]\n`);
    const gen = await etcdTls(['gen', spec, '--out', path.join(dir, 'pki')], { cwd: dir });
    assert.equal(gen.code, 0, gen.stderr);
    assert.equal(await subjectOf(dir, 'pki/ca.pem', 'x509'), SUBJECT('spec CA'));
    assert.match(readFileSync(path.join(dir, 'pki/ca.pem'), 'utf8'), /^-----BEGIN CERTIFICATE-----/);
  });

  test('a bad OID is one line naming the file, entry and key, exit 1, nothing written', async (t) => {
    if (!requireBinary(t, 'openssl') || !available) return;
    const r = await etcdTls(['genkey', '-'], { cwd: dir, stdin: JSON.stringify({ CN: 'x', names: [{ OID: { '1.2.x': 'v' } }] }) });
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, 'etcd-tls: BAD_NAME: stdin: names[0].OID."1.2.x": is not a dotted OID (decimal arcs, the first 0, 1 or 2, e.g. 1.3.6.1.4.1.32473.1)\n');
  });
});
