/**
 * The one module that writes files. Every write is temp file + flush + rename, private keys are 0600
 * (also when an existing file is replaced), and a batch either lands whole or not at all.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fail, isEtcdTlsError } from '../errors.js';
import { beforeFileOperation } from './fault.js';
import { encodeJournal, journalPath, randomTag, tempPath } from './leftovers.js';

export const PRIVATE_FILE_MODE = 0o600;
export const PUBLIC_FILE_MODE = 0o644;
export const PRIVATE_DIR_MODE = 0o700;
export const EXECUTABLE_MODE = 0o755;

export interface FileToWrite {
  path: string;
  data: string | Uint8Array;
  /** File mode; applied with chmod, so umask and an existing file's mode do not matter. */
  mode: number;
  /** When true, an existing file at `path` is an error (WOULD_OVERWRITE) unless its content is identical. */
  noClobber?: boolean;
}

/** Write one file atomically. */
export function writeFileAtomic(file: FileToWrite): void {
  writeFilesAtomic([file]);
}

function checkNoClobber(files: readonly FileToWrite[]): void {
  for (const f of files) {
    if (f.noClobber && fs.existsSync(f.path) && !readFileBytes(f.path, 'existing file').equals(Buffer.from(f.data)))
      throw fail('WOULD_OVERWRITE', `${f.path}: exists; refusing to overwrite it (pass -force to replace it)`);
  }
}

/**
 * Create every target directory (paths absolute); one that will hold a private key is 0700 from the
 * start. Returns the topmost directories it created, for removeEmptyDirs after a failure.
 */
function createDirectories(files: readonly FileToWrite[]): string[] {
  const privateDirs = new Set(files.filter((f) => f.mode === PRIVATE_FILE_MODE).map((f) => path.dirname(f.path)));
  const created: string[] = [];
  for (const dir of new Set(files.map((f) => path.dirname(f.path)))) {
    if (fs.existsSync(dir)) continue;
    beforeFileOperation('mkdir');
    const first = fs.mkdirSync(dir, { recursive: true, mode: privateDirs.has(dir) ? PRIVATE_DIR_MODE : 0o755 });
    if (first) created.push(first);
  }
  return created;
}

/** Remove a directory tree this batch created, as long as it holds no file (someone else's stays). */
function removeEmptyDirs(dir: string): void {
  try {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) removeEmptyDirs(path.join(dir, e.name));
    fs.rmdirSync(dir);
  } catch {
    // not empty, or already gone
  }
}

/** Temp names beside their targets: one random tag per batch and a counter (see leftovers.ts). */
function tempNamer(): (target: string) => string {
  const tag = randomTag();
  let n = 0;
  return (target) => tempPath(target, `${tag}${(n++).toString(16)}`);
}

const bytesOf = (data: string | Uint8Array): Uint8Array => (typeof data === 'string' ? Buffer.from(data, 'utf8') : data);

/**
 * Write all of `data` at the file's current offset. A string goes to write(2) without a Buffer made in
 * JavaScript first (a thousand of those cost ~30-50 ms of allocation and GC in a cold gen); a short
 * write (rare on a regular file) is finished from the bytes.
 */
function writeAll(fd: number, data: string | Uint8Array): void {
  let written = typeof data === 'string' ? fs.writeSync(fd, data) : 0;
  if (typeof data === 'string' && written === Buffer.byteLength(data)) return;
  const bytes = bytesOf(data);
  while (written < bytes.length) written += fs.writeSync(fd, bytes, written);
}

/**
 * The process umask, from /proc/self/status (race-free, unlike process.umask(), which sets it to 0 for
 * a moment). Read once per batch, not cached: anything may change it between two batches. Where it
 * cannot be read: every bit, so every file gets its chmod.
 */
function readUmask(): number {
  try {
    const found = /^Umask:\s*([0-7]+)$/m.exec(fs.readFileSync('/proc/self/status', 'latin1'));
    if (found) return parseInt(found[1] as string, 8);
  } catch {
    // not Linux, or no /proc
  }
  return 0o777;
}

interface Staged {
  tmp: string;
  target: string;
}

/**
 * Rename every staged file into place, or on `error` remove them all and report one WRITE_FAILED line.
 * More than one file: a journal naming every rename is on disk first, so a run killed between two
 * renames is finished by the next one (leftovers.ts) and no certificate is left beside an old key.
 */
