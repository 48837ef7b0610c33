// The hand-written host classifiers in src/pki/san.ts (a character scan for DNS names, a shortcut for
// hosts that can only be DNS names, lists instead of sets for duplicates) against the regex definitions
// they replaced, kept here verbatim as the reference: same answers, same errors, on hand-picked and
// generated hosts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isEtcdTlsError } from '../../src/errors.js';
import { classifyHost, ipAddressProblem, isDnsName, ipVersion, normalizeIp, parseHosts, type SanKind, type SubjectAltNames } from '../../src/pki/san.js';

// ---- the reference: src/pki/san.ts as it was before the fast paths (ipVersion and normalizeIp are
// checked against node:net and URL in pki-ip.test.ts and pki-ipv6.test.ts).
const LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;
function refIsDnsName(s: string): boolean {
  if (s.length === 0 || s.length > 253) return false;
  const labels = (s.startsWith('*.') ? s.slice(2) : s).split('.');
  return labels.every((l) => LABEL.test(l));
}
const ASCII = /^[\x21-\x7e]+$/;
const looksLikeIPv4 = (s: string): boolean => /^[0-9.]+$/.test(s) && s.includes('.');
const looksLikeIPv6 = (s: string): boolean => s.includes(':') && /^[0-9A-Fa-f:.%]+$/.test(s);
/** The kind, or the error message (without `where`). */
function refClassify(host: string): SanKind | string {
  const control = /[\x00-\x1f\x7f-\x9f]/.exec(host);
  if (control) return `"${host}" contains a control character (U+${control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')} at character ${control.index + 1})`;
  if (ipVersion(host) !== 0) {
    if (host.includes('%')) return `"${host}" is not a valid IP address (a zone index cannot be in a certificate)`;
    // Since the hostile-input hardening: no unspecified, broadcast or multicast address is a SAN.
    const problem = ipAddressProblem(normalizeIp(host));
    return problem ? `"${host}" ${problem}` : 'ip';
  }
  if (looksLikeIPv4(host) || looksLikeIPv6(host)) return `"${host}" is not a valid IP address`;
  if (/^[^@\s]+@[^@\s]+$/.test(host)) {
    if (!refIsDnsName(host.split('@')[1] as string) || !ASCII.test(host)) return `"${host}" is not a valid email address`;
    return 'email';
  }
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\/\S+$/.test(host)) {
    try {
      new URL(host);
      if (ASCII.test(host)) return 'uri';
    } catch {
      // reported below
    }
    return `"${host}" is not a valid URI`;
  }
  if (!refIsDnsName(host)) return `"${host}" is not a valid DNS name, IP address, email or URI`;
  return 'dns';
}
function refParseHosts(hosts: readonly string[]): SubjectAltNames | string {
  const sans: SubjectAltNames = { dns: [], ips: [], emails: [], uris: [] };
  const seen = new Set<string>();
  for (const raw of hosts) {
    const host = raw.trim();
    if (host === '') continue;
    const kind = refClassify(host);
    if (kind !== 'ip' && kind !== 'dns' && kind !== 'email' && kind !== 'uri') return kind;
    const value = kind === 'ip' ? normalizeIp(host) : host;
    const key = `${kind}:${kind === 'dns' ? value.toLowerCase() : value}`;
    if (seen.has(key)) continue;
    seen.add(key);
    ({ ip: sans.ips, email: sans.emails, uri: sans.uris, dns: sans.dns })[kind].push(value);
  }
  return sans;
}
// ---- end of the reference

function classified(host: string): SanKind | string {
  try {
    return classifyHost(host, 'w');
  } catch (e) {
    assert.ok(isEtcdTlsError(e) && (e.code === 'BAD_HOSTNAME' || e.code === 'CONTROL_CHARACTER'), `${JSON.stringify(host)}: ${String(e)}`);
    return e.message.replace(/^w: /, '');
  }
}
function parsed(hosts: readonly string[]): SubjectAltNames | string {
  try {
    return parseHosts(hosts, 'w', 'warn');
  } catch (e) {
    assert.ok(isEtcdTlsError(e) && (e.code === 'BAD_HOSTNAME' || e.code === 'CONTROL_CHARACTER'));
    return e.message.replace(/^w: /, '');
  }
}

