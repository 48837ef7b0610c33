/**
 * etcd configuration checks: what etcd 3.4.23 refuses at start, silently ignores, or runs insecurely.
 * Pure: an `EtcdConfig` (and, for the cross checks, parsed certificates and CRL bytes) in, findings out.
 */
import { isIP } from 'node:net';
import { verify } from 'node:crypto';
import { parsePemBlocks } from '../../pki/pem.js';
import { signatureAlgorithmName } from '../../pki/certificate.js';
import { parseCrl, type CrlView } from '../../pki/crl.js';
import type { KeyAlgorithm } from '../../pki/keys.js';
import { finding } from './codes.js';
import { isLoopbackHost, type LoadedCert } from './certs.js';
import { describeOrigin, envName, parseGoBool, REMOVED_FLAGS, type EtcdConfig, type EtcdSetting } from '../../etcd/config.js';
import type { Finding } from '../findings.js';

export interface EtcdUrl {
  raw: string;
  scheme: string;
  /** Without IPv6 brackets. */
  host: string;
  port: string;
}

/** etcd's types.NewURLs rules: http/https/unix/unixs, host:port, no path. Returns an error text or the URL. */
export function parseEtcdUrl(raw: string): EtcdUrl | string {
  const text = raw.trim();
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)/.exec(text);
  if (!m) return `"${text}" is not a URL (expected scheme://host:port)`;
  const scheme = (m[1] as string).toLowerCase();
  if (!['http', 'https', 'unix', 'unixs'].includes(scheme)) return `URL scheme must be http, https, unix, or unixs: ${text}`;
  const hp = /^(?:\[([^\]]*)\]|([^:]*)):(\d*)$/.exec(m[2] as string);
  if (!hp) return `URL address does not have the form "host:port": ${text}`;
  if (m[3]) return `URL must not contain a path: ${text}`;
  return { raw: text, scheme, host: (hp[1] ?? hp[2] ?? '').toLowerCase(), port: hp[3] as string };
}

export const settingSubject = (s: EtcdSetting): string => describeOrigin(s.origin);

export function configBool(config: EtcdConfig, flag: string): boolean {
  const s = config.settings.get(flag);
  return s !== undefined && parseGoBool(s.value) === true;
}

export const configList = (config: EtcdConfig, flag: string): string[] =>
  (config.settings.get(flag)?.value ?? '').split(',').map((x) => x.trim()).filter(Boolean);

type ConfigUrls = { setting?: EtcdSetting; urls: readonly EtcdUrl[]; findings: readonly Finding[] };
// The checks and check.ts ask for the same URL settings of a config several times: parse each once.
const urlsByConfig = new WeakMap<EtcdConfig, Map<string, ConfigUrls>>();

/** The URLs of a list setting, with a finding for each one etcd would refuse. */
export function configUrls(config: EtcdConfig, flag: string): ConfigUrls {
  let known = urlsByConfig.get(config);
  if (!known) urlsByConfig.set(config, (known = new Map()));
  let result = known.get(flag);
  if (result) return result;
  const setting = config.settings.get(flag);
  if (!setting) result = { urls: [], findings: [] };
  else {
    const urls: EtcdUrl[] = [];
    const findings: Finding[] = [];
    for (const raw of configList(config, flag)) {
      const u = parseEtcdUrl(raw);
      if (typeof u === 'string') findings.push(finding('setting-invalid', 'error', settingSubject(setting), `${u}; etcd refuses to start`, 'write every URL as scheme://host:port, e.g. https://10.0.0.1:2379'));
      else urls.push(u);
    }
    result = { setting, urls, findings };
  }
  known.set(flag, result);
  return result;
}

/** One `name=url` of --initial-cluster, with its URL parsed. */
export interface InitialClusterEntry {
  name: string;
  url: string;
  parsed: EtcdUrl | string;
}

export interface InitialCluster {
  /** Entries without name=URL. */
  bad: string[];
  entries: readonly InitialClusterEntry[];
  /** Entries whose URL etcd refuses (parsed is the reason), and entries with http:// URLs. */
  invalid: readonly InitialClusterEntry[];
  plain: readonly InitialClusterEntry[];
  /** Whether some member's peer URL host is a loopback address. */
  loopbackPeer: boolean;
}

