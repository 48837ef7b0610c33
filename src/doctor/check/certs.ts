/**
 * Certificate checks: what etcd's Go TLS stack (go1.19 in Debian's etcd 3.4.23) and its clients will
 * refuse, found offline. Reading turns unreadable files into findings rather than exceptions, so one
 * bad file does not hide the rest of the report.
 */
import { statSync } from 'node:fs';
import { isIP } from 'node:net';
import { isEtcdTlsError } from '../../errors.js';
import { parseCertificate, type ParsedCertificate } from '../../pki/certificate.js';
import { buildChain } from '../../pki/chain.js';
import { parsePemBlocks } from '../../pki/pem.js';
import { publicKeyOfPrivateKeyPem } from '../../pki/keys.js';
import { normalizeIp } from '../../pki/san.js';
import { readFileText } from '../../store/files.js';
import { finding, type CheckCode } from './codes.js';
import type { Finding } from '../findings.js';

export type CertRole = 'server' | 'peer' | 'client';

/** One parsed certificate. */
export type LoadedCert = ParsedCertificate;

export interface LoadedCertFile {
  /** As shown in findings. */
  path: string;
  /** Every certificate that parsed, in order. */
  certs: LoadedCert[];
  /** False when etcd could not load the file at all (missing, unreadable, a block that is not a certificate). */
  ok: boolean;
  findings: Finding[];
}

export interface LoadedKeyFile {
  path: string;
  /** The SubjectPublicKeyInfo DER of the public key this private key makes (absent: the key is unusable). */
  spki?: Buffer;
  findings: Finding[];
}

const DAY = 86_400_000;
export const DEFAULT_EXPIRY_WARNING_DAYS = 30;

function readFailure(e: unknown, path: string, code: CheckCode, what: string): Finding {
  if (isEtcdTlsError(e) && e.code === 'FILE_NOT_FOUND')
    return finding('file-missing', 'error', path, `${what} does not exist`, `create it (etcd-tls gen writes every file of a cluster) or fix the path that names it`);
  const message = isEtcdTlsError(e) ? e.message.replace(`${path}: `, '') : (e as Error).message;
  return finding(code, 'error', path, message, `replace ${path} with a valid PEM ${what}`);
}

/**
 * Read a PEM file of certificates (a leaf with its chain, or a CA bundle). Every block must be a certificate.
 * `parsed` remembers certificates by DER, and whole files that read cleanly by their text: a generated
 * directory holds the same ca.pem in every folder.
 */
export function readCertificateFile(path: string, what = 'certificate file', parsed?: ParsedCertificates): LoadedCertFile {
  let text: string;
  try {
    text = readFileText(path, what);
  } catch (e) {
    return { path, certs: [], ok: false, findings: [readFailure(e, path, 'cert-invalid', what)] };
  }
  const sameText = parsed?.byText.get(text);
  if (sameText) return { path, certs: sameText, ok: true, findings: [] };
  const loaded = readCertificateText(path, text, parsed?.byDer);
  if (parsed && loaded.ok) parsed.byText.set(text, loaded.certs);
  return loaded;
}

/** What a check session has parsed: certificates by DER (base64), and the certificates of clean files by their text. */
export interface ParsedCertificates {
  byDer: Map<string, LoadedCert>;
  byText: Map<string, LoadedCert[]>;
}

function readCertificateText(path: string, text: string, parsed?: Map<string, LoadedCert>): LoadedCertFile {
  const fix = 'replace it with the PEM certificate(s) it should hold (each block "-----BEGIN CERTIFICATE-----")';
  let blocks;
  try {
    blocks = parsePemBlocks(text);
  } catch (e) {
    return { path, certs: [], ok: false, findings: [finding('cert-invalid', 'error', path, `not valid PEM: ${(e as Error).message}`, fix)] };
  }
  if (blocks.length === 0) return { path, certs: [], ok: false, findings: [finding('cert-invalid', 'error', path, 'holds no PEM block', fix)] };
  const certs: LoadedCert[] = [];
  const findings: Finding[] = [];
  blocks.forEach((b, i) => {
    const which = blocks.length > 1 ? `block ${i + 1}` : 'the PEM block';
    if (b.label !== 'CERTIFICATE') {
      // Go's CertPool.AppendCertsFromPEM and tls.X509KeyPair both reject such a file.
      findings.push(finding('cert-invalid', 'error', path, `${which} is "${b.label}", not a CERTIFICATE`, fix));
      return;
    }
    try {
      // A generated directory holds the same CA in every folder (nodes/*/ca.pem): parse each DER once.
      const key = parsed ? b.der.toString('base64') : '';
      let cert = parsed?.get(key);
      if (!cert) {
        cert = parseCertificate(b.der, path);
        parsed?.set(key, cert);
      }
      certs.push(cert);
    } catch (e) {
      // The decoder's own message already says "<path>: not a valid X.509 certificate (<why>)": keep the why.
      const message = (e as Error).message.replace(`${path}: `, '');
      const why = /^not a valid X\.509 certificate \((.*)\)$/.exec(message)?.[1] ?? message;
      findings.push(finding('cert-invalid', 'error', path, `${which} is not a valid X.509 certificate (${why})`, fix));
    }
  });
  return { path, certs, ok: findings.length === 0, findings };
}