function commit(staged: readonly Staged[], dirs: readonly string[], error?: unknown): void {
  let journal: string | undefined;
  try {
    if (error !== undefined) throw error;
    if (staged.length > 1) {
      const dir = commonDirectory(staged.map((s) => s.target)) as string;
      journal = journalPath(dir, randomTag());
      writeNewFile(journal, { data: encodeJournal(dir, staged), mode: PUBLIC_FILE_MODE }, true);
      fsyncDir(dir);
    }
  } catch (e) {
    for (const s of staged) removeQuietly(s.tmp);
    if (journal) removeQuietly(journal);
    throw writeFailure(e);
  }
  let renamed = 0;
  try {
    for (const s of staged) {
      beforeFileOperation('rename');
      fs.renameSync(s.tmp, s.target);
      renamed++;
    }
  } catch (e) {
    if (renamed === 0) {
      for (const s of staged) removeQuietly(s.tmp);
      if (journal) removeQuietly(journal);
      throw writeFailure(e);
    }
    // Some files are new and some old: the journal stays, and the next run of the command finishes it.
    const err = e as NodeJS.ErrnoException;
    throw fail('WRITE_FAILED', `${err.path ?? 'output'}: cannot replace it (${err.code ?? err.message}) after ${renamed} of ${staged.length} files were replaced; run the same command again to finish the batch`, e);
  }
  if (journal) {
    for (const d of dirs) fsyncDir(d);
    beforeFileOperation('remove');
    fs.rmSync(journal, { force: true });
  }
}

/** Cleanup after a failure must not hide the failure (a temp path under a non-directory throws ENOTDIR). */
function removeQuietly(p: string): void {
  try {
    fs.rmSync(p, { recursive: true, force: true });
  } catch {
    // nothing was created there
  }
}

// What the usual errno codes mean to someone whose gen just failed.
const WRITE_ERRORS: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOTDIR: 'a file is in the way of a directory',
  EISDIR: 'a directory is in the way of a file',
};

function writeFailure(e: unknown): Error {
  if (isEtcdTlsError(e)) return e;
  const err = e as NodeJS.ErrnoException;
  const why = err.code ? (WRITE_ERRORS[err.code] ? `${WRITE_ERRORS[err.code]} (${err.code})` : err.code) : err.message;
  return fail('WRITE_FAILED', `${err.path ?? 'output'}: cannot write: ${why}; nothing was written`, e);
}

// Up to this many files, an fsync each; more, and one syncfs of the file system costs less (bench/README.md).
const FSYNC_EACH_UP_TO = 16;

/**
 * Flush the file systems holding `dirs` with one syncfs(2) each (coreutils `sync --file-system`).
 * False when that is not available (not Linux, no coreutils); the caller then fsyncs file by file.
 */
function syncFileSystems(dirs: readonly string[]): boolean {
  if (process.platform !== 'linux') return false;
  // One directory per device is enough: syncfs flushes the whole file system.
  const byDevice = new Map<number, string>();
  for (const d of dirs) byDevice.set(fs.statSync(d).dev, d);
  return spawnSync('sync', ['--file-system', ...byDevice.values()], { stdio: 'ignore' }).status === 0;
}

/** Flush a directory's entries. Windows cannot open a directory to flush it (NTFS journals them anyway). */
function fsyncDir(dir: string): void {
  if (process.platform !== 'win32') fsyncPath(dir);
}

