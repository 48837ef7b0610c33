/**
 * A large DIR checked in parts: contiguous runs of member and client directories, each checked by
 * sessions of its own, on this thread or on a worker thread. A part's result stands for checking its
 * directories in the one session only when nothing in it reaches outside them (check.ts decides; a
 * part that does is checked again in that session). The same file is the worker's entry: loaded in
 * a worker thread with a Part as its data, it checks it and posts the result.
 */
import type { Dirent } from 'node:fs';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { CheckSession, mergeSessionFindings, readDir, type SessionFindings } from './session.js';
import { checkWorkerFile } from './worker-file.js';

const KIND = 'etcd-tls check part';

/**
 * Directories per session. A session keeps every certificate it read until its checks run, and the
 * young-generation GC copies all of that again at each collection: in runs of this many, what a
 * session held dies young (a 300-member check spent ~100 ms in GC holding everything).
 */
export const UNITS_PER_SESSION = 32;

export interface Part {
  /** Absolute, normalized directories, in the order a single session would scan them. */
  units: string[];
  primaryCa?: string;
  /** Milliseconds since the epoch: the time certificates are judged at. */
  now: number;
  warningDays: number;
}

export interface PartResult {
  findings: SessionFindings;
  /** Where its sessions registered certificates and CA files (CheckSession.registeredDirs). */
  dirs: string[];
}

/** `items` in consecutive runs of at most `size`. */
export function runsOf<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Directory listings already made (this thread's unitDirs), so that a part checked here lists nothing again. */
export type Listings = ReadonlyMap<string, Dirent[]>;

function checkInOneSession(p: Part, units: readonly string[], listings?: Listings): PartResult {
  const session = new CheckSession(new Date(p.now), p.warningDays);
  session.primaryCa = p.primaryCa;
  for (const dir of units) session.scanUnit(dir, listings?.get(dir) ?? readDir(dir), false);
  return { findings: session.finish(), dirs: [...session.registeredDirs()] };
}

/**
 * Check a part, a session per UNITS_PER_SESSION directories; when one of those reached outside its
 * own directories, the whole part again in one session.
 */
export function checkPart(p: Part, listings?: Listings): PartResult {
  const runs = runsOf(p.units, UNITS_PER_SESSION);
  const results = runs.map((units) => checkInOneSession(p, units, listings));
  const contained = results.every((r, i) => {
    const own = new Set(runs[i]);
    return r.dirs.every((d) => own.has(d));
  });
  if (!contained) return checkInOneSession(p, p.units, listings);
  return { findings: mergeSessionFindings(results.map((r) => r.findings)), dirs: results.flatMap((r) => r.dirs) };
}

/**
 * Start checking `p` on a worker thread. `result` is undefined when the worker failed in any way
 * (an unreadable directory, a crash): the caller checks those directories itself and meets the
 * same error there, reported as a single-threaded check reports it.
 */
export function checkPartInWorker(p: Part): { result: Promise<PartResult | undefined>; stop: () => void } {
  const worker = new Worker(checkWorkerFile(), { workerData: { kind: KIND, part: p }, stdout: true, stderr: true });
  const result = new Promise<PartResult | undefined>((resolve) => {
    worker.once('message', (r: PartResult) => resolve(r));
    worker.once('error', () => resolve(undefined));
    worker.once('exit', () => resolve(undefined));
  });
  return { result, stop: () => void worker.terminate() };
}

if (!isMainThread && (workerData as { kind?: string } | null)?.kind === KIND) {
  parentPort?.postMessage(checkPart((workerData as { part: Part }).part));
}
