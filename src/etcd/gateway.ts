/**
 * A small client for etcd's HTTP endpoints: /health and the v3 JSON gateway (3.4 paths). Used by
 * `up`, `demo`, `probe` and `migrate`, so none of them needs etcdctl. Every call is bounded by a
 * timeout; TLS failures keep Node's error code so the doctor can name them.
 */
import * as http from 'node:http';
import * as https from 'node:https';

export interface ClientTls {
  /** PEM of the CA that signed the server certificate. */
  ca?: string;
  /** PEM client certificate and key for mTLS. */
  cert?: string;
  key?: string;
}

export interface EtcdResponse {
  status: number;
  body: string;
}

export class EtcdRequestError extends Error {
  override readonly name = 'EtcdRequestError';
  constructor(
    message: string,
    /** Node's error code (ECONNREFUSED, ERR_SSL_..., DEPTH_ZERO_SELF_SIGNED_CERT, ETIMEDOUT ...). */
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

export const DEFAULT_TIMEOUT_MS = 5000;

/** OpenSSL's error strings carry file names and hex codes; keep the part a person can act on. */
export function readableNetworkError(e: NodeJS.ErrnoException): string {
  const alert = /alert ([a-z ]+?)(?::|$)/i.exec(e.message);
  if (alert) return `the server sent TLS alert "${alert[1]}"${/bad certificate|certificate required/.test(alert[1] ?? '') ? ' (it wants a client certificate it can verify)' : ''}`;
  return e.message;
}

/** One HTTP(S) request to an etcd endpoint such as `https://127.0.0.11:2379`. */
export function etcdRequest(
  endpoint: string,
  path: string,
  options: { method?: 'GET' | 'POST'; body?: unknown; tls?: ClientTls; timeoutMs?: number } = {},
): Promise<EtcdResponse> {
  const url = new URL(path, endpoint);
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const common = {
      method: options.method ?? (body === undefined ? 'GET' : 'POST'),
      headers: body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      timeout: timeoutMs,
      agent: false as const,
    };
    const tls = options.tls ?? {};
    const req =
      url.protocol === 'https:'
        ? https.request(url, { ...common, ...(tls.ca ? { ca: tls.ca } : {}), ...(tls.cert ? { cert: tls.cert } : {}), ...(tls.key ? { key: tls.key } : {}) })
        : http.request(url, common);
    const timer = setTimeout(() => req.destroy(new EtcdRequestError(`${url.origin}: no answer within ${timeoutMs} ms`, 'ETIMEDOUT')), timeoutMs);
    req.on('timeout', () => req.destroy(new EtcdRequestError(`${url.origin}: no answer within ${timeoutMs} ms`, 'ETIMEDOUT')));
    req.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(e instanceof EtcdRequestError ? e : new EtcdRequestError(`${url.origin}: ${readableNetworkError(e)}`, e.code));
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', (e) => {
        clearTimeout(timer);
        reject(new EtcdRequestError(`${url.origin}: ${e.message}`, (e as NodeJS.ErrnoException).code));
      });
    });
    req.end(body);
  });
}

/** GET /health: true when etcd answers `{"health":"true"}`. */
export async function checkHealth(endpoint: string, tls?: ClientTls, timeoutMs?: number): Promise<{ healthy: boolean; body: string }> {
  const res = await etcdRequest(endpoint, '/health', { ...(tls ? { tls } : {}), ...(timeoutMs ? { timeoutMs } : {}) });
  let healthy = false;
  try {
    healthy = (JSON.parse(res.body) as { health?: string }).health === 'true';
  } catch {
    healthy = false;
  }
  return { healthy: res.status === 200 && healthy, body: res.body };
}

