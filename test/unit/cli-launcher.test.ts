// bin/etcd-tls runs each command from its pre-bundled file (dist/bundle/<command>.cjs): the bundles
// must exist for every command and behave as the ESM modules they are built from.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { COMMANDS } from '../../src/cli/main.js';
import { etcdTls, REPO_ROOT } from '../helpers/components.js';

describe('bin/etcd-tls: pre-bundled commands', () => {
  for (const entry of COMMANDS) {
    test(`${entry.name}: its bundle prints the same --help as its module`, async () => {
      assert.ok(existsSync(path.join(REPO_ROOT, 'dist', 'bundle', `${entry.name}.cjs`)), `dist/bundle/${entry.name}.cjs is missing: run npm run build`);
      const r = await etcdTls([entry.name, '--help']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, (await entry.load()).help());
    });
  }

  test('an error inside a bundled command is one line with its code, exit 1', async () => {
    const r = await etcdTls(['gencert', '-ca', 'no-such-ca.pem', '-ca-key', 'no-such-key.pem', '-']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^etcd-tls: [A-Z_]+: .*no-such/);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  });

  test('the ESM entry still answers what no bundle covers: --version, help, unknown commands', async () => {
    assert.match((await etcdTls(['--version'])).stdout, /^etcd-tls \d+\.\d+\.\d+\n$/);
    assert.match((await etcdTls(['help', 'gen'])).stdout, /^Usage: etcd-tls gen /);
    const unknown = await etcdTls(['gencertt']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^etcd-tls: UNKNOWN_COMMAND: 'gencertt' is not a command/);
  });
});