/** Read a private key file, and flag modes that let group or others read it. */
export function readKeyFile(path: string): LoadedKeyFile {
  let text: string;
  try {
    text = readFileText(path, 'key file');
  } catch (e) {
    return { path, findings: [readFailure(e, path, 'key-invalid', 'key file')] };
  }
  const findings: Finding[] = [];
  const mode = statSync(path).mode & 0o777;
  if (mode & 0o077) {
    const others = (mode & 0o007) !== 0;
    findings.push(
      finding(
        'key-file-permissions',
        others ? 'error' : 'warning',
        path,
        `the private key is mode 0${mode.toString(8)}: readable by ${others ? 'every user on the host' : 'its group'}`,
        `chmod 600 ${path} (and chown it to the user etcd runs as)`,
      ),
    );
  }
  try {
    return { path, spki: publicKeyOfPrivateKeyPem(text, path), findings };
  } catch (e) {
    const message = isEtcdTlsError(e) ? e.message.replace(`${path}: `, '') : (e as Error).message;
    findings.push(finding('key-invalid', 'error', path, message, `replace ${path} with the unencrypted PEM private key of its certificate`));
    return { path, findings };
  }
}

export function checkKeyMatches(certPath: string, cert: LoadedCert, key: LoadedKeyFile): Finding[] {
  if (!key.spki || key.spki.equals(cert.spki)) return [];
  return [
    finding('key-mismatch', 'error', key.path, `this private key does not belong to the certificate ${certPath}`, `put the key that was issued with ${certPath} here, or reissue both together`),
  ];
}

const iso = (d: Date): string => d.toISOString().replace(/\.000Z$/, 'Z');

/** Validity window, signature hash and key strength: the checks every certificate gets, CA or leaf. */
export function checkCertificateBasics(path: string, cert: LoadedCert, now: Date, warningDays = DEFAULT_EXPIRY_WARNING_DAYS): Finding[] {
  const v = cert;
  const out: Finding[] = [];
  const renew = v.isCA ? 'create a new CA and reissue the certificates it signs' : 'reissue it (etcd-tls gen reissues what is about to expire) and copy it to every host that uses it';
  if (now > v.notAfter) {
    out.push(finding('cert-expired', 'error', path, `${v.subject.text || 'the certificate'} expired at ${iso(v.notAfter)}`, renew));
  } else if (now < v.notBefore) {
    out.push(finding('cert-not-yet-valid', 'error', path, `${v.subject.text || 'the certificate'} is valid only from ${iso(v.notBefore)}`, 'check the clock of the host that issued it and of this host, or wait until then'));
  } else if (v.notAfter.getTime() - now.getTime() < warningDays * DAY) {
    const days = Math.floor((v.notAfter.getTime() - now.getTime()) / DAY);
    out.push(finding('cert-expiring-soon', 'warning', path, `expires at ${iso(v.notAfter)}, in ${days} day${days === 1 ? '' : 's'}`, renew));
  }
  if (/SHA1/i.test(v.signatureAlgorithm)) {
    // Go does not check the signature of a trust anchor, only of what it signs.
    const root = v.isCA && v.selfIssued;
    out.push(
      finding(
        'sha1-signature',
        root ? 'warning' : 'error',
        path,
        root
          ? `the self-signed CA is signed with ${v.signatureAlgorithm}; Go ignores a root's own signature, but other tools reject it`
          : `signed with ${v.signatureAlgorithm}: Go 1.18+ (etcd 3.4.23 uses go1.19) rejects it with "x509: cannot verify signature: insecure algorithm"`,
        'reissue it with SHA-256 (etcd-tls always signs with SHA-256 or stronger)',
      ),
    );
  }
  if (v.publicKey.algo === 'rsa' && v.publicKey.size < 2048) {
    out.push(finding('weak-rsa-key', 'error', path, `the RSA key has ${v.publicKey.size} bits; 2048 is the minimum anyone accepts now`, 'reissue it with an ECDSA P-256 key or an RSA key of at least 2048 bits'));
  }
  return out;
}

