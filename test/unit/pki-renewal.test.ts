import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MAX_RENEWAL_WINDOW_MS, needsRenewal, renewalWindowMs } from '../../src/pki/renewal.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

describe('renewal window: a third of the lifetime, at most 30 days', () => {
  const cases: [string, number, number][] = [
    ['one year', 8760 * HOUR, 30 * DAY],
    ['90 days (cert-manager default: renew 30 days before)', 90 * DAY, 30 * DAY],
    ['720h', 720 * HOUR, 240 * HOUR],
    ['24h', 24 * HOUR, 8 * HOUR],
    ['5m', 5 * MIN, (5 * MIN) / 3],
  ];
  for (const [what, lifetime, window] of cases)
    test(`${what}: ${window / HOUR}h`, () => assert.equal(renewalWindowMs(lifetime), window));

  test('the cap is 30 days', () => assert.equal(MAX_RENEWAL_WINDOW_MS, 30 * DAY));

  test('regression: a 720h certificate just issued is not due (a fixed 30-day window reissued it on every run)', () => {
    const notBefore = new Date('2026-01-01T00:00:00Z');
    const notAfter = new Date(notBefore.getTime() + 720 * HOUR);
    assert.equal(needsRenewal({ notBefore, notAfter }, new Date(notBefore.getTime() + 5 * MIN)), false);
    assert.equal(needsRenewal({ notBefore, notAfter }, new Date(notBefore.getTime() + 479 * HOUR)), false);
    assert.equal(needsRenewal({ notBefore, notAfter }, new Date(notBefore.getTime() + 481 * HOUR)), true);
    assert.equal(needsRenewal({ notBefore, notAfter }, new Date(notAfter.getTime() + 1)), true);
  });
});
