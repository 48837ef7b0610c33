/**
 * `check` of a large directory on several threads reports exactly what one thread reports: the same
 * findings in the same order and the same files checked, with faults planted in every part, and when
 * one part's config names a file in another part (then the parts are checked here, not in workers).
 * The library's workers run dist/src; the CLI's run its bundle, compared through `--json`.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, cpSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { generateCluster } from '../../src/cluster/generate.js';
import { parseSpec } from '../../src/cluster/spec.js';
import { runCheck, workerPartsUsedCount, type CheckReport } from '../../src/doctor/check/check.js';
import { etcdTls } from '../helpers/components.js';
import { makeTempDir } from '../helpers/tmp.js';

const MEMBERS = 30;

function specYaml(): string {
  const lines = ['cluster: parallel', 'members:'];
  for (let i = 1; i <= MEMBERS; i++) lines.push(`  - { name: member${i}, ips: [10.0.0.${i}] }`);
  lines.push('clients:', '  - { name: admin, cn: root }', '  - { name: backup, cn: backup }');
  return `${lines.join('\n')}\n`;
}

let root: string;
/** Faults in the first, middle and last directories, each part checkable on its own. */
let faulty: string;
/** faulty, and member1's etcd.env naming member30's certificate: parts that are not independent. */
let crossed: string;

const node = (dir: string, member: number, file: string): string => path.join(dir, 'nodes', `member${member}`, file);

before(async () => {
  root = await makeTempDir('file', 'check-parallel-');
  faulty = path.join(root, 'faulty');
  await generateCluster(parseSpec(specYaml(), path.join(root, 'spec.yaml')), { out: faulty });
  // A key of another member (both ends of the split), a missing peer certificate, a damaged
  // certificate, a key readable by others, an advertised address the certificate does not name.
  const swap = path.join(root, 'swap.pem');
  renameSync(node(faulty, 3, 'server-key.pem'), swap);
  renameSync(node(faulty, 25, 'server-key.pem'), node(faulty, 3, 'server-key.pem'));
  renameSync(swap, node(faulty, 25, 'server-key.pem'));
  rmSync(node(faulty, 27, 'peer.pem'));
  writeFileSync(node(faulty, 29, 'server.pem'), '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
  chmodSync(node(faulty, 2, 'peer-key.pem'), 0o644);
  const env26 = node(faulty, 26, 'etcd.env');
  writeFileSync(env26, readFileSync(env26, 'utf8').replace(/^ETCD_ADVERTISE_CLIENT_URLS=.*$/m, 'ETCD_ADVERTISE_CLIENT_URLS=https://10.9.9.9:2379'));

  crossed = path.join(root, 'crossed');
  cpSync(faulty, crossed, { recursive: true });
  rmSync(node(crossed, 1, 'server.pem'));
  const env1 = node(crossed, 1, 'etcd.env');
  writeFileSync(env1, readFileSync(env1, 'utf8').replace(/^ETCD_CERT_FILE=.*$/m, `ETCD_CERT_FILE=${node(crossed, 30, 'server.pem')}`));
});

const codes = (r: CheckReport): string[] => r.findings.filter((f) => f.severity !== 'info').map((f) => `${f.code} ${path.relative(root, path.resolve(f.subject))}`);

describe('check on several threads', () => {
  test('reports what one thread reports, findings in every part', async () => {
    const one = await runCheck({ dir: faulty, threads: 1 });
    // The planted faults are there to be found (else equal reports would prove little).
    const found = codes(one);
    for (const expected of [
      'key-mismatch faulty/nodes/member3/server-key.pem',
      'key-mismatch faulty/nodes/member25/server-key.pem',
      'file-missing faulty/nodes/member27/etcd.env: ETCD_PEER_CERT_FILE',
      'cert-invalid faulty/nodes/member29/server.pem',
      'key-file-permissions faulty/nodes/member2/peer-key.pem',
      'server-san-missing-host faulty/nodes/member26/server.pem',
    ])
      assert.ok(found.some((f) => f.startsWith(expected)), `${expected} in ${found.join('\n')}`);
    for (const threads of [2, 3, 4]) {
      const used = workerPartsUsedCount();
      assert.deepEqual(await runCheck({ dir: faulty, threads }), one, `${threads} threads`);
      assert.equal(workerPartsUsedCount() - used, threads - 1, `${threads} threads: parts checked by workers`);
    }
  });

  test('a config naming a file in another part: the same report, checked without the workers', async () => {
    const one = await runCheck({ dir: crossed, threads: 1 });
    assert.ok(one.checked.certificates.some((c) => c.endsWith(path.join('member30', 'server.pem'))));
    const used = workerPartsUsedCount();
    assert.deepEqual(await runCheck({ dir: crossed, threads: 2 }), one);
    assert.equal(workerPartsUsedCount(), used, 'the workers results were not used');
  });

  test('the CLI (its bundle runs the workers) prints the same JSON on 1 and 3 threads', async () => {
    const one = await etcdTls(['check', faulty, '--threads', '1', '--json'], { cwd: root });
    const three = await etcdTls(['check', faulty, '--threads', '3', '--json'], { cwd: root });
    assert.equal(one.code, 1, one.stderr);
    assert.equal(three.stderr, '');
    assert.equal(three.code, 1);
    assert.equal(three.stdout, one.stdout);
    assert.ok(JSON.parse(one.stdout).findings.length > 5);
  });

  test('--threads takes a whole number from 1 to 64: anything else is one usage line', async () => {
    for (const bad of ['0', '-1', '2.5', 'two', '65']) {
      const r = await etcdTls(['check', faulty, `--threads=${bad}`]);
      assert.equal(r.code, 1, bad);
      assert.equal(r.stdout, '');
      assert.equal(r.stderr, `etcd-tls: USAGE: check: --threads: "${bad}" is not a whole number between 1 and 64\n`);
    }
  });
});
