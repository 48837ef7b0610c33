// DIR/migration.json: written atomically after every step, read back strictly, and the source of
// where old clients can write at any moment of a migration.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { layoutCluster } from '../../src/cluster/layout.js';
import { parseSpec } from '../../src/cluster/spec.js';
import { currentPlaintextEndpoints } from '../../src/ops/migrate/migrate.js';
import { readMigrationState, recordStep, writeMigrationState, type MigrationState } from '../../src/ops/migrate/state.js';
import { runPlan, type OpStep } from '../../src/ops/runner.js';
import { makeTempDir } from '../helpers/tmp.js';

const state = (): MigrationState => ({
  version: 1,
  cluster: 'm',
  legacyClientPorts: { a: 4001, b: 4001, c: 4001 },
  memberIds: { a: '67fe8041f905d936', b: '9cb7f259b012f0e1', c: '3724a530d8e10a5a' },
  managed: ['a', 'b', 'c'],
  dropPlaintext: false,
  done: [],
  startedAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
});

test('a recorded step survives a write and a read; recording it again replaces it', async (t) => {
  const dir = await makeTempDir(t, 'migrate-state-');
  assert.equal(readMigrationState(dir), undefined);
  const at = new Date('2026-01-01T00:01:00.000Z');
  let s = recordStep(state(), { id: 'client-tls:a', pid: 4242, ms: 812 }, at);
  s = recordStep(s, { id: 'client-tls:a', pid: 4343, ms: 900 }, at);
  writeMigrationState(dir, s);
  assert.deepEqual(readMigrationState(dir)?.done, [{ id: 'client-tls:a', pid: 4343, ms: 900, at: '2026-01-01T00:01:00.000Z' }]);
  assert.equal(statSync(path.join(dir, 'migration.json')).mode & 0o777, 0o644);
});

test('a damaged state file is an error naming the file and the field, never a fresh start', async (t) => {
  const dir = await makeTempDir(t, 'migrate-state-bad-');
  const file = path.join(dir, 'migration.json');
  writeFileSync(file, '{"version": 1,');
  assert.throws(() => readMigrationState(dir), { code: 'BAD_JSON', message: new RegExp(`^${file.replace(/[.\\/]/g, '\\$&')}: not valid JSON`) });
  writeFileSync(file, JSON.stringify({ ...state(), memberIds: { a: 'not-hex' } }));
  assert.throws(() => readMigrationState(dir), { code: 'BAD_FIELD', message: `${file}: memberIds.a: Invalid string: must match pattern /^[0-9a-f]{1,16}$/` });
});

test('old clients find the plaintext ports the state says are open', async (t) => {
  const dir = await makeTempDir(t, 'migrate-state-endpoints-');
  const spec = parseSpec('cluster: m\nca: { cn: m }\nmembers:\n  - { name: a, ips: [127.0.0.81] }\n  - { name: b, ips: [127.0.0.82] }\n  - { name: c, ips: [127.0.0.83] }\n', 'm.yaml');
  const layout = layoutCluster(spec, { dir, local: true });
  assert.deepEqual(currentPlaintextEndpoints(layout), ['http://127.0.0.81:2379', 'http://127.0.0.82:2379', 'http://127.0.0.83:2379']);
  writeMigrationState(dir, recordStep(state(), { id: 'client-tls:b' }));
  assert.deepEqual(currentPlaintextEndpoints(layout), ['http://127.0.0.81:2379', 'http://127.0.0.82:4001', 'http://127.0.0.83:2379']);
  assert.match(readFileSync(path.join(dir, 'migration.json'), 'utf8'), /"id": "client-tls:b"/);
});

test('the runner carries a migration on its own state format: a file from before the runner resumes, and stays readable', async (t) => {
  const dir = await makeTempDir(t, 'migrate-state-runner-');
  // Exactly what a migration interrupted by an earlier version left (no `current`).
  const before = { ...state(), done: [{ id: 'client-tls:a', pid: 4242, ms: 812, at: '2026-01-01T00:01:00.000Z' }] };
  writeFileSync(path.join(dir, 'migration.json'), JSON.stringify(before, null, 2));
  const old = readMigrationState(dir) as MigrationState;
  const ran: string[] = [];
  const step = (id: string): OpStep => ({ id, phase: 1, title: id, member: id.split(':')[1], managed: true, detail: [], runbook: [], run: async () => void ran.push(id) });
  const outcome = await runPlan<MigrationState>({
    stateFile: path.join(dir, 'migration.json'),
    state: old,
    write: (s) => writeMigrationState(dir, s),
    steps: ['client-tls:a', 'client-tls:b', 'client-tls:c'].map(step),
    gateAfter: () => async () => [],
    resume: 'etcd-tls migrate',
    stepTimeoutMs: 300,
    manualWaitMs: 300,
    stopAfter: 1,
  });
  assert.deepEqual(ran, ['client-tls:b']);
  assert.equal(outcome.stopped, true);
  const after = readMigrationState(dir);
  assert.deepEqual(after?.done.map((d) => d.id), ['client-tls:a', 'client-tls:b']);
  assert.deepEqual(after?.memberIds, before.memberIds);
  assert.equal(after?.current, undefined);
});
