/**
 * cfssl's signing configuration (`-config ca-config.json`), turned into the pki layer's Profile data.
 *
 * Same schema and rules as cfssl 1.2.0 (config/config.go): keys match case-insensitively, `signing`
 * is required, every local profile needs a known usage, only expiry / ocsp_url / crl_url /
 * issuer_urls fall back to the default profile. Stricter where cfssl is silent: unknown keys and
 * usage strings are warnings, an unknown profile name is an error (see selectProfile).
 */
import { fail } from '../errors.js';
import { oidProblem } from '../pki/der.js';
import { parseDuration } from '../pki/duration.js';
import { parseUsages, type PolicyInfo } from '../pki/extensions.js';
import { CFSSL_DEFAULT_PROFILE, DEFAULT_BACKDATE_MS, type NamePattern, type Profile } from '../pki/profile.js';
import { checkText, MAX_URI } from '../pki/text.js';
import { RE2JS } from 're2js';
import { readTextFile } from '../store/files.js';
import { jsonType, ObjectReader, type Warn } from './fields.js';
import { parseJson, type JsonObject, type JsonValue } from './json.js';

export interface ConfigProfile {
  profile: Profile;
  /** Set when the profile forwards to a remote signer, which etcd-tls does not do. */
  remote?: string;
  /** Where the profile is defined, for messages: `ca-config.json: signing.profiles.server`. */
  where: string;
  /** Names in `auth_keys` whose HMAC a signing server requires for this profile (auth_key, prev_auth_key). */
  authKeys?: string[];
  /** The key a client signs its authsign requests with (`auth_remote.auth_key`, else `auth_key`). */
  clientAuthKey?: string;
}

export interface SigningConfig {
  source: string;
  default: ConfigProfile;
  /** Whether the file had a `signing.default` (else cfssl's built-in default is used). */
  hasDefault: boolean;
  profiles: Map<string, ConfigProfile>;
  authKeys: Map<string, { type: string; key: string }>;
  remotes: Map<string, string>;
}

const PROFILE_FIELDS = [
  'usages',
  'issuer_urls',
  'ocsp_url',
  'crl_url',
  'ca_constraint',
  'ocsp_no_check',
  'expiry',
  'backdate',
  'auth_key',
  'prev_auth_key',
  'remote',
  'not_before',
  'not_after',
  'name_whitelist',
  'auth_remote',
  'policies',
];
const PROFILE_UNSUPPORTED = {
  ct_log_servers: 'certificates are not submitted to CT logs',
  allowed_extensions: 'sign requests carry no raw extensions here',
  cert_store: 'there is no certificate database',
  CSRWhitelist: 'CSR fields are always copied as validated',
  ClientProvidesSerialNumbers: 'serial numbers are always random',
  copy_extensions: 'CSR extensions other than SANs and basic constraints are not copied',
  lint_error_level: 'there is no pre-issuance linting',
  ignored_lints: 'there is no pre-issuance linting',
  ignored_lint_sources: 'there is no pre-issuance linting',
};

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

function readTime(r: ObjectReader, field: string): Date | undefined {
  const text = r.string(field);
  if (text === undefined) return undefined;
  const d = new Date(text);
  if (!RFC3339.test(text) || Number.isNaN(d.getTime()))
    throw fail('BAD_DURATION', `${r.where(field)}: "${text}" is not an RFC 3339 time (e.g. 2030-01-01T00:00:00Z)`);
  return d;
}

function readPolicies(r: ObjectReader): PolicyInfo[] | undefined {
  const list = r.objectList('policies');
  return list?.map((p) => {
    const id = p.string('ID');
    if (id === undefined) throw fail('MISSING_FIELD', `${p.where('ID')}: missing (the policy OID, e.g. 2.23.140.1.2.1)`);
    const problem = oidProblem(id);
    if (problem) throw fail('BAD_FIELD', `${p.where('ID')}: "${id}" ${problem}`);
    const qualifiers = p.objectList('Qualifiers')?.map((q) => {
      const type = q.string('type');
      const value = q.string('value') ?? '';
      q.finish(['type', 'value']);
      if (type !== 'id-qt-cps' && type !== 'id-qt-unotice')
        throw fail('BAD_CONFIG', `${q.where('type')}: "${type ?? ''}" must be id-qt-cps or id-qt-unotice`);
      return { type, value } as const;
    });
    p.finish(['ID', 'Qualifiers']);
    return qualifiers?.length ? { id, qualifiers } : { id };
  });
}

