// `etcd-tls up` / `etcd-tls down` through the CLI, as a user runs them, against real etcd 3.4: the member
// table, health over mTLS, a second `up` that touches nothing, a `down` that stops exactly the PIDs `up`
// recorded and keeps the data, and a clear refusal when etcd is not installed. Addresses: 127.0.0.54-56.
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT, etcdTls, requireBinary } from '../helpers/components.js';
import { etcdctl, waitHealthy, etcdProcessesUnder } from '../helpers/etcd.js';
import { makeTempDir } from '../helpers/tmp.js';

const SPEC = path.join(REPO_ROOT, 'test', 'fixtures', 'cluster', 'up.yaml');
const MEMBERS = ['member1', 'member2', 'member3'] as const;
const IPS = ['127.0.0.54', '127.0.0.55', '127.0.0.56'] as const;

/** True while `pid` runs; a zombie (exited, its reparented parent not yet reaping) no longer does. */
function isAlive(pid: number): boolean {
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Every file under `dir` with its SHA-256 and mode, or null when `dir` does not exist. */
function snapshot(dir: string): Record<string, string> | null {
  if (!existsSync(dir)) return null;
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = `${createHash('sha256').update(readFileSync(p)).digest('hex')} ${statSync(p).mode.toString(8)}`;
    }
  };
  walk(dir);
  return out;
}

interface Row {
  member: string;
  pid: number;
  clientUrl: string;
  peerUrl: string;
  state: string;
}
/** The member table `up` prints: a header, then one row per member, columns separated by 2+ spaces. */
function parseTable(stdout: string): Row[] {
  const [header, ...rows] = stdout.trimEnd().split('\n');
  assert.deepEqual(header?.split(/\s{2,}/), ['MEMBER', 'PID', 'CLIENT URL', 'PEER URL', 'STATE']);
  return rows.map((r) => {
    const [member, pid, clientUrl, peerUrl, state] = r.split(/\s{2,}/) as [string, string, string, string, string];
    return { member, pid: Number(pid), clientUrl, peerUrl, state };
  });
}

const pidFile = (out: string, m: string): string => path.join(out, 'nodes', m, 'etcd.pid');
const readPid = (out: string, m: string): number => Number(readFileSync(pidFile(out, m), 'utf8').trim());
const admin = (out: string) => ({
  cacert: path.join(out, 'clients', 'admin', 'ca.pem'),
  cert: path.join(out, 'clients', 'admin', 'client.pem'),
  key: path.join(out, 'clients', 'admin', 'client-key.pem'),
});
const endpoints = IPS.map((ip) => `https://${ip}:2379`);
const needsEtcd = (t: TestContext): boolean => requireBinary(t, 'etcd') && requireBinary(t, 'etcdctl');

