/**
 * How `probe` words what it observed: each failure classified, with what we know about our own files
 * (a rejected client certificate is explained by checking it against the CA that signed the server),
 * and turned into a finding with a concrete fix. Pure: observations in, findings out.
 */
import type { Finding } from '../findings.js';
import type { MemberReport, ParsedEndpoint, ProbeCredentials } from './report.js';
import { probeFinding } from './codes.js';
import type { HandshakeFailure } from './handshake.js';
import { describeCertificate, verifyChain, type ChainProblem } from './verify.js';
import { parsePemCertificates } from '../../pki/pem.js';

/** What the wording depends on: the endpoint, the files given, the timeout and the time. */
export interface ProbeContext {
  ep: ParsedEndpoint;
  creds: ProbeCredentials;
  timeoutMs: number;
  now: Date;
}

export const caName = (c: ProbeCredentials): string => c.caSource ?? 'the CA file';
const certName = (c: ProbeCredentials): string => c.certSource ?? 'the client certificate';

export function serverProblemFinding(ctx: ProbeContext, p: ChainProblem): Finding {
  const { ep, creds } = ctx;
  const host = ep.host.replace(/^\[|\]$/g, '');
  const hostKind = /^[\d.]+$|:/.test(host) ? 'IP SAN' : 'DNS SAN';
  switch (p.id) {
    case 'unknown-authority':
      return probeFinding(
        'server-cert-unknown-ca',
        ep.origin,
        `the server certificate "${p.certificate}" does not chain to ${caName(creds)}: ${p.message}`,
        `use the CA that signed the server certificates as --cacert (also in etcdctl --cacert and kube-apiserver --etcd-cafile), or re-issue the server certificate from the CA in ${caName(creds)}`,
      );
    case 'cert-expired':
      return probeFinding(
        'server-cert-expired',
        ep.origin,
        `"${p.certificate}": ${p.message}`,
        'renew the server certificate and overwrite it in place (etcd re-reads it on every handshake); compare `date -u` on both machines if it is not yet valid',
      );
    case 'eku-incompatible':
      return probeFinding(
        'server-cert-missing-serverauth',
        ep.origin,
        `"${p.certificate}": ${p.message}`,
        'issue server certificates with serverAuth and clientAuth, and CA certificates without any extended key usage',
      );
    case 'legacy-common-name':
      return probeFinding(
        'server-cert-cn-only',
        ep.origin,
        `"${p.certificate}" has no subject alternative names (${p.message}); Go clients (etcdctl, kube-apiserver) refuse it even where curl accepts it`,
        `re-issue the server certificate with ${host} as ${hostKind} and every other name or address clients dial`,
      );
    case 'no-ip-sans':
      return probeFinding(
        'server-no-ip-sans',
        ep.origin,
        `dialled ${host}, but "${p.certificate}" has no IP SANs (${p.message})`,
        `re-issue the server certificate with IP SAN ${host}, or dial a DNS name it contains`,
      );
    case 'san-mismatch':
      return probeFinding(
        'server-san-mismatch',
        ep.origin,
        `dialled ${host}, not in the server certificate's SANs (${p.message})`,
        `re-issue the server certificate with ${host} as ${hostKind} (etcd-tls gen derives SANs from the spec), or dial a name or address it already covers`,
      );
  }
}

export function clientSubject(ctx: ProbeContext): string {
  const der = ctx.creds.cert ? parsePemCertificates(ctx.creds.cert, ctx.creds.certSource ?? 'client certificate')[0] : undefined;
  return der ? `"${describeCertificate(der).subject}"` : certName(ctx.creds);
}

export function connectFinding(ctx: ProbeContext, f: HandshakeFailure | { code?: string; message: string }): Finding {
  const { ep } = ctx;
  const where = `${ep.host}:${ep.port}`;
  if (f.code === 'ECONNREFUSED')
    return probeFinding(
      'endpoint-refused',
      ep.origin,
      `connection refused: nothing listens on ${where}`,
      `start etcd, or compare the endpoint with its --listen-client-urls (ss -ltnp | grep etcd) and read its start-up log for the error that stopped it`,
    );
  if (f.code === 'ETIMEDOUT')
    return probeFinding(
      'endpoint-timeout',
      ep.origin,
      `no answer from ${where} within ${ctx.timeoutMs} ms`,
      'check that the host is up and that no firewall drops the port; a longer --timeout helps only on slow links',
    );
  const dns = f.code === 'ENOTFOUND' || f.code === 'EAI_AGAIN';
  return probeFinding(
    'endpoint-unreachable',
    ep.origin,
    dns ? `${ep.host} does not resolve (${f.code})` : `cannot connect to ${where}: ${f.message}`,
    dns ? 'use an address or a name that resolves here' : 'check the address, the routes and the firewall between here and the endpoint',
  );
}

