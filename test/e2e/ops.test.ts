// Live operations on one real etcd 3.4 cluster (`etcd-tls up`, mTLS, 127.0.0.141-145), with a writer
// putting a key every 100 ms through the members and a reader reading the latest acknowledged key
// through them in reverse order, across every step: grow 3 → 4 → 5 from the spec, shrink back to 3,
// then rotate the CA with interruptions after each phase and a SIGKILL in the middle of phase 4.
// The tests of the describe block run in order on that one cluster. Addresses: 127.0.0.141-145 only.
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { clientTargets, latestOf, opsSpec, startReader, type Reader } from '../../bench/ops.js';
import { countReadable, startWriter, type Writer } from '../../bench/migrate.js';
import { layoutCluster } from '../../src/cluster/layout.js';
import { readSpecFile } from '../../src/cluster/generate.js';
import { membersInDir, pidFileOf, runningPid, spawnMember, stopMembers } from '../../src/cluster/local.js';
import { readMembership } from '../../src/cluster/membership.js';
import { etcdEnvironment } from '../../src/cluster/render.js';
import { readOpState, writeOpState, type OpState } from '../../src/ops/runner.js';
import { CLI_PATH, cleanEnv, etcdTls, findBinary, requireBinary, run, type RunResult } from '../helpers/components.js';
import { etcdctl } from '../helpers/etcd.js';
import { makeTempDir } from '../helpers/tmp.js';

const MEMBERS = [
  ['member1', '127.0.0.141'],
  ['member2', '127.0.0.142'],
  ['member3', '127.0.0.143'],
  ['member4', '127.0.0.144'],
  ['member5', '127.0.0.145'],
] as const;
const BINARIES = ['etcd', 'etcdctl', 'curl', 'openssl'] as const;
const haveAll = BINARIES.every((b) => findBinary(b) !== null);
const needsAll = (t: TestContext): boolean => BINARIES.every((b) => requireBinary(t, b));
const urlOf = (n: string): string => `https://${MEMBERS.find(([m]) => m === n)?.[1]}:2379`;

