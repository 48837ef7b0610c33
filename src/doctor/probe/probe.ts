/**
 * `probe`: look at live etcd endpoints the way etcdctl and kube-apiserver would, and say what is wrong.
 * For each endpoint: the TLS handshake (protocol, cipher, the chain presented, verified Go-style
 * against the CA given), then /health with the client certificate, then the member list through the
 * JSON gateway. Every problem becomes a finding naming the catalogue entry that explains it.
 *
 * Every network step is bounded by the timeout, and a failed step never throws: it is a finding, and
 * the steps that depend on it are reported as skipped with the reason.
 */
import { createSecureContext } from 'node:tls';
import { fail } from '../../errors.js';
import { checkHealth, EtcdRequestError, memberList, type ClientTls, type Member } from '../../etcd/gateway.js';
import { dedupeFindings, type Finding } from '../findings.js';
import { probeFinding } from './codes.js';
import { caName, clientSubject, connectFinding, gatewayFinding, handshakeFinding, memberFindings, serverProblemFinding, type ProbeContext } from './findings.js';
import { tlsHandshake, type HandshakeFailure, type HandshakeOutcome } from './handshake.js';
import { allowsUsage, checkHost, describeCertificate, verifyChain } from './verify.js';
import { parsePemCertificates } from '../../pki/pem.js';
import type { EndpointReport, MemberReport, ParsedEndpoint, ProbeCredentials, ProbeOptions, ProbeReport, StepReport, TlsReport } from './report.js';

export type { EndpointReport, MemberReport, ParsedEndpoint, ProbeCredentials, ProbeOptions, ProbeReport, StepReport, StepStatus, TlsReport } from './report.js';

export const DEFAULT_PROBE_TIMEOUT_MS = 5000;

/**
 * `https://127.0.0.61:2379`, `http://[::1]:2379`, or `127.0.0.61:2379` (https assumed, as for an
 * etcd endpoint given with TLS flags). The port defaults to 2379.
 */
export function parseEndpoint(text: string): ParsedEndpoint {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `https://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw fail('BAD_FIELD', `endpoint "${text}": not a URL; give it as https://HOST:PORT`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw fail('BAD_FIELD', `endpoint "${text}": scheme ${url.protocol.slice(0, -1)} is not http or https`);
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.username)
    throw fail('BAD_FIELD', `endpoint "${text}": give only scheme://HOST:PORT, without a path, query or user`);
  const scheme = url.protocol === 'https:' ? 'https' : 'http';
  const port = url.port === '' ? 2379 : Number(url.port);
  return { origin: `${scheme}://${url.hostname}:${port}`, scheme, host: url.hostname, port };
}

/**
 * Fail early, as a usage error rather than a finding per endpoint, when the files given cannot work
 * together: a key that is not the certificate's, or PEM that does not parse.
 */
export function checkCredentials(c: ProbeCredentials): void {
  if (c.ca !== undefined && parsePemCertificates(c.ca, c.caSource ?? 'CA file').length === 0)
    throw fail('BAD_PEM', `${c.caSource ?? 'CA file'}: holds no PEM "CERTIFICATE" block`);
  if (Boolean(c.cert) !== Boolean(c.key))
    throw fail('MISSING_FLAG', c.cert ? 'probe: --key is required with --cert' : 'probe: --cert is required with --key');
  try {
    createSecureContext({ ...(c.ca ? { ca: c.ca } : {}), ...(c.cert ? { cert: c.cert, key: c.key } : {}) });
  } catch (e) {
    const msg = (e as Error).message;
    if (/key values mismatch/i.test(msg))
      throw fail('KEY_MISMATCH', `${c.certSource ?? 'client certificate'}: the key given with --key does not belong to this certificate`);
    throw fail('BAD_PEM', `${c.certSource ?? 'client certificate'}: cannot be used for TLS (${msg})`);
  }
}

/** Probe several endpoints at once; the report keeps their order (an endpoint given twice is probed once). */
export async function probeEndpoints(endpoints: readonly string[], options: ProbeOptions = {}): Promise<ProbeReport> {
  const parsed = endpoints.map(parseEndpoint).filter((e, i, all) => all.findIndex((o) => o.origin === e.origin) === i);
  if (options.credentials) checkCredentials(options.credentials);
  const reports = await Promise.all(parsed.map((e) => probeEndpoint(e, options)));
  return { endpoints: reports, findings: dedupeFindings(reports.flatMap((r) => r.findings)) };
}