const hasEku = (cert: LoadedCert, eku: 'serverAuth' | 'clientAuth'): boolean => {
  const ekus = cert.extKeyUsage;
  // No EKU extension means any usage to Go; so does anyExtendedKeyUsage.
  return ekus.length === 0 || ekus.includes(eku) || ekus.includes('any');
};

export interface LeafContext {
  roles: ReadonlySet<CertRole>;
  /** False when a configuration shows etcd does not ask for client certificates (no trusted CA, no client-cert-auth). */
  serverNeedsClientAuth?: boolean;
}

/** What each role demands of a leaf: extended key usages and SANs. */
export function checkLeafRoles(path: string, cert: LoadedCert, ctx: LeafContext): Finding[] {
  const out: Finding[] = [];
  const v = cert;
  const reissue = (usages: string): string => `reissue it with usages ${usages} (etcd-tls gen issues every role this way)`;
  if (ctx.roles.has('server')) {
    if (!hasEku(cert, 'serverAuth'))
      out.push(finding('server-cert-missing-serverauth', 'error', path, `used as etcd's server certificate but its extended key usage (${v.extKeyUsage.join(', ')}) lacks serverAuth: clients reject it`, reissue('"server auth" and "client auth"')));
    if (!hasEku(cert, 'clientAuth')) {
      const needed = ctx.serverNeedsClientAuth !== false;
      out.push(
        finding(
          'server-cert-missing-clientauth',
          needed ? 'error' : 'warning',
          path,
          needed
            ? "lacks clientAuth: etcd 3.4's gRPC gateway presents the server certificate as its client certificate, so every /v3 JSON call fails with \"incompatible key usage\""
            : 'lacks clientAuth; harmless while etcd asks for no client certificates, fatal for the gRPC gateway once --client-cert-auth or --trusted-ca-file is set',
          reissue('"server auth" and "client auth"'),
        ),
      );
    }
  }
  if (ctx.roles.has('peer')) {
    if (!hasEku(cert, 'serverAuth'))
      out.push(finding('peer-cert-missing-serverauth', 'error', path, 'used as a peer certificate, which also serves the peer port, but it lacks serverAuth', reissue('"server auth" and "client auth"')));
    if (!hasEku(cert, 'clientAuth'))
      out.push(finding('peer-cert-missing-clientauth', 'error', path, 'used as a peer certificate, which etcd also presents when it dials other members, but it lacks clientAuth', reissue('"server auth" and "client auth"')));
  }
  if (ctx.roles.has('client') && !hasEku(cert, 'clientAuth'))
    out.push(finding('client-cert-missing-clientauth', 'error', path, 'a client certificate without clientAuth: etcd rejects it with "incompatible key usage"', reissue('"client auth"')));

  const s = v.sans;
  if ([...s.dns, ...s.ips, ...s.emails, ...s.uris].some((n) => n === ''))
    out.push(finding('san-empty-entry', 'warning', path, 'has an empty SAN entry (cfssl writes one for "hosts": [""]); RFC 5280 forbids it and strict parsers reject the certificate', 'reissue it without the empty host'));
  if ((ctx.roles.has('server') || ctx.roles.has('peer')) && s.dns.length + s.ips.length === 0)
    out.push(finding('cert-cn-only', 'error', path, `has no DNS or IP SANs, only CN "${v.subject.attributes.find((a) => a.type === 'CN')?.value ?? ''}": Go 1.15+ clients (kube-apiserver 1.19+, etcdctl) reject it ("relies on legacy Common Name field")`, 'reissue it with every host name and IP address it is reached by as SANs'));
  return out;
}

export interface CaBundle {
  path: string;
  certs: LoadedCert[];
}

/**
 * Verify a leaf (and any intermediates after it in its file) up to a CA in `bundle` with Go's rules
 * (pki/chain.ts, the same builder probe uses); then the authority key ids along the path, which Go
 * ignores but OpenSSL-based clients do not.
 */
