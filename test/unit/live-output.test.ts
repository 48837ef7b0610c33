// The --dry-run listing every live operation prints (migrate, member add/remove, rotate-ca): one renderer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planStepsJson, renderPlanListing } from '../../src/cli/live-output.js';
import type { OpStep } from '../../src/ops/runner.js';

const step = (id: string, phase: number, managed: boolean): OpStep => ({
  id,
  phase,
  title: `title of ${id}`,
  managed,
  detail: [`etcd-tls does ${id}`],
  runbook: [`an operator runs ${id}`],
});

test('steps are numbered under their phase, with what etcd-tls does or the runbook; done steps are marked and not detailed', () => {
  const steps = [step('a', 1, true), step('b', 1, false), step('c', 2, true)];
  const text = renderPlanListing({ head: ['Head'], steps, done: ['a'], phaseTitle: (p) => `Phase ${p}`, foot: ['Foot'] });
  assert.equal(
    text,
    [
      'Head',
      '',
      'Phase 1',
      '   1. [done] title of a',
      '   2. title of b (runbook)',
      '        an operator runs b',
      '',
      'Phase 2',
      '   3. title of c',
      '        etcd-tls does c',
      '',
      'Foot',
      '',
    ].join('\n'),
  );
  // Without phases (member add/remove) there are no headings.
  assert.doesNotMatch(renderPlanListing({ head: [], steps, done: [], foot: [] }), /Phase/);
  assert.deepEqual(
    planStepsJson(steps, ['a']).map((s) => (s as { id: string; done: boolean }).done),
    [true, false, false],
  );
});
