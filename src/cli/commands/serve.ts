/**
 * `etcd-tls serve`: cfssl's signing server (`cfssl serve`) with an issuance ledger. Parses flags,
 * loads the CA, config and ledger, starts the HTTP edge (src/server/) and stops it cleanly on SIGTERM.
 */
import cluster from 'node:cluster';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import { fail } from '../../errors.js';
import { readSigningConfig } from '../../cfssl/config.js';
import { readIssuer, readSourceArg } from '../../cfssl/inputs.js';
import { SigningService } from '../../cfssl/service.js';
import { ledgerFailure } from '../../ledger/failure.js';
import { openLedger } from '../../ledger/open.js';
import type { PassphraseSource } from '../../lifecycle/ca-key.js';
import { createSigningServer, DEFAULT_LIMITS } from '../../server/http.js';
import { Metrics } from '../../server/metrics.js';
import { sumWorkerMetrics, workerMetrics } from '../../server/metrics-cluster.js';
import { parseFlags, renderFlagHelp, wholeNumberFlag, type FlagDefs } from '../args.js';
import type { CliIo } from '../io.js';
import { describeDb } from '../ledger-option.js';
import { CA_PASSPHRASE_FLAGS, passphraseSource } from '../passphrase.js';

const FLAGS = {
  ca: { type: 'string', value: 'FILE', description: 'CA certificate (also file:PATH, env:VAR); instead of DIR' },
  'ca-key': { type: 'string', value: 'FILE', description: 'CA private key (also file:PATH, env:VAR); instead of DIR' },
  config: { type: 'string', value: 'FILE', description: 'cfssl signing config: profiles, auth_keys (hex, env:VAR, file:PATH)' },
  address: { type: 'string', value: 'ADDR', description: 'address to listen on (default 127.0.0.1)' },
  port: { type: 'string', value: 'PORT', description: 'port to listen on (default 8888)' },
  db: { type: 'string', value: 'URL', description: 'ledger: a file, sqlite:PATH or postgres://… (default: SQLite ledger.db beside the CA)' },
  'tls-cert': { type: 'string', value: 'FILE', description: 'serve HTTPS with this certificate (PEM, chain allowed)' },
  'tls-key': { type: 'string', value: 'FILE', description: 'private key of --tls-cert' },
  'client-ca': { type: 'string', value: 'FILE', description: 'require client certificates signed by this CA (mutual TLS)' },
  'max-body': { type: 'string', value: 'BYTES', description: `largest request body accepted (default ${DEFAULT_LIMITS.maxBodyBytes})` },
  'body-timeout': { type: 'string', value: 'SECONDS', description: `time a client has to send its request (default ${DEFAULT_LIMITS.bodyTimeoutMs / 1000})` },
  workers: { type: 'string', value: 'N', description: 'processes serving requests (default 1; e.g. one per CPU); they share the ledger; /metrics sums them all' },
  loglevel: { type: 'string', value: 'N', description: 'accepted for cfssl compatibility; ignored' },
  ...CA_PASSPHRASE_FLAGS,
} satisfies FlagDefs;

export function help(): string {
  return [
    'Usage: etcd-tls serve [DIR | -ca CA -ca-key KEY] [-config FILE] [-address A] [-port P] [--db URL]',
    '                      [--tls-cert F --tls-key F [--client-ca F]] [--ca-passphrase-file F]',
    '',
    "cfssl's signing API under /api/v1/cfssl/ (sign, authsign, newcert, newkey, info, certinfo, init_ca,",
    'gencrl, revoke, crl, health) and Prometheus metrics on /metrics. Every certificate is recorded in the',
    'ledger before it is sent; without a CA, the endpoints that need one are disabled (listed at start).',
    'DIR holds ca.pem and ca-key.pem (or ca/ca.pem and ca/ca-key.pem, as gen writes them); the default',
    'ledger is DIR/ledger.db. SIGTERM stops accepting, finishes the requests in flight and closes the ledger.',
    'An encrypted CA key (etcd-tls ca encrypt) is decrypted once at start, in memory only, with the passphrase',
    'from --ca-passphrase-file, $ETCD_TLS_CA_PASSPHRASE or a prompt; with --workers, each worker gets that',
    'passphrase from the primary over their IPC channel (never argv, environment or disk).',
    '',
    'Options:',
    renderFlagHelp(FLAGS),
    '',
    'Examples:',
    '  etcd-tls serve ./pki -config ca-config.json -address 10.0.0.5 -port 8888',
    '  etcd-tls serve -ca ca.pem -ca-key ca-key.pem --db postgres://etcd-tls@db/ledger --tls-cert s.pem --tls-key s-key.pem',
    '  etcd-tls serve ./pki --ca-passphrase-file /root/ca.pass --workers 2 -address 10.0.0.5',
    '  cfssl gencert -remote http://10.0.0.5:8888 -profile peer member1-csr.json | cfssljson -bare member1',
    '',
  ].join('\n');
}

