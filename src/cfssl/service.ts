/**
 * The signing service: cfssl's API operations (sign, authsign, newcert, newkey, init_ca, info,
 * certinfo, gencrl, revoke, crl) as use cases over one CA, its signing config and its ledger. The
 * HTTP edge (src/server/) parses nothing itself: it hands request bodies here and renders the result.
 *
 * Certificates come from the CLI's own flows (signCsr, genCert) and so follow the same rules: an
 * unknown profile and a leaf outliving its CA are errors (cfssl silently signs). Every certificate
 * is recorded in the ledger before it is returned; if the ledger refuses, the certificate is dropped
 * and the caller gets the error.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { fail } from '../errors.js';
import type { Issuer } from '../pki/certificate.js';
import { parseCertificate } from '../pki/certificate.js';
import { CRL_REASONS, issueCrl, type RevokedEntry } from '../pki/crl.js';
import { CFSSL_EXT_KEY_USAGES, CFSSL_KEY_USAGES } from '../pki/extensions.js';
import { parseCertificatePem, parsePemBlocks, toPem } from '../pki/pem.js';
import { parsePrivateKeyPem } from '../pki/keys.js';
import type { Profile } from '../pki/profile.js';
import { systemClock, systemRandom, type Clock, type RandomSource } from '../pki/issue.js';
import type { Ledger } from '../ledger/ledger.js';
import { ledgerFailure as ledgerFailureOf } from '../ledger/failure.js';
import { certificateRecord } from '../ledger/record.js';
import { authToken, resolveAuthKey } from './auth.js';
import { certificateInfo } from './certinfo.js';
import { selectConfigProfile, type ConfigProfile, type SigningConfig } from './config.js';
import { readCsrRequest, readSubject } from './csr.js';
import { ObjectReader, type Warn } from './fields.js';
import { genCert, genKey, initCa } from './gencert.js';
import { parseJson, type CfsslResult, type IssuedLeaf } from './json.js';
import { signCsr } from './sign.js';

/** A cfssl API message: a warning that does not stop the request (cfssl uses 5300 for lint notes). */
export interface ApiMessage {
  code: number;
  message: string;
}

/** What an operation returns: its `result` and the envelope's `messages`. */
export interface ApiOutcome {
  result: unknown;
  messages: ApiMessage[];
  /** Certificates this call recorded (for the server's metrics). */
  issued?: number;
  revoked?: number;
}

export interface SigningServiceOptions {
  /** The CA; without it sign, authsign, newcert, info and crl are unavailable (as in cfssl). */
  issuer?: Issuer;
  /** The CA certificate as PEM, returned by info. */
  issuerPem?: string;
  config?: SigningConfig;
  /** Without a ledger, revoke and crl are unavailable and issuing endpoints are refused. */
  ledger?: Ledger;
  /** `ca_label` of the records (cfssl leaves it empty for a single-CA server). */
  caLabel?: string;
  clock?: Clock;
  random?: RandomSource;
}

/** Operations by endpoint name, and what each needs. */
export const OPERATIONS = {
  sign: { needs: ['ca', 'ledger'] },
  authsign: { needs: ['ca', 'ledger'] },
  newcert: { needs: ['ca', 'ledger'] },
  info: { needs: ['ca'] },
  gencrl: { needs: [] },
  newkey: { needs: [] },
  init_ca: { needs: [] },
  certinfo: { needs: [] },
  revoke: { needs: ['ca', 'ledger'] },
  crl: { needs: ['ca', 'ledger'] },
} as const;
export type OperationName = keyof typeof OPERATIONS;

const CFSSL_USAGE_NAME = new Map<string, string>();
for (const [name, v] of [...Object.entries(CFSSL_KEY_USAGES), ...Object.entries(CFSSL_EXT_KEY_USAGES)]) if (!CFSSL_USAGE_NAME.has(v)) CFSSL_USAGE_NAME.set(v, name);

/** Go's time.Duration text for whole hours, minutes and seconds (`43800h0m0s` → cfssl prints `43800h`). */
function durationText(ms: number): string {
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1000;
  return m === 0 && s === 0 ? `${h}h` : `${h}h${m}m${s}s`;
}

function sums(pem: string): Record<string, string> {
  const der = parsePemBlocks(pem)[0]?.der ?? Buffer.alloc(0);
  const hex = (alg: string): string => createHash(alg).update(der).digest('hex').toUpperCase();
  return { md5: hex('md5'), 'sha-1': hex('sha1'), 'sha-256': hex('sha256') };
}

function reader(body: string, source: string, warn: Warn): ObjectReader {
  return ObjectReader.root(parseJson(body, source), warn);
}


