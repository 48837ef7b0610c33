/**
 * One pass of `check` over what it is given: a CheckSession reads certificates, keys, CA files and
 * etcd configs, ties each certificate to the settings that use it, and runs every certificate check
 * on what it collected (check.ts drives one session, or several over parts of a large directory).
 */
import { existsSync, readdirSync, statSync, type Dirent } from 'node:fs';
import * as path from 'node:path';
import { fail } from '../../errors.js';
import type { KeyAlgorithm } from '../../pki/keys.js';
import { readFileBytes, readFileText, readTextFile } from '../../store/files.js';
import {
  checkCaBundle,
  checkCertificateBasics,
  checkChain,
  checkKeyMatches,
  checkLeafRoles,
  checkPeerSans,
  checkServerSans,
  isLoopbackHost,
  readCertificateFile,
  readKeyFile,
  type CertRole,
  type ExpectedHost,
  type LoadedCertFile,
  type LoadedKeyFile,
  type ParsedCertificates,
  type PeerSanContext,
} from './certs.js';
import { finding } from './codes.js';
import { checkCipherSuitesForKeys, checkCrl, checkEtcdConfig, configBool, configUrls, parseEtcdUrl, initialClusterOf, settingSubject } from './config.js';
import { describeOrigin, mergeEtcdConfig, parseEtcdEnvFile, parseEtcdYaml, type EtcdConfig, type EtcdConfigSource, type EtcdSetting } from '../../etcd/config.js';
import type { Finding } from '../findings.js';

/** What was looked at, as displayed in findings. */
export interface CheckedFiles {
  certificates: string[];
  caFiles: string[];
  configs: string[];
}

/** A session's findings in the order a report lists them: CA files, then leaf certificates, then configs. */
export interface SessionFindings {
  ca: Finding[];
  leaves: Finding[];
  configs: Finding[];
  checked: CheckedFiles;
}

interface Leaf {
  file: string;
  key?: string;
  roles: Set<CertRole>;
  bundles: Set<string>;
  /** One entry per configuration that said whether etcd asks for client certificates. */
  clientAuthNeeded: boolean[];
  serverHosts: ExpectedHost[];
  peerContexts: PeerSanContext[];
}

const CERT_EXT = /\.(pem|crt)$/;
const KEY_FILE = /(-key\.pem|\.key)$/;
// ca-next.pem: the CA a rotation introduces (rotate-ca), a CA file like ca.pem.
const CA_FILE = /(^|[-_.])ca(-bundle|-chain|-next)?\.(pem|crt)$/;
const ENV_FILES = new Set(['etcd.env', 'etcd.conf']);
const YAML_FILES = new Set(['etcd.yaml', 'etcd.yml', 'etcd.conf.yml', 'etcd.conf.yaml']);

/** A role from a file name: `server.pem`, `peer.crt`, `kube-apiserver-etcd-client.pem`. */
export function roleFromFileName(file: string): CertRole | undefined {
  const base = path.basename(file).toLowerCase();
  if (base.includes('peer')) return 'peer';
  if (base.includes('server')) return 'server';
  if (base.includes('client')) return 'client';
  return undefined;
}

/** The conventional key file beside a certificate: `x.pem` → `x-key.pem`, `x.crt` → `x.key`. */
export const keyFileFor = (cert: string): string => (cert.endsWith('.crt') ? cert.replace(/\.crt$/, '.key') : cert.replace(/\.pem$/, '-key.pem'));

const hostsOf = (config: EtcdConfig, flag: string): ExpectedHost[] => {
  const { setting, urls } = configUrls(config, flag);
  return setting ? urls.map((u) => ({ host: u.host, from: settingSubject(setting) })) : [];
};

export class CheckSession {
  private readonly certFiles = new Map<string, LoadedCertFile>();
  /** Certificates by DER (base64), and clean files by text: the same CA copied into every folder is read once. */
  private readonly parsedCerts: ParsedCertificates = { byDer: new Map(), byText: new Map() };
  private readonly keyFiles = new Map<string, LoadedKeyFile>();
  /** Every config of a member names its CRL twice (client and peer), and etcd.env and etcd.yaml both do. */
  private readonly crlFiles = new Map<string, Buffer>();
  private readonly leaves = new Map<string, Leaf>();
  private readonly bundles = new Set<string>();
  private readonly caKeys = new Map<string, string>();
  private readonly configFindings: Finding[] = [];
  private readonly configNames: string[] = [];
  /** Settings of the current config whose path was found only beside the config. */
  private localFallbacks: string[] = [];
  /** Names in each directory scanned, and whether other paths exist: every config of a unit names the same files. */
  private readonly listed = new Map<string, { all: ReadonlySet<string>; plain: ReadonlySet<string> }>();
  private readonly existing = new Map<string, boolean>();
  private readonly shown = new Map<string, string>();
  primaryCa: string | undefined;

