// The runner of live operations, on steps that act on files only (the live cluster behind the health
// gate is exercised by test/e2e/ops.test.ts): order, recorded state, resume, stops and failures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { membershipGate, newOpState, readOpState, refuseOtherOperations, runPlan, stateFileOf, type OpStep, type RunOptions } from '../../src/ops/runner.js';
import { isEtcdTlsError } from '../../src/errors.js';
import { makeTempDir } from '../helpers/tmp.js';

const NO_MEMBERS = { members: [], voters: [] };

function plan(dir: string, log: string[], extra: Partial<OpStep>[] = []): OpStep[] {
  const step = (id: string, phase: number, more: Partial<OpStep> = {}): OpStep => ({
    id,
    phase,
    title: id,
    managed: true,
    detail: [],
    runbook: [],
    run: async () => void log.push(id),
    observe: async () => (existsSync(path.join(dir, `broken-${id}`)) ? `${id} is not visible` : undefined),
    ...more,
  });
  return [step('a', 1), step('b', 2), step('c', 2), ...extra.map((e, i) => step(e.id ?? `x${i}`, 3, e))];
}

const options = (dir: string, steps: OpStep[], more: Partial<RunOptions> = {}): RunOptions => {
  const stateFile = stateFileOf(dir, 'rotate-ca');
  return {
    stateFile,
    state: readOpState(stateFile) ?? newOpState('rotate-ca', 'test', 'ca'),
    steps,
    gateBefore: () => membershipGate(NO_MEMBERS),
    gateAfter: () => membershipGate(NO_MEMBERS),
    resume: 'etcd-tls rotate-ca --spec s --out d',
    stepTimeoutMs: 300,
    manualWaitMs: 300,
    ...more,
  };
};

test('steps run in order, each recorded; a run stopped after a phase resumes with the next step only', async (t) => {
  const dir = await makeTempDir(t, 'runner-');
  const log: string[] = [];
  const first = await runPlan(options(dir, plan(dir, log), { stopAfterPhase: 1 }));
  assert.equal(first.stopped, true);
  assert.deepEqual(log, ['a']);
  assert.deepEqual(readOpState(stateFileOf(dir, 'rotate-ca'))?.done.map((d) => d.id), ['a']);
  const second = await runPlan(options(dir, plan(dir, log)));
  assert.equal(second.complete, true);
  assert.deepEqual(log, ['a', 'b', 'c']);
  assert.ok(readOpState(stateFileOf(dir, 'rotate-ca'))?.completedAt);
});

test('a step whose effect never shows fails with MEMBER_NOT_BACK, the state saved and the resume command named', async (t) => {
  const dir = await makeTempDir(t, 'runner-');
  const log: string[] = [];
  writeFileSync(path.join(dir, 'broken-b'), '');
  await assert.rejects(runPlan(options(dir, plan(dir, log))), (e: unknown) => {
    assert.ok(isEtcdTlsError(e));
    assert.equal(e.code, 'MEMBER_NOT_BACK');
    assert.match(e.message, /^after step b \(not within 0.3 s\): b is not visible; the state is saved in .*rotation\.json: fix the cause, then run `etcd-tls rotate-ca --spec s --out d`$/);
    return true;
  });
  const state = readOpState(stateFileOf(dir, 'rotate-ca'));
  assert.deepEqual(state?.done.map((d) => d.id), ['a']);
  assert.equal(state?.current, 'b');
});

test('a step only an operator can confirm stops the run until confirmed', async (t) => {
  const dir = await makeTempDir(t, 'runner-');
  const log: string[] = [];
  const steps = plan(dir, log, [{ id: 'clients', managed: false, runbook: ['copy the files'], confirmation: 'clients', observe: async () => undefined }, { id: 'after' }]);
  const r = await runPlan(options(dir, steps));
  assert.equal(r.awaiting?.id, 'clients');
  assert.deepEqual(log, ['a', 'b', 'c']);
  const r2 = await runPlan(options(dir, steps, { confirmed: ['clients'] }));
  assert.equal(r2.complete, true);
  assert.deepEqual(log, ['a', 'b', 'c', 'after']);
});

test('another operation recorded unfinished refuses a new one with OPERATION_IN_PROGRESS', async (t) => {
  const dir = await makeTempDir(t, 'runner-');
  await runPlan(options(dir, plan(dir, []), { stopAfterPhase: 1 }));
  assert.throws(() => refuseOtherOperations(dir, 'member-add', 'm4', () => 'finish it'), { code: 'OPERATION_IN_PROGRESS', message: /rotation\.json: rotate-ca ca is unfinished \(1 step\(s\) done\); finish it first$/ });
  writeFileSync(path.join(dir, 'migration.json'), '{"version":1}');
  assert.throws(() => refuseOtherOperations(dir, 'rotate-ca', 'ca', () => ''), { code: 'OPERATION_IN_PROGRESS', message: /migration\.json: a migration is unfinished/ });
});

test('Ctrl-C stops before a step, never between a step and one marked noStopBefore; a silent step emits nothing', async (t) => {
  const dir = await makeTempDir(t, 'runner-');
  const log: string[] = [];
  const events: string[] = [];
  let stop = false;
  const steps = plan(dir, log, [{ id: 'update' }, { id: 'restart', noStopBefore: true, silent: true, run: async () => void log.push('restart') }]);
  const r = await runPlan(
    options(dir, steps, {
      onEvent: (e) => {
        if (e.type === 'step') events.push(e.step.id);
        if (e.type === 'step-done' && e.step.id === 'update') stop = true;
      },
      shouldStop: () => stop,
    }),
  );
  assert.equal(r.stopped, false);
  assert.deepEqual(log, ['a', 'b', 'c', 'update', 'restart']);
  assert.deepEqual(events, ['a', 'b', 'c', 'update']);
});