export class SigningService {
  readonly issuer: Issuer | undefined;
  readonly ledger: Ledger | undefined;
  private readonly config: SigningConfig | undefined;
  private readonly clock: Clock;
  private readonly random: RandomSource;
  private readonly akiHex: string;
  private readonly authKeys = new Map<string, Buffer>();

  constructor(private readonly opts: SigningServiceOptions) {
    this.issuer = opts.issuer;
    this.ledger = opts.ledger;
    this.config = opts.config;
    this.clock = opts.clock ?? systemClock;
    this.random = opts.random ?? systemRandom;
    this.akiHex = opts.issuer?.keyId.toString('hex') ?? '';
    // Every key is resolved at start-up: a missing env var or file stops the server, not a request.
    for (const [name, spec] of opts.config?.authKeys ?? []) this.authKeys.set(name, resolveAuthKey(name, spec, opts.config?.source ?? 'config'));
  }

  /** What an endpoint lacks to run here, or undefined when it can. */
  missingFor(op: OperationName): string | undefined {
    const needs: readonly string[] = OPERATIONS[op].needs;
    if (needs.includes('ca') && !this.issuer) return 'no CA (-ca and -ca-key, or a directory holding ca.pem and ca-key.pem)';
    if (needs.includes('ledger') && !this.ledger) return 'no ledger (--db)';
    return undefined;
  }

  private requireIssuer(): Issuer {
    if (!this.issuer) throw fail('ENDPOINT_DISABLED', 'this server has no CA');
    return this.issuer;
  }

  private profileFor(name: string | undefined): ConfigProfile {
    return selectConfigProfile(this.config, name || undefined);
  }

  /** The certificate's ledger row. Recorded (committed) before the certificate is handed out. */
  private async record(issued: IssuedLeaf, pem: string, profile: Profile): Promise<void> {
    if (!this.ledger) throw fail('ENDPOINT_DISABLED', 'this server has no ledger, and it issues nothing it cannot record');
    const rec = certificateRecord(issued, pem, { authorityKeyIdentifier: this.akiHex, caLabel: this.opts.caLabel ?? '', issuedAt: this.clock.now(), metadata: { profile: profile.name } });
    try {
      await this.ledger.insert([rec]);
    } catch (e) {
      throw ledgerFailure(e);
    }
  }

  /** `/sign`: `{"certificate_request", "hosts" | "hostname", "subject", "profile", "label"}`. */
  async sign(body: string): Promise<ApiOutcome> {
    return this.signRequest(body, 'sign request', false);
  }

  /**
   * `/authsign`: `{"token", "request"}`, both base64; `token` must be HMAC-SHA256(key, request bytes)
   * under the profile's auth_key or prev_auth_key. A replayed request is accepted, as in cfssl (the
   * standard provider has no nonce or time): it only yields another certificate for the same public
   * key, and each one is in the ledger.
   */
  async authsign(body: string): Promise<ApiOutcome> {
    const messages: ApiMessage[] = [];
    const r = reader(body, 'authsign request', (m) => messages.push({ code: 5300, message: m }));
    const token = base64Field(r, 'token');
    const request = base64Field(r, 'request');
    // Sent by cfssl's client (timestamp as a number) and ignored by its standard provider, as here.
    r.member('timestamp');
    r.member('remote_address');
    r.finish(['token', 'request', 'timestamp', 'remote_address']);
    const inner = request.toString('utf8');
    const outcome = await this.signRequest(inner, 'authsign request.request', token);
    return { ...outcome, messages: [...messages, ...outcome.messages] };
  }

