/**
 * Subject alternative names: classifying host strings the way cfssl does (IP, then email, then URI,
 * else DNS), but strictly: entries are trimmed, and malformed IPs or hostnames are errors rather than
 * SANs that clients later reject.
 */
import { fail } from '../errors.js';
import { formatIpv6, parseIpv6 } from './ipv6.js';
import { boundedMemo } from './memo.js';
import { controlCharacterIn, MAX_TEXT } from './text.js';

export interface SubjectAltNames {
  dns: string[];
  ips: string[];
  emails: string[];
  uris: string[];
}

export const emptySans = (): SubjectAltNames => ({ dns: [], ips: [], emails: [], uris: [] });

const isLetterDigitHyphen = (c: number): boolean =>
  (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x2d;

/**
 * RFC 1123 hostname, optionally with a leading `*.` wildcard label. No trailing dot: RFC 5280 forbids
 * it in a dNSName, and Go (etcd) treats such a SAN as matching nothing. Labels are 1-63 letters, digits
 * and hyphens, not starting or ending with a hyphen; one pass over the characters instead of a split
 * and a regex per label (~0.10 µs against ~0.35 µs for `localhost`).
 */
export function isDnsName(s: string): boolean {
  if (s.length === 0 || s.length > 253) return false;
  let start = s.startsWith('*.') ? 2 : 0;
  for (let i = start; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 0x2e; // the end closes the last label like a dot
    if (c !== 0x2e) {
      if (!isLetterDigitHyphen(c)) return false;
      continue;
    }
    const length = i - start;
    if (length < 1 || length > 63 || s.charCodeAt(start) === 0x2d || s.charCodeAt(i - 1) === 0x2d) return false;
    start = i + 1;
  }
  return true;
}

const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/**
 * 4, 6 or 0, as node:net's isIP answers, without loading node:net: that module alone adds ~20 ms to
 * the CLI's start-up (measured with hyperfine), a third of gencert's budget. IPv6 is parsed as the
 * WHATWG URL parser does (./ipv6.ts); zone indexes (`fe80::1%eth0`) count as IPv6 so callers can
 * reject them by name. test/unit/pki-ip.test.ts checks it against node:net.
 */
export function ipVersion(s: string): 0 | 4 | 6 {
  if (IPV4.test(s)) return 4;
  if (!s.includes(':')) return 0;
  const zone = s.indexOf('%');
  const address = zone < 0 ? s : s.slice(0, zone);
  if (zone >= 0 && !/^[^\s%/\\\[\]]+$/.test(s.slice(zone + 1))) return 0;
  if (!/^[0-9A-Fa-f:.]+$/.test(address)) return 0;
  return parseIpv6(address) ? 6 : 0;
}

/**
 * Why an address cannot be a member's or a certificate's own address, or undefined when it can:
 * the unspecified address (0.0.0.0, ::) means "every interface", and broadcast and multicast
 * addresses belong to no single host. `ip` is canonical text (as classify and normalizeIp make it).
 */
export function ipAddressProblem(ip: string): string | undefined {
  const version = ipVersion(ip);
  if (version === 0) return 'is not a valid IP address';
  if (version === 4) {
    if (ip === '0.0.0.0') return 'is the unspecified address (every interface), not the address of a host';
    if (ip === '255.255.255.255') return 'is the broadcast address, not the address of a host';
    const first = Number(ip.split('.')[0]);
    if (first >= 224 && first <= 239) return 'is a multicast address (224.0.0.0/4), not the address of a host';
    return undefined;
  }
  const pieces = parseIpv6(ip.includes('%') ? ip.slice(0, ip.indexOf('%')) : ip);
  if (!pieces) return 'is not a valid IP address';
  if (pieces.every((p) => p === 0)) return 'is the unspecified address (every interface), not the address of a host';
  if (((pieces[0] as number) & 0xff00) === 0xff00) return 'is a multicast address (ff00::/8), not the address of a host';
  return undefined;
}

const ASCII = /^[\x21-\x7e]+$/;
const looksLikeIPv4 = (s: string): boolean => /^[0-9.]+$/.test(s) && s.includes('.');
const looksLikeIPv6 = (s: string): boolean => s.includes(':') && /^[0-9A-Fa-f:.%]+$/.test(s);

export type SanKind = 'ip' | 'email' | 'uri' | 'dns';

/** Classify one already-trimmed, non-empty host string; throws BAD_HOSTNAME naming `where`. */
export function classifyHost(host: string, where: string): SanKind {
  return classify(host, where).kind;
}

// gen checks the same few hosts (localhost, 127.0.0.1, ::1, each member's name and IP) for every certificate:
// ~30-40 ms of a 100-member gen before this memo. Only hosts that passed are kept (a bad one throws, naming
// `where`, every time), and the memo is bounded.
const classified = boundedMemo<{ kind: SanKind; value: string }>(10_000);

/** A host's kind, and its SAN value: IPs normalised (from the one parse that validated them). */
function classify(host: string, where: string): { kind: SanKind; value: string } {
  return classified(host, () => classifyOnce(host, where));
}

function classifyOnce(host: string, where: string): { kind: SanKind; value: string } {
  if (host.length > MAX_TEXT) throw fail('TOO_LONG', `${where}: an entry is ${host.length} characters long; no SAN is longer than ${MAX_TEXT}`);
  const control = controlCharacterIn(host);
  if (control) throw fail('CONTROL_CHARACTER', `${where}: "${host}" contains a control character (${control})`);
  // Without ':' or '@', and with a character other than a digit or a dot, a host can only be a DNS
  // name (every other kind needs one of those): the IP, email and URI tests below all fail for it.
  let other = false;
  for (let i = 0; i < host.length; i++) {
    const c = host.charCodeAt(i);
    if (c === 0x3a || c === 0x40) {
      other = false;
      break;
    }
    if (!other && c !== 0x2e && !(c >= 0x30 && c <= 0x39)) other = true;
  }
  if (other) {
    if (!isDnsName(host)) throw fail('BAD_HOSTNAME', `${where}: "${host}" is not a valid DNS name, IP address, email or URI`);
    return { kind: 'dns', value: host };
  }
  const version = ipVersion(host);
  if (version !== 0) {
    if (host.includes('%'))
      throw fail('BAD_HOSTNAME', `${where}: "${host}" is not a valid IP address (a zone index cannot be in a certificate)`);
    // ipVersion has checked that the IPv6 text parses.
    const value = version === 4 ? host : formatIpv6(parseIpv6(host) as number[]);
    const problem = ipAddressProblem(value);
    if (problem) throw fail('BAD_HOSTNAME', `${where}: "${host}" ${problem}`);
    return { kind: 'ip', value };
  }
  if (looksLikeIPv4(host) || looksLikeIPv6(host))
    throw fail('BAD_HOSTNAME', `${where}: "${host}" is not a valid IP address`);
  // Emails and URIs are IA5String in a SAN, so ASCII only (non-ASCII would be silently mangled).
  if (/^[^@\s]+@[^@\s]+$/.test(host)) {
    if (!isDnsName(host.split('@')[1] as string) || !ASCII.test(host))
      throw fail('BAD_HOSTNAME', `${where}: "${host}" is not a valid email address`);
    return { kind: 'email', value: host };
  }
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\/\S+$/.test(host)) {
    try {
      new URL(host);
      if (ASCII.test(host)) return { kind: 'uri', value: host };
    } catch {
      // reported below
    }
    throw fail('BAD_HOSTNAME', `${where}: "${host}" is not a valid URI`);
  }
  if (!isDnsName(host)) throw fail('BAD_HOSTNAME', `${where}: "${host}" is not a valid DNS name, IP address, email or URI`);
  return { kind: 'dns', value: host };
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
  // Duplicates are found by scanning the lists built so far: a certificate has a handful of names, and
  // a Set with a `kind:value` key made and hashed per host cost ~1.0 µs for five, the scans ~0.2 µs.
  const dnsKeys: string[] = [];
  for (let i = 0; i < hosts.length; i++) {
    const host = (hosts[i] as string).trim();
    if (host === '') {
      if (emptyPolicy === 'error') throw fail('BAD_HOSTNAME', `${where}: entry ${i + 1} is empty`);
      warn(`${where}: entry ${i + 1} is empty; left out (an empty SAN is invalid under RFC 5280)`);
      continue;
    }
    const { kind, value } = classify(host, where);
    if (kind === 'dns') {
      // Only DNS names compare case-insensitively; URI paths and email local parts do not.
      const key = value.toLowerCase();
      if (dnsKeys.includes(key)) continue;
      dnsKeys.push(key);
      sans.dns.push(value);
      continue;
    }
    const list = kind === 'ip' ? sans.ips : kind === 'email' ? sans.emails : sans.uris;
    if (!list.includes(value)) list.push(value);
  }
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
  const pieces = parseIpv6(ip) ?? parseIpv6(normalizeIp(ip));
  if (!pieces) throw new TypeError(`ipBytes: "${ip}" is not an IP address`);
  const out = Buffer.alloc(16);
  pieces.forEach((piece, i) => out.writeUInt16BE(piece, 2 * i));
  return out;
}

/** Canonical text for an IP (IPv6 compressed, lower case, RFC 5952) so duplicates and comparisons work. */
export function normalizeIp(ip: string): string {
  if (ipVersion(ip) === 4) return ip;
  const pieces = parseIpv6(ip);
  // What the parser refuses goes to URL, as before, which throws for it (or strips what it tolerates).
  return pieces ? formatIpv6(pieces) : new URL(`http://[${ip}]/`).hostname.slice(1, -1);
}

/** Text form of IP SAN bytes. */
export function formatIpBytes(b: Uint8Array): string {
  if (b.length === 4) return [...b].join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((b[i] as number) << 8) | (b[i + 1] as number)).toString(16));
  return normalizeIp(groups.join(':'));
}