// Every member of a generated directory carries the same initial-cluster in two configs: parse each
// distinct value once (a 300-member check parsed 300 entries × 600 configs). Members added to a
// cluster later list the members before them, so a 2,000-member directory holds ~1,900 distinct
// values of up to 2,000 entries: each entry text is parsed once too, and a value's result holds the
// shared entries. Both caches are bounded for library use.
const initialClusterCache = new Map<string, InitialCluster>();
const entryCache = new Map<string, InitialClusterEntry | null>();
let initialClusterParses = 0;

/** How many initial-cluster values have been parsed (not served from the cache): the scale test's probe. */
export const initialClusterParseCount = (): number => initialClusterParses;

/** `name=url,name=url` as etcd parses --initial-cluster, every URL parsed; cached by the setting's text. */
export function initialClusterOf(value: string): InitialCluster {
  const cached = initialClusterCache.get(value);
  if (cached) return cached;
  initialClusterParses++;
  const bad: string[] = [];
  const entries: InitialClusterEntry[] = [];
  const invalid: InitialClusterEntry[] = [];
  const plain: InitialClusterEntry[] = [];
  let loopbackPeer = false;
  if (entryCache.size >= 100_000) entryCache.clear();
  for (const raw of value.split(',')) {
    const part = raw.trim();
    if (!part) continue;
    let entry = entryCache.get(part);
    if (entry === undefined) {
      const eq = part.indexOf('=');
      entry = eq <= 0 ? null : { name: part.slice(0, eq), url: part.slice(eq + 1), parsed: parseEtcdUrl(part.slice(eq + 1)) };
      entryCache.set(part, entry);
    }
    if (entry === null) bad.push(part);
    else {
      entries.push(entry);
      if (typeof entry.parsed === 'string') invalid.push(entry);
      else {
        if (entry.parsed.scheme === 'http') plain.push(entry);
        if (!loopbackPeer && isLoopbackHost(entry.parsed.host)) loopbackPeer = true;
      }
    }
  }
  const result: InitialCluster = { bad, entries, invalid, plain, loopbackPeer };
  if (initialClusterCache.size >= 64) initialClusterCache.clear();
  initialClusterCache.set(value, result);
  return result;
}

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '']);
const LOCAL_NAMES = new Set(['localhost', '127.0.0.1', '::1']);

/** Whether some listen URL accepts what an advertised URL promises; undefined when it cannot be told offline. */
function listenCovers(adv: EtcdUrl, listen: readonly EtcdUrl[]): boolean | undefined {
  const candidates = listen.filter((l) => l.port === adv.port && l.scheme === adv.scheme);
  if (candidates.some((l) => WILDCARD_HOSTS.has(l.host) || l.host === adv.host || (LOCAL_NAMES.has(l.host) && LOCAL_NAMES.has(adv.host)))) return true;
  // A DNS name may well resolve to a listened IP; only DNS can tell.
  if (candidates.length > 0 && !isIP(adv.host) && !LOCAL_NAMES.has(adv.host)) return undefined;
  return false;
}

type Side = 'client' | 'peer';
const SIDE = {
  client: {
    cert: 'cert-file', key: 'key-file', ca: 'trusted-ca-file', auth: 'client-cert-auth', autoTls: 'auto-tls',
    listen: 'listen-client-urls', advertise: 'advertise-client-urls', defaultUrl: 'http://localhost:2379',
  },
  peer: {
    cert: 'peer-cert-file', key: 'peer-key-file', ca: 'peer-trusted-ca-file', auth: 'peer-client-cert-auth', autoTls: 'peer-auto-tls',
    listen: 'listen-peer-urls', advertise: 'initial-advertise-peer-urls', defaultUrl: 'http://localhost:2380',
  },
} as const;

/** The YAML spelling of the flags that live in a `*-transport-security` block. */
const YAML_NAMES: Readonly<Record<string, string>> = Object.fromEntries(
  (['client', 'peer'] as const).flatMap((side) =>
    ['cert-file', 'key-file', 'client-cert-auth', 'trusted-ca-file', 'auto-tls'].map((key) => [
      side === 'client' ? key : key === 'client-cert-auth' ? 'peer-client-cert-auth' : `peer-${key}`,
      `${side}-transport-security.${key}`,
    ]),
  ),
);