const PLAINTEXT_REPLY = /wrong version number|packet length too long|http request|unknown protocol/i;
const CERT_ALERT = /bad certificate|certificate required|unknown ca|certificate unknown|unsupported certificate|certificate expired|access denied/i;

/** A failed handshake, or a rejection right after it, classified with what we know about our own files. */
export function handshakeFinding(ctx: ProbeContext, f: HandshakeFailure, caCerts: Buffer[] = []): Finding {
  const { ep, creds } = ctx;
  if (f.stage === 'connect') return connectFinding(ctx, f);
  if (f.code === 'ETIMEDOUT')
    return probeFinding(
      'endpoint-timeout',
      ep.origin,
      `connected, but ${f.message}`,
      'the port may not be an etcd client port, or etcd is overloaded; check --listen-client-urls',
    );
  if (PLAINTEXT_REPLY.test(f.message) || /WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG/.test(f.code ?? '')) {
    return probeFinding(
      'https-to-plaintext-port',
      ep.origin,
      `${ep.host}:${ep.port} answered the TLS handshake in plaintext (${f.message}): this listener has no TLS`,
      `probe http://${ep.host}:${ep.port} to reach it as it is; to secure it, give it an https:// listen URL with --cert-file/--key-file (for a peer port: etcd-tls migrate)`,
    );
  }
  const alert = f.alert ?? '';
  // OpenSSL servers often just close the connection after a TLS 1.3 handshake whose client certificate they refused.
  const closedAfter = f.stage === 'after-handshake' && !f.alert && (f.code === undefined || f.code === 'ECONNRESET');
  if (CERT_ALERT.test(alert) || closedAfter) return clientRejectionFinding(ctx, f, caCerts);
  // OpenSSL servers (and newer Go ones under TLS 1.2) answer a missing client certificate this way too.
  const maybeNoCert = /handshake failure/i.test(alert) && !creds.cert ? '; a server that requires a client certificate answers so too when none is sent' : '';
  return probeFinding(
    'tls-handshake-failed',
    ep.origin,
    `the TLS handshake with ${ep.host}:${ep.port} failed: ${f.message}${maybeNoCert}`,
    /handshake failure|protocol version|insufficient security/i.test(alert)
      ? "check etcd's --cipher-suites (it must include the AES_128_GCM suite for the key type) and --tls-min-version; `openssl s_client -connect HOST:PORT` shows what is offered"
      : "read etcd's log at this moment for a `rejected connection` line and run `etcd-tls explain` on it",
  );
}

function clientRejectionFinding(ctx: ProbeContext, f: HandshakeFailure, caCerts: Buffer[]): Finding {
  const { ep, creds } = ctx;
  const said = f.alert
    ? `the server refused the connection with TLS alert "${f.alert}"`
    : 'the server closed the connection right after the handshake without answering';
  if (!creds.cert) {
    return probeFinding(
      'client-cert-missing',
      ep.origin,
      `${said}: it requires a client certificate (--client-cert-auth or --trusted-ca-file is set) and none was given`,
      "pass --cert and --key (or --client NAME --out DIR) with a client certificate issued by the CA in etcd's --trusted-ca-file; etcdctl needs --cert/--key, kube-apiserver --etcd-certfile/--etcd-keyfile",
    );
  }
  const leaf = parsePemCertificates(creds.cert, creds.certSource ?? 'client certificate')[0];
  const problems = leaf && caCerts.length > 0 ? verifyChain([leaf], caCerts, 'clientAuth', ctx.now).problems : [];
  const subject = clientSubject(ctx);
  const unknown = problems.find((p) => p.id === 'unknown-authority');
  if (unknown) {
    return probeFinding(
      'client-cert-unknown-ca',
      ep.origin,
      `${said}: client certificate ${subject} is not signed by ${caName(creds)}, which signed the server certificate (${unknown.message}); etcd's --trusted-ca-file most likely lacks its CA`,
      "use a client certificate issued by the CA in etcd's --trusted-ca-file (etcd-tls gen issues clients from the cluster CA), or add its CA to --trusted-ca-file and restart etcd",
    );
  }
  const expired = problems.find((p) => p.id === 'cert-expired');
  if (expired) {
    return probeFinding(
      'client-cert-expired',
      ep.origin,
      `${said}: client certificate ${subject} is outside its validity (${expired.message})`,
      'renew the client certificate (and restart whatever loaded it: kube-apiserver reads its etcd client certificate only at start-up)',
    );
  }
  const eku = problems.find((p) => p.id === 'eku-incompatible');
  if (eku) {
    return probeFinding(
      'client-cert-missing-clientauth',
      ep.origin,
      `${said}: client certificate ${subject} does not allow clientAuth (${eku.message})`,
      're-issue the client certificate with extended key usage clientAuth',
    );
  }
  return probeFinding(
    'client-cert-rejected',
    ep.origin,
    `${said} although client certificate ${subject} verifies against ${caName(creds)}: etcd trusts another CA, or an allowed-CN/hostname rule refused it`,
    "read etcd's log at this moment for `rejected connection from ...` and run `etcd-tls explain` on that line",
  );
}

