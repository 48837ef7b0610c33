// Two `etcd-tls gen` (or migrate) runs in one directory never mix their work: the directory is locked
// from reading its state to the last write, a lock left by a run that is gone is taken over, and a new
// directory lands whole or not at all. Real processes, real files.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { LOCK_FILE } from '../../src/store/lock.js';
import { CLI_PATH, REPO_ROOT, etcdTls, type RunResult } from '../helpers/components.js';
import { makeTempDir, waitForFile } from '../helpers/tmp.js';

const DEMO = readFileSync(path.join(REPO_ROOT, 'test/fixtures/specs/demo.yaml'), 'utf8');
// Every member gets one more SAN: a gen with this spec reissues every server and peer certificate.
const WIDER = DEMO.replace(/ips: \[(127\.0\.0\.1\d)\]/g, (_, ip: string) => `ips: [${ip}], sans: [m${ip.slice(-1)}.example]`);

/** Path → sha256 of every file under `dir`: what a user would diff. */
function snapshot(dir: string): Map<string, string> {
  const files = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
  return new Map(files.map((e) => [path.relative(dir, path.join(e.parentPath, e.name)), createHash('sha256').update(readFileSync(path.join(e.parentPath, e.name))).digest('hex')]));
}

/** A process that runs until killed (by its PID, in `after`), to hold a lock "alive". */
function sleeper(t: { after: (fn: () => void) => void }): number {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  t.after(() => child.kill());
  return child.pid as number;
}

/** The PID of a process that has already exited. */
async function deadPid(): Promise<number> {
  const child = spawn('true', { stdio: 'ignore' });
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid as number;
}

/** Write pki's lock as a gen with this PID would have, started 2026-01-01; returns the PID. */
function lockAsGen(dir: string, pid: number): number {
  writeFileSync(path.join(dir, 'pki', LOCK_FILE), `${pid} 2026-01-01T00:00:00.000Z etcd-tls gen\n`);
  return pid;
}

async function setUp(t: Parameters<typeof makeTempDir>[0]): Promise<string> {
  const dir = await makeTempDir(t, 'gen-lock-');
  writeFileSync(path.join(dir, 'demo.yaml'), DEMO);
  writeFileSync(path.join(dir, 'wider.yaml'), WIDER);
  return dir;
}

const gen = (dir: string, spec: string): Promise<RunResult> => etcdTls(['gen', spec, '--out', 'pki'], { cwd: dir });

/** A run either finished or refused in one line with one of the codes a race may give. */
function assertFinishedOrRefused(r: RunResult, codes: string[]): void {
  if (r.code === 0) return;
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`^etcd-tls: (${codes.join('|')}): [^\\n]+\\n$`));
}

/** The tree is whole: a further gen of the same spec keeps every certificate and rewrites nothing. */
async function assertSettled(dir: string, spec: string): Promise<void> {
  const again = await gen(dir, spec);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /0 certificate\(s\) issued, 8 kept; 0 file\(s\) written/);
  assert.equal(existsSync(path.join(dir, 'pki', LOCK_FILE)), false, 'no lock left behind');
}

