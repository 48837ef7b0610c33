/**
 * etcd's configuration as etcd 3.4.23 reads it, from the three places it can come from: ETCD_*
 * variables (an EnvironmentFile such as /etc/default/etcd, whose DAEMON_ARGS Debian's unit passes as
 * flags), command-line flags, and a YAML file given with --config-file. Each is parsed into settings
 * keyed by flag name that remember where they came from, then merged the way etcd merges them.
 *
 * Pure: text in, typed view out. Flag and key tables come from etcd v3.4.23 etcdmain/config.go and
 * embed/config.go.
 */
import { parseDocument, isMap, isScalar, isSeq, type Node as YamlNode } from 'yaml';

export interface SettingOrigin {
  kind: 'env' | 'flag' | 'yaml';
  /** The file it came from; '--flags' for flags given on our own command line. */
  file: string;
  /** 1-based line, when known. */
  line?: number;
  /** As written: `ETCD_CERT_FILE`, `--cert-file`, `client-transport-security.cert-file`. */
  name: string;
}

export interface EtcdSetting {
  /** The etcd flag name without dashes: 'cert-file'. */
  flag: string;
  /** As etcd's flag parser would receive it: lists comma-joined, booleans 'true'/'false'. */
  value: string;
  origin: SettingOrigin;
}

export type IgnoredReason =
  /** Not a setting of etcd 3.4.23 (env: etcd warns and goes on; flag: etcd refuses to start). */
  | 'unknown'
  /** --ca-file / --peer-ca-file: deprecated in 3.3, gone in 3.4. */
  | 'removed'
  /** A YAML key etcd 3.4.23's config struct does not have: silently ignored. */
  | 'not-in-yaml'
  /** A flag or variable that a config file made etcd ignore. */
  | 'shadowed-by-config-file';

export interface IgnoredSetting {
  origin: SettingOrigin;
  value: string;
  reason: IgnoredReason;
  /** Why, in a few words (e.g. which release added the key). */
  note?: string;
}

/** Something etcd would refuse while parsing: a malformed line, a flag without its value, bad YAML. */
export interface ConfigProblem {
  origin: SettingOrigin;
  message: string;
}

/** What one file (or one flags string) says. */
export interface EtcdConfigSource {
  kind: SettingOrigin['kind'];
  file: string;
  settings: EtcdSetting[];
  ignored: IgnoredSetting[];
  problems: ConfigProblem[];
}

export interface EtcdConfig {
  /** The effective value of each setting that is set, by flag name. */
  settings: ReadonlyMap<string, EtcdSetting>;
  /** Settings given both as ETCD_* and as a flag: etcd 3.4 exits at start. */
  conflicts: { env: EtcdSetting; flag: EtcdSetting }[];
  ignored: IgnoredSetting[];
  problems: ConfigProblem[];
  /** The YAML file in use; when set, every flag and ETCD_* variable is ignored. */
  configFile?: string;
  /** Every file the configuration was read from, in order. */
  files: string[];
}

/** Flags of etcd 3.4.23 that take no value (`--client-cert-auth` alone means true). */
export const BOOLEAN_FLAGS: ReadonlySet<string> = new Set([
  'initial-election-tick-advance', 'strict-reconfig-check', 'enable-v2', 'pre-vote', 'client-cert-auth', 'auto-tls',
  'peer-client-cert-auth', 'peer-auto-tls', 'experimental-peer-skip-client-san-verification', 'debug', 'version',
  'enable-pprof', 'enable-grpc-gateway', 'experimental-initial-corrupt-check', 'experimental-enable-lease-checkpoint',
  'experimental-enable-lease-checkpoint-persist', 'unsafe-no-fsync', 'force-new-cluster',
]);

