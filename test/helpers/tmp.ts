/**
 * Temporary directories that clean up after themselves.
 *
 * @example
 *   test('gen writes the PKI', async (t) => {
 *     const dir = await makeTempDir(t, 'gen-');
 *     ...
 *   });
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, type TestContext } from 'node:test';

const fileScoped: string[] = [];
// Registered when this module loads, i.e. at the top level of the test file: runs once its tests are done.
after(async () => {
  await Promise.all(fileScoped.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/**
 * A fresh directory under os.tmpdir(), removed when the test `t` ends (pass 'file' to keep it until
 * every test in the file has run, e.g. for a cluster started in a before() hook).
 */
export async function makeTempDir(t: TestContext | 'file', prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), `etcd-tls-${prefix}`));
  if (t === 'file') fileScoped.push(dir);
  else t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Wait until `file` exists: a readiness signal a child process gives by creating it (e.g. gen's
 * directory lock, taken once its signal handlers are installed). Rejects if `child` exits first.
 */
export async function waitForFile(file: string, child: { exitCode: number | null; signalCode: string | null }): Promise<void> {
  const { existsSync } = await import('node:fs');
  const { setTimeout: tick } = await import('node:timers/promises');
  while (!existsSync(file)) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${file}: the process exited (${child.exitCode ?? child.signalCode}) before creating it`);
    await tick(10);
  }
}
