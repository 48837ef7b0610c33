/**
 * The migration under load: a 3-member plaintext cluster (127.0.0.91-93, `etcd-tls up --insecure`),
 * a writer putting one key every 100 ms the whole time, and `etcd-tls migrate` run as a user runs it.
 * Reports writes attempted / acknowledged / failed, how many acknowledged writes read back, and how
 * long the migration took. Run alone: `node dist/bench/migrate.js`; `npm run bench` calls
 * runMigrationBench().
 *
 * What the writer counts: a write is one put of a fresh key. Like an etcd client with several
 * endpoints it tries the next endpoint when one refuses, resets, answers in the wrong scheme or does
 * not answer within 2 s (a retried put of the same key and value is harmless); the write fails when
 * no endpoint acknowledged it within 5 s. Such retries are reported as failovers.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { readSpecFile } from '../src/cluster/generate.js';
import { layoutCluster, type ClusterLayout } from '../src/cluster/layout.js';
import { membersInDir, stopMembers } from '../src/cluster/local.js';
import { currentPlaintextEndpoints } from '../src/ops/migrate/migrate.js';
import { etcdRequest, putKey, type ClientTls } from '../src/etcd/gateway.js';

export interface WriterTarget {
  url: string;
  tls?: ClientTls;
}

export interface WriterOptions {
  /** The endpoints valid now; asked again before every write. */
  targets: () => WriterTarget[];
  /** Keys are `<prefix><000001>`. */
  prefix: string;
  intervalMs?: number;
  attemptTimeoutMs?: number;
  deadlineMs?: number;
}

export interface WriterResult {
  attempted: number;
  /** Acknowledged keys with their values. */
  acknowledged: Map<string, string>;
  failed: { key: string; error: string }[];
  failovers: number;
  maxLatencyMs: number;
}

export interface Writer {
  /** Swap the endpoint source (old clients moving to https, say). */
  retarget(targets: () => WriterTarget[]): void;
  result(): WriterResult;
  stop(): Promise<WriterResult>;
}

/**
 * One request tried against each endpoint in turn (starting at the `n`th, so load spreads) until one
 * answers or `deadlineMs` has passed; a short pause after each full round. Shared by the benches'
 * writer and reader, which fail over between members the way a client library does.
 */
export async function withFailover<T>(
  targets: () => WriterTarget[],
  n: number,
  deadlineMs: number,
  attempt: (target: WriterTarget) => Promise<T>,
  onFailover: () => void = () => {},
): Promise<{ ok: true; value: T } | { ok: false; error: string }> {
  const start = Date.now();
  let last = 'no endpoint';
  for (let i = 0; Date.now() - start < deadlineMs; i++) {
    let list: WriterTarget[] = [];
    try {
      list = targets();
    } catch (e) {
      last = (e as Error).message;
    }
    const target = list[(n + i) % Math.max(list.length, 1)];
    if (!target) {
      await sleep(100);
      continue;
    }
    try {
      return { ok: true, value: await attempt(target) };
    } catch (e) {
      onFailover();
      last = `${target.url}: ${(e as Error).message}`;
      if (i % Math.max(list.length, 1) === list.length - 1) await sleep(100);
    }
  }
  return { ok: false, error: last };
}

/** Start writing one key per interval until stop(). */
export function startWriter(options: WriterOptions): Writer {
  const interval = options.intervalMs ?? 100;
  const attemptTimeout = options.attemptTimeoutMs ?? 2000;
  const deadlineMs = options.deadlineMs ?? 5000;
  let targets = options.targets;
  let stopped = false;
  const r: WriterResult = { attempted: 0, acknowledged: new Map(), failed: [], failovers: 0, maxLatencyMs: 0 };

  const writeOne = async (n: number): Promise<void> => {
    const key = `${options.prefix}${String(n).padStart(6, '0')}`;
    const value = `value-${n}`;
    const start = Date.now();
    const outcome = await withFailover(() => targets(), n, deadlineMs, async (target) => {
      await putKey(target.url, key, value, target.tls, Math.min(attemptTimeout, deadlineMs - (Date.now() - start)));
    }, () => r.failovers++);
    if (outcome.ok) {
      r.acknowledged.set(key, value);
      r.maxLatencyMs = Math.max(r.maxLatencyMs, Date.now() - start);
    } else r.failed.push({ key, error: outcome.error });
  };

  const loop = (async () => {
    for (let n = 1; !stopped; n++) {
      const t = Date.now();
      r.attempted++;
      await writeOne(n);
      await sleep(Math.max(0, t + interval - Date.now()));
    }
  })();

  return {
    retarget: (next) => void (targets = next),
    result: () => r,
    stop: async () => {
      stopped = true;
      await loop;
      return r;
    },
  };
}

/** Every key under `prefix` as one member sees it (one range request through the JSON gateway). */
export async function readPrefix(target: WriterTarget, prefix: string): Promise<Map<string, string>> {
  const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
  const end = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
  const res = await etcdRequest(target.url, '/v3/kv/range', { body: { key: b64(prefix), range_end: b64(end) }, ...(target.tls ? { tls: target.tls } : {}), timeoutMs: 10_000 });
  if (res.status !== 200) throw new Error(`${target.url}/v3/kv/range: HTTP ${res.status}: ${res.body.slice(0, 200)}`);
  const kvs = (JSON.parse(res.body) as { kvs?: { key: string; value?: string }[] }).kvs ?? [];
  return new Map(kvs.map((kv) => [Buffer.from(kv.key, 'base64').toString('utf8'), Buffer.from(kv.value ?? '', 'base64').toString('utf8')]));
}