export function gatewayFinding(ctx: ProbeContext, message: string, leafLacksClientAuth: boolean, serverSubject: string): Finding {
  const { ep } = ctx;
  const call = 'POST /v3/cluster/member/list';
  if (/HTTP 404/.test(message)) {
    return probeFinding(
      'gateway-disabled',
      ep.origin,
      `/health answers but ${call} gives HTTP 404: the JSON gateway is off`,
      'etcd 3.4 started with --config-file turns the gateway off: add `enable-grpc-gateway: true` to the YAML, or configure etcd with ETCD_* variables',
    );
  }
  if (/CommonName of client sending a request against gateway/.test(message)) {
    return probeFinding(
      'gateway-cn-with-auth',
      ep.origin,
      `${call} refused: with auth enabled the gateway rejects client certificates that carry a CommonName`,
      'for gateway calls use a client certificate with an empty CN plus token auth (/v3/auth/authenticate), or use etcdctl',
    );
  }
  if (leafLacksClientAuth) {
    return probeFinding(
      'server-cert-missing-clientauth',
      ep.origin,
      `/health answers but ${call} fails (${message}): the server certificate "${serverSubject}" lacks clientAuth, and etcd's gRPC gateway presents it as its client certificate when dialling its own client port`,
      "re-issue the server certificate with both serverAuth and clientAuth (etcd-tls gen does) and overwrite the files in place: etcd re-reads them on every handshake; etcd's log shows `rejected connection from \"127.0.0.1:...\" (error \"tls: failed to verify client certificate: x509: certificate specifies an incompatible key usage\")`",
    );
  }
  return probeFinding(
    'gateway-unavailable',
    ep.origin,
    `/health answers but ${call} fails: ${message}`,
    "etcd's gRPC gateway dials its own client port with the server certificate as client certificate, so that certificate must allow clientAuth and chain to --trusted-ca-file; read etcd's log for `rejected connection` lines from its own address and run `etcd-tls explain` on them",
  );
}

/** The https URL that replaces an http one: same host and port. */
const toHttps = (url: string): string => url.replace(/^http:\/\//, 'https://');

export function memberFindings(m: MemberReport): Finding[] {
  const subject = `member ${m.name || '(unstarted)'} (${m.idHex})`;
  const out: Finding[] = [];
  const httpPeers = m.peerURLs.filter((u) => u.startsWith('http://'));
  if (httpPeers.length > 0) {
    const https = m.peerURLs.map(toHttps);
    out.push(
      probeFinding(
        'peer-url-http',
        subject,
        `peer URL ${httpPeers.join(', ')} is plaintext: raft traffic to and from this member is not encrypted`,
        `etcdctl member update ${m.idHex} --peer-urls=${https.join(',')}; then restart ${m.name || 'that member'} at once with --listen-peer-urls and --initial-advertise-peer-urls ${https.join(',')} and its peer certificate; one member at a time (etcd-tls migrate does both steps)`,
      ),
    );
  }
  const httpClients = m.clientURLs.filter((u) => u.startsWith('http://'));
  if (httpClients.length > 0) {
    out.push(
      probeFinding(
        'client-url-http',
        subject,
        `advertises plaintext client URL ${httpClients.join(', ')}`,
        `restart ${m.name || 'the member'} with --advertise-client-urls ${m.clientURLs.map(toHttps).join(',')} and --listen-client-urls to match (the member re-publishes its client URLs itself)`,
      ),
    );
  }
  return out;
}
