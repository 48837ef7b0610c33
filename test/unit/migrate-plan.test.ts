// The migration plan as data: step order, the exact environment of each member after each step, the
// runbook an operator gets, the plaintext ports, and the pure precondition checks. `sh` judges the
// runbook's env lines; `up --insecure`'s own environment is the starting point the plan must join.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { layoutCluster, type ClusterLayout } from '../../src/cluster/layout.js';
import { insecureEnvironment } from '../../src/cluster/local.js';
import { etcdEnvironment } from '../../src/cluster/render.js';
import { parseSpec } from '../../src/cluster/spec.js';
import { memberCountCheck, memberListCheck, peerSourceAddresses } from '../../src/ops/migrate/checks.js';
import {
  initialStages,
  legacyClientPorts,
  planMigration,
  plaintextEndpoints,
  stageEnvironment,
  stagesAfter,
  type MigrationStep,
  type Stages,
} from '../../src/ops/migrate/plan.js';
import type { Member } from '../../src/etcd/gateway.js';
import { run } from '../helpers/components.js';
import { makeTempDir } from '../helpers/tmp.js';

const SPEC = `cluster: m
ca: { cn: m CA }
members:
  - { name: a, ips: [127.0.0.81] }
  - { name: b, ips: [127.0.0.82] }
  - { name: c, ips: [10.0.0.3], clientPort: 12379, peerPort: 12380 }
`;
const local = layoutCluster(parseSpec(SPEC, 'm.yaml'), { dir: '/srv/m', local: true });
const installed = layoutCluster(parseSpec(SPEC, 'm.yaml'), { dir: '/srv/m' });
const member = (l: ClusterLayout, name: string) => l.members.find((m) => m.name === name) as ClusterLayout['members'][number];
const step = (steps: readonly MigrationStep[], id: string): MigrationStep => steps.find((s) => s.id === id) as MigrationStep;
const env = (vars: readonly [string, string][] | undefined): Record<string, string> => Object.fromEntries(vars ?? []);
const TLS_VARS = [
  'ETCD_CERT_FILE', 'ETCD_KEY_FILE', 'ETCD_TRUSTED_CA_FILE', 'ETCD_CLIENT_CERT_AUTH', 'ETCD_PEER_CERT_FILE',
  'ETCD_PEER_KEY_FILE', 'ETCD_PEER_TRUSTED_CA_FILE', 'ETCD_PEER_CLIENT_CERT_AUTH', 'ETCD_PEER_CERT_ALLOWED_HOSTNAME',
];

