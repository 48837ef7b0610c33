/**
 * gencert and sign against a remote signer: the same inputs as the local flows (validated CSR JSON,
 * a verified PEM CSR), with the certificate made by the server. Used by the CLI's -remote mode.
 */
import { genKey } from './gencert.js';
import type { CsrRequest } from './csr.js';
import type { Warn } from './fields.js';
import type { CfsslResult } from './json.js';
import { readSigningConfig } from './config.js';
import { remoteBaseUrl, remoteFor, remoteSign } from './remote.js';
import { parseCsrPem } from './sign.js';
import type { PrivateKeyFormat } from '../pki/keys.js';
import type { NameSpec } from '../pki/name.js';
import { parseHosts } from '../pki/san.js';

export interface RemoteOptions {
  /** -remote; else the remote the -config profile names. */
  remote: string | undefined;
  config: string | undefined;
  profile: string | undefined;
  label: string | undefined;
  hostname: string | undefined;
  warn: Warn;
}

/** The server and auth key to use, or undefined when neither -remote nor the config names one. */
function target(opts: RemoteOptions): { base: string; authKey?: Buffer } | undefined {
  const config = opts.config === undefined ? undefined : readSigningConfig(opts.config, () => {});
  const { remote, authKey } = remoteFor(config, opts.profile);
  const chosen = opts.remote ?? remote;
  if (chosen === undefined) return undefined;
  return { base: remoteBaseUrl(chosen), ...(authKey ? { authKey } : {}) };
}

/** -hostname, checked here as locally (an empty or malformed entry is an error), as the API's hosts list. */
function hostsOf(hostname: string | undefined, fallback: string[]): string[] {
  if (hostname === undefined || hostname === '') return fallback;
  parseHosts(hostname.split(','), '-hostname', 'error');
  return hostname.split(',').map((h) => h.trim());
}

/** `gencert -remote`: a key and CSR made here, the CSR signed by the server. */
export async function remoteGencert(req: CsrRequest, opts: RemoteOptions & { keyFormat: PrivateKeyFormat }): Promise<CfsslResult | undefined> {
  const where = target(opts);
  if (!where) return undefined;
  // The CSR carries the hosts it was made with; the request's hosts (or -hostname) decide the SANs.
  const hosts = hostsOf(opts.hostname, req.hosts);
  const local = genKey({ ...req, hosts }, { warn: opts.warn, keyFormat: opts.keyFormat });
  const cert = await remoteSign(
    where.base,
    { certificate_request: local.csr as string, hosts, ...(opts.profile ? { profile: opts.profile } : {}), ...(opts.label ? { label: opts.label } : {}) },
    where.authKey,
  );
  return { cert, csr: local.csr as string, key: local.key as string };
}

/** `sign -remote`: the CSR is verified here first, then signed by the server. */
export async function remoteSignCsr(csrPem: string, source: string, opts: RemoteOptions & { subject?: NameSpec }): Promise<CfsslResult | undefined> {
  const where = target(opts);
  if (!where) return undefined;
  parseCsrPem(csrPem, source);
  const hosts = hostsOf(opts.hostname, []);
  const subject = opts.subject ? { ...(opts.subject.CN ? { CN: opts.subject.CN } : {}), ...(opts.subject.names ? { names: opts.subject.names } : {}), ...(opts.subject.serialNumber ? { SerialNumber: opts.subject.serialNumber } : {}) } : undefined;
  const cert = await remoteSign(
    where.base,
    {
      certificate_request: csrPem,
      ...(hosts.length ? { hosts } : {}),
      ...(opts.profile ? { profile: opts.profile } : {}),
      ...(opts.label ? { label: opts.label } : {}),
      ...(subject ? { subject } : {}),
    },
    where.authKey,
  );
  return { cert, csr: csrPem };
}
