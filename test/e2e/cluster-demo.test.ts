// `etcd-tls demo` as a first-time user runs it: with etcd installed it shows the whole story and leaves
// no process behind; without etcd it still generates everything and says how to install etcd.
// This file owns 127.0.0.11-13 (the demo's built-in addresses); no other test uses them.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { etcdTls, requireBinary } from '../helpers/components.js';
import { etcdProcessesUnder } from '../helpers/etcd.js';
import { makeTempDir } from '../helpers/tmp.js';

const MEMBERS = ['member1', 'member2', 'member3'] as const;

describe('etcd-tls demo', () => {
  const outs: string[] = [];
  // The demo's members are detached from it: if it dies half-way, they are stopped here, by PID.
  after(() => {
    for (const out of outs) for (const pid of etcdProcessesUnder(out)) process.kill(pid, 'SIGKILL');
  });

  test('with etcd: put/get across members, https-only member list, a refused client, exit 0, nothing left running', async (t) => {
    if (!requireBinary(t, 'etcd')) return;
    const cwd = await makeTempDir(t, 'cluster-demo-');
    const out = path.join(cwd, 'demo');
    outs.push(out);
    const r = await etcdTls(['demo', '--out', 'demo'], { cwd, timeoutMs: 90_000 });
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.equal(r.stderr, '');

    const put = /^put https:\/\/127\.0\.0\.11:2379 \/etcd-tls\/demo = "(.+)"$/m.exec(r.stdout);
    const get = /^get https:\/\/127\.0\.0\.13:2379 \/etcd-tls\/demo = "(.*)"$/m.exec(r.stdout);
    assert.ok(put && get, r.stdout);
    assert.equal(get[1], put[1], 'member3 did not return what member1 stored');

    const listed = r.stdout.split('\n').filter((l) => /^[0-9a-f]+, started, /.test(l));
    assert.deepEqual(
      listed.map((l) => l.split(', ').slice(2, 5)).sort(),
      MEMBERS.map((m, i) => [m, `https://127.0.0.1${i + 1}:2380`, `https://127.0.0.1${i + 1}:2379`]),
    );
    assert.match(r.stdout, /^every peer and client URL is https$/m);
    assert.match(r.stdout, /^refused: https:\/\/127\.0\.0\.11:2379: .*bad certificate/m);
    assert.match(r.stdout, /^== 6\. Stopped member1, member2, member3 /m);

    assert.deepEqual(etcdProcessesUnder(out), []);
    for (const m of MEMBERS) assert.equal(existsSync(path.join(out, 'nodes', m, 'etcd.pid')), false, `${m}: pid file left`);
  });

  test('without etcd on PATH: exits 0, generates everything, says how to install etcd', async (t) => {
    const cwd = await makeTempDir(t, 'cluster-demo-noetcd-');
    const emptyBin = await makeTempDir(t, 'cluster-demo-nopath-');
    const out = path.join(cwd, 'demo');
    outs.push(out);
    const r = await etcdTls(['demo', '--out', 'demo'], { cwd, env: { PATH: emptyBin } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^8 certificate\(s\) issued, 0 kept;/m);
    assert.match(r.stdout, /etcd is not installed, so the demo stops here/);
    assert.match(r.stdout, /apt-get install etcd-server/);
    assert.match(r.stdout, /^ {2}etcd-tls up demo\/cluster\.yaml --out demo$/m);
    assert.doesNotMatch(r.stdout, /== 2\./);
    for (const f of ['cluster.yaml', 'ca.pem', 'ca-key.pem', 'clients/admin/client.pem', ...MEMBERS.map((m) => `nodes/${m}/etcd.env`)]) {
      assert.ok(existsSync(path.join(out, f)), `${f} was not generated`);
    }
    assert.deepEqual(etcdProcessesUnder(out), []);
  });
});