const HOSTS = [
  'localhost', 'member1', 'etcd-1.example.com', '*.etcd.example.com', '*.', '*', '*.*.a', 'a.*.b', '-a', 'a-', 'a--b', 'xn--bcher-kva.example',
  'a..b', '.a', 'a.', 'example.com.', '123', '1.2.3', '1.2.3.4', '10.0.0.300', '1.2.3.4.5', '01.2.3.4', '1a.2.3.4', '1.2.3.4a', 'under_score',
  'a b', 'a\tb', 'bücher.example', 'ops@example.com', 'a@b@c', 'ops@exa_mple.com', 'jürgen@example.com', '@example.com', 'ops@', 'a@1.2.3.4',
  'http://a@b.c', 'spiffe://cluster.local/ns/etcd/sa/etcd', 'spiffe://x/ü', 'http://[::1', 'etcd:2379', '::1', '::', 'fe80::1%eth0', 'fe80::1%',
  '2001:DB8::1', '1:2:3:4:5:6:7:8:9', 'g::1', ':::', 'a'.repeat(63), 'a'.repeat(64), `${'a'.repeat(63)}.b`, `${'a.'.repeat(126)}b`,
  `${'a.'.repeat(126)}bc`, 'A-1.B-2', '0', '0.0', 'a%b', 'x/y', 'mailto:a@b.c', 'urn:isbn:123',
];

describe('san: the fast classifiers agree with the regex reference', () => {
  test('isDnsName on hand-picked names', () => {
    for (const h of HOSTS) assert.equal(isDnsName(h), refIsDnsName(h), JSON.stringify(h));
  });

  test('classifyHost on hand-picked hosts: the same kind or the same error', () => {
    for (const h of HOSTS) assert.equal(classified(h), refClassify(h), JSON.stringify(h));
  });

  test('20,000 generated hosts: isDnsName and classifyHost agree', () => {
    let seed = 11; // xorshift32
    const rand = (n: number): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const alphabet = 'aZ09-.*@:/_%ü ';
    let dns = 0;
    for (let i = 0; i < 20_000; i++) {
      const length = i % 2 ? 1 + rand(12) : 1 + rand(80);
      // Mostly letters, digits, dots and hyphens, so that valid names are common.
      const h = Array.from({ length }, () => (rand(8) ? 'abcxyz019.-'[rand(11)] : alphabet[rand(alphabet.length)])).join('');
      assert.equal(isDnsName(h), refIsDnsName(h), JSON.stringify(h));
      if (h.trim() !== h || h === '') continue;
      const want = refClassify(h);
      assert.equal(classified(h), want, JSON.stringify(h));
      if (want === 'dns') dns++;
    }
    assert.ok(dns > 2_000 && dns < 18_000, `${dns} of the generated hosts were DNS names`);
  });

  test('parseHosts: the same SANs, duplicates dropped alike (DNS case-insensitively, IPs after normalisation)', () => {
    const lists = [
      ['etcd', 'ETCD', 'Etcd', '2001:db8::1', '2001:DB8:0:0:0:0:0:1', '10.0.0.1', '10.0.0.1', '::ffff:1.2.3.4', '::ffff:102:304'],
      ['spiffe://td/ns/A', 'spiffe://td/ns/a', 'Ops@example.com', 'ops@example.com', 'ops@example.com', 'spiffe://td/ns/A'],
      ['member1', 'localhost', '10.0.0.1', '127.0.0.1', '::1', 'member1', '::0:1', 'LOCALHOST'],
      ['a', 'b', 'a..b'],
      HOSTS.filter((h) => refClassify(h).length < 6),
    ];
    for (const l of lists) assert.deepEqual(parsed(l), refParseHosts(l), JSON.stringify(l));
  });
});
