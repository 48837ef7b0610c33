/**
 * `check` of a large generated directory stays linear: every member's etcd.env and etcd.yaml carry the
 * same initial-cluster (one entry per member), and parsing it again for each of them made a
 * 2,000-member check quadratic (46 s, 1.2 GB). Counted, not timed: the number of initial-cluster
 * parses must not grow with the number of configurations.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { generateCluster } from '../../src/cluster/generate.js';
import { parseSpec } from '../../src/cluster/spec.js';
import { runCheck } from '../../src/doctor/check/check.js';
import { initialClusterParseCount } from '../../src/doctor/check/config.js';
import { makeTempDir } from '../helpers/tmp.js';

const MEMBERS = 40;

function specYaml(members: number): string {
  const lines = ['cluster: scale', 'members:'];
  for (let i = 1; i <= members; i++) lines.push(`  - { name: member${i}, ips: [10.0.${i >> 8}.${i & 255}] }`);
  lines.push('clients:', '  - { name: admin, cn: root }');
  return `${lines.join('\n')}\n`;
}

let pki: string;

before(async () => {
  const root = await makeTempDir('file', 'check-scale-');
  pki = path.join(root, 'pki');
  await generateCluster(parseSpec(specYaml(MEMBERS), path.join(root, 'spec.yaml')), { out: pki });
});

describe(`check of a ${MEMBERS}-member directory`, () => {
  test('parses the shared initial-cluster once, not once per configuration', async () => {
    const before = initialClusterParseCount();
    const report = await runCheck({ dir: pki });
    assert.equal(report.checked.configs.length >= 2 * MEMBERS, true, `checked ${report.checked.configs.length} configurations`);
    assert.deepEqual(
      report.findings.filter((f) => f.severity !== 'info').map((f) => `${f.code}: ${f.subject}`),
      [],
    );
    // At most one parse per distinct value (a second run may be served entirely from the cache).
    assert.ok(initialClusterParseCount() - before <= 1, `${initialClusterParseCount() - before} parses for ${report.checked.configs.length} configurations`);
  });
});