  constructor(
    readonly now: Date,
    readonly warningDays: number,
  ) {}

  /** Paths in findings: relative to the working directory when below it, as the user typed them. */
  display(file: string): string {
    let shown = this.shown.get(file);
    if (shown === undefined) {
      const rel = path.relative(process.cwd(), file);
      shown = rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
      this.shown.set(file, shown);
    }
    return shown;
  }

  /** existsSync, answered from the listing of a scanned directory where there is one. */
  private exists(file: string): boolean {
    const names = this.listed.get(path.dirname(file));
    const base = path.basename(file);
    // A symbolic link may dangle: existsSync follows it.
    if (names && (names.plain.has(base) || !names.all.has(base))) return names.plain.has(base);
    let found = this.existing.get(file);
    if (found === undefined) this.existing.set(file, (found = existsSync(file)));
    return found;
  }

  private certFile(file: string): LoadedCertFile {
    let loaded = this.certFiles.get(file);
    if (!loaded) {
      loaded = readCertificateFile(this.display(file), undefined, this.parsedCerts);
      this.certFiles.set(file, loaded);
    }
    return loaded;
  }

  private crlFile(file: string): Buffer {
    let bytes = this.crlFiles.get(file);
    if (!bytes) {
      bytes = readFileBytes(file, 'CRL file');
      this.crlFiles.set(file, bytes);
    }
    return bytes;
  }

  private keyFile(file: string): LoadedKeyFile {
    let loaded = this.keyFiles.get(file);
    if (!loaded) {
      loaded = readKeyFile(this.display(file));
      this.keyFiles.set(file, loaded);
    }
    return loaded;
  }

  leaf(file: string, role?: CertRole): Leaf {
    return this.leafAt(path.resolve(file), role);
  }

  /** leaf() for a path that is already absolute and normalized. */
  private leafAt(abs: string, role?: CertRole): Leaf {
    let leaf = this.leaves.get(abs);
    if (!leaf) {
      leaf = { file: abs, roles: new Set(), bundles: new Set(), clientAuthNeeded: [], serverHosts: [], peerContexts: [] };
      if (this.primaryCa) leaf.bundles.add(this.primaryCa);
      this.leaves.set(abs, leaf);
    }
    if (role) leaf.roles.add(role);
    return leaf;
  }

  addBundle(file: string): string {
    const abs = path.resolve(file);
    this.bundles.add(abs);
    return abs;
  }

  /**
   * Every file of one directory: leaves with their keys, CA bundles, etcd configs. `dir` is absolute
   * and normalized (unitDirs), so its files' paths are `dir/name` without path.resolve's work, and
   * its listing answers later existence checks in it (resolve).
   */
  scanUnit(dir: string, entries: readonly Dirent[], isRoot: boolean): void {
    const names = entries.map((d) => d.name).sort();
    const listed = new Set(names);
    this.listed.set(dir, { all: listed, plain: new Set(entries.filter((d) => !d.isSymbolicLink()).map((d) => d.name)) });
    const kinds = new Map(entries.map((d) => [d.name, d]));
    const at = (n: string): string => childPath(dir, n);
    const cas = names.filter((n) => CA_FILE.test(n) && !KEY_FILE.test(n));
    const unitCa = cas.find((n) => n === 'ca.pem' || n === 'ca.crt') ?? cas[0];
    for (const ca of cas) {
      this.bundles.add(at(ca));
      const key = keyFileFor(ca);
      if (listed.has(key)) this.caKeys.set(at(ca), at(key));
    }
    if (isRoot && !this.primaryCa && unitCa) this.primaryCa = at(unitCa);
    const unitBundles = unitCa ? [at(unitCa)] : [];
    for (const n of names) {
      if (!CERT_EXT.test(n) || KEY_FILE.test(n) || CA_FILE.test(n)) continue;
      const full = at(n);
      // The listing's type, unless a link must be followed.
      const entry = kinds.get(n);
      if (!(entry && !entry.isSymbolicLink() ? entry.isFile() : statSync(full).isFile())) continue;
      const leaf = this.leafAt(full, roleFromFileName(n));
      const key = keyFileFor(n);
      if (listed.has(key)) leaf.key = at(key);
      if (unitCa) leaf.bundles.add(at(unitCa));
    }
    for (const n of names) {
      // Read as bytes: an empty etcd.env is merely a config that sets nothing.
      if (ENV_FILES.has(n)) this.addConfig([parseEtcdEnvFile(readFileText(at(n), 'etcd environment file'), this.display(at(n)))], dir, true, unitBundles);
      if (YAML_FILES.has(n)) this.addConfig([parseEtcdYaml(readFileText(at(n), 'etcd config file'), this.display(at(n)))], dir, true, unitBundles);
    }
  }