  private async signRequest(body: string, source: string, token: Buffer | false): Promise<ApiOutcome> {
    const issuer = this.requireIssuer();
    const messages: ApiMessage[] = [];
    const warn: Warn = (m) => messages.push({ code: 5300, message: m });
    const r = reader(body, source, warn);
    const csrPem = r.string('certificate_request');
    const hosts = r.stringList('hosts');
    const hostname = r.string('hostname');
    const subjectReader = r.object('subject');
    const subject = subjectReader ? readSubject(subjectReader) : undefined;
    subjectReader?.finish(['CN', 'names', 'SerialNumber']);
    const profileName = r.string('profile');
    const label = r.string('label');
    r.boolean('bundle');
    r.finish(['certificate_request', 'hosts', 'hostname', 'subject', 'profile', 'label', 'bundle'], {
      serial: 'serial numbers are always random',
      extensions: 'requests carry no raw extensions here',
      crl_override: 'the CRL URL comes from the profile',
    });
    if (!csrPem) throw fail('MISSING_FIELD', `${source}: certificate_request: missing (a PEM CSR)`);
    if (label) warn(`${source}: label "${label}" is ignored (this server has one CA)`);

    const chosen = this.profileFor(profileName);
    if (token === false && chosen.authKeys) throw fail('AUTH_REQUIRED', `profile ${chosen.profile.name}: requires authentication: use /authsign with a token`);
    if (token !== false) this.checkToken(chosen, token, Buffer.from(body, 'utf8'));

    // The API's hosts list (or else its hostname string) replaces the CSR's SANs, as in cfssl.
    const replacement = hosts && hosts.length > 0 ? hosts.join(',') : hostname;
    const result = signCsr(csrPem, `${source}: certificate_request`, {
      issuer,
      profile: chosen.profile,
      clock: this.clock,
      random: this.random,
      warn,
      ...(replacement ? { hostname: replacement } : {}),
      ...(subject ? { subject, subjectSource: `${source}: subject` } : {}),
    });
    await this.record(result.issued as IssuedLeaf, result.cert as string, chosen.profile);
    return { result: { certificate: result.cert }, messages, issued: 1 };
  }

  private checkToken(chosen: ConfigProfile, token: Buffer, request: Buffer): void {
    if (!chosen.authKeys) throw fail('AUTH_REQUIRED', `profile ${chosen.profile.name}: has no auth_key, so authsign cannot check a token (no authentication provider)`);
    for (const name of chosen.authKeys) {
      const key = this.authKeys.get(name);
      if (!key) continue;
      const expected = authToken(key, request);
      if (expected.length === token.length && timingSafeEqual(expected, token)) return;
    }
    throw fail('BAD_TOKEN', `profile ${chosen.profile.name}: invalid token (not the HMAC-SHA256 of the request under its auth key)`);
  }

  /** `/newcert`: `{"request": CSR JSON, "profile", "label"}` → a new key, its CSR and its certificate. */
  async newcert(body: string): Promise<ApiOutcome> {
    const issuer = this.requireIssuer();
    const messages: ApiMessage[] = [];
    const warn: Warn = (m) => messages.push({ code: 5300, message: m });
    const r = reader(body, 'newcert request', warn);
    const requestReader = r.object('request');
    const profileName = r.string('profile');
    r.string('label');
    r.boolean('bundle');
    r.finish(['request', 'profile', 'label', 'bundle']);
    if (!requestReader) throw fail('MISSING_FIELD', 'newcert request: request: missing (the CSR JSON: CN, hosts, key, names)');
    const req = readCsrRequest(requestReader, 'newcert request', { initca: false, warn });
    const chosen = this.profileFor(profileName);
    if (chosen.authKeys) throw fail('AUTH_REQUIRED', `profile ${chosen.profile.name}: requires authentication, which newcert does not carry; use /authsign`);
    const result = genCert(req, { issuer, profile: chosen.profile, warn, clock: this.clock, random: this.random });
    await this.record(result.issued as IssuedLeaf, result.cert as string, chosen.profile);
    return {
      result: {
        certificate: result.cert,
        certificate_request: result.csr,
        private_key: result.key,
        sums: { certificate: sums(result.cert as string), certificate_request: sums(result.csr as string) },
      },
      messages,
      issued: 1,
    };
  }

  /** `/newkey`: CSR JSON → a new key and its CSR. */
  async newkey(body: string): Promise<ApiOutcome> {
    const messages: ApiMessage[] = [];
    const warn: Warn = (m) => messages.push({ code: 5300, message: m });
    const req = readCsrRequest(reader(body, 'newkey request', warn), 'newkey request', { initca: false, warn });
    const result: CfsslResult = genKey(req, { warn });
    return { result: { private_key: result.key, certificate_request: result.csr, sums: { certificate_request: sums(result.csr as string) } }, messages };
  }

  /** `/init_ca`: CSR JSON (with `ca`) → a new self-signed CA. Not recorded: this CA did not issue it. */
  async initCa(body: string): Promise<ApiOutcome> {
    const messages: ApiMessage[] = [];
    const warn: Warn = (m) => messages.push({ code: 5300, message: m });
    const req = readCsrRequest(reader(body, 'init_ca request', warn), 'init_ca request', { initca: true, warn });
    const result = initCa(req, { warn, clock: this.clock, random: this.random });
    return { result: { private_key: result.key, certificate: result.cert }, messages };
  }

