/**
 * The signing server's HTTP edge: cfssl's API under /api/v1/cfssl/, plus /metrics. node:http directly,
 * because cfssl reads every body whatever its Content-Type (`curl -d` sends a form type) and a
 * framework would refuse it or parse it first.
 *
 * Bounded by design: a body larger than maxBodyBytes is refused (413) without being read; a body that
 * has not fully arrived within bodyTimeoutMs is answered 408 and the connection closed (a client
 * dribbling bytes holds a socket for that long at most); headers have headersTimeoutMs.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type ServerOptions as HttpsOptions } from 'node:https';
import { fail } from '../errors.js';
import { OPERATIONS, type ApiOutcome, type OperationName, type SigningService } from '../cfssl/service.js';
import { errorEnvelope, printable, successEnvelope, type Envelope } from './envelope.js';
import { Metrics } from './metrics.js';

export const API_PREFIX = '/api/v1/cfssl/';
/** 1 MiB: a CSR with hundreds of SANs is ~20 KiB. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

export interface ServerLimits {
  maxBodyBytes: number;
  bodyTimeoutMs: number;
  headersTimeoutMs: number;
}

export const DEFAULT_LIMITS: ServerLimits = { maxBodyBytes: DEFAULT_MAX_BODY_BYTES, bodyTimeoutMs: 10_000, headersTimeoutMs: 10_000 };

type Endpoint = OperationName | 'health';
const GET_ENDPOINTS = new Set<Endpoint>(['health', 'crl']);

export interface SigningServerOptions {
  service: SigningService;
  limits?: Partial<ServerLimits>;
  tls?: HttpsOptions;
  /** Where faults that are not domain errors are logged (never sent to clients). */
  log: (line: string) => void;
  /** This process's counters (created here when not given). */
  metrics?: Metrics;
  /** The whole server's counters for `/metrics` when this process is one of several workers. */
  scrapeMetrics?: () => Promise<Metrics>;
}

export interface SigningServer {
  server: Server;
  metrics: Metrics;
  /** Endpoints turned off at start-up and why. */
  disabled: Map<string, string>;
  /** Stop accepting, let in-flight requests finish (up to graceMs), then close idle sockets. */
  shutdown(graceMs?: number): Promise<void>;
}

class BodyError extends Error {
  constructor(
    readonly status: 408 | 413,
    message: string,
  ) {
    super(message);
  }
}

function readBody(req: IncomingMessage, limits: ServerLimits): Promise<string> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limits.maxBodyBytes) return Promise.reject(new BodyError(413, `request body of ${declared} bytes is over the limit of ${limits.maxBodyBytes}`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => {
      cleanup();
      reject(new BodyError(408, `request body not received within ${limits.bodyTimeoutMs / 1000} s`));
    }, limits.bodyTimeoutMs);
    const onData = (c: Buffer): void => {
      size += c.length;
      if (size > limits.maxBodyBytes) {
        cleanup();
        reject(new BodyError(413, `request body is over the limit of ${limits.maxBodyBytes} bytes`));
        return;
      }
      chunks.push(c);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const onError = (e: Error): void => {
      cleanup();
      reject(e);
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      req.off('data', onData).off('end', onEnd).off('error', onError);
    };
    req.on('data', onData).on('end', onEnd).on('error', onError);
  });
}

function send(res: ServerResponse, status: number, envelope: Envelope, close = false): void {
  const body = JSON.stringify(envelope);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
    'X-Content-Type-Options': 'nosniff',
    ...(close ? { Connection: 'close' } : {}),
  });
  res.end(body);
}

/**
 * Build (not start) the signing server. Endpoints whose dependency is missing are disabled and listed
 * in `disabled`, as cfssl does at start-up.
 *
 * @example
 *   const { server } = createSigningServer({ service, log: console.error });
 *   server.listen(8888, '127.0.0.1');
 */