/** How to name a setting in a fix: as it is written where it is set, else in the config's own syntax. */
const flagAs = (config: EtcdConfig, flag: string): string => {
  const s = config.settings.get(flag);
  if (s) return s.origin.name;
  return config.configFile ? (YAML_NAMES[flag] ?? flag) : `--${flag} (${envName(flag)})`;
};

function checkSide(config: EtcdConfig, side: Side): Finding[] {
  const k = SIDE[side];
  const out: Finding[] = [];
  const listen = configUrls(config, k.listen);
  const advertise = configUrls(config, k.advertise);
  out.push(...listen.findings, ...advertise.findings);
  const tlsFiles = config.settings.get(k.cert) ?? config.settings.get(k.key);
  const autoTls = configBool(config, k.autoTls);
  const anyHttps = listen.urls.some((u) => u.scheme === 'https' || u.scheme === 'unixs');

  if (tlsFiles) {
    const httpUrls = [...listen.urls, ...advertise.urls].filter((u) => u.scheme === 'http' || u.scheme === 'unix');
    if (httpUrls.length > 0) {
      const subject = settingSubject(listen.urls.some((u) => u.scheme === 'http') ? (listen.setting as EtcdSetting) : (advertise.setting as EtcdSetting));
      out.push(finding(`${side}-url-http-with-tls`, 'error', subject, `${httpUrls.map((u) => u.raw).join(', ')} ${httpUrls.length === 1 ? 'is' : 'are'} http:// although ${tlsFiles.origin.name} is set: etcd serves plaintext there and ignores the TLS files`, `use https:// in ${flagAs(config, k.listen)} and ${flagAs(config, k.advertise)}`));
    } else if (!listen.setting) {
      out.push(finding(`${side}-url-http-with-tls`, 'error', settingSubject(tlsFiles), `${flagAs(config, k.listen)} is not set, so etcd listens on its default ${k.defaultUrl} in plaintext and ignores the TLS files`, `set ${flagAs(config, k.listen)} to https:// URLs`));
    }
  }
  if (anyHttps && !autoTls && !(config.settings.get(k.cert) && config.settings.get(k.key))) {
    out.push(finding(`${side}-https-without-cert`, 'error', settingSubject(listen.setting as EtcdSetting), `https:// URLs without both ${flagAs(config, k.cert)} and ${flagAs(config, k.key)}: etcd refuses to start ("TLS key/cert ... must be provided")`, `set ${flagAs(config, k.cert)} and ${flagAs(config, k.key)}`));
  }
  if (autoTls) {
    const s = config.settings.get(k.autoTls) as EtcdSetting;
    out.push(finding('auto-tls-enabled', 'warning', settingSubject(s), `${s.origin.name} makes etcd generate self-signed certificates that ${side === 'peer' ? 'peers' : 'clients'} accept without verification`, `turn it off and give ${flagAs(config, k.cert)}/${flagAs(config, k.key)} from your CA (etcd-tls gen)`));
  }
  if (anyHttps) {
    const ca = config.settings.get(k.ca);
    const auth = config.settings.get(k.auth);
    const authOn = configBool(config, k.auth);
    const subject = settingSubject(ca ?? auth ?? (listen.setting as EtcdSetting));
    if (!ca && !authOn)
      out.push(finding(`${side}-auth-disabled`, 'error', subject, side === 'peer' ? 'peer URLs are https but no peer CA is trusted and peer client certificates are not required: any host that reaches the peer port can join the cluster' : 'client URLs are https but no CA is trusted and client certificates are not required: anyone who reaches the port can read and write every key', `set ${flagAs(config, k.ca)} to your CA and ${flagAs(config, k.auth)}=true`));
    else if (!ca)
      out.push(finding(`${side}-cert-auth-without-ca`, 'error', settingSubject(auth as EtcdSetting), `${(auth as EtcdSetting).origin.name} is on but ${flagAs(config, k.ca)} is not set: Go then trusts the system CAs, so any publicly issued certificate is accepted`, `set ${flagAs(config, k.ca)} to your CA`));
    else if (!authOn)
      out.push(finding(`${side}-ca-without-cert-auth`, 'warning', settingSubject(ca), `${ca.origin.name} is set without ${flagAs(config, k.auth)}=true: etcd 3.4 still demands client certificates, but says so nowhere${side === 'client' ? ', and the certificate CN is not used as the etcd user' : ''}`, `set ${flagAs(config, k.auth)}=true to say what is enforced`));
  }
  for (const adv of advertise.urls) {
    if (listen.urls.length === 0) break;
    if (listenCovers(adv, listen.urls) === false)
      out.push(finding(`${side}-advertise-not-listened`, 'error', settingSubject(advertise.setting as EtcdSetting), `${adv.raw} is advertised, but no listen URL (${listen.urls.map((u) => u.raw).join(', ')}) accepts ${adv.scheme}://${adv.host}:${adv.port}`, `listen on ${adv.scheme}://${adv.host.includes(':') ? `[${adv.host}]` : adv.host}:${adv.port} (or 0.0.0.0 on that port), or advertise an address it listens on`));
  }
  return out;
}