export function checkChain(path: string, chain: readonly LoadedCert[], bundle: CaBundle): Finding[] {
  const [leaf, ...intermediates] = chain;
  if (!leaf) return [];
  const built = buildChain(leaf, intermediates, bundle.certs);
  if (built.stuck) {
    const current = built.stuck;
    const signer = built.misnamedSigner;
    if (signer)
      return [
        finding('cert-issuer-mismatch', 'error', path, `its issuer name (${current.issuer.text}) differs from the subject of the CA whose key signed it (${signer.subject.text}); Go finds issuers by name and fails with "unknown authority"`, `reissue it from ${bundle.path}`),
      ];
    const cas = bundle.certs.map((c) => c.subject.text).join('; ') || 'none';
    return [
      finding(
        'cert-not-signed-by-ca',
        'error',
        path,
        `${current === leaf ? 'not' : `its intermediate ${current.subject.text} is not`} signed by any CA in ${bundle.path} (issuer ${current.issuer.text}; CAs there: ${cas}): peers and clients fail with "certificate signed by unknown authority"`,
        `reissue it from the CA in ${bundle.path}, or put the CA that issued it into ${bundle.path} on every host`,
      ),
    ];
  }
  const links = built.anchor && built.anchor !== leaf ? [...built.path, built.anchor] : built.path;
  for (let i = 0; i + 1 < links.length; i++) {
    const current = links[i] as LoadedCert;
    const signer = links[i + 1] as LoadedCert;
    if (current.authorityKeyId && signer.subjectKeyId && current.authorityKeyId !== signer.subjectKeyId)
      return [
        finding('cert-aki-mismatch', 'warning', path, `its authority key id ${current.authorityKeyId} differs from the CA's subject key id ${signer.subjectKeyId}; OpenSSL-based clients refuse the chain`, `reissue it from ${bundle.path}`),
      ];
  }
  return [];
}

/** Checks of a trusted CA file: every entry a usable CA, no EKU lists that narrow leaves, distinct subjects. */
export function checkCaBundle(bundle: CaBundle, now: Date, warningDays = DEFAULT_EXPIRY_WARNING_DAYS): Finding[] {
  const out: Finding[] = [];
  const seen = new Map<string, LoadedCert>();
  bundle.certs.forEach((ca, i) => {
    const v = ca;
    const which = bundle.certs.length > 1 ? `certificate ${i + 1} (${v.subject.text})` : v.subject.text;
    if (!v.isCA)
      out.push(finding('ca-not-ca', 'error', bundle.path, `${which} is not a CA certificate (no basicConstraints CA:TRUE), so Go cannot use it to verify anything`, 'put the CA certificate (ca.pem) in this file, not a leaf certificate'));
    if (v.isCA && v.extKeyUsage.length > 0 && !v.extKeyUsage.includes('any')) {
      const lacks = (['serverAuth', 'clientAuth'] as const).filter((e) => !v.extKeyUsage.includes(e));
      out.push(
        finding(
          'ca-has-eku',
          lacks.length ? 'error' : 'warning',
          bundle.path,
          lacks.length
            ? `${which} restricts extended key usage to ${v.extKeyUsage.join(', ')}: Go rejects every leaf it signs for ${lacks.join(' and ')} ("incompatible key usage")`
            : `${which} carries an extended key usage list (${v.extKeyUsage.join(', ')}); any narrower list would break leaves`,
          'recreate the CA without an extended key usage extension (etcd-tls CAs have none)',
        ),
      );
    }
    const key = ca.subjectDer.toString('hex');
    const twin = seen.get(key);
    if (twin)
      out.push(finding('ca-duplicate-subject', 'warning', bundle.path, `two CAs share the subject ${v.subject.text}: a client holding only one of them fails with "unknown authority (possibly because of crypto/... verification error)"`, 'give every CA a distinct subject (etcd-tls puts the cluster name in the CA CN)'));
    else seen.set(key, ca);
    out.push(...checkCertificateBasics(bundle.path, ca, now, warningDays).map((f) => ({ ...f, message: bundle.certs.length > 1 ? `${which}: ${f.message}` : f.message })));
  });
  return out;
}

// ---------------------------------------------------------------------------------------------------
// SANs against hosts

/** Whether a certificate's SANs cover `host` as Go's VerifyHostname matches it (IP exactly; DNS with one-label wildcards). */
export function certCoversHost(cert: LoadedCert, host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  if (isIP(h)) return cert.sans.ips.includes(normalizeIp(h));
  const name = h.toLowerCase().replace(/\.$/, '');
  return cert.sans.dns.some((d) => {
    const pattern = d.toLowerCase().replace(/\.$/, '');
    if (pattern === name) return true;
    if (!pattern.startsWith('*.')) return false;
    const dot = name.indexOf('.');
    return dot > 0 && name.slice(dot + 1) === pattern.slice(2);
  });
}

export interface ExpectedHost {
  host: string;
  /** Where it came from, for the message: `etcd.env: ETCD_ADVERTISE_CLIENT_URLS`. */
  from: string;
}

