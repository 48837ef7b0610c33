/**
 * X.500 distinguished names. Built from cfssl-style input (`CN` plus `names` objects), keeping every
 * value of a repeated attribute: the blog's CA CSR lists "OU" twice and both Org Units belong in the
 * subject (cfssl keeps only the last one).
 */
import { fail } from '../errors.js';
import { el, encode, isPrintableString, oid, oidProblem, TAG, type Tlv } from './der.js';
import { checkText, MAX_NAME_VALUE } from './text.js';

export type NameAttributeType = 'C' | 'ST' | 'L' | 'street' | 'postalCode' | 'O' | 'OU' | 'CN' | 'serialNumber' | 'E';

export interface NameAttribute {
  type: NameAttributeType;
  value: string;
}

/** An attribute of a type etcd-tls has no name for, from cfssl's `"OID": {"1.3.6.1.4.1.32473.1": "value"}`. */
export interface OidNameAttribute {
  type: 'OID';
  /** Dotted, checked by buildName (oidProblem). */
  oid: string;
  value: string;
}

/** A name is its attributes in encoding order, one RDN each. */
export type Name = (NameAttribute | OidNameAttribute)[];

export const NAME_OIDS: Record<NameAttributeType, string> = {
  C: '2.5.4.6',
  ST: '2.5.4.8',
  L: '2.5.4.7',
  street: '2.5.4.9',
  postalCode: '2.5.4.17',
  O: '2.5.4.10',
  OU: '2.5.4.11',
  CN: '2.5.4.3',
  serialNumber: '2.5.4.5',
  E: '1.2.840.113549.1.9.1',
};

/** A decoded name: the attributes etcd-tls models, the others as `oid=value`, and the text of both. */
export interface NameView {
  attributes: NameAttribute[];
  /** Attributes of types etcd-tls does not model, as `oid=value`. */
  other: string[];
  text: string;
}

const NAME_TYPE_BY_OID = new Map<string, NameAttributeType>(Object.entries(NAME_OIDS).map(([t, o]) => [o, t as NameAttributeType]));

/** The NameView of a decoded name's (attribute OID, value) pairs, in encoding order. */
export function nameViewOf(pairs: Iterable<readonly [oid: string, value: string]>): NameView {
  const attributes: NameAttribute[] = [];
  const other: string[] = [];
  for (const [oid, value] of pairs) {
    const type = NAME_TYPE_BY_OID.get(oid);
    if (type) attributes.push({ type, value });
    else other.push(`${oid}=${value}`);
  }
  return { attributes, other, text: [...attributes.map((a) => `${a.type}=${a.value}`), ...other].join(', ') };
}

/** One cfssl `names` entry; every field may be a string or a list of strings. */
export interface NameEntry {
  C?: string | string[];
  ST?: string | string[];
  L?: string | string[];
  O?: string | string[];
  OU?: string | string[];
  SerialNumber?: string | string[];
  E?: string | string[];
  /**
   * Custom attributes by dotted OID (cfssl HEAD's `"OID": {"1.2.3": "value"}`), in the order given.
   * Each becomes its own RDN after CN and serialNumber, where Go's pkix.Name puts cfssl's ExtraNames.
   */
  OID?: Record<string, string>;
}

/** The fields of a names entry that hold text (a string or a list of strings). */
export type NameTextField = Exclude<keyof NameEntry, 'OID'>;

export interface NameSpec {
  CN?: string;
  names?: NameEntry[];
  /** Subject serialNumber attribute (cfssl's top-level `serialnumber`), not the certificate serial. */
  serialNumber?: string;
}

// cfssl's (Go's) encoding order: C, ST, L, O, OU, then CN and serialNumber.
const ORDER: [NameTextField, NameAttributeType][] = [
  ['C', 'C'],
  ['ST', 'ST'],
  ['L', 'L'],
  ['O', 'O'],
  ['OU', 'OU'],
];

const ENTRY_KEYS: NameTextField[] = ['C', 'ST', 'L', 'O', 'OU', 'SerialNumber', 'E'];

const asList = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

// Attributes that have a field of their own. In cfssl an "OID" entry of one of these types silently
// drops that field's values (Go's pkix.Name skips a field whose OID is also in ExtraNames); here it
// is refused, pointing at the field.
const FIELD_OF_OID = new Map<string, string>([
  [NAME_OIDS.C, 'C'],
  [NAME_OIDS.ST, 'ST'],
  [NAME_OIDS.L, 'L'],
  [NAME_OIDS.O, 'O'],
  [NAME_OIDS.OU, 'OU'],
  [NAME_OIDS.CN, 'CN'],
  [NAME_OIDS.serialNumber, 'SerialNumber'],
  [NAME_OIDS.E, 'E'],
]);