describe('planMigration', () => {
  const plan = planMigration(local, { ids: { a: 'aa01', b: 'bb02', c: 'cc03' } });

  test('phase 1 for every member, then member update + restart per member; phase 3 only when asked', () => {
    assert.deepEqual(plan.steps.map((s) => `${s.phase} ${s.id}`), [
      '1 client-tls:a', '1 client-tls:b', '1 client-tls:c',
      '2 peer-update:a', '2 peer-restart:a', '2 peer-update:b', '2 peer-restart:b', '2 peer-update:c', '2 peer-restart:c',
    ]);
    const dropped = planMigration(local, { dropPlaintext: true });
    assert.deepEqual(dropped.steps.slice(9).map((s) => s.id), ['drop-plaintext:a', 'drop-plaintext:b', 'drop-plaintext:c']);
  });

  test('starts from exactly what `up --insecure` runs and ends at exactly the generated etcd.env', () => {
    const legacy = legacyClientPorts(local);
    const final: Stages = Object.fromEntries(local.members.map((m) => [m.name, { client: 'https', peer: 'https' }]));
    for (const m of local.members) {
      assert.deepEqual(stageEnvironment(local, m, initialStages(local), legacy), insecureEnvironment(etcdEnvironment(local, m)));
      assert.deepEqual(stageEnvironment(local, m, final, legacy), etcdEnvironment(local, m));
    }
    const last = planMigration(local, { dropPlaintext: true }).steps.filter((s) => s.kind === 'drop-plaintext');
    for (const s of last) assert.deepEqual(s.environment, etcdEnvironment(local, member(local, s.member)));
  });

  test('phase 1 adds the TLS files and a plaintext listener on client port - 1; the peer side stays http', () => {
    const s = step(plan.steps, 'client-tls:c');
    assert.deepEqual(s.changes?.set.map(([k]) => k), ['ETCD_LISTEN_CLIENT_URLS', 'ETCD_ADVERTISE_CLIENT_URLS', ...TLS_VARS]);
    assert.deepEqual(s.changes?.unset, []);
    const e = env(s.environment);
    assert.equal(e.ETCD_LISTEN_CLIENT_URLS, 'https://10.0.0.3:12379,http://10.0.0.3:12378');
    assert.equal(e.ETCD_ADVERTISE_CLIENT_URLS, 'https://10.0.0.3:12379');
    assert.equal(e.ETCD_LISTEN_PEER_URLS, 'http://10.0.0.3:12380');
    assert.equal(e.ETCD_INITIAL_CLUSTER, 'a=http://127.0.0.81:2380,b=http://127.0.0.82:2380,c=http://10.0.0.3:12380');
    assert.equal(e.ETCD_CERT_FILE, '/srv/m/nodes/c/server.pem');
  });

  test('phase 2 restarts a member with an https peer listener and the peer URLs the member list has then', () => {
    assert.equal(step(plan.steps, 'peer-update:b').peerUrl, 'https://127.0.0.82:2380');
    const s = step(plan.steps, 'peer-restart:b');
    assert.deepEqual(s.changes?.set, [
      ['ETCD_LISTEN_PEER_URLS', 'https://127.0.0.82:2380'],
      ['ETCD_INITIAL_ADVERTISE_PEER_URLS', 'https://127.0.0.82:2380'],
      ['ETCD_INITIAL_CLUSTER', 'a=https://127.0.0.81:2380,b=https://127.0.0.82:2380,c=http://10.0.0.3:12380'],
    ]);
    assert.equal(env(s.environment).ETCD_LISTEN_CLIENT_URLS, 'https://127.0.0.82:2379,http://127.0.0.82:2378');
  });

  test('phase 3 changes the client listeners (and an initial-cluster written before later members moved)', () => {
    const steps = planMigration(local, { dropPlaintext: true }).steps;
    assert.deepEqual(step(steps, 'drop-plaintext:c').changes, { set: [['ETCD_LISTEN_CLIENT_URLS', 'https://10.0.0.3:12379']], unset: [] });
    assert.deepEqual(step(steps, 'drop-plaintext:a').changes, {
      set: [
        ['ETCD_LISTEN_CLIENT_URLS', 'https://127.0.0.81:2379'],
        ['ETCD_INITIAL_CLUSTER', 'a=https://127.0.0.81:2380,b=https://127.0.0.82:2380,c=https://10.0.0.3:12380'],
      ],
      unset: [],
    });
  });

  test('the runbook of an installed member names its ID, the installed files and systemctl', () => {
    const p = planMigration(installed, { ids: { a: '67fe8041f905d936' } });
    const update = step(p.steps, 'peer-update:a').runbook.join('\n');
    assert.ok(
      update.includes(
        'ETCDCTL_API=3 etcdctl --endpoints=https://127.0.0.81:2379 --cacert=/etc/etcd/pki/ca.pem --cert=/etc/etcd/pki/server.pem --key=/etc/etcd/pki/server-key.pem member update 67fe8041f905d936 --peer-urls=https://127.0.0.81:2380',
      ),
      update,
    );
    assert.match(update, /in \/etc\/etcd\/etcd\.env on a's host, set/);
    assert.match(update, /then restart it: {2}systemctl restart etcd$/);
    assert.match(step(p.steps, 'peer-update:b').runbook.join('\n'), /member update <ID of b> --peer-urls=/);
  });

  test('the runbook env lines mean, to sh, exactly the values the step sets', async (t) => {
    const s = step(planMigration(installed, {}).steps, 'client-tls:a');
    const lines = s.runbook.filter((l) => /^ {2}ETCD_/.test(l)).map((l) => l.trim());
    const dir = await makeTempDir(t, 'migrate-runbook-');
    const file = path.join(dir, 'vars.sh');
    await writeFile(file, `${lines.join('\n')}\n`);
    const names = s.changes?.set.map(([k]) => k) ?? [];
    const r = await run('sh', ['-c', `. "$1" && for n in ${names.join(' ')}; do eval "printf '%s\\n' \\"\\$$n\\""; done`, 'sh', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trimEnd().split('\n'), s.changes?.set.map(([, v]) => v));
  });
});

describe('plaintext ports', () => {
  test('default to each client port - 1; one port for all with --legacy-client-port', () => {
    assert.deepEqual(legacyClientPorts(local), { a: 2378, b: 2378, c: 12378 });
    assert.deepEqual(legacyClientPorts(local, 4001), { a: 4001, b: 4001, c: 4001 });
  });

  test('a port another listener of the spec uses is refused, naming it', () => {
    assert.throws(() => legacyClientPorts(local, 2380), { code: 'PORT_COLLISION', message: "a: the plaintext client port 127.0.0.81:2380 is a's peer port; choose another with --legacy-client-port" });
    const shared = layoutCluster(
      parseSpec('cluster: s\nca: { cn: s }\nmembers:\n  - { name: x, ips: [127.0.0.1] }\n  - { name: y, ips: [127.0.0.1], clientPort: 2378, peerPort: 2377 }\n', 's.yaml'),
      { dir: '/srv/s' },
    );
    assert.throws(() => legacyClientPorts(shared), { code: 'PORT_COLLISION', message: /^x: the plaintext client port 127\.0\.0\.1:2378 is y's client port/ });
    assert.throws(() => legacyClientPorts(local, 70000), { code: 'BAD_FIELD' });
  });

  test('old clients write to the client port, then the plaintext port, then nowhere', () => {
    const p = planMigration(local, { dropPlaintext: true });
    const legacy = p.legacyClientPorts;
    const after = (...ids: string[]) => plaintextEndpoints(local, stagesAfter(local, p, new Set(ids)), legacy);
    assert.deepEqual(after(), ['http://127.0.0.81:2379', 'http://127.0.0.82:2379', 'http://10.0.0.3:12379']);
    assert.deepEqual(after('client-tls:a'), ['http://127.0.0.81:2378', 'http://127.0.0.82:2379', 'http://10.0.0.3:12379']);
    assert.deepEqual(after('client-tls:a', 'drop-plaintext:a'), ['http://127.0.0.82:2379', 'http://10.0.0.3:12379']);
  });
});

describe('precondition checks', () => {
  const listed = (name: string, isLearner = false): Member => ({ id: 1n, idHex: '1', name, peerURLs: [], clientURLs: [], isLearner });

  test('fewer than 3 members are refused unless forced', () => {
    assert.equal(memberCountCheck(3, false).ok, true);
    assert.equal(memberCountCheck(2, false).ok, false);
    assert.match(memberCountCheck(1, false).message, /quorum would be lost/);
    assert.equal(memberCountCheck(2, true).ok, true);
  });

  test('the live member list must be the spec\'s members, none a learner', () => {
    assert.equal(memberListCheck([listed('a'), listed('b'), listed('c')], local, false).ok, true);
    assert.match(memberListCheck([listed('a'), listed('b'), listed('d')], local, false).message, /the cluster's members are a, b, d, the spec's are a, b, c/);
    assert.match(memberListCheck([listed('a'), listed('b'), listed('c', true)], local, false).message, /^c: a learner/);
    assert.match(memberListCheck([listed('a'), listed('b'), listed('')], local, false).message, /\(unstarted 1\)/);
  });

  test('a loopback member dials from 127.0.0.1 as well; others from their own IPs', () => {
    assert.deepEqual(peerSourceAddresses(member(local, 'a')), ['127.0.0.81', '127.0.0.1']);
    assert.deepEqual(peerSourceAddresses(member(local, 'c')), ['10.0.0.3']);
  });
});
