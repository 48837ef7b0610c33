/**
 * The layout: everything the generator needs to know about a cluster, computed from the spec with no
 * crypto and no I/O. URLs, the certificates to issue (as data), where every file goes in the output
 * directory, and which paths the configs reference once installed (or, with `local`, in place).
 */
import * as path from 'node:path';
// pki/san's classifier, not node:net: loading node:net costs ~4 ms of every start.
import { ipVersion } from '../pki/san.js';
import { fail } from '../errors.js';
import type { ClusterSpec, KeySpec, MemberSpec, NameEntry } from './spec.js';

export type CertificateRole = 'server' | 'peer' | 'client';

/** One leaf certificate to issue. The certificate goes to `<DIR>/<path>.pem`, its key to `<DIR>/<path>-key.pem`. */
export interface CertificateIntent {
  /** Relative to DIR, without extension: `nodes/member1/server`, `nodes/member1/peer`, `clients/admin/client`. */
  path: string;
  role: CertificateRole;
  subject: { CN: string; O?: string[] };
  dns: string[];
  ips: string[];
  /** cfssl usage strings. */
  usages: string[];
  key: KeySpec;
  validity: string;
}

/** The self-signed CA to create: `<DIR>/ca.pem` and `<DIR>/ca-key.pem`. */
export interface CaIntent {
  path: 'ca';
  role: 'ca';
  subject: { CN: string; names: NameEntry[] };
  key: KeySpec;
  validity: string;
}

/** Profiles are data: what each role's certificate may be used for. */
export const ROLE_USAGES: Readonly<Record<CertificateRole, readonly string[]>> = {
  // etcd's gRPC gateway dials the client port with the server certificate, so it needs client auth too.
  server: ['digital signature', 'key encipherment', 'server auth', 'client auth'],
  // One peer certificate both serves and dials.
  peer: ['digital signature', 'key encipherment', 'server auth', 'client auth'],
  client: ['digital signature', 'key encipherment', 'client auth'],
};

/**
 * The CRL at the top of DIR and in every bundle. DER, because etcd 3.6 reads DER only (3.4/3.5 read
 * PEM or DER); re-signed by `etcd-tls crl`, rewritten by `etcd-tls revoke`.
 */
export const CRL_FILE = 'crl.der';
/** What was revoked, by whom it was issued and the last CRL number (lifecycle/crl.ts documents the shape). */
export const REVOCATION_RECORD_FILE = 'revoked.json';

export interface MemberFiles {
  ca: string;
  crl: string;
  serverCert: string;
  serverKey: string;
  peerCert: string;
  peerKey: string;
  env: string;
  yaml: string;
  service: string;
  install: string;
}

/** Where a member's configs point: the installed locations, or the files in DIR when `local`. */
export interface MemberInstalledPaths {
  pkiDir: string;
  ca: string;
  crl: string;
  serverCert: string;
  serverKey: string;
  peerCert: string;
  peerKey: string;
  env: string;
  dataDir: string;
}

export interface MemberLayout {
  name: string;
  spec: MemberSpec;
  /** `https://<first ip or first dns>:<clientPort>` */
  clientUrl: string;
  peerUrl: string;
  listenClientUrls: string[];
  listenPeerUrls: string[];
  /** Absolute folder inside DIR: `<DIR>/nodes/<name>`. */
  dir: string;
  files: MemberFiles;
  installed: MemberInstalledPaths;
  server: CertificateIntent;
  peer: CertificateIntent;
  /**
   * How this member bootstraps: `new` with the whole spec's member list for a cluster created at once;
   * `existing` with the cluster's members at the time it joins (itself included) for one added later
   * through runtime reconfiguration (`etcd-tls member add`).
   */
  initialClusterState: 'new' | 'existing';
  initialCluster: string;
}

export interface ClientFiles {
  ca: string;
  crl: string;
  cert: string;
  key: string;
  etcdctlEnv: string;
  /** Only for the kube-apiserver client. */
  kubeApiserverFlags?: string;
  kubeadmExternal?: string;
}

export interface ClientLayout {
  name: string;
  /** True for a client named kube-apiserver or with CN kube-apiserver-etcd-client. */
  kubeApiserver: boolean;
  dir: string;
  files: ClientFiles;
  installed: { dir: string; ca: string; cert: string; key: string };
  certificate: CertificateIntent;
}

export interface ClusterLayout {
  cluster: string;
  /** Absolute output directory. */
  dir: string;
  local: boolean;
  ca: { intent: CaIntent; cert: string; key: string };
  /** DIR/crl.der and DIR/revoked.json. */
  crl: { file: string; record: string };
  members: MemberLayout[];
  clients: ClientLayout[];
  /** `member1=https://127.0.0.11:2380,...` */
  initialCluster: string;
  /** Every member's client URL, for etcdctl and kube-apiserver. */
  clientEndpoints: string[];
  /** The DNS SAN only peer certificates carry; every member requires it of its peers. */
  peerHostname: string;
}

