// Issue #4 part 4: `etcd-tls migrate` on a live plaintext cluster of three (`etcd-tls up --insecure`),
// with a writer putting a key every 100 ms through the whole migration, following the endpoints old
// clients can use in each phase (the plaintext ports), then https for phase 3. The tests of the
// describe block run in order on one cluster: dry run, runbook, interruption, resume, result,
// --drop-plaintext, down/up. Addresses: 127.0.0.81-83 (cluster), 127.0.0.84-88 (refusals), nothing else.
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { countReadable, httpsTargets, plaintextTargets, startWriter, type Writer } from '../../bench/migrate.js';
import { readSpecFile } from '../../src/cluster/generate.js';
import { layoutCluster, type ClusterLayout } from '../../src/cluster/layout.js';
import { membersInDir, pidFileOf, stopMembers } from '../../src/cluster/local.js';
import { readMigrationState } from '../../src/ops/migrate/state.js';
import { cleanEnv, etcdTls, findBinary, requireBinary, run, type RunResult } from '../helpers/components.js';
import { etcdctl } from '../helpers/etcd.js';
import { makeTempDir } from '../helpers/tmp.js';

const IPS = ['127.0.0.81', '127.0.0.82', '127.0.0.83'] as const;
const NAMES = ['member1', 'member2', 'member3'] as const;
const spec = (ips: readonly string[], cluster = 'migrate'): string =>
  [
    `cluster: ${cluster}`,
    `ca: { cn: ${cluster} CA }`,
    'members:',
    ...ips.map((ip, i) => `  - { name: member${i + 1}, ips: [${ip}] }`),
    'clients:',
    '  - { name: admin, cn: root }',
    '',
  ].join('\n');

const BINARIES = ['etcd', 'etcdctl', 'curl'] as const;
const haveAll = BINARIES.every((b) => findBinary(b) !== null);
const needsAll = (t: TestContext): boolean => BINARIES.every((b) => requireBinary(t, b));

