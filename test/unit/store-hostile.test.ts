// Hostile file systems against gen, check and the lock: planted symbolic links, special files, a
// directory where a file belongs, a full disk, a read-only one. Each ends in one coded line, exit 1,
// and nothing written where it should not be. Real processes, real files (tmpfs mounts need root).
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, readdirSync, readFileSync, renameSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { LOCK_FILE } from '../../src/store/lock.js';
import { MAX_INPUT_BYTES } from '../../src/store/files.js';
import { REPO_ROOT, etcdTls, type RunResult } from '../helpers/components.js';
import { makeTempDir } from '../helpers/tmp.js';

const DEMO = readFileSync(path.join(REPO_ROOT, 'test/fixtures/specs/demo.yaml'), 'utf8');
const WIDER = DEMO.replace(/ips: \[(127\.0\.0\.1\d)\]/g, (_, ip: string) => `ips: [${ip}], sans: [m${ip.slice(-1)}.example]`);

const gen = (cwd: string, spec: string, out = 'pki'): Promise<RunResult> => etcdTls(['gen', spec, '--out', out], { cwd });

function assertCleanError(r: RunResult, code: string, message: RegExp): void {
  assert.equal(r.code, 1, `exit ${r.code} ${r.signal ?? ''}: ${r.stderr}`);
  assert.match(r.stderr, new RegExp(`^etcd-tls: ${code}: [^\\n]+\\n$`));
  assert.match(r.stderr, message);
}

/** Path → sha256 of every file under `dir`, hidden ones too. */
function snapshot(dir: string): Map<string, string> {
  const files = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
  return new Map(files.map((e) => [path.relative(dir, path.join(e.parentPath, e.name)), createHash('sha256').update(readFileSync(path.join(e.parentPath, e.name))).digest('hex')]));
}

async function generated(t: TestContext): Promise<string> {
  const dir = await makeTempDir(t, 'hostile-');
  writeFileSync(path.join(dir, 'demo.yaml'), DEMO);
  writeFileSync(path.join(dir, 'wider.yaml'), WIDER);
  const r = await gen(dir, 'demo.yaml');
  assert.equal(r.code, 0, r.stderr);
  return dir;
}

/** A small tmpfs of its own, unmounted and removed when the test ends; undefined (skipped) when not root outside CI. */
function mountTmpfs(t: TestContext, size: string): string | undefined {
  if (process.getuid?.() !== 0 && !process.env.CI) {
    t.skip('mounting a tmpfs needs root');
    return undefined;
  }
  const at = mkdtempSync(path.join(tmpdir(), 'etcd-tls-tmpfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', at]);
  t.after(() => {
    spawnSync('umount', [at]);
    rmSync(at, { recursive: true, force: true });
  });
  return at;
}

/** Fill the file system holding `dir` to the last block. */
function fill(dir: string): void {
  spawnSync('dd', ['if=/dev/zero', `of=${path.join(dir, 'filler')}`, 'bs=4k'], { stdio: 'ignore' });
}

describe('symbolic links planted in the output directory', () => {
  test("a link at the lock's temp name cannot make gen overwrite its target", async (t) => {
    const dir = await generated(t);
    const victim = path.join(dir, 'victim');
    writeFileSync(victim, 'precious\n');
    // The old temp name was .etcd-tls.lock.<pid>.tmp: plant it for every PID the next processes may get.
    const next = Number(readFileSync('/proc/sys/kernel/ns_last_pid', 'utf8'));
    for (let pid = next + 1; pid < next + 400; pid++) symlinkSync(victim, path.join(dir, 'pki', `${LOCK_FILE}.${pid}.tmp`));
    const r = await gen(dir, 'wider.yaml');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(victim, 'utf8'), 'precious\n');
  });

  test('a link at the lock itself is refused, and its target untouched', async (t) => {
    const dir = await generated(t);
    const victim = path.join(dir, 'victim');
    writeFileSync(victim, 'precious\n');
    symlinkSync(victim, path.join(dir, 'pki', LOCK_FILE));
    assertCleanError(await gen(dir, 'wider.yaml'), 'DIRECTORY_LOCKED', /\.etcd-tls\.lock: is a symbolic link, not etcd-tls's lock file/);
    assert.equal(readFileSync(victim, 'utf8'), 'precious\n');
  });

  test('DIR/nodes linked to a directory elsewhere: refused, no key lands outside DIR', async (t) => {
    const dir = await generated(t);
    const elsewhere = path.join(dir, 'elsewhere');
    mkdirSync(elsewhere);
    renameSync(path.join(dir, 'pki', 'nodes'), path.join(elsewhere, 'nodes'));
    symlinkSync(path.join(elsewhere, 'nodes'), path.join(dir, 'pki', 'nodes'));
    const before = snapshot(elsewhere);
    assertCleanError(await gen(dir, 'wider.yaml'), 'UNSAFE_PATH', /pki\/nodes: is a symbolic link; etcd-tls does not write through links inside its output directory/);
    assert.deepEqual(snapshot(elsewhere), before, 'files outside DIR changed');
  });

  test("a key file linked to a file elsewhere: refused, the link's target untouched", async (t) => {
    const dir = await generated(t);
    const victim = path.join(dir, 'victim');
    writeFileSync(victim, 'precious\n');
    const key = path.join(dir, 'pki', 'nodes', 'member1', 'server-key.pem');
    renameSync(key, `${key}.real`);
    symlinkSync(victim, key);
    const r = await gen(dir, 'wider.yaml');
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^etcd-tls: [A-Z_]+: [^\n]*server-key\.pem[^\n]*\n$/);
    assert.equal(readFileSync(victim, 'utf8'), 'precious\n');
  });
});

