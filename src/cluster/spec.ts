/**
 * The cluster spec: one YAML or JSON file describing the CA, the members and the clients. Parsing
 * validates the shape with zod, then checks what a schema cannot (addresses, duplicates, ports) and
 * returns a normalized `ClusterSpec` with every default filled in. Every problem is one line:
 * `<file>: <path.to.field>: <problem>`.
 */
// pki/san's classifier, not node:net: loading node:net costs ~4 ms of every start.
import { buildName } from '../pki/name.js';
import { ipAddressProblem, ipVersion, normalizeIp } from '../pki/san.js';
import { controlCharacterIn, MAX_TEXT } from '../pki/text.js';
import { isAlias, isCollection, LineCounter, parseDocument, visit, type Document } from 'yaml';
import { readYamlSubset } from './syntax/yaml-subset.js';
// zod/mini: the same validation as classic zod at a sixteenth of the bundled size (45 kB, not 740 kB),
// which `gen` pays on every start.
import * as z from 'zod/mini';
import { $ZodArray, $ZodDiscriminatedUnion, $ZodObject, $ZodOptional, type $ZodIssue, type $ZodType, type SomeType } from 'zod/v4/core';
import { fail, type ErrorCode } from '../errors.js';
import type { KeySpec } from '../pki/keys.js';
import {
  DEFAULT_CA_VALIDITY,
  DEFAULT_CLIENT_PORT,
  DEFAULT_KEY,
  DEFAULT_LEAF_VALIDITY,
  DEFAULT_PEER_PORT,
} from './defaults.js';

export type { KeySpec } from '../pki/keys.js';

/** A cfssl `names` entry for the CA subject. */
export interface NameEntry {
  C?: string;
  ST?: string;
  L?: string;
  O?: string;
  OU?: string;
  /** Custom attributes by dotted OID, as in cfssl's CSR JSON (checked by pki/name's buildName). */
  OID?: Record<string, string>;
}

export interface CaSpec {
  cn: string;
  names: NameEntry[];
  key: KeySpec;
  validity: string;
}

export interface MemberSpec {
  name: string;
  /** Canonical text (IPv6 compressed, lower case), deduplicated, in spec order. */
  ips: string[];
  /** Lower case, deduplicated. */
  dns: string[];
  /** Extra SANs: IPs (canonical) or DNS names (lower case, `*.` wildcards allowed). */
  sans: string[];
  clientPort: number;
  peerPort: number;
  key: KeySpec;
  validity: string;
}

export interface ClientSpec {
  name: string;
  cn: string;
  o: string[];
  key: KeySpec;
  validity: string;
}

/** A validated spec with every default applied. */
export interface ClusterSpec {
  cluster: string;
  ca: CaSpec;
  members: MemberSpec[];
  clients: ClientSpec[];
}

/** Cluster, member and client names: a DNS label, so also a safe directory name. */
export const NAME_PATTERN = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
/** Go durations plus d and y; only the syntax is checked here, the CA engine parses the value. */
export const DURATION_PATTERN = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h|d|y))+$/;

/** `.optional().describe(text)` of classic zod: the description sits on the optional wrapper. */
const optional = <T extends SomeType>(schema: T, description?: string) => {
  const wrapped = z.optional(schema);
  return description === undefined ? wrapped : wrapped.check(z.describe(description));
};

/**
 * The zod schema of the spec as written (before defaults); `specJsonSchema()` publishes it. Built on
 * first use: a plain spec (plainSpec below) never needs it, and building it cost ~3-5 ms of every
 * plan and gen start.
 */