export interface LayoutOptions {
  /** The output directory (made absolute against the working directory). */
  dir: string;
  /** Point every config at the files inside DIR so the cluster can run in place. */
  local?: boolean;
  /**
   * The members DIR already has configurations for (readMembership), in the order they were generated:
   * a spec member not among them joins the running cluster instead of bootstrapping it. Absent or empty:
   * every member bootstraps a new cluster together.
   */
  existing?: readonly ExistingMember[];
}

/** A member DIR holds a configuration for: how it bootstrapped, and its peer URL. */
export interface ExistingMember {
  name: string;
  initialClusterState: 'new' | 'existing';
  initialCluster: string;
  peerUrl: string;
}

/** The installed locations (what configs reference without --local). */
export const INSTALL_PATHS = {
  pkiDir: '/etc/etcd/pki',
  env: '/etc/etcd/etcd.env',
  dataDir: '/var/lib/etcd',
  unit: '/etc/systemd/system/etcd.service',
  etcdBinary: '/usr/bin/etcd',
  clientsDir: '/etc/etcd/pki/clients',
  kubeApiserverDir: '/etc/kubernetes/pki/etcd-tls',
} as const;

/** The CA a rotation introduces, beside DIR/ca.pem until the rotation ends (`etcd-tls rotate-ca`). */
export const NEXT_CA_CERT = 'ca-next.pem';
export const NEXT_CA_KEY = 'ca-next-key.pem';

export const peerHostname = (cluster: string): string => `peer.${cluster}.etcd.internal`;

/** `https://host:port`, with IPv6 hosts in brackets. */
export function httpsUrl(host: string, port: number): string {
  return `https://${ipVersion(host) === 6 ? `[${host}]` : host}:${port}`;
}

const isKubeApiserver = (c: { name: string; cn: string }): boolean =>
  c.name === 'kube-apiserver' || c.cn === 'kube-apiserver-etcd-client';

function leafSans(m: MemberSpec, extraDns: readonly string[]): { dns: string[]; ips: string[] } {
  const sanIps = m.sans.filter((s) => ipVersion(s));
  const sanDns = m.sans.filter((s) => !ipVersion(s));
  return {
    dns: [...new Set([m.name, ...m.dns, ...sanDns, ...extraDns, 'localhost'])],
    ips: [...new Set([...m.ips, ...sanIps, '127.0.0.1', '::1'])],
  };
}

/**
 * Lay out a cluster: pure, deterministic, no crypto.
 *
 * @example
 *   const layout = layoutCluster(parseSpec(text, 'cluster.yaml'), { dir: 'pki' });
 *   layout.members[0].server.ips; // ['127.0.0.11', '127.0.0.1', '::1']
 */
/**
 * `path.join(dir, name)` for an absolute, normalized `dir` (from path.resolve) and a `/`-separated
 * `name` made of validated member or client names and fixed file names: with no `.`, `..` or empty
 * segment to fold, a concatenation is the same string without path.join's walk over every character
 * (~20 µs a call in a cold process, ~20 calls per member). Other separators: path.join itself.
 */
export const under = (dir: string, name: string): string =>
  path.sep !== '/' ? path.join(dir, name) : dir.endsWith('/') ? dir + name : `${dir}/${name}`;

