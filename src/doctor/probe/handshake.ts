/**
 * One TLS handshake with an endpoint, recording what happened at each stage instead of throwing:
 * TCP connect, the handshake (protocol, cipher, the chain the server presented), and whether the
 * server then accepted us. The server certificate is NOT verified here (rejectUnauthorized: false):
 * the caller verifies it with verify.ts so it can say why it fails.
 *
 * Under TLS 1.3 the client finishes its side of the handshake before the server has looked at the
 * client certificate, so a rejected certificate only shows as an alert on the first read. That is
 * why a small HTTP request is sent after the handshake: its answer (or the alert) settles it.
 */
import { isIP } from 'node:net';
import * as tls from 'node:tls';

export type HandshakeStage = 'connect' | 'handshake' | 'after-handshake';

export interface HandshakeFailure {
  stage: HandshakeStage;
  /** Node's error code: ECONNREFUSED, ETIMEDOUT, ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE, ... */
  code?: string;
  /** The TLS alert the server sent, in OpenSSL's words (`bad certificate`, `certificate required`). */
  alert?: string;
  message: string;
}

export interface HandshakeOutcome {
  /** The TLS handshake completed on our side. */
  secure: boolean;
  protocol?: string;
  cipher?: string;
  /** The server's chain as Node reports it, leaf first, DER. */
  chain: Buffer[];
  /** OpenSSL's own verdict against the CA given (e.g. CERT_HAS_EXPIRED), kept as a second opinion. */
  opensslVerifyError?: string;
  /** The server answered our request after the handshake, so it accepted our certificate (or needs none). */
  accepted: boolean;
  failure?: HandshakeFailure;
}

export interface HandshakeOptions {
  /** PEM: the CA to report OpenSSL's verdict against; verification proper is the caller's. */
  ca?: string;
  /** PEM client certificate and key. */
  cert?: string;
  key?: string;
  /** Bound on the whole exchange: connect, handshake and the first answer. */
  timeoutMs: number;
}

/** OpenSSL's error text carries file names and hex codes; the alert name is what a person can act on. */
export function alertOf(message: string): string | undefined {
  return /alert ([a-z ]+?)(?::|$)/i.exec(message)?.[1]?.trim();
}

/** `80FC...:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../ssl/x.c:350:` -> `wrong version number` */
export function readableTlsError(message: string): string {
  return /error:[0-9A-F]+:SSL routines:[^:]*:([^:]+)/.exec(message)?.[1]?.trim() ?? message.trim();
}

/** DER of the chain behind getPeerCertificate(true), which links issuers and ends in a self-reference. */
function peerChain(socket: tls.TLSSocket): Buffer[] {
  const out: Buffer[] = [];
  let cert = socket.getPeerCertificate(true) as tls.DetailedPeerCertificate | undefined;
  while (cert?.raw && !out.some((d) => d.equals(cert?.raw as Buffer)) && out.length < 10) {
    out.push(cert.raw);
    cert = cert.issuerCertificate;
  }
  return out;
}

/**
 * Handshake with host:port and report. Never rejects; every failure is in `failure`.
 *
 * @example
 *   const r = await tlsHandshake('127.0.0.61', 2379, { ca, cert, key, timeoutMs: 5000 });
 *   r.protocol; // 'TLSv1.3'
 */
export function tlsHandshake(host: string, port: number, options: HandshakeOptions): Promise<HandshakeOutcome> {
  const bare = host.replace(/^\[|\]$/g, '');
  return new Promise((resolve) => {
    let stage: HandshakeStage = 'connect';
    const outcome: HandshakeOutcome = { secure: false, chain: [], accepted: false };
    let done = false;
    let socket: tls.TLSSocket;
    try {
      socket = tls.connect({
        host: bare,
        port,
        // SNI carries names only (RFC 6066); Node warns when given an address.
        ...(isIP(bare) ? {} : { servername: bare }),
        rejectUnauthorized: false,
        ...(options.ca ? { ca: options.ca } : {}),
        ...(options.cert ? { cert: options.cert } : {}),
        ...(options.key ? { key: options.key } : {}),
      });
    } catch (e) {
      // Unusable credentials (a key that is not the certificate's) throw before any I/O.
      resolve({ ...outcome, failure: { stage, message: `cannot set up TLS: ${(e as Error).message}` } });
      return;
    }
    const finish = (failure?: HandshakeFailure): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(failure ? { ...outcome, failure } : outcome);
    };
    const timer = setTimeout(
      () => finish({ stage, code: 'ETIMEDOUT', message: `no answer within ${options.timeoutMs} ms (${stage === 'connect' ? 'TCP connect' : stage === 'handshake' ? 'TLS handshake' : 'waiting for the server to answer after the handshake'})` }),
      options.timeoutMs,
    );
    socket.once('connect', () => {
      if (stage === 'connect') stage = 'handshake';
    });
    socket.once('secureConnect', () => {
      stage = 'after-handshake';
      outcome.secure = true;
      outcome.protocol = socket.getProtocol() ?? undefined;
      outcome.cipher = socket.getCipher()?.standardName;
      outcome.chain = peerChain(socket);
      if (!socket.authorized && socket.authorizationError) outcome.opensslVerifyError = String(socket.authorizationError);
      // /version is cheap: unlike /health it does not go through raft.
      socket.write(`GET /version HTTP/1.1\r\nHost: ${host}:${port}\r\nUser-Agent: etcd-tls-probe\r\nConnection: close\r\n\r\n`);
    });
    socket.once('data', () => {
      outcome.accepted = true;
      finish();
    });
    // `on`, not `once`: a second error after destroy() must not become an uncaught exception.
    socket.on('error', (e: NodeJS.ErrnoException) => {
      const alert = alertOf(e.message);
      finish({ stage, ...(e.code ? { code: e.code } : {}), ...(alert ? { alert } : {}), message: alert ? `the server sent TLS alert "${alert}"` : readableTlsError(e.message) });
    });
    socket.once('close', () =>
      finish(
        stage === 'after-handshake'
          ? { stage, message: 'the server closed the connection after the handshake without answering' }
          : { stage, code: 'ECONNRESET', message: 'the server closed the connection during the TLS handshake' },
      ),
    );
  });
}