function buildSpecSchema() {
  const PORT_PROBLEM = 'is not a port number (1-65535)';
  const name = (what: string) =>
    z.string().check(
      z.regex(NAME_PATTERN, { error: 'is not a valid name: use 1-63 lowercase letters, digits and "-", not starting or ending with "-"' }),
      z.describe(`${what}: a DNS label (lowercase letters, digits, "-"); also used as a directory name`),
    );
  const text = z.string().check(z.minLength(1, { error: 'must not be empty' }));
  const port = z.int({ error: PORT_PROBLEM }).check(z.minimum(1, { error: PORT_PROBLEM }), z.maximum(65535, { error: PORT_PROBLEM }));
  const duration = z
    .string()
    .check(
      z.regex(DURATION_PATTERN, { error: 'is not a duration like 8760h, 90m, 365d or 10y' }),
      z.describe('Go-style duration (8760h, 90m, 1h30m) or days/years (365d, 10y)'),
    );
  const hosts = (what: string) => z.array(z.string()).check(z.describe(what));
  const keySpec = z
    .discriminatedUnion(
      'algo',
      [
        z.strictObject({ algo: z.literal('ecdsa'), size: optional(z.literal([256, 384, 521], { error: 'is not an ECDSA size (256, 384 or 521)' })) }),
        z.strictObject({ algo: z.literal('rsa'), size: optional(z.literal([2048, 3072, 4096], { error: 'is not an RSA size (2048, 3072 or 4096)' })) }),
        z.strictObject({ algo: z.literal('ed25519'), size: optional(z.literal(0, { error: 'must be 0 or absent: ed25519 keys have no size' })) }),
      ],
      { error: (iss) => (iss.code === 'invalid_union' ? 'is not a key algorithm (use ecdsa, rsa or ed25519)' : undefined) },
    )
    .check(z.describe('cfssl-style key spec; size defaults to 256 for ecdsa and 2048 for rsa'));

  const nameEntry = z.strictObject({
    C: optional(text),
    ST: optional(text),
    L: optional(text),
    O: optional(text),
    OU: optional(text),
    OID: optional(z.record(z.string(), text), 'custom subject attributes by dotted OID, e.g. {"1.3.6.1.4.1.32473.1": "value"}'),
  });

  const member = z.strictObject({
    name: name('member name'),
    ips: optional(hosts('IPv4/IPv6 addresses of the member; the first is advertised')),
    dns: optional(hosts('DNS names of the member; the first is advertised when there is no ip')),
    sans: optional(hosts('extra SANs (IPs or DNS names, *.wildcards allowed) for its server and peer certificates')),
    clientPort: optional(port, `client port, default ${DEFAULT_CLIENT_PORT}`),
    peerPort: optional(port, `peer port, default ${DEFAULT_PEER_PORT}`),
    key: optional(keySpec),
    validity: optional(duration),
  });

  const client = z.strictObject({
    name: name('client name'),
    cn: optional(text, 'certificate CN (the etcd user when auth is on); default: the name'),
    o: optional(z.union([text, z.array(text)], { error: 'must be a string or a list of strings' }), 'organisation(s)'),
    key: optional(keySpec),
    validity: optional(duration),
  });

  return z
    .strictObject({
      $schema: optional(z.string(), 'optional JSON Schema reference, ignored'),
      cluster: name('cluster name; also the initial-cluster token'),
      ca: optional(
        z.strictObject({ cn: optional(text), names: optional(z.array(nameEntry)), key: optional(keySpec), validity: optional(duration) }),
        'the CA; cn defaults to "<cluster> etcd CA", validity to 87600h',
      ),
      defaults: optional(
        z.strictObject({ key: optional(keySpec), validity: optional(duration), clientPort: optional(port), peerPort: optional(port) }),
        'defaults for every member and client',
      ),
      members: z.array(member).check(z.minLength(1, { error: 'must list at least one member' })),
      clients: optional(z.array(client)),
    })
    .check(z.describe('etcd-tls cluster spec'));
}

let specSchemaBuilt: ReturnType<typeof buildSpecSchema> | undefined;
/** The schema, built once (exported for the tests that hold plainSpec to it). */
export const specSchema = (): ReturnType<typeof buildSpecSchema> => (specSchemaBuilt ??= buildSpecSchema());

type RawSpec = z.infer<ReturnType<typeof buildSpecSchema>>;
type RawKey = NonNullable<NonNullable<RawSpec['defaults']>['key']>;
type Path = readonly PropertyKey[];

// ---------------------------------------------------------------------------------------------
// The schema's fast path: a spec every field of which is plainly valid

/**
 * `data` itself when it is a spec the schema accepts as it stands, field by field: the keys the
 * schema knows, each value of the one type and range it allows. Anything else, and every spec with a
 * problem, is undefined and goes to zod, which describes the problem. Why: zod/mini's parse of a
 * 100-member spec and the building of its schema cost ~5-8 ms of every plan and gen start.
 * test/unit/spec-plain.test.ts holds it to zod's verdict and output on thousands of specs.
 */
