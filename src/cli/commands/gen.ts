/** `etcd-tls gen SPEC --out DIR`: the whole cluster's PKI and configuration, idempotently. */
import * as path from 'node:path';
import { generateCluster, readSpecFile } from '../../cluster/generate.js';
import type { MaterializeResult } from '../../cluster/materialize.js';
import { parseFlags, renderFlagHelp } from '../args.js';
import type { CliIo } from '../io.js';
import { rel } from '../live-output.js';
import { CLUSTER_FLAGS, specArgument } from './plan.js';
import { withoutTornWrites } from '../run.js';
import { CA_PASSPHRASE_FLAGS, passphraseSource } from '../passphrase.js';
import { newPassphrase } from '../../lifecycle/ca-key.js';
import type { FlagDefs } from '../args.js';
import { DB_FLAG, describeDb, withLedgerOption } from '../ledger-option.js';
import { recordIssued } from '../../lifecycle/ledger.js';

const GEN_FLAGS = {
  ...CLUSTER_FLAGS,
  'encrypt-ca-key': { type: 'boolean', description: 'write a new CA key encrypted (PKCS#8, PBKDF2 + AES-256-CBC) with the CA passphrase' },
  ...CA_PASSPHRASE_FLAGS,
  ...DB_FLAG,
} satisfies FlagDefs;

export function help(): string {
  return [
    'Usage: etcd-tls gen SPEC [--out DIR] [--local] [--json] [--encrypt-ca-key] [--ca-passphrase-file F] [--db URL]',
    '',
    "Issue the cluster's CA (only if DIR has none; an existing CA is never replaced), a server and a",
    'peer certificate per member, a certificate per client, and every config file (etcd.env,',
    'etcd.yaml, etcd.service, install.sh, etcdctl.env, kube-apiserver flags). Re-running changes',
    'nothing unless the spec changed; then exactly the affected certificates are reissued.',
    'Everything is written as one atomic batch: a failure leaves DIR as it was.',
    '',
    'Options:',
    renderFlagHelp(GEN_FLAGS),
    '',
    'Layout: DIR/ca.pem, DIR/ca-key.pem, DIR/crl.der, DIR/revoked.json, DIR/nodes/<member>/...,',
    'DIR/clients/<client>/... A signed CRL (empty until `etcd-tls revoke`) is written from the start and',
    're-signed when past half its 168h validity; etcd.env points ETCD_CLIENT_CRL_FILE/ETCD_PEER_CRL_FILE at it.',
    'Certificates within their renewal window are renewed with their own key (as `etcd-tls renew`).',
    'With --db, every certificate issued is recorded in that ledger (the one `etcd-tls serve --db` keeps)',
    'and committed before any file is written; if the ledger fails, nothing is written.',
    '',
    'Examples:',
    '  etcd-tls gen cluster.yaml --out pki',
    '  etcd-tls gen cluster.yaml --out pki --local     # configs point into pki/, for `etcd-tls up`',
    '  ETCD_TLS_CA_PASSPHRASE=... etcd-tls gen cluster.yaml --out pki --encrypt-ca-key',
    '  etcd-tls gen cluster.yaml --out pki --db pki-ledger.db && etcd-tls ledger list --db pki-ledger.db',
    '',
  ].join('\n');
}


export function summarize(result: MaterializeResult, dir: string): string {
  const lines = [
    result.caCreated ? `created CA ${rel(path.join(dir, 'ca.pem'))}` : `kept CA ${rel(path.join(dir, 'ca.pem'))}`,
    ...(result.crlSigned ? [`signed CRL ${rel(path.join(dir, 'crl.der'))} (${result.crlSigned})`] : []),
    ...result.issued.map((c) => `${c.action === 'create' ? 'issued  ' : 'reissued'} ${rel(c.certPath)}${c.action === 'reissue' ? ` (${c.reasons.join('; ')})` : ''}`),
    `${result.issued.length} certificate(s) issued, ${result.kept.length} kept; ${result.written.length} file(s) written, ${result.unchanged.length} unchanged`,
  ];
  return `${lines.join('\n')}\n`;
}

export async function run(args: string[], io: CliIo): Promise<number> {
  const { flags, positionals } = parseFlags('gen', args, GEN_FLAGS);
  const spec = readSpecFile(specArgument('gen', positionals), io.warn);
  const out = flags.out ?? 'etcd-tls-pki';
  const passphrase = passphraseSource(flags);
  // Asked before any work; used only if gen creates the CA (an existing CA key is never rewritten here).
  const encryptCaKeyWith = flags['encrypt-ca-key'] ? await newPassphrase(passphrase, 'the new CA key') : undefined;
  let done = 0;
  let recorded = 0;
  const { plan, result } = await withLedgerOption(flags.db, (ledger) =>
    withoutTornWrites(io, () =>
      generateCluster(spec, {
        out,
        local: flags.local ?? false,
        passphrase,
        ...(encryptCaKeyWith !== undefined ? { encryptCaKeyWith } : {}),
        // Progress only on a terminal; piped output stays a clean summary.
        ...(io.isTTY && !flags.json ? { onIssued: () => io.err(`\rissuing certificates: ${++done}`) } : {}),
        ...(ledger
          ? {
              beforeWrite: async (issued, issuer) => {
                await recordIssued(ledger, issuer, issued, new Date());
                recorded = issued.length;
              },
            }
          : {}),
      }),
    ),
  );
  if (done > 0) io.err('\n');
  if (flags.json) {
    io.out(
      `${JSON.stringify(
        {
          dir: plan.layout.dir,
          caCreated: result.caCreated,
          crlSigned: result.crlSigned ?? null,
          issued: result.issued.map((c) => ({ file: c.certPath, action: c.action, reasons: c.reasons })),
          kept: result.kept.map((c) => c.certPath),
          written: result.written,
          unchanged: result.unchanged,
          ...(flags.db !== undefined ? { recorded } : {}),
        },
        null,
        2,
      )}\n`,
    );
  } else {
    io.out(summarize(result, plan.layout.dir));
    if (flags.db !== undefined) io.out(`recorded ${recorded} certificate(s) in the ledger ${describeDb(flags.db)}\n`);
  }
  return 0;
}
