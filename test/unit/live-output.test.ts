// The --dry-run listing every live operation prints (migrate, member add/remove, rotate-ca): one renderer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { planStepsJson, rel, renderPlanListing } from '../../src/cli/live-output.js';
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

test('rel shows a path as path.relative from the working directory does, also where the prefix cut does not apply', () => {
  const cwd = process.cwd();
  const parent = path.dirname(cwd);
  const sibling = `${cwd}-other`;
  const paths = [
    cwd,
    `${cwd}/`,
    `${cwd}/pki/nodes/member1/server.pem`,
    `${cwd}/pki/../pki/ca.pem`,
    `${cwd}/./pki/ca.pem`,
    `${cwd}//pki/ca.pem`,
    `${cwd}/pki/`,
    `${cwd}/..`,
    `${sibling}/ca.pem`,
    sibling,
    parent,
    `${parent}/elsewhere/ca.pem`,
    '/',
    '/etc/etcd/ca.pem',
    'relative/ca.pem',
    './relative/ca.pem',
    '../up/ca.pem',
  ];
  for (const p of paths) assert.equal(rel(p), path.relative(cwd, p) || '.', p);
});