export function plainSpec(data: unknown): RawSpec | undefined {
  if (!isRecord(data) || !hasOnlyKeys(data, SPEC_KEYS)) return undefined;
  if ('$schema' in data && typeof data.$schema !== 'string') return undefined;
  if (!isName(data.cluster)) return undefined;
  if ('ca' in data) {
    const ca = data.ca;
    // names (subject attributes, custom OIDs) are rare: zod checks them.
    if (!isRecord(ca) || !hasOnlyKeys(ca, CA_KEYS) || 'names' in ca) return undefined;
    if (('cn' in ca && !isText(ca.cn)) || !optionalKeyAndValidity(ca)) return undefined;
  }
  if ('defaults' in data) {
    const d = data.defaults;
    if (!isRecord(d) || !hasOnlyKeys(d, DEFAULTS_KEYS) || !optionalKeyAndValidity(d) || !optionalPorts(d)) return undefined;
  }
  const members = data.members;
  if (!Array.isArray(members) || members.length === 0) return undefined;
  for (let i = 0; i < members.length; i++) {
    const m: unknown = members[i];
    if (!isRecord(m) || !hasOnlyKeys(m, MEMBER_KEYS) || !isName(m.name) || !optionalKeyAndValidity(m) || !optionalPorts(m)) return undefined;
    for (const field of ['ips', 'dns', 'sans'] as const) if (field in m && !isStringList(m[field], false)) return undefined;
  }
  if ('clients' in data) {
    const clients = data.clients;
    if (!Array.isArray(clients)) return undefined;
    for (let i = 0; i < clients.length; i++) {
      const c: unknown = clients[i];
      if (!isRecord(c) || !hasOnlyKeys(c, CLIENT_KEYS) || !isName(c.name) || !optionalKeyAndValidity(c)) return undefined;
      if ('cn' in c && !isText(c.cn)) return undefined;
      if ('o' in c && !isText(c.o) && !isStringList(c.o, true)) return undefined;
    }
  }
  return data as RawSpec;
}

const SPEC_KEYS = new Set(['$schema', 'cluster', 'ca', 'defaults', 'members', 'clients']);
const CA_KEYS = new Set(['cn', 'names', 'key', 'validity']);
const DEFAULTS_KEYS = new Set(['key', 'validity', 'clientPort', 'peerPort']);
const MEMBER_KEYS = new Set(['name', 'ips', 'dns', 'sans', 'clientPort', 'peerPort', 'key', 'validity']);
const CLIENT_KEYS = new Set(['name', 'cn', 'o', 'key', 'validity']);
const KEY_SIZES: Record<string, readonly number[]> = { ecdsa: [256, 384, 521], rsa: [2048, 3072, 4096], ed25519: [0] };

/** A mapping as JSON.parse and the YAML readers make them: an ordinary object, not a list. */
function isRecord(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

function hasOnlyKeys(o: Record<string, unknown>, allowed: ReadonlySet<string>): boolean {
  // Own enumerable string keys, as zod's strictObject sees them; a key whose value is undefined is left to zod.
  for (const k in o) if (!Object.hasOwn(o, k) || !allowed.has(k) || o[k] === undefined) return false;
  return Object.getOwnPropertySymbols(o).length === 0;
}

const isName = (v: unknown): boolean => typeof v === 'string' && NAME_PATTERN.test(v);
const isText = (v: unknown): boolean => typeof v === 'string' && v.length > 0;
const isPort = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535;

function isStringList(v: unknown, nonEmpty: boolean): boolean {
  if (!Array.isArray(v)) return false;
  for (let i = 0; i < v.length; i++) {
    const item: unknown = v[i];
    if (typeof item !== 'string' || (nonEmpty && item.length === 0)) return false;
  }
  return true;
}

function optionalKeyAndValidity(o: Record<string, unknown>): boolean {
  if ('validity' in o && !(typeof o.validity === 'string' && DURATION_PATTERN.test(o.validity))) return false;
  if (!('key' in o)) return true;
  const key = o.key;
  if (!isRecord(key) || !hasOnlyKeys(key, KEY_FIELDS) || typeof key.algo !== 'string' || !Object.hasOwn(KEY_SIZES, key.algo)) return false;
  return !('size' in key) || (KEY_SIZES[key.algo] as readonly number[]).includes(key.size as number);
}
const KEY_FIELDS = new Set(['algo', 'size']);

const optionalPorts = (o: Record<string, unknown>): boolean => (!('clientPort' in o) || isPort(o.clientPort)) && (!('peerPort' in o) || isPort(o.peerPort));

/** The JSON Schema of the spec file (draft 2020-12), as committed in schema/spec.schema.json. */
export function specJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(specSchema(), { io: 'input' }),
    title: 'etcd-tls cluster spec',
  };
}