  /**
   * Find a file a setting names. In a generated directory the configs name install locations
   * (/etc/etcd/pki/...), so the file of the same name beside the config comes first; elsewhere the path
   * as written comes first, and the fallback is reported.
   */
  private resolve(setting: EtcdSetting, baseDir: string, preferLocal: boolean): { file?: string; findings: Finding[] } {
    const value = setting.value;
    const local = childPath(baseDir, path.basename(value));
    // In a generated directory the local file is there: the paths as written are worked out only when needed.
    if (preferLocal && this.exists(local)) return { file: local, findings: [] };
    const asWritten = [path.resolve(value), path.resolve(baseDir, value)];
    const order = preferLocal ? [local, ...asWritten] : [...asWritten, local];
    const found = order.find((f) => this.exists(f));
    if (!found) return { findings: [finding('file-missing', 'error', settingSubject(setting), `names ${value}, which does not exist`, 'create the file, or point the setting at the right path')] };
    if (!preferLocal && found === local && !asWritten.includes(local)) this.localFallbacks.push(`${setting.origin.name} → ${this.display(found)}`);
    return { file: found, findings: [] };
  }

  /** Merge config sources into one etcd configuration, follow its file settings, and record what to check. */
  addConfig(sources: EtcdConfigSource[], baseDir: string, preferLocal: boolean, unitBundles: readonly string[]): void {
    this.localFallbacks = [];
    let config = mergeEtcdConfig(sources);
    const cf = config.settings.get('config-file');
    if (cf && !config.configFile) {
      const r = this.resolve(cf, baseDir, preferLocal);
      this.configFindings.push(...r.findings);
      if (r.file) config = mergeEtcdConfig([...sources, parseEtcdYaml(readTextFile(r.file, 'etcd config file'), this.display(r.file))]);
    }
    this.configNames.push(...config.files);
    const out = this.configFindings;
    out.push(...checkEtcdConfig(config));
    const file = (flag: string): string | undefined => {
      const s = config.settings.get(flag);
      if (!s) return undefined;
      const r = this.resolve(s, baseDir, preferLocal);
      out.push(...r.findings);
      return r.file;
    };
    const caFor = (flag: string): string[] => {
      const f = file(flag);
      return [...(f ? [this.addBundle(f)] : unitBundles)];
    };
    const clientCas = caFor('trusted-ca-file');
    const peerCas = caFor('peer-trusted-ca-file');

    const keys: { path: string; algo: KeyAlgorithm }[] = [];
    const serverCert = file('cert-file');
    if (serverCert) {
      const leaf = this.leaf(serverCert, 'server');
      const key = file('key-file');
      if (key) leaf.key = key;
      for (const b of clientCas) leaf.bundles.add(b);
      leaf.clientAuthNeeded.push(Boolean(config.settings.get('trusted-ca-file')) || configBool(config, 'client-cert-auth'));
      leaf.serverHosts.push(...hostsOf(config, 'advertise-client-urls'));
      const algo = this.certFile(serverCert).certs[0]?.publicKey.algo;
      if (algo) keys.push({ path: this.display(serverCert), algo });
    }
    const peerCert = file('peer-cert-file');
    if (peerCert) {
      const leaf = this.leaf(peerCert, 'peer');
      const key = file('peer-key-file');
      if (key) leaf.key = key;
      for (const b of peerCas) leaf.bundles.add(b);
      leaf.peerContexts.push({
        advertised: hostsOf(config, 'initial-advertise-peer-urls'),
        listen: hostsOf(config, 'listen-peer-urls'),
        loopbackPeer: initialClusterOf(config.settings.get('initial-cluster')?.value ?? '').loopbackPeer,
        skipClientSanVerification: configBool(config, 'experimental-peer-skip-client-san-verification'),
      });
      const algo = this.certFile(peerCert).certs[0]?.publicKey.algo;
      if (algo) keys.push({ path: this.display(peerCert), algo });
    }
    out.push(...checkCipherSuitesForKeys(config, keys));

    for (const [crlFlag, cas] of [['client-crl-file', clientCas], ['peer-crl-file', peerCas]] as const) {
      const crl = file(crlFlag);
      if (!crl) continue;
      const trusted = [...new Set([...cas, ...(this.primaryCa ? [this.primaryCa] : [])])].flatMap((b) => this.certFile(b).certs);
      out.push(...checkCrl(settingSubject(config.settings.get(crlFlag) as EtcdSetting), this.display(crl), this.crlFile(crl), trusted, this.now));
    }
    // GHSA-3wh4-j44w-pg92: a separate HTTP listener made gRPC client traffic skip the CRL (no fix on 3.4,
    // which has no such flag). Offline the etcd version is unknown, so this is a warning naming the fixed releases.
    const httpListener = config.settings.get('listen-client-http-urls') ?? config.ignored.find((i) => /listen[-_]client[-_]http[-_]urls/i.test(i.origin.name));
    if (file('client-crl-file') && httpListener)
      out.push(
        finding(
          'crl-bypassed-by-http-listener',
          'warning',
          'origin' in httpListener ? describeOrigin(httpListener.origin) : 'listen-client-http-urls',
          'listen-client-http-urls is set with a client CRL: on etcd 3.5 before 3.5.32 and 3.6 before 3.6.13, gRPC clients on the client port are not checked against the CRL, so revoked client certificates still work',
          'upgrade etcd to 3.5.32+ / 3.6.13+, or drop listen-client-http-urls',
        ),
      );
    if (this.localFallbacks.length)
      out.push(finding('file-resolved-locally', 'info', config.files[0] ?? '--flags', `the configured paths do not exist here, so the files of the same names beside the config were checked: ${this.localFallbacks.join(', ')}`, 'run check on the etcd host to check the installed files themselves'));
  }

