/**
 * A real PostgreSQL server for tests (Debian `postgresql`; binaries in /usr/lib/postgresql/<v>/bin).
 *
 * Each server gets its own data directory under a temp dir, listens on the one 127.0.0.x address and
 * port the test names (never on 127.0.0.1, where Debian's own cluster "main" listens when it runs) and
 * on a unix socket inside that temp dir (never /var/run/postgresql), and is stopped by the PID it
 * wrote: an after() hook registered when this module loads stops exactly the servers this process
 * started, also when a test fails. initdb and pg_ctl refuse to run as root, so as root they run as
 * the `postgres` user through runuser.
 *
 * @example
 *   const pg = await startPostgres(t, { host: '127.0.0.165', port: 5432 });
 *   if (!pg) return; // skipped on a laptop without PostgreSQL (fails instead when CI is set)
 *   const url = await pg.createDatabase('ledger');
 *   const r = await etcdTls(['db', 'migrate', '--db', url]);
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, type TestContext } from 'node:test';
import pg from 'pg';
import { cleanEnv, run, type RunResult } from './components.js';

/** The superuser's password in every test server (scram-sha-256, so URLs carry a real password). */
export const POSTGRES_PASSWORD = 'etcd-tls-test-password';

export interface PostgresServer {
  readonly host: string;
  readonly port: number;
  /** postgres://postgres:PASSWORD@host:port/postgres */
  readonly adminUrl: string;
  /** The postmaster's PID (from postmaster.pid). */
  readonly pid: number;
  /** Create a database and return its URL. */
  createDatabase(name: string): Promise<string>;
  /** Run SQL as the superuser against database `db` (default postgres); returns the rows. */
  query(sql: string, db?: string): Promise<Record<string, unknown>[]>;
  /** The server log's last lines. */
  logs(lines?: number): string;
  /** pg_ctl stop -m fast (SIGKILL of the postmaster if that fails); safe to call twice. */
  stop(): Promise<void>;
}

export interface PostgresOptions {
  /** A loopback address, 127.0.0.x: the only TCP address the server listens on. */
  host: string;
  port: number;
  /** Extra `-c name=value` settings. */
  settings?: Record<string, string>;
}

/** The directory holding initdb/pg_ctl of the newest PostgreSQL installed the Debian way, or null. */
export function findPostgresBin(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => /^\d+$/.test(v) && existsSync(path.join(root, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? path.join(root, versions[0], 'bin') : null;
}

/** True when PostgreSQL can be started here; otherwise skips the test (fails it when CI is set). */
export function requirePostgres(t: TestContext): boolean {
  const bin = findPostgresBin();
  const asRoot = process.getuid?.() === 0;
  let missing: string | null = null;
  if (!bin) missing = 'PostgreSQL is not installed (/usr/lib/postgresql/<version>/bin/pg_ctl)';
  else if (asRoot && postgresUid() === null) missing = 'there is no postgres user to run initdb as';
  if (!missing) return true;
  if (process.env.CI) assert.fail(`${missing} and CI is set: apt-get install postgresql`);
  t.skip(`${missing} (apt-get install postgresql)`);
  return false;
}

function postgresUid(): { uid: number; gid: number } | null {
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    return null;
  }
}

const started = new Map<number, PostgresServer>();

after(() => stopAllPostgres());
// Last resort when hooks cannot run (the runner ends an overrunning file with SIGTERM): SIGQUIT is
// PostgreSQL's immediate shutdown, and the postmaster takes its backends down with it.
function quitStartedSync(): void {
  for (const pid of started.keys()) {
    try {
      process.kill(pid, 'SIGQUIT');
    } catch {
      // already gone
    }
  }
}
process.on('exit', quitStartedSync);
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    quitStartedSync();
    process.kill(process.pid, signal);
  });
}

/** Stop every server this process started; nothing else. */
export async function stopAllPostgres(): Promise<void> {
  for (const s of [...started.values()]) await s.stop();
}