const skipped = (detail: string): StepReport => ({ status: 'skipped', detail });

/** Probe one endpoint. Never rejects for anything the endpoint does. */
export async function probeEndpoint(endpoint: ParsedEndpoint | string, options: ProbeOptions = {}): Promise<EndpointReport> {
  const ep = typeof endpoint === 'string' ? parseEndpoint(endpoint) : endpoint;
  const ctx: Context = {
    ep,
    creds: options.credentials ?? {},
    timeoutMs: options.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS,
    now: options.now?.() ?? new Date(),
    findings: [],
  };
  return ep.scheme === 'https' ? probeHttps(ctx) : probePlain(ctx);
}

interface Context extends ProbeContext {
  findings: Finding[];
}

function clientTls(c: ProbeCredentials): ClientTls {
  return { ...(c.ca ? { ca: c.ca } : {}), ...(c.cert ? { cert: c.cert } : {}), ...(c.key ? { key: c.key } : {}) };
}

async function probeHttps(ctx: Context): Promise<EndpointReport> {
  const { ep, creds } = ctx;
  const hs = await tlsHandshake(ep.host, ep.port, { ...clientTls(creds), timeoutMs: ctx.timeoutMs });
  const caCerts = creds.ca ? parsePemCertificates(creds.ca, creds.caSource ?? 'CA file') : [];
  const base = { endpoint: ep.origin, findings: ctx.findings };

  if (!hs.secure) {
    const failure = hs.failure as HandshakeFailure;
    if (failure.stage === 'connect') {
      ctx.findings.push(connectFinding(ctx, failure));
      const why = skipped('the endpoint is unreachable');
      return { ...base, reachable: false, health: why, members: why };
    }
    const finding = handshakeFinding(ctx, failure, caCerts);
    ctx.findings.push(finding);
    // Under TLS 1.2 a refused client certificate ends the handshake itself.
    const refused = finding.code.startsWith('client-cert-');
    const why = skipped(refused ? 'the client certificate was rejected' : 'the TLS handshake failed');
    return {
      ...base,
      reachable: true,
      tls: {
        handshake: { status: 'failed', detail: failure.message },
        chain: [],
        verification: skipped('no handshake'),
        clientCertificate: refused ? { status: 'failed', detail: failure.message } : skipped('no handshake'),
      },
      health: why,
      members: why,
    };
  }

  const chain = hs.chain.map((der) => describeCertificate(der, caCerts.some((c) => c.equals(der))));
  // Node appends the CA from our own CA file to what the server sent; verify what the server sent.
  const presented = hs.chain.filter((der, i) => i === 0 || !caCerts.some((c) => c.equals(der)));
  const verification = verifyServer(ctx, hs, presented, caCerts);
  const clientCertificate = clientCertificateStep(ctx, hs, caCerts);
  const tls: TlsReport = {
    ...(hs.protocol ? { protocol: hs.protocol } : {}),
    ...(hs.cipher ? { cipher: hs.cipher } : {}),
    handshake: { status: 'ok', detail: [hs.protocol, hs.cipher].filter(Boolean).join(', ') },
    chain,
    verification,
    clientCertificate,
  };
  if (hs.protocol && /^(SSLv3|TLSv1(\.1)?)$/.test(hs.protocol)) {
    ctx.findings.push(
      probeFinding('tls-version-old', ep.origin, `negotiated ${hs.protocol}`, 'allow only TLS 1.2 and 1.3 (etcd 3.4 negotiates 1.3 by default; check what sits in front of it)'),
    );
  }

  if (verification.status !== 'ok' || clientCertificate.status === 'failed') {
    const why = skipped(verification.status !== 'ok' ? `the server certificate was not verified (${verification.status === 'failed' ? 'it failed' : 'no CA'})` : 'the client certificate was rejected');
    return { ...base, reachable: true, tls, health: why, members: why };
  }

  const health = await healthStep(ctx);
  const leafView = presented[0];
  const leafLacksClientAuth = leafView !== undefined && !allowsUsage(describeCertificate(leafView), 'clientAuth');
  const members = health.status === 'ok' ? await membersStep(ctx, leafLacksClientAuth, chain[0]?.subject ?? 'the server certificate') : skipped('/health failed');
  return { ...base, reachable: true, tls, health, members };
}