  /** A spec says which members and clients exist and where each member is reached. */
  async addSpec(specFile: string, dir: string): Promise<void> {
    const [{ parseSpec }, { layoutCluster }] = await Promise.all([import('../../cluster/spec.js'), import('../../cluster/layout.js')]);
    const layout = layoutCluster(parseSpec(readTextFile(specFile, 'cluster spec'), specFile), { dir });
    const hostOf = (url: string): string => {
      const u = parseEtcdUrl(url);
      return typeof u === 'string' ? url : u.host;
    };
    const loopbackPeer = layout.members.some((m) => isLoopbackHost(hostOf(m.peerUrl)));
    for (const m of layout.members) {
      const from = `${this.display(specFile)}: members.${m.name}`;
      const server = this.leaf(m.files.serverCert, 'server');
      server.key = m.files.serverKey;
      server.serverHosts.push({ host: hostOf(m.clientUrl), from });
      const peer = this.leaf(m.files.peerCert, 'peer');
      peer.key = m.files.peerKey;
      peer.peerContexts.push({ advertised: [{ host: hostOf(m.peerUrl), from }], listen: m.listenPeerUrls.map((u) => ({ host: hostOf(u), from })), loopbackPeer, skipClientSanVerification: false });
      for (const leaf of [server, peer]) leaf.bundles.add(this.addBundle(m.files.ca));
    }
    for (const c of layout.clients) {
      const leaf = this.leaf(c.files.cert, 'client');
      leaf.key = c.files.key;
      leaf.bundles.add(this.addBundle(c.files.ca));
    }
  }

  /** Run every certificate check on what was collected: findings in report order, by part. */
  finish(): SessionFindings {
    const ca: Finding[] = [];
    for (const b of this.bundles) {
      const f = this.certFile(b);
      ca.push(...f.findings, ...checkCaBundle({ path: f.path, certs: f.certs }, this.now, this.warningDays));
      const keyPath = this.caKeys.get(b);
      const first = f.certs[0];
      if (keyPath) {
        const key = this.keyFile(keyPath);
        ca.push(...key.findings, ...(first ? checkKeyMatches(f.path, first, key) : []));
      }
    }
    const leaves: Finding[] = [];
    for (const leaf of this.leaves.values()) leaves.push(...this.checkLeaf(leaf));
    return {
      ca,
      leaves,
      configs: this.configFindings,
      checked: {
        certificates: [...this.leaves.keys()].map((f) => this.display(f)),
        caFiles: [...this.bundles].map((f) => this.display(f)),
        configs: [...new Set(this.configNames)],
      },
    };
  }

