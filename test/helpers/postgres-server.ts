/**
 * Start and stop a real PostgreSQL server (Debian `postgresql`; binaries in /usr/lib/postgresql/<v>/bin)
 * on a temp data dir: shared by the tests (test/helpers/postgres.ts, which adds skipping and cleanup
 * hooks) and the serve bench. No node:test here.
 *
 * The server listens on the one 127.0.0.x address and port the caller names (never on 127.0.0.1,
 * where Debian's own cluster "main" listens when it runs) and on a unix socket inside its temp dir
 * (never /var/run/postgresql). initdb and pg_ctl refuse to run as root, so as root they run as the
 * `postgres` user through runuser.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
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

/** The postgres user's uid and gid, or null when there is none. */
export function postgresUid(): { uid: number; gid: number } | null {
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    return null;
  }
}

/** Every server started by this process and not yet stopped, by postmaster PID. */
export const startedPostgres = new Map<number, PostgresServer>();

/**
 * initdb + pg_ctl start on a fresh temp dir; resolves once the server accepts connections (pg_ctl -w).
 * Throws (after stopping whatever it started) when PostgreSQL cannot be started.
 */
export async function startPostgresServer(opts: PostgresOptions): Promise<PostgresServer> {
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
    throw new Error(`initdb failed (${init.code}): ${init.stderr || init.stdout}`);
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
    if (pid !== null) startedPostgres.delete(pid);
    cleanup();
  };
  if (start.code !== 0 || pid === null) {
    const log = readLog();
    if (pid !== null) startedPostgres.set(pid, { stop } as PostgresServer);
    await stop();
    throw new Error(`pg_ctl start on ${opts.host}:${opts.port} failed (${start.code}): ${start.stderr}\n${log}`);
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
  startedPostgres.set(pid, server);
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
