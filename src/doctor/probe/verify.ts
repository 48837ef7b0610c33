/**
 * Verifying a certificate chain the way Go's crypto/x509 does for etcd and etcdctl, but reporting WHY
 * it fails: unknown authority (and which CA was a near miss), expiry, the host not in the SANs (with
 * Go's three different wordings), and extended key usage. Pure: DER and a clock in, problems out.
 *
 * OpenSSL (what Node's TLS uses) is laxer than Go in two ways that matter to etcd users: it still
 * matches a host name against the Common Name, and it accepts leaf certificates without the EKU a Go
 * peer demands. The checks here follow Go, so a certificate curl accepts can still be reported.
 */
import { isIP } from 'node:net';
import { parseCertificate, type ParsedCertificate } from '../../pki/certificate.js';
import { buildChain } from '../../pki/chain.js';
import { EXT } from '../../pki/extensions.js';

/** What a person needs to know about one certificate of a chain. */
export interface ChainEntry {
  subject: string;
  issuer: string;
  serialHex: string;
  notBefore: string;
  notAfter: string;
  /** `IP:127.0.0.61`, `DNS:member1`, as openssl prints them. */
  sans: string[];
  extKeyUsage: string[];
  isCA: boolean;
  /** True when the certificate came from the CA file rather than from the server. */
  fromCaFile: boolean;
}

/** A problem with a chain, named by the catalogue entry (doctor/explain/catalogue.ts) that explains it. */
export interface ChainProblem {
  id: 'unknown-authority' | 'cert-expired' | 'san-mismatch' | 'no-ip-sans' | 'legacy-common-name' | 'eku-incompatible';
  /** One line, in the words a Go client would use where it has words for it. */
  message: string;
  /** The certificate at fault (its subject). */
  certificate: string;
}

export interface ChainVerdict {
  /** Subject of the trusted CA the chain ends at; undefined when it does not verify. */
  anchor?: string;
  problems: ChainProblem[];
}

export type Usage = 'serverAuth' | 'clientAuth';

type Parsed = ParsedCertificate;

const parse = parseCertificate;

const goTime = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** `IP:a, DNS:b` as openssl -text lists SANs. */
function sanList(view: ParsedCertificate): string[] {
  return [...view.sans.dns.map((d) => `DNS:${d}`), ...view.sans.ips.map((i) => `IP:${i}`)];
}

export function describeCertificate(der: Buffer, fromCaFile = false): ChainEntry {
  const view = parseCertificate(der, 'certificate');
  return {
    subject: view.subject.text || '(empty subject)',
    issuer: view.issuer.text || '(empty issuer)',
    serialHex: view.serialHex,
    notBefore: view.notBefore.toISOString(),
    notAfter: view.notAfter.toISOString(),
    sans: sanList(view),
    extKeyUsage: view.extKeyUsage.map(String),
    isCA: view.isCA,
    fromCaFile,
  };
}

const sameDer = (a: Parsed, b: Parsed): boolean => a.der.equals(b.der);

/** Go's EKU rule: no EKU extension, anyExtendedKeyUsage, or the usage itself. CAs are checked the same way. */
export function allowsUsage(view: Pick<ParsedCertificate, 'extKeyUsage'>, usage: Usage): boolean {
  return view.extKeyUsage.length === 0 || view.extKeyUsage.includes('any') || view.extKeyUsage.includes(usage);
}

/**
 * Build the path leaf → (presented intermediates) → trusted CA, then check validity and usage along
 * it. Host checks are separate (`checkHost`): a client certificate has no host to match.
 */
