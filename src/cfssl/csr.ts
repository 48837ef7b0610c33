/**
 * cfssl's certificate request JSON (csr.CertificateRequest): what `gencert`, `genkey` and `selfsign`
 * read, and the subject override `sign` takes. Same fields and key matching as cfssl, stricter on
 * the rest: every value of a repeated name attribute is kept (with a warning), wrong types name the
 * field, and unknown keys are reported.
 */
import { fail } from '../errors.js';
import { DEFAULT_KEY_SPEC, validateKeySpec, type KeyAlgorithm, type KeySpec } from '../pki/keys.js';
import type { NameEntry, NameSpec, NameTextField } from '../pki/name.js';
import { parseDuration } from '../pki/duration.js';
import { jsonType, ObjectReader, type Warn } from './fields.js';
import { parseJson } from './json.js';

/** The `ca` section: only with -initca. */
export interface CaRequest {
  /** undefined: no pathlen constraint. */
  pathLen?: number;
  /** Validity of the CA certificate (cfssl default 43800h). */
  expiryMs?: number;
  backdateMs?: number;
}

/** A validated cfssl CSR JSON document. */
export interface CsrRequest {
  /** Names the input in messages. */
  source: string;
  subject: NameSpec;
  /** Host strings as written; classified into SANs by the flow (`-hostname` may replace them). */
  hosts: string[];
  key: KeySpec;
  ca?: CaRequest;
}

const NAME_FIELDS: [field: string, key: NameTextField][] = [
  ['C', 'C'],
  ['ST', 'ST'],
  ['L', 'L'],
  ['O', 'O'],
  ['OU', 'OU'],
  ['SerialNumber', 'SerialNumber'],
  ['E', 'E'],
  ['emailAddress', 'E'],
];

const CSR_FIELDS = ['CN', 'names', 'hosts', 'key', 'ca', 'serialnumber'];
const CSR_UNSUPPORTED = {
  crl_url: 'a CRL URL comes from the signing profile here',
  delegation_enabled: 'delegated credentials are not issued',
  extensions: 'arbitrary extensions are not copied into certificates',
};

/** One `names` entry. Repeated keys (the blog's two "OU"s) and lists keep every value. */
function readNameEntry(r: ObjectReader): NameEntry {
  const entry: NameEntry = {};
  for (const [field, key] of NAME_FIELDS) {
    const found = r.membersOf(field);
    if (found.length === 0) continue;
    if (found.length > 1) {
      const n = found.length === 2 ? 'both values' : `all ${found.length} values`;
      r.warn(`${r.where()}: duplicate key "${(found[0] as { key: string }).key}"; keeping ${n}`);
    }
    const values = found.filter((m) => m.value !== null).flatMap((m) => r.asStringList(m, true));
    if (values.length === 0) continue;
    const prior = entry[key];
    const merged = [...(prior === undefined ? [] : Array.isArray(prior) ? prior : [prior]), ...values];
    entry[key] = merged.length === 1 ? (merged[0] as string) : merged;
  }
  const oids = r.object('OID');
  if (oids) {
    // Go's map[string]string: exact keys, the last duplicate wins. The values are checked here for
    // their JSON type; the OIDs and texts by buildName, for every edge alike.
    const OID: Record<string, string> = {};
    for (const [key, value] of oids.entries()) {
      if (value === null) continue;
      if (typeof value !== 'string') throw fail('BAD_FIELD', `${oids.where(JSON.stringify(key))}: expected a string, got ${jsonType(value)}`);
      OID[key] = value;
    }
    if (Object.keys(OID).length > 0) entry.OID = OID;
  }
  r.finish([...NAME_FIELDS.map(([f]) => f), 'OID']);
  return entry;
}

/** `{"CN", "names", "SerialNumber"}`: a subject (also `sign`'s SUBJECT file and the API's `subject`). */
export function readSubject(r: ObjectReader): NameSpec {
  const subject: NameSpec = {};
  const cn = r.string('CN');
  if (cn !== undefined) subject.CN = cn;
  const names = r.objectList('names');
  if (names) subject.names = names.map(readNameEntry);
  const serial = r.string('serialnumber');
  if (serial !== undefined) subject.serialNumber = serial;
  return subject;
}