describe('live operations on a running mTLS cluster under writes and reads', () => {
  let dir = '';
  let out = '';
  let writer: Writer | undefined;
  let reader: Reader | undefined;
  const spec = (n: number): string => {
    const file = path.join(dir, `c${n}.yaml`);
    writeFileSync(file, opsSpec('ops', MEMBERS.slice(0, n)));
    return file;
  };
  const cli = (args: string[]): Promise<RunResult> => etcdTls(args, { cwd: dir, timeoutMs: 240_000 });
  const admin = () => ({ cacert: path.join(out, 'clients/admin/ca.pem'), cert: path.join(out, 'clients/admin/client.pem'), key: path.join(out, 'clients/admin/client-key.pem') });
  const list = async (): Promise<{ id: string; status: string; name: string; peer: string; client: string; learner: string }[]> => {
    const r = await etcdctl(['member', 'list'], { endpoints: urlOf('member1'), ...admin() });
    assert.equal(r.code, 0, r.stderr);
    return r.stdout
      .trim()
      .split('\n')
      .map((l) => l.split(', '))
      .map(([id, status, name, peer, client, learner]) => ({ id: id as string, status: status as string, name: name as string, peer: peer as string, client: client as string, learner: learner as string }))
      .sort((a, b) => a.name.localeCompare(b.name));
  };
  const names = (): string[] => MEMBERS.map(([n]) => n);
  const curl = (url: string, creds: { cacert: string; cert?: string; key?: string }): Promise<RunResult> =>
    run('curl', ['-sS', '--http1.1', '--max-time', '5', '--cacert', creds.cacert, ...(creds.cert ? ['--cert', creds.cert, '--key', creds.key as string] : []), url], { env: cleanEnv() });

  before(async () => {
    dir = await makeTempDir('file', 'ops-');
    out = path.join(dir, 'pki');
    if (!haveAll) return;
    const up = await cli(['up', spec(3), '--out', out]);
    assert.equal(up.code, 0, up.stderr);
    const targets = clientTargets(out, 'admin', names, urlOf);
    writer = startWriter({ targets, prefix: '/ops/writer/' });
    reader = startReader(() => [...targets()].reverse(), latestOf(writer));
  });
  after(async () => {
    await writer?.stop();
    await reader?.stop();
    if (existsSync(path.join(out, 'nodes'))) await stopMembers(membersInDir(out));
    // Archived members were stopped before their folders moved; nothing else of ours runs.
  });

  test('gen of a grown spec issues only the new member and configures it to join; member add makes it a voter', async (t) => {
    if (!needsAll(t)) return;
    const gen = await cli(['gen', spec(4), '--out', out, '--local']);
    assert.equal(gen.code, 0, gen.stderr);
    assert.match(gen.stdout, /^2 certificate\(s\) issued, 8 kept/m);
    assert.match(gen.stdout, /issued +pki\/nodes\/member4\/server\.pem/);
    const env = readFileSync(path.join(out, 'nodes/member4/etcd.env'), 'utf8');
    assert.match(env, /^ETCD_INITIAL_CLUSTER_STATE="existing"$/m);
    assert.match(env, /^ETCD_INITIAL_CLUSTER="member1=https:\/\/127\.0\.0\.141:2380,member2=https:\/\/127\.0\.0\.142:2380,member3=https:\/\/127\.0\.0\.143:2380,member4=https:\/\/127\.0\.0\.144:2380"$/m);
    assert.match(readFileSync(path.join(out, 'nodes/member1/etcd.env'), 'utf8'), /^ETCD_INITIAL_CLUSTER_STATE="new"$/m);

    const dry = await cli(['member', 'add', 'member4', '--spec', 'c4.yaml', '--out', out, '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /1\. member4: member add --learner https:\/\/127\.0\.0\.144:2380/);
    assert.match(dry.stdout, /3\. member4: promote the learner/);
    // For a member no `up` runs, the step is the exact command to run on its host.
    const manual = await cli(['member', 'add', 'member4', '--spec', 'c4.yaml', '--out', out, '--dry-run', '--manual']);
    assert.equal(manual.code, 0, manual.stderr);
    assert.match(manual.stdout, /2\. member4: start it .* \(runbook\)\n +start member4's etcd with exactly the variables of .*nodes\/member4\/etcd\.env/);
    assert.equal(runningPid({ name: 'member4', dir: path.join(out, 'nodes/member4') }), undefined);

    const add = await cli(['member', 'add', 'member4', '--spec', 'c4.yaml', '--out', out]);
    assert.equal(add.code, 0, add.stderr);
    assert.match(add.stdout, /Done: member4 is a voting member; voting members member1, member2, member3, member4/);
    const l = await list();
    assert.deepEqual(l.map((m) => m.name), ['member1', 'member2', 'member3', 'member4']);
    assert.ok(l.every((m) => m.peer.startsWith('https://') && m.client.startsWith('https://') && m.learner === 'false'), JSON.stringify(l));
  });

  test('an address in use refuses member add with ADDRESS_COLLISION and changes nothing; freed, member5 joins', async (t) => {
    if (!needsAll(t)) return;
    assert.equal((await cli(['gen', spec(5), '--out', out, '--local'])).code, 0);
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(2380, '127.0.0.145', resolve));
    try {
      const r = await cli(['member', 'add', 'member5', '--spec', 'c5.yaml', '--out', out]);
      assert.equal(r.code, 1);
      assert.equal(r.stderr, 'etcd-tls: ADDRESS_COLLISION: member5: 127.0.0.145:2380 is already in use by another process; stop it or give member5 another address in c5.yaml\n');
      assert.equal((await list()).length, 4);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
    // A new member that does not come up (etcd refuses its key file at start) stops the run with the
    // state saved; the cluster keeps serving with an unstarted learner, which no quorum counts.
    const key5 = path.join(out, 'nodes/member5/server-key.pem');
    const goodKey = readFileSync(key5, 'utf8');
    writeFileSync(key5, 'not a key\n');
    const notBack = await cli(['member', 'add', 'member5', '--spec', 'c5.yaml', '--out', out, '--timeout', '20s']);
    writeFileSync(key5, goodKey);
    assert.equal(notBack.code, 1);
    assert.match(notBack.stderr, /^etcd-tls: MEMBER_NOT_BACK: after step start:member5 \(.*\): .*the state is saved in .*membership\.json: fix the cause, then run `etcd-tls member add member5 --spec c5\.yaml --out .*`\n$/);
    assert.deepEqual(readOpState(path.join(out, 'membership.json'))?.done.map((d) => d.id), ['add-learner:member5']);
    assert.equal((await list()).filter((m) => m.learner === 'true').length, 1);

    const add = await cli(['member', 'add', 'member5', '--spec', 'c5.yaml', '--out', out]);
    assert.equal(add.code, 0, add.stderr);
    assert.match(add.stdout, /^\[2\/3\] member5: start it/m);
    assert.doesNotMatch(add.stdout, /\[1\/3\]/);
    const l = await list();
    assert.deepEqual(l.map((m) => m.name), names());
    assert.ok(l.every((m) => m.peer.startsWith('https://') && m.learner === 'false'));
    const again = await cli(['member', 'add', 'member5', '--spec', 'c5.yaml', '--out', out]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^Nothing to do: member5 is already a voting member/);
  });

  test('shrink 5 → 3: member remove stops, revokes and archives; the last members are refused (quorum)', async (t) => {
    if (!needsAll(t)) return;
    const c3 = spec(3);
    const peer5 = readFileSync(path.join(out, 'nodes/member5/peer.pem'), 'utf8');
    for (const n of ['member5', 'member4']) {
      const r = await cli(['member', 'remove', n, '--spec', 'c3.yaml', '--out', out]);
      assert.equal(r.code, 0, `${n}: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`Done: ${n} is removed`));
      assert.equal(existsSync(path.join(out, 'nodes', n)), false);
    }
    const archived = readdirSync(path.join(out, 'archive/members'));
    assert.deepEqual(archived.map((a) => a.replace(/-\d{8}T\d{6}Z$/, '')).sort(), ['member4', 'member5']);
    const l = await list();
    assert.deepEqual(l.map((m) => m.name), ['member1', 'member2', 'member3']);
    assert.ok(l.every((m) => m.peer.startsWith('https://') && m.client.startsWith('https://')));
    // Its certificates are revoked: member5's peer certificate no longer gets through a member's peer port.
    const archive5 = path.join(out, 'archive/members', archived.find((a) => a.startsWith('member5')) as string);
    assert.equal(readFileSync(path.join(archive5, 'peer.pem'), 'utf8'), peer5);
    const rejoin = await curl('https://127.0.0.141:2380/version', { cacert: path.join(out, 'ca.pem'), cert: path.join(archive5, 'peer.pem'), key: path.join(archive5, 'peer-key.pem') });
    assert.notEqual(rejoin.code, 0, `a revoked peer certificate still reaches member1: ${rejoin.stdout}`);
    const ok = await curl('https://127.0.0.141:2380/version', { cacert: path.join(out, 'ca.pem'), cert: path.join(out, 'nodes/member2/peer.pem'), key: path.join(out, 'nodes/member2/peer-key.pem') });
    assert.equal(ok.code, 0, ok.stderr);

    const refused = await cli(['member', 'remove', 'member3', '--spec', c3, '--out', out]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^etcd-tls: QUORUM_AT_RISK: removing member3 leaves 2 voting member\(s\): a cluster of 2 stops at its first failure; add a member first, or pass --force\n$/);
    assert.equal((await list()).length, 3);
    assert.deepEqual(readMembership(out).map((m) => m.name).sort(), ['member1', 'member2', 'member3']);
  });

  test('rotate-ca refuses while another run holds the directory or a migration is unfinished', async (t) => {
    if (!needsAll(t)) return;
    writeFileSync(path.join(out, '.etcd-tls.lock'), `${process.pid} 2026-01-01T00:00:00Z etcd-tls migrate\n`);
    try {
      const r = await cli(['rotate-ca', '--spec', 'c3.yaml', '--out', out]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^etcd-tls: DIRECTORY_LOCKED: .*etcd-tls migrate \(pid \d+\) has been writing here/);
    } finally {
      (await import('node:fs')).rmSync(path.join(out, '.etcd-tls.lock'));
    }
    writeFileSync(path.join(out, 'migration.json'), '{"version":1}\n');
    try {
      const r = await cli(['rotate-ca', '--spec', 'c3.yaml', '--out', out]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^etcd-tls: OPERATION_IN_PROGRESS: .*migration\.json: a migration is unfinished/);
    } finally {
      (await import('node:fs')).rmSync(path.join(out, 'migration.json'));
    }
    assert.equal(existsSync(path.join(out, 'rotation.json')), false);
  });

  test('rotate-ca --dry-run prints the four phases and changes nothing; interrupted after phases 1 and 2 it resumes', async (t) => {
    if (!needsAll(t)) return;
    const caBefore = readFileSync(path.join(out, 'ca.pem'), 'utf8');
    const dry = await cli(['rotate-ca', '--spec', 'c3.yaml', '--out', out, '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    for (const p of [1, 2, 3, 4]) assert.match(dry.stdout, new RegExp(`^Phase ${p}: `, 'm'));
    assert.match(dry.stdout, /kube-apiserver: pki\/clients\/kube-apiserver\/ca\.pem \(old\+new CA\) and pki\/clients\/kube-apiserver\/client\.pem/);
    const manual = await cli(['rotate-ca', '--spec', 'c3.yaml', '--out', out, '--dry-run', '--manual']);
    assert.match(manual.stdout, /member2: restart it so it trusts both CAs \(runbook\)\n +copy the old\+new bundle to member2's host:\n +pki\/nodes\/member2\/ca\.pem -> .*nodes\/member2\/ca\.pem on member2's host/);
    assert.equal(existsSync(path.join(out, 'ca-next.pem')), false);

    const p1 = await cli(['rotate-ca', '--spec', 'c3.yaml', '--out', out, '--stop-after', '1']);
    assert.equal(p1.code, 0, p1.stderr);
    assert.deepEqual(readOpState(path.join(out, 'rotation.json'))?.done.map((d) => d.id), ['new-ca']);
    assert.equal(readFileSync(path.join(out, 'ca.pem'), 'utf8'), caBefore);
    const gen = await cli(['gen', 'c3.yaml', '--out', out, '--local']);
    assert.equal(gen.code, 1);
    assert.match(gen.stderr, /^etcd-tls: OPERATION_IN_PROGRESS: .*ca-next\.pem: a CA rotation is under way/);

    const p2 = await cli(['rotate-ca', '--spec', 'c3.yaml', '--out', out, '--stop-after', '2']);
    assert.equal(p2.code, 0, p2.stderr);
    assert.match(p2.stdout, /^\[5\/\d+\] member3: restart it so it trusts both CAs/m);

    const bundle = readFileSync(path.join(out, 'nodes/member2/ca.pem'), 'utf8');
    assert.equal(bundle.match(/BEGIN CERTIFICATE/g)?.length, 2);

    // Without --clients-updated the run stops at the clients step and names their files.
    const p3 = await cli(['rotate-ca', '--spec', 'c3.yaml', '--out', out]);
    assert.equal(p3.code, 0, p3.stderr);
    assert.match(p3.stdout, /^Stopped at step clients: /m);
    assert.match(p3.stdout, /--clients-updated/);
    // check understands the half-rotated directory: mixed issuers are no error, and it says where things stand.
    const check = await cli(['check', out, '--spec', 'c3.yaml', '--json']);
    assert.equal(check.code, 0, check.stdout);
    const findings = (JSON.parse(check.stdout) as { findings: { code: string; severity: string; message: string }[] }).findings;
    assert.deepEqual(findings.filter((f) => f.severity === 'error'), []);
    const rotation = findings.find((f) => f.code === 'ca-rotation-in-progress');
    const status = await cli(['status', out, '--json']);
    assert.equal(status.code, 0, status.stdout + status.stderr);
    const st = JSON.parse(status.stdout) as { status: string; rotation: { phase: number; next: { id: string } } | null };
    assert.equal(st.status, 'ok');
    assert.equal(st.rotation?.phase, 3);
    assert.equal(st.rotation?.next.id, 'clients');
    assert.match(rotation?.message ?? '', /^a CA rotation is in phase 3 \(.*\): 6 of 14 steps done; next: clients \(give every client its new files.*leaves: 6 issued by the old CA, 2 by the new one$/);
  });

  test('a member down before a step stops the rotation naming it; SIGKILL mid-phase 4, then a re-run finishes', async (t) => {
    if (!needsAll(t)) return;
    const layout = layoutCluster(readSpecFile(path.join(dir, 'c3.yaml')), { dir: out, local: true, existing: readMembership(out) });
    const m2 = layout.members[1]!;
    await stopMembers([m2]);
    const blocked = await cli(['rotate-ca', '--spec', 'c3.yaml', '--out', out, '--clients-updated']);
    assert.equal(blocked.code, 1);
    assert.match(blocked.stderr, /^etcd-tls: MEMBER_UNHEALTHY: before step \S+: member2: .*nothing of this step was done; fix it, then run `etcd-tls rotate-ca --spec c3\.yaml --out .*`\n$/);
    spawnMember(m2, etcdEnvironment(layout, m2), findBinary('etcd') as string);
    assert.ok(existsSync(pidFileOf(m2)));

    // Kill the run once phase 4 has begun (a member restarted with the new CA only).
    const child = spawn(process.execPath, [CLI_PATH, 'rotate-ca', '--spec', 'c3.yaml', '--out', out, '--clients-updated'], { cwd: dir, env: cleanEnv(), stdio: 'ignore' });
    const stateFile = path.join(out, 'rotation.json');
    for (;;) {
      const s = readOpState(stateFile);
      if (s?.done.some((d) => d.id === 'trust-new:member1')) break;
      assert.equal(child.exitCode, null, 'rotate-ca ended before phase 4');
      await sleep(50);
    }
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('close', resolve));
    const killed = readOpState(stateFile);
    assert.equal(killed?.completedAt, undefined);
    // Make the worst moment certain rather than left to timing: killed inside the next member's restart,
    // after it was stopped and before it was started again (it runs nowhere; its step is under way).
    const next = layout.members.find((m) => !killed?.done.some((d) => d.id === `trust-new:${m.name}`));
    if (next) {
      await stopMembers([next]);
      writeOpState(stateFile, { ...(killed as OpState), current: `trust-new:${next.name}` });
    }

    const r = await cli(['rotate-ca', '--spec', 'c3.yaml', '--out', out, '--clients-updated']);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /trust-new:member1|member1: ca\.pem = the new CA only/);
    assert.match(r.stdout, /^Done: every member and client certificate is issued by the new CA/m);
    assert.ok(readOpState(stateFile)?.completedAt);
  });

  test('afterwards: every certificate chains to the new CA, the old CA is archived and refused, zero failed writes and reads', async (t) => {
    if (!needsAll(t)) return;
    const ca = path.join(out, 'ca.pem');
    const leaves = [...['member1', 'member2', 'member3'].flatMap((n) => [`nodes/${n}/server.pem`, `nodes/${n}/peer.pem`]), 'clients/admin/client.pem', 'clients/kube-apiserver/client.pem'];
    const verify = await run('openssl', ['verify', '-CAfile', ca, ...leaves.map((l) => path.join(out, l))], { env: cleanEnv() });
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    const archives = readdirSync(path.join(out, 'archive')).filter((a) => a.startsWith('ca-'));
    assert.equal(archives.length, 1);
    const oldCa = path.join(out, 'archive', archives[0] as string);
    const oldPem = readFileSync(path.join(oldCa, 'ca.pem'), 'utf8');
    assert.notEqual(oldPem, readFileSync(ca, 'utf8'));
    assert.equal(existsSync(path.join(out, 'ca-next.pem')), false);
    // Nothing any member or client is configured with mentions the old CA or its key.
    for (const f of [...['member1', 'member2', 'member3'].flatMap((n) => [`nodes/${n}/ca.pem`, `nodes/${n}/etcd.env`, `nodes/${n}/etcd.yaml`]), 'clients/admin/ca.pem', 'clients/kube-apiserver/ca.pem', 'clients/kube-apiserver/kube-apiserver.flags']) {
      const text = readFileSync(path.join(out, f), 'utf8');
      assert.ok(!text.includes(oldPem.trim()) && !text.includes('archive'), `${f} still refers to the old CA`);
    }
    // A client certificate of the old CA is refused.
    const oldClient = path.join(dir, 'old-client');
    const gencert = await etcdTls(['gencert', '-ca', path.join(oldCa, 'ca.pem'), '-ca-key', path.join(oldCa, 'ca-key.pem'), '-'], { cwd: dir, stdin: '{"CN":"old","key":{"algo":"ecdsa","size":256}}' });
    assert.equal(gencert.code, 0, gencert.stderr);
    const json = await etcdTls(['json', '-bare', oldClient], { cwd: dir, stdin: gencert.stdout });
    assert.equal(json.code, 0, json.stderr);
    const refused = await curl(`${urlOf('member2')}/health`, { cacert: ca, cert: `${oldClient}.pem`, key: `${oldClient}-key.pem` });
    assert.notEqual(refused.code, 0, `member2 accepted a client certificate of the old CA: ${refused.stdout}`);
    assert.equal((await curl(`${urlOf('member2')}/health`, { cacert: ca, cert: path.join(out, 'clients/admin/client.pem'), key: path.join(out, 'clients/admin/client-key.pem') })).stdout, '{"health":"true"}');

    const w = await writer!.stop();
    const rd = await reader!.stop();
    writer = undefined;
    reader = undefined;
    t.diagnostic(`writer: ${w.attempted} attempted, ${w.acknowledged.size} acknowledged, ${w.failovers} failovers, slowest ${w.maxLatencyMs} ms; reader: ${rd.attempted} reads, ${rd.failed.length} failed`);
    assert.ok(w.acknowledged.size >= 100, `the writer acknowledged only ${w.acknowledged.size} writes`);
    assert.deepEqual(w.failed, [], 'writes failed');
    assert.deepEqual(rd.failed, [], 'reads failed');
    assert.equal(rd.wrong, 0);
    const target = clientTargets(out, 'admin', names, urlOf)()[2]!;
    assert.equal(await countReadable(w, target, '/ops/writer/'), w.acknowledged.size);
  });
});