function checkInitialCluster(config: EtcdConfig): Finding[] {
  const setting = config.settings.get('initial-cluster');
  if (!setting) return [];
  const subject = settingSubject(setting);
  const { entries: urls, bad, invalid, plain } = initialClusterOf(setting.value);
  const out: Finding[] = [];
  if (bad.length) out.push(finding('setting-invalid', 'error', subject, `entries without name=URL: ${bad.join(', ')}`, 'write it as name1=https://host1:2380,name2=https://host2:2380'));
  for (const u of invalid) out.push(finding('setting-invalid', 'error', subject, `${u.name}: ${u.parsed as string}`, 'write every URL as https://host:port'));
  if (plain.length) {
    const tls = Boolean(config.settings.get('peer-cert-file'));
    out.push(
      finding(
        'initial-cluster-http',
        tls ? 'error' : 'warning',
        subject,
        `${plain.map((u) => `${u.name}=${u.url}`).join(', ')} ${plain.length === 1 ? 'is' : 'are'} http://${tls ? ': members dial those peers in plaintext while peer TLS is configured ("first record does not look like a TLS handshake")' : ': peer traffic is plaintext'}`,
        'list every member with its https:// peer URL (on a running cluster, migrate member by member: etcd-tls migrate)',
      ),
    );
  }
  const name = config.settings.get('name')?.value ?? 'default';
  const adv = configUrls(config, 'initial-advertise-peer-urls');
  if (adv.setting && adv.findings.length === 0) {
    // An indexed loop: a cold for-of allocates an iterator result per entry, and this runs per config.
    const own: string[] = [];
    for (let i = 0; i < urls.length; i++) if ((urls[i] as InitialClusterEntry).name === name) own.push((urls[i] as InitialClusterEntry).url.trim());
    const advertised = adv.urls.map((u) => u.raw);
    const same = own.length === advertised.length && own.every((u) => advertised.includes(u));
    if (!same)
      out.push(finding('initial-cluster-mismatch', 'error', subject, own.length === 0 ? `has no entry for this member's name "${name}": etcd refuses to start ("couldn't find local name")` : `lists ${name}=${own.join(',')} but the member advertises ${advertised.join(',')}: etcd refuses to bootstrap`, `make the ${name}= entries equal ${flagAs(config, 'initial-advertise-peer-urls')}`));
  }
  return out;
}