  /** `/info`: `{"label", "profile"}` → the CA certificate, the profile's usages and expiry. */
  async info(body: string): Promise<ApiOutcome> {
    this.requireIssuer();
    const messages: ApiMessage[] = [];
    const r = reader(body.trim() === '' ? '{}' : body, 'info request', (m) => messages.push({ code: 5300, message: m }));
    r.string('label');
    const profileName = r.string('profile');
    r.finish(['label', 'profile']);
    const { profile } = this.profileFor(profileName);
    const usages = [...profile.usages.keyUsage, ...profile.usages.extKeyUsage].map((u) => CFSSL_USAGE_NAME.get(u) ?? u);
    return { result: { certificate: this.opts.issuerPem, usages: usages.length ? usages : null, expiry: durationText(profile.expiryMs) }, messages };
  }

  /**
   * `/certinfo`: `{"certificate": PEM}` or `{"serial", "authority_key_id"}` (from the ledger).
   * `{"domain"}` is refused: the server would connect wherever a caller points it.
   */
  async certinfo(body: string): Promise<ApiOutcome> {
    const r = reader(body, 'certinfo request', () => {});
    const pem = r.string('certificate');
    const domain = r.string('domain');
    const serial = r.string('serial');
    const aki = r.string('authority_key_id');
    r.finish(['certificate', 'domain', 'serial', 'authority_key_id']);
    if (pem) return { result: certificateInfo(parseCertificatePem(pem, 'certinfo request: certificate'), 'certinfo request: certificate'), messages: [] };
    if (domain) throw fail('BAD_FIELD', 'certinfo request: domain: not supported by the server (it would connect to any host a caller names); use `etcd-tls certinfo -domain` locally');
    if (serial && aki) {
      if (!this.ledger) throw fail('ENDPOINT_DISABLED', 'certinfo by serial needs a ledger (--db)');
      const rows = await this.ledger.get(serial, aki).catch((e: unknown) => Promise.reject(ledgerFailure(e)));
      const row = rows[0];
      if (!row) throw fail('NOT_FOUND', `certinfo request: no certificate with serial ${serial} and authority_key_id ${aki} in the ledger`);
      return { result: certificateInfo(parseCertificatePem(row.pem, 'ledger'), 'ledger'), messages: [] };
    }
    throw fail('MISSING_FIELD', 'certinfo request: give "certificate" (PEM), or "serial" and "authority_key_id"');
  }

  /** `/revoke`: `{"serial": decimal, "authority_key_id": hex, "reason": name or code}` in the ledger. */
  async revoke(body: string): Promise<ApiOutcome> {
    const ledger = this.ledger;
    if (!ledger) throw fail('ENDPOINT_DISABLED', 'revoke needs a ledger (--db)');
    const r = reader(body, 'revoke request', () => {});
    const serial = r.string('serial');
    const aki = r.string('authority_key_id');
    const reasonText = r.string('reason') ?? '';
    r.finish(['serial', 'authority_key_id', 'reason']);
    if (!serial || !/^\d+$/.test(serial)) throw fail('BAD_FIELD', `revoke request: serial: ${serial ? `"${serial}" is not` : 'missing; expected'} a decimal serial number`);
    const akiHex = (aki ?? '').replace(/:/g, '').toLowerCase();
    if (!/^[0-9a-f]+$/.test(akiHex)) throw fail('BAD_FIELD', 'revoke request: authority_key_id: missing or not hex');
    const reason = parseReason(reasonText);
    const outcome = await ledger.revoke(serial.replace(/^0+(?=\d)/, ''), akiHex, reason, this.clock.now()).catch((e: unknown) => Promise.reject(ledgerFailure(e)));
    if (outcome === 'unknown') throw fail('NOT_FOUND', `revoke request: no certificate with serial ${serial} and authority_key_id ${akiHex} in the ledger`);
    const messages = outcome === 'already-revoked' ? [{ code: 0, message: `serial ${serial} was already revoked; its reason and time are unchanged` }] : [];
    return { result: {}, messages, revoked: outcome === 'revoked' ? 1 : 0 };
  }

