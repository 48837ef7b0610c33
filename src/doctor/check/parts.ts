/**
 * A large DIR checked in runs: consecutive member and client directories, UNITS_PER_SESSION at a
 * time, each run by a CheckSession of its own, on this thread or on worker threads that take the
 * next run from a shared counter (so every thread stays busy until none is left, whatever its start
 * cost). A run's result stands for checking its directories in one session over all of them only
 * when nothing in it reaches outside them; check.ts decides, and checks them in one session if not.
 * The same file is the worker's entry: loaded in a worker thread with a Job as its data, it checks
 * runs and posts their results.
 */
import type { Dirent } from 'node:fs';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { CheckSession, readDir, type SessionFindings } from './session.js';
import { checkWorkerFile } from './worker-file.js';

const KIND = 'etcd-tls check runs';

/**
 * Directories per session. A session keeps every certificate it read until its checks run, and the
 * young-generation GC copies all of that again at each collection: in runs of this many, what a
 * session held dies young (a 300-member check spent ~100 ms in GC holding everything).
 */
export const UNITS_PER_SESSION = 32;

export interface Job {
  /** Runs of absolute, normalized directories, in the order a single session would scan them. */
  runs: string[][];
  /**
   * Runs [0, shared) go to whichever thread takes them next; each worker also has one run of its own
   * after those (so every worker started checks something, even when this thread would have been faster).
   */
  shared: number;
  primaryCa?: string;
  /** Milliseconds since the epoch: the time certificates are judged at. */
  now: number;
  warningDays: number;
  /** The next run to take, shared by every thread of the job. */
  next: Int32Array;
}

export interface RunResult {
  findings: SessionFindings;
  /** Where the session registered certificates and CA files (CheckSession.registeredDirs). */
  dirs: string[];
}

/** Directory listings already made (this thread's unitDirs), so that runs checked here list nothing again. */
export type Listings = ReadonlyMap<string, Dirent[]>;

/** `items` in consecutive runs of at most `size`. */
export function runsOf<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** A job for this thread and `workers` worker threads (at most one per run). */
export function newJob(runs: string[][], workers: number, now: number, warningDays: number, primaryCa: string | undefined): Job {
  return { runs, shared: runs.length - workers, now, warningDays, next: new Int32Array(new SharedArrayBuffer(4)), ...(primaryCa !== undefined ? { primaryCa } : {}) };
}

function scanRun(job: Job, units: readonly string[], listings?: Listings): CheckSession {
  const session = new CheckSession(new Date(job.now), job.warningDays);
  session.primaryCa = job.primaryCa;
  for (const dir of units) session.scanUnit(dir, listings?.get(dir) ?? readDir(dir), false);
  return session;
}

/**
 * Check run `own` (a worker's), then take runs from the job's counter until none is left: results by
 * run index. Each run's signatures are verified on the thread pool while the next run is read.
 */
export async function checkRuns(job: Job, own?: number, listings?: Listings): Promise<Map<number, RunResult>> {
  const done = new Map<number, RunResult>();
  let taken = false;
  const take = (): number | undefined => {
    if (!taken && own !== undefined) {
      taken = true;
      return own;
    }
    const i = Atomics.add(job.next, 0, 1);
    return i < job.shared ? i : undefined;
  };
  let reading: { index: number; session: CheckSession; verified: Promise<void> } | undefined;
  const finish = async (r: NonNullable<typeof reading>): Promise<void> => {
    await r.verified;
    done.set(r.index, { findings: r.session.finish(), dirs: [...r.session.registeredDirs()] });
  };
  for (let i = take(); i !== undefined; i = take()) {
    const session = scanRun(job, job.runs[i] as string[], listings);
    const next = { index: i, session, verified: session.verifyAhead() };
    if (reading) await finish(reading);
    reading = next;
  }
  if (reading) await finish(reading);
  return done;
}

/**
 * Start a worker thread on `job`. `result` is undefined when the worker failed in any way (an
 * unreadable directory, a crash): the runs it took are then missing, and the caller checks every
 * directory in its own session, meeting the same error there as a single-threaded check does.
 */
export function checkRunsInWorker(job: Job, own: number): { result: Promise<Map<number, RunResult> | undefined>; stop: () => void } {
  const worker = new Worker(checkWorkerFile(), { workerData: { kind: KIND, job, own }, stdout: true, stderr: true });
  const result = new Promise<Map<number, RunResult> | undefined>((resolve) => {
    worker.once('message', (r: Map<number, RunResult>) => resolve(r));
    worker.once('error', () => resolve(undefined));
    worker.once('exit', () => resolve(undefined));
  });
  return { result, stop: () => void worker.terminate() };
}

if (!isMainThread && (workerData as { kind?: string } | null)?.kind === KIND) {
  const { job, own } = workerData as { job: Job; own: number };
  void checkRuns(job, own).then((results) => parentPort?.postMessage(results));
}
