/**
 * The signing server under load: `etcd-tls serve` (SQLite ledger, every certificate committed to disk
 * before its response) beside `cfssl serve` with no database and with its SQLite certdb, in the same
 * run, driven by wrk (Debian's; neither server ships it) with a Lua script for the POST body.
 * Endpoints: sign (an ECDSA P-256 CSR) and newcert (an ECDSA P-256 key made per request), at
 * concurrency 1, 16 and 64. Addresses 127.0.0.161-163. Run alone: `node dist/bench/serve.js [--quick]`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { findPostgresBin, startPostgresServer, type PostgresServer } from '../test/helpers/postgres-server.js';
import { children, machineLine, ms, perSecond, progress, ratio, renderSection, runCommand, type Cell, type Section } from './table.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const CLI = path.join(ROOT, 'bin', 'etcd-tls');
const USAGES = ['signing', 'key encipherment', 'server auth', 'client auth'];
const CONFIG = { signing: { default: { expiry: '8760h', usages: USAGES }, profiles: { peer: { expiry: '8760h', usages: USAGES } } } };
// cfssl 1.2.0 never creates its tables: its certdb schema (migration 001), as its docs have users do.
const CFSSL_CERTDB = `CREATE TABLE certificates (serial_number blob NOT NULL, authority_key_identifier blob NOT NULL, ca_label blob, status blob NOT NULL, reason int, expiry timestamp, revoked_at timestamp, pem blob NOT NULL, PRIMARY KEY(serial_number, authority_key_identifier));
CREATE TABLE ocsp_responses (serial_number blob NOT NULL, authority_key_identifier blob NOT NULL, body blob NOT NULL, expiry timestamp, PRIMARY KEY(serial_number, authority_key_identifier), FOREIGN KEY(serial_number, authority_key_identifier) REFERENCES certificates(serial_number, authority_key_identifier));`;

export interface ServeBenchOptions {
  dir: string;
  quick: boolean;
}

interface Server {
  name: string;
  url: string;
  child: ChildProcess;
  /** Rows its ledger holds (etcd-tls and cfssl with a certdb), to check every response was recorded. */
  recorded?: () => Promise<number>;
}

interface WrkResult {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  errors: number;
}

async function waitAnswering(url: string, child: ChildProcess, ms_: number): Promise<void> {
  const deadline = Date.now() + ms_;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${url}: server exited with ${child.exitCode ?? child.signalCode}`);
    try {
      await fetch(`${url}/api/v1/cfssl/scaninfo`, { signal: AbortSignal.timeout(2000) });
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`${url}: not answering after ${ms_} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function start(name: string, cmd: string, args: string[], url: string, cwd: string): Server {
  const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  if (child.pid) children.add(child.pid);
  child.stderr?.resume();
  return { name, url, child };
}

async function stop(s: Server): Promise<void> {
  if (s.child.exitCode !== null || s.child.signalCode !== null) return;
  const exited = new Promise((r) => s.child.once('exit', r));
  s.child.kill('SIGTERM');
  await exited;
  if (s.child.pid) children.delete(s.child.pid);
}

/** wrk's "Latency Distribution" figure in milliseconds. */
function latencyMs(text: string, pct: string): number {
  const m = new RegExp(`^\\s*${pct}%\\s+([\\d.]+)(us|ms|s)\\s*$`, 'm').exec(text);
  if (!m) return NaN;
  const v = Number(m[1]);
  return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
}

async function wrk(url: string, script: string, concurrency: number, seconds: number): Promise<WrkResult> {
  const out = await runCommand('wrk', ['-t', String(Math.min(2, concurrency)), '-c', String(concurrency), '-d', `${seconds}s`, '--timeout', '10s', '--latency', '-s', script, url], {
    timeoutMs: (seconds + 30) * 1000,
  });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? NaN);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors = non2xx + (socket ? socket.slice(1).reduce((a, b) => a + Number(b), 0) : 0);
  return { rps, p50: latencyMs(out, '50'), p99: latencyMs(out, '99'), requests, errors };
}

const luaPost = (body: string): string => `wrk.method = "POST"\nwrk.body = ${JSON.stringify(body)}\nwrk.headers["Content-Type"] = "application/json"\n`;

/** Rows of a certdb, counted by the sqlite3 shell (cfssl's own table lacks the ledger's later columns). */
async function sqliteRows(file: string): Promise<number> {
  return Number((await runCommand('sqlite3', [file, 'SELECT count(*) FROM certificates'])).trim());
}

