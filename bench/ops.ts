/**
 * Live operations under load: a 3-member mTLS cluster (127.0.0.151-155, `etcd-tls up`), a writer
 * putting one key every 100 ms through the members in spec order and a reader reading the latest
 * acknowledged key every 100 ms through them in reverse order, while `etcd-tls member add` grows it
 * to 5, `member remove` shrinks it back to 3, and `rotate-ca` replaces its CA. One row per operation:
 * writes attempted / acknowledged / failed, acknowledged writes readable afterwards, reads failed,
 * failovers, the slowest write, and how long the operation took. Run alone: `node dist/bench/ops.js`.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { membersInDir, stopMembers } from '../src/cluster/local.js';
import { getKey } from '../src/etcd/gateway.js';
import { countReadable, etcdTls, startWriter, withFailover, type WriterResult, type WriterTarget } from './migrate.js';

/** A spec with these members (name, ip) and an admin client. */
export function opsSpec(cluster: string, members: readonly (readonly [string, string])[]): string {
  return [
    `cluster: ${cluster}`,
    `ca: { cn: ${cluster} CA }`,
    'members:',
    ...members.map(([n, ip]) => `  - { name: ${n}, ips: [${ip}] }`),
    'clients:',
    '  - { name: admin, cn: root }',
    '  - { name: kube-apiserver, cn: kube-apiserver-etcd-client }',
    '',
  ].join('\n');
}

/**
 * The endpoints a client of DIR uses now: every member with a folder in DIR/nodes (in the order of
 * `names()`), with the client's files read afresh each time — as a client restarted with its new
 * files after each operation would have them.
 */
export function clientTargets(out: string, client: string, names: () => readonly string[], urlOf: (name: string) => string): () => WriterTarget[] {
  const dir = path.join(out, 'clients', client);
  return () => {
    const tls = { ca: readFileSync(path.join(dir, 'ca.pem'), 'utf8'), cert: readFileSync(path.join(dir, 'client.pem'), 'utf8'), key: readFileSync(path.join(dir, 'client-key.pem'), 'utf8') };
    return names()
      .filter((n) => existsSync(path.join(out, 'nodes', n)))
      .map((n) => ({ url: urlOf(n), tls }));
  };
}

export interface ReaderResult {
  attempted: number;
  ok: number;
  failed: { key: string; error: string }[];
  /** A read that returned another value than the one acknowledged. */
  wrong: number;
}

export interface Reader {
  result(): ReaderResult;
  stop(): Promise<ReaderResult>;
}

/** Read the writer's latest acknowledged key every interval, failing over between endpoints like the writer. */
export function startReader(targets: () => WriterTarget[], latest: () => [string, string] | undefined, intervalMs = 100, deadlineMs = 5000): Reader {
  const r: ReaderResult = { attempted: 0, ok: 0, failed: [], wrong: 0 };
  let stopped = false;
  const readOne = async (n: number): Promise<void> => {
    const kv = latest();
    if (!kv) return;
    r.attempted++;
    const outcome = await withFailover(targets, n, deadlineMs, (t) => getKey(t.url, kv[0], t.tls, 2000));
    if (!outcome.ok) r.failed.push({ key: kv[0], error: outcome.error });
    else if (outcome.value === kv[1]) r.ok++;
    else r.wrong++;
  };
  const loop = (async () => {
    for (let n = 1; !stopped; n++) {
      const t = Date.now();
      await readOne(n);
      await sleep(Math.max(0, t + intervalMs - Date.now()));
    }
  })();
  return {
    result: () => r,
    stop: async () => {
      stopped = true;
      await loop;
      return r;
    },
  };
}

/** The most recently acknowledged write of a writer. */
export const latestOf = (w: { result(): WriterResult }) => (): [string, string] | undefined => {
  const acked = w.result().acknowledged;
  let last: [string, string] | undefined;
  for (const kv of acked) last = kv;
  return last;
};

export interface OpsRow {
  operation: string;
  attempted: number;
  acknowledged: number;
  failed: number;
  readable: number;
  readsFailed: number;
  failovers: number;
  maxLatencyMs: number;
  seconds: number;
}


const MEMBERS = [
  ['member1', '127.0.0.151'],
  ['member2', '127.0.0.152'],
  ['member3', '127.0.0.153'],
  ['member4', '127.0.0.154'],
  ['member5', '127.0.0.155'],
] as const;

