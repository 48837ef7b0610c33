// SAN classification (IP, email, URI, DNS), strictness about malformed entries, the empty-entry
// policies, de-duplication, and IP byte conversions; plus Go-style durations.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, parseDuration } from '../../src/pki/duration.js';
import { classifyHost, formatIpBytes, ipBytes, isDnsName, normalizeIp, parseHosts, type SanKind } from '../../src/pki/san.js';
import { rejects } from '../helpers/assertions.js';


describe('san: classifyHost', () => {
  const table: [string, SanKind][] = [
    ['10.0.0.1', 'ip'],
    ['127.0.0.1', 'ip'],
    ['::1', 'ip'],
    ['2001:db8::10', 'ip'],
    ['::ffff:1.2.3.4', 'ip'],
    ['fe80::1', 'ip'],
    ['admin@example.com', 'email'],
    ['spiffe://cluster.local/ns/etcd/sa/etcd', 'uri'],
    ['https://etcd.example.com:2379/health', 'uri'],
    ['spiffe://x/y', 'uri'],
    ['localhost', 'dns'],
    ['etcd-1.example.com', 'dns'],
    ['*.etcd.example.com', 'dns'],
    ['xn--bcher-kva.example', 'dns'],
    ['1etcd.example', 'dns'],
    ['dead.beef', 'dns'],
    ['a'.repeat(63) + '.example', 'dns'],
  ];
  for (const [host, kind] of table) test(`${host} is ${kind}`, () => assert.equal(classifyHost(host, 'hosts'), kind));

  const bad: [string, RegExp][] = [
    ['10.0.0.300', /"10\.0\.0\.300" is not a valid IP address/],
    ['1.2.3', /"1\.2\.3" is not a valid IP address/],
    ['1.2.3.4.5', /not a valid IP address/],
    ['2001:db8:::1', /not a valid IP address/],
    ['fe80::1%eth0', /not a valid IP address/],
    ['-a', /"-a" is not a valid DNS name/],
    ['a-.example', /not a valid DNS name/],
    ['a..b', /"a\.\.b" is not a valid DNS name/],
    ['under_score', /"under_score" is not a valid DNS name/],
    ['example.com.', /not a valid DNS name/],
    ['*', /not a valid DNS name/],
    ['a.*.example', /not a valid DNS name/],
    ['*.', /not a valid DNS name/],
    ['etcd:2379', /not a valid DNS name/],
    ['a'.repeat(64) + '.example', /not a valid DNS name/],
    ['bücher.example', /not a valid DNS name/],
    ['a@b@c', /not a valid DNS name/],
    ['admin@exa_mple.com', /not a valid email address/],
    ['jürgen@example.com', /not a valid email address/],
    ['spiffe://x/ü', /not a valid URI/],
    ['http://[::1', /not a valid URI/],
  ];
  for (const [host, message] of bad)
    test(`${JSON.stringify(host)} is BAD_HOSTNAME`, () => rejects(() => classifyHost(host, 'csr.json: hosts'), 'BAD_HOSTNAME', message));

  test('the error names where the entry came from', () =>
    rejects(() => classifyHost('a..b', 'server-csr.json: hosts'), 'BAD_HOSTNAME', /^server-csr\.json: hosts: "a\.\.b"/));

  test('isDnsName: 253 characters at most', () => {
    const label = 'a'.repeat(62);
    const name = [label, label, label, label].join('.');
    assert.equal(name.length, 251);
    assert.equal(isDnsName(`${name}.b`), true);
    assert.equal(isDnsName(`${name}.bcd`), false);
  });
});

describe('san: parseHosts', () => {
  test('entries are trimmed and sorted into their kinds, in input order', () => {
    const sans = parseHosts(
      [' etcd-1 ', '10.0.0.1', 'spiffe://x/y', '::1', 'a@example.com', '*.example.com', '2001:DB8::1'],
      'hosts',
      'error',
    );
    assert.deepEqual(sans, {
      dns: ['etcd-1', '*.example.com'],
      ips: ['10.0.0.1', '::1', '2001:db8::1'],
      emails: ['a@example.com'],
      uris: ['spiffe://x/y'],
    });
  });

  test('duplicates are dropped: DNS names case-insensitively, IPv6 after normalisation', () => {
    const sans = parseHosts(['etcd', 'ETCD', 'etcd ', '2001:db8::1', '2001:DB8:0:0:0:0:0:1', '10.0.0.1', '10.0.0.1'], 'hosts', 'error');
    assert.deepEqual(sans.dns, ['etcd']);
    assert.deepEqual(sans.ips, ['2001:db8::1', '10.0.0.1']);
  });

  test('URIs and emails differing only in case are different names and both kept', () => {
    const sans = parseHosts(['spiffe://td/ns/A', 'spiffe://td/ns/a', 'Ops@example.com', 'ops@example.com'], 'hosts', 'error');
    assert.deepEqual(sans.uris, ['spiffe://td/ns/A', 'spiffe://td/ns/a']);
    assert.deepEqual(sans.emails, ['Ops@example.com', 'ops@example.com']);
  });

  test("empty entries: an error under 'error' (a -hostname typo), numbered from 1", () => {
    rejects(() => parseHosts(['a', ' ', 'b'], '-hostname', 'error'), 'BAD_HOSTNAME', /^-hostname: entry 2 is empty$/);
  });

  test("empty entries: dropped with one warning each under 'warn'", () => {
    const warnings: string[] = [];
    const sans = parseHosts(['', 'a', '  '], 'csr.json: hosts', 'warn', (m) => warnings.push(m));
    assert.deepEqual(sans.dns, ['a']);
    assert.equal(warnings.length, 2);
    assert.match(warnings[0] as string, /^csr\.json: hosts: entry 1 is empty; left out/);
    assert.match(warnings[1] as string, /entry 3 is empty/);
  });

  test('the first bad entry stops parsing', () => {
    rejects(() => parseHosts(['ok', '10.0.0.300', 'a..b'], 'hosts', 'warn'), 'BAD_HOSTNAME', /10\.0\.0\.300/);
  });
});

