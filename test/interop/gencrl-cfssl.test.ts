// `etcd-tls gencrl` beside the real cfssl 1.2.0 gencrl on the same inputs: both outputs are one line of
// base64 DER that openssl verifies against the CA, with the same issuer, serials and validity length.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseCrl } from '../../src/pki/crl.js';
import { etcdTls, requireBinary, run } from '../helpers/components.js';
import { makeTempDir } from '../helpers/tmp.js';

test('gencrl matches cfssl 1.2.0 gencrl: serials, issuer, validity; openssl verifies both', async (t) => {
  if (!requireBinary(t, 'cfssl') || !requireBinary(t, 'openssl')) return;
  const dir = await makeTempDir(t, 'gencrl-');
  writeFileSync(path.join(dir, 'spec.yaml'), 'cluster: g\nca: { cn: g CA }\nmembers:\n  - { name: m1, ips: [127.0.0.131] }\n');
  assert.equal((await etcdTls(['gen', 'spec.yaml', '--out', 'pki'], { cwd: dir })).code, 0);
  writeFileSync(path.join(dir, 'serials.txt'), '12345\n3735928559\n\n1461501637330902918203684832716283019655932542975\n');
  writeFileSync(path.join(dir, 'time'), '3600\n');
  const args = ['serials.txt', 'pki/ca.pem', 'pki/ca-key.pem', 'time'];
  const cf = await run('cfssl', ['gencrl', ...args], { cwd: dir });
  const ours = await etcdTls(['gencrl', ...args], { cwd: dir });
  assert.equal(cf.code, 0, cf.stderr);
  assert.equal(ours.code, 0, ours.stderr);
  const views = [cf.stdout, ours.stdout].map((out) => {
    assert.match(out, /^[A-Za-z0-9+/]+=*\n$/, 'one line of base64');
    return parseCrl(Buffer.from(out, 'base64'));
  });
  for (const [i, v] of views.entries()) {
    writeFileSync(path.join(dir, `crl${i}.der`), v.der);
    const o = await run('openssl', ['crl', '-inform', 'DER', '-in', `crl${i}.der`, '-CAfile', 'pki/ca.pem', '-noout'], { cwd: dir });
    assert.match(o.stderr + o.stdout, /verify OK/);
  }
  const [c, o] = views as [ReturnType<typeof parseCrl>, ReturnType<typeof parseCrl>];
  assert.deepEqual(o.revoked.map((r) => r.serialHex), c.revoked.map((r) => r.serialHex).sort((a, b) => (BigInt(`0x${a}`) < BigInt(`0x${b}`) ? -1 : 1)));
  assert.deepEqual(o.issuerDer, c.issuerDer);
  assert.equal(o.authorityKeyId, c.authorityKeyId);
  const span = (v: typeof c): number => ((v.nextUpdate as Date).getTime() - v.thisUpdate.getTime()) / 1000;
  assert.equal(span(o), 3600);
  assert.equal(span(c), 3600);
  // Literal seconds work too (cfssl 1.2.0 reads TIME only as a file), and a bad serial is one line.
  assert.equal((await etcdTls(['gencrl', 'serials.txt', 'pki/ca.pem', 'pki/ca-key.pem', '60'], { cwd: dir })).code, 0);
  writeFileSync(path.join(dir, 'bad.txt'), '12\nzz\n');
  const bad = await etcdTls(['gencrl', 'bad.txt', 'pki/ca.pem', 'pki/ca-key.pem'], { cwd: dir });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^etcd-tls: BAD_FIELD: bad\.txt: line 2: "zz" is not a decimal serial number/);
});