interface RawProfile {
  entry: ConfigProfile;
  /** Fields that cfssl fills from the default profile when the profile leaves them empty. */
  expiryMs?: number;
}

/**
 * name_whitelist with Go's regexp semantics, as cfssl: RE2 (re2js, a pure-JS port) matches in time
 * linear in the input, where JavaScript's backtracking engine took minutes on "(a+)+$". Unanchored,
 * as Go's MatchString.
 */
function compileWhitelist(pattern: string, where: string): NamePattern {
  let re: RE2JS;
  try {
    re = RE2JS.compile(pattern);
  } catch (e) {
    throw fail('BAD_CONFIG', `${where}: not a valid regular expression in RE2 syntax, which cfssl uses (${(e as Error).message})`);
  }
  return { source: pattern, test: (name) => re.matcher(name).find() };
}

/** A URL written into certificates: printable ASCII and parseable, so it reaches no certificate mangled. */
function checkProfileUrl(url: string, where: string): void {
  checkText(url, where, MAX_URI);
  let ok = /^[\x21-\x7e]+$/.test(url);
  try {
    new URL(url);
  } catch {
    ok = false;
  }
  if (!ok) throw fail('BAD_CONFIG', `${where}: "${url}" is not a valid URL (ASCII, no spaces, with a scheme such as http://)`);
}

function readProfile(r: ObjectReader, name: string, isDefault: boolean, cfg: { authKeys: Set<string>; remotes: Set<string> }): RawProfile {
  const where = r.where();
  const usageStrings = r.stringList('usages') ?? [];
  const usages = parseUsages(usageStrings);
  for (const u of usages.unknown) {
    const i = usageStrings.indexOf(u);
    r.warn(`${r.where(`usages[${i}]`)}: unknown usage "${u}"; ignored (cfssl drops it silently too)`);
  }
  const expiryText = r.string('expiry');
  const expiryMs = expiryText ? parseDuration(expiryText, r.where('expiry')) : undefined;
  const backdateText = r.string('backdate');
  // cfssl treats a zero backdate as "use the default".
  const backdateMs = backdateText && !/^0+(\.0*)?[a-zµ]*$/.test(backdateText) ? parseDuration(backdateText, r.where('backdate')) : DEFAULT_BACKDATE_MS;
  const notBefore = readTime(r, 'not_before');
  const notAfter = readTime(r, 'not_after');
  const ocsp = r.string('ocsp_url');
  const crl = r.string('crl_url');
  const issuerUrls = r.stringList('issuer_urls');
  const ocspNoCheck = r.boolean('ocsp_no_check');
  const whitelist = r.string('name_whitelist');
  const policies = readPolicies(r);
  const authKey = r.string('auth_key');
  const prevAuthKey = r.string('prev_auth_key');
  const remote = r.string('remote');
  const authRemote = r.object('auth_remote');
  const authRemoteName = authRemote?.string('remote');
  const authRemoteKey = authRemote?.string('auth_key');
  authRemote?.finish(['remote', 'auth_key']);

  const caReader = r.object('ca_constraint');
  const isCA = caReader?.boolean('is_ca') ?? false;
  const maxPathLen = caReader?.integer('max_path_len') ?? 0;
  const maxPathLenZero = caReader?.boolean('max_path_len_zero') ?? false;
  caReader?.finish(['is_ca', 'max_path_len', 'max_path_len_zero']);
  r.finish(PROFILE_FIELDS, PROFILE_UNSUPPORTED);

  const remoteName = remote || authRemoteName;
  if (remoteName && !cfg.remotes.has(remoteName))
    throw fail('BAD_CONFIG', `${r.where(remote ? 'remote' : 'auth_remote.remote')}: "${remoteName}" is not in "remotes"`);
  for (const [field, name] of [['auth_key', authKey], ['prev_auth_key', prevAuthKey], ['auth_remote.auth_key', authRemoteKey]] as const)
    if (name && !cfg.authKeys.has(name)) throw fail('BAD_CONFIG', `${r.where(field)}: "${name}" is not in "auth_keys"`);
  if (!remoteName && !isDefault && usages.keyUsage.length + usages.extKeyUsage.length === 0)
    throw fail('BAD_CONFIG', `${where}: ${usageStrings.length ? 'none of its usages is a usage cfssl knows' : 'has no "usages"'}; a profile needs at least one (e.g. "signing", "key encipherment", "server auth")`);
  if (!remoteName && isDefault && expiryMs === undefined)
    throw fail('MISSING_FIELD', `${r.where('expiry')}: missing; the default profile needs an expiry (a duration such as 8760h)`);
  if (notBefore && notAfter && notAfter <= notBefore)
    throw fail('BAD_CONFIG', `${where}: not_after ${notAfter.toISOString()} is not after not_before ${notBefore.toISOString()}`);
  if (maxPathLen < 0) throw fail('BAD_FIELD', `${r.where('ca_constraint.max_path_len')}: must not be negative, got ${maxPathLen}`);

  const nameWhitelist = whitelist ? compileWhitelist(whitelist, r.where('name_whitelist')) : undefined;
  for (const [field, url] of [['crl_url', crl], ['ocsp_url', ocsp], ...(issuerUrls ?? []).map((u, i) => [`issuer_urls[${i}]`, u])] as [string, string | undefined][])
    if (url) checkProfileUrl(url, r.where(field));

  const profile: Profile = {
    name,
    usages,
    expiryMs: expiryMs ?? 0,
    backdateMs,
    ...(notBefore ? { notBefore } : {}),
    ...(notAfter ? { notAfter } : {}),
    ...(isCA
      ? { caConstraint: { isCA: true, ...(maxPathLen > 0 ? { maxPathLen } : maxPathLenZero ? { maxPathLen: 0 } : {}) } }
      : {}),
    ...(crl ? { crlUrls: [crl] } : {}),
    ...(ocsp ? { ocspUrls: [ocsp] } : {}),
    ...(issuerUrls?.length ? { issuerUrls } : {}),
    ...(ocspNoCheck ? { ocspNoCheck: true } : {}),
    ...(policies?.length ? { policies } : {}),
    ...(nameWhitelist ? { nameWhitelist } : {}),
  };
  const serverKeys = [authKey, prevAuthKey].filter((k): k is string => Boolean(k));
  const clientKey = authRemoteKey || authKey;
  const entry: ConfigProfile = {
    profile,
    where,
    ...(remoteName ? { remote: remoteName } : {}),
    ...(serverKeys.length ? { authKeys: serverKeys } : {}),
    ...(clientKey ? { clientAuthKey: clientKey } : {}),
  };
  return { entry, ...(expiryMs !== undefined ? { expiryMs } : {}) };
}

