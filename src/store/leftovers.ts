/**
 * What a run killed mid-write (kill -9, power loss) leaves, and how the next run finds it.
 *
 * Every temp file or staging directory the store creates is named `.etcd-tls-tmp.<pid>.<random>.<name>`:
 * the prefix says it is ours, the PID says whose (a live run's temp files are never touched), the
 * random part cannot be guessed in advance. A batch that replaces files in place first writes a
 * journal `.etcd-tls-journal.<pid>.<random>` naming every temp file and its target, and removes it
 * after the last rename: a journal found later means "these renames were cut short", and finishing
 * them is always right, because the journal is written only once every temp file is complete on disk.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeFileOperation } from './fault.js';

export const TEMP_PREFIX = '.etcd-tls-tmp.';
export const JOURNAL_PREFIX = '.etcd-tls-journal.';

const OWN_NAME = /^\.etcd-tls-(tmp|journal)\.(\d+)\.[0-9a-f]+(?:\.|$)/;

/** A fresh random tag for one batch's temp names (with a counter per file: randomBytes per file costs ~10 µs). */
export const randomTag = (): string => randomBytes(8).toString('hex');

/** The temp path beside `target` for this process and `tag`. */
export const tempPath = (target: string, tag: string): string =>
  path.join(path.dirname(target), `${TEMP_PREFIX}${process.pid}.${tag}.${path.basename(target)}`);

export const journalPath = (dir: string, tag: string): string => path.join(dir, `${JOURNAL_PREFIX}${process.pid}.${tag}`);

/** Whether a process with this PID runs on this machine (EPERM: it does, as another user). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface Leftover {
  path: string;
  kind: 'temp' | 'journal';
}

/** Our names of runs that are gone among `entries` of `dir`; `suffix` narrows them to one target name. */
function deadLeftoversAmong(dir: string, entries: readonly fs.Dirent[], suffix?: string): Leftover[] {
  const out: Leftover[] = [];
  for (const e of entries) {
    const m = OWN_NAME.exec(e.name);
    if (!m || (suffix !== undefined && !e.name.endsWith(`.${suffix}`))) continue;
    if (Number(m[2]) === process.pid || isRunning(Number(m[2]))) continue;
    out.push({ path: path.join(dir, e.name), kind: m[1] === 'journal' ? 'journal' : 'temp' });
  }
  return out;
}

function listing(dir: string): fs.Dirent[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

// Deep enough for DIR/nodes/NAME/file; etcd data directories (DIR/NAME.etcd, data/) are not ours to walk.
const MAX_DEPTH = 3;

/**
 * Every leftover of a dead run under `dir` (not through symbolic links), and beside it for `dir`
 * itself. `listed`: listings the caller already made (check's), by absolute directory.
 */
export function findLeftovers(dir: string, listed?: ReadonlyMap<string, readonly fs.Dirent[]>): Leftover[] {
  const root = path.resolve(dir);
  const parent = path.dirname(root);
  const out = deadLeftoversAmong(parent, listing(parent), path.basename(root));
  // Each directory is listed once: its names give both its leftovers and the directories to walk.
  const walk = (d: string, depth: number): void => {
    const entries = listed?.get(d) ?? listing(d);
    out.push(...deadLeftoversAmong(d, entries));
    if (depth >= MAX_DEPTH) return;
    for (const e of entries)
      if (e.isDirectory() && !OWN_NAME.test(e.name) && e.name !== 'data' && !e.name.endsWith('.etcd')) walk(path.join(d, e.name), depth + 1);
  };
  if (fs.existsSync(root) && fs.lstatSync(root).isDirectory()) walk(root, 0);
  return out;
}

interface JournalEntry {
  tmp: string;
  target: string;
}

/** Journal text: one "tmp\ttarget" per line, both relative to the journal's directory. */
export function encodeJournal(dir: string, entries: readonly JournalEntry[]): string {
  return entries.map((e) => `${path.relative(dir, e.tmp)}\t${path.relative(dir, e.target)}\n`).join('');
}

function decodeJournal(file: string): JournalEntry[] | undefined {
  const dir = path.dirname(file);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  // A journal is complete on disk before any rename; a torn one means no rename happened yet.
  if (!text.endsWith('\n')) return undefined;
  const entries: JournalEntry[] = [];
  for (const line of text.slice(0, -1).split('\n')) {
    const [tmp, target] = line.split('\t');
    if (!tmp || !target) return undefined;
    const t = path.resolve(dir, tmp);
    // Only renames of our own temp files to targets under the journal's directory.
    if (!OWN_NAME.test(path.basename(t)) || !isUnder(t, dir) || !isUnder(path.resolve(dir, target), dir)) return undefined;
    entries.push({ tmp: t, target: path.resolve(dir, target) });
  }
  return entries;
}

const isUnder = (p: string, dir: string): boolean => p.startsWith(dir.endsWith(path.sep) ? dir : dir + path.sep);

/**
 * Finish what dead runs left under `dir`: complete each journal's renames (the batch then lands
 * whole), then remove every other temp file and staging directory of theirs. Only names the store
 * gives are touched, and never those of a run that is still alive. Returns what was done.
 */
export function recoverLeftovers(dir: string): { finished: number; removed: number } {
  const leftovers = findLeftovers(dir);
  let finished = 0;
  let removed = 0;
  for (const j of leftovers.filter((l) => l.kind === 'journal')) {
    for (const e of decodeJournal(j.path) ?? []) {
      if (!fs.existsSync(e.tmp)) continue; // renamed before the run died
      beforeFileOperation('rename');
      fs.renameSync(e.tmp, e.target);
    }
    fsyncDirQuietly(path.dirname(j.path));
    beforeFileOperation('remove');
    fs.rmSync(j.path, { force: true });
    finished++;
  }
  for (const t of leftovers.filter((l) => l.kind === 'temp')) {
    if (!fs.existsSync(t.path)) continue;
    beforeFileOperation('remove');
    fs.rmSync(t.path, { recursive: true, force: true });
    removed++;
  }
  return { finished, removed };
}

function fsyncDirQuietly(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // best effort: the renames themselves are done
  }
}
