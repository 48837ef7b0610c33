/**
 * `check` of a large directory in runs (a session per 32 folders) reports exactly what one session
 * over everything reports: the same findings in the same order and the same files checked, with
 * faults planted in every run, and when one run's config names a file in another run (then the
 * folders are checked again in one session). The CLI prints that report too.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, cpSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { generateCluster } from '../../src/cluster/generate.js';
import { parseSpec } from '../../src/cluster/spec.js';
import { runCheck, type CheckReport } from '../../src/doctor/check/check.js';
import { CheckSession, unitDirs } from '../../src/doctor/check/session.js';
import { dedupeFindings } from '../../src/doctor/findings.js';
import { etcdTls } from '../helpers/components.js';
import { makeTempDir } from '../helpers/tmp.js';

const MEMBERS = 100;
const NOW = new Date();

function specYaml(): string {
  const lines = ['cluster: parallel', 'members:'];
  for (let i = 1; i <= MEMBERS; i++) lines.push(`  - { name: member${i}, ips: [10.0.0.${i}] }`);
  lines.push('clients:', '  - { name: admin, cn: root }', '  - { name: backup, cn: backup }');
  return `${lines.join('\n')}\n`;
}

let root: string;
/** Faults in the first, middle and last folders, each run checkable on its own. */
let faulty: string;
/** faulty, and member1's etcd.env naming member90's certificate: this thread's session reaches into a run. */
let crossed: string;
/** faulty, and member40's etcd.env naming member77's peer certificate: two later runs meet. */
let crossedLater: string;

const node = (dir: string, member: number, file: string): string => path.join(dir, 'nodes', `member${member}`, file);

before(async () => {
  root = await makeTempDir('file', 'check-runs-');
  faulty = path.join(root, 'faulty');
  await generateCluster(parseSpec(specYaml(), path.join(root, 'spec.yaml')), { out: faulty });
  // A key of another member (both ends of the split), a missing peer certificate, a damaged
  // certificate, a key readable by others, an advertised address the certificate does not name.
  const swap = path.join(root, 'swap.pem');
  renameSync(node(faulty, 3, 'server-key.pem'), swap);
  renameSync(node(faulty, 95, 'server-key.pem'), node(faulty, 3, 'server-key.pem'));
  renameSync(swap, node(faulty, 95, 'server-key.pem'));
  rmSync(node(faulty, 27, 'peer.pem'));
  writeFileSync(node(faulty, 29, 'server.pem'), '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
  chmodSync(node(faulty, 2, 'peer-key.pem'), 0o644);
  const env26 = node(faulty, 26, 'etcd.env');
  writeFileSync(env26, readFileSync(env26, 'utf8').replace(/^ETCD_ADVERTISE_CLIENT_URLS=.*$/m, 'ETCD_ADVERTISE_CLIENT_URLS=https://10.9.9.9:2379'));

  crossed = path.join(root, 'crossed');
  cpSync(faulty, crossed, { recursive: true });
  rmSync(node(crossed, 1, 'server.pem'));
  const env1 = node(crossed, 1, 'etcd.env');
  writeFileSync(env1, readFileSync(env1, 'utf8').replace(/^ETCD_CERT_FILE=.*$/m, `ETCD_CERT_FILE=${node(crossed, 90, 'server.pem')}`));

  // Between two later folders, in different runs.
  crossedLater = path.join(root, 'crossed-later');
  cpSync(faulty, crossedLater, { recursive: true });
  rmSync(node(crossedLater, 40, 'peer.pem'));
  const env40 = node(crossedLater, 40, 'etcd.env');
  writeFileSync(env40, readFileSync(env40, 'utf8').replace(/^ETCD_PEER_CERT_FILE=.*$/m, `ETCD_PEER_CERT_FILE=${node(crossedLater, 77, 'peer.pem')}`));
});

/** The reference: one session over every folder, as check ran before it had runs. */
function oneSession(dir: string): CheckReport {
  const session = new CheckSession(NOW, 30);
  session.primaryCa = session.addBundle(path.join(dir, 'ca.pem'));
  for (const unit of unitDirs(dir)) session.scanUnit(unit.dir, unit.entries, unit.dir === dir);
  const all = session.finish();
  return { findings: dedupeFindings([...all.ca, ...all.leaves, ...all.configs]), checked: all.checked };
}

const codes = (r: CheckReport): string[] => r.findings.filter((f) => f.severity !== 'info').map((f) => `${f.code} ${path.relative(root, path.resolve(f.subject))}`);

describe('check in runs of folders', () => {
  test('reports what one session reports, with findings in every run', async () => {
    const one = oneSession(faulty);
    // The planted faults are there to be found (else equal reports would prove little).
    const found = codes(one);
    for (const expected of [
      'key-mismatch faulty/nodes/member3/server-key.pem',
      'key-mismatch faulty/nodes/member95/server-key.pem',
      'file-missing faulty/nodes/member27/etcd.env: ETCD_PEER_CERT_FILE',
      'cert-invalid faulty/nodes/member29/server.pem',
      'key-file-permissions faulty/nodes/member2/peer-key.pem',
      'server-san-missing-host faulty/nodes/member26/server.pem',
    ])
      assert.ok(found.some((f) => f.startsWith(expected)), `${expected} in ${found.join('\n')}`);
    assert.deepEqual(await runCheck({ dir: faulty, now: NOW }), one);
  });

  test('a config naming a file in another run: the same report, from one session', async () => {
    for (const [name, dir] of Object.entries({ crossed, crossedLater })) {
      const one = oneSession(dir);
      assert.ok(codes(one).some((f) => f.startsWith(`file-missing ${path.basename(dir)}/nodes/member${name === 'crossed' ? 1 : 40}/etcd.yaml`)), codes(one).join('\n'));
      assert.deepEqual(await runCheck({ dir, now: NOW }), one, name);
    }
  });

  test('the CLI prints that report', async () => {
    const r = await etcdTls(['check', faulty, '--json', '--now', NOW.toISOString()]);
    assert.equal(r.code, 1, r.stderr);
    const printed = JSON.parse(r.stdout) as CheckReport;
    const one = oneSession(faulty);
    assert.deepEqual(printed.findings, JSON.parse(JSON.stringify(one.findings)));
    assert.deepEqual(printed.checked, one.checked);
  });
});
