// The store's batch writes: all files land with their modes, or none does, also when the one-syncfs
// flush of large batches is unavailable and it falls back to an fsync per file.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { EXECUTABLE_MODE, PRIVATE_FILE_MODE, PUBLIC_FILE_MODE, writeFilesAtomic, type FileToWrite } from '../../src/store/files.js';
import { makeTempDir } from '../helpers/tmp.js';
import { rejects } from '../helpers/assertions.js';

const MODES = [PUBLIC_FILE_MODE, PRIVATE_FILE_MODE, EXECUTABLE_MODE];

/** `count` files over a few directories, each with its own content and one of the three modes. */
function batch(dir: string, count: number): FileToWrite[] {
  return Array.from({ length: count }, (_, i) => ({
    path: path.join(dir, `d${i % 5}`, `f${i}`),
    data: i % 2 ? `text ${i}\n` : Buffer.from([i & 255, 0, 255]),
    mode: MODES[i % 3] as number,
  }));
}

function allFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

function assertLanded(files: FileToWrite[], dir: string): void {
  for (const f of files) {
    assert.deepEqual(readFileSync(f.path), Buffer.from(f.data), f.path);
    assert.equal(statSync(f.path).mode & 0o777, f.mode, f.path);
  }
  assert.equal(allFiles(dir).length, files.length, 'no temp file left behind');
}

describe('writeFilesAtomic', () => {
  // The store skips the chmod when the umask took nothing from a mode: a umask that does must still
  // end with the asked modes, in a new tree, beside existing files, in small and large batches.
  for (const mask of [0o077, 0o022, 0o000, 0o777]) {
    test(`modes are exact under umask ${mask.toString(8).padStart(3, '0')}`, async (t) => {
      const dir = await makeTempDir(t, 'store-');
      const before = process.umask(mask);
      try {
        for (const [where, count] of [['new/tree', 40], ['.', 40], ['.', 3]] as const) {
          const files = batch(path.join(dir, where), count).map((f, i) => ({ ...f, path: `${f.path}-${where.length}-${count}-${i}` }));
          writeFilesAtomic(files);
          for (const f of files) assert.equal(statSync(f.path).mode & 0o777, f.mode, f.path);
        }
      } finally {
        process.umask(before);
      }
    });
  }

  for (const count of [3, 40]) {
    test(`${count} files land with their contents and modes, and nothing else`, async (t) => {
      const dir = await makeTempDir(t, 'store-');
      const files = batch(dir, count);
      writeFilesAtomic(files);
      assertLanded(files, dir);
    });
  }

  test('a large batch still lands whole when `sync` cannot be run (an fsync per file instead)', async (t) => {
    const dir = await makeTempDir(t, 'store-');
    const files = batch(dir, 40);
    const saved = process.env.PATH;
    process.env.PATH = path.join(dir, 'no-such-bin');
    try {
      writeFilesAtomic(files);
    } finally {
      process.env.PATH = saved;
    }
    assertLanded(files, dir);
  });

  test('replacing files keeps the new modes (a key file becomes 0600 even if it was 0644)', async (t) => {
    const dir = await makeTempDir(t, 'store-');
    const files = batch(dir, 40);
    writeFilesAtomic(files.map((f) => ({ ...f, data: 'old', mode: PUBLIC_FILE_MODE })));
    writeFilesAtomic(files);
    assertLanded(files, dir);
  });

  test('when one file cannot be written, none is, and no temp file is left', async (t) => {
    const dir = await makeTempDir(t, 'store-');
    writeFileSync(path.join(dir, 'blocker'), 'a file where a directory is needed');
    const files = [...batch(dir, 39), { path: path.join(dir, 'blocker', 'f'), data: 'x', mode: PUBLIC_FILE_MODE }];
    rejects(() => writeFilesAtomic(files), 'WRITE_FAILED', /blocker/);
    assert.deepEqual(allFiles(dir), [path.join(dir, 'blocker')]);
  });

  for (const count of [3, 40]) {
    test(`${count} files into a directory that does not exist yet land as one tree, with the same modes`, async (t) => {
      const dir = await makeTempDir(t, 'store-');
      const root = path.join(dir, 'pki');
      const files = batch(path.join(root, 'nested'), count);
      writeFilesAtomic(files);
      assertLanded(files, dir);
      assert.deepEqual(readdirSync(dir), ['pki'], 'no staging directory left beside it');
    });
  }

  test('a failure beside existing files removes the directories the batch created, and names the target, not its temp file', async (t) => {
    const dir = await makeTempDir(t, 'store-');
    writeFileSync(path.join(dir, 'x'), 'a file where a directory should be');
    const files = [...batch(path.join(dir, 'a', 'b'), 20), { path: path.join(dir, 'x', 'f'), data: 'blocked', mode: PUBLIC_FILE_MODE }];
    rejects(() => writeFilesAtomic(files), 'WRITE_FAILED', `${path.join(dir, 'x', 'f')}: cannot write: a file is in the way of a directory (ENOTDIR); nothing was written`);
    assert.deepEqual(readdirSync(dir), ['x']);
    assert.equal(readFileSync(path.join(dir, 'x'), 'utf8'), 'a file where a directory should be');
  });

  test('a failure inside a new tree leaves not even the directory, and names it rather than the staging one', async (t) => {
    const dir = await makeTempDir(t, 'store-');
    const root = path.join(dir, 'pki');
    const files = [...batch(root, 39), { path: path.join(root, 'd0'), data: 'a file where a directory is', mode: PUBLIC_FILE_MODE }];
    rejects(() => writeFilesAtomic(files), 'WRITE_FAILED', new RegExp(`^${root.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/`));
    assert.deepEqual(readdirSync(dir), []);
  });
});