export function createSigningServer(opts: SigningServerOptions): SigningServer {
  const limits: ServerLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  const { service } = opts;
  const metrics = opts.metrics ?? new Metrics();
  const disabled = new Map<string, string>();
  for (const op of Object.keys(OPERATIONS) as OperationName[]) {
    const why = service.missingFor(op);
    if (why) disabled.set(op, why);
  }
  let inFlight = 0;
  let idleWaiters: (() => void)[] = [];

  const run = async (endpoint: Endpoint, req: IncomingMessage, url: URL): Promise<ApiOutcome> => {
    if (endpoint === 'health') return { result: { healthy: true }, messages: [] };
    if (endpoint === 'crl') return service.crl(url.searchParams.get('expiry'));
    const body = await readBody(req, limits);
    switch (endpoint) {
      case 'sign':
        return service.sign(body);
      case 'authsign':
        return service.authsign(body);
      case 'newcert':
        return service.newcert(body);
      case 'newkey':
        return service.newkey(body);
      case 'init_ca':
        return service.initCa(body);
      case 'info':
        return service.info(body);
      case 'certinfo':
        return service.certinfo(body);
      case 'gencrl':
        return service.gencrl(body);
      case 'revoke':
        return service.revoke(body);
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = process.hrtime.bigint();
    let endpointLabel = 'other';
    let status = 200;
    inFlight++;
    try {
      const url = new URL(req.url ?? '/', 'http://server');
      if (url.pathname === '/metrics') {
        endpointLabel = 'metrics';
        let text: string;
        try {
          text = (opts.scrapeMetrics ? await opts.scrapeMetrics() : metrics).render();
        } catch (e) {
          status = 503;
          opts.log(`etcd-tls serve: /metrics: ${(e as Error)?.message ?? String(e)}`);
          const why = "the other workers' counters did not arrive; try again\n";
          res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(why) });
          res.end(why);
          return;
        }
        res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4', 'Content-Length': Buffer.byteLength(text) });
        res.end(text);
        return;
      }
      try {
        const name = url.pathname.startsWith(API_PREFIX) ? url.pathname.slice(API_PREFIX.length) : '';
        const known = name === 'health' || Object.prototype.hasOwnProperty.call(OPERATIONS, name);
        if (!known) throw fail('NOT_FOUND', `no endpoint ${printable(url.pathname.slice(0, 200))} (the API is under ${API_PREFIX})`);
        const endpoint = name as Endpoint;
        endpointLabel = endpoint;
        const why = disabled.get(endpoint);
        if (why) throw fail('ENDPOINT_DISABLED', `${endpoint} is disabled on this server: ${why}`);
        const method = GET_ENDPOINTS.has(endpoint) ? 'GET' : 'POST';
        if (req.method !== method) {
          res.setHeader('Allow', method);
          throw fail('METHOD_NOT_ALLOWED', `Method is not allowed:"${printable(req.method ?? '')}" (${endpoint} takes ${method})`);
        }
        const outcome = await run(endpoint, req, url);
        metrics.issued += outcome.issued ?? 0;
        metrics.revoked += outcome.revoked ?? 0;
        send(res, 200, successEnvelope(outcome.result, outcome.messages));
      } catch (e) {
        if (e instanceof BodyError) {
          status = e.status;
          // The rest of the body is not read: close the connection rather than drain it.
          send(res, status, { success: false, result: null, errors: [{ code: status, message: `${status === 413 ? 'BODY_TOO_LARGE' : 'REQUEST_TIMEOUT'}: ${e.message}` }], messages: [] }, true);
          res.on('finish', () => req.destroy());
          return;
        }
        const out = errorEnvelope(e);
        status = out.status;
        if (out.internal !== undefined) opts.log(`etcd-tls serve: internal error on ${endpointLabel}: ${(out.internal as Error)?.stack ?? String(out.internal)}`);
        if (!res.headersSent) send(res, status, out.envelope);
      }
    } finally {
      metrics.observe(endpointLabel, status, Number(process.hrtime.bigint() - started) / 1e9);
      // In flight until the response is handed to the socket: shutdown closes sockets after that.
      const done = (): void => {
        inFlight--;
        if (inFlight === 0 && idleWaiters.length) {
          for (const w of idleWaiters) w();
          idleWaiters = [];
        }
      };
      if (res.writableFinished || res.destroyed) done();
      else {
        let once = false;
        const finish = (): void => {
          if (!once) (once = true), done();
        };
        res.once('finish', finish).once('close', finish);
      }
    }
  };

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((e: unknown) => {
      opts.log(`etcd-tls serve: could not answer a request: ${(e as Error)?.message ?? String(e)}`);
      res.destroy();
    });
  };
  const serverOptions = { headersTimeout: limits.headersTimeoutMs, requestTimeout: limits.bodyTimeoutMs + limits.headersTimeoutMs, keepAliveTimeout: 5_000 };
  const server: Server = opts.tls ? createHttpsServer({ ...opts.tls, ...serverOptions }, listener) : createHttpServer(serverOptions, listener);
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    // Malformed HTTP or a header timeout: an envelope if the socket can still take one, never a crash.
    if (!socket.writable || err.code === 'ECONNRESET') return socket.destroy();
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const body = JSON.stringify({ success: false, result: null, errors: [{ code: status, message: `BAD_REQUEST: malformed HTTP request (${err.code ?? 'error'})` }], messages: [] });
    socket.end(`HTTP/1.1 ${status} Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  });

  const shutdown = async (graceMs = 30_000): Promise<void> => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    if (inFlight > 0) {
      await Promise.race([new Promise<void>((resolve) => idleWaiters.push(resolve)), new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref())]);
    }
    // Responses just finished: give their bytes a turn to leave before the sockets are closed.
    await new Promise((resolve) => setImmediate(resolve));
    server.closeIdleConnections();
    server.closeAllConnections();
    await closed;
  };

  return { server, metrics, disabled, shutdown };
}