function stringMap(r: ObjectReader | undefined, describe: (key: string, v: JsonValue) => string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of r?.entries() ?? []) out.set(k, describe(k, v));
  return out;
}

/**
 * Parse a cfssl config file's text. Warnings (unknown keys, unknown usages, remote signers) go to
 * `warn`; anything that would make signing wrong is an error naming the file and field.
 *
 * @example
 *   const config = parseSigningConfig(text, 'ca-config.json', io.warn);
 *   const profile = selectProfile(config, 'server');
 */
export function parseSigningConfig(text: string, source: string, warn: Warn): SigningConfig {
  const root = ObjectReader.root(parseJson(text, source), warn);
  const signing = root.object('signing');

  const authKeysReader = root.object('auth_keys');
  const authKeys = new Map<string, { type: string; key: string }>();
  for (const [name, v] of authKeysReader?.entries() ?? []) {
    if (v === null || typeof v !== 'object' || Array.isArray(v))
      throw fail('BAD_FIELD', `${authKeysReader?.where(name)}: expected an object, got ${jsonType(v)}`);
    const k = (authKeysReader as ObjectReader).child(name, v as JsonObject);
    authKeys.set(name, { type: k.string('type') ?? '', key: k.string('key') ?? '' });
    k.finish(['type', 'key']);
  }
  const remotesReader = root.object('remotes');
  const remotes = stringMap(remotesReader, (k, v) => {
    if (typeof v !== 'string') throw fail('BAD_FIELD', `${remotesReader?.where(k)}: expected a string (host:port), got ${jsonType(v)}`);
    return v;
  });
  root.object('ocsp'); // cfssl's OCSP responder settings: not used by signing.
  root.finish(['signing', 'auth_keys', 'remotes', 'ocsp']);
  if (!signing) throw fail('MISSING_FIELD', `${source}: signing: missing; a cfssl config puts "default" and "profiles" under "signing"`);
  if (remotes.size > 0) warn(`${root.where('remotes')}: profiles that name a remote sign only in -remote mode (gencert, sign, info), not with a local CA`);

  const refs = { authKeys: new Set(authKeys.keys()), remotes: new Set(remotes.keys()) };
  const defaultReader = signing.object('default');
  const profilesReader = signing.object('profiles');
  signing.finish(['default', 'profiles']);

  const def: RawProfile = defaultReader
    ? readProfile(defaultReader, 'default', true, refs)
    : { entry: { profile: CFSSL_DEFAULT_PROFILE, where: `${source}: signing.default (built in)` }, expiryMs: CFSSL_DEFAULT_PROFILE.expiryMs };
  const profiles = new Map<string, ConfigProfile>();
  for (const [name, v] of profilesReader?.entries() ?? []) {
    if (v === null) continue;
    if (typeof v !== 'object' || Array.isArray(v))
      throw fail('BAD_FIELD', `${profilesReader?.where(name)}: expected an object, got ${jsonType(v)}`);
    const raw = readProfile((profilesReader as ObjectReader).child(name, v), name, false, refs);
    profiles.set(name, withDefaults(raw, def));
  }
  return { source, default: def.entry, hasDefault: Boolean(defaultReader), profiles, authKeys, remotes };
}

