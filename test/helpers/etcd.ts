/**
 * Real etcd 3.4 members for end-to-end tests.
 *
 * Every member is spawned with a clean environment (etcd reads every ETCD_* variable, so a developer's
 * own would change the outcome), its output kept in a ring of lines for error messages, and its PID
 * recorded: an after() hook registered when this module loads stops exactly those PIDs, also when a
 * test fails.
 *
 * @example
 *   const env = { ...parseEnvFile(await readFile(`${out}/member1/etcd.env`, 'utf8')), ...rewrittenPaths };
 *   const [m] = await startCluster([{ name: 'member1', ip: '127.0.0.21', clientPort: 2379, peerPort: 2380, dataDir, env }],
 *     { tls: { ca, cert, key } });
 *   const r = await etcdctl(['put', 'k', 'v'], { endpoints: 'https://127.0.0.21:2379', cacert, cert, key });
 *   await m.stop();
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import * as path from 'node:path';
import { request as httpsRequest } from 'node:https';
import { after } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { cleanEnv, run, type RunResult } from './components.js';

export interface MemberSpec {
  name: string;
  /** A loopback address, 127.0.0.x. */
  ip: string;
  clientPort: number;
  peerPort: number;
  /** Always wins over an ETCD_DATA_DIR in `env`: a generated file's /var/lib/etcd is never right in a test. */
  dataDir: string;
  /** ETCD_* variables, e.g. from parseEnvFile(); exclusive with `args`. */
  env?: Record<string, string>;
  /** etcd flags; exclusive with `env`. With neither, a plain-http member of a cluster of one. */
  args?: readonly string[];
  /** More environment variables for the child, on top of `env`. */
  extraEnv?: Record<string, string>;
  /** How many log lines to keep (default 400). */
  logLines?: number;
}

export interface MemberHandle {
  readonly name: string;
  readonly pid: number;
  readonly spec: MemberSpec;
  /** The last log lines (stdout and stderr interleaved), newline-joined. */
  logs(): string;
  /** SIGTERM, then SIGKILL after 5 s; resolves once the process has exited. Safe to call twice. */
  stop(): Promise<void>;
  /** Resolves with the exit code (null when ended by a signal). */
  readonly exited: Promise<number | null>;
  /** False once the process has exited. */
  readonly running: boolean;
}

/** PEM text or a path to a PEM file, for each field. */
export interface TlsClient {
  ca: string;
  cert?: string;
  key?: string;
}

/** KEY="value", KEY='value' or KEY=value lines; blank lines, # comments and an `export ` prefix are ignored. */
export function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) throw new Error(`env file: cannot parse line ${JSON.stringify(raw)}`);
    env[m[1] as string] = unquote(m[2] as string);
  }
  return env;
}

function unquote(v: string): string {
  const dq = /^"((?:[^"\\]|\\.)*)"\s*(?:#.*)?$/.exec(v);
  if (dq) return (dq[1] as string).replace(/\\(["\\$`])/g, '$1');
  const sq = /^'([^']*)'\s*(?:#.*)?$/.exec(v);
  if (sq) return sq[1] as string;
  // Unquoted: a trailing " # comment" is not part of the value (systemd and sh agree on that much).
  return v.replace(/\s+#.*$/, '').trim();
}

/** `name=scheme://ip:peerPort,...` for --initial-cluster / ETCD_INITIAL_CLUSTER. */
export function initialCluster(members: readonly MemberSpec[], scheme: 'http' | 'https'): string {
  return members.map((m) => `${m.name}=${scheme}://${m.ip}:${m.peerPort}`).join(',');
}

/** The URL flags of one member of `cluster` (without TLS flags); add --cert-file etc. for https. */
export function urlFlags(
  m: MemberSpec,
  cluster: readonly MemberSpec[],
  scheme: { client: 'http' | 'https'; peer: 'http' | 'https' },
): string[] {
  const client = `${scheme.client}://${m.ip}:${m.clientPort}`;
  const peer = `${scheme.peer}://${m.ip}:${m.peerPort}`;
  return [
    `--name=${m.name}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=${initialCluster(cluster, scheme.peer)}`,
    '--initial-cluster-state=new',
    '--initial-cluster-token=etcd-tls-test',
  ];
}

const running = new Map<number, MemberHandle>();

// Registered when this module loads, i.e. at the top level of the test file.
after(() => stopAll());
// Last resorts when hooks cannot run: kill (synchronously) what we started, then die as asked. The
// test runner ends a file that overran its timeout with SIGTERM, which skips 'exit' listeners.
function killStartedSync(): void {
  for (const pid of running.keys()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
process.on('exit', killStartedSync);
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    killStartedSync();
    process.kill(process.pid, signal);
  });
}

