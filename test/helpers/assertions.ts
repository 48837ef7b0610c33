/** Assertions shared by the unit tests. */
import assert from 'node:assert/strict';
import { isEtcdTlsError } from '../../src/errors.js';

/**
 * `fn` throws an EtcdTlsError with this code and a message that matches (a RegExp) or equals (a string):
 * the code is what scripts rely on, the message what a person reads.
 */
export function rejects(fn: () => unknown, code: string, message: RegExp | string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isEtcdTlsError(e), `expected an EtcdTlsError, got ${String(e)}`);
    assert.equal(e.code, code);
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });
}