export function verifyChain(
  presented: readonly Buffer[],
  trusted: readonly Buffer[],
  usage: Usage,
  now: Date,
): ChainVerdict {
  const [leafDer, ...rest] = presented;
  if (!leafDer) return { problems: [{ id: 'unknown-authority', message: 'no certificate was presented', certificate: '(none)' }] };
  const leaf = parse(leafDer, 'presented certificate');
  const intermediates = rest.map((d, i) => parse(d, `presented certificate ${i + 1}`));
  const roots = trusted.map((d, i) => parse(d, `CA certificate ${i + 1}`));
  const problems: ChainProblem[] = [];

  // Go's path rules, shared with check (pki/chain.ts).
  const { path, anchor, stuck } = buildChain(leaf, intermediates, roots);
  if (stuck) {
    const current = stuck;
    const issuer = current.issuer.text;
    // Same subject, wrong key: the classic regenerated CA whose old copy was distributed.
    const nearMiss = [...roots, ...intermediates].find((c) => c.subject.text === issuer && !sameDer(c, current));
    const why = current.selfIssued
      ? `it is self-signed (${current.subject.text}) and not in the CA file`
      : nearMiss
        ? `its issuer "${issuer}" has the name of a CA in the CA file, but that CA's key did not sign it (a regenerated CA with the same name?)`
        : `its issuer "${issuer}" is not in the CA file`;
    problems.push({
      id: 'unknown-authority',
      message: `x509: certificate signed by unknown authority: ${why}`,
      certificate: current.subject.text,
    });
  }

  const chain = anchor ? [...path, ...(path.some((p) => sameDer(p, anchor as Parsed)) ? [] : [anchor])] : path;
  for (const c of chain) {
    const { notBefore, notAfter } = c;
    if (now > notAfter || now < notBefore) {
      problems.push({
        id: 'cert-expired',
        message:
          `x509: certificate has expired or is not yet valid: current time ${goTime(now)} is ` +
          (now > notAfter ? `after ${goTime(notAfter)}` : `before ${goTime(notBefore)}`) +
          (c === leaf ? '' : ` (CA ${c.subject.text})`),
        certificate: c.subject.text,
      });
    }
  }
  for (const c of chain) {
    if (!allowsUsage(c, usage)) {
      problems.push({
        id: 'eku-incompatible',
        message:
          `x509: certificate specifies an incompatible key usage: ${c === leaf ? 'the certificate' : `CA ${c.subject.text}`} ` +
          `allows ${c.extKeyUsage.join(', ')} but not ${usage}`,
        certificate: c.subject.text,
      });
    }
  }
  return { ...(anchor ? { anchor: anchor.subject.text } : {}), problems };
}

/**
 * Check that `host` (what was dialled) is covered by the leaf, in Go's order and words: a CN-only
 * certificate whose CN would have matched, an IP host with no IP SANs, then the plain mismatch.
 */
export function checkHost(leafDer: Buffer, host: string): ChainProblem | undefined {
  const leaf = parse(leafDer, 'presented certificate');
  const subject = leaf.subject.text;
  const cn = leaf.subject.attributes.find((a) => a.type === 'CN')?.value;
  const hasSanExtension = leaf.extensions.some((e) => e.oid === EXT.subjectAltName);
  const bare = host.replace(/^\[|\]$/g, '');
  const ip = isIP(bare) !== 0;
  const matches = ip ? leaf.x509.checkIP(bare) !== undefined : leaf.x509.checkHost(bare, { subject: 'never' }) !== undefined;
  if (matches) return undefined;
  if (!hasSanExtension && cn !== undefined && cn.toLowerCase() === bare.toLowerCase()) {
    return { id: 'legacy-common-name', message: 'x509: certificate relies on legacy Common Name field, use SANs instead', certificate: subject };
  }
  if (ip && leaf.sans.ips.length === 0) {
    return {
      id: 'no-ip-sans',
      message: `x509: cannot validate certificate for ${bare} because it doesn't contain any IP SANs`,
      certificate: subject,
    };
  }
  const valid = ip ? leaf.sans.ips : leaf.sans.dns;
  if (valid.length === 0) {
    return {
      id: hasSanExtension ? 'san-mismatch' : 'legacy-common-name',
      message: `x509: certificate is not valid for any names, but wanted to match ${bare}`,
      certificate: subject,
    };
  }
  return { id: 'san-mismatch', message: `x509: certificate is valid for ${valid.join(', ')}, not ${bare}`, certificate: subject };
}