function fsyncPath(file: string): void {
  const fd = fs.openSync(file, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Flush many files and directories at once: one syncfs, or, without it, an fsync each. */
function flushMany(files: readonly string[], dirs: readonly string[]): void {
  if (syncFileSystems(dirs)) return;
  for (const f of files) fsyncPath(f);
  for (const d of dirs) fsyncDir(d);
}

// Created here or not at all: an existing file, or a symbolic link planted at the name, is an error.
const CREATE_NEW = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | (fs.constants.O_NOFOLLOW ?? 0);

/**
 * Create `file` with its data and mode at `at` (a path that must not exist yet, not even as a link).
 * `umask`: the process umask when the caller knows it (see readUmask); by default the mode is always
 * set with chmod.
 */
export function writeNewFile(at: string, file: Pick<FileToWrite, 'data' | 'mode'>, fsync: boolean, umask = 0o777): void {
  beforeFileOperation('open');
  const fd = fs.openSync(at, CREATE_NEW, file.mode);
  try {
    beforeFileOperation('write');
    writeAll(fd, file.data);
    // open(2) applied the mode minus the umask: chmod only when the umask took something away.
    if ((file.mode & umask) !== 0) fs.fchmodSync(fd, file.mode);
    if (fsync) fs.fsyncSync(fd);
  } catch (e) {
    // write(2) errors carry no path: name the file (ENOSPC shows up here).
    (e as NodeJS.ErrnoException).path ??= at;
    throw e;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Write a batch of files so that either all of them land or none does, flushed to disk before this
 * returns. Directories are created as needed (0700 when they will hold a private key).
 *
 * When the batch goes into a directory that does not exist yet (`gen` into a new DIR), the whole
 * tree is staged beside it and lands with one rename: readers never see half of it, and a failure
 * leaves not even an empty directory. Otherwise every file is staged as a temp file beside its
 * target and all are renamed once all are staged.
 *
 * Synchronous on purpose: for `gen` of 100 members (912 files) plain sync calls staged the batch in
 * ~45 ms where the promise API on the thread pool took ~230 ms; and past a few files one syncfs
 * replaces an fsync per file (each ~0.3-0.4 ms on this VM's disk).
 */
export function writeFilesAtomic(files: readonly FileToWrite[], options: WriteOptions = {}): void {
  // Absolute once, here: the helpers below take every path as absolute.
  const batch = files.map((f) => (isNormalAbsolute(f.path) ? f : { ...f, path: path.resolve(f.path) }));
  if (options.newDirectory !== undefined) {
    const root = path.resolve(options.newDirectory);
    const outside = batch.find((f) => !isWithin(path.dirname(f.path), root));
    if (outside) throw new TypeError(`writeFilesAtomic: ${outside.path} is not under newDirectory ${root}`);
    if (fs.existsSync(root)) throw createdMeanwhile(root);
    writeNewTree(batch, topmostMissing(root));
    return;
  }
  refuseSymbolicLinks(batch, options.root === undefined ? commonDirectory(batch.map((f) => f.path)) : path.resolve(options.root));
  checkNoClobber(batch);
  const root = newDirectoryHolding(batch);
  if (root) writeNewTree(batch, root);
  else writeBesideTargets(batch);
}

/**
 * Already what path.resolve would return (absolute, no `.`, `..`, empty segment or trailing `/`): a
 * cold path.resolve walks every character, ~40 µs a path, for the thousand paths of a 100-member gen.
 */
export const isNormalAbsolute = (p: string): boolean => path.sep === '/' && p.startsWith('/') && !/\/\/|\/\.\.?(?:\/|$)|.\/$/.test(p);

/** `dir` itself or its topmost ancestor that does not exist yet: what one rename can create whole. */
function topmostMissing(dir: string): string {
  let top = dir;
  while (path.dirname(top) !== top && !fs.existsSync(path.dirname(top))) top = path.dirname(top);
  return top;
}

/** The deepest directory holding every path. */
function commonDirectory(paths: readonly string[]): string | undefined {
  let common = paths[0] === undefined ? undefined : path.dirname(paths[0]);
  if (common === undefined) return undefined;
  for (const p of paths) while (!isWithin(path.dirname(p), common)) common = path.dirname(common);
  return common;
}

/**
 * Nothing below `root` on the way to a target may be a symbolic link (or other non-directory), and no
 * target may be one: a link at DIR/nodes would put private keys wherever it points. `root` itself (the
 * output directory the user named) may be a link.
 */
function refuseSymbolicLinks(files: readonly FileToWrite[], root: string | undefined): void {
  if (root === undefined) return;
  const seen = new Set<string>();
  for (const f of files) {
    const chain: string[] = [];
    for (let p = f.path; p !== root && isWithin(p, root); p = path.dirname(p)) chain.unshift(p);
    for (const p of chain) {
      if (seen.has(p)) continue;
      seen.add(p);
      let st: fs.Stats;
      try {
        st = fs.lstatSync(p);
      } catch {
        break; // does not exist yet: neither does anything below it
      }
      if (st.isSymbolicLink())
        throw fail('UNSAFE_PATH', `${p}: is a symbolic link; etcd-tls does not write through links inside its output directory (remove it, or point --out at the real directory); nothing was written`);
      if (p !== f.path && !st.isDirectory()) throw fail('WRITE_FAILED', `${f.path}: cannot write: a file is in the way of a directory (ENOTDIR); nothing was written`);
      if (p === f.path && !st.isFile()) throw fail('WRITE_FAILED', `${f.path}: cannot write: ${describeType(st)} is in the way of a file; nothing was written`);
    }
  }
}

function describeType(st: fs.Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a named pipe';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

export interface WriteOptions {
  /**
   * Every file lies under this directory, which the caller saw missing: the batch creates it (one
   * rename), and fails with WRITE_FAILED, writing nothing, if something else has created it since.
   */
  newDirectory?: string;
  /**
   * The directory whose inside must hold no symbolic link on the way to a target (default: the
   * deepest directory holding every file of the batch).
   */
  root?: string;
}

const createdMeanwhile = (root: string, cause?: unknown): Error =>
  fail('WRITE_FAILED', `${root}: was created by something else while this run wrote it (another etcd-tls at work?); nothing was written: run again`, cause);

const isWithin = (dir: string, ancestor: string): boolean => dir === ancestor || dir.startsWith(ancestor.endsWith(path.sep) ? ancestor : ancestor + path.sep);

/** The topmost directory that does not exist yet and will hold every file of the batch, if there is one. */
function newDirectoryHolding(files: readonly FileToWrite[]): string | undefined {
  const dirs = files.map((f) => path.dirname(f.path));
  let common = dirs[0];
  if (common === undefined) return undefined;
  for (const d of dirs) while (!isWithin(d, common)) common = path.dirname(common);
  if (fs.existsSync(common)) return undefined;
  let top = common;
  while (!fs.existsSync(path.dirname(top))) top = path.dirname(top);
  return top;
}

/** Every directory from each file's own up to `root`, deepest first: what holds the new entries. */
function directoriesUpTo(files: readonly FileToWrite[], root: string): string[] {
  const dirs = new Set<string>();
  for (const f of files) for (let d = path.dirname(f.path); isWithin(d, root) && !dirs.has(d); d = path.dirname(d)) dirs.add(d);
  return [...dirs].sort((a, b) => b.length - a.length);
}

function writeNewTree(files: readonly FileToWrite[], root: string): void {
  const stage = tempPath(root, randomTag());
  // Every path is absolute, normalized and under root (see writeFilesAtomic): swapping the prefix is
  // path.join(stage, path.relative(root, p)) without the two character-by-character walks, ~20 µs per
  // file in a cold process.
  const staged = files.map((f) => ({ ...f, path: stage + f.path.slice(root.length) }));
  const many = files.length > FSYNC_EACH_UP_TO;
  try {
    // One plain mkdir first: it says EROFS or EACCES where a recursive one may say ENOENT.
    beforeFileOperation('mkdir');
    fs.mkdirSync(stage, { mode: staged.some((f) => f.mode === PRIVATE_FILE_MODE && path.dirname(f.path) === stage) ? PRIVATE_DIR_MODE : 0o755 });
    createDirectories(staged);
    const umask = readUmask();
    for (const f of staged) writeNewFile(f.path, f, !many, umask);
    // The tree must be on disk before the rename makes it visible. The stage was made by this run, so
    // everything in it is on the stage's own file system: one syncfs of it covers every file and
    // directory (no directory list, no stat per directory: ~7 ms of a 100-member gen).
    if (!many || !syncFileSystems([stage])) {
      if (many) for (const f of staged) fsyncPath(f.path);
      for (const d of directoriesUpTo(staged, stage)) fsyncDir(d);
    }
    landTree(stage, root);
    fsyncDir(path.dirname(root));
  } catch (e) {
    removeQuietly(stage);
    // Name the directory the user asked for, not the staging one.
    if (!isEtcdTlsError(e) && typeof (e as NodeJS.ErrnoException).path === 'string') {
      const err = e as NodeJS.ErrnoException;
      err.path = (err.path as string).replace(stage, root);
    }
    throw writeFailure(e);
  }
}

/** The one rename that publishes a staged tree; `root` may have appeared since the batch began. */
function landTree(stage: string, root: string): void {
  try {
    beforeFileOperation('rename');
    fs.renameSync(stage, root);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'EISDIR' || code === 'ENOTDIR') throw createdMeanwhile(root, e);
    throw e;
  }
}

function writeBesideTargets(files: readonly FileToWrite[]): void {
  const staged: Staged[] = [];
  const dirs = [...new Set(files.map((f) => path.dirname(f.path)))];
  const many = files.length > FSYNC_EACH_UP_TO;
  let error: unknown;
  let created: string[] = [];
  try {
    created = createDirectories(files);
    const tempPathFor = tempNamer();
    const umask = readUmask();
    for (const f of files) {
      const tmp = tempPathFor(f.path);
      // Listed before it exists, so a failed write still has its temp file removed.
      staged.push({ tmp, target: f.path });
      writeNewFile(tmp, f, !many, umask);
    }
    if (many)
      flushMany(
        staged.map((s) => s.tmp),
        dirs,
      );
  } catch (e) {
    // Name the file the user asked for, not its temp file.
    const err = e as NodeJS.ErrnoException;
    const target = staged.find((x) => x.tmp === err.path)?.target;
    if (target) err.path = target;
    error = e;
  }
  try {
    commit(staged, dirs, error);
  } catch (e) {
    if (!(isEtcdTlsError(e) && e.message.includes('run the same command again'))) for (const d of created) removeEmptyDirs(d);
    throw e;
  }
  try {
    // The renames: directory entries (one batch with a journal flushed them before removing it).
    if (staged.length <= 1) for (const d of dirs) fsyncDir(d);
  } catch (e) {
    throw writeFailure(e);
  }
}

/**
 * The most etcd-tls reads from one input file or stdin: 4 MiB. A spec, config, CSR, key or certificate
 * bundle is kilobytes (every public root CA together is ~250 KB); anything larger is a mistake (a
 * wrong file, /dev/zero) and would otherwise be read whole into memory.
 */
export const MAX_INPUT_BYTES = 4 * 1024 * 1024;

const tooLarge = (file: string, what: string): Error =>
  fail('INPUT_TOO_LARGE', `${file}: ${what} is larger than ${MAX_INPUT_BYTES / 1024 / 1024} MiB, the most etcd-tls reads from one input; is it the right file?`);

/**
 * Read a file as bytes: a regular file (or a link to one) of at most MAX_INPUT_BYTES. The usual
 * failures, a directory, a device, a pipe or an oversized file are one-line domain errors naming it.
 * The one reader every command uses for an input file.
 */
export function readFileBytes(file: string, what = 'file'): Buffer {
  return readBounded(file, what, (size) => Buffer.allocUnsafe(size));
}

/** Files up to this size are read into one reused buffer by readFileText; larger ones get their own. */
const SCRATCH_BYTES = 256 * 1024;
let scratch: Buffer | undefined;

/**
 * readFileBytes for a file wanted as text (UTF-8, invalid sequences as U+FFFD, as Buffer.toString):
 * the bytes go through one reused buffer. A fresh buffer per file cost `check` a page fault per 4 kB
 * of each of 600 etcd configs (~11 kB each at 300 members), on top of the string it keeps.
 */
export function readFileText(file: string, what = 'file'): string {
  return readBounded(file, what, (size) => {
    if (size > SCRATCH_BYTES) return Buffer.allocUnsafe(size);
    return (scratch ??= Buffer.allocUnsafe(SCRATCH_BYTES));
  }).toString('utf8');
}

/** The bounded read: `bufferFor(n)` gives a buffer of at least n bytes; the result is a view of it. */
function readBounded(file: string, what: string, bufferFor: (size: number) => Buffer): Buffer {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO must not wait for a writer before fstat can refuse it.
    fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') throw fail('FILE_NOT_FOUND', `${file}: ${what} does not exist`);
    if (err.code === 'EISDIR') throw fail('FILE_UNREADABLE', `${file}: ${what} is a directory, not a file`);
    throw fail('FILE_UNREADABLE', `${file}: cannot read ${what}: ${describeErrno(err)}`);
  }
  try {
    const st = fs.fstatSync(fd);
    if (st.isDirectory()) throw fail('FILE_UNREADABLE', `${file}: ${what} is a directory, not a file`);
    if (!st.isFile()) throw fail('FILE_UNREADABLE', `${file}: ${what} is ${describeType(st)}, not a regular file`);
    if (st.size > MAX_INPUT_BYTES) throw tooLarge(file, what);
    // Read up to one byte past the limit: a file that grows while it is read is caught too.
    const want = Math.min(st.size, MAX_INPUT_BYTES) + 1;
    const buf = bufferFor(want);
    let n = 0;
    for (let r: number; n < want && (r = fs.readSync(fd, buf, n, want - n, null)) > 0; ) n += r;
    if (n > MAX_INPUT_BYTES) throw tooLarge(file, what);
    return buf.subarray(0, n);
  } catch (e) {
    if (isEtcdTlsError(e)) throw e;
    throw fail('FILE_UNREADABLE', `${file}: cannot read ${what}: ${describeErrno(e as NodeJS.ErrnoException)}`);
  } finally {
    fs.closeSync(fd);
  }
}

/** The bytes of `file` if it exists (as anything at all), through the bounded reader. */
export function readFileIfExists(file: string, what = 'file'): Buffer | undefined {
  try {
    fs.lstatSync(file);
  } catch {
    return undefined;
  }
  return readFileBytes(file, what);
}

const describeErrno = (err: NodeJS.ErrnoException): string =>
  err.code ? (WRITE_ERRORS[err.code] && err.code !== 'EISDIR' ? `${WRITE_ERRORS[err.code]} (${err.code})` : err.code) : err.message;

/**
 * Make an existing file's mode `mode` without following a link (a key left 0644 by hand becomes 0600
 * when gen keeps it). A missing file is left missing.
 */
export function ensureMode(file: string, mode: number): void {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0) | (fs.constants.O_NONBLOCK ?? 0));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw writeFailure(e);
  }
  try {
    const st = fs.fstatSync(fd);
    if (st.isFile() && (st.mode & 0o777) !== mode) fs.fchmodSync(fd, mode);
  } catch (e) {
    (e as NodeJS.ErrnoException).path ??= file;
    throw writeFailure(e);
  } finally {
    fs.closeSync(fd);
  }
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * UTF-8 text of `bytes`, or a BAD_ENCODING error naming `source`: Buffer.toString would turn each
 * invalid byte into U+FFFD, and a name with a replacement character is not the name the user wrote.
 */
export function decodeUtf8(bytes: Uint8Array, source: string, what: string): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    const at = Buffer.from(bytes).toString('utf8').indexOf('\ufffd');
    throw fail('BAD_ENCODING', `${source}: ${what} is not valid UTF-8${at >= 0 ? ` (first invalid byte near character ${at + 1})` : ''}`);
  }
}

