// A weak CA key made by openssl (RSA-1024) must not sign, whichever command loads it: the same
// BAD_KEY_SPEC as a weak new key or a weak CSR key, one line naming the key file, nothing written.
// cfssl 1.2.0 signs with it.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { loadCaIssuer } from '../../src/pki/certificate.js';
import { etcdTls, findBinary, requireBinary, run } from '../helpers/components.js';
import { makeTempDir } from '../helpers/tmp.js';

async function openssl(args: string[], cwd: string): Promise<void> {
  const r = await run('openssl', args, { cwd });
  assert.equal(r.code, 0, `openssl ${args.join(' ')}:\n${r.stderr}`);
}

const CA_EXTENSIONS = ['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'];
const WEAK = /^etcd-tls: BAD_KEY_SPEC: weak-ca-key\.pem: CA key rsa-1024: RSA key size 1024 is too weak \(minimum 2048; use 2048, 3072 or 4096\)\n$/;

let dir = '';
let available = false;
before(async () => {
  available = findBinary('openssl') !== null;
  if (!available) return;
  dir = await makeTempDir('file', 'interop-weak-ca-');
  await openssl(['req', '-x509', '-newkey', 'rsa:1024', '-nodes', '-keyout', 'weak-ca-key.pem', '-out', 'weak-ca.pem', '-subj', '/CN=weak CA', '-days', '3650', ...CA_EXTENSIONS], dir);
  await openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'leaf-key.pem', '-out', 'leaf.csr', '-subj', '/CN=leaf'], dir);
  writeFileSync(path.join(dir, 'leaf.json'), '{"CN":"leaf","hosts":["127.0.0.1"]}');
});

describe('an RSA-1024 CA made by openssl does not sign', () => {
  test('gencert -ca: BAD_KEY_SPEC naming the key file, no output', async (t) => {
    if (!requireBinary(t, 'openssl') || !available) return;
    const r = await etcdTls(['gencert', '-ca', 'weak-ca.pem', '-ca-key', 'weak-ca-key.pem', 'leaf.json'], { cwd: dir });
    assert.equal(r.code, 1);
    assert.match(r.stderr, WEAK);
    assert.equal(r.stdout, '');
  });

  test('sign: BAD_KEY_SPEC naming the key file, no output', async (t) => {
    if (!requireBinary(t, 'openssl') || !available) return;
    const r = await etcdTls(['sign', '-ca', 'weak-ca.pem', '-ca-key', 'weak-ca-key.pem', 'leaf.csr'], { cwd: dir });
    assert.equal(r.code, 1);
    assert.match(r.stderr, WEAK);
    assert.equal(r.stdout, '');
  });

  test('gen into a DIR that holds it: BAD_KEY_SPEC, DIR left as it was', async (t) => {
    if (!requireBinary(t, 'openssl') || !available) return;
    const pki = path.join(dir, 'pki');
    mkdirSync(pki, { mode: 0o700 });
    copyFileSync(path.join(dir, 'weak-ca.pem'), path.join(pki, 'ca.pem'));
    copyFileSync(path.join(dir, 'weak-ca-key.pem'), path.join(pki, 'ca-key.pem'));
    chmodSync(path.join(pki, 'ca-key.pem'), 0o600);
    writeFileSync(path.join(dir, 'spec.yaml'), 'cluster: weak\nca: {cn: weak CA}\nmembers:\n  - name: m1\n    ips: [127.0.0.1]\n');
    const r = await etcdTls(['gen', 'spec.yaml', '--out', 'pki'], { cwd: dir });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^etcd-tls: BAD_KEY_SPEC: \S*pki\/ca-key\.pem: CA key rsa-1024: RSA key size 1024 is too weak/);
    assert.deepEqual(readdirSync(pki).sort(), ['ca-key.pem', 'ca.pem']);
  });

  test("the one exception: rotate-ca's trust probe may load the weak CA it is replacing, to prove members dropped it", async (t) => {
    if (!requireBinary(t, 'openssl') || !available) return;
    const cert = readFileSync(path.join(dir, 'weak-ca.pem'), 'utf8');
    const key = readFileSync(path.join(dir, 'weak-ca-key.pem'), 'utf8');
    await assert.rejects(loadCaIssuer(cert, 'weak-ca.pem', key, 'weak-ca-key.pem'), (e: Error & { code?: string }) => e.code === 'BAD_KEY_SPEC');
    const issuer = await loadCaIssuer(cert, 'weak-ca.pem', key, 'weak-ca-key.pem', undefined, { allowWeakKey: true });
    assert.deepEqual(issuer.cert.publicKey, { algo: 'rsa', size: 1024 });
  });

  test('a P-256 CA made by openssl the same way signs (the refusal is the key size, not openssl)', async (t) => {
    if (!requireBinary(t, 'openssl') || !available) return;
    await openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ok-ca-key.pem', '-out', 'ok-ca.pem', '-subj', '/CN=ok CA', '-days', '3650', ...CA_EXTENSIONS], dir);
    const r = await etcdTls(['sign', '-ca', 'ok-ca.pem', '-ca-key', 'ok-ca-key.pem', 'leaf.csr'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.match(JSON.parse(r.stdout).cert, /^-----BEGIN CERTIFICATE-----/);
  });

  test('a CA key on a curve etcd cannot use (secp256k1) is refused when the key is read, naming the file', async (t) => {
    if (!requireBinary(t, 'openssl') || !available) return;
    await openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:secp256k1', '-nodes', '-keyout', 'k1-ca-key.pem', '-out', 'k1-ca.pem', '-subj', '/CN=k1 CA', '-days', '3650', ...CA_EXTENSIONS], dir);
    const r = await etcdTls(['sign', '-ca', 'k1-ca.pem', '-ca-key', 'k1-ca-key.pem', 'leaf.csr'], { cwd: dir });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^etcd-tls: BAD_KEY: k1-ca-key\.pem: unsupported EC curve secp256k1/);
    assert.equal(r.stdout, '');
  });
});
