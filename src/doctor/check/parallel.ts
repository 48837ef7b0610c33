/**
 * Part of a large DIR checked on a worker thread: a CheckSession of its own over a contiguous run of
 * member and client directories (check.ts decides the split and whether the result can be used).
 * The same file is the worker's entry: loaded in a worker thread with a Partition as its data, it
 * checks it and posts the result.
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { CheckSession, readDir, type SessionFindings } from './session.js';
import { checkWorkerFile } from './worker-file.js';

const KIND = 'etcd-tls check partition';

export interface Partition {
  /** Absolute, normalized directories, in the order a single session would scan them. */
  units: string[];
  primaryCa?: string;
  /** Milliseconds since the epoch: the time certificates are judged at. */
  now: number;
  warningDays: number;
}

export interface PartitionResult {
  findings: SessionFindings;
  /** Where the session registered certificates and CA files (CheckSession.registeredDirs). */
  dirs: string[];
}

export function checkPartition(p: Partition): PartitionResult {
  const session = new CheckSession(new Date(p.now), p.warningDays);
  session.primaryCa = p.primaryCa;
  for (const dir of p.units) session.scanUnit(dir, readDir(dir), false);
  return { findings: session.finish(), dirs: [...session.registeredDirs()] };
}

/**
 * Start checking `p` on a worker thread. `result` is undefined when the worker failed in any way
 * (an unreadable directory, a crash): the caller checks those directories itself and meets the
 * same error there, reported as a single-threaded check reports it.
 */
export function checkUnitsInWorker(p: Partition): { result: Promise<PartitionResult | undefined>; stop: () => void } {
  const worker = new Worker(checkWorkerFile(), { workerData: { kind: KIND, partition: p }, stdout: true, stderr: true });
  const result = new Promise<PartitionResult | undefined>((resolve) => {
    worker.once('message', (r: PartitionResult) => resolve(r));
    worker.once('error', () => resolve(undefined));
    worker.once('exit', () => resolve(undefined));
  });
  return { result, stop: () => void worker.terminate() };
}

if (!isMainThread && (workerData as { kind?: string } | null)?.kind === KIND) {
  parentPort?.postMessage(checkPartition((workerData as { partition: Partition }).partition));
}
