/**
 * X.500 distinguished names. Built from cfssl-style input (`CN` plus `names` objects), keeping every
 * value of a repeated attribute: the blog's CA CSR lists "OU" twice and both Org Units belong in the
 * subject (cfssl keeps only the last one).
 */
import { fail } from '../errors.js';
import { el, encode, isPrintableString, oid, TAG, type Tlv } from './der.js';
import { checkText, MAX_NAME_VALUE } from './text.js';

export type NameAttributeType = 'C' | 'ST' | 'L' | 'street' | 'postalCode' | 'O' | 'OU' | 'CN' | 'serialNumber' | 'E';

export interface NameAttribute {
  type: NameAttributeType;
  value: string;
}

/** A name is its attributes in encoding order, one RDN each. */
export type Name = NameAttribute[];

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
}

export interface NameSpec {
  CN?: string;
  names?: NameEntry[];
  /** Subject serialNumber attribute (cfssl's top-level `serialnumber`), not the certificate serial. */
  serialNumber?: string;
}

// cfssl's (Go's) encoding order: C, ST, L, O, OU, then CN and serialNumber.
const ORDER: [keyof NameEntry, NameAttributeType][] = [
  ['C', 'C'],
  ['ST', 'ST'],
  ['L', 'L'],
  ['O', 'O'],
  ['OU', 'OU'],
];

const ENTRY_KEYS: (keyof NameEntry)[] = ['C', 'ST', 'L', 'O', 'OU', 'SerialNumber', 'E'];

const asList = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

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
  return out;
}

function encodeValue(a: NameAttribute): Tlv {
  if (a.type === 'E') {
    // IA5String is ASCII; written as it is, anything else would silently become other characters.
    if (!/^[\x00-\x7f]*$/.test(a.value)) throw fail('BAD_NAME', `E: "${a.value}" has characters outside ASCII (IA5String)`);
    return el(TAG.IA5_STRING, [a.value]);
  }
  // PrintableString where the value allows it (as Go does); C and serialNumber must be PrintableString.
  if (isPrintableString(a.value)) return el(TAG.PRINTABLE_STRING, [a.value]);
  if (a.type === 'C' || a.type === 'serialNumber')
    throw fail('BAD_NAME', `${a.type}: "${a.value}" has characters outside the PrintableString set`);
  return el(TAG.UTF8_STRING, [Buffer.from(a.value, 'utf8')]);
}

// One RDN per attribute, so each SET OF holds one element and is in DER order as it stands. Written in
// one pass (el/encode in src/pki/der.ts): a leaf's subject is encoded once per certificate.
export function encodeName(name: Name): Buffer {
  return encode(el(TAG.SEQUENCE, name.map((a) => el(TAG.SET, [el(TAG.SEQUENCE, [oid(NAME_OIDS[a.type]), encodeValue(a)])]))));
}

/** `C=US, ST=San Francisco, O=My Company Name, OU=Org Unit 1, OU=Org Unit 2, CN=My own CA`. */
export function formatName(name: Name): string {
  return name.map((a) => `${a.type}=${a.value}`).join(', ');
}

export const commonName = (name: Name): string | undefined => name.find((a) => a.type === 'CN')?.value;