  /**
   * The directories of every certificate and CA file this session registered (the primary CA that
   * every leaf chains to only when the session checks that file itself): sessions over disjoint
   * sets of directories are independent when each stays within its own.
   */
  registeredDirs(): Set<string> {
    const dirs = new Set<string>();
    for (const file of [...this.leaves.keys(), ...this.bundles]) dirs.add(path.dirname(file));
    return dirs;
  }

  private checkLeaf(leaf: Leaf): Finding[] {
    const f = this.certFile(leaf.file);
    const out: Finding[] = [...f.findings];
    const cert = f.certs[0];
    if (!f.ok || !cert) return out;
    out.push(...checkCertificateBasics(f.path, cert, this.now, this.warningDays));
    const needed = leaf.clientAuthNeeded;
    out.push(...checkLeafRoles(f.path, cert, { roles: leaf.roles, ...(needed.length && needed.every((n) => !n) ? { serverNeedsClientAuth: false } : {}) }));
    if (leaf.key) {
      const key = this.keyFile(leaf.key);
      out.push(...key.findings, ...checkKeyMatches(f.path, cert, key));
    }
    const seen = new Set<string>();
    for (const b of leaf.bundles) {
      const bundle = this.certFile(b);
      const id = bundle.certs.map((c) => c.der.toString('base64')).join();
      if (!bundle.ok || seen.has(id)) continue;
      seen.add(id);
      out.push(...checkChain(f.path, f.certs, { path: bundle.path, certs: bundle.certs }));
    }
    if (leaf.bundles.size === 0)
      out.push(finding('chain-not-checked', 'info', f.path, 'no CA was given, so whether it chains to the CA etcd trusts was not checked', 'pass --ca FILE (or check the whole directory, which holds ca.pem)'));
    if (leaf.serverHosts.length) out.push(...checkServerSans(f.path, cert, leaf.serverHosts));
    for (const ctx of leaf.peerContexts) out.push(...checkPeerSans(f.path, cert, ctx));
    return out;
  }
}

/** path.join(dir, name) for a normalized absolute `dir` and a plain file name, without join's normalizing work. */
function childPath(dir: string, name: string): string {
  if (!name || name === '.' || name === '..' || name.includes(path.sep)) return path.join(dir, name);
  return dir.endsWith(path.sep) ? dir + name : dir + path.sep + name;
}

/** A directory's listing, or FILE_UNREADABLE naming it. */
export function readDir(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw fail('FILE_UNREADABLE', `${dir}: cannot read the directory (${err.code ?? err.message}); run check as a user that can read it`);
  }
}

/** A folder check scans, with its listing. */
export interface UnitDir {
  dir: string;
  entries: Dirent[];
}

/** Directories worth scanning in DIR: DIR itself and two levels below, minus hidden and etcd data dirs. */
export function unitDirs(dir: string, depth = 0): UnitDir[] {
  if (depth > 2) return [];
  const entries = readDir(dir);
  const below = entries
    .filter((d) => d.isDirectory() && !d.name.startsWith('.') && d.name !== 'data' && !d.name.endsWith('.etcd') && d.name !== 'member')
    .map((d) => d.name)
    .sort();
  return [{ dir, entries }, ...below.flatMap((n) => unitDirs(path.join(dir, n), depth + 1))];
}

/**
 * Findings of sessions over consecutive runs of directories, in the order one session over all of
 * them lists its findings (CA files, then leaves, then configs); not yet deduplicated.
 */
export function mergeSessionFindings(all: readonly SessionFindings[]): SessionFindings {
  return {
    ca: all.flatMap((s) => s.ca),
    leaves: all.flatMap((s) => s.leaves),
    configs: all.flatMap((s) => s.configs),
    checked: {
      certificates: all.flatMap((s) => s.checked.certificates),
      caFiles: all.flatMap((s) => s.checked.caFiles),
      configs: [...new Set(all.flatMap((s) => s.checked.configs))],
    },
  };
}