/** Read a text file; empty (or whitespace-only) content is an EMPTY_INPUT error. */
export function readTextFile(file: string, what = 'file'): string {
  const text = decodeUtf8(readFileBytes(file, what), file, what);
  if (text.trim() === '') throw fail('EMPTY_INPUT', `${file}: ${what} is empty`);
  return text;
}

/** Read all of stdin; empty input is an EMPTY_INPUT error. */
export async function readStdinText(what = 'input'): Promise<string> {
  const chunks: Buffer[] = [];
  if (process.stdin.isTTY) throw fail('EMPTY_INPUT', `stdin: expected ${what} on standard input, got a terminal`);
  let size = 0;
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length;
    if (size > MAX_INPUT_BYTES) throw tooLarge('stdin', what);
    chunks.push(chunk as Buffer);
  }
  const text = decodeUtf8(Buffer.concat(chunks), 'stdin', what);
  if (text.trim() === '') throw fail('EMPTY_INPUT', `stdin: ${what} is empty`);
  return text;
}

/** `-` means stdin, as in cfssl; anything else is a path. Returns the text and a name for messages. */
export async function readTextArg(arg: string, what: string): Promise<{ text: string; source: string }> {
  if (arg === '-') return { text: await readStdinText(what), source: 'stdin' };
  return { text: readTextFile(arg, what), source: arg };
}

/**
 * Move a file or directory tree to `target` (which must not exist) with one rename, creating
 * target's parent 0700 (archives hold keys). For keeping what an operation retires: an old CA, a
 * removed member's folder. Never follows a symlink at `source`.
 */
export function archivePath(source: string, target: string): void {
  const st = fs.lstatSync(source, { throwIfNoEntry: false });
  if (!st) throw fail('FILE_NOT_FOUND', `${source}: nothing to archive`);
  if (st.isSymbolicLink()) throw fail('WRITE_FAILED', `${source}: is a symbolic link; refusing to archive through it`);
  if (fs.existsSync(target)) throw fail('WOULD_OVERWRITE', `${target}: exists; refusing to archive ${source} over it`);
  fs.mkdirSync(path.dirname(target), { recursive: true, mode: PRIVATE_DIR_MODE });
  try {
    fs.renameSync(source, target);
    const dirFd = fs.openSync(path.dirname(target), 'r');
    try {
      fs.fsyncSync(dirFd);
    } finally {
      fs.closeSync(dirFd);
    }
  } catch (e) {
    throw fail('WRITE_FAILED', `${target}: cannot move ${source} there: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, e);
  }
}
