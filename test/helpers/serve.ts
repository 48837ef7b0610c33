/**
 * Signing servers for tests: `etcd-tls serve` and `cfssl serve`, started on a loopback address, ready
 * once they print their listening line (etcd-tls) or answer (cfssl), stopped by PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { CLI_PATH, cleanEnv } from './components.js';

export interface ServerHandle {
  readonly pid: number;
  /** The process itself (its signalCode after a kill, or a signal to its whole group). */
  readonly child: ChildProcess;
  readonly url: string;
  /** stderr and stdout so far. */
  logs(): string;
  /** SIGTERM (then SIGKILL after 10 s); resolves with the exit code. Safe to call twice. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  readonly exited: Promise<number | null>;
}

function track(child: ChildProcess, url: string): ServerHandle & { waitFor(re: RegExp, ms: number): Promise<void> } {
  let text = '';
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  const onData = (b: Buffer): void => {
    text += b.toString('utf8');
    for (const w of waiters.splice(0)) if (w.re.test(text)) w.resolve();
    else waiters.push(w);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    pid: child.pid as number,
    child,
    url,
    logs: () => text,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      return exited;
    },
    waitFor(re, ms) {
      if (re.test(text)) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${re} within ${ms} ms; output:\n${text}`)), ms);
        const w = { re, resolve: () => (clearTimeout(timer), resolve()) };
        waiters.push(w);
        void exited.then((code) => reject(new Error(`server exited (${code}) before ${re}; output:\n${text}`)));
      });
    },
  };
}

/**
 * Start `etcd-tls serve ARGS` (address and port are the caller's) and wait for its listening line.
 * `ownGroup` starts it in a process group of its own, so a signal to `-pid` reaches its workers too
 * (a SIGKILL of the group is a host crash).
 */
export async function startEtcdTlsServe(args: readonly string[], opts: { cwd?: string; url: string; env?: Record<string, string>; ownGroup?: boolean }): Promise<ServerHandle> {
  const child = spawn(process.execPath, [CLI_PATH, 'serve', ...args], { cwd: opts.cwd, env: cleanEnv(opts.env), stdio: ['ignore', 'pipe', 'pipe'], detached: opts.ownGroup ?? false });
  const handle = track(child, opts.url);
  try {
    await handle.waitFor(/listening on/, 30_000);
  } catch (e) {
    await handle.stop('SIGKILL');
    throw e;
  }
  return handle;
}

/** GET url until it answers at all (cfssl serve prints no ready line of its own that is stable across versions). */
async function waitAnswering(url: string, exited: Promise<unknown>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  let dead = false;
  void exited.then(() => (dead = true));
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const req = request(url, (res) => (res.resume(), resolve(true)));
      req.on('error', () => resolve(false));
      req.end();
    });
    if (ok) return;
    if (dead || Date.now() > deadline) throw new Error(`${url} did not answer within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Start `cfssl serve ARGS -address IP -port PORT`. */
export async function startCfsslServe(args: readonly string[], opts: { cwd?: string; address: string; port: number }): Promise<ServerHandle> {
  const url = `http://${opts.address}:${opts.port}`;
  const child = spawn('cfssl', ['serve', '-loglevel', '3', ...args, '-address', opts.address, '-port', String(opts.port)], { cwd: opts.cwd, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  const handle = track(child, url);
  try {
    await waitAnswering(`${url}/api/v1/cfssl/scaninfo`, handle.exited, 30_000);
  } catch (e) {
    await handle.stop('SIGKILL');
    throw new Error(`${(e as Error).message}\n${handle.logs()}`);
  }
  return handle;
}

export interface HttpAnswer {
  status: number;
  body: string;
  json: { success: boolean; result: unknown; errors: { code: number; message: string }[]; messages: { code: number; message: string }[] } | undefined;
}

/** One HTTP request with a raw body (any content type), never throwing on a status. */
export async function call(url: string, opts: { method?: string; body?: string | Buffer; headers?: Record<string, string> } = {}): Promise<HttpAnswer> {
  const res = await fetch(url, { method: opts.method ?? (opts.body === undefined ? 'GET' : 'POST'), ...(opts.body !== undefined ? { body: typeof opts.body === 'string' ? opts.body : new Uint8Array(opts.body) } : {}), headers: opts.headers ?? {} });
  const body = await res.text();
  let json;
  try {
    json = JSON.parse(body);
  } catch {
    json = undefined;
  }
  return { status: res.status, body, json };
}