/** DIR's CA files: DIR/ca.pem, else DIR/ca/ca.pem (gen's layout). */
function caFilesIn(dir: string): { ca: string; key: string; home: string } {
  for (const home of [dir, path.join(dir, 'ca')]) {
    const ca = path.join(home, 'ca.pem');
    if (existsSync(ca)) return { ca, key: path.join(home, 'ca-key.pem'), home };
  }
  throw fail('FILE_NOT_FOUND', `${dir}: holds no ca.pem (nor ca/ca.pem); give the CA directory, or -ca and -ca-key`);
}

export async function run(args: string[], io: CliIo): Promise<number> {
  const { flags, positionals } = parseFlags('serve', args, FLAGS);
  if (positionals.length > 1) throw fail('USAGE', `serve: expected at most one DIR argument, got ${positionals.length} (see 'etcd-tls serve --help')`);
  const dir = positionals[0];
  if (dir !== undefined && (flags.ca !== undefined || flags['ca-key'] !== undefined)) throw fail('USAGE', 'serve: give either DIR or -ca and -ca-key, not both');
  if ((flags.ca === undefined) !== (flags['ca-key'] === undefined)) throw fail('USAGE', 'serve: -ca and -ca-key go together');
  if ((flags['tls-cert'] === undefined) !== (flags['tls-key'] === undefined)) throw fail('USAGE', 'serve: --tls-cert and --tls-key go together');
  if (flags['client-ca'] !== undefined && flags['tls-cert'] === undefined) throw fail('USAGE', 'serve: --client-ca needs --tls-cert and --tls-key (client certificates are a TLS feature)');
  const port = wholeNumberFlag('serve', flags.port, 'port', 1, 65535) ?? 8888;
  const address = flags.address ?? '127.0.0.1';
  const limits = {
    maxBodyBytes: wholeNumberFlag('serve', flags['max-body'], 'max-body', 1) ?? DEFAULT_LIMITS.maxBodyBytes,
    bodyTimeoutMs: (wholeNumberFlag('serve', flags['body-timeout'], 'body-timeout', 1, 3600) ?? DEFAULT_LIMITS.bodyTimeoutMs / 1000) * 1000,
  };

  const workers = wholeNumberFlag('serve', flags.workers, 'workers', 1, Math.max(64, availableParallelism())) ?? 1;
  // With workers, the primary checks everything a worker would load (so a bad flag is one error line,
  // not one per worker), prints the start-up lines, and leaves serving to them.
  const quiet = !cluster.isPrimary;

  const files = dir !== undefined ? caFilesIn(dir) : flags.ca !== undefined ? { ca: flags.ca, key: flags['ca-key'] as string, home: undefined } : undefined;
  // The primary asks the passphrase's source (file, environment, prompt) once and remembers the answer
  // for its workers, which ask the primary for it (see runPrimary).
  const passphrase = cluster.isPrimary ? rememberedPassphrase(passphraseSource(flags)) : undefined;
  const issuer = files ? await readIssuer(files.ca, files.key, passphrase?.source ?? passphraseFromPrimary) : undefined;
  const issuerPem = files ? (await readSourceArg(files.ca, 'CA certificate')).text : undefined;
  const config = flags.config === undefined ? undefined : readSigningConfig(flags.config, io.warn);
  const tls = flags['tls-cert']
    ? {
        cert: readFileSync(flags['tls-cert']),
        key: readFileSync(flags['tls-key'] as string),
        ...(flags['client-ca'] ? { ca: readFileSync(flags['client-ca']), requestCert: true, rejectUnauthorized: true } : {}),
      }
    : undefined;

  // The default ledger sits beside the CA; -ca given as env:/file: has no directory to sit beside.
  const home = files?.home ?? (files && !/^(env|file):/.test(files.ca) ? path.dirname(files.ca) : undefined);
  const dbUrl = flags.db ?? (home ? path.join(home, 'ledger.db') : undefined);
  const ledger = dbUrl ? await openLedger(dbUrl).catch((e: unknown) => Promise.reject(ledgerFailure(e, 'the server did not start'))) : undefined;

  const service = new SigningService({ ...(issuer ? { issuer, issuerPem } : {}), ...(config ? { config } : {}), ...(ledger ? { ledger } : {}) });
  const log = (line: string): void => io.err(`${line}\n`);
  // A worker's /metrics answers for the whole server: the primary sums every worker's counters.
  const metrics = new Metrics();
  const scrapeMetrics = cluster.isWorker ? workerMetrics(metrics) : undefined;
  const signing = createSigningServer({ service, limits, log, metrics, ...(scrapeMetrics ? { scrapeMetrics } : {}), ...(tls ? { tls } : {}) });
  if (!quiet) for (const [endpoint, why] of signing.disabled) log(`etcd-tls serve: endpoint ${endpoint} disabled: ${why}`);
  const scheme = tls ? 'https' : 'http';
  const host = address.includes(':') ? `[${address}]` : address;
  const announce = (): void => {
    if (dbUrl) log(`etcd-tls serve: ledger ${describeDb(dbUrl)}`);
    log(`etcd-tls serve: listening on ${scheme}://${host}:${port}${tls?.ca ? ' (client certificates required)' : ''}${workers > 1 ? ` (${workers} workers)` : ''}`);
  };
  if (workers > 1 && cluster.isPrimary) {
    await ledger?.close();
    return runPrimary(workers, announce, io, passphrase?.answer ?? (() => undefined));
  }

  await new Promise<void>((resolve, reject) => {
    signing.server.once('error', (e: NodeJS.ErrnoException) =>
      reject(fail('USAGE', `serve: cannot listen on ${address}:${port}: ${e.code === 'EADDRINUSE' ? 'the address is in use' : e.code === 'EADDRNOTAVAIL' ? 'no such local address' : e.message}`)),
    );
    signing.server.listen(port, address, () => resolve());
  });
  if (cluster.isPrimary) announce();
  else process.send?.({ serve: 'listening' });

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  if (cluster.isPrimary) log(`etcd-tls serve: ${signal}: no new connections; finishing requests in flight`);
  await signing.shutdown();
  await ledger?.close();
  if (cluster.isPrimary) log('etcd-tls serve: stopped');
  // A worker's IPC channel would keep it alive: let go of it so the process can end.
  cluster.worker?.disconnect();
  return 0;
}