/**
 * initdb + pg_ctl start on a fresh temp dir; resolves once the server accepts connections (pg_ctl -w),
 * or null when the test was skipped (see requirePostgres). Stopped by the after() hook of this module,
 * or earlier by `stop()`.
 */
export async function startPostgres(t: TestContext, opts: PostgresOptions): Promise<PostgresServer | null> {
  if (!requirePostgres(t)) return null;
  const bin = findPostgresBin() as string;
  const asRoot = process.getuid?.() === 0;
  const owner = asRoot ? postgresUid() : null;
  const base = mkdtempSync(path.join(tmpdir(), 'etcd-tls-pg-'));
  const dataDir = path.join(base, 'data');
  const logFile = path.join(base, 'server.log');
  const pwFile = path.join(base, 'pwfile');
  writeFileSync(pwFile, `${POSTGRES_PASSWORD}\n`, { mode: 0o600 });
  if (owner) {
    chownSync(base, owner.uid, owner.gid);
    chownSync(pwFile, owner.uid, owner.gid);
  }
  chmodSync(base, 0o700);
  // PG* variables of the developer's shell would change what pg_ctl and initdb do.
  const env = cleanEnv({ LC_ALL: 'C.UTF-8', LANG: 'C.UTF-8' });
  const asOwner = (tool: string, args: string[], timeoutMs = 120_000): Promise<RunResult> =>
    owner
      ? run('runuser', ['-u', 'postgres', '--', path.join(bin, tool), ...args], { env, cwd: base, timeoutMs })
      : run(path.join(bin, tool), args, { env, cwd: base, timeoutMs });

  const cleanup = (): void => rmSync(base, { recursive: true, force: true });
  const init = await asOwner('initdb', ['-D', dataDir, '-U', 'postgres', '--auth=scram-sha-256', `--pwfile=${pwFile}`, '-E', 'UTF8', '--no-sync']);
  if (init.code !== 0) {
    cleanup();
    assert.fail(`initdb failed (${init.code}): ${init.stderr || init.stdout}`);
  }
  const settings: Record<string, string> = {
    listen_addresses: opts.host,
    port: String(opts.port),
    unix_socket_directories: base,
    max_connections: '100',
    ...opts.settings,
  };
  const o = Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`).join(' ');
  const start = await asOwner('pg_ctl', ['start', '-D', dataDir, '-l', logFile, '-w', '-t', '60', '-o', o]);
  const pid = readPostmasterPid(dataDir);
  const readLog = (lines = 30): string => {
    try {
      return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  };
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    const r = await asOwner('pg_ctl', ['stop', '-D', dataDir, '-m', 'fast', '-w', '-t', '30'], 40_000);
    if (r.code !== 0 && pid !== null) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    if (pid !== null) started.delete(pid);
    cleanup();
  };
  if (start.code !== 0 || pid === null) {
    const log = readLog();
    if (pid !== null) started.set(pid, { stop } as PostgresServer);
    await stop();
    assert.fail(`pg_ctl start on ${opts.host}:${opts.port} failed (${start.code}): ${start.stderr}\n${log}`);
  }

  const adminUrl = urlFor(opts.host, opts.port, 'postgres');
  const query = async (sql: string, db = 'postgres'): Promise<Record<string, unknown>[]> => {
    const client = new pg.Client({ connectionString: urlFor(opts.host, opts.port, db) });
    await client.connect();
    try {
      return (await client.query(sql)).rows as Record<string, unknown>[];
    } finally {
      await client.end();
    }
  };
  const server: PostgresServer = {
    host: opts.host,
    port: opts.port,
    adminUrl,
    pid,
    async createDatabase(name) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new TypeError(`database name ${name} is not a plain identifier`);
      await query(`CREATE DATABASE ${name}`);
      return urlFor(opts.host, opts.port, name);
    },
    query,
    logs: readLog,
    stop,
  };
  started.set(pid, server);
  return server;
}

function urlFor(host: string, port: number, db: string): string {
  return `postgres://postgres:${POSTGRES_PASSWORD}@${host}:${port}/${db}`;
}

function readPostmasterPid(dataDir: string): number | null {
  try {
    const pid = Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}
