/**
 * Running a generated cluster in place (`up` / `down`): each member is the `etcd` on PATH, started
 * with its etcd.env variables in an otherwise clean environment, detached, logging to
 * nodes/<member>/etcd.log, its PID in nodes/<member>/etcd.pid. `down` stops exactly those PIDs.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fail } from '../errors.js';
import { checkHealth, type ClientTls } from '../etcd/gateway.js';
import { PUBLIC_FILE_MODE, writeFileAtomic } from '../store/files.js';
import type { ClusterLayout, MemberLayout } from './layout.js';
import { etcdEnvironment } from './render.js';

/** What identifies a local member: its name and its folder DIR/nodes/<name>. */
export type MemberRef = Pick<MemberLayout, 'name' | 'dir'>;

export const pidFileOf = (m: MemberRef): string => path.join(m.dir, 'etcd.pid');
export const logFileOf = (m: MemberRef): string => path.join(m.dir, 'etcd.log');

/** The members of a generated directory, from its nodes/ folders (so `down` needs no spec). */
export function membersInDir(dir: string): MemberRef[] {
  const nodes = path.join(path.resolve(dir), 'nodes');
  if (!existsSync(nodes)) throw fail('FILE_NOT_FOUND', `${path.join(dir, 'nodes')}: no generated members here (run etcd-tls gen first)`);
  return readdirSync(nodes, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => ({ name: d.name, dir: path.join(nodes, d.name) }));
}

