/**
 * `certinfo`: cfssl's JSON views of a certificate (its certinfo.Certificate object) and of a CSR
 * (Go's x509.CertificateRequest, marshalled as cfssl prints it), so scripts written against
 * `cfssl certinfo | jq ...` keep working.
 */
import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { connect } from 'node:tls';
import { isIP } from 'node:net';
import { fail } from '../errors.js';
import { children, content, decodeOid, raw, readElement, TAG, type Element } from '../pki/der.js';
import { toPem } from '../pki/pem.js';
import { decodeOrBadDer, inspectCsr, type NameView } from '../pki/inspect.js';
import { parseCertificate } from '../pki/certificate.js';
import { NAME_OIDS, type NameAttributeType } from '../pki/name.js';
import type { OutputValue } from './json.js';

type Obj = { [key: string]: OutputValue | undefined };

/** `2026-11-28T10:28:00Z`, as Go prints a time.Time. */
const goTime = (d: Date): string => d.toISOString().replace(/\.000Z$/, 'Z');

/** `B7:C0:BC:...` (cfssl HEAD's %02X; 1.2.0 dropped leading zeros, a bug not worth copying). */
const keyIdText = (hex: string | undefined): string => (hex ? hex.toUpperCase().match(/../g)?.join(':') ?? '' : '');

/** Every attribute value of a name in order, with the OID of each. */
function nameAttributes(v: NameView): { oid: string; type?: NameAttributeType; value: string }[] {
  return [
    ...v.attributes.map((a) => ({ oid: NAME_OIDS[a.type], type: a.type, value: a.value })),
    ...v.other.map((o) => {
      const i = o.indexOf('=');
      return { oid: o.slice(0, i), value: o.slice(i + 1) };
    }),
  ];
}

function certinfoName(v: NameView): Obj {
  const values = (t: NameAttributeType): string[] => v.attributes.filter((a) => a.type === t).map((a) => a.value);
  const joined = (t: NameAttributeType): string | undefined => values(t).join(',') || undefined;
  const names = nameAttributes(v).map((a) => a.value);
  return {
    common_name: values('CN').at(-1) || undefined,
    serial_number: values('serialNumber').at(-1) || undefined,
    country: joined('C'),
    organization: joined('O'),
    organizational_unit: joined('OU'),
    locality: joined('L'),
    province: joined('ST'),
    street_address: joined('street'),
    postal_code: joined('postalCode'),
    names: names.length ? names : undefined,
  };
}

/**
 * cfssl's certinfo object for a DER certificate. SANs list DNS names then IPs as cfssl does, then
 * emails and URIs (which cfssl leaves out).
 */
export function certificateInfo(der: Buffer, source: string): Obj {
  // A URI SAN that Go's url.Parse would refuse (as cfssl does) or DER that only the stricter walker rejects.
  return decodeOrBadDer(source, 'X.509 certificate', () => certificateObject(der, source));
}

function certificateObject(der: Buffer, source: string): Obj {
  const v = parseCertificate(der, source);
  const sans = [...v.sans.dns, ...v.sans.ips, ...v.sans.emails, ...v.sans.uris];
  return {
    subject: certinfoName(v.subject),
    issuer: certinfoName(v.issuer),
    serial_number: v.serialDecimal,
    sans: sans.length ? sans : undefined,
    not_before: goTime(v.notBefore),
    not_after: goTime(v.notAfter),
    sigalg: v.signatureAlgorithm,
    authority_key_id: keyIdText(v.authorityKeyId),
    subject_key_id: keyIdText(v.subjectKeyId),
    pem: toPem('CERTIFICATE', der),
  };
}

// Go's x509.SignatureAlgorithm and PublicKeyAlgorithm enums, which cfssl prints as numbers.
const GO_SIG_ALG: Record<string, number> = {
  SHA1WithRSA: 3,
  SHA256WithRSA: 4,
  SHA384WithRSA: 5,
  SHA512WithRSA: 6,
  ECDSAWithSHA1: 9,
  ECDSAWithSHA256: 10,
  ECDSAWithSHA384: 11,
  ECDSAWithSHA512: 12,
  Ed25519: 16,
};
const GO_KEY_ALG = { rsa: 1, ecdsa: 3, ed25519: 4 } as const;

const arcs = (oid: string): number[] => oid.split('.').map(Number);
const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
const bigFromB64u = (s: string | undefined): bigint => BigInt(`0x${Buffer.from(s ?? '', 'base64url').toString('hex') || '0'}`);

function goPublicKey(spki: Buffer): OutputValue {
  const jwk: JsonWebKey = createPublicKey({ key: spki, format: 'der', type: 'spki' }).export({ format: 'jwk' });
  if (jwk.kty === 'RSA') return { N: bigFromB64u(jwk.n), E: Number(bigFromB64u(jwk.e)) };
  if (jwk.kty === 'EC') return { Curve: {}, X: bigFromB64u(jwk.x), Y: bigFromB64u(jwk.y) };
  return b64(Buffer.from(jwk.x ?? '', 'base64url'));
}