async function gatewayCall<T>(endpoint: string, path: string, body: unknown, tls?: ClientTls, timeoutMs?: number): Promise<T> {
  const res = await etcdRequest(endpoint, path, { body, ...(tls ? { tls } : {}), ...(timeoutMs ? { timeoutMs } : {}) });
  let parsed: unknown;
  try {
    parsed = JSON.parse(res.body);
  } catch {
    throw new EtcdRequestError(`${endpoint}${path}: HTTP ${res.status}, not JSON: ${res.body.slice(0, 200)}`, undefined);
  }
  if (res.status !== 200) {
    const msg = (parsed as { error?: string; message?: string }).error ?? (parsed as { message?: string }).message ?? res.body;
    throw new EtcdRequestError(`${endpoint}${path}: HTTP ${res.status}: ${msg}`, undefined);
  }
  return parsed as T;
}

export interface Member {
  /** The 64-bit member ID: the gateway sends it as a decimal string, beyond JavaScript's safe integers. */
  id: bigint;
  /** As etcdctl prints it. */
  idHex: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner: boolean;
}

interface RawMember {
  ID?: string;
  name?: string;
  peerURLs?: string[];
  clientURLs?: string[];
  isLearner?: boolean;
}

/** The cluster's members through the JSON gateway (POST /v3/cluster/member/list). */
export async function memberList(endpoint: string, tls?: ClientTls, timeoutMs?: number): Promise<Member[]> {
  const res = await gatewayCall<{ members?: RawMember[] }>(endpoint, '/v3/cluster/member/list', {}, tls, timeoutMs);
  return (res.members ?? []).map((m) => {
    const id = BigInt(m.ID ?? '0');
    return {
      id,
      idHex: id.toString(16),
      name: m.name ?? '',
      peerURLs: m.peerURLs ?? [],
      clientURLs: m.clientURLs ?? [],
      isLearner: m.isLearner ?? false,
    };
  });
}

/** `member update`: change a member's peer URLs (the ID goes back as a decimal string). */
export async function memberUpdate(endpoint: string, id: bigint, peerURLs: string[], tls?: ClientTls, timeoutMs?: number): Promise<void> {
  await gatewayCall(endpoint, '/v3/cluster/member/update', { ID: id.toString(10), peerURLs }, tls, timeoutMs);
}

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

export async function putKey(endpoint: string, key: string, value: string, tls?: ClientTls, timeoutMs?: number): Promise<void> {
  await gatewayCall(endpoint, '/v3/kv/put', { key: b64(key), value: b64(value) }, tls, timeoutMs);
}

/** The value of a key, or undefined when it does not exist. */
export async function getKey(endpoint: string, key: string, tls?: ClientTls, timeoutMs?: number): Promise<string | undefined> {
  const res = await gatewayCall<{ kvs?: { value?: string }[] }>(endpoint, '/v3/kv/range', { key: b64(key) }, tls, timeoutMs);
  const v = res.kvs?.[0]?.value;
  return v === undefined ? undefined : Buffer.from(v, 'base64').toString('utf8');
}

/** `member add` (3.4+: optionally as a learner); returns the new member as the cluster lists it. */
export async function memberAdd(endpoint: string, peerURLs: string[], isLearner: boolean, tls?: ClientTls, timeoutMs?: number): Promise<Member> {
  const res = await gatewayCall<{ member?: RawMember }>(endpoint, '/v3/cluster/member/add', { peerURLs, isLearner }, tls, timeoutMs);
  const id = BigInt(res.member?.ID ?? '0');
  return { id, idHex: id.toString(16), name: res.member?.name ?? '', peerURLs: res.member?.peerURLs ?? peerURLs, clientURLs: res.member?.clientURLs ?? [], isLearner: res.member?.isLearner ?? isLearner };
}

/** `member promote`: a learner becomes a voting member; etcd refuses until the learner has caught up. */
export async function memberPromote(endpoint: string, id: bigint, tls?: ClientTls, timeoutMs?: number): Promise<void> {
  await gatewayCall(endpoint, '/v3/cluster/member/promote', { ID: id.toString(10) }, tls, timeoutMs);
}

/** `member remove` by ID. */
export async function memberRemove(endpoint: string, id: bigint, tls?: ClientTls, timeoutMs?: number): Promise<void> {
  await gatewayCall(endpoint, '/v3/cluster/member/remove', { ID: id.toString(10) }, tls, timeoutMs);
}