/** The server chain, checked as a Go client checks it: path to the CA, validity, EKU, then the host. */
function verifyServer(ctx: Context, hs: HandshakeOutcome, presented: Buffer[], caCerts: Buffer[]): StepReport {
  const { ep, creds } = ctx;
  if (caCerts.length === 0) {
    ctx.findings.push(
      probeFinding(
        'ca-not-given',
        ep.origin,
        `the server certificate was not verified, so /health and the member list were not tried`,
        'pass --cacert with the CA that signed the server certificates (or --client NAME --out DIR)',
      ),
    );
    return skipped('no CA given (--cacert)');
  }
  const verdict = verifyChain(presented, caCerts, 'serverAuth', ctx.now);
  const hostProblem = presented[0] ? checkHost(presented[0], ep.host) : undefined;
  const problems = [...verdict.problems, ...(hostProblem ? [hostProblem] : [])];
  for (const p of problems) ctx.findings.push(serverProblemFinding(ctx, p));
  if (problems.length > 0) return { status: 'failed', detail: problems.map((p) => p.message).join('; ') };
  if (hs.opensslVerifyError) {
    ctx.findings.push(
      probeFinding(
        'server-cert-openssl-rejects',
        ep.origin,
        `OpenSSL rejects the server chain against ${caName(creds)}: ${hs.opensslVerifyError}`,
        'compare the chain with `openssl verify -CAfile CA SERVER-CERT`',
      ),
    );
  }
  return { status: 'ok', detail: `chains to "${verdict.anchor}"; ${ep.host} is in its SANs; serverAuth allowed` };
}

/** What the server made of our client certificate (or its absence). */
function clientCertificateStep(ctx: Context, hs: HandshakeOutcome, caCerts: Buffer[]): StepReport {
  const sent = Boolean(ctx.creds.cert);
  if (!hs.failure) {
    return { status: 'ok', detail: sent ? `${clientSubject(ctx)} accepted` : 'none sent, and the server required none' };
  }
  ctx.findings.push(handshakeFinding(ctx, hs.failure, caCerts));
  return { status: 'failed', detail: hs.failure.message };
}

async function healthStep(ctx: Context): Promise<StepReport & { healthy?: boolean }> {
  try {
    return healthVerdict(ctx, await checkHealth(ctx.ep.origin, clientTls(ctx.creds), ctx.timeoutMs));
  } catch (e) {
    const err = e as EtcdRequestError;
    ctx.findings.push(
      probeFinding('health-failed', ctx.ep.origin, `GET /health failed: ${err.message}`, "read etcd's log at this moment and run `etcd-tls explain` on it"),
    );
    return { status: 'failed', detail: err.message };
  }
}

/** What a /health answer says: healthy, etcd but unhealthy, or not etcd at all (`healthy` then absent). */
function healthVerdict(ctx: Context, r: { healthy: boolean; body: string }): StepReport & { healthy?: boolean } {
  if (r.healthy) return { status: 'ok', healthy: true, detail: 'health true' };
  const body = r.body.trim().slice(0, 200);
  if (!isEtcdHealth(r.body)) return notEtcd(ctx, body);
  ctx.findings.push(
    probeFinding(
      'health-false',
      ctx.ep.origin,
      `/health answered ${body}`,
      'etcd runs but is not healthy: look for a missing leader, lost quorum or an alarm (etcdctl endpoint status -w table; etcdctl alarm list)',
    ),
  );
  return { status: 'failed', healthy: false, detail: `health false: ${body}` };
}

/** etcd answers /health with `{"health":"true"|"false",...}`; anything else is not an etcd client port. */
function isEtcdHealth(body: string): boolean {
  try {
    return typeof (JSON.parse(body) as { health?: unknown }).health === 'string';
  } catch {
    return false;
  }
}

function notEtcd(ctx: Context, body: string): StepReport & { healthy?: boolean } {
  const { ep } = ctx;
  ctx.findings.push(
    probeFinding(
      'health-failed',
      ep.origin,
      `GET /health did not get etcd's health JSON but ${JSON.stringify(body || '(empty)')}`,
      `check that ${ep.host}:${ep.port} is an etcd client URL (--advertise-client-urls, usually port 2379), not a peer URL (2380) or another service`,
    ),
  );
  return { status: 'failed', detail: `not etcd's health answer: ${body}` };
}

