/**
 * The cluster spec: one YAML or JSON file describing the CA, the members and the clients. Parsing
 * validates the shape with zod, then checks what a schema cannot (addresses, duplicates, ports) and
 * returns a normalized `ClusterSpec` with every default filled in. Every problem is one line:
 * `<file>: <path.to.field>: <problem>`.
 */
import { isIP } from 'node:net';
import { parseDocument } from 'yaml';
import { z } from 'zod';
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

const PORT_PROBLEM = 'is not a port number (1-65535)';
const name = (what: string) =>
  z
    .string()
    .regex(NAME_PATTERN, { error: 'is not a valid name: use 1-63 lowercase letters, digits and "-", not starting or ending with "-"' })
    .describe(`${what}: a DNS label (lowercase letters, digits, "-"); also used as a directory name`);
const text = z.string().min(1, { error: 'must not be empty' });
const port = z.int({ error: PORT_PROBLEM }).min(1, { error: PORT_PROBLEM }).max(65535, { error: PORT_PROBLEM });
const duration = z
  .string()
  .regex(DURATION_PATTERN, { error: 'is not a duration like 8760h, 90m, 365d or 10y' })
  .describe('Go-style duration (8760h, 90m, 1h30m) or days/years (365d, 10y)');
const hosts = (what: string) => z.array(z.string()).describe(what);

const keySpec = z
  .discriminatedUnion(
    'algo',
    [
      z.strictObject({ algo: z.literal('ecdsa'), size: z.literal([256, 384, 521], { error: 'is not an ECDSA size (256, 384 or 521)' }).optional() }),
      z.strictObject({ algo: z.literal('rsa'), size: z.literal([2048, 3072, 4096], { error: 'is not an RSA size (2048, 3072 or 4096)' }).optional() }),
      z.strictObject({ algo: z.literal('ed25519'), size: z.literal(0, { error: 'must be 0 or absent: ed25519 keys have no size' }).optional() }),
    ],
    { error: (iss) => (iss.code === 'invalid_union' ? 'is not a key algorithm (use ecdsa, rsa or ed25519)' : undefined) },
  )
  .describe('cfssl-style key spec; size defaults to 256 for ecdsa and 2048 for rsa');

const nameEntry = z.strictObject({ C: text.optional(), ST: text.optional(), L: text.optional(), O: text.optional(), OU: text.optional() });

const member = z.strictObject({
  name: name('member name'),
  ips: hosts('IPv4/IPv6 addresses of the member; the first is advertised').optional(),
  dns: hosts('DNS names of the member; the first is advertised when there is no ip').optional(),
  sans: hosts('extra SANs (IPs or DNS names, *.wildcards allowed) for its server and peer certificates').optional(),
  clientPort: port.optional().describe(`client port, default ${DEFAULT_CLIENT_PORT}`),
  peerPort: port.optional().describe(`peer port, default ${DEFAULT_PEER_PORT}`),
  key: keySpec.optional(),
  validity: duration.optional(),
});

const client = z.strictObject({
  name: name('client name'),
  cn: text.optional().describe('certificate CN (the etcd user when auth is on); default: the name'),
  o: z.union([text, z.array(text)], { error: 'must be a string or a list of strings' }).optional().describe('organisation(s)'),
  key: keySpec.optional(),
  validity: duration.optional(),
});

/** The zod schema of the spec as written (before defaults); `specJsonSchema()` publishes it. */
export const SPEC_SCHEMA = z
  .strictObject({
    $schema: z.string().optional().describe('optional JSON Schema reference, ignored'),
    cluster: name('cluster name; also the initial-cluster token'),
    ca: z
      .strictObject({ cn: text.optional(), names: z.array(nameEntry).optional(), key: keySpec.optional(), validity: duration.optional() })
      .optional()
      .describe('the CA; cn defaults to "<cluster> etcd CA", validity to 87600h'),
    defaults: z
      .strictObject({ key: keySpec.optional(), validity: duration.optional(), clientPort: port.optional(), peerPort: port.optional() })
      .optional()
      .describe('defaults for every member and client'),
    members: z.array(member).min(1, { error: 'must list at least one member' }),
    clients: z.array(client).optional(),
  })
  .describe('etcd-tls cluster spec');