describe('gen: one writer per directory', () => {
  test('a directory another running gen holds is refused with DIRECTORY_LOCKED, and nothing changes', async (t) => {
    const dir = await setUp(t);
    assert.equal((await gen(dir, 'demo.yaml')).code, 0);
    const pid = lockAsGen(dir, sleeper(t));
    const before = snapshot(path.join(dir, 'pki'));
    const r = await gen(dir, 'wider.yaml');
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      `etcd-tls: DIRECTORY_LOCKED: pki: etcd-tls gen (pid ${pid}) has been writing here since 2026-01-01T00:00:00.000Z; wait for it to finish, then run again (if pid ${pid} is not etcd-tls, remove pki/${LOCK_FILE})\n`,
    );
    assert.deepEqual(snapshot(path.join(dir, 'pki')), before);
  });

  test('migrate into a directory a running gen holds is refused before it touches the cluster', async (t) => {
    const dir = await setUp(t);
    assert.equal((await gen(dir, 'demo.yaml')).code, 0);
    const pid = lockAsGen(dir, sleeper(t));
    const before = snapshot(path.join(dir, 'pki'));
    const r = await etcdTls(['migrate', '--spec', 'demo.yaml', '--out', 'pki'], { cwd: dir });
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`^etcd-tls: DIRECTORY_LOCKED: pki: etcd-tls gen \\(pid ${pid}\\) has been writing here since `));
    assert.deepEqual(snapshot(path.join(dir, 'pki')), before);
  });

  test('a lock left by a run that is gone is taken over, and removed at the end', async (t) => {
    const dir = await setUp(t);
    assert.equal((await gen(dir, 'demo.yaml')).code, 0);
    lockAsGen(dir, await deadPid());
    const r = await gen(dir, 'wider.yaml');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /6 certificate\(s\) issued, 2 kept/);
    assert.equal(existsSync(path.join(dir, 'pki', LOCK_FILE)), false);
  });

  test('concurrent gens into an existing directory: each finishes or is refused, and the result is one whole tree', async (t) => {
    const dir = await setUp(t);
    assert.equal((await gen(dir, 'demo.yaml')).code, 0);
    const runs = await Promise.all(Array.from({ length: 4 }, () => gen(dir, 'wider.yaml')));
    for (const r of runs) assertFinishedOrRefused(r, ['DIRECTORY_LOCKED']);
    assert.ok(runs.some((r) => r.code === 0), 'at least one run wrote');
    await assertSettled(dir, 'wider.yaml');
  });

  test('concurrent gens into a new directory: one lands, the others keep it or are refused', async (t) => {
    const dir = await setUp(t);
    const runs = await Promise.all(Array.from({ length: 4 }, () => gen(dir, 'demo.yaml')));
    for (const r of runs) assertFinishedOrRefused(r, ['DIRECTORY_LOCKED', 'WRITE_FAILED']);
    for (const r of runs.filter((x) => x.code === 1 && x.stderr.includes('WRITE_FAILED')))
      assert.match(r.stderr, /pki: was created by something else while this run wrote it/);
    assert.deepEqual(readdirSync(dir).sort(), ['demo.yaml', 'pki', 'wider.yaml'], 'no staging directory left');
    await assertSettled(dir, 'demo.yaml');
  });

  test('Ctrl-C or SIGTERM during gen ends it at once and leaves the directory as it was: no temp file, journal or lock', async (t) => {
    const dir = await setUp(t);
    assert.equal((await gen(dir, 'demo.yaml')).code, 0);
    const before = snapshot(path.join(dir, 'pki'));
    // RSA-4096 keys for all 7 leaves take seconds, so the signal lands while gen works, before it writes.
    writeFileSync(path.join(dir, 'rsa.yaml'), `${DEMO}defaults: {key: {algo: rsa, size: 4096}}\n`);
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      const child = spawn(process.execPath, [CLI_PATH, 'gen', 'rsa.yaml', '--out', 'pki'], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
      t.after(() => child.kill('SIGKILL'));
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
      // Readiness: gen takes the directory's lock after installing its signal handlers.
      await waitForFile(path.join(dir, 'pki', LOCK_FILE), child);
      child.kill(signal);
      const [exit, bySignal] = await exited;
      // Ended by the signal itself (a shell shows 128 + its number), not after the queued RSA keys.
      assert.equal(bySignal, signal, `exit ${exit}: ${stderr}`);
      assert.match(stderr, new RegExp(`etcd-tls: stopped by ${signal}; what was written landed whole, the rest not at all\\n$`));
      assert.deepEqual(snapshot(path.join(dir, 'pki')), before, 'nothing changed');
      assert.deepEqual(readdirSync(path.join(dir, 'pki'), { recursive: true }).filter((n) => String(n).includes('.etcd-tls')), [], 'no lock, temp file or journal left');
    }
  });
});