/** Settings etcd refuses, ignores, or reads from somewhere else than the user thinks. */
function checkSources(config: EtcdConfig): Finding[] {
  const out: Finding[] = [];
  for (const p of config.problems) out.push(finding('setting-invalid', 'error', describeOrigin(p.origin), p.message, 'fix the syntax; etcd refuses to start on it'));
  for (const { env, flag } of config.conflicts)
    out.push(finding('env-flag-conflict', 'error', describeOrigin(env.origin), `${env.origin.name} and ${flag.origin.name} (${flag.origin.file}) both set ${flag.flag}: etcd 3.4 exits with "conflicting environment variable ... is shadowed by corresponding command-line flag"`, `keep one: remove ${flag.origin.name} or ${env.origin.name}`));
  // Debian's etcd.service sets Environment=ETCD_NAME=%H and ETCD_DATA_DIR, so these flags in DAEMON_ARGS
  // always meet a variable, even when the file itself does not set one.
  if (!config.configFile) {
    for (const flag of ['name', 'data-dir']) {
      const s = config.settings.get(flag);
      if (s?.origin.name.startsWith('DAEMON_ARGS ') && !config.conflicts.some((c) => c.flag.flag === flag))
        out.push(finding('env-flag-conflict', 'error', describeOrigin(s.origin), `Debian's etcd.service sets ${envName(flag)} itself (Environment=), so --${flag} in DAEMON_ARGS makes etcd 3.4 exit ("conflicting environment variable ... is shadowed")`, `set ${envName(flag)}=${s.value} in this file instead of --${flag}`));
    }
  }
  const shadowed: string[] = [];
  for (const ig of config.ignored) {
    const subject = describeOrigin(ig.origin);
    switch (ig.reason) {
      case 'removed': {
        const flagName = ig.origin.name.replace(/^(DAEMON_ARGS )?--?/, '').replace(/^ETCD_/, '').toLowerCase().replace(/_/g, '-');
        const replacement = REMOVED_FLAGS[flagName] ?? 'trusted-ca-file';
        const replaced = config.settings.has(replacement);
        const isFlag = ig.origin.kind === 'flag';
        out.push(
          finding(
            'removed-ca-file',
            isFlag || !replaced ? 'error' : 'warning',
            subject,
            isFlag
              ? `etcd 3.4 removed --${flagName} and refuses to start ("flag provided but not defined")`
              : `etcd 3.4 ignores ${ig.origin.name} ("unrecognized environment variable")${replaced ? '' : `, so no CA is trusted for ${replacement === 'trusted-ca-file' ? 'clients' : 'peers'}`}`,
            `use ${isFlag ? `--${replacement}` : envName(replacement)} instead`,
          ),
        );
        break;
      }
      case 'unknown':
        if (ig.origin.kind === 'flag')
          out.push(finding('unknown-flag', 'error', subject, `etcd 3.4.23 has no flag ${ig.origin.name.replace(/^DAEMON_ARGS /, '')} and refuses to start ("flag provided but not defined")`, 'remove it, or check its spelling against etcd --help'));
        else
          out.push(finding('unknown-env-variable', 'warning', subject, `etcd 3.4.23 has no setting ${ig.origin.name} and ignores it ("unrecognized environment variable")`, 'remove it, or check its spelling against etcd --help'));
        break;
      case 'not-in-yaml': {
        // CRL and allowed-CN/hostname exist in 3.4 as flags only: a YAML user believes in a protection etcd never applies.
        const security = /crl|allowed-(cn|hostname)/.test(ig.origin.name);
        const flagOnly = security || Boolean(ig.note?.includes('only as a flag'));
        out.push(
          finding(
            'yaml-key-ignored',
            security ? 'error' : 'warning',
            subject,
            `etcd 3.4.23 silently ignores this key${ig.note ? ` (${ig.note})` : ''}${security ? ', so the protection it asks for is not in force' : ''}`,
            flagOnly
              ? 'set it as an ETCD_* variable in an environment file and drop --config-file (etcd-tls gen writes etcd.env)'
              : 'remove it, or upgrade to the etcd release that reads it',
          ),
        );
        break;
      }
      case 'shadowed-by-config-file':
        shadowed.push(ig.origin.name);
        break;
    }
  }
  if (config.configFile) {
    out.push(
      shadowed.length
        ? finding('config-file-ignores-flags', 'warning', config.configFile, `etcd reads only this file and ignores ${shadowed.length} setting${shadowed.length === 1 ? '' : 's'} given as flags or ETCD_* variables: ${shadowed.join(', ')}`, 'put every setting in the config file, or drop --config-file and use only flags/variables')
        : finding('config-file-ignores-flags', 'info', config.configFile, 'with --config-file, etcd ignores every command-line flag and ETCD_* variable', 'keep all settings in this file'),
    );
    if (!configBool(config, 'enable-grpc-gateway'))
      out.push(finding('yaml-grpc-gateway-off', 'warning', config.configFile, 'etcd 3.4 turns the gRPC gateway (the /v3 JSON API that curl and many tools use) off under a config file unless enable-grpc-gateway: true', 'add "enable-grpc-gateway: true"'));
  }
  return out;
}

/**
 * Configuration-only checks: parse problems, conflicts, ignored settings, URL schemes against TLS
 * files, client authentication, advertise vs listen, initial-cluster, cipher suite names.
 */