type RawSpec = z.infer<typeof SPEC_SCHEMA>;
type RawKey = z.infer<typeof keySpec>;
type Path = readonly PropertyKey[];

/** The JSON Schema of the spec file (draft 2020-12), as committed in schema/spec.schema.json. */
export function specJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(SPEC_SCHEMA, { io: 'input' }),
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
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  const yamlError = doc.errors[0];
  if (yamlError) {
    const where = yamlError.linePos ? `line ${yamlError.linePos[0].line}, column ${yamlError.linePos[0].col}: ` : '';
    const problem = (yamlError.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
    throw fail('BAD_SPEC', `${sourceName}: ${where}${problem}`);
  }
  return validateSpec(doc.toJS({ maxAliasCount: 1000 }) as unknown, sourceName);
}

/** Validate an already-parsed spec value (what `parseSpec` does after YAML). */
export function validateSpec(data: unknown, sourceName: string): ClusterSpec {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw fail('BAD_SPEC', `${sourceName}: must be a mapping with cluster, ca, members and clients (got ${kindOf(data)})`);
  }
  const result = SPEC_SCHEMA.safeParse(data);
  if (!result.success) {
    // A misspelt key also makes the key it meant "required"; the unknown key is the better report.
    const issues = result.error.issues;
    const issue = (issues.find((i) => i.code === 'unrecognized_keys') ?? issues[0]) as z.core.$ZodIssue;
    throw fail('BAD_SPEC', `${sourceName}: ${describeIssue(issue, data)}`);
  }
  const spec = normalize(result.data);
  checkSpec(spec, result.data, (code, path, problem) => fail(code, `${sourceName}: ${formatPath(path)}: ${problem}`));
  return spec;
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
  if (isIP(host) === 6 && !host.includes('%')) return new URL(`http://[${host}]/`).hostname.slice(1, -1);
  return isIP(host) ? host : host.toLowerCase();
}

// ---------------------------------------------------------------------------------------------
// Checks a schema cannot express

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Why `host` is not an RFC 1123 DNS name, or undefined when it is one. */
export function dnsNameProblem(host: string, allowWildcard = false): string | undefined {
  if (isIP(host)) return 'is an IP address, not a DNS name';
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
  if (isIP(host) === 0) return 'is not an IPv4 or IPv6 address';
  if (host.includes('%')) return 'has an IPv6 zone id, which a certificate cannot carry';
  return undefined;
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
      const problem = isIP(host) ? 'is an IP address; list it under ips' : dnsNameProblem(host);
      if (problem) throw err('BAD_SPEC', [...at, 'dns', j], `${JSON.stringify(host)} ${problem}`);
    });
    (rawMember.sans ?? []).forEach((host, j) => {
      const problem = isIP(host) ? ipProblem(host) : dnsNameProblem(host, true) && 'is neither an IP address nor a valid DNS name';
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

function describeIssue(issue: z.core.$ZodIssue, data: unknown): string {
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
  let schema: z.core.$ZodType = SPEC_SCHEMA;
  for (let i = 0; i <= path.length; i++) {
    while (schema instanceof z.ZodOptional) schema = schema.unwrap();
    if (schema instanceof z.ZodDiscriminatedUnion) {
      const algo = (valueAt(data, path.slice(0, i)) as { algo?: unknown } | undefined)?.algo;
      const options = schema.options as z.ZodObject[];
      schema = options.find((o) => (o.shape.algo as z.ZodLiteral).values.has(algo as never)) ?? (options[0] as z.ZodObject);
    }
    if (i === path.length) break;
    if (schema instanceof z.ZodArray) schema = schema.element as z.core.$ZodType;
    else if (schema instanceof z.ZodObject) schema = (schema.shape as Record<string, z.core.$ZodType>)[String(path[i])] as z.core.$ZodType;
    else return [];
  }
  return schema instanceof z.ZodObject ? Object.keys(schema.shape).filter((k) => k !== '$schema') : [];
}
