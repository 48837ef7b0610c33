/**
 * The client side of cfssl's API: `gencert -remote`, `sign -remote`, `info -remote`, so etcd-tls can
 * use `cfssl serve` (or `etcd-tls serve`) as its CA. A profile whose config entry names an auth key
 * (`auth_remote.auth_key`, or `auth_key`) is signed through /authsign with that key's HMAC token.
 */
import { fail } from '../errors.js';
import { authToken, resolveAuthKey } from './auth.js';
import type { SigningConfig } from './config.js';

/**
 * The remote's base URL from what users type: `HOST` (port 8888, as cfssl), `HOST:PORT`, `[v6]:PORT`
 * or a full `http(s)://HOST:PORT`. (cfssl 1.2.0's own client fails on `HOST:PORT`; etcd-tls takes all three.)
 */
export function remoteBaseUrl(remote: string): string {
  const r = remote.trim();
  if (/^https?:\/\//i.test(r)) {
    try {
      const u = new URL(r);
      return `${u.protocol}//${u.host}`;
    } catch {
      throw fail('USAGE', `-remote ${JSON.stringify(remote)}: not a valid URL`);
    }
  }
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]/\s]+)(?::(\d{1,5}))?$/.exec(r);
  const port = Number(m?.[2] ?? 8888);
  if (!m || port < 1 || port > 65535) throw fail('USAGE', `-remote ${JSON.stringify(remote)}: expected HOST, HOST:PORT or http://HOST:PORT`);
  return `http://${m[1]}:${port}`;
}

/** The remote and auth key a profile of a client config names (cfssl's remotes / auth_remote). */
export function remoteFor(config: SigningConfig | undefined, profileName: string | undefined): { remote?: string; authKey?: Buffer } {
  if (!config) return {};
  const entry = profileName ? config.profiles.get(profileName) : config.default;
  if (!entry) return {};
  const remote = entry.remote ? config.remotes.get(entry.remote) : undefined;
  const keyName = entry.clientAuthKey;
  const spec = keyName ? config.authKeys.get(keyName) : undefined;
  return {
    ...(remote ? { remote: remote.split(',')[0]?.trim() as string } : {}),
    ...(keyName && spec ? { authKey: resolveAuthKey(keyName, spec, config.source) } : {}),
  };
}

interface Envelope {
  success?: boolean;
  result?: unknown;
  errors?: { code?: number; message?: string }[];
}

/** POST a JSON body to `base/api/v1/cfssl/endpoint`; the result, or REMOTE_FAILED with the server's words. */
export async function callRemote(base: string, endpoint: string, body: unknown, timeoutMs = 30_000): Promise<unknown> {
  const url = `${base}/api/v1/cfssl/${endpoint}`;
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw fail('REMOTE_FAILED', `${url}: cannot reach the signing server (${cause?.code ?? cause?.message ?? (e as Error).message})`);
  }
  const text = await res.text();
  let env: Envelope;
  try {
    env = JSON.parse(text) as Envelope;
  } catch {
    throw fail('REMOTE_FAILED', `${url}: answered HTTP ${res.status} with something that is not cfssl's JSON envelope`);
  }
  if (!res.ok || env.success !== true) {
    const errs = (env.errors ?? []).map((e) => `${e.code ?? ''} ${e.message ?? ''}`.trim()).join('; ');
    throw fail('REMOTE_FAILED', `${url}: HTTP ${res.status}: ${errs.replace(/[\u0000-\u001f]/g, ' ') || 'no error given'}`);
  }
  return env.result;
}

export interface RemoteSignRequest {
  certificate_request: string;
  hosts?: string[];
  profile?: string;
  label?: string;
  subject?: unknown;
}

/** Sign a CSR on the remote: /authsign with a token when `authKey` is given, else /sign. Returns the PEM. */
export async function remoteSign(base: string, request: RemoteSignRequest, authKey?: Buffer): Promise<string> {
  let result: unknown;
  if (authKey) {
    const bytes = Buffer.from(JSON.stringify(request));
    result = await callRemote(base, 'authsign', { token: authToken(authKey, bytes).toString('base64'), request: bytes.toString('base64') });
  } else result = await callRemote(base, 'sign', request);
  const cert = (result as { certificate?: unknown } | null)?.certificate;
  if (typeof cert !== 'string' || !cert.includes('BEGIN CERTIFICATE')) throw fail('REMOTE_FAILED', `${base}: the answer holds no certificate`);
  return cert;
}
