/**
 * `check` reads keys with the DER walker, CRLs with parseCrl (each distinct CRL verified once per CA)
 * and answers existence from directory listings. What a user sees must not change: a key of another
 * certificate, a damaged or cut-short key, a forged copy of a CRL that was already found good, and a
 * file a config names that is missing are each still reported, on the file they concern.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { generateCluster } from '../../src/cluster/generate.js';
import { parseSpec } from '../../src/cluster/spec.js';
import { runCheck } from '../../src/doctor/check/check.js';
import type { Finding } from '../../src/doctor/findings.js';
import { parsePemBlocks, toPem } from '../../src/pki/pem.js';
import { makeTempDir } from '../helpers/tmp.js';

const SPEC = ['cluster: fast', 'members:', '  - { name: m1, ips: [10.0.0.1] }', '  - { name: m2, ips: [10.0.0.2] }', '  - { name: m3, ips: [10.0.0.3] }', 'clients:', '  - { name: admin, cn: root }', ''].join('\n');

let pristine: string;
let root: string;

before(async () => {
  root = await makeTempDir('file', 'check-fast-');
  pristine = path.join(root, 'pristine');
  await generateCluster(parseSpec(SPEC, path.join(root, 'spec.yaml')), { out: pristine });
});

let copies = 0;
/** A fresh copy of the generated directory, changed by `change`, and what check finds in it (errors and warnings). */
async function checkAfter(change: (dir: string) => void): Promise<{ dir: string; problems: Finding[] }> {
  const dir = path.join(root, `copy-${++copies}`);
  cpSync(pristine, dir, { recursive: true });
  change(dir);
  const report = await runCheck({ dir });
  return { dir, problems: report.findings.filter((f) => f.severity !== 'info') };
}
const rel = (dir: string, f: Finding): string => `${f.code} ${path.relative(dir, path.resolve(f.subject.split(': ')[0] as string))}`;

describe('check: what the fast paths must still find', () => {
  test('the generated directory is clean', async () => {
    const { problems } = await checkAfter(() => {});
    assert.deepEqual(problems, []);
  });

  test('a key of another member is a key-mismatch on that key file', async () => {
    const { dir, problems } = await checkAfter((d) => copyFileSync(path.join(d, 'nodes/m2/server-key.pem'), path.join(d, 'nodes/m1/server-key.pem')));
    assert.deepEqual(problems.map((f) => rel(dir, f)), ['key-mismatch nodes/m1/server-key.pem']);
  });

  test('a key storing a public point its scalar does not make is key-invalid (damaged)', async () => {
    const { dir, problems } = await checkAfter((d) => {
      const file = path.join(d, 'nodes/m1/peer-key.pem');
      const [block] = parsePemBlocks(readFileSync(file, 'utf8'));
      const der = Buffer.from((block as { der: Buffer }).der);
      // Put m2's peer public point where m1's is stored: OpenSSL would take it as is.
      const otherCert = parsePemBlocks(readFileSync(path.join(d, 'nodes/m2/peer.pem'), 'utf8'))[0] as { der: Buffer };
      const mine = der.subarray(der.length - 65);
      const theirs = otherCert.der.subarray(otherCert.der.indexOf(Buffer.from([0x03, 0x42, 0x00, 0x04])) + 3).subarray(0, 65);
      assert.equal(mine[0], 0x04);
      theirs.copy(der, der.length - 65);
      writeFileSync(file, toPem('EC PRIVATE KEY', der), { mode: 0o600 });
    });
    assert.deepEqual(problems.map((f) => rel(dir, f)), ['key-invalid nodes/m1/peer-key.pem']);
    assert.match(problems[0]?.message ?? '', /damaged: the public key stored in it is not the one its private scalar makes/);
  });

  test('a key cut short is key-invalid with OpenSSL\'s reason', async () => {
    const { dir, problems } = await checkAfter((d) => {
      const file = path.join(d, 'clients/admin/client-key.pem');
      const [block] = parsePemBlocks(readFileSync(file, 'utf8'));
      writeFileSync(file, toPem('EC PRIVATE KEY', (block as { der: Buffer }).der.subarray(0, 50)), { mode: 0o600 });
    });
    assert.deepEqual(problems.map((f) => rel(dir, f)), ['key-invalid clients/admin/client-key.pem']);
    assert.match(problems[0]?.message ?? '', /cannot be parsed/);
  });

  test('a forged copy of the CRL (same contents, another signature) is caught after the genuine copies were verified', async () => {
    const { problems } = await checkAfter((d) => {
      // m1 and m2 keep the genuine CRL (verified and remembered); m3 gets a copy with one signature byte changed.
      const file = path.join(d, 'nodes/m3/crl.der');
      const der = readFileSync(file);
      der[der.length - 5] = (der[der.length - 5] as number) ^ 0x01;
      writeFileSync(file, der);
    });
    // Both CRL settings of m3 name the forged file; nothing else is reported.
    assert.deepEqual(
      problems.map((f) => `${f.code} ${f.subject.replace(/^.*nodes\//, 'nodes/')}`).sort(),
      ['crl-not-signed-by-ca nodes/m3/etcd.env: ETCD_CLIENT_CRL_FILE', 'crl-not-signed-by-ca nodes/m3/etcd.env: ETCD_PEER_CRL_FILE'],
    );
  });

  test('a file a config names that is missing is still file-missing', async () => {
    const { problems } = await checkAfter((d) => rmSync(path.join(d, 'nodes/m2/crl.der')));
    // The local copy is gone, so the install path as written is looked for (and is not there either).
    assert.deepEqual(
      problems.map((f) => `${f.code} ${f.subject.replace(/^.*nodes\//, 'nodes/')}`).sort(),
      ['file-missing nodes/m2/etcd.env: ETCD_CLIENT_CRL_FILE', 'file-missing nodes/m2/etcd.env: ETCD_PEER_CRL_FILE'],
    );
  });
});
