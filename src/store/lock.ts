/**
 * An advisory lock on an output directory, held from reading its state to the last write. Two runs
 * writing into one directory at once would interleave their renames: a certificate from one beside
 * the other's key, or one run's CA beside the other's CA key.
 *
 * A directory that does not exist yet needs no lock: its batch lands as one new tree with one rename,
 * and that rename fails cleanly when another run landed first (see files.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fail } from '../errors.js';

export const LOCK_FILE = '.etcd-tls.lock';

interface Holder {
  pid: number;
  what: string;
  since: string;
}

function readHolder(lockPath: string): Holder | undefined {
  try {
    const [pid, since, ...what] = fs.readFileSync(lockPath, 'utf8').trim().split(' ');
    const n = Number(pid);
    return Number.isInteger(n) && n > 0 ? { pid: n, since: since ?? '?', what: what.join(' ') || 'etcd-tls' } : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a process with this PID runs on this machine (EPERM: it does, as another user). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Create the lock file with its content in one step: a reader never sees it empty. */
function tryCreate(lockPath: string, what: string): boolean {
  const temp = `${lockPath}.${process.pid}.tmp`;
  fs.writeFileSync(temp, `${process.pid} ${new Date().toISOString()} ${what}\n`, { mode: 0o644 });
  try {
    fs.linkSync(temp, lockPath);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    fs.rmSync(temp, { force: true });
  }
}

/** Move a dead run's lock aside; if what was moved turns out to be a live run's new lock, put it back. */
function takeOver(lockPath: string, stale: Holder | undefined): void {
  const aside = `${lockPath}.${process.pid}.stale`;
  try {
    fs.renameSync(lockPath, aside);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return; // someone else took it over first
    throw e;
  }
  const moved = readHolder(aside);
  if (moved && moved.pid !== stale?.pid && isRunning(moved.pid)) {
    try {
      fs.linkSync(aside, lockPath);
    } catch {
      // a third run holds it now; either way it is held
    }
  }
  fs.rmSync(aside, { force: true });
}

/** Create the lock file, or report who holds it; a lock whose process is gone is taken over. */
function acquire(dir: string, what: string): string {
  const lockPath = path.join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      if (tryCreate(lockPath, what)) return lockPath;
    } catch (e) {
      throw fail('WRITE_FAILED', `${lockPath}: cannot create the lock file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, e);
    }
    const holder = readHolder(lockPath);
    if (holder && isRunning(holder.pid))
      throw fail(
        'DIRECTORY_LOCKED',
        `${dir}: ${holder.what} (pid ${holder.pid}) has been writing here since ${holder.since}; wait for it to finish, then run again (if pid ${holder.pid} is not etcd-tls, remove ${lockPath})`,
      );
    // The holder is gone (killed, or the machine restarted): its lock means nothing now.
    takeOver(lockPath, holder);
  }
  throw fail('DIRECTORY_LOCKED', `${lockPath}: cannot take this lock over; if no etcd-tls is running, remove it`);
}

/** Locks this process holds, by path: released on every way out (see releaseDirectoryLocks). */
const held = new Set<string>();

function release(lockPath: string): void {
  held.delete(lockPath);
  if (readHolder(lockPath)?.pid === process.pid) fs.rmSync(lockPath, { force: true });
}

/** Remove every lock this process holds: for a signal handler about to end the process at once. */
export function releaseDirectoryLocks(): void {
  for (const lockPath of [...held]) release(lockPath);
}

/**
 * Run `work` while holding `dir`'s lock (when `dir` exists). `what` names the run for whoever finds
 * the directory locked, e.g. "etcd-tls gen".
 */
export async function withDirectoryLock<T>(dir: string, what: string, work: () => Promise<T>): Promise<T> {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) return work();
  // Held by this very run already (an operation calling another use case, e.g. member remove → revoke).
  const mine = path.resolve(dir, LOCK_FILE);
  if ([...held].some((h) => path.resolve(h) === mine)) return work();
  const lockPath = acquire(dir, what);
  held.add(lockPath);
  // Also when the process exits in the middle: process.exit() skips finally.
  const onExit = (): void => release(lockPath);
  process.once('exit', onExit);
  try {
    return await work();
  } finally {
    process.off('exit', onExit);
    release(lockPath);
  }
}
