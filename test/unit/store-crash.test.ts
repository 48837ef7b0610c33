// kill -9 at any point of gen: the store SIGKILLs itself at its N-th file operation (ETCD_TLS_FAULT_AT,
// test-only), then the same command runs again. It must finish, remove every leftover of its own and
// nothing else, and leave every certificate beside its own key, the whole batch applied and the CA key
// as it was. Real processes, real files; kill points are a seeded sample so a failure replays exactly.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPublicKey, X509Certificate } from 'node:crypto';
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { LOCK_FILE } from '../../src/store/lock.js';
import { REPO_ROOT, etcdTls, type RunResult } from '../helpers/components.js';
import { makeTempDir } from '../helpers/tmp.js';

const DEMO = readFileSync(path.join(REPO_ROOT, 'test/fixtures/specs/demo.yaml'), 'utf8');
// One more SAN per member: gen with this spec reissues every server and peer certificate (one batch).
const WIDER = DEMO.replace(/ips: \[(127\.0\.0\.1\d)\]/g, (_, ip: string) => `ips: [${ip}], sans: [m${ip.slice(-1)}.example]`);
const SEED = Number(process.env.CRASH_SEED ?? 20261206);

/** mulberry32: a tiny seeded PRNG, so the sampled kill points are the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` distinct points in 1..total, seeded (all of them when there are fewer). */
function samplePoints(total: number, count: number, seed: number): number[] {
  const all = Array.from({ length: total }, (_, i) => i + 1);
  const rnd = prng(seed);
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [all[i], all[j]] = [all[j] as number, all[i] as number];
  }
  return all.slice(0, count).sort((a, b) => a - b);
}

const gen = (cwd: string, spec: string, faultAt?: string): Promise<RunResult> =>
  etcdTls(['gen', spec, '--out', 'pki'], { cwd, env: faultAt ? { ETCD_TLS_FAULT_AT: faultAt } : {} });

const OWN = /^\.etcd-tls-(tmp|journal)\./;

/** Every name under `dir` (recursive) that the store gives its temp files and journals. */
function ownNames(dir: string): string[] {
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((n) => OWN.test(path.basename(n)) || path.basename(n) === LOCK_FILE);
}

const sha = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Every X.pem beside an X-key.pem holds the public half of that key; returns the certificates. */
function assertPairsMatch(pki: string): X509Certificate[] {
  const certs: X509Certificate[] = [];
  for (const n of readdirSync(pki, { recursive: true }).map(String)) {
    if (!n.endsWith('-key.pem')) continue;
    const certFile = path.join(pki, n.replace(/-key\.pem$/, '.pem'));
    const cert = new X509Certificate(readFileSync(certFile));
    const key = createPublicKey(readFileSync(path.join(pki, n), 'utf8'));
    assert.ok(cert.publicKey.equals(key), `${certFile} does not match its key`);
    certs.push(cert);
  }
  return certs;
}

/** How many file operations (or renames, with a prefix like "rename:") a clean run of `spec` makes. */
async function countOperations(cwd: string, fresh: string, spec: string, prefix = ''): Promise<number> {
  // The first N at which the run is not killed is one past its last operation.
  for (let n = 16; ; n *= 2) {
    const dir = path.join(cwd, `count-${prefix.replace(':', '')}${n}`);
    cpSync(fresh, dir, { recursive: true });
    const r = await gen(dir, spec, `${prefix}${n}`);
    if (r.code === 0) {
      let lo = n === 16 ? 0 : n / 2;
      let hi = n;
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        const d = path.join(cwd, `count-${prefix.replace(':', '')}${n}-${mid}`);
        cpSync(fresh, d, { recursive: true });
        if ((await gen(d, spec, `${prefix}${mid}`)).code === 0) hi = mid;
        else lo = mid;
      }
      return lo;
    }
    assert.equal(r.signal, 'SIGKILL', r.stderr);
  }
}

interface Case {
  /** A directory holding the spec files (and, for a reissue, pki as generated from demo.yaml). */
  template: string;
  spec: string;
  faultAt: string;
}

let checked = 0;