describe('san: the memo of checked hosts (gen checks the same hosts for every certificate)', () => {
  test('a host seen before gives the same kind and value; a bad one is refused every time, naming each caller', () => {
    const hosts = ['member1', '10.0.0.1', '2001:DB8::1', 'a@example.com', 'spiffe://x/y'];
    const first = parseHosts(hosts, 'spec: member1 server', 'error');
    for (let i = 0; i < 3; i++) assert.deepEqual(parseHosts(hosts, 'spec: member2 server', 'error'), first);
    assert.deepEqual(first.ips, ['10.0.0.1', '2001:db8::1']);
    for (const where of ['spec: member1 peer', 'spec: member2 peer'])
      rejects(() => parseHosts(['member1', 'bad..name'], where, 'error'), 'BAD_HOSTNAME', new RegExp(`^${where}: "bad\\.\\.name"`));
  });

  test('past its bound the memo starts again and answers stay the same', () => {
    for (let i = 0; i < 10_050; i++) assert.equal(classifyHost(`h${i}.example.com`, 'hosts'), 'dns');
    assert.equal(classifyHost('h5.example.com', 'hosts'), 'dns');
    assert.equal(classifyHost('10.0.0.7', 'hosts'), 'ip');
    rejects(() => classifyHost('h..example.com', 'hosts'), 'BAD_HOSTNAME', /^hosts: "h\.\.example\.com"/);
  });
});

describe('san: IP bytes', () => {
  const table: [string, string, string][] = [
    ['10.0.0.1', '0a000001', '10.0.0.1'],
    ['0.0.0.0', '00000000', '0.0.0.0'],
    ['255.255.255.255', 'ffffffff', '255.255.255.255'],
    ['::1', '00000000000000000000000000000001', '::1'],
    ['::', '00000000000000000000000000000000', '::'],
    ['1::', '00010000000000000000000000000000', '1::'],
    ['2001:DB8::8:800:200C:417A', '20010db80000000000080800200c417a', '2001:db8::8:800:200c:417a'],
    ['2001:db8:0:0:1:0:0:1', '20010db8000000000001000000000001', '2001:db8::1:0:0:1'],
    ['::ffff:1.2.3.4', '00000000000000000000ffff01020304', '::ffff:102:304'],
    ['fe80::1:2:3:4:5:6', 'fe800000000100020003000400050006', 'fe80:0:1:2:3:4:5:6'],
  ];
  for (const [ip, bytes, text] of table) {
    test(`${ip} ↔ ${bytes}`, () => {
      assert.equal(ipBytes(ip).toString('hex'), bytes);
      assert.equal(formatIpBytes(Buffer.from(bytes, 'hex')), text);
      assert.equal(normalizeIp(ip), text);
      assert.equal(ipBytes(formatIpBytes(ipBytes(ip))).toString('hex'), bytes);
    });
  }
});

describe('duration: parseDuration', () => {
  const H = 3_600_000;
  const ok: [string, number][] = [
    ['43800h', 43800 * H],
    ['8760h', 8760 * H],
    ['90m', 90 * 60_000],
    ['1h30m', 90 * 60_000],
    ['1.5h', 90 * 60_000],
    ['.5h', 30 * 60_000],
    ['30d', 30 * 24 * H],
    ['1y', 365 * 24 * H],
    ['500ms', 500],
    ['1m30s', 90_000],
    ['1500us', 2],
    [' 8760h ', 8760 * H],
  ];
  for (const [text, ms] of ok) test(`${JSON.stringify(text)} = ${ms} ms`, () => assert.equal(parseDuration(text, 'config.json: expiry'), ms));

  const bad: [string, RegExp][] = [
    ['', /^config\.json: expiry: "" is not a duration \(use e\.g\. 8760h, 90m, 30d or 1y\)$/],
    ['1x', /"1x" is not a duration/],
    ['h', /"h" is not a duration/],
    ['-1h', /"-1h" is not a duration/],
    ['1', /"1" is not a duration/],
    ['1h 30m', /is not a duration/],
    ['8760H', /is not a duration/],
    ['0h', /^config\.json: expiry: "0h" must be longer than zero$/],
    ['0s0m', /must be longer than zero/],
    ['1ns', /"1ns"/],
    ['400us', /"400us"/],
  ];
  for (const [text, message] of bad)
    test(`${JSON.stringify(text)} is BAD_DURATION`, () => rejects(() => parseDuration(text, 'config.json: expiry'), 'BAD_DURATION', message));

  test('formatDuration prints whole hours, then minutes, then seconds', () => {
    assert.equal(formatDuration(8760 * H), '8760h');
    assert.equal(formatDuration(90 * 60_000), '90m');
    assert.equal(formatDuration(1500), '1.5s');
  });
});
