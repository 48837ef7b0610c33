/**
 * The one validation every issuing path goes through (spec → gen, gencert, genkey, selfsign, sign,
 * -initca): no control character and no oversized value in any subject attribute or SAN, SANs that
 * are well-formed and addressable, and a public key etcd-tls would itself generate. issueCertificate
 * and buildCsr call validateRequest, so nothing reaches a certificate or CSR without it; the input
 * readers call checkText early to name the file and field.
 *
 * Limits (documented in the README): a subject attribute value is at most 256 characters (RFC 5280's
 * upper bounds are 64 for CN/O/OU and 128 for L/ST; Go and cfssl enforce none, so a little room is
 * kept for existing names), a DNS name 253, an email 320, a URI 2048.
 */
import { fail } from '../errors.js';
import { keySpecOfSpki } from './certificate.js';
import { children, content, decodeOid, DerError, readElement, TAG } from './der.js';
import { validateExistingKey } from './keys.js';
import { boundedMemo } from './memo.js';
import type { Name } from './name.js';
import { attributeLabel, NAME_OIDS, type NameAttributeType } from './name.js';
import { ipAddressProblem, isDnsName, type SubjectAltNames } from './san.js';
import { checkText, MAX_DNS_NAME, MAX_EMAIL, MAX_NAME_VALUE, MAX_URI } from './text.js';

export { checkText, controlCharacterIn } from './text.js';


const TYPE_BY_OID = new Map<string, NameAttributeType>(Object.entries(NAME_OIDS).map(([t, o]) => [o, t as NameAttributeType]));
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Every attribute value of a DER Name, as (label, text); a UTF8String that is not UTF-8 is refused. */
function derNameValues(der: Buffer, where: string): [string, string][] {
  const out: [string, string][] = [];
  try {
    for (const rdn of children(der, readElement(der, 0)))
      for (const atv of children(der, rdn)) {
        const [type, value] = children(der, atv);
        if (type?.tag !== TAG.OID || !value) throw new DerError('malformed name attribute');
        const oid = decodeOid(content(der, type));
        const bytes = content(der, value);
        let text: string;
        if (value.tag === TAG.UTF8_STRING) {
          try {
            text = utf8.decode(bytes);
          } catch {
            throw fail('BAD_ENCODING', `${where}: subject ${TYPE_BY_OID.get(oid) ?? oid}: is not valid UTF-8`);
          }
        } else if (value.tag === 0x1e) text = Buffer.from(bytes).swap16().toString('utf16le');
        else text = bytes.toString('latin1');
        out.push([TYPE_BY_OID.get(oid) ?? oid, text]);
      }
  } catch (e) {
    if (e instanceof DerError || e instanceof RangeError) throw fail('BAD_DER', `${where}: subject: not a valid X.500 name (${e.message})`);
    throw e;
  }
  return out;
}

/** Check every value of a subject, built or kept as DER from a CSR. */
export function validateSubject(subject: Name | Buffer, where: string): void {
  const values = Buffer.isBuffer(subject) ? derNameValues(subject, where) : subject.map((a): [string, string] => [attributeLabel(a), a.value]);
  for (const [label, value] of values) checkText(value, `${where}: subject ${label}`, MAX_NAME_VALUE);
}

// The SANs that passed, by text: a cluster's certificates repeat the same few (localhost, 127.0.0.1,
// ::1, each member's names), and checking each again cost ~2-4 ms of a 100-member gen. A SAN that
// fails is never kept (it throws, naming `where`, every time); the sets are bounded.
const passedDns = boundedMemo<true>(4096);
const passedIps = boundedMemo<true>(4096);

/** Check SANs however they were obtained (parsed from hosts, or copied from a CSR). */
export function validateSans(sans: SubjectAltNames, where: string): void {
  for (const name of sans.dns)
    passedDns(name, () => {
      checkText(name, `${where}: DNS SAN`, MAX_DNS_NAME);
      if (!isDnsName(name)) throw fail('BAD_HOSTNAME', `${where}: DNS SAN "${name}" is not a valid DNS name`);
      return true;
    });
  for (const ip of sans.ips)
    passedIps(ip, () => {
      const problem = ipAddressProblem(ip);
      if (problem) throw fail('BAD_HOSTNAME', `${where}: IP SAN ${ip} ${problem}`);
      return true;
    });
  for (const email of sans.emails) checkText(email, `${where}: email SAN`, MAX_EMAIL);
  for (const uri of sans.uris) checkText(uri, `${where}: URI SAN`, MAX_URI);
}

/**
 * A P-256 SubjectPublicKeyInfo with an uncompressed point, as etcd-tls generates them: these 27 bytes
 * (SEQUENCE, id-ecPublicKey, prime256v1, BIT STRING, 0x04) and the 64 bytes of the point.
 */
const P256_SPKI_HEADER = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d03010703420004', 'hex');

/**
 * Recognised by its bytes, without the DER walk: keySpecOfSpki's OID decoding, cold, cost ~10 ms of
 * the 203 certificates of a 100-member gen. The point itself is OpenSSL's to check, as before.
 */
const isP256Spki = (spki: Buffer): boolean => spki.length === 91 && P256_SPKI_HEADER.compare(spki, 0, 27) === 0;

/** The key a certificate would certify: only what etcd-tls itself generates (RSA ≥ 2048, P-256/384/521, Ed25519). */
export function validatePublicKey(spki: Buffer, where: string): void {
  if (isP256Spki(spki)) return;
  let spec;
  try {
    spec = keySpecOfSpki(spki);
  } catch (e) {
    throw fail('BAD_KEY_SPEC', `${where}: public key: ${(e as Error).message} (etcd-tls certifies RSA, ECDSA P-256/P-384/P-521 and Ed25519 keys)`);
  }
  validateExistingKey(spec, `${where}: public key`);
}

/** Everything above, for one request. `where` names its source (a file, `spec: nodes/m1/server`). */
export function validateRequest(request: { subject: Name | Buffer; sans: SubjectAltNames; publicKey: Buffer }, where: string): void {
  validateSubject(request.subject, where);
  validateSans(request.sans, where);
  validatePublicKey(request.publicKey, where);
}