/** The custom attributes of `names[i]`, checked: a dotted OID without a field of its own, a printable value. */
function oidAttributes(entry: NameEntry, at: string): OidNameAttribute[] {
  const out: OidNameAttribute[] = [];
  // unknown: library callers and YAML can put anything here, and the message must say what.
  const pairs = Object.entries(entry.OID ?? {}) as [string, unknown][];
  for (const [n, [dotted, raw]] of pairs.entries()) {
    // Checked before the key is quoted in any message.
    checkText(dotted, `${at}.OID: key ${n + 1}`, MAX_NAME_VALUE);
    const field = `${at}.OID.${JSON.stringify(dotted)}`;
    const problem = oidProblem(dotted);
    if (problem) throw fail('BAD_NAME', `${field}: ${problem}`);
    const own = FIELD_OF_OID.get(dotted);
    if (own) throw fail('BAD_NAME', `${field}: ${dotted} is ${own}; set it with the "${own}" field`);
    if (typeof raw !== 'string') throw fail('BAD_NAME', `${field}: expected a string value, got ${raw === null ? 'null' : typeof raw}`);
    checkText(raw, field, MAX_NAME_VALUE);
    const value = raw.trim();
    if (value !== '') out.push({ type: 'OID', oid: dotted, value });
  }
  return out;
}

/** Build a Name from cfssl input. `where` names the file for error messages. */
export function buildName(spec: NameSpec, where = 'request'): Name {
  // Plain loops: a leaf's name is built per certificate, and the forEach closures and flatMap'd
  // lists this had were 1 kB of garbage for a bare `{CN}` (a tenth of a leaf's allocations).
  const out: Name = [];
  const names = spec.names ?? [];
  for (let i = 0; i < names.length; i++) {
    const entry = names[i] as NameEntry;
    for (const key of ENTRY_KEYS) for (const raw of asList(entry[key])) checkText(raw, `${where}: names[${i}].${key}`, MAX_NAME_VALUE);
  }
  if (spec.CN !== undefined) checkText(spec.CN, `${where}: CN`, MAX_NAME_VALUE);
  if (spec.serialNumber !== undefined) checkText(spec.serialNumber, `${where}: serialnumber`, MAX_NAME_VALUE);
  for (const [key, type] of ORDER) {
    for (let i = 0; i < names.length; i++) {
      for (const raw of asList((names[i] as NameEntry)[key])) {
        const value = raw.trim();
        if (value === '') continue;
        if (type === 'C' && !/^[A-Za-z]{2}$/.test(value))
          throw fail('BAD_NAME', `${where}: names[${i}].C: "${raw}" is not a two-letter country code`);
        out.push({ type, value });
      }
    }
  }
  for (const entry of names) for (const v of asList(entry.E)) if (v.trim()) out.push({ type: 'E', value: v.trim() });
  const cn = spec.CN?.trim();
  if (cn) out.push({ type: 'CN', value: cn });
  if (spec.serialNumber?.trim()) out.push({ type: 'serialNumber', value: spec.serialNumber.trim() });
  for (const entry of names) for (const s of asList(entry.SerialNumber)) if (s?.trim()) out.push({ type: 'serialNumber', value: s.trim() });
  for (let i = 0; i < names.length; i++) {
    const entry = names[i] as NameEntry;
    if (entry.OID !== undefined) out.push(...oidAttributes(entry, `${where}: names[${i}]`));
  }
  return out;
}

function encodeValue(a: NameAttribute | OidNameAttribute): Tlv {
  if (a.type === 'E') {
    // IA5String is ASCII; written as it is, anything else would silently become other characters.
    if (!/^[\x00-\x7f]*$/.test(a.value)) throw fail('BAD_NAME', `E: "${a.value}" has characters outside ASCII (IA5String)`);
    return el(TAG.IA5_STRING, [a.value]);
  }
  // PrintableString where the value allows it, else UTF8String: Go's asn1 rule for an untyped string,
  // which is how cfssl encodes ExtraNames. C and serialNumber must be PrintableString.
  if (isPrintableString(a.value)) return el(TAG.PRINTABLE_STRING, [a.value]);
  if (a.type === 'C' || a.type === 'serialNumber')
    throw fail('BAD_NAME', `${a.type}: "${a.value}" has characters outside the PrintableString set`);
  return el(TAG.UTF8_STRING, [Buffer.from(a.value, 'utf8')]);
}

// One RDN per attribute, so each SET OF holds one element and is in DER order as it stands. Written in
// one pass (el/encode in src/pki/der.ts): a leaf's subject is encoded once per certificate.
export function encodeName(name: Name): Buffer {
  return encode(el(TAG.SEQUENCE, name.map((a) => el(TAG.SET, [el(TAG.SEQUENCE, [oid(attributeOid(a)), encodeValue(a)])]))));
}

export const attributeOid = (a: NameAttribute | OidNameAttribute): string => (a.type === 'OID' ? a.oid : NAME_OIDS[a.type]);

/** What an attribute is called in text: its short name, or its dotted OID (as nameViewOf writes unknown ones). */
export const attributeLabel = (a: NameAttribute | OidNameAttribute): string => (a.type === 'OID' ? a.oid : a.type);

/** `C=US, ST=San Francisco, O=My Company Name, OU=Org Unit 1, OU=Org Unit 2, CN=My own CA, 1.2.3=x`. */
export function formatName(name: Name): string {
  return name.map((a) => `${attributeLabel(a)}=${a.value}`).join(', ');
}

export const commonName = (name: Name): string | undefined => name.find((a) => a.type === 'CN')?.value;
