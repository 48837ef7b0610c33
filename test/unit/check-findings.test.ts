/** Rendering findings: text grouped by subject with a summary line, and JSON for scripts. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { dedupeFindings, renderFindingsJson, renderFindingsText, summaryLine, type Finding } from '../../src/doctor/findings.js';

// Made-up codes: what is tested here is the rendering, whatever the registries hold.
const f = (code: string, severity: Finding['severity'], subject: string, seeAlso?: string[]): Finding => ({
  code: code as Finding['code'],
  severity,
  subject,
  message: `${code} happened`,
  fix: `undo ${code}`,
  ...(seeAlso ? { seeAlso: seeAlso as Finding['seeAlso'] } : {}),
});

describe('renderFindingsText', () => {
  test('groups by subject in order of appearance, errors first within a group, summary last', () => {
    const text = renderFindingsText([
      f('expiring', 'warning', 'a.pem'),
      f('conflict', 'error', 'etcd.env: ETCD_NAME', ['env-flag-conflict']),
      f('expired', 'error', 'a.pem'),
    ]);
    assert.equal(
      text,
      [
        'a.pem',
        '  error    expired: expired happened',
        '           fix: undo expired',
        '  warning  expiring: expiring happened',
        '           fix: undo expiring',
        '',
        'etcd.env: ETCD_NAME',
        '  error    conflict: conflict happened',
        '           fix: undo conflict',
        '           see: env-flag-conflict',
        '',
        '2 errors, 1 warning',
        '',
      ].join('\n'),
    );
  });

  test('nothing found is still a summary', () => {
    assert.equal(renderFindingsText([]), '0 errors, 0 warnings\n');
  });

  test('the summary counts notes only when there are some', () => {
    assert.equal(summaryLine([f('a', 'error', 's'), f('b', 'info', 's'), f('c', 'info', 't')]), '1 error, 0 warnings, 2 info');
  });
});

describe('renderFindingsJson', () => {
  test('ok, summary, extra fields and the findings', () => {
    const body = JSON.parse(renderFindingsJson([f('w', 'warning', 's')], { checked: { configs: ['etcd.env'] } })) as Record<string, unknown>;
    assert.deepEqual(body, {
      ok: true,
      summary: { errors: 0, warnings: 1, info: 0 },
      checked: { configs: ['etcd.env'] },
      findings: [{ code: 'w', severity: 'warning', subject: 's', message: 'w happened', fix: 'undo w' }],
    });
    assert.equal((JSON.parse(renderFindingsJson([f('e', 'error', 's')])) as { ok: boolean }).ok, false);
  });
});

test('dedupeFindings drops exact repeats only', () => {
  const a = f('x', 'error', 's');
  assert.deepEqual(dedupeFindings([a, { ...a }, f('x', 'error', 't')]).map((x) => x.subject), ['s', 't']);
});
