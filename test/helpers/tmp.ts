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