/**
 * Parse and validate a spec (YAML or JSON text). `sourceName` starts every error message.
 *
 * @example
 *   const spec = parseSpec(readTextFile('cluster.yaml'), 'cluster.yaml');
 *   spec.members[0].clientPort; // 2379 unless the spec says otherwise
 */
export function parseSpec(text: string, sourceName: string): ClusterSpec {
  if (text.trim() === '') throw fail('EMPTY_INPUT', `${sourceName}: the spec is empty`);
  // Plain YAML is read without the `yaml` package (its cold parse is a third of a 100-member plan);
  // anything else, and every YAML error with its position, goes through `yaml`.
  const plain = readYamlSubset(text);
  if (plain !== undefined) return validateSpec(plain, sourceName);
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true, lineCounter });
  const badYaml = (offset: number | undefined, problem: string): Error => {
    const at = offset === undefined ? undefined : lineCounter.linePos(offset);
    return fail('BAD_SPEC', `${sourceName}: ${at ? `line ${at.line}, column ${at.col}: ` : ''}${problem}`);
  };
  const yamlError = doc.errors[0];
  if (yamlError) throw badYaml(yamlError.pos[0], (yamlError.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, ''));
  rejectWhatToJsCannotMap(doc, badYaml);
  try {
    return validateSpec(doc.toJS({ maxAliasCount: 1000 }) as unknown, sourceName);
  } catch (e) {
    // yaml's own limit on alias expansion (a "billion laughs" document); everything else is ours.
    if (e instanceof ReferenceError) throw badYaml(undefined, e.message);
    throw e;
  }
}

/**
 * What yaml's toJS would get wrong without a word: an alias to no anchor (a ReferenceError) and a
 * mapping key that is itself a list or mapping (stringified, with a Node warning on stderr). Neither
 * has a meaning in a spec, so each is one BAD_SPEC line with its position.
 */
function rejectWhatToJsCannotMap(doc: Document, badYaml: (offset: number | undefined, problem: string) => Error): void {
  visit(doc, {
    Alias(_, alias) {
      if (alias.resolve(doc) === undefined) throw badYaml(alias.range?.[0], `*${alias.source} refers to no anchor &${alias.source} before it`);
    },
    Pair(_, pair) {
      const key = pair.key;
      if (isCollection(key) || (isAlias(key) && isCollection(key.resolve(doc)))) throw badYaml(key.range?.[0], 'a key must be a plain word, not a list or mapping');
    },
  });
}

/** Validate an already-parsed spec value (what `parseSpec` does after YAML). */
/**
 * The most members a spec may list. etcd's guidance is 3, 5 or 7 (every write waits for a majority);
 * each member's etcd.env, etcd.yaml and etcd.service list the whole cluster, so 1,000 members are
 * already ~3,000 files of ~50 KB. 10,000 ran V8 out of heap; clients are not limited (10,000 are fine).
 */
export const MAX_MEMBERS = 1000;

/** etcd's guidance on cluster size, as warnings: more than 7 members, or an even count. */
export function memberCountWarnings(spec: Pick<ClusterSpec, 'members'>): string[] {
  const n = spec.members.length;
  const out: string[] = [];
  if (n > 7) out.push(`members: ${n} members; etcd recommends at most 7 (every write waits for a majority, so more members make writes slower and add no useful fault tolerance)`);
  if (n % 2 === 0)
    out.push(`members: ${n} members, an even count: it tolerates ${n / 2 - 1} failure${n / 2 - 1 === 1 ? '' : 's'}, no more than ${n - 1} members would (etcd recommends 3, 5 or 7)`);
  return out;
}