/**
 * Several processes, one listening socket (node:cluster): signing is CPU work and one Node process
 * uses one core. Each worker runs this same command with the same flags, so each opens the ledger:
 * SQLite serializes their writers with its file lock (commits are short: their fsync is outside the
 * lock, see ledger/sqlite.ts), PostgreSQL with its own. The primary only starts, watches and stops them.
 */
async function runPrimary(count: number, announce: () => void, io: CliIo, passphrase: () => string | undefined): Promise<number> {
  const log = (line: string): void => io.err(`${line}\n`);
  let listening = 0;
  let stopping = false;
  const ready = new Promise<void>((resolve, reject) => {
    cluster.on('message', (w, msg: { serve?: string }) => {
      if (msg?.serve === 'listening' && ++listening === count) resolve();
      // A worker whose CA key is encrypted asks for the passphrase the primary already checked.
      if (msg?.serve === 'ca-passphrase?') w.send({ serve: 'ca-passphrase', passphrase: passphrase() ?? null });
    });
    cluster.on('exit', (w, code, signal) => {
      // A worker that dies before listening has printed its error line; the server as a whole fails.
      if (listening < count) reject(Object.assign(new Error('worker failed'), { exitCode: code ?? 1 }));
      else if (!stopping) {
        log(`etcd-tls serve: worker ${w.process.pid} exited (${signal ?? `code ${code}`}); starting another`);
        cluster.fork();
      }
    });
  });
  sumWorkerMetrics();
  const workers = Array.from({ length: count }, () => cluster.fork());
  try {
    await ready;
  } catch (e) {
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
    return (e as { exitCode?: number }).exitCode || 1;
  }
  void workers;
  announce();
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  stopping = true;
  log(`etcd-tls serve: ${signal}: no new connections; finishing requests in flight`);
  const exited = Object.values(cluster.workers ?? {}).map((w) => new Promise<void>((resolve) => (w?.isDead() ? resolve() : w?.once('exit', () => resolve()))));
  for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
  await Promise.all(exited);
  log('etcd-tls serve: stopped');
  return 0;
}

/** A passphrase source that remembers its last answer (the primary hands it on to its workers). */
function rememberedPassphrase(source: PassphraseSource): { source: PassphraseSource; answer: () => string | undefined } {
  let answer: string | undefined;
  return {
    source: async (question, confirm) => (answer = await source(question, confirm)),
    answer: () => answer,
  };
}

/**
 * A worker's passphrase source: asks the primary over the IPC channel node:cluster opened between
 * them, so the passphrase never appears in a worker's argv or environment (/proc) nor on disk.
 */
const passphraseFromPrimary: PassphraseSource = () =>
  new Promise((resolve) => {
    const onMessage = (msg: { serve?: string; passphrase?: string | null }): void => {
      if (msg?.serve !== 'ca-passphrase') return;
      process.off('message', onMessage);
      resolve(msg.passphrase ?? undefined);
    };
    process.on('message', onMessage);
    process.send?.({ serve: 'ca-passphrase?' });
  });
