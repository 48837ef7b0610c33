/**
 * Subject alternative names: classifying host strings the way cfssl does (IP, then email, then URI,
 * else DNS), but strictly: entries are trimmed, and malformed IPs or hostnames are errors rather than
 * SANs that clients later reject.
 */
import { fail } from '../errors.js';

export interface SubjectAltNames {
  dns: string[];
  ips: string[];
  emails: string[];
  uris: string[];
}

export const emptySans = (): SubjectAltNames => ({ dns: [], ips: [], emails: [], uris: [] });

const LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;

/**
 * RFC 1123 hostname, optionally with a leading `*.` wildcard label. No trailing dot: RFC 5280 forbids
 * it in a dNSName, and Go (etcd) treats such a SAN as matching nothing.
 */
export function isDnsName(s: string): boolean {
  if (s.length === 0 || s.length > 253) return false;
  const labels = (s.startsWith('*.') ? s.slice(2) : s).split('.');
  return labels.every((l) => LABEL.test(l));
}

const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/**
 * 4, 6 or 0, as node:net's isIP answers, without loading node:net: that module alone adds ~20 ms to
 * the CLI's start-up (measured with hyperfine), a third of gencert's budget. IPv6 is left to the
 * WHATWG URL parser; zone indexes (`fe80::1%eth0`) count as IPv6 so callers can reject them by name.
 * test/unit/pki-ip.test.ts checks it against node:net.
 */
export function ipVersion(s: string): 0 | 4 | 6 {
  if (IPV4.test(s)) return 4;
  if (!s.includes(':')) return 0;
  const zone = s.indexOf('%');
  const address = zone < 0 ? s : s.slice(0, zone);
  if (zone >= 0 && !/^[^\s%/\\\[\]]+$/.test(s.slice(zone + 1))) return 0;
  if (!/^[0-9A-Fa-f:.]+$/.test(address)) return 0;
  try {
    new URL(`http://[${address}]/`);
    return 6;
  } catch {
    return 0;
  }
}

const ASCII = /^[\x21-\x7e]+$/;
const looksLikeIPv4 = (s: string): boolean => /^[0-9.]+$/.test(s) && s.includes('.');
const looksLikeIPv6 = (s: string): boolean => s.includes(':') && /^[0-9A-Fa-f:.%]+$/.test(s);

export type SanKind = 'ip' | 'email' | 'uri' | 'dns';

/** Classify one already-trimmed, non-empty host string; throws BAD_HOSTNAME naming `where`. */
export function classifyHost(host: string, where: string): SanKind {
  if (ipVersion(host) !== 0) {
    if (!host.includes('%')) return 'ip';
    throw fail('BAD_HOSTNAME', `${where}: "${host}" is not a valid IP address (a zone index cannot be in a certificate)`);
  }
  if (looksLikeIPv4(host) || looksLikeIPv6(host))
    throw fail('BAD_HOSTNAME', `${where}: "${host}" is not a valid IP address`);
  // Emails and URIs are IA5String in a SAN, so ASCII only (non-ASCII would be silently mangled).
  if (/^[^@\s]+@[^@\s]+$/.test(host)) {
    if (!isDnsName(host.split('@')[1] as string) || !ASCII.test(host))
      throw fail('BAD_HOSTNAME', `${where}: "${host}" is not a valid email address`);
    return 'email';
  }
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\/\S+$/.test(host)) {
    try {
      new URL(host);
      if (ASCII.test(host)) return 'uri';
    } catch {
      // reported below
    }
    throw fail('BAD_HOSTNAME', `${where}: "${host}" is not a valid URI`);
  }
  if (!isDnsName(host)) throw fail('BAD_HOSTNAME', `${where}: "${host}" is not a valid DNS name, IP address, email or URI`);
  return 'dns';
}

/**
 * Turn host strings into SANs. `emptyPolicy` says what an empty entry means: for a `-hostname` flag it
 * is a typo (`a,,b`) and an error; in a JSON `hosts` list it is dropped with a warning, because cfssl
 * would have written an empty dNSName, which RFC 5280 forbids.
 */
export function parseHosts(
  hosts: readonly string[],
  where: string,
  emptyPolicy: 'error' | 'warn',
  warn: (message: string) => void = () => {},
): SubjectAltNames {
  const sans = emptySans();
  const seen = new Set<string>();
  hosts.forEach((raw, i) => {
    const host = raw.trim();
    if (host === '') {
      if (emptyPolicy === 'error') throw fail('BAD_HOSTNAME', `${where}: entry ${i + 1} is empty`);
      warn(`${where}: entry ${i + 1} is empty; left out (an empty SAN is invalid under RFC 5280)`);
      return;
    }
    const kind = classifyHost(host, where);
    const value = kind === 'ip' ? normalizeIp(host) : host;
    // Only DNS names compare case-insensitively; URI paths and email local parts do not.
    const key = `${kind}:${kind === 'dns' ? value.toLowerCase() : value}`;
    if (seen.has(key)) return;
    seen.add(key);
    ({ ip: sans.ips, email: sans.emails, uri: sans.uris, dns: sans.dns })[kind].push(value);
  });
  return sans;
}

// Looked up before ipVersion, whose regex (and URL parse for IPv6) cost ~1 µs per IP per certificate.
const ipCache = new Map<string, Buffer>();

/** The 4 or 16 network-order bytes of an IP address. */
export function ipBytes(ip: string): Buffer {
  const cached = ipCache.get(ip);
  if (cached) return cached;
  const bytes = ipVersion(ip) === 4 ? Buffer.from(ip.split('.').map(Number)) : ipv6Bytes(ip);
  if (ipCache.size < 1024) ipCache.set(ip, bytes);
  return bytes;
}

function ipv6Bytes(ip: string): Buffer {
  // WHATWG URL parsing canonicalises IPv6 (embedded IPv4 becomes two hex groups), leaving only `::` to expand.
  const canonical = new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  const [head = '', tail] = canonical.split('::');
  const groups = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const h = groups(head);
  const t = tail === undefined ? [] : groups(tail);
  const all = tail === undefined ? h : [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  return Buffer.from(all.flatMap((g) => [g >> 8, g & 0xff]));
}

/** Canonical text for an IP (IPv6 compressed, lower case, RFC 5952) so duplicates and comparisons work. */
export function normalizeIp(ip: string): string {
  return ipVersion(ip) === 4 ? ip : new URL(`http://[${ip}]/`).hostname.slice(1, -1);
}

/** Text form of IP SAN bytes. */
export function formatIpBytes(b: Uint8Array): string {
  if (b.length === 4) return [...b].join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((b[i] as number) << 8) | (b[i + 1] as number)).toString(16));
  return normalizeIp(groups.join(':'));
}