export function validateSpec(data: unknown, sourceName: string): ClusterSpec {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw fail('BAD_SPEC', `${sourceName}: must be a mapping with cluster, ca, members and clients (got ${kindOf(data)})`);
  }
  rejectUnprintable(data, [], (code, path, problem) => fail(code, `${sourceName}: ${formatPath(path)}: ${problem}`));
  const raw = plainSpec(data) ?? parseWithSchema(data, sourceName);
  if (raw.members.length > MAX_MEMBERS)
    throw fail(
      'TOO_MANY_MEMBERS',
      `${sourceName}: members: ${raw.members.length} members; etcd-tls generates at most ${MAX_MEMBERS} (every member's config lists every member, so the output grows with the square; etcd itself recommends 3, 5 or 7)`,
    );
  const spec = normalize(raw);
  checkSpec(spec, raw, (code, path, problem) => fail(code, `${sourceName}: ${formatPath(path)}: ${problem}`));
  buildName({ CN: spec.ca.cn, names: spec.ca.names }, `${sourceName}: ca`); // the CA subject's own rules (country codes, OIDs), naming the file
  return spec;
}

/** zod's parse: every spec plainSpec does not vouch for, and the one place a problem is described. */
function parseWithSchema(data: unknown, sourceName: string): RawSpec {
  const result = specSchema().safeParse(data);
  if (!result.success) {
    // A misspelt key also makes the key it meant "required"; the unknown key is the better report.
    const issues = result.error.issues;
    const issue = (issues.find((i) => i.code === 'unrecognized_keys') ?? issues[0]) as $ZodIssue;
    throw fail('BAD_SPEC', `${sourceName}: ${describeIssue(issue, data)}`);
  }
  return result.data;
}

// ---------------------------------------------------------------------------------------------
// Normalization

function normalizeKey(key: RawKey | undefined, fallback: KeySpec): KeySpec {
  if (!key) return fallback;
  if (key.algo === 'ed25519') return { algo: 'ed25519', size: 0 };
  return { algo: key.algo, size: key.size ?? (key.algo === 'rsa' ? 2048 : 256) };
}

const unique = (items: readonly string[]): string[] => [...new Set(items)];
const asList = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

function normalize(raw: RawSpec): ClusterSpec {
  const d = raw.defaults ?? {};
  const leafKey = normalizeKey(d.key, { ...DEFAULT_KEY });
  const leafValidity = d.validity ?? DEFAULT_LEAF_VALIDITY;
  return {
    cluster: raw.cluster,
    ca: {
      cn: raw.ca?.cn ?? `${raw.cluster} etcd CA`,
      names: raw.ca?.names ?? [],
      key: normalizeKey(raw.ca?.key, { ...DEFAULT_KEY }),
      validity: raw.ca?.validity ?? DEFAULT_CA_VALIDITY,
    },
    members: raw.members.map((m) => ({
      name: m.name,
      ips: unique((m.ips ?? []).map(canonicalHost)),
      dns: unique((m.dns ?? []).map(canonicalHost)),
      sans: unique((m.sans ?? []).map(canonicalHost)),
      clientPort: m.clientPort ?? d.clientPort ?? DEFAULT_CLIENT_PORT,
      peerPort: m.peerPort ?? d.peerPort ?? DEFAULT_PEER_PORT,
      key: normalizeKey(m.key, leafKey),
      validity: m.validity ?? leafValidity,
    })),
    clients: (raw.clients ?? []).map((c) => ({
      name: c.name,
      cn: c.cn ?? c.name,
      o: asList(c.o),
      key: normalizeKey(c.key, leafKey),
      validity: c.validity ?? leafValidity,
    })),
  };
}

/** Canonical form of an address so duplicates compare equal; invalid input is left for checkSpec to report. */
function canonicalHost(host: string): string {
  if (ipVersion(host) === 6 && !host.includes('%')) return normalizeIp(host);
  return ipVersion(host) ? host : host.toLowerCase();
}

// ---------------------------------------------------------------------------------------------
// Checks a schema cannot express

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Why `host` is not an RFC 1123 DNS name, or undefined when it is one. */
export function dnsNameProblem(host: string, allowWildcard = false): string | undefined {
  if (ipVersion(host)) return 'is an IP address, not a DNS name';
  let rest = host.toLowerCase();
  if (rest.startsWith('*.')) {
    if (!allowWildcard) return 'is a wildcard; wildcards are only allowed in sans';
    rest = rest.slice(2);
  }
  if (rest.length === 0 || rest.length > 253) return 'is not a valid DNS name (1 to 253 characters)';
  const labels = rest.split('.');
  for (const label of labels) {
    if (label === '') return 'is not a valid DNS name (empty label)';
    if (label.length > 63) return `is not a valid DNS name (label "${label}" is longer than 63 characters)`;
    if (!LABEL.test(label)) return `is not a valid DNS name (label "${label}" must be letters, digits and "-", not starting or ending with "-")`;
  }
  // RFC 3696 §2: a top-level label is never all-numeric, so "10.0.0.300" is a mistyped IP, not a name.
  if (/^\d+$/.test(labels[labels.length - 1] as string)) return 'is not a valid DNS name (all-numeric last label; a mistyped IP address?)';
  return undefined;
}

