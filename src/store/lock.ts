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
import { beforeFileOperation } from './fault.js';
import { writeNewFile } from './files.js';
import { isRunning, randomTag, recoverLeftovers, tempPath } from './leftovers.js';

export const LOCK_FILE = '.etcd-tls.lock';

interface Holder {
  pid: number;
  what: string;
  since: string;
}

function readHolder(lockPath: string): Holder | undefined {
  try {
    if (!fs.lstatSync(lockPath).isFile()) return undefined;
    const [pid, since, ...what] = fs.readFileSync(lockPath, 'utf8').trim().split(' ');
    const n = Number(pid);
    return Number.isInteger(n) && n > 0 ? { pid: n, since: since ?? '?', what: what.join(' ') || 'etcd-tls' } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Create the lock file with its content in one step: a reader never sees it empty. The temp file is
 * created exclusively under an unguessable name (never through a planted link) and removed on every
 * way out, also when the disk is full.
 */
function tryCreate(lockPath: string, what: string): boolean {
  const temp = tempPath(lockPath, randomTag());
  try {
    writeNewFile(temp, { data: `${process.pid} ${new Date().toISOString()} ${what}\n`, mode: 0o644 }, false);
    beforeFileOperation('link');
    try {
      fs.linkSync(temp, lockPath);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e;
    }
    return true;
  } finally {
    fs.rmSync(temp, { force: true });
  }
}

/** Something that is not a lock file at the lock's name is the user's to remove, never ours. */
function refuseForeignLock(lockPath: string): void {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(lockPath);
  } catch {
    return;
  }
  if (!st.isFile())
    throw fail('DIRECTORY_LOCKED', `${lockPath}: is ${st.isDirectory() ? 'a directory' : st.isSymbolicLink() ? 'a symbolic link' : 'not a regular file'}, not etcd-tls's lock file; remove it, then run again`);
}

/** Move a dead run's lock aside; if what was moved turns out to be a live run's new lock, put it back. */
function takeOver(lockPath: string, stale: Holder | undefined): void {
  const aside = tempPath(lockPath, `${randomTag()}.stale`);
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
    refuseForeignLock(lockPath);
    try {
      if (tryCreate(lockPath, what)) return lockPath;
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw fail('WRITE_FAILED', `${lockPath}: cannot create the lock file: ${err.code === 'ENOSPC' ? 'no space left on the device (ENOSPC)' : err.code === 'EROFS' ? 'read-only file system (EROFS)' : (err.code ?? err.message)}`, e);
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
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    // A run killed while staging a new `dir` left its staging directory beside it.
    recoverLeftovers(dir);
    return work();
  }
  // Held by this very run already (an operation calling another use case, e.g. member remove → revoke).
  const mine = path.resolve(dir, LOCK_FILE);
  if ([...held].some((h) => path.resolve(h) === mine)) return work();
  const lockPath = acquire(dir, what);
  held.add(lockPath);
  // A run killed mid-write (kill -9) left temp files or half a batch: remove them, or finish it.
  recoverLeftovers(dir);
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