/**
 * Stop every member this process started and that is still running; nothing else. One at a time:
 * stopped together, a leader spends seconds handing leadership to a member that is stopping too.
 */
export async function stopAll(): Promise<void> {
  for (const m of [...running.values()]) await m.stop();
}

/** Spawn one etcd member; resolves once the process has started (not once it is healthy: see waitHealthy). */
export async function startMember(spec: MemberSpec): Promise<MemberHandle> {
  if (spec.env && spec.args) throw new TypeError(`member ${spec.name}: give env or args, not both`);
  if (spec.args?.some((a) => /^--?data-dir\b/.test(a))) {
    throw new TypeError(`member ${spec.name}: set dataDir, not --data-dir in args`);
  }
  const args = spec.env ? [] : [...(spec.args ?? urlFlags(spec, [spec], { client: 'http', peer: 'http' })), `--data-dir=${spec.dataDir}`];
  const env = cleanEnv({ ...spec.env, ...spec.extraEnv, ...(spec.env ? { ETCD_DATA_DIR: spec.dataDir } : {}) });

  const child = spawn('etcd', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (e) => reject(new Error(`cannot start etcd for member ${spec.name}: ${e.message}`)));
  });
  const pid = child.pid as number;

  const ring: string[] = [];
  const keep = spec.logLines ?? 400;
  const collect = (stream: NodeJS.ReadableStream): void => {
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      ring.push(...lines);
      if (ring.length > keep) ring.splice(0, ring.length - keep);
    });
    stream.on('end', () => {
      if (partial) ring.push(partial);
    });
  };
  collect(child.stdout);
  collect(child.stderr);

  let alive = true;
  // 'close' rather than 'exit': by then the output is drained, so logs() shows the last words.
  const exited = new Promise<number | null>((resolve) => {
    child.once('close', (code) => {
      alive = false;
      running.delete(pid);
      resolve(code);
    });
  });

  const stop = async (): Promise<void> => {
    if (alive) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    try {
      await exited;
    } finally {
      clearTimeout(timer);
    }
  };

  const handle: MemberHandle = {
    name: spec.name,
    pid,
    spec,
    logs: () => ring.join('\n'),
    stop,
    exited,
    get running() {
      return alive;
    },
  };
  running.set(pid, handle);
  return handle;
}

export interface ClusterOptions {
  /** Wait for /health over https with these credentials; over plain http when absent. */
  tls?: TlsClient;
  /** Per-member health timeout (default 30 s). */
  timeoutMs?: number;
  /** Set false to return as soon as the processes have started. */
  wait?: boolean;
}

/**
 * Start every member at once (a member blocks until the cluster has quorum), then wait until each
 * answers /health. On failure the members already started are stopped before the error is thrown.
 */
export async function startCluster(specs: readonly MemberSpec[], opts: ClusterOptions = {}): Promise<MemberHandle[]> {
  const members: MemberHandle[] = [];
  try {
    for (const spec of specs) members.push(await startMember(spec));
    if (opts.wait !== false) {
      const scheme = opts.tls ? 'https' : 'http';
      await Promise.all(
        members.map((m) =>
          waitHealthy(`${scheme}://${m.spec.ip}:${m.spec.clientPort}`, opts.tls, opts.timeoutMs ?? 30_000, members),
        ),
      );
    }
    return members;
  } catch (e) {
    await Promise.all(members.map((m) => m.stop()));
    throw e;
  }
}