interface ListedMember {
  id: string;
  name: string;
  peer: string;
  client: string;
}
/** `etcdctl member list` (an independent client): hex IDs as etcdctl prints them. */
async function memberList(endpoint: string, admin?: { cacert: string; cert: string; key: string }): Promise<ListedMember[]> {
  const r = await etcdctl(['member', 'list'], { endpoints: endpoint, ...(admin ?? {}) });
  assert.equal(r.code, 0, r.stderr);
  return r.stdout
    .trim()
    .split('\n')
    .map((l) => l.split(', '))
    .map(([id, , name, peer, client]) => ({ id: id as string, name: name as string, peer: peer as string, client: client as string }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

function curl(url: string, creds: { cacert?: string; cert?: string; key?: string } = {}): Promise<RunResult> {
  const args = ['-sS', '--max-time', '5'];
  if (creds.cacert) args.push('--cacert', creds.cacert);
  if (creds.cert) args.push('--cert', creds.cert, '--key', creds.key as string);
  return run('curl', [...args, url], { env: cleanEnv() });
}

describe('etcd-tls migrate, on a live plaintext cluster under writes', () => {
  let dir = '';
  let out = '';
  let specFile = '';
  let layout: ClusterLayout;
  let writer: Writer | undefined;
  let ids: Record<string, string> = {};
  const admin = () => ({ cacert: path.join(out, 'clients/admin/ca.pem'), cert: path.join(out, 'clients/admin/client.pem'), key: path.join(out, 'clients/admin/client-key.pem') });
  const migrate = (...args: string[]): Promise<RunResult> => etcdTls(['migrate', '--spec', specFile, '--out', out, ...args], { cwd: dir, timeoutMs: 120_000 });
  const pids = (): string[] => NAMES.map((n) => readFileSync(pidFileOf({ name: n, dir: path.join(out, 'nodes', n) }), 'utf8'));
  const httpsEndpoints = IPS.map((ip) => `https://${ip}:2379`).join(',');

  before(async () => {
    dir = await makeTempDir('file', 'migrate-');
    out = path.join(dir, 'pki');
    specFile = path.join(dir, 'cluster.yaml');
    writeFileSync(specFile, spec(IPS));
    if (!haveAll) return;
    const up = await etcdTls(['up', specFile, '--out', out, '--insecure'], { cwd: dir, timeoutMs: 60_000 });
    assert.equal(up.code, 0, up.stderr);
    layout = layoutCluster(readSpecFile(specFile), { dir: out, local: true });
    ids = Object.fromEntries((await memberList(`http://${IPS[0]}:2379`)).map((m) => [m.name, m.id]));
    writer = startWriter({ targets: plaintextTargets(layout), prefix: '/migrate/writer/' });
  });
  after(async () => {
    await writer?.stop();
    // Exactly the members `up` and `migrate` started, by the PIDs in their pid files.
    if (existsSync(path.join(out, 'nodes'))) await stopMembers(membersInDir(out));
  });

  test('--dry-run checks, prints every step with the live member IDs, and changes nothing', async (t) => {
    if (!needsAll(t)) return;
    const envBefore = NAMES.map((n) => readFileSync(path.join(out, 'nodes', n, 'etcd.env'), 'utf8'));
    const pidsBefore = pids();
    const r = await migrate('--dry-run');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Phase 1: TLS on every client port/);
    assert.match(r.stdout, /ok {4}health {10}every member healthy over http/);
    for (const [i, n] of NAMES.entries()) {
      assert.ok(r.stdout.includes(`${n}: member update ${ids[n]} --peer-urls=https://${IPS[i]}:2380`), `no member update line for ${n}:\n${r.stdout}`);
      assert.ok(r.stdout.includes(`ETCD_LISTEN_CLIENT_URLS="https://${IPS[i]}:2379,http://${IPS[i]}:2378"`));
    }
    assert.match(r.stdout, /Nothing was changed \(--dry-run\)/);

    const json = JSON.parse((await migrate('--dry-run', '--json')).stdout) as { ok: boolean; steps: { id: string; manual: boolean }[] };
    assert.equal(json.ok, true);
    assert.deepEqual(json.steps.map((s) => s.id), [
      ...NAMES.map((n) => `client-tls:${n}`),
      ...NAMES.flatMap((n) => [`peer-update:${n}`, `peer-restart:${n}`]),
    ]);
    assert.ok(json.steps.every((s) => !s.manual), 'members started by up are restarted by migrate itself');

    assert.equal(existsSync(path.join(out, 'migration.json')), false);
    assert.deepEqual(pids(), pidsBefore);
    assert.deepEqual(NAMES.map((n) => readFileSync(path.join(out, 'nodes', n, 'etcd.env'), 'utf8')), envBefore);
    const list = await memberList(`http://${IPS[1]}:2379`);
    assert.deepEqual(list.map((m) => m.peer), IPS.map((ip) => `http://${ip}:2380`));
  });

  test('--manual prints the runbook (env changes, etcdctl member update with hex IDs) and waits, restarting nothing', async (t) => {
    if (!needsAll(t)) return;
    const pidsBefore = pids();
    const book = await migrate('--dry-run', '--manual');
    assert.equal(book.code, 0, book.stderr);
    for (const [i, n] of NAMES.entries()) {
      const nodeDir = path.join(out, 'nodes', n);
      assert.ok(
        book.stdout.includes(
          `ETCDCTL_API=3 etcdctl --endpoints=https://${IPS[i]}:2379 --cacert=${nodeDir}/ca.pem --cert=${nodeDir}/server.pem --key=${nodeDir}/server-key.pem member update ${ids[n]} --peer-urls=https://${IPS[i]}:2380`,
        ),
        `no etcdctl member update command for ${n}:\n${book.stdout}`,
      );
      assert.ok(book.stdout.includes(`ETCD_LISTEN_PEER_URLS="https://${IPS[i]}:2380"`));
    }
    assert.match(book.stdout, new RegExp(`in ${path.join(out, 'nodes', 'member1', 'etcd.env').replace(/[.\\/]/g, '\\$&')} on member1's host, set`));

    const r = await migrate('--manual', '--wait', '2s');
    assert.equal(r.code, 1);
    assert.match(r.stdout, /\[1\/9\] member1: restart with TLS .*\(runbook below\)/);
    assert.ok(r.stdout.includes(`ETCD_CERT_FILE="${path.join(out, 'nodes', 'member1', 'server.pem')}"`));
    assert.match(r.stderr, /^etcd-tls: MIGRATION_FAILED: member1 .*carry out the runbook above for member1, then run migrate again\n$/);
    assert.deepEqual(pids(), pidsBefore);
    assert.deepEqual(readMigrationState(out)?.done, []);
  });

  test('an interrupted migration records exactly the steps it did (stopped between member update and restart)', async (t) => {
    if (!needsAll(t)) return;
    const r = await migrate('--stop-after', '4');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Stopped after 4 step\(s\) of this run \(4 of 9 done/);
    assert.deepEqual(readMigrationState(out)?.done.map((d) => d.id), [...NAMES.map((n) => `client-tls:${n}`), 'peer-update:member1']);
    // Client ports speak TLS now; member1 is listed with an https peer URL but still listens http.
    const list = await memberList(httpsEndpoints, admin());
    assert.deepEqual(list.map((m) => m.peer), [`https://${IPS[0]}:2380`, `http://${IPS[1]}:2380`, `http://${IPS[2]}:2380`]);
    assert.deepEqual(list.map((m) => m.client), IPS.map((ip) => `https://${ip}:2379`));
    assert.equal((await curl(`http://${IPS[0]}:2380/version`)).code, 0);
  });

  test('running it again resumes at the restart of member1 and completes', async (t) => {
    if (!needsAll(t)) return;
    const r = await migrate();
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /\[[1-4]\/9\]/);
    assert.match(r.stdout, /^\[5\/9\] member1: restart at once with an https peer listener/m);
    assert.match(r.stdout, /Done in .*: every member serves TLS/);
    const state = readMigrationState(out);
    assert.equal(state?.done.length, 9);
    assert.equal(new Set(state?.done.map((d) => d.id)).size, 9);
    assert.ok(state?.completedAt);
  });

  test('afterwards: https-only member list, mTLS enforced, zero failed writes, every acknowledged write readable', async (t) => {
    if (!needsAll(t)) return;
    const list = await memberList(httpsEndpoints, admin());
    assert.deepEqual(list.map((m) => m.name), [...NAMES]);
    assert.deepEqual(list.map((m) => m.id), NAMES.map((n) => ids[n]));
    assert.deepEqual(list.map((m) => m.peer), IPS.map((ip) => `https://${ip}:2380`));
    assert.deepEqual(list.map((m) => m.client), IPS.map((ip) => `https://${ip}:2379`));

    const { cacert } = admin();
    assert.equal((await curl(`https://${IPS[0]}:2379/health`, admin())).stdout, '{"health":"true"}');
    for (const url of [`https://${IPS[0]}:2379/health`, `https://${IPS[2]}:2380/version`]) {
      const noCert = await curl(url, { cacert });
      assert.notEqual(noCert.code, 0, `${url} answered a client without a certificate: ${noCert.stdout}`);
    }

    const w = writer?.result();
    assert.ok(w && w.acknowledged.size >= 50, `the writer acknowledged only ${w?.acknowledged.size} writes`);
    t.diagnostic(`writer: ${w.attempted} attempted, ${w.acknowledged.size} acknowledged, ${w.failovers} failovers, slowest ${w.maxLatencyMs} ms`);
    assert.deepEqual(w.failed, [], 'writes failed during the migration');
    // The writer keeps going for the next test: count what was acknowledged up to now, not a moving total.
    const acked = { ...w, acknowledged: new Map(w.acknowledged) };
    const readable = await countReadable(acked, httpsTargets(layout, 'admin')()[0]!, '/migrate/writer/');
    assert.equal(readable, acked.acknowledged.size);
  });

  test('--drop-plaintext closes the plaintext ports while clients with certificates keep writing', async (t) => {
    if (!needsAll(t)) return;
    assert.equal((await curl(`http://${IPS[1]}:2378/health`)).stdout, '{"health":"true"}');
    writer?.retarget(httpsTargets(layout, 'admin'));
    const r = await migrate('--drop-plaintext');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\[12\/12\] member3: restart without the plaintext client listener/m);
    for (const ip of IPS) assert.equal((await curl(`http://${ip}:2378/health`)).code, 7, `http://${ip}:2378 still answers`);
    assert.deepEqual(writer?.result().failed, []);
  });

  test('down then up restarts the migrated cluster over https, every write still there', async (t) => {
    if (!needsAll(t)) return;
    const w = await writer!.stop();
    writer = undefined;
    assert.deepEqual(w.failed, []);
    for (const n of NAMES) assert.doesNotMatch(readFileSync(path.join(out, 'nodes', n, 'etcd.env'), 'utf8'), /http:\/\//);
    const down = await etcdTls(['down', '--out', out]);
    assert.equal(down.code, 0, down.stderr);
    const up = await etcdTls(['up', specFile, '--out', out], { cwd: dir, timeoutMs: 60_000 });
    assert.equal(up.code, 0, up.stderr);
    const list = await memberList(httpsEndpoints, admin());
    assert.deepEqual(list.map((m) => m.id), NAMES.map((n) => ids[n]));
    assert.ok(list.every((m) => m.peer.startsWith('https://') && m.client.startsWith('https://')));
    assert.equal(await countReadable(w, httpsTargets(layout, 'admin')()[1]!, '/migrate/writer/'), w.acknowledged.size);
    const again = await migrate();
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^Nothing to (do|migrate)/);
  });
});