export async function runServeBench(o: ServeBenchOptions): Promise<Section[]> {
  const { dir } = o;
  const seconds = o.quick ? 4 : 10;
  const workers = Math.min(2, availableParallelism());
  const caJson = await new Promise<string>((resolve, reject) => {
    const c = spawn(process.execPath, [CLI, 'gencert', '-initca', '-'], { cwd: dir });
    let out = '';
    c.stdout.on('data', (b) => (out += b));
    c.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error('gencert -initca failed'))));
    c.stdin.end('{"CN":"bench CA","key":{"algo":"ecdsa","size":256}}');
  });
  const ca = JSON.parse(caJson) as { cert: string; key: string };
  writeFileSync(path.join(dir, 'ca.pem'), ca.cert);
  writeFileSync(path.join(dir, 'ca-key.pem'), ca.key, { mode: 0o600 });
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(CONFIG));
  const csrJson = { CN: 'member1', hosts: ['10.0.0.1', 'member1'], key: { algo: 'ecdsa', size: 256 } };
  writeFileSync(path.join(dir, 'csr.json'), JSON.stringify(csrJson));
  const keyJson = JSON.parse(await runCommand('cfssl', ['genkey', '-loglevel=5', 'csr.json'], { cwd: dir })) as { csr: string };
  writeFileSync(path.join(dir, 'sign.lua'), luaPost(JSON.stringify({ certificate_request: keyJson.csr, profile: 'peer' })));
  writeFileSync(path.join(dir, 'newcert.lua'), luaPost(JSON.stringify({ request: csrJson, profile: 'peer' })));
  const certdb = path.join(dir, 'certs.db');
  await runCommand('sqlite3', [certdb, CFSSL_CERTDB]);
  writeFileSync(path.join(dir, 'db-config.json'), JSON.stringify({ driver: 'sqlite3', data_source: certdb }));
  const ledger = path.join(dir, 'ledger.db');

  const servers: (() => Server)[] = [
    () => ({
      ...start('etcd-tls serve, SQLite ledger', process.execPath, [CLI, 'serve', dir, '-config', 'config.json', '-address', '127.0.0.161', '-port', '8888', '--workers', String(workers)], 'http://127.0.0.161:8888', dir),
      recorded: () => sqliteRows(ledger),
    }),
    () => start('cfssl serve, no database', 'cfssl', ['serve', '-loglevel', '5', '-ca', 'ca.pem', '-ca-key', 'ca-key.pem', '-config', 'config.json', '-address', '127.0.0.162', '-port', '8888'], 'http://127.0.0.162:8888', dir),
    () => ({
      ...start('cfssl serve, SQLite certdb', 'cfssl', ['serve', '-loglevel', '5', '-ca', 'ca.pem', '-ca-key', 'ca-key.pem', '-config', 'config.json', '-db-config', 'db-config.json', '-address', '127.0.0.163', '-port', '8888'], 'http://127.0.0.163:8888', dir),
      recorded: () => sqliteRows(certdb),
    }),
  ];

  // PostgreSQL (Debian's, started here on 127.0.0.165 and stopped at the end): the replicas' ledger,
  // one etcd-tls serve on it at 127.0.0.166. Skipped, and said so, where PostgreSQL is not installed.
  const pgName = 'etcd-tls serve, PostgreSQL ledger';
  let pgServer: PostgresServer | undefined;
  if (findPostgresBin()) {
    pgServer = await startPostgresServer({ host: '127.0.0.165', port: 5432 });
    const url = await pgServer.createDatabase('bench');
    await runCommand(process.execPath, [CLI, 'db', 'migrate', '--db', url]);
    const db = pgServer;
    servers.splice(1, 0, () => ({
      ...start(pgName, process.execPath, [CLI, 'serve', dir, '-config', 'config.json', '--db', url, '-address', '127.0.0.166', '-port', '8888', '--workers', String(workers)], 'http://127.0.0.166:8888', dir),
      recorded: async () => Number((await db.query('SELECT count(*)::int AS n FROM certificates', 'bench'))[0]?.n),
    }));
  } else progress('serve: PostgreSQL is not installed (/usr/lib/postgresql/*/bin): no PostgreSQL rows');

  const results = new Map<string, WrkResult>();
  const recorded = new Map<string, { rows: number; answered: number }>();
  const cells = (['sign', 'newcert'] as const).flatMap((endpoint) => [1, 16, 64].map((c) => ({ endpoint, c })));
  try {
    for (const make of servers) {
      const s = make();
      try {
        await waitAnswering(s.url, s.child, 30_000);
        let answered = 0;
        for (const { endpoint, c } of cells) {
          const url = `${s.url}/api/v1/cfssl/${endpoint}`;
          progress(`serve: ${s.name}: ${endpoint} c=${c}`);
          await wrk(url, path.join(dir, `${endpoint}.lua`), c, 1); // warm-up
          const r = await wrk(url, path.join(dir, `${endpoint}.lua`), c, seconds);
          results.set(`${s.name}|${endpoint}|${c}`, r);
        }
        await stop(s);
        if (s.recorded) {
          const rows = await s.recorded();
          answered = [...results].filter(([k]) => k.startsWith(`${s.name}|`)).reduce((a, [, r]) => a + r.requests - r.errors, 0);
          recorded.set(s.name, { rows, answered });
        }
      } finally {
        await stop(s);
      }
    }
  } finally {
    await pgServer?.stop();
  }

  const ours = 'etcd-tls serve, SQLite ledger';
  const rows: Cell[][] = [];
  for (const { endpoint, c } of cells) {
    const noDb = results.get(`cfssl serve, no database|${endpoint}|${c}`);
    const withDb = results.get(`cfssl serve, SQLite certdb|${endpoint}|${c}`);
    for (const name of [ours, pgName, 'cfssl serve, no database', 'cfssl serve, SQLite certdb']) {
      const r = results.get(`${name}|${endpoint}|${c}`);
      if (!r) continue;
      rows.push([
        endpoint,
        c,
        name,
        perSecond(r.rps),
        ms(r.p50),
        ms(r.p99),
        r.errors,
        name === ours || name === pgName ? ratio(r.rps, noDb?.rps ?? NaN) : '',
        name === ours || name === pgName ? ratio(r.rps, withDb?.rps ?? NaN) : '',
      ]);
    }
  }
  const sign16 = results.get(`${ours}|sign|16`);
  const target = (label: string, peer: string, factor: number): string => {
    const p = results.get(`${peer}|sign|16`);
    const ok = sign16 && p ? sign16.rps >= factor * p.rps : false;
    return `Target ${label}: ${ok ? 'met' : 'MISSED'} (${perSecond(sign16?.rps ?? NaN)} vs ${perSecond(p?.rps ?? NaN)}).`;
  };
  const rec = recorded.get(ours);
  return [
    {
      title: 'Signing server: `etcd-tls serve` vs `cfssl serve` (bench/serve.ts)',
      intro: [
        `wrk, ${seconds} s per cell after a 1 s warm-up, keep-alive connections; ECDSA P-256 CA; sign = an ECDSA P-256 CSR, newcert = a new P-256 key per request.`,
        `etcd-tls serve runs ${workers} worker process(es) (--workers) over one SQLite ledger; each response is sent after its certificate's row is committed and the WAL fdatasync'ed.`,
        `The PostgreSQL rows: the same server with --db postgres:// on a local PostgreSQL (Debian's, default settings: fsync and synchronous_commit on), ${workers} worker(s) with up to 10 connections each; concurrent inserts share a transaction.`,
        'cfssl serve 1.2.0 with no database, and with its SQLite certdb (-db-config, table created beforehand as cfssl never creates it).',
      ],
      head: ['endpoint', 'conc.', 'server', 'req/s', 'p50', 'p99', 'errors', 'vs cfssl (no DB)', 'vs cfssl (SQLite)'],
      rows,
      notes: [
        target('sign at 16 ≥ 1.5× cfssl with SQLite certdb', 'cfssl serve, SQLite certdb', 1.5),
        target('sign at 16 ≥ cfssl with no database', 'cfssl serve, no database', 1),
        rec ? `Ledger check: ${rec.rows} rows for ${rec.answered} successful responses (rows ≥ responses: every certificate sent was recorded; requests cut off when wrk stopped may add rows).` : 'Ledger check: not run.',
        ...[...recorded].filter(([n]) => n !== ours).map(([n, r]) => `${n}: ${r.rows} rows for ${r.answered} responses.`),
      ],
    },
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const dir = mkdtempSync(path.join(tmpdir(), 'etcd-tls-bench-serve-'));
  try {
    console.log(machineLine());
    for (const s of await runServeBench({ dir, quick: process.argv.includes('--quick') })) console.log(renderSection(s));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