/** Duration fields of the `ca` section; a zero backdate means cfssl's default. */
function optionalDuration(r: ObjectReader, field: string): number | undefined {
  const text = r.string(field);
  if (text === undefined || text === '') return undefined;
  return parseDuration(text, r.where(field));
}

function readKey(r: ObjectReader): KeySpec {
  // cfssl merges a partial key object with its default (ecdsa, 256): {"size":384} is ecdsa-384.
  const algo = (r.string('algo') ?? DEFAULT_KEY_SPEC.algo).toLowerCase() as KeyAlgorithm;
  const size = r.integer('size');
  r.finish(['algo', 'size']);
  if (algo === 'rsa' && size === undefined)
    throw fail('BAD_KEY_SPEC', `${r.where('size')}: missing; an RSA key needs a size (2048, 3072 or 4096)`);
  return validateKeySpec({ algo, size: size ?? (algo === 'ecdsa' ? DEFAULT_KEY_SPEC.size : 0) }, r.where());
}

function readCa(r: ObjectReader): CaRequest {
  const pathlen = r.integer('pathlen');
  const pathlenzero = r.boolean('pathlenzero');
  const ca: CaRequest = {};
  const expiryMs = optionalDuration(r, 'expiry');
  const backdateMs = optionalDuration(r, 'backdate');
  r.finish(['pathlen', 'pathlenzero', 'expiry', 'backdate']);
  if (pathlen !== undefined && pathlen < 0) throw fail('BAD_FIELD', `${r.where('pathlen')}: must not be negative, got ${pathlen}`);
  // cfssl: pathlen 0 means "no constraint" unless pathlenzero says it really means 0.
  if (pathlen !== undefined && pathlen > 0) {
    ca.pathLen = pathlen;
    if (pathlenzero) r.warn(`${r.where('pathlenzero')}: ignored because pathlen is ${pathlen}`);
  } else if (pathlenzero) ca.pathLen = 0;
  if (expiryMs !== undefined) ca.expiryMs = expiryMs;
  if (backdateMs !== undefined) ca.backdateMs = backdateMs;
  return ca;
}

export interface CsrParseOptions {
  /** The `ca` section is only allowed when making a CA (-initca), as in cfssl. */
  initca: boolean;
  warn: Warn;
}

/**
 * Parse cfssl CSR JSON text. `source` names the input in every message.
 *
 * @example
 *   const req = parseCsrJson(text, 'ca-csr.json', { initca: true, warn: io.warn });
 */
export function parseCsrJson(text: string, source: string, opts: CsrParseOptions): CsrRequest {
  return readCsrRequest(ObjectReader.root(parseJson(text, source), opts.warn), source, opts);
}

/** CSR JSON already parsed: a whole document, or the `request` object of an API call. */
export function readCsrRequest(r: ObjectReader, source: string, opts: CsrParseOptions): CsrRequest {
  const subject = readSubject(r);
  const hosts = r.stringList('hosts') ?? [];
  const keyReader = r.object('key');
  const key = keyReader ? readKey(keyReader) : DEFAULT_KEY_SPEC;
  const caReader = r.object('ca');
  r.finish(CSR_FIELDS, CSR_UNSUPPORTED);
  const req: CsrRequest = { source, subject, hosts, key };
  if (caReader) {
    if (!opts.initca)
      throw fail('BAD_FIELD', `${caReader.where()}: a "ca" section is only permitted with -initca (it describes a new CA)`);
    req.ca = readCa(caReader);
  }
  return req;
}

/** `sign`'s SUBJECT file: `{"CN", "names", "SerialNumber"}` replacing the CSR's subject. */
export function parseSubjectJson(text: string, source: string, warn: Warn): NameSpec {
  const r = ObjectReader.root(parseJson(text, source), warn);
  const subject = readSubject(r);
  r.finish(['CN', 'names', 'SerialNumber']);
  return subject;
}