describe('etcd-tls migrate refuses, changing nothing', () => {
  test('a 2-member cluster (quorum would be lost), unless --force', async (t) => {
    const dir = await makeTempDir(t, 'migrate-two-');
    writeFileSync(path.join(dir, 'two.yaml'), spec(['127.0.0.87', '127.0.0.88'], 'two'));
    assert.equal((await etcdTls(['gen', 'two.yaml', '--out', 'pki', '--local'], { cwd: dir })).code, 0);
    const r = await etcdTls(['migrate', '--spec', 'two.yaml', '--out', 'pki'], { cwd: dir });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'etcd-tls: MIGRATION_REFUSED: 2 voting member(s): quorum would be lost while each one restarts; add members first (at least 3) or pass --force and accept failed writes\n');
    const dry = await etcdTls(['migrate', 'two.yaml', '--out', 'pki', '--dry-run'], { cwd: dir });
    assert.equal(dry.code, 1);
    assert.match(dry.stdout, /FAIL {2}members {9}2 voting member\(s\)/);
    // --force lifts only the member count: nothing runs here, so the live check refuses next.
    const forced = await etcdTls(['migrate', '--spec', 'two.yaml', '--out', 'pki', '--force'], { cwd: dir });
    assert.equal(forced.code, 1);
    assert.match(forced.stderr, /^etcd-tls: MIGRATION_REFUSED: member\d health: http:\/\/127\.0\.0\.8[78]:2379: connect ECONNREFUSED/);
    assert.equal(existsSync(path.join(dir, 'pki', 'migration.json')), false);
  });

  test('a directory without the certificates, naming the gen command to run', async (t) => {
    const dir = await makeTempDir(t, 'migrate-nocerts-');
    writeFileSync(path.join(dir, 'c.yaml'), spec(['127.0.0.84', '127.0.0.85', '127.0.0.86'], 'nocerts'));
    const r = await etcdTls(['migrate', '--spec', 'c.yaml', '--out', 'pki'], { cwd: dir });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^etcd-tls: MIGRATION_REFUSED: .*pki\/ca\.pem: no CA yet; run `etcd-tls gen c\.yaml --out pki --local` first\n$/);
    assert.equal(existsSync(path.join(dir, 'pki')), false);
  });
});
