// Membership from the spec: a member added to an existing directory's spec joins the running cluster
// (ETCD_INITIAL_CLUSTER_STATE=existing, the members of that moment), founders keep what they had.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { generateCluster } from '../../src/cluster/generate.js';
import { layoutCluster } from '../../src/cluster/layout.js';
import { readMembership } from '../../src/cluster/membership.js';
import { etcdEnvironment } from '../../src/cluster/render.js';
import { parseSpec } from '../../src/cluster/spec.js';
import { makeTempDir } from '../helpers/tmp.js';

const spec = (n: number) =>
  parseSpec(
    ['cluster: grow', 'ca: { cn: grow CA }', 'members:', ...Array.from({ length: n }, (_, i) => `  - { name: m${i + 1}, ips: [10.0.0.${i + 1}] }`), 'clients: []', ''].join('\n'),
    'grow.yaml',
  );
const env = (layout: ReturnType<typeof layoutCluster>, name: string) => new Map(etcdEnvironment(layout, layout.members.find((m) => m.name === name)!));

test('without a directory every member founds the cluster with the whole list', () => {
  const layout = layoutCluster(spec(3), { dir: '/x' });
  for (const m of layout.members) {
    assert.equal(env(layout, m.name).get('ETCD_INITIAL_CLUSTER_STATE'), 'new');
    assert.equal(env(layout, m.name).get('ETCD_INITIAL_CLUSTER'), layout.initialCluster);
  }
});

test('joiners get the members before them, one at a time in spec order; founders keep theirs', () => {
  const founders = layoutCluster(spec(3), { dir: '/x' });
  const existing = founders.members.map((m) => ({ name: m.name, initialClusterState: 'new' as const, initialCluster: founders.initialCluster, peerUrl: m.peerUrl }));
  const grown = layoutCluster(spec(5), { dir: '/x', existing });
  assert.equal(env(grown, 'm1').get('ETCD_INITIAL_CLUSTER'), founders.initialCluster);
  assert.equal(env(grown, 'm4').get('ETCD_INITIAL_CLUSTER_STATE'), 'existing');
  assert.equal(env(grown, 'm4').get('ETCD_INITIAL_CLUSTER'), `${founders.initialCluster},m4=https://10.0.0.4:2380`);
  assert.equal(env(grown, 'm5').get('ETCD_INITIAL_CLUSTER'), `${founders.initialCluster},m4=https://10.0.0.4:2380,m5=https://10.0.0.5:2380`);
});

test('gen of a grown spec writes only the joiner, and a second gen changes nothing', async (t) => {
  const dir = await makeTempDir(t, 'membership-');
  const out = path.join(dir, 'pki');
  await generateCluster(spec(3), { out });
  const before = readFileSync(path.join(out, 'nodes/m1/etcd.env'), 'utf8');
  const { result } = await generateCluster(spec(4), { out });
  assert.deepEqual(result.issued.map((c) => c.intent.path), ['nodes/m4/server', 'nodes/m4/peer']);
  assert.equal(readFileSync(path.join(out, 'nodes/m1/etcd.env'), 'utf8'), before);
  assert.deepEqual(readMembership(out).map((m) => [m.name, m.initialClusterState]), [['m1', 'new'], ['m2', 'new'], ['m3', 'new'], ['m4', 'existing']]);
  const again = await generateCluster(spec(4), { out });
  assert.equal(again.result.issued.length, 0);
  assert.equal(again.result.written.length, 0);
  // A gen during a CA rotation would reissue the next CA's leaves from the old one: refused.
  writeFileSync(path.join(out, 'ca-next.pem'), 'x');
  await assert.rejects(generateCluster(spec(4), { out }), { code: 'OPERATION_IN_PROGRESS' });
});