/** Kill at `faultAt`, check reports what was left, re-run, and assert the tree is whole and clean. */
async function killAndRecover(work: string, c: Case, caBefore?: { cert: string; key: string }): Promise<void> {
  const dir = path.join(work, `run-${c.faultAt.replace(':', '-')}`);
  cpSync(c.template, dir, { recursive: true });
  const killed = await gen(dir, c.spec, c.faultAt);
  assert.equal(killed.signal, 'SIGKILL', `${c.faultAt}: not killed: ${killed.stderr}`);
  const pki = path.join(dir, 'pki');
  const leftInside = existsSync(pki) ? ownNames(pki).filter((n) => path.basename(n) !== LOCK_FILE) : [];
  // check costs a process: ask it for every half-applied batch and every fifth temp-file case.
  if (leftInside.some((n) => n.includes('journal')) || (leftInside.length && checked++ % 5 === 0)) {
    // Until the re-run, check says so.
    const check = await etcdTls(['check', 'pki', '--json'], { cwd: dir });
    for (const n of leftInside) assert.ok(check.stdout.includes(`"interrupted-write"`) && check.stdout.includes(path.basename(n)), `${c.faultAt}: check does not report ${n}: ${check.stdout.slice(0, 400)}`);
  }
  const again = await gen(dir, c.spec);
  assert.equal(again.code, 0, `${c.faultAt}: the re-run failed: ${again.stderr}`);
  assert.deepEqual(ownNames(dir), [], `${c.faultAt}: leftovers after the re-run`);
  const certs = assertPairsMatch(pki);
  if (c.spec === 'wider.yaml') {
    const members = certs.filter((x) => !x.ca && (x.subjectAltName ?? '').includes('IP Address:127.0.0.1'));
    assert.ok(members.length >= 6, `${c.faultAt}: ${members.length} member certificates`);
    for (const cert of members) assert.match(cert.subjectAltName ?? '', /DNS:m\d\.example/, `${c.faultAt}: a member kept the old plan`);
  }
  if (caBefore) {
    assert.equal(sha(path.join(pki, 'ca-key.pem')), caBefore.key, `${c.faultAt}: the CA key changed`);
    assert.equal(sha(path.join(pki, 'ca.pem')), caBefore.cert, `${c.faultAt}: the CA certificate changed`);
  }
}

/** Run `points` kill cases two at a time (the suite shares a 2-core machine). */
async function runAll(work: string, cases: Case[], caBefore?: { cert: string; key: string }): Promise<void> {
  const queue = [...cases];
  const worker = async (): Promise<void> => {
    for (let c = queue.shift(); c; c = queue.shift()) await killAndRecover(work, c, caBefore);
  };
  await Promise.all([worker(), worker()]);
}

describe('gen killed with SIGKILL at any file operation', () => {
  test('into a new directory: the re-run completes and leaves no staging directory or temp key', async (t) => {
    const work = await makeTempDir(t, 'crash-fresh-');
    const template = path.join(work, 'template');
    cpSync(path.join(REPO_ROOT, 'test/fixtures/specs'), template, { recursive: true });
    const total = await countOperations(work, template, 'demo.yaml');
    const points = samplePoints(total, 55, SEED);
    await runAll(work, points.map((n) => ({ template, spec: 'demo.yaml', faultAt: String(n) })));
    t.diagnostic(`${points.length} of ${total} kill points (seed ${SEED})`);
  });

  test('reissuing into an existing directory: the half-applied batch is finished, no pair mismatched, the CA key intact', async (t) => {
    const work = await makeTempDir(t, 'crash-reissue-');
    const template = path.join(work, 'template');
    cpSync(path.join(REPO_ROOT, 'test/fixtures/specs'), template, { recursive: true });
    writeFileSync(path.join(template, 'wider.yaml'), WIDER);
    assert.equal((await gen(template, 'demo.yaml')).code, 0);
    const caBefore = { cert: sha(path.join(template, 'pki/ca.pem')), key: sha(path.join(template, 'pki/ca-key.pem')) };
    const total = await countOperations(work, template, 'wider.yaml');
    const renames = await countOperations(work, template, 'wider.yaml', 'rename:');
    const points = samplePoints(total, 50, SEED + 1);
    await runAll(work, [
      ...points.map((n) => ({ template, spec: 'wider.yaml', faultAt: String(n) })),
      // Fault injection at every rename: between any two, the batch is half applied.
      ...Array.from({ length: renames }, (_, i) => ({ template, spec: 'wider.yaml', faultAt: `rename:${i + 1}` })),
    ], caBefore);
    t.diagnostic(`${points.length} of ${total} kill points and all ${renames} renames (seed ${SEED + 1})`);
  });

  test("a re-run removes only a dead run's own leftovers: a live run's temp file and a user's similar names stay", async (t) => {
    const dir = await makeTempDir(t, 'crash-own-');
    writeFileSync(path.join(dir, 'demo.yaml'), DEMO);
    writeFileSync(path.join(dir, 'wider.yaml'), WIDER);
    assert.equal((await gen(dir, 'demo.yaml')).code, 0);
    const live = path.join(dir, 'pki', `.etcd-tls-tmp.${process.pid}.00ff.server-key.pem`);
    const dead = path.join(dir, 'pki', 'nodes', '.etcd-tls-tmp.4194305.00ff.server-key.pem');
    const users = path.join(dir, 'pki', '.etcd-tls-tmp-notes.txt');
    for (const f of [live, dead, users]) writeFileSync(f, 'x');
    assert.equal((await gen(dir, 'wider.yaml')).code, 0);
    assert.equal(existsSync(live), true, "a live process's temp file was removed");
    assert.equal(existsSync(users), true, "a user's file was removed");
    assert.equal(existsSync(dead), false, "a dead run's temp file is still there");
  });
});
