/**
 * Shared helpers for the benchmarks: Markdown tables, medians and ratios, the machine line printed
 * with every table (load average included: this machine is shared, and the numbers mean little
 * without it), and running hyperfine.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as os from 'node:os';

export type Cell = string | number;

/** One benchmark's output: a titled Markdown table with the notes that say how to read it. */
export interface Section {
  title: string;
  /** Lines printed above the table (what was measured, how). */
  intro: string[];
  head: string[];
  rows: Cell[][];
  /** Lines printed below the table (targets met or missed, caveats). */
  notes: string[];
}

/** A Markdown table; columns whose cells all look like figures are right-aligned. */
export function markdownTable(head: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const text = [head, ...rows].map((r) => r.map((c) => String(c).replace(/\|/g, '\\|')));
  const widths = head.map((_, i) => Math.max(3, ...text.map((r) => (r[i] ?? '').length)));
  const figure = /^([-+~≈]?[\d.]|—|$)/;
  const right = head.map((_, i) => i > 0 && text.slice(1).every((r) => figure.test(r[i] ?? '')));
  const pad = (c: string, i: number): string => (right[i] ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number));
  const line = (r: string[]): string => `| ${r.map(pad).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (right[i] ? ` ${'-'.repeat(w - 1)}: ` : ` ${'-'.repeat(w)} `)).join('|')}|`;
  return [line(text[0] as string[]), rule, ...text.slice(1).map(line)].join('\n');
}

export function renderSection(s: Section): string {
  const parts = [`## ${s.title}`, ''];
  if (s.intro.length) parts.push(...s.intro, '');
  if (s.rows.length) parts.push(markdownTable(s.head, s.rows), '');
  if (s.notes.length) parts.push(...s.notes.map((n) => `- ${n}`), '');
  return `${parts.join('\n')}\n`;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

export const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/** `1.27×`; `—` when either side is missing. */
export function ratio(a: number, b: number): string {
  return Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : '—';
}

export function ms(x: number): string {
  if (!Number.isFinite(x)) return '—';
  return x >= 10_000 ? `${(x / 1000).toFixed(1)} s` : x >= 100 ? `${x.toFixed(0)} ms` : `${x.toFixed(1)} ms`;
}

export function perSecond(x: number): string {
  return !Number.isFinite(x) ? '—' : x >= 100 ? `${x.toFixed(0)}/s` : `${x.toFixed(1)}/s`;
}

export const loadAverage = (): string =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

function cpuModel(): string {
  return os.cpus()[0]?.model.trim() ?? 'unknown CPU';
}

/** Versions of the tools the tables compare, as their own --version prints them. */
function toolVersion(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10_000 });
  if (r.error || r.status !== 0) return 'not installed';
  return `${r.stdout}${r.stderr}`.split('\n').find((l) => l.trim())?.trim() ?? 'unknown';
}

export function machineLine(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return [
    `Machine: ${os.cpus().length} × ${cpuModel()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, load average ${loadAverage()} (1/5/15 min).`,
    `etcd-tls ${pkg.version}, Node ${process.version} (OpenSSL ${process.versions.openssl}), cfssl ${toolVersion('cfssl', ['version']).replace(/^Version:\s*/, '')}, ${toolVersion('hyperfine', ['--version'])}.`,
  ].join('\n');
}

export function haveCommand(cmd: string): boolean {
  return !spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status;
}

/** Progress goes to stderr so that stdout is the Markdown report alone. */
export const progress = (message: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)} load ${loadAverage()}] ${message}\n`);
};

/** One command's result from hyperfine's --export-json (seconds converted to milliseconds). */
export interface HyperfineResult {
  command: string;
  timesMs: number[];
  meanMs: number;
  /** hyperfine's mean user + system CPU time. */
  cpuMs: number;
}

interface HyperfineJson {
  results: { command: string; mean: number; user: number; system: number; times: number[] }[];
}

/** Processes the benchmarks started; run.ts stops them by PID if the run is interrupted. */
export const children = new Set<number>();

export class TimeoutError extends Error {}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Kill the command (and everything it started) after this long: a deadlocked process never ends. */
  timeoutMs?: number;
}

/** Run a command to completion, collecting output; rejects with its stderr on a non-zero exit. */
export function runCommand(cmd: string, args: readonly string[], options: RunOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    // Its own process group, so that an interrupted run can stop it with everything it started.
    const child = spawn(cmd, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    if (child.pid) children.add(child.pid);
    let timedOut = false;
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            try {
              if (child.pid) process.kill(-child.pid, 'SIGKILL');
            } catch {
              // already gone
            }
          }, options.timeoutMs);
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (child.pid) children.delete(child.pid);
      if (timedOut) reject(new TimeoutError(`${cmd} ${args.join(' ')}: killed after ${Math.round((options.timeoutMs ?? 0) / 1000)} s`));
      else if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${args.join(' ')}: exit ${code ?? signal}: ${err.trim().split('\n').slice(-5).join(' / ')}`));
    });
  });
}

export interface HyperfineOptions {
  cwd: string;
  /** Where hyperfine writes its JSON (inside the bench's temp dir). */
  json: string;
  warmup: number;
  runs: number;
  /** One --prepare for all commands, or one per command. */
  prepare?: string[];
  timeoutMs?: number;
}

/**
 * Time commands side by side in ONE hyperfine invocation (-N: no intermediate shell, so a command's
 * time is its own). Commands are split into words by hyperfine (shell-words), so quote with "".
 */
export async function hyperfine(commands: readonly string[], o: HyperfineOptions): Promise<HyperfineResult[]> {
  const args = ['-N', '--style', 'none', '--warmup', String(o.warmup), '--runs', String(o.runs), '--export-json', o.json];
  for (const p of o.prepare ?? []) args.push('--prepare', p);
  await runCommand('hyperfine', [...args, ...commands], { cwd: o.cwd, ...(o.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs }) });
  const data = JSON.parse(readFileSync(o.json, 'utf8')) as HyperfineJson;
  return data.results.map((r) => ({
    command: r.command,
    timesMs: r.times.map((t) => t * 1000),
    meanMs: r.mean * 1000,
    cpuMs: (r.user + r.system) * 1000,
  }));
}