describe('the wrong kind of file where gen expects one', () => {
  test('a directory at nodes/m1/server.pem: one coded line, exit 1, nothing written', async (t) => {
    const dir = await generated(t);
    const cert = path.join(dir, 'pki', 'nodes', 'member1', 'server.pem');
    renameSync(cert, path.join(dir, 'server.pem.away'));
    mkdirSync(cert);
    const before = snapshot(path.join(dir, 'pki'));
    assertCleanError(await gen(dir, 'wider.yaml'), 'FILE_UNREADABLE', /server\.pem: existing output file is a directory, not a file/);
    assert.deepEqual(snapshot(path.join(dir, 'pki')), before);
  });

  test('a directory at DIR/.etcd-tls.lock: one coded line, exit 1, nothing left beside it', async (t) => {
    const dir = await generated(t);
    mkdirSync(path.join(dir, 'pki', LOCK_FILE));
    const before = snapshot(path.join(dir, 'pki'));
    assertCleanError(await gen(dir, 'wider.yaml'), 'DIRECTORY_LOCKED', /\.etcd-tls\.lock: is a directory, not etcd-tls's lock file; remove it/);
    assert.deepEqual(snapshot(path.join(dir, 'pki')), before);
    assert.deepEqual(readdirSync(path.join(dir, 'pki')).filter((n) => n.startsWith('.')), [LOCK_FILE]);
  });

  test('a key file left 0644 by hand is 0600 after gen keeps it', async (t) => {
    const dir = await generated(t);
    const keys = ['ca-key.pem', 'nodes/member1/server-key.pem'].map((k) => path.join(dir, 'pki', k));
    for (const k of keys) chmodSync(k, 0o644);
    const r = await gen(dir, 'demo.yaml');
    assert.equal(r.code, 0, r.stderr);
    for (const k of keys) assert.equal(statSync(k).mode & 0o777, 0o600, k);
  });
});

describe('inputs that are not small regular files', () => {
  test('check --etcd-env with ETCD_CERT_FILE=/dev/zero: a clean error, not a read without end', async (t) => {
    const dir = await makeTempDir(t, 'hostile-zero-');
    writeFileSync(path.join(dir, 'etcd.env'), 'ETCD_CERT_FILE=/dev/zero\nETCD_KEY_FILE=/dev/zero\n');
    const r = await etcdTls(['check', '--etcd-env', 'etcd.env', '--json'], { cwd: dir, timeoutMs: 60_000 });
    assert.equal(r.timedOut, false);
    assert.ok(r.code === 1, r.stderr);
    assert.match(r.stdout, /"subject": "\/dev\/zero"/);
    assert.match(r.stdout, /file is a device, not a regular file/);
  });

  test('a PEM bundle past the size limit is refused at once with INPUT_TOO_LARGE', async (t) => {
    const dir = await makeTempDir(t, 'hostile-big-');
    const big = path.join(dir, 'bundle.pem');
    writeFileSync(big, '');
    truncateSync(big, MAX_INPUT_BYTES + 1);
    const r = await etcdTls(['certinfo', '-cert', 'bundle.pem'], { cwd: dir });
    assertCleanError(r, 'INPUT_TOO_LARGE', /bundle\.pem: [^\n]*larger than 4 MiB/);
  });

  test('a named pipe given as the spec: a clean error, no wait for a writer', async (t) => {
    const dir = await makeTempDir(t, 'hostile-fifo-');
    execFileSync('mkfifo', [path.join(dir, 'spec.yaml')]);
    const r = await etcdTls(['gen', 'spec.yaml', '--out', 'pki'], { cwd: dir, timeoutMs: 60_000 });
    assert.equal(r.timedOut, false);
    assertCleanError(r, 'FILE_UNREADABLE', /spec\.yaml: cluster spec is a named pipe, not a regular file/);
  });
});

describe('a full or read-only disk', () => {
  test('a failed gen into --out a/b/c/pki leaves not even a/', async (t) => {
    const dir = await generated(t);
    const disk = mountTmpfs(t, '64k');
    if (!disk) return;
    fill(disk);
    assertCleanError(await gen(dir, 'demo.yaml', path.join(disk, 'a/b/c/pki')), 'WRITE_FAILED', /no space left on the device \(ENOSPC\)/);
    assert.deepEqual(readdirSync(disk), ['filler']);
  });

  test('ENOSPC while taking the lock: WRITE_FAILED, and no temp file left', async (t) => {
    const dir = await generated(t);
    const disk = mountTmpfs(t, '1m');
    if (!disk) return;
    assert.equal((await gen(dir, 'demo.yaml', path.join(disk, 'pki'))).code, 0);
    fill(disk);
    const before = snapshot(path.join(disk, 'pki'));
    assertCleanError(await gen(dir, 'wider.yaml', path.join(disk, 'pki')), 'WRITE_FAILED', /ENOSPC/);
    assert.deepEqual(snapshot(path.join(disk, 'pki')), before);
  });

  test('a read-only file system says EROFS, for a new directory and an existing one', async (t) => {
    const dir = await generated(t);
    const disk = mountTmpfs(t, '1m');
    if (!disk) return;
    assert.equal((await gen(dir, 'demo.yaml', path.join(disk, 'pki'))).code, 0);
    execFileSync('mount', ['-o', 'remount,ro', disk]);
    assertCleanError(await gen(dir, 'demo.yaml', path.join(disk, 'new')), 'WRITE_FAILED', /read-only file system \(EROFS\)/);
    assertCleanError(await gen(dir, 'wider.yaml', path.join(disk, 'pki')), 'WRITE_FAILED', /read-only file system \(EROFS\)/);
    assert.equal(existsSync(path.join(disk, 'new')), false);
  });
});