function goUrl(u: string): OutputValue {
  const url = new URL(u);
  return {
    Scheme: url.protocol.replace(/:$/, ''),
    Opaque: '',
    User: null,
    Host: url.host,
    Path: decodeURIComponent(url.pathname),
    RawPath: '',
    OmitHost: false,
    ForceQuery: false,
    RawQuery: url.search.replace(/^\?/, ''),
    Fragment: decodeURIComponent(url.hash.replace(/^#/, '')),
    RawFragment: '',
  };
}

interface RawExtension {
  oid: string;
  critical: boolean;
  value: Buffer;
}

/** The extensionRequest attributes of a CSR, read with the DER walker. */
function csrExtensionRequests(der: Buffer, info: Element): RawExtension[][] {
  const attrs = children(der, info).find((e) => e.tag === 0xa0);
  const out: RawExtension[][] = [];
  for (const attr of attrs ? children(der, attrs) : []) {
    const [type, values] = children(der, attr);
    if (!type || !values || decodeOid(content(der, type)) !== '1.2.840.113549.1.9.14') continue;
    for (const set of children(der, values)) {
      out.push(
        children(der, set).map((ext) => {
          const parts = children(der, ext);
          const critical = parts.length === 3 && parts[1]?.tag === TAG.BOOLEAN && der[parts[1].contentStart] !== 0;
          return { oid: decodeOid(content(der, parts[0] as Element)), critical, value: content(der, parts[parts.length - 1] as Element) };
        }),
      );
    }
  }
  return out;
}

/** Go's x509.CertificateRequest for a DER CSR, as `cfssl certinfo -csr` prints it. */
export function csrInfo(der: Buffer, source: string): Obj {
  return decodeOrBadDer(source, 'PKCS#10 certificate request', () => csrObject(der, source));
}

function csrObject(der: Buffer, source: string): Obj {
  const v = inspectCsr(der, source);
  const top = readElement(der, 0);
  const [info, , sig] = children(der, top) as [Element, Element, Element];
  const [, subject, spki] = children(der, info) as [Element, Element, Element];
  const requests = csrExtensionRequests(der, info);
  const extensions = requests.flat();
  const attrs = nameAttributes(v.subject);
  const list = (t: NameAttributeType): string[] | null => {
    const vals = v.subject.attributes.filter((a) => a.type === t).map((a) => a.value);
    return vals.length ? vals : null;
  };
  const orNull = <T extends OutputValue>(xs: T[]): T[] | null => (xs.length ? xs : null);
  return {
    Raw: b64(der),
    RawTBSCertificateRequest: b64(raw(der, info)),
    RawSubjectPublicKeyInfo: b64(raw(der, spki)),
    RawSubject: b64(raw(der, subject)),
    Version: 0,
    Signature: b64(content(der, sig).subarray(1)),
    SignatureAlgorithm: GO_SIG_ALG[v.signatureAlgorithm] ?? 0,
    PublicKeyAlgorithm: GO_KEY_ALG[v.publicKey.algo],
    PublicKey: goPublicKey(v.publicKeySpki),
    Subject: {
      Country: list('C'),
      Organization: list('O'),
      OrganizationalUnit: list('OU'),
      Locality: list('L'),
      Province: list('ST'),
      StreetAddress: list('street'),
      PostalCode: list('postalCode'),
      SerialNumber: list('serialNumber')?.at(-1) ?? '',
      CommonName: list('CN')?.at(-1) ?? '',
      Names: orNull(attrs.map((a) => ({ Type: arcs(a.oid), Value: a.value }))),
      ExtraNames: null,
    },
    // Go reads each extension's second element as the attribute value: the bytes, or nothing for a critical flag.
    Attributes: orNull(
      requests.map((exts) => ({
        Type: arcs('1.2.840.113549.1.9.14'),
        Value: [exts.map((e) => ({ Type: arcs(e.oid), Value: e.critical ? null : b64(e.value) }))],
      })),
    ),
    Extensions: orNull(extensions.map((e) => ({ Id: arcs(e.oid), Critical: e.critical, Value: b64(e.value) }))),
    ExtraExtensions: null,
    DNSNames: orNull(v.sans.dns),
    EmailAddresses: orNull(v.sans.emails),
    IPAddresses: orNull(v.sans.ips),
    URIs: orNull(v.sans.uris.map(goUrl)),
  };
}

/**
 * The leaf certificate a TLS server presents (`certinfo -domain host[:port]`, port 443 by default).
 * The chain is not verified: the point is to look at what is served.
 */
export function fetchServerCertificate(domain: string, timeoutMs = 10_000): Promise<Buffer> {
  const m = /^\[([^\]]+)\](?::(\d+))?$|^([^:]+)(?::(\d+))?$/.exec(domain);
  const host = m?.[1] ?? m?.[3];
  const port = Number(m?.[2] ?? m?.[4] ?? 443);
  if (!host || !(port > 0 && port < 65536)) throw fail('USAGE', `certinfo: -domain ${domain}: expected host or host:port`);
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, rejectUnauthorized: false, ...(isIP(host) ? {} : { servername: host }) });
    const timer = setTimeout(() => socket.destroy(new Error(`no TLS handshake within ${timeoutMs / 1000} s`)), timeoutMs);
    socket.once('secureConnect', () => {
      const cert = socket.getPeerCertificate();
      clearTimeout(timer);
      socket.destroy();
      if (!cert?.raw) reject(fail('PROBE_FAILED', `${domain}: the server presented no certificate`));
      else resolve(cert.raw);
    });
    socket.once('error', (e) => {
      clearTimeout(timer);
      reject(fail('PROBE_FAILED', `${domain}: ${e.message}`));
    });
  });
}
