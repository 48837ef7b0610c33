// Quoting remembers long values (every member's files carry the same initial-cluster list): the text is
// the same as quoting afresh, and a refused value is refused every time, naming the field it came in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { envQuote } from '../../src/cluster/syntax/env.js';
import { shellQuote } from '../../src/cluster/syntax/shell.js';
import { yamlString } from '../../src/cluster/syntax/yaml.js';
import { rememberingLongValues } from '../../src/cluster/syntax/remember.js';
import { isEtcdTlsError } from '../../src/errors.js';

const initialCluster = (n: number, extra = ''): string =>
  Array.from({ length: n }, (_, i) => `member${i + 1}=https://10.0.${i >> 8}.${i & 255}:2380${extra}`).join(',');

test('a long value quoted again gives the same text as the first time, in every syntax', () => {
  for (const value of [initialCluster(100), initialCluster(100, `'"$\`\\`), initialCluster(9)]) {
    assert.ok(value.length >= 256);
    for (const quote of [envQuote, shellQuote, yamlString]) {
      const first = quote(value, 'ETCD_INITIAL_CLUSTER');
      // A different string object with the same text, as another member's layout would hold.
      const again = quote(`${value} `.slice(0, -1), 'initial-cluster');
      assert.equal(again, first);
    }
  }
  assert.equal(envQuote(initialCluster(100, '$x')), `"${initialCluster(100, '\\$x')}"`);
  assert.equal(yamlString(initialCluster(100, '"')), JSON.stringify(initialCluster(100, '"')));
});

test('a long value with a control character is refused every time, naming the field of that call', () => {
  const bad = `${initialCluster(100)}\n`;
  for (const quote of [envQuote, shellQuote, yamlString]) {
    for (const what of ['ETCD_INITIAL_CLUSTER', 'initial-cluster']) {
      assert.throws(
        () => quote(bad, what),
        (e: unknown) => isEtcdTlsError(e) && e.code === 'CONTROL_CHARACTER' && e.message.startsWith(`${what}:`),
      );
    }
  }
});

test('only long values are remembered, and the memory stays bounded', () => {
  let calls = 0;
  const quote = rememberingLongValues((v) => {
    calls++;
    return `<${v}>`;
  });
  quote('short', 'x');
  quote('short', 'x');
  assert.equal(calls, 2);
  const long = 'y'.repeat(300);
  quote(long, 'x');
  quote(long, 'x');
  assert.equal(calls, 3);
  // Past the bound the memory starts over: every distinct value is still quoted correctly.
  for (let i = 0; i < 200; i++) assert.equal(quote(`${long}${i}`, 'x'), `<${long}${i}>`);
  assert.equal(quote(long, 'x'), `<${long}>`);
});