const sansText = (cert: LoadedCert): string =>
  [...cert.sans.dns.map((d) => `DNS:${d}`), ...cert.sans.ips.map((i) => `IP:${i}`)].join(', ') || 'no SANs';

/** The server certificate must cover the host of every advertised client URL. */
export function checkServerSans(path: string, cert: LoadedCert, advertised: readonly ExpectedHost[]): Finding[] {
  return advertised
    .filter((a) => !certCoversHost(cert, a.host))
    .map((a) =>
      finding(
        'server-san-missing-host',
        'error',
        path,
        `does not cover ${a.host}, advertised in ${a.from} (certificate has ${sansText(cert)}): clients fail with ${isIP(a.host.replace(/^\[|\]$/g, '')) && cert.sans.ips.length === 0 ? '"doesn\'t contain any IP SANs"' : `"certificate is valid for ..., not ${a.host}"`}`,
        `reissue it with ${isIP(a.host.replace(/^\[|\]$/g, '')) ? 'IP' : 'DNS'} SAN ${a.host} (add it to the member in the cluster spec, then etcd-tls gen)`,
      ),
    );
}

export interface PeerSanContext {
  advertised: readonly ExpectedHost[];
  /** Hosts of listen-peer-urls; wildcards (0.0.0.0, ::) included as written. */
  listen: readonly ExpectedHost[];
  /** Whether some member's peer URL in initial-cluster has a loopback host. */
  loopbackPeer: boolean;
  /** --experimental-peer-skip-client-san-verification is set: inbound peers are not checked by address. */
  skipClientSanVerification: boolean;
}

const WILDCARDS = new Set(['0.0.0.0', '::', '']);
/** Whether a host (no brackets) is a loopback address or name. */
export const isLoopbackHost = (host: string): boolean => host === 'localhost' || host.startsWith('127.') || host === '::1';


/**
 * The peer certificate is checked twice: by members dialing this one (against its advertised peer URL
 * host) and by members it dials (against the TCP source address of the connection, which etcd checks
 * unless SAN verification is skipped).
 */
export function checkPeerSans(path: string, cert: LoadedCert, ctx: PeerSanContext): Finding[] {
  const out: Finding[] = [];
  for (const a of ctx.advertised) {
    if (!certCoversHost(cert, a.host))
      out.push(finding('peer-san-missing-host', 'error', path, `does not cover ${a.host}, advertised in ${a.from} (certificate has ${sansText(cert)}): members dialing it fail with "certificate is valid for ..., not ${a.host}"`, `reissue it with SAN ${a.host} (etcd-tls gen puts every member address in its peer certificate)`));
  }
  if (ctx.skipClientSanVerification) return out;
  const hasDns = cert.sans.dns.length > 0;
  const hasIps = cert.sans.ips.length > 0;
  for (const l of ctx.listen) {
    const host = l.host.replace(/^\[|\]$/g, '');
    if (WILDCARDS.has(host) || !isIP(host) || certCoversHost(cert, host) || !hasIps) continue;
    out.push(
      finding(
        'peer-san-missing-listen-ip',
        hasDns ? 'warning' : 'error',
        path,
        `does not cover ${host}, where the member listens (${l.from}) and so usually dials from: other members reject its connections with "certificate is valid for ..., not ${host}"${hasDns ? ' unless reverse DNS of that address matches a DNS SAN' : ''}`,
        `reissue it with IP SAN ${host}`,
      ),
    );
  }
  if (!hasIps) return out;
  const loopbackPeers = ctx.loopbackPeer || ctx.advertised.some((a) => isLoopbackHost(a.host.replace(/^\[|\]$/g, '')));
  if (loopbackPeers && !cert.sans.ips.includes('127.0.0.1')) {
    out.push(
      finding(
        'peer-san-dial-source',
        hasDns ? 'warning' : 'error',
        path,
        'members talk over loopback, and Linux dials loopback peers from 127.0.0.1 whatever address a member advertises; this certificate lacks IP SAN 127.0.0.1, so peers reject its connections ("valid for 127.0.0.x, not 127.0.0.1")',
        'reissue the peer certificate with IP SAN 127.0.0.1 as well (etcd-tls gen adds it), or set --experimental-peer-skip-client-san-verification',
      ),
    );
  } else if (ctx.listen.some((l) => WILDCARDS.has(l.host.replace(/^\[|\]$/g, ''))) && !hasDns) {
    out.push(
      finding(
        'peer-san-dial-source',
        'warning',
        path,
        `the member listens on every address, and peers check the address it dials them FROM; the certificate covers only ${sansText(cert)}`,
        "reissue it with every address of the host that can be a connection's source, or listen on one address",
      ),
    );
  }
  return out;
}