function ipProblem(host: string): string | undefined {
  if (ipVersion(host) === 0) return 'is not an IPv4 or IPv6 address';
  if (host.includes('%')) return 'has an IPv6 zone id, which a certificate cannot carry';
  return ipAddressProblem(canonicalHost(host));
}

/**
 * Every string anywhere in the spec, keys included, before any other check: a control character
 * (a newline in a cn ends up in a comment line of a file users source) or an absurd length is one
 * error naming its field, whatever field it is in.
 */
function rejectUnprintable(value: unknown, path: Path, err: Fail): void {
  // The usual spec has nothing to report: found without building a path for each of its values.
  if (allPrintable(value)) return;
  reportUnprintable(value, path, err);
}

function allPrintable(value: unknown): boolean {
  if (typeof value === 'string') return value.length <= MAX_TEXT && controlCharacterIn(value) === undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!allPrintable(value[i])) return false;
  } else if (value !== null && typeof value === 'object') {
    for (const k of Object.keys(value)) if (!allPrintable(k) || !allPrintable((value as Record<string, unknown>)[k])) return false;
  }
  return true;
}

/** The first string that is too long or holds a control character, as an error naming its field. */
function reportUnprintable(value: unknown, path: Path, err: Fail): void {
  if (typeof value === 'string') {
    if (value.length > MAX_TEXT) throw err('TOO_LONG', path, `is ${value.length} characters long; the limit is ${MAX_TEXT}`);
    const control = controlCharacterIn(value);
    if (control) throw err('CONTROL_CHARACTER', path, `contains a control character (${control}); names and addresses must be printable text`);
  } else if (Array.isArray(value)) value.forEach((v, i) => reportUnprintable(v, [...path, i], err));
  else if (value !== null && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) {
      reportUnprintable(k, [...path, k.replace(/[\x00-\x1f\x7f-\x9f]/g, '?')], err);
      reportUnprintable(v, [...path, k], err);
    }
}

type Fail = (code: ErrorCode, path: Path, problem: string) => Error;

function checkSpec(spec: ClusterSpec, raw: RawSpec, err: Fail): void {
  const memberNames = new Map<string, number>();
  // The members seen so far on each address, to tell a duplicated member from co-located ones.
  const byAddress = new Map<string, number[]>();
  spec.members.forEach((m, i) => {
    const at = ['members', i];
    const seen = memberNames.get(m.name);
    if (seen !== undefined) throw err('DUPLICATE_MEMBER', [...at, 'name'], `"${m.name}" is already the name of members[${seen}]`);
    memberNames.set(m.name, i);

    const rawMember = raw.members[i] as RawSpec['members'][number];
    const rawIps = rawMember.ips ?? [];
    const rawDns = rawMember.dns ?? [];
    rawIps.forEach((ip, j) => {
      const problem = ipProblem(ip);
      if (problem) throw err('BAD_SPEC', [...at, 'ips', j], `${JSON.stringify(ip)} ${problem}`);
    });
    rawDns.forEach((host, j) => {
      const problem = ipVersion(host) ? 'is an IP address; list it under ips' : dnsNameProblem(host);
      if (problem) throw err('BAD_SPEC', [...at, 'dns', j], `${JSON.stringify(host)} ${problem}`);
    });
    (rawMember.sans ?? []).forEach((host, j) => {
      const problem = ipVersion(host) ? ipProblem(host) : dnsNameProblem(host, true) && 'is neither an IP address nor a valid DNS name';
      if (problem) throw err('BAD_SPEC', [...at, 'sans', j], `${JSON.stringify(host)} ${problem}`);
    });
    if (m.ips.length === 0 && m.dns.length === 0) {
      throw err('BAD_SPEC', at, `member "${m.name}" has no address: give it ips or dns (or both)`);
    }
    if (m.clientPort === m.peerPort) {
      throw err('PORT_COLLISION', [...at, 'peerPort'], `${m.peerPort} is also the clientPort of member "${m.name}"`);
    }

    const addresses: [string, Path][] = [
      ...m.ips.map((a): [string, Path] => [a, [...at, 'ips', rawIps.findIndex((r) => canonicalHost(r) === a)]]),
      ...m.dns.map((a): [string, Path] => [a, [...at, 'dns', rawDns.findIndex((r) => canonicalHost(r) === a)]]),
    ];
    for (const [address, path] of addresses) {
      const others = byAddress.get(address) ?? [];
      for (const o of others) checkCoLocation(spec, i, o, address, path, err);
      byAddress.set(address, [...others, i]);
    }
  });

  const clientNames = new Map<string, number>();
  spec.clients.forEach((c, i) => {
    const seen = clientNames.get(c.name);
    if (seen !== undefined) throw err('DUPLICATE_MEMBER', ['clients', i, 'name'], `"${c.name}" is already the name of clients[${seen}]`);
    clientNames.set(c.name, i);
  });
}

