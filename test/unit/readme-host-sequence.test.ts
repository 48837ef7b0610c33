// The README's host sequence and install.sh's closing hint must not hang: etcd.service is Type=notify,
// and etcd reports ready only once a quorum has formed, so a blocking `systemctl start etcd` on the
// first host waits forever for members nobody has started yet.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { layoutCluster } from '../../src/cluster/layout.js';
import { renderConfigFiles } from '../../src/cluster/render.js';
import { parseSpec } from '../../src/cluster/spec.js';
import { REPO_ROOT } from '../helpers/components.js';

const blockingStart = /systemctl (start|enable --now|restart)(?![^'"\n]*--no-block)[^'"\n]*\betcd\b/;

test('regression: the README starts members with --no-block, after installing on every host', () => {
  const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
  const code = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]).join('\n');
  assert.match(code, /systemctl start --no-block etcd/);
  assert.doesNotMatch(code, blockingStart);
  const install = code.indexOf('sh install.sh');
  assert.ok(install >= 0 && install < code.indexOf('systemctl start --no-block etcd'));
});

test("regression: install.sh's closing hint starts without blocking", () => {
  const layout = layoutCluster(parseSpec(readFileSync(path.join(REPO_ROOT, 'test/fixtures/cluster/gen.yaml'), 'utf8'), 'gen.yaml'), { dir: '/tmp/x', local: false });
  const script = renderConfigFiles(layout).find((f) => f.path === layout.members[0]?.files.install)?.data ?? '';
  assert.match(script, /systemctl start --no-block etcd/);
  assert.doesNotMatch(script, blockingStart);
});
