/**
 * Real components for tests: find a binary (skip on a laptop, fail in CI), run a process without
 * throwing on a non-zero exit, and run our own CLI the way a user does.
 *
 * @example
 *   test('openssl reads our certificate', async (t) => {
 *     if (!requireBinary(t, 'openssl')) return;
 *     const r = await run('openssl', ['x509', '-noout', '-text'], { stdin: pem });
 *     assert.equal(r.code, 0, r.stderr);
 *   });
 */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';

/** Which Debian package installs each binary the tests use (named in CI failures). */
export const DEBIAN_PACKAGE: Readonly<Record<string, string>> = {
  etcd: 'etcd-server',
  etcdctl: 'etcd-client',
  cfssl: 'golang-cfssl',
  cfssljson: 'golang-cfssl',
  openssl: 'openssl',
  curl: 'curl',
  hyperfine: 'hyperfine',
  pg_ctl: 'postgresql',
  initdb: 'postgresql',
  psql: 'postgresql-client',
  wrk: 'wrk',
  zsh: 'zsh',
  fish: 'fish',
  man: 'man-db',
  chromium: 'chromium',
  sqlite3: 'sqlite3',
  promtool: 'prometheus',
};

/** The absolute path of `name` on PATH, or null. */
export function findBinary(name: string, searchPath: string = process.env.PATH ?? ''): string | null {
  for (const dir of searchPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return null;
}

/**
 * True when `name` is on PATH. Otherwise the test is skipped on a laptop, but fails when CI is set,
 * so a missing install step can never turn a CI run green by skipping.
 */
export function requireBinary(t: TestContext, name: string): boolean {
  if (findBinary(name)) return true;
  const pkg = DEBIAN_PACKAGE[name];
  const hint = pkg ? `apt-get install ${pkg}` : `install ${name}`;
  if (process.env.CI) assert.fail(`${name} is not on PATH and CI is set: ${hint}`);
  t.skip(`${name} is not on PATH (${hint})`);
  return false;
}

/** PATH and HOME only, plus `extra`: what a child gets when the parent's environment must not leak in. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? homedir(), ...extra };
}

export interface RunOptions {
  /** Written to the child's stdin, which is then closed (it is closed at once when absent). */
  stdin?: string | Buffer;
  /** The child's whole environment (spawn semantics); the parent's when absent. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Kill the child (SIGKILL) after this long; default 60 s so a hung tool cannot hang the suite. */
  timeoutMs?: number;
}

export interface RunResult {
  /** Exit code, or null when the child was ended by a signal (see `signal`). */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Run a command to completion. Never rejects because of the exit status; rejects only if it cannot start. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 60_000);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    // A child that exits without reading its stdin makes the write fail with EPIPE; its exit status tells the story.
    child.stdin.on('error', () => {});
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${cmd}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        timedOut,
      });
    });
    child.stdin.end(opts.stdin);
  });
}

function findRepoRoot(): string {
  // Compiled tests run from dist/test/helpers, sources from test/helpers: walk up to our package.json.
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'etcd-tls') return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('etcd-tls package.json not found above the test helpers');
    dir = parent;
  }
}

/** The repository root (where package.json and bin/ live). */
export const REPO_ROOT: string = findRepoRoot();
/** The launcher users run: `<repo>/bin/etcd-tls`. */
export const CLI_PATH: string = path.join(REPO_ROOT, 'bin', 'etcd-tls');

export interface CliOptions extends Omit<RunOptions, 'env'> {
  /** Added to a clean environment (PATH, HOME): the developer's own variables never change a test's outcome. */
  env?: Record<string, string>;
}

/**
 * Run `node bin/etcd-tls ...args` exactly as a user would.
 *
 * @example
 *   const r = await etcdTls(['gencert', '-initca', 'ca-csr.json'], { cwd: dir });
 *   assert.equal(r.code, 0, r.stderr);
 */
export function etcdTls(args: readonly string[], opts: CliOptions = {}): Promise<RunResult> {
  return run(process.execPath, [CLI_PATH, ...args], { ...opts, env: cleanEnv(opts.env) });
}

/** The CLI helpers under one name, for `CLI.etcdTls([...])`. */
export const CLI = { path: CLI_PATH, etcdTls } as const;