/** cfssl's fallback: only expiry, OCSP, CRL and issuer URLs come from the default profile. */
function withDefaults(raw: RawProfile, def: RawProfile): ConfigProfile {
  const p = { ...raw.entry.profile };
  const d = def.entry.profile;
  if (raw.expiryMs === undefined) p.expiryMs = d.expiryMs;
  if (!p.ocspUrls && d.ocspUrls) p.ocspUrls = d.ocspUrls;
  if (!p.crlUrls && d.crlUrls) p.crlUrls = d.crlUrls;
  if (!p.issuerUrls && d.issuerUrls) p.issuerUrls = d.issuerUrls;
  return { ...raw.entry, profile: p };
}

/**
 * The profile to sign with. No name: the default profile. An unknown name is UNKNOWN_PROFILE listing
 * the profiles there are (cfssl silently signs with the default profile instead).
 */
export function selectProfile(config: SigningConfig | undefined, name: string | undefined, builtin: Profile = CFSSL_DEFAULT_PROFILE): Profile {
  return selectConfigProfile(config, name, builtin).profile;
}

/** selectProfile with the profile's auth keys (for the signing server): same errors. */
export function selectConfigProfile(config: SigningConfig | undefined, name: string | undefined, builtin: Profile = CFSSL_DEFAULT_PROFILE): ConfigProfile {
  let chosen: ConfigProfile;
  if (!name) {
    chosen = config ? config.default : { profile: builtin, where: 'the built-in default profile' };
  } else {
    const found = config?.profiles.get(name);
    if (!found) {
      const names = [...(config?.profiles.keys() ?? [])].sort();
      const there = config
        ? names.length
          ? `${config.source} has: ${names.join(', ')}`
          : `${config.source} defines no profiles, only signing.default`
        : 'no -config was given, so only the built-in default profile exists';
      throw fail('UNKNOWN_PROFILE', `-profile ${name}: no such profile (${there})`);
    }
    chosen = found;
  }
  if (chosen.remote)
    throw fail('BAD_CONFIG', `${chosen.where}: uses remote signer "${chosen.remote}"; it signs only in -remote mode (no -ca), not with a local CA`);
  const u = chosen.profile.usages;
  if (u.keyUsage.length + u.extKeyUsage.length === 0) {
    const names = [...(config?.profiles.keys() ?? [])].sort();
    throw fail(
      'NO_USAGES',
      `${chosen.where}: has no usages, so it cannot sign; ${names.length ? `pass -profile (${names.join(', ')}) or ` : ''}add "usages" to the default profile`,
    );
  }
  return chosen;
}

/** Read and parse a config file (`-config`). */
export function readSigningConfig(path: string, warn: Warn): SigningConfig {
  return parseSigningConfig(readTextFile(path, 'config file'), path, warn);
}

/** The profile the -config / -profile flags select (the built-in default when neither is given). */
export function loadProfile(configPath: string | undefined, name: string | undefined, warn: Warn, builtin: Profile = CFSSL_DEFAULT_PROFILE): Profile {
  return selectProfile(configPath === undefined ? undefined : readSigningConfig(configPath, warn), name, builtin);
}