  /**
   * `/crl?expiry=SECONDS`: this CA's CRL from the ledger (base64 DER), listing its revoked,
   * unexpired certificates only (cfssl lists every CA's rows of the database).
   */
  async crl(expiryParam: string | null): Promise<ApiOutcome> {
    const issuer = this.requireIssuer();
    const ledger = this.ledger;
    if (!ledger) throw fail('ENDPOINT_DISABLED', 'crl needs a ledger (--db)');
    const seconds = expiryParam === null || expiryParam === '' ? 7 * 86_400 : Number(expiryParam);
    if (!Number.isInteger(seconds) || seconds <= 0) throw fail('BAD_FIELD', `crl: expiry: "${expiryParam}" is not a positive number of seconds`);
    const now = this.clock.now();
    const rows = await ledger.revokedUnexpired(this.akiHex, now).catch((e: unknown) => Promise.reject(ledgerFailure(e)));
    const der = issueCrl({
      issuerCertificateDer: issuer.cert.der,
      issuerPrivateKey: issuer.privateKey,
      revoked: rows.map((row) => revokedEntry(row.serialNumber, row.revokedAt ?? now, row.reason)),
      thisUpdate: now,
      nextUpdate: new Date(now.getTime() + seconds * 1000),
      // Milliseconds since the epoch: increases from one CRL to the next without stored state.
      crlNumber: BigInt(now.getTime()),
    });
    return { result: Buffer.from(der).toString('base64'), messages: [] };
  }

  /** `/gencrl`: `{"certificate", "serialNumber": [...], "issuingKey", "expireTime": seconds}` → base64 DER. */
  async gencrl(body: string): Promise<ApiOutcome> {
    const r = reader(body, 'gencrl request', () => {});
    const certPem = r.string('certificate');
    const serials = r.stringList('serialNumber') ?? [];
    const keyPem = r.string('issuingKey');
    const expire = r.string('expireTime');
    r.finish(['certificate', 'serialNumber', 'issuingKey', 'expireTime']);
    if (!certPem) throw fail('MISSING_FIELD', 'gencrl request: certificate: missing (the CA certificate, PEM)');
    if (!keyPem) throw fail('MISSING_FIELD', 'gencrl request: issuingKey: missing (the CA private key, PEM)');
    const seconds = expire === undefined || expire === '' ? 7 * 86_400 : Number(expire);
    if (!Number.isInteger(seconds) || seconds <= 0) throw fail('BAD_FIELD', `gencrl request: expireTime: "${expire}" is not a positive number of seconds`);
    const certDer = parseCertificatePem(certPem, 'gencrl request: certificate');
    parseCertificate(certDer, 'gencrl request: certificate');
    const key = parsePrivateKeyPem(keyPem, 'gencrl request: issuingKey');
    const now = this.clock.now();
    const revoked = serials.map((s, i) => {
      if (!/^\d+$/.test(s.trim())) throw fail('BAD_FIELD', `gencrl request: serialNumber[${i}]: "${s}" is not a decimal serial number`);
      return revokedEntry(s.trim(), now, 0);
    });
    const der = issueCrl({ issuerCertificateDer: certDer, issuerPrivateKey: key, revoked, thisUpdate: now, nextUpdate: new Date(now.getTime() + seconds * 1000), crlNumber: BigInt(now.getTime()) });
    return { result: Buffer.from(der).toString('base64'), messages: [] };
  }

  /** The CA certificate PEM (for the CLI's info and for tests). */
  get caPem(): string | undefined {
    return this.opts.issuerPem ?? (this.issuer ? toPem('CERTIFICATE', this.issuer.cert.der) : undefined);
  }
}

function base64Field(r: ObjectReader, field: string): Buffer {
  const text = r.string(field);
  if (text === undefined || text === '') throw fail(field === 'token' ? 'AUTH_REQUIRED' : 'MISSING_FIELD', `${r.where(field)}: missing`);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) throw fail('BAD_FIELD', `${r.where(field)}: not standard base64`);
  return Buffer.from(text, 'base64');
}

const REASON_BY_LOWER = new Map<string, number>(Object.entries(CRL_REASONS).map(([k, v]) => [k.toLowerCase(), v]));

/** A CRLReason by name (case-insensitive, as cfssl) or number; empty means unspecified. */
export function parseReason(text: string): number {
  const t = text.trim();
  if (t === '') return 0;
  if (/^\d+$/.test(t) && [...REASON_BY_LOWER.values()].includes(Number(t))) return Number(t);
  const code = REASON_BY_LOWER.get(t.toLowerCase());
  if (code === undefined) throw fail('BAD_FIELD', `revoke request: reason: "${text}" is not a CRL reason (${Object.keys(CRL_REASONS).join(', ')})`);
  return code;
}

function revokedEntry(serial: string, revokedAt: Date, reason: number): RevokedEntry {
  const name = (Object.keys(CRL_REASONS) as (keyof typeof CRL_REASONS)[]).find((k) => CRL_REASONS[k] === reason);
  return { serial: BigInt(serial), revokedAt, ...(name && reason !== 0 ? { reason: name } : {}) };
}

/** A ledger failure as the domain error the edges render (the mapping is ledger/failure.ts's). */
const ledgerFailure = (e: unknown): unknown => ledgerFailureOf(e, 'nothing was issued');