export function checkEtcdConfig(config: EtcdConfig): Finding[] {
  const out = [...checkSources(config), ...checkSide(config, 'client'), ...checkSide(config, 'peer'), ...checkInitialCluster(config)];
  for (const flag of ['client-cert-auth', 'peer-client-cert-auth', 'auto-tls', 'peer-auto-tls', 'enable-grpc-gateway', 'experimental-peer-skip-client-san-verification']) {
    const s = config.settings.get(flag);
    if (s && parseGoBool(s.value) === undefined)
      out.push(finding('setting-invalid', 'error', settingSubject(s), `"${s.value}" is not a boolean: etcd refuses to start ("invalid value")`, 'use true or false'));
  }
  out.push(...checkCipherSuiteNames(config));
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Cipher suites

/** Names Go 1.19's tls.CipherSuites() and InsecureCipherSuites() know, plus etcd's two CHACHA20 aliases. */
const GO_CIPHER_SUITES: ReadonlySet<string> = new Set([
  'TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256',
  'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA', 'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA', 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA',
  'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA', 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384',
  'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256',
  'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256', 'TLS_RSA_WITH_RC4_128_SHA', 'TLS_RSA_WITH_3DES_EDE_CBC_SHA',
  'TLS_RSA_WITH_AES_128_CBC_SHA', 'TLS_RSA_WITH_AES_256_CBC_SHA', 'TLS_RSA_WITH_AES_128_CBC_SHA256',
  'TLS_RSA_WITH_AES_128_GCM_SHA256', 'TLS_RSA_WITH_AES_256_GCM_SHA384', 'TLS_ECDHE_ECDSA_WITH_RC4_128_SHA',
  'TLS_ECDHE_RSA_WITH_RC4_128_SHA', 'TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA', 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256',
  'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256', 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305', 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305',
]);

function checkCipherSuiteNames(config: EtcdConfig): Finding[] {
  const s = config.settings.get('cipher-suites');
  if (!s) return [];
  const unknown = configList(config, 'cipher-suites').filter((n) => !GO_CIPHER_SUITES.has(n));
  return unknown.length
    ? [finding('cipher-suite-unknown', 'error', settingSubject(s), `${unknown.join(', ')}: not a cipher suite Go knows; etcd refuses to start ("unexpected TLS cipher suite")`, 'use Go names such as TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256')]
    : [];
}

const HTTP2_SUITE = { ecdsa: 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', rsa: 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256' } as const;

/**
 * With --cipher-suites set, HTTP/2 needs an AES_128_GCM suite, and under TLS 1.2 only suites of the
 * certificate's key type can be negotiated: so the list needs the AES_128_GCM suite of every key type
 * in use (Ed25519 certificates use the ECDSA suites). `keys` are the server and peer certificates.
 */
export function checkCipherSuitesForKeys(config: EtcdConfig, keys: readonly { path: string; algo: KeyAlgorithm }[]): Finding[] {
  const s = config.settings.get('cipher-suites');
  if (!s) return [];
  const list = new Set(configList(config, 'cipher-suites'));
  const out: Finding[] = [];
  if (!list.has(HTTP2_SUITE.ecdsa) && !list.has(HTTP2_SUITE.rsa)) {
    out.push(finding('cipher-suites-missing-aes128gcm', 'error', settingSubject(s), `has neither ${HTTP2_SUITE.ecdsa} nor ${HTTP2_SUITE.rsa}: etcd dies with "http2: TLSConfig.CipherSuites is missing an HTTP/2-required AES_128_GCM_SHA256 cipher"`, `add ${keys.some((k) => k.algo === 'rsa') ? HTTP2_SUITE.rsa : HTTP2_SUITE.ecdsa}`));
    return out;
  }
  const seen = new Set<string>();
  for (const k of keys) {
    const type = k.algo === 'rsa' ? 'rsa' : 'ecdsa';
    if (list.has(HTTP2_SUITE[type]) || seen.has(type)) continue;
    seen.add(type);
    out.push(finding('cipher-suites-missing-aes128gcm', 'error', settingSubject(s), `lacks ${HTTP2_SUITE[type]}, the HTTP/2 suite for the ${type.toUpperCase()} key of ${k.path}: TLS 1.2 clients fail with "handshake failure"`, `add ${HTTP2_SUITE[type]}`));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// CRL

const digestOf = (sigOid: string): string | null | undefined => {
  const name = signatureAlgorithmName(sigOid);
  if (name === 'Ed25519') return null;
  const m = /SHA(\d+)/i.exec(name);
  return m ? `sha${m[1]}` : undefined;
};

// A generated directory holds the same crl.der in every folder, named by two configs each: verify
// each (CRL, CA) pair once. Keyed by the CA's parsed certificate (check parses each CA DER once).
const crlVerdicts = new WeakMap<LoadedCert, Map<string, boolean>>();

function crlSignedByCa(crl: CrlView, ca: LoadedCert): boolean {
  let verdicts = crlVerdicts.get(ca);
  if (!verdicts) crlVerdicts.set(ca, (verdicts = new Map()));
  const id = crl.der.toString('latin1');
  let signed = verdicts.get(id);
  if (signed === undefined) {
    const digest = digestOf(crl.signatureAlgorithmOid);
    try {
      signed = digest !== undefined && verify(digest, crl.tbs, ca.publicKeyObject, crl.signature);
    } catch {
      signed = false;
    }
    verdicts.set(id, signed);
  }
  return signed;
}

// The same bytes parse the same way: keep the last few views (the message of a failure names its file, so those are not kept).
const parsedCrls = new Map<string, CrlView>();
function parsedCrl(der: Buffer, file: string): CrlView {
  const id = der.toString('latin1');
  let crl = parsedCrls.get(id);
  if (!crl) {
    crl = parseCrl(der, file);
    if (parsedCrls.size >= 16) parsedCrls.clear();
    parsedCrls.set(id, crl);
  }
  return crl;
}

/**
 * A CRL file (PEM "X509 CRL" or DER) must parse and be signed by one of `cas`: etcd matches revoked
 * serials only, so a CRL from another CA silently revokes nothing that matters.
 */
export function checkCrl(subject: string, file: string, bytes: Buffer, cas: readonly LoadedCert[], now?: Date): Finding[] {
  const fix = `write the CRL your CA issued to ${file} (PEM "X509 CRL" or DER)`;
  let der: Buffer = bytes;
  if (bytes.includes('-----BEGIN')) {
    try {
      const block = parsePemBlocks(bytes.toString('latin1')).find((b) => b.label === 'X509 CRL');
      if (!block) return [finding('crl-invalid', 'error', subject, `${file} holds no "X509 CRL" PEM block`, fix)];
      der = block.der;
    } catch (e) {
      return [finding('crl-invalid', 'error', subject, `${file}: not valid PEM (${(e as Error).message})`, fix)];
    }
  }
  let crl: CrlView;
  try {
    crl = parsedCrl(der, file);
  } catch (e) {
    const message = (e as Error).message;
    const said = `${file}: not a valid CRL (`;
    const why = message.startsWith(said) && message.endsWith(')') ? message.slice(said.length, -1) : message;
    return [finding('crl-invalid', 'error', subject, `${file} is not a valid CRL (${why}): etcd rejects every connection while it cannot parse it`, fix)];
  }
  const stale: Finding[] = [];
  const next = crl.nextUpdate;
  if (now && next) {
    if (next.getTime() <= now.getTime())
      stale.push(finding('crl-stale', 'warning', subject, `${file}: nextUpdate ${next.toISOString()} has passed; etcd still enforces it, but other verifiers refuse a stale CRL`, 'etcd-tls crl DIR (and copy crl.der to the members); run it daily from cron'));
    else if (now.getTime() >= (crl.thisUpdate.getTime() + next.getTime()) / 2)
      stale.push(finding('crl-stale', 'info', subject, `${file}: past half its validity (nextUpdate ${next.toISOString()})`, 'etcd-tls crl DIR; run it daily from cron'));
  }
  if (cas.length === 0) return stale;
  return cas.some((ca) => crlSignedByCa(crl, ca))
    ? stale
    : [...stale, finding('crl-not-signed-by-ca', 'error', subject, `${file} is not signed by the trusted CA (${cas.map((c) => c.subject.text).join('; ')}): it revokes serials of some other CA, so nothing of yours is revoked`, 'issue the CRL with the CA that signs your etcd certificates')];
}