/** Every flag etcd 3.4.23 defines, including the legacy ones it accepts and ignores. */
export const ETCD_34_FLAGS: ReadonlySet<string> = new Set([
  ...BOOLEAN_FLAGS,
  'config-file', 'data-dir', 'wal-dir', 'listen-peer-urls', 'listen-client-urls', 'listen-metrics-urls', 'max-snapshots',
  'max-wals', 'name', 'snapshot-count', 'heartbeat-interval', 'election-timeout', 'quota-backend-bytes',
  'backend-batch-interval', 'backend-batch-limit', 'max-txn-ops', 'max-request-bytes', 'grpc-keepalive-min-time',
  'grpc-keepalive-interval', 'grpc-keepalive-timeout', 'max-concurrent-streams', 'initial-advertise-peer-urls',
  'advertise-client-urls', 'discovery', 'discovery-fallback', 'discovery-proxy', 'discovery-srv', 'discovery-srv-name',
  'initial-cluster', 'initial-cluster-token', 'initial-cluster-state', 'proxy', 'proxy-failure-wait',
  'proxy-refresh-interval', 'proxy-dial-timeout', 'proxy-write-timeout', 'proxy-read-timeout', 'cert-file', 'key-file',
  'client-crl-file', 'client-cert-allowed-hostname', 'trusted-ca-file', 'peer-cert-file', 'peer-key-file',
  'peer-trusted-ca-file', 'peer-crl-file', 'peer-cert-allowed-cn', 'peer-cert-allowed-hostname', 'cipher-suites', 'cors',
  'host-whitelist', 'logger', 'log-output', 'log-outputs', 'log-level', 'log-package-levels', 'auto-compaction-retention',
  'auto-compaction-mode', 'metrics', 'auth-token', 'bcrypt-cost', 'auth-token-ttl', 'experimental-corrupt-check-time',
  'experimental-enable-v2v3', 'experimental-backend-bbolt-freelist-type', 'experimental-compaction-batch-limit',
  'experimental-watch-progress-notify-interval', 'experimental-warning-apply-duration',
  // accepted and ignored (etcd 2 leftovers)
  'cluster-active-size', 'cluster-remove-delay', 'cluster-sync-interval', 'config', 'force', 'max-result-buffer',
  'max-retry-attempts', 'peer-heartbeat-interval', 'peer-election-timeout', 'retry-interval', 'snapshot', 'v', 'vv',
]);

/** Deprecated in 3.3 and removed in 3.4, with what replaced them. */
export const REMOVED_FLAGS: Readonly<Record<string, string>> = {
  'ca-file': 'trusted-ca-file',
  'peer-ca-file': 'peer-trusted-ca-file',
};

/** Top-level YAML keys of etcd 3.4.23 (embed.Config, configJSON and etcdmain's configProxy). */
const YAML_34_KEYS: ReadonlySet<string> = new Set([
  'name', 'data-dir', 'wal-dir', 'snapshot-count', 'max-snapshots', 'max-wals', 'heartbeat-interval', 'election-timeout',
  'initial-election-tick-advance', 'backend-batch-interval', 'backend-batch-limit', 'quota-backend-bytes', 'max-txn-ops',
  'max-request-bytes', 'max-concurrent-streams', 'cipher-suites', 'initial-cluster-state', 'discovery-srv',
  'discovery-srv-name', 'discovery-proxy', 'discovery', 'initial-cluster', 'initial-cluster-token', 'strict-reconfig-check',
  'enable-v2', 'auto-compaction-mode', 'auto-compaction-retention', 'grpc-keepalive-min-time', 'grpc-keepalive-interval',
  'grpc-keepalive-timeout', 'pre-vote', 'auth-token', 'bcrypt-cost', 'auth-token-ttl', 'experimental-initial-corrupt-check',
  'experimental-corrupt-check-time', 'experimental-enable-v2v3', 'experimental-backend-bbolt-freelist-type',
  'experimental-enable-lease-checkpoint', 'experimental-enable-lease-checkpoint-persist', 'experimental-compaction-batch-limit',
  'experimental-watch-progress-notify-interval', 'experimental-warning-apply-duration', 'force-new-cluster', 'enable-pprof',
  'metrics', 'listen-metrics-urls', 'logger', 'log-level', 'log-outputs', 'enable-grpc-gateway', 'log-output', 'debug',
  'log-package-levels', 'unsafe-no-fsync', 'listen-peer-urls', 'listen-client-urls', 'initial-advertise-peer-urls',
  'advertise-client-urls', 'cors', 'host-whitelist', 'proxy', 'discovery-fallback', 'proxy-failure-wait',
  'proxy-refresh-interval', 'proxy-dial-timeout', 'proxy-write-timeout', 'proxy-read-timeout',
]);