const toReport = (m: Member): MemberReport => ({
  id: m.id.toString(10),
  idHex: m.idHex,
  name: m.name,
  peerURLs: m.peerURLs,
  clientURLs: m.clientURLs,
  isLearner: m.isLearner,
});

async function membersStep(ctx: Context, leafLacksClientAuth: boolean, serverSubject: string): Promise<StepReport & { list?: MemberReport[] }> {
  const { ep } = ctx;
  let list: MemberReport[];
  try {
    list = (await memberList(ep.origin, clientTls(ctx.creds), ctx.timeoutMs)).map(toReport);
  } catch (e) {
    const err = e as EtcdRequestError;
    ctx.findings.push(gatewayFinding(ctx, err.message, leafLacksClientAuth, serverSubject));
    return { status: 'failed', detail: err.message };
  }
  if (leafLacksClientAuth) {
    ctx.findings.push(
      probeFinding(
        'server-cert-missing-clientauth',
        ep.origin,
        `the server certificate "${serverSubject}" lacks clientAuth; the JSON gateway works only because this member demands no client certificates`,
        'issue server certificates with serverAuth and clientAuth before enabling --client-cert-auth or --trusted-ca-file',
        'warning',
      ),
    );
  }
  for (const m of list) ctx.findings.push(...memberFindings(m));
  const httpPeers = list.filter((m) => m.peerURLs.some((u) => u.startsWith('http://'))).length;
  return {
    status: 'ok',
    list,
    detail: `${list.length} member${list.length === 1 ? '' : 's'}, ${httpPeers === 0 ? 'all peer URLs https' : `${httpPeers} with http peer URLs`}`,
  };
}

/** An http:// endpoint: plain /health and member list, and a check whether the port really speaks TLS. */
async function probePlain(ctx: Context): Promise<EndpointReport> {
  const { ep } = ctx;
  const base = { endpoint: ep.origin, findings: ctx.findings };
  try {
    const r = await checkHealth(ep.origin, undefined, ctx.timeoutMs);
    if (/Client sent an HTTP request to an HTTPS server/.test(r.body)) throw new EtcdRequestError(r.body.trim(), 'EHTTPTOHTTPS');
    const health = healthVerdict(ctx, r);
    if (health.healthy === undefined) return { ...base, reachable: true, health, members: skipped('/health failed') };
    ctx.findings.push(
      probeFinding(
        'plaintext-endpoint',
        ep.origin,
        `${ep.origin} serves clients in plaintext: requests and data are not encrypted and any client may connect`,
        'serve clients over https with client certificates (etcd-tls gen writes the configuration; etcd-tls migrate converts a running cluster)',
      ),
    );
    const members = health.status === 'ok' ? await membersStep(ctx, false, '') : skipped('/health failed');
    return { ...base, reachable: true, health, members };
  } catch (e) {
    const err = e as EtcdRequestError;
    if (['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT'].includes(err.code ?? '')) {
      ctx.findings.push(connectFinding(ctx, err));
      const why = skipped('the endpoint is unreachable');
      return { ...base, reachable: false, health: why, members: why };
    }
    if (await speaksTls(ctx)) {
      ctx.findings.push(
        probeFinding(
          'http-to-tls-port',
          ep.origin,
          `${ep.host}:${ep.port} speaks TLS, so a plain HTTP request got no HTTP answer (${err.message})`,
          `use https://${ep.host}:${ep.port} with --cacert, --cert and --key (or --client NAME --out DIR); in etcdctl --endpoints and kube-apiserver --etcd-servers too`,
        ),
      );
    } else {
      ctx.findings.push(probeFinding('health-failed', ep.origin, `GET /health failed: ${err.message}`, "read etcd's log at this moment and run `etcd-tls explain` on it"));
    }
    const why = skipped('/health failed');
    return { ...base, reachable: true, health: { status: 'failed', detail: err.message }, members: why };
  }
}

/** Whether the port answers a TLS ClientHello like a TLS server (a completed handshake, or an alert). */
async function speaksTls(ctx: Context): Promise<boolean> {
  const hs = await tlsHandshake(ctx.ep.host, ctx.ep.port, { timeoutMs: ctx.timeoutMs });
  return hs.secure || Boolean(hs.failure?.alert);
}