/**
 * Members `i` and `o` share `address`. That is fine when they are deliberately co-located on one host
 * with ports of their own; with the same ports it is the copy-paste duplicate it looks like.
 */
function checkCoLocation(spec: ClusterSpec, i: number, o: number, address: string, path: Path, err: Fail): void {
  const m = spec.members[i] as MemberSpec;
  const other = spec.members[o] as MemberSpec;
  if (m.clientPort === other.clientPort && m.peerPort === other.peerPort) {
    throw err('DUPLICATE_MEMBER', path, `${JSON.stringify(address)} is already the address of member "${other.name}" (members[${o}])`);
  }
  for (const field of ['clientPort', 'peerPort'] as const) {
    const clash = (['clientPort', 'peerPort'] as const).find((f) => other[f] === m[field]);
    if (clash) {
      throw err(
        'PORT_COLLISION',
        ['members', i, field],
        `${m[field]} on ${address} is already the ${clash} of member "${other.name}" (members[${o}])`,
      );
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Turning a zod issue into one line

/** `members[1].ips[0]` */
export function formatPath(path: Path): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join('') || '(top level)';
}

function valueAt(data: unknown, path: Path): unknown {
  let v = data;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

function kindOf(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `the string ${JSON.stringify(v)}`;
  return `${typeof v} ${String(v)}`;
}

const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  array: 'a list',
  object: 'a mapping',
  boolean: 'true or false',
};

function describeIssue(issue: $ZodIssue, data: unknown): string {
  const value = valueAt(data, issue.path);
  if (issue.code === 'unrecognized_keys') {
    const allowed = allowedKeys(issue.path, data);
    const hint = allowed.length ? ` (expected one of: ${allowed.join(', ')})` : '';
    return `${formatPath([...issue.path, issue.keys[0] ?? ''])}: unknown key${hint}`;
  }
  const where = formatPath(issue.path);
  if (value === undefined && (issue.code === 'invalid_type' || issue.code === 'invalid_union')) return `${where}: is required`;
  if (issue.code === 'invalid_type' && issue.message.startsWith('Invalid input')) {
    return `${where}: must be ${EXPECTED[issue.expected] ?? issue.expected}, not ${kindOf(value)}`;
  }
  const scalar = value !== null && typeof value !== 'object';
  return `${where}: ${scalar ? `${JSON.stringify(value)} ` : ''}${issue.message}`;
}

/** The keys the schema allows at `path`, for the "unknown key" hint. */
function allowedKeys(path: Path, data: unknown): string[] {
  let schema: $ZodType = specSchema();
  for (let i = 0; i <= path.length; i++) {
    while (schema instanceof $ZodOptional) schema = schema._zod.def.innerType;
    if (schema instanceof $ZodDiscriminatedUnion) {
      const algo = (valueAt(data, path.slice(0, i)) as { algo?: unknown } | undefined)?.algo;
      const options = schema._zod.def.options as $ZodObject[];
      schema = options.find((o) => o._zod.def.shape.algo?._zod.values?.has(algo as never)) ?? (options[0] as $ZodObject);
    }
    if (i === path.length) break;
    if (schema instanceof $ZodArray) schema = schema._zod.def.element;
    else if (schema instanceof $ZodObject) schema = schema._zod.def.shape[String(path[i])] as $ZodType;
    else return [];
  }
  return schema instanceof $ZodObject ? Object.keys(schema._zod.def.shape).filter((k) => k !== '$schema') : [];
}
