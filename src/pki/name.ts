/**
 * X.500 distinguished names. Built from cfssl-style input (`CN` plus `names` objects), keeping every
 * value of a repeated attribute: the blog's CA CSR lists "OU" twice and both Org Units belong in the
 * subject (cfssl keeps only the last one).
 */
import { fail } from '../errors.js';
import { ia5String, isPrintableString, oid, printableString, sequence, setOf, utf8String } from './der.js';

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

const asList = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Build a Name from cfssl input. `where` names the file for error messages. */
export function buildName(spec: NameSpec, where = 'request'): Name {
  const out: Name = [];
  const names = spec.names ?? [];
  for (const [key, type] of ORDER) {
    names.forEach((entry, i) => {
      for (const raw of asList(entry[key])) {
        const value = raw.trim();
        if (value === '') continue;
        if (type === 'C' && !/^[A-Za-z]{2}$/.test(value))
          throw fail('BAD_NAME', `${where}: names[${i}].C: "${raw}" is not a two-letter country code`);
        out.push({ type, value });
      }
    });
  }
  names.forEach((entry) => {
    for (const v of asList(entry.E)) if (v.trim()) out.push({ type: 'E', value: v.trim() });
  });
  const cn = spec.CN?.trim();
  if (cn) out.push({ type: 'CN', value: cn });
  const serials = [spec.serialNumber, ...names.flatMap((e) => asList(e.SerialNumber))];
  for (const s of serials) if (s?.trim()) out.push({ type: 'serialNumber', value: s.trim() });
  return out;
}

function encodeValue(a: NameAttribute): Buffer {
  if (a.type === 'E') {
    // IA5String is ASCII; ia5String() would silently turn anything else into other characters.
    if (!/^[\x00-\x7f]*$/.test(a.value)) throw fail('BAD_NAME', `E: "${a.value}" has characters outside ASCII (IA5String)`);
    return ia5String(a.value);
  }
  // PrintableString where the value allows it (as Go does); C and serialNumber must be PrintableString.
  if (isPrintableString(a.value)) return printableString(a.value);
  if (a.type === 'C' || a.type === 'serialNumber')
    throw fail('BAD_NAME', `${a.type}: "${a.value}" has characters outside the PrintableString set`);
  return utf8String(a.value);
}

export function encodeName(name: Name): Buffer {
  return sequence(...name.map((a) => setOf(sequence(oid(NAME_OIDS[a.type]), encodeValue(a)))));
}

/** `C=US, ST=San Francisco, O=My Company Name, OU=Org Unit 1, OU=Org Unit 2, CN=My own CA`. */
export function formatName(name: Name): string {
  return name.map((a) => `${a.type}=${a.value}`).join(', ');
}

export const commonName = (name: Name): string | undefined => name.find((a) => a.type === 'CN')?.value;