describe('etcd-tls up / down', () => {
  let out = '';
  let firstPids: number[] = [];

  before(async () => {
    out = path.join(await makeTempDir('file', 'cluster-up-'), 'pki');
  });
  // If a test fails half-way, the members `up` started (detached, so not our children) still go.
  after(() => {
    for (const pid of etcdProcessesUnder(out)) process.kill(pid, 'SIGKILL');
  });

  test('up starts every member, prints the member table and exits 0; the members are healthy over mTLS', async (t) => {
    if (!needsEtcd(t)) return;
    const r = await etcdTls(['up', SPEC, '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const rows = parseTable(r.stdout);
    assert.deepEqual(
      rows.map(({ member, clientUrl, peerUrl, state }) => ({ member, clientUrl, peerUrl, state })),
      MEMBERS.map((member, i) => ({ member, clientUrl: `https://${IPS[i]}:2379`, peerUrl: `https://${IPS[i]}:2380`, state: 'healthy' })),
    );
    firstPids = rows.map((row) => row.pid);
    assert.deepEqual(MEMBERS.map((m) => readPid(out, m)), firstPids, 'the table and the pid files disagree');
    assert.deepEqual(etcdProcessesUnder(out), [...firstPids].sort((a, b) => a - b));

    const a = admin(out);
    for (const url of endpoints) await waitHealthy(url, { ca: a.cacert, cert: a.cert, key: a.key }, 5_000, []);
    const put = await etcdctl(['put', '/cluster-up/kept', 'survives down'], { endpoints: endpoints[0] as string, ...a });
    assert.equal(put.code, 0, put.stderr);
  });

  test('a second up leaves the running members alone', async (t) => {
    if (!needsEtcd(t)) return;
    const pidFiles = MEMBERS.map((m) => readFileSync(pidFile(out, m), 'utf8'));
    const r = await etcdTls(['up', SPEC, '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const rows = parseTable(r.stdout);
    assert.deepEqual(rows.map((row) => row.pid), firstPids);
    assert.deepEqual(rows.map((row) => row.state), ['healthy (was running)', 'healthy (was running)', 'healthy (was running)']);
    assert.deepEqual(MEMBERS.map((m) => readFileSync(pidFile(out, m), 'utf8')), pidFiles);
    assert.deepEqual(etcdProcessesUnder(out), [...firstPids].sort((a, b) => a - b));
  });

  test('down stops exactly the recorded PIDs, cleanly, and keeps the data', async (t) => {
    if (!needsEtcd(t)) return;
    const r = await etcdTls(['down', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, MEMBERS.map((m, i) => `stopped ${m} (pid ${firstPids[i]})\n`).join(''));
    assert.deepEqual(etcdProcessesUnder(out), []);
    for (const [i, m] of MEMBERS.entries()) {
      assert.equal(isAlive(firstPids[i] as number), false, `${m} (pid ${firstPids[i]}) still runs`);
      assert.equal(existsSync(pidFile(out, m)), false, `${m}: pid file left behind`);
      assert.ok(existsSync(path.join(out, 'nodes', m, 'data', 'member', 'wal')), `${m}: data dir gone`);
      // Stopped together, a leader waits for a leadership transfer to a member that is going away too.
      assert.doesNotMatch(readFileSync(path.join(out, 'nodes', m, 'etcd.log'), 'utf8'), /leader transfer took too long/);
    }
  });

  test('down never signals a process that is not the member, even when a stale pid file names it', async (t) => {
    if (!needsEtcd(t)) return;
    const bystander = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      writeFileSync(pidFile(out, 'member1'), `${bystander.pid}\n`);
      const r = await etcdTls(['down', '--out', out]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^member1: not running$/m);
      assert.equal(bystander.exitCode, null);
      assert.equal(bystander.signalCode, null);
      assert.ok(isAlive(bystander.pid as number), 'down killed a process that is not etcd');
    } finally {
      bystander.kill('SIGKILL');
    }
  });

  test('up without etcd on PATH exits 1 with ETCD_NOT_FOUND and an install hint, and changes nothing', async (t) => {
    const emptyBin = await makeTempDir(t, 'cluster-up-nopath-');
    const before = snapshot(out);
    const r = await etcdTls(['up', SPEC, '--out', out], { env: { PATH: emptyBin } });
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^etcd-tls: ETCD_NOT_FOUND: [^\n]*apt-get install etcd-server[^\n]*\n$/);
    assert.deepEqual(snapshot(out), before);
    assert.deepEqual(etcdProcessesUnder(out), []);
  });

  test('up after down resumes the same cluster from the kept data', async (t) => {
    if (!needsEtcd(t)) return;
    const r = await etcdTls(['up', SPEC, '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(parseTable(r.stdout).every((row) => row.state === 'healthy' && !firstPids.includes(row.pid)));
    const get = await etcdctl(['get', '/cluster-up/kept', '--print-value-only'], { endpoints: endpoints[2] as string, ...admin(out) });
    assert.equal(get.code, 0, get.stderr);
    assert.equal(get.stdout.trim(), 'survives down');

    const down = await etcdTls(['down', '--out', out]);
    assert.equal(down.code, 0, down.stderr);
    assert.deepEqual(etcdProcessesUnder(out), []);
  });
});