/** add ×2, remove ×2, rotate-ca: one row each. Starts and stops its own cluster. */
export async function runOpsBench(only: readonly ('membership' | 'rotate')[] = ['membership', 'rotate']): Promise<OpsRow[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'etcd-tls-bench-ops-'));
  const out = path.join(dir, 'pki');
  const spec = (n: number): string => {
    writeFileSync(path.join(dir, `c${n}.yaml`), opsSpec('bench-ops', MEMBERS.slice(0, n)));
    return `c${n}.yaml`;
  };
  const names = () => MEMBERS.map(([n]) => n);
  const urlOf = (n: string): string => `https://${MEMBERS.find(([m]) => m === n)?.[1]}:2379`;
  const targets = clientTargets(out, 'admin', names, urlOf);
  const reverse = () => [...targets()].reverse();
  const rows: OpsRow[] = [];
  const must = async (args: string[]): Promise<number> => {
    const r = await etcdTls(args, dir);
    if (r.code !== 0) throw new Error(`etcd-tls ${args.join(' ')}: ${r.stderr}`);
    return r.ms;
  };
  try {
    await must(['up', spec(3), '--out', out]);
    const measure = async (operation: string, prefix: string, run: () => Promise<number>): Promise<void> => {
      const writer = startWriter({ targets, prefix });
      const reader = startReader(reverse, latestOf(writer));
      await sleep(500);
      const ms = await run();
      await sleep(500);
      const w = await writer.stop();
      const rd = await reader.stop();
      rows.push({
        operation,
        attempted: w.attempted,
        acknowledged: w.acknowledged.size,
        failed: w.failed.length,
        readable: await countReadable(w, targets()[0] as WriterTarget, prefix),
        readsFailed: rd.failed.length + rd.wrong,
        failovers: w.failovers,
        maxLatencyMs: w.maxLatencyMs,
        seconds: Math.round(ms / 100) / 10,
      });
    };
    if (only.includes('membership')) {
      await measure('member add member4 (3 → 4)', '/bench/add4/', async () => (await must(['gen', spec(4), '--out', out, '--local'])) + (await must(['member', 'add', 'member4', '--spec', 'c4.yaml', '--out', out])));
      await measure('member add member5 (4 → 5)', '/bench/add5/', async () => (await must(['gen', spec(5), '--out', out, '--local'])) + (await must(['member', 'add', 'member5', '--spec', 'c5.yaml', '--out', out])));
      await measure('member remove member5 (5 → 4)', '/bench/rm5/', async () => must(['member', 'remove', 'member5', '--spec', spec(3), '--out', out]));
      await measure('member remove member4 (4 → 3)', '/bench/rm4/', async () => must(['member', 'remove', 'member4', '--spec', 'c3.yaml', '--out', out]));
    }
    if (only.includes('rotate')) await measure('rotate-ca (3 members, 2 rolling restarts)', '/bench/rotate/', async () => must(['rotate-ca', '--spec', 'c3.yaml', '--out', out, '--clients-updated']));
    return rows;
  } finally {
    if (existsSync(path.join(out, 'nodes'))) await stopMembers(membersInDir(out)).catch(() => []);
    rmSync(dir, { recursive: true, force: true });
  }
}

export function renderOpsRows(rows: readonly OpsRow[]): string {
  const head = ['operation', 'attempted', 'acked', 'failed', 'acked+readable', 'reads failed', 'failovers', 'max latency', 'duration'];
  const body = rows.map((r) => [r.operation, r.attempted, r.acknowledged, r.failed, r.readable, r.readsFailed, r.failovers, `${r.maxLatencyMs} ms`, `${r.seconds} s`].map(String));
  const all = [head, ...body];
  const widths = head.map((_, i) => Math.max(...all.map((l) => (l[i] as string).length)));
  return `${all.map((l) => l.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ')).join('\n')}\n`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const only = process.argv.slice(2).filter((a): a is 'membership' | 'rotate' => a === 'membership' || a === 'rotate');
  const rows = await runOpsBench(only.length > 0 ? only : undefined);
  process.stdout.write(`etcd-tls live operations under a write and a read every 100 ms (etcd 3.4, loopback)\n\n${renderOpsRows(rows)}`);
}