export function layoutCluster(spec: ClusterSpec, options: LayoutOptions): ClusterLayout {
  const dir = path.resolve(options.dir);
  // These paths end up inside env files, YAML and a systemd unit; a control character would break all three.
  if (/[\0-\x1f\x7f]/.test(dir)) throw fail('BAD_FIELD', `${JSON.stringify(dir)}: the output directory name has a control character`);
  const local = options.local ?? false;
  const peerName = peerHostname(spec.cluster);

  const members = spec.members.map((m): MemberLayout => {
    const host = m.ips[0] ?? (m.dns[0] as string);
    // Listening on the member's own IPs only (never 127.0.0.1 as well) lets several loopback members
    // share one machine. A member known only by DNS name listens on every interface: etcd binds IPs only.
    const listenHosts = m.ips.length > 0 ? m.ips : ['0.0.0.0'];
    const memberDir = under(dir, `nodes/${m.name}`);
    const at = (file: string): string => under(memberDir, file);
    const pkiDir = local ? memberDir : INSTALL_PATHS.pkiDir;
    const inPki = (file: string): string => `${pkiDir}/${file}`;
    const sans = leafSans(m, []);
    const peerSans = leafSans(m, [peerName]);
    return {
      name: m.name,
      spec: m,
      clientUrl: httpsUrl(host, m.clientPort),
      peerUrl: httpsUrl(host, m.peerPort),
      listenClientUrls: listenHosts.map((h) => httpsUrl(h, m.clientPort)),
      listenPeerUrls: listenHosts.map((h) => httpsUrl(h, m.peerPort)),
      dir: memberDir,
      files: {
        ca: at('ca.pem'),
        crl: at(CRL_FILE),
        serverCert: at('server.pem'),
        serverKey: at('server-key.pem'),
        peerCert: at('peer.pem'),
        peerKey: at('peer-key.pem'),
        env: at('etcd.env'),
        yaml: at('etcd.yaml'),
        service: at('etcd.service'),
        install: at('install.sh'),
      },
      installed: {
        pkiDir,
        ca: inPki('ca.pem'),
        crl: inPki(CRL_FILE),
        serverCert: inPki('server.pem'),
        serverKey: inPki('server-key.pem'),
        peerCert: inPki('peer.pem'),
        peerKey: inPki('peer-key.pem'),
        env: local ? at('etcd.env') : INSTALL_PATHS.env,
        dataDir: local ? at('data') : INSTALL_PATHS.dataDir,
      },
      server: memberCertificate(m, 'server', sans),
      peer: memberCertificate(m, 'peer', peerSans),
      initialClusterState: 'new',
      initialCluster: '',
    };
  });
  const initialCluster = members.map((m) => `${m.name}=${m.peerUrl}`).join(',');
  assignBootstrap(members, initialCluster, options.existing ?? []);

  const clients = spec.clients.map((c): ClientLayout => {
    const kube = isKubeApiserver(c);
    const clientDir = under(dir, `clients/${c.name}`);
    const at = (file: string): string => under(clientDir, file);
    const installedDir = local ? clientDir : kube ? INSTALL_PATHS.kubeApiserverDir : `${INSTALL_PATHS.clientsDir}/${c.name}`;
    return {
      name: c.name,
      kubeApiserver: kube,
      dir: clientDir,
      files: {
        ca: at('ca.pem'),
        crl: at(CRL_FILE),
        cert: at('client.pem'),
        key: at('client-key.pem'),
        etcdctlEnv: at('etcdctl.env'),
        ...(kube ? { kubeApiserverFlags: at('kube-apiserver.flags'), kubeadmExternal: at('kubeadm-etcd-external.yaml') } : {}),
      },
      installed: {
        dir: installedDir,
        ca: `${installedDir}/ca.pem`,
        cert: `${installedDir}/client.pem`,
        key: `${installedDir}/client-key.pem`,
      },
      certificate: {
        path: `clients/${c.name}/client`,
        role: 'client',
        subject: c.o.length > 0 ? { CN: c.cn, O: [...c.o] } : { CN: c.cn },
        dns: [],
        ips: [],
        usages: [...ROLE_USAGES.client],
        key: c.key,
        validity: c.validity,
      },
    };
  });

  return {
    cluster: spec.cluster,
    dir,
    local,
    ca: {
      intent: { path: 'ca', role: 'ca', subject: { CN: spec.ca.cn, names: spec.ca.names }, key: spec.ca.key, validity: spec.ca.validity },
      cert: under(dir, 'ca.pem'),
      key: under(dir, 'ca-key.pem'),
    },
    crl: { file: under(dir, CRL_FILE), record: under(dir, REVOCATION_RECORD_FILE) },
    members,
    clients,
    initialCluster,
    clientEndpoints: members.map((m) => m.clientUrl),
    peerHostname: peerName,
  };
}

/** A member's server or peer certificate: CN is the member name, usages come from the role. */
function memberCertificate(m: MemberSpec, role: 'server' | 'peer', sans: { dns: string[]; ips: string[] }): CertificateIntent {
  return { path: `nodes/${m.name}/${role}`, role, subject: { CN: m.name }, ...sans, usages: [...ROLE_USAGES[role]], key: m.key, validity: m.validity };
}

/** Every certificate the layout asks for, CA excluded, in a stable order (members, then clients). */
export function certificateIntents(layout: ClusterLayout): CertificateIntent[] {
  return [...layout.members.flatMap((m) => [m.server, m.peer]), ...layout.clients.map((c) => c.certificate)];
}

/**
 * Runtime reconfiguration adds one member at a time, each started with the cluster's members at that
 * moment: the members DIR already configures (a member removed from the spec stays in that list until
 * `member remove` archives its folder), then the joining members one by one in spec order.
 */
function assignBootstrap(members: MemberLayout[], initialCluster: string, existing: readonly ExistingMember[]): void {
  if (existing.length === 0) {
    for (const m of members) m.initialCluster = initialCluster;
    return;
  }
  const known = new Map(existing.map((e) => [e.name, e]));
  const current = existing.map((e) => `${e.name}=${members.find((m) => m.name === e.name)?.peerUrl ?? e.peerUrl}`);
  for (const m of members) {
    const had = known.get(m.name);
    if (had) {
      m.initialClusterState = had.initialClusterState;
      m.initialCluster = had.initialCluster;
      continue;
    }
    current.push(`${m.name}=${m.peerUrl}`);
    m.initialClusterState = 'existing';
    m.initialCluster = current.join(',');
  }
}