/** The five keys of a 3.4.23 `*-transport-security` block, and the flag each one sets. */
const SECURITY_KEYS: Readonly<Record<'client' | 'peer', Readonly<Record<string, string>>>> = {
  client: { 'cert-file': 'cert-file', 'key-file': 'key-file', 'client-cert-auth': 'client-cert-auth', 'trusted-ca-file': 'trusted-ca-file', 'auto-tls': 'auto-tls' },
  peer: { 'cert-file': 'peer-cert-file', 'key-file': 'peer-key-file', 'client-cert-auth': 'peer-client-cert-auth', 'trusted-ca-file': 'peer-trusted-ca-file', 'auto-tls': 'peer-auto-tls' },
};

/** Why a YAML key people write is not there in 3.4.23. */
const YAML_KEY_NOTES: Readonly<Record<string, string>> = {
  'tls-min-version': 'TLS version keys arrived in 3.4.25 / 3.5.8',
  'tls-max-version': 'TLS version keys arrived in 3.4.25 / 3.5.8',
  'client-transport-security.allowed-hostname': 'allowed-hostname/allowed-cn keys arrived in 3.5.14',
  'peer-transport-security.allowed-hostname': 'allowed-hostname/allowed-cn keys arrived in 3.5.14',
  'peer-transport-security.allowed-cn': 'allowed-hostname/allowed-cn keys arrived in 3.5.14',
  'client-transport-security.crl-file': 'no etcd release has a YAML key for CRL files',
  'peer-transport-security.crl-file': 'no etcd release has a YAML key for CRL files',
  'client-crl-file': 'no etcd release has a YAML key for CRL files',
  'peer-crl-file': 'no etcd release has a YAML key for CRL files',
  'client-cert-file': 'client-cert-file/client-key-file arrived in 3.5.0',
  'client-key-file': 'client-cert-file/client-key-file arrived in 3.5.0',
  'peer-transport-security.client-cert-file': 'peer client-cert-file/client-key-file arrived in 3.5.0',
  'peer-transport-security.client-key-file': 'peer client-cert-file/client-key-file arrived in 3.5.0',
  'peer-transport-security.skip-client-san-verification': 'the YAML key arrived in 3.6',
};

export const envName = (flag: string): string => `ETCD_${flag.toUpperCase().replace(/-/g, '_')}`;
const flagFromEnv = (name: string): string => name.slice('ETCD_'.length).toLowerCase().replace(/_/g, '-');

/** Where a setting came from, as a finding subject: `nodes/m1/etcd.env: ETCD_CERT_FILE`. */
export const describeOrigin = (o: SettingOrigin): string => `${o.file}: ${o.name}`;

function emptySource(kind: SettingOrigin['kind'], file: string): EtcdConfigSource {
  return { kind, file, settings: [], ignored: [], problems: [] };
}

// ---------------------------------------------------------------------------------------------------
// Flags

/**
 * Split a command line the way sh does for the cases that matter here: quotes, backslashes and
 * line continuations. `$VAR` stays literal: nothing is expanded.
 */
