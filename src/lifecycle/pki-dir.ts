/**
 * A generated DIR as the day-2 commands see it, read from the files themselves (no spec needed):
 * the CA, the CRL and its record, and every member's and client's bundle. The names are the layout's
 * (cluster/layout.ts): DIR/nodes/<member>/{server,peer}.pem, DIR/clients/<client>/client.pem.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fail } from '../errors.js';
import { CRL_FILE, REVOCATION_RECORD_FILE, type CertificateRole } from '../cluster/layout.js';

export interface LeafFiles {
  /** `member1/server`, `member1/peer`, `admin` — how status and renew name it. */
  name: string;
  owner: string;
  kind: 'member' | 'client';
  role: CertificateRole;
  cert: string;
  key: string;
}

export interface Bundle {
  name: string;
  kind: 'member' | 'client';
  dir: string;
  ca: string;
  crl: string;
  leaves: LeafFiles[];
}

export interface PkiDir {
  dir: string;
  caCert: string;
  caKey: string;
  crl: string;
  record: string;
  members: Bundle[];
  clients: Bundle[];
}

const subdirs = (dir: string): string[] => {
  try {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
};

/** Read DIR's shape. Errors: FILE_NOT_FOUND when DIR does not exist or holds no ca.pem. */
export function scanPkiDir(dirArg: string): PkiDir {
  const dir = path.resolve(dirArg);
  if (!fs.existsSync(dir)) throw fail('FILE_NOT_FOUND', `${dirArg}: the directory does not exist`);
  const caCert = path.join(dir, 'ca.pem');
  if (!fs.existsSync(caCert)) throw fail('FILE_NOT_FOUND', `${path.join(dirArg, 'ca.pem')}: no CA certificate: is ${dirArg} a directory written by etcd-tls gen?`);
  const member = (name: string): Bundle => {
    const d = path.join(dir, 'nodes', name);
    const leaf = (role: 'server' | 'peer'): LeafFiles => ({ name: `${name}/${role}`, owner: name, kind: 'member', role, cert: path.join(d, `${role}.pem`), key: path.join(d, `${role}-key.pem`) });
    return { name, kind: 'member', dir: d, ca: path.join(d, 'ca.pem'), crl: path.join(d, CRL_FILE), leaves: [leaf('server'), leaf('peer')] };
  };
  const client = (name: string): Bundle => {
    const d = path.join(dir, 'clients', name);
    return {
      name,
      kind: 'client',
      dir: d,
      ca: path.join(d, 'ca.pem'),
      crl: path.join(d, CRL_FILE),
      leaves: [{ name, owner: name, kind: 'client', role: 'client', cert: path.join(d, 'client.pem'), key: path.join(d, 'client-key.pem') }],
    };
  };
  return {
    dir,
    caCert,
    caKey: path.join(dir, 'ca-key.pem'),
    crl: path.join(dir, CRL_FILE),
    record: path.join(dir, REVOCATION_RECORD_FILE),
    members: subdirs(path.join(dir, 'nodes')).map(member),
    clients: subdirs(path.join(dir, 'clients')).map(client),
  };
}

/** The bundles named, in order; an unknown name is UNKNOWN_NAME listing the ones that exist. */
export function selectBundles(pki: PkiDir, kind: 'member' | 'client', names: readonly string[]): Bundle[] {
  const all = kind === 'member' ? pki.members : pki.clients;
  return names.map((n) => {
    const b = all.find((x) => x.name === n);
    if (!b) throw fail('UNKNOWN_NAME', `${path.join(pki.dir, kind === 'member' ? 'nodes' : 'clients')}: no ${kind} "${n}" (${kind}s: ${all.map((x) => x.name).join(', ') || 'none'})`);
    return b;
  });
}

export const allLeaves = (pki: PkiDir): LeafFiles[] => [...pki.members, ...pki.clients].flatMap((b) => b.leaves);
export const crlCopies = (pki: PkiDir): string[] => [...pki.members, ...pki.clients].map((b) => b.crl);