function pem(v: string | undefined): string | undefined {
  if (v === undefined || v.includes('-----BEGIN')) return v;
  return readFileSync(v, 'utf8');
}

/** One GET <url>/health; resolves with the status and body, rejects on a network or TLS error. */
function getHealth(url: string, tls: TlsClient | undefined): Promise<{ status: number; body: string }> {
  const target = new URL('/health', url);
  const options = tls
    ? { ca: pem(tls.ca), cert: pem(tls.cert), key: pem(tls.key), agent: false as const, timeout: 2_000 }
    : { agent: false as const, timeout: 2_000 };
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(target, options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 2 s')));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Poll GET <url>/health until it reports {"health":"true"}. On timeout, or as soon as one of
 * `members` (default: every member this process started) exits, throws with the last error and the
 * members' last log lines.
 */
export async function waitHealthy(
  url: string,
  tls?: TlsClient,
  timeoutMs = 30_000,
  members: readonly MemberHandle[] = [...running.values()],
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no attempt yet';
  for (;;) {
    try {
      const { status, body } = await getHealth(url, tls);
      if (status === 200 && (JSON.parse(body) as { health?: unknown }).health === 'true') return;
      last = `HTTP ${status}: ${body.trim()}`;
    } catch (e) {
      last = e instanceof Error ? e.message : String(e);
    }
    const dead = members.filter((m) => !m.running);
    if (dead.length > 0 || Date.now() >= deadline) {
      const why = dead.length > 0 ? `member ${dead.map((m) => m.name).join(', ')} exited` : `not healthy after ${timeoutMs} ms`;
      throw new Error(`${url}/health: ${why}; last error: ${last}${logTails(members)}`);
    }
    await sleep(200);
  }
}

function logTails(members: readonly MemberHandle[], lines = 20): string {
  return members
    .map((m) => `\n--- ${m.name} (pid ${m.pid}${m.running ? '' : ', exited'}), last log lines:\n${m.logs().split('\n').slice(-lines).join('\n')}`)
    .join('');
}

export interface EtcdctlOptions {
  endpoints: string | readonly string[];
  /** Paths (etcdctl reads files). */
  cacert?: string;
  cert?: string;
  key?: string;
  stdin?: string;
  timeoutMs?: number;
}

/** Run `etcdctl` (v3 API) against `endpoints` with a clean environment; never rejects on a non-zero exit. */
export function etcdctl(args: readonly string[], opts: EtcdctlOptions): Promise<RunResult> {
  const endpoints = typeof opts.endpoints === 'string' ? opts.endpoints : opts.endpoints.join(',');
  const flags = [`--endpoints=${endpoints}`, '--dial-timeout=5s'];
  if (opts.cacert) flags.push(`--cacert=${opts.cacert}`);
  if (opts.cert) flags.push(`--cert=${opts.cert}`);
  if (opts.key) flags.push(`--key=${opts.key}`);
  return run('etcdctl', [...flags, ...args], {
    env: cleanEnv({ ETCDCTL_API: '3' }),
    stdin: opts.stdin,
    timeoutMs: opts.timeoutMs ?? 30_000,
  });
}

/** PIDs of live (non-zombie) etcd processes whose data dir lies under `dir`. */
export function etcdProcessesUnder(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== 'etcd') continue;
      if (/\) Z /.test(readFileSync(`/proc/${entry}/stat`, 'utf8'))) continue;
      const environ = readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0');
      if (environ.some((v) => v.startsWith(`ETCD_DATA_DIR=${dir}${path.sep}`))) pids.push(Number(entry));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return pids;
}