export function splitCommandLine(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === '\\') {
      const next = text[i + 1];
      i++;
      if (next === undefined || next === '\n') continue;
      word += next;
      inWord = true;
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      word += text.slice(i + 1, end === -1 ? text.length : end);
      i = end === -1 ? text.length : end;
      inWord = true;
    } else if (c === '"') {
      i++;
      for (; i < text.length && text[i] !== '"'; i++) {
        if (text[i] === '\\' && /["\\$`\n]/.test(text[i + 1] ?? '')) i++;
        if (text[i] !== '\n' || text[i - 1] !== '\\') word += text[i];
      }
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/**
 * Parse etcd's command line as Go's flag package does: `-flag value`, `--flag=value`, booleans alone.
 * A leading program path (`/usr/bin/etcd`) is skipped. `file` names the source in findings.
 *
 * @example
 *   parseEtcdArgs('--cert-file=/etc/etcd/server.pem --client-cert-auth').settings.map((s) => s.flag)
 *   // ['cert-file', 'client-cert-auth']
 */
export function parseEtcdArgs(args: string | readonly string[], file = '--flags', line?: number, prefix = ''): EtcdConfigSource {
  const src = emptySource('flag', file);
  const words = typeof args === 'string' ? splitCommandLine(args) : [...args];
  if (words[0] !== undefined && !words[0].startsWith('-') && /(^|\/)etcd$/.test(words[0])) words.shift();
  const origin = (name: string): SettingOrigin => ({ kind: 'flag', file, ...(line === undefined ? {} : { line }), name: `${prefix}${name}` });
  for (let i = 0; i < words.length; i++) {
    const word = words[i] as string;
    const m = /^--?([^-=][^=]*)(?:=([\s\S]*))?$/.exec(word);
    if (!m) {
      // Go's flag parsing stops at the first non-flag; etcd then refuses to start.
      src.problems.push({ origin: origin(word), message: `'${word}' is not a flag: etcd stops parsing here and refuses to start` });
      break;
    }
    const name = m[1] as string;
    let value = m[2];
    if (value === undefined && BOOLEAN_FLAGS.has(name)) value = 'true';
    if (value === undefined) {
      const next = words[i + 1];
      if (next === undefined) {
        src.problems.push({ origin: origin(`--${name}`), message: `--${name} needs a value ("flag needs an argument")` });
        break;
      }
      value = next;
      i++;
    }
    const o = origin(`--${name}`);
    if (name in REMOVED_FLAGS) src.ignored.push({ origin: o, value, reason: 'removed' });
    else if (!ETCD_34_FLAGS.has(name)) src.ignored.push({ origin: o, value, reason: 'unknown' });
    else src.settings.push({ flag: name, value, origin: o });
  }
  return src;
}

// ---------------------------------------------------------------------------------------------------
// Environment files

/** The line number (1-based) of any offset of `text`: newline offsets found once, then a binary search. */
function lineFinder(text: string): (offset: number) => number {
  let newlines: number[] | undefined;
  return (offset) => {
    if (!newlines) {
      newlines = [];
      for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) newlines.push(i);
    }
    let lo = 0;
    let hi = newlines.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((newlines[mid] as number) < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo + 1;
  };
}

/** The end of the run of characters from `i` that `stops` (a global regex of single characters) does not match. */
function runEnd(text: string, i: number, stops: RegExp): number {
  stops.lastIndex = i;
  return stops.exec(text)?.index ?? text.length;
}
const QUOTED_STOPS = /["\\]/g;
const BARE_STOPS = /[\n"'\\]/g;

/**
 * Read one value starting at `text[i]`; returns it and the index after it. Handles quotes and continuations.
 * Ordinary characters are taken a run at a time: one string per character made an 11 kB
 * initial-cluster a rope of 11,000 pieces, which every later use of the value had to flatten.
 */
function readEnvValue(text: string, start: number): { value: string; end: number } {
  const parts: string[] = [];
  let i = start;
  while (i < text.length && text[i] !== '\n') {
    const c = text[i] as string;
    if (c === '"') {
      for (i++; i < text.length && text[i] !== '"'; ) {
        const end = runEnd(text, i, QUOTED_STOPS);
        if (end > i) {
          parts.push(text.slice(i, end));
          i = end;
          continue;
        }
        // A backslash: a continuation, or an escape of one of " \ $ `, or itself.
        if (text[i + 1] === '\n') {
          i += 2;
          continue;
        }
        if (/["\\$`]/.test(text[i + 1] ?? '')) i++;
        parts.push(text[i] as string);
        i++;
      }
      i++;
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      parts.push(text.slice(i + 1, end === -1 ? text.length : end));
      i = end === -1 ? text.length : end + 1;
    } else if (c === '\\') {
      if (text[i + 1] === '\n') i += 2;
      else {
        parts.push(c);
        i++;
      }
    } else {
      const end = runEnd(text, i + 1, BARE_STOPS);
      parts.push(text.slice(i, end));
      i = end;
    }
  }
  return { value: parts.join('').trimEnd(), end: i };
}

/**
 * Parse an environment file: `KEY=value`, `KEY="value"`, `KEY='value'`, an optional `export `, `#` and
 * `;` comments, backslash continuations. ETCD_* variables become settings; DAEMON_ARGS (Debian's unit
 * passes it to etcd) is parsed as flags; every other variable is left alone.
 *
 * @example
 *   parseEtcdEnvFile('ETCD_CERT_FILE="/etc/etcd/pki/server.pem"\n', 'etcd.env').settings[0]
 *   // { flag: 'cert-file', value: '/etc/etcd/pki/server.pem', origin: { kind: 'env', file: 'etcd.env', line: 1, name: 'ETCD_CERT_FILE' } }
 */
export function parseEtcdEnvFile(text: string, file: string): EtcdConfigSource {
  const src = emptySource('env', file);
  const lineAt = lineFinder(text);
  let i = 0;
  while (i < text.length) {
    const lineStart = i;
    while (i < text.length && (text[i] === ' ' || text[i] === '\t')) i++;
    const nl = text.indexOf('\n', i);
    const lineEnd = nl === -1 ? text.length : nl;
    const rest = text.slice(i, lineEnd);
    if (rest.trim() === '' || rest.startsWith('#') || rest.startsWith(';')) {
      i = lineEnd + 1;
      continue;
    }
    const line = lineAt(lineStart);
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*/.exec(rest);
    if (!m) {
      src.problems.push({ origin: { kind: 'env', file, line, name: `line ${line}` }, message: `line ${line} is not a KEY=value assignment: ${JSON.stringify(rest.slice(0, 60))}` });
      i = lineEnd + 1;
      continue;
    }
    const name = m[1] as string;
    const { value, end } = readEnvValue(text, i + m[0].length);
    i = end + 1;
    const origin: SettingOrigin = { kind: 'env', file, line, name };
    if (name === 'DAEMON_ARGS') {
      const flags = parseEtcdArgs(value, file, line, 'DAEMON_ARGS ');
      src.settings.push(...flags.settings);
      src.ignored.push(...flags.ignored);
      src.problems.push(...flags.problems);
      continue;
    }
    if (!name.startsWith('ETCD_')) continue;
    const flag = flagFromEnv(name);
    if (flag in REMOVED_FLAGS) src.ignored.push({ origin, value, reason: 'removed' });
    else if (!ETCD_34_FLAGS.has(flag)) src.ignored.push({ origin, value, reason: 'unknown' });
    else src.settings.push({ flag, value, origin });
  }
  return src;
}

// ---------------------------------------------------------------------------------------------------
// YAML config file

function scalarText(node: YamlNode | null | undefined): string | undefined {
  if (node === null || node === undefined) return undefined;
  if (isSeq(node)) return node.items.map((n) => scalarText(n as YamlNode) ?? '').join(',');
  if (isScalar(node)) return node.value === null || node.value === undefined ? undefined : String(node.value);
  return undefined;
}

/** One `key: value` of a YAML mapping, as parseEtcdYaml reads it: the value as text, or a nested mapping. */
interface YamlEntry {
  key: string;
  line?: number;
  value?: string;
  map?: YamlEntry[];
}

type YamlRead = { entries: YamlEntry[] } | { problem: { message: string; line?: number } };

/** Any YAML, with the yaml package. */
function readYamlDocument(text: string, lineAt: (offset: number) => number): YamlRead {
  const doc = parseDocument(text);
  const lineOf = (node: { range?: [number, number, number] | null } | null | undefined): number | undefined => (node?.range ? lineAt(node.range[0]) : undefined);
  if (doc.errors.length > 0) return { problem: { message: `not valid YAML: ${(doc.errors[0] as { message: string }).message.split('\n')[0] ?? ''}` } };
  if (doc.contents === null) return { entries: [] };
  if (!isMap(doc.contents)) {
    const line = lineOf(doc.contents);
    return { problem: { message: 'the top level is not a mapping of keys to values', ...(line === undefined ? {} : { line }) } };
  }
  const entriesOf = (items: readonly { key: unknown; value: unknown }[], nested: boolean): YamlEntry[] => {
    const out: YamlEntry[] = [];
    for (const pair of items) {
      const key = scalarText(pair.key as YamlNode);
      if (key === undefined) continue;
      const line = lineOf(pair.key as YamlNode);
      const valueNode = pair.value as YamlNode | null;
      const value = scalarText(valueNode);
      out.push({
        key,
        ...(line === undefined ? {} : { line }),
        ...(value === undefined ? {} : { value }),
        ...(!nested && isMap(valueNode) ? { map: entriesOf(valueNode.items, true) } : {}),
      });
    }
    return out;
  };
  return { entries: entriesOf(doc.contents.items, false) };
}

// The flat shape etcd.yaml files have (gen writes them so): `key: value` lines and blocks of them one
// level deep. Scalars are taken only where YAML 1.2's core schema leaves no doubt what they mean.
const FLAT_LINE = /^( *)([a-z][a-z0-9-]*):(?: +(.*))?$/;
const FLAT_DOUBLE = /^"([ !#-[\]-~]*)"$/;
const FLAT_SINGLE = /^'([ -&(-~]*)'$/;
// No ':' at the end: "a:" followed by a line end is a mapping indicator.
const FLAT_PLAIN = /^[A-Za-z/](?:[A-Za-z0-9_/:.,=@+-]*[A-Za-z0-9_/.,=@+-])?$/;
const FLAT_NUMBER = /^(0|[1-9][0-9]{0,14})$/;
const FLAT_BOOL: Readonly<Record<string, string>> = { true: 'true', True: 'true', TRUE: 'true', false: 'false', False: 'false', FALSE: 'false' };
const FLAT_NULL = new Set(['null', 'Null', 'NULL']);

/** What a flat value means: its text, null (undefined), or not a value read here (false). */
function flatScalar(raw: string): string | undefined | false {
  const quoted = FLAT_DOUBLE.exec(raw) ?? FLAT_SINGLE.exec(raw);
  if (quoted) return quoted[1] as string;
  if (FLAT_NUMBER.test(raw)) return raw;
  if (!FLAT_PLAIN.test(raw)) return false;
  if (FLAT_NULL.has(raw)) return undefined;
  return FLAT_BOOL[raw] ?? raw;
}

/**
 * A flat etcd.yaml read line by line, or undefined for anything else (flow collections, sequences,
 * anchors, tags, escapes, multi-line scalars, comments after values, duplicate keys, tabs, document
 * markers), which the yaml package reads. It costs ~1 ms per generated file cold, and a 300-member
 * check reads 300 of them; the yaml package also builds a double-quoted scalar one character at a time,
 * an 11 kB rope for initial-cluster. Same entries and lines as readYamlDocument
 * (test/unit/check-etcd-config.test.ts compares them).
 */
let flatYamlReadCount = 0;
/** How many YAML files the line reader has read (the rest went to the yaml package): the tests' probe. */
export const flatYamlReads = (): number => flatYamlReadCount;

function readFlatYaml(text: string): YamlRead | undefined {
  const entries: YamlEntry[] = [];
  let parent: YamlEntry | undefined;
  let indent = 0;
  const keys = new Set<string>();
  let childKeys = new Set<string>();
  let start = 0;
  for (let line = 1; start <= text.length; line++) {
    const nl = text.indexOf('\n', start);
    const end = nl === -1 ? text.length : nl;
    const row = text.slice(start, end);
    start = end + 1;
    if (/^ *(#.*)?$/.test(row)) continue;
    const m = FLAT_LINE.exec(row);
    if (!m) return undefined;
    const depth = (m[1] as string).length;
    const key = m[2] as string;
    // Trailing spaces by hand: a lazy (.*?) before ` *$` cost ~3 ms per 58 kB initial-cluster line.
    let raw = m[3];
    if (raw !== undefined) {
      let cut = raw.length;
      while (cut > 0 && raw.charCodeAt(cut - 1) === 0x20) cut--;
      raw = raw.slice(0, cut);
    }
    if (FLAT_NULL.has(key) || key in FLAT_BOOL) return undefined;
    const value = raw === undefined ? undefined : flatScalar(raw);
    if (value === false) return undefined;
    const entry: YamlEntry = { key, line, ...(value === undefined ? {} : { value }) };
    if (depth === 0) {
      if (keys.has(key)) return undefined;
      keys.add(key);
      entries.push(entry);
      // Only a key without a value can open a block.
      parent = raw === undefined ? entry : undefined;
      indent = 0;
      childKeys = new Set();
      continue;
    }
    if (!parent || (indent !== 0 && depth !== indent) || childKeys.has(key)) return undefined;
    indent = depth;
    childKeys.add(key);
    (parent.map ??= []).push(entry);
  }
  flatYamlReadCount++;
  return { entries };
}

/**
 * Parse a YAML config file for `etcd --config-file`, keeping only what etcd 3.4.23 reads: anything else
 * (newer keys such as `tls-min-version`, `allowed-hostname`, CRL keys, typos) is listed as ignored,
 * because etcd ignores it without a word. `full` forces the yaml package (tests compare both readers).
 */
export function parseEtcdYaml(text: string, file: string, options: { full?: boolean } = {}): EtcdConfigSource {
  const src = emptySource('yaml', file);
  const lineAt = lineFinder(text);
  const read = (options.full ? undefined : readFlatYaml(text)) ?? readYamlDocument(text, lineAt);
  const origin = (name: string, line: number | undefined): SettingOrigin => ({ kind: 'yaml', file, ...(line === undefined ? {} : { line }), name });
  if ('problem' in read) {
    src.problems.push({ origin: origin('YAML', read.problem.line), message: read.problem.message });
    return src;
  }
  const ignore = (name: string, value: string | undefined, line: number | undefined): void => {
    const note = YAML_KEY_NOTES[name] ?? (ETCD_34_FLAGS.has(name) ? 'etcd 3.4 reads it only as a flag or ETCD_* variable' : undefined);
    src.ignored.push({ origin: origin(name, line), value: value ?? '', reason: 'not-in-yaml', ...(note ? { note } : {}) });
  };
  for (const { key, line, value, map } of read.entries) {
    const role = key === 'client-transport-security' ? 'client' : key === 'peer-transport-security' ? 'peer' : undefined;
    if (role) {
      for (const inner of map ?? []) {
        const name = `${key}.${inner.key}`;
        const flag = SECURITY_KEYS[role][inner.key];
        if (!flag) ignore(name, inner.value, inner.line);
        else if (inner.value !== undefined && inner.value !== '') src.settings.push({ flag, value: inner.value, origin: origin(name, inner.line) });
      }
      continue;
    }
    if (!YAML_34_KEYS.has(key)) ignore(key, value, line);
    else if (value !== undefined && value !== '') src.settings.push({ flag: key, value, origin: origin(key, line) });
  }
  return src;
}

// ---------------------------------------------------------------------------------------------------
// Merging

/**
 * Merge sources the way etcd 3.4 does. A YAML source wins outright (etcd then ignores every flag and
 * variable). Otherwise a flag overrides its ETCD_* variable, and the pair is a conflict, because etcd
 * 3.4 exits on it; an empty variable counts as unset, as in etcd.
 */
export function mergeEtcdConfig(sources: readonly EtcdConfigSource[]): EtcdConfig {
  const ignored = sources.flatMap((s) => s.ignored);
  const problems = sources.flatMap((s) => s.problems);
  const files = [...new Set(sources.map((s) => s.file))];
  const yaml = sources.find((s) => s.kind === 'yaml');
  const settings = new Map<string, EtcdSetting>();
  const conflicts: EtcdConfig['conflicts'] = [];
  if (yaml) {
    for (const s of yaml.settings) settings.set(s.flag, s);
    for (const src of sources) {
      if (src === yaml) continue;
      for (const s of src.settings) {
        if (s.flag !== 'config-file') ignored.push({ origin: s.origin, value: s.value, reason: 'shadowed-by-config-file' });
      }
    }
    return { settings, conflicts, ignored, problems, configFile: yaml.file, files };
  }
  const env = new Map<string, EtcdSetting>();
  for (const src of sources) for (const s of src.settings) if (s.origin.kind === 'env') env.set(s.flag, s);
  for (const s of env.values()) if (s.value !== '') settings.set(s.flag, s);
  const flagged = new Set<string>();
  for (const src of sources) {
    for (const s of src.settings) {
      if (s.origin.kind !== 'flag') continue;
      settings.set(s.flag, s);
      const e = env.get(s.flag);
      if (e && !flagged.has(s.flag)) conflicts.push({ env: e, flag: s });
      flagged.add(s.flag);
    }
  }
  return { settings, conflicts, ignored, problems, files };
}

/** Go's strconv.ParseBool, which etcd's boolean flags use; undefined for anything else. */
export function parseGoBool(value: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  return undefined;
}