/** The etcd binary on PATH, or undefined. */
export function findEtcd(envPath = process.env.PATH ?? ''): string | undefined {
  for (const dir of envPath.split(path.delimiter)) {
    const candidate = path.join(dir || '.', 'etcd');
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

export const ETCD_INSTALL_HINT = 'install etcd 3.4+ (Debian/Ubuntu: apt-get install etcd-server etcd-client) or put an etcd binary on PATH';

/** Plaintext mode for `up --insecure`: the same cluster with http URLs and no TLS settings. */
export function insecureEnvironment(vars: [string, string][]): [string, string][] {
  return vars
    .filter(([k]) => !/_(CERT_FILE|KEY_FILE|TRUSTED_CA_FILE|CLIENT_CERT_AUTH|CERT_ALLOWED_HOSTNAME)$/.test(k))
    .map(([k, v]) => [k, v.replace(/https:\/\//g, 'http://')]);
}

/** The PID in a member's pid file if that process is still the etcd member we started, else undefined. */
export function runningPid(m: MemberRef): number | undefined {
  const file = pidFileOf(m);
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 1) return undefined;
  try {
    // A PID can be reused after a reboot: only a process that is etcd running as this member counts.
    const environ = readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0');
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0')[0] ?? '';
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    if (/\) Z /.test(stat)) return undefined; // a zombie has already exited
    return path.basename(cmd) === 'etcd' && environ.includes(`ETCD_NAME=${m.name}`) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** TLS material a member's own health check uses: its server certificate has clientAuth. */
export function memberClientTls(m: MemberLayout): ClientTls {
  return {
    ca: readFileSync(m.files.ca, 'utf8'),
    cert: readFileSync(m.files.serverCert, 'utf8'),
    key: readFileSync(m.files.serverKey, 'utf8'),
  };
}

export interface StartOptions {
  etcdPath: string;
  insecure?: boolean;
  /** Bound on the wait for every member's /health (default 30 s). */
  timeoutMs?: number;
}

export interface LocalMember {
  name: string;
  pid: number;
  clientUrl: string;
  peerUrl: string;
  alreadyRunning: boolean;
}

function startOne(layout: ClusterLayout, m: MemberLayout, options: StartOptions): number {
  const vars = etcdEnvironment(layout, m);
  return spawnMember(m, options.insecure ? insecureEnvironment(vars) : vars, options.etcdPath);
}

/**
 * Start one member detached with exactly these ETCD_* variables (plus PATH), logging to its etcd.log
 * and recording its PID in etcd.pid. Returns the PID; does not wait for health.
 */
export function spawnMember(m: MemberRef, vars: readonly (readonly [string, string])[], etcdPath: string): number {
  const env: Record<string, string> = {
    // etcd reads every ETCD_* variable: the caller's own must not leak into the member.
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    ...Object.fromEntries(vars),
  };
  const log = openSync(logFileOf(m), 'a', 0o600);
  try {
    const child = spawn(etcdPath, [], { env, detached: true, stdio: ['ignore', log, log], cwd: m.dir });
    if (child.pid === undefined) throw fail('ETCD_NOT_FOUND', `${etcdPath}: could not be started`);
    child.unref();
    writeFileAtomic({ path: pidFileOf(m), data: `${child.pid}\n`, mode: PUBLIC_FILE_MODE });
    return child.pid;
  } finally {
    closeSync(log);
  }
}

/** Stop one member by its pid file (when running) and start it again with `vars`; returns the new PID. */
export async function restartMember(m: MemberRef, vars: readonly (readonly [string, string])[], etcdPath: string, graceMs?: number): Promise<number> {
  await stopMembers([m], graceMs);
  return spawnMember(m, vars, etcdPath);
}

export const logTail = (m: MemberRef, lines = 8): string => {
  try {
    return readFileSync(logFileOf(m), 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
};

/** Wait until a member answers /health with health true, or throw after the deadline. */
async function waitHealthy(m: MemberLayout, tls: ClientTls | undefined, url: string, deadline: number): Promise<void> {
  let last = '';
  while (Date.now() < deadline) {
    try {
      const h = await checkHealth(url, tls, 2000);
      if (h.healthy) return;
      last = h.body;
    } catch (e) {
      last = (e as Error).message;
    }
    if (runningPid(m) === undefined) break;
    await sleep(250);
  }
  throw fail('CLUSTER_UNHEALTHY', `${m.name}: not healthy (${last || 'process exited'}); last log lines of ${logFileOf(m)}:\n${logTail(m)}`);
}

/**
 * Start every member not already running and wait for all to report healthy over mTLS (or http with
 * `insecure`). On failure the members this call started are stopped again.
 */
/**
 * A member added to the spec after the cluster was created joins only through `etcd-tls member add`
 * (runtime reconfiguration first): until it has run once, `up` leaves it alone.
 */
export const awaitsMemberAdd = (m: MemberLayout): boolean =>
  m.initialClusterState === 'existing' && !existsSync(path.join(m.installed.dataDir, 'member'));

export async function startLocalCluster(layout: ClusterLayout, options: StartOptions): Promise<LocalMember[]> {
  const started: MemberLayout[] = [];
  const result: LocalMember[] = [];
  const members = layout.members.filter((m) => !awaitsMemberAdd(m));
  try {
    for (const m of members) {
      const existing = runningPid(m);
      const pid = existing ?? startOne(layout, m, options);
      if (existing === undefined) started.push(m);
      result.push({ name: m.name, pid, clientUrl: m.clientUrl, peerUrl: m.peerUrl, alreadyRunning: existing !== undefined });
    }
    const deadline = Date.now() + (options.timeoutMs ?? 30_000);
    await Promise.all(
      members.map((m) =>
        waitHealthy(m, options.insecure ? undefined : memberClientTls(m), options.insecure ? m.clientUrl.replace('https://', 'http://') : m.clientUrl, deadline),
      ),
    );
    return options.insecure ? result.map((r) => ({ ...r, clientUrl: r.clientUrl.replace('https://', 'http://'), peerUrl: r.peerUrl.replace('https://', 'http://') })) : result;
  } catch (e) {
    await stopMembers(started);
    throw e;
  }
}

export interface StoppedMember {
  name: string;
  pid?: number;
  /** False when no process of ours was running for this member. */
  stopped: boolean;
}

async function stopPid(pid: number, m: MemberRef, graceMs: number): Promise<void> {
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (runningPid(m) !== pid) return;
    await sleep(100);
  }
  if (runningPid(m) === pid) process.kill(pid, 'SIGKILL');
  while (runningPid(m) === pid) await sleep(50);
}

/**
 * Stop the members whose pid files name a running etcd of that member; data dirs are kept. One at a
 * time: a leader signalled together with its followers spends seconds handing leadership to a member
 * that is itself going away (etcd 3.4 logs "failed to transfer leadership"), and can outlast the grace.
 */
export async function stopMembers(members: readonly MemberRef[], graceMs = 10_000): Promise<StoppedMember[]> {
  const stopped: StoppedMember[] = [];
  for (const m of members) {
    const pid = runningPid(m);
    if (pid !== undefined) await stopPid(pid, m, graceMs);
    rmSync(pidFileOf(m), { force: true });
    stopped.push({ name: m.name, ...(pid !== undefined ? { pid } : {}), stopped: pid !== undefined });
  }
  return stopped;
}