/** Acknowledged writes whose value reads back. */
export async function countReadable(result: WriterResult, target: WriterTarget, prefix: string): Promise<number> {
  const acknowledged = [...result.acknowledged]; // before the read: a writer still running adds keys meanwhile
  const stored = await readPrefix(target, prefix);
  return acknowledged.filter(([k, v]) => stored.get(k) === v).length;
}

/** The writer of old clients: plaintext only, following DIR/migration.json from port to port. */
export const plaintextTargets = (layout: ClusterLayout) => (): WriterTarget[] => currentPlaintextEndpoints(layout).map((url) => ({ url }));

/** The writer of new clients: https with a client certificate of the spec. */
export function httpsTargets(layout: ClusterLayout, client: string): () => WriterTarget[] {
  const c = layout.clients.find((x) => x.name === client);
  if (!c) throw new TypeError(`no client ${client} in the spec`);
  const tls: ClientTls = { ca: readFileSync(c.files.ca, 'utf8'), cert: readFileSync(c.files.cert, 'utf8'), key: readFileSync(c.files.key, 'utf8') };
  return () => layout.members.map((m) => ({ url: m.clientUrl, tls }));
}

export interface Row {
  scenario: string;
  writesAttempted: number;
  writesAcknowledged: number;
  writesFailed: number;
  acknowledgedReadable: number;
  failovers: number;
  maxWriteLatencyMs: number;
  migrationSeconds: number;
}

const CLI = fileURLToPath(new URL('../../bin/etcd-tls', import.meta.url));

/** `etcd-tls ARGS` in `cwd` with only PATH set, as an operator runs it; never rejects on the exit code. */
export function etcdTls(args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: performance.now() - start }));
  });
}

const SPEC = `cluster: bench-migrate
ca: { cn: bench-migrate CA }
members:
  - { name: member1, ips: [127.0.0.91] }
  - { name: member2, ips: [127.0.0.92] }
  - { name: member3, ips: [127.0.0.93] }
clients:
  - { name: admin, cn: root }
`;

function row(scenario: string, r: WriterResult, readable: number, ms: number): Row {
  return {
    scenario,
    writesAttempted: r.attempted,
    writesAcknowledged: r.acknowledged.size,
    writesFailed: r.failed.length,
    acknowledgedReadable: readable,
    failovers: r.failovers,
    maxWriteLatencyMs: r.maxLatencyMs,
    migrationSeconds: Math.round(ms / 100) / 10,
  };
}

/**
 * Two rows: phases 1-2 with old clients writing in plaintext, then phase 3 (--drop-plaintext) with
 * clients on https. Starts and stops its own cluster.
 */
export async function runMigrationBench(): Promise<Row[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'etcd-tls-bench-migrate-'));
  const out = path.join(dir, 'pki');
  writeFileSync(path.join(dir, 'cluster.yaml'), SPEC);
  const rows: Row[] = [];
  try {
    const up = await etcdTls(['up', 'cluster.yaml', '--out', out, '--insecure'], dir);
    if (up.code !== 0) throw new Error(`etcd-tls up --insecure: ${up.stderr}`);
    const layout = layoutCluster(readSpecFile(path.join(dir, 'cluster.yaml')), { dir: out, local: true });
    const admin = httpsTargets(layout, 'admin');
    const readBack = admin()[0] as WriterTarget;

    for (const [scenario, args, targets, prefix] of [
      ['http→https, old clients on plaintext (phases 1-2)', [], plaintextTargets(layout), '/bench/plain/'],
      ['--drop-plaintext, clients on https (phase 3)', ['--drop-plaintext'], admin, '/bench/https/'],
    ] as const) {
      const writer = startWriter({ targets, prefix });
      await sleep(500);
      const m = await etcdTls(['migrate', '--spec', 'cluster.yaml', '--out', out, ...args], dir);
      if (m.code !== 0) throw new Error(`etcd-tls migrate ${args.join(' ')}: ${m.stderr}`);
      await sleep(500);
      const r = await writer.stop();
      rows.push(row(scenario, r, await countReadable(r, readBack, prefix), m.ms));
    }
    return rows;
  } finally {
    await stopMembers(membersInDir(out)).catch(() => []);
    rmSync(dir, { recursive: true, force: true });
  }
}

export function renderRows(rows: readonly Row[]): string {
  const head = ['scenario', 'attempted', 'acked', 'failed', 'acked+readable', 'failovers', 'max latency', 'migration'];
  const body = rows.map((r) => [r.scenario, r.writesAttempted, r.writesAcknowledged, r.writesFailed, r.acknowledgedReadable, r.failovers, `${r.maxWriteLatencyMs} ms`, `${r.migrationSeconds} s`].map(String));
  const all = [head, ...body];
  const widths = head.map((_, i) => Math.max(...all.map((l) => (l[i] as string).length)));
  return `${all.map((l) => l.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ')).join('\n')}\n`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rows = await runMigrationBench();
  process.stdout.write(`etcd-tls migrate under a write every 100 ms (3 members, etcd 3.4, loopback)\n\n${renderRows(rows)}`);
}
