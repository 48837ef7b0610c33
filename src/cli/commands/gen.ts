/** `etcd-tls gen SPEC --out DIR`: the whole cluster's PKI and configuration, idempotently. */
import * as path from 'node:path';
import { generateCluster, readSpecFile } from '../../cluster/generate.js';
import type { MaterializeResult } from '../../cluster/materialize.js';
import { parseFlags, renderFlagHelp } from '../args.js';
import type { CliIo } from '../io.js';
import { CLUSTER_FLAGS, specArgument } from './plan.js';
import { withoutTornWrites } from '../run.js';

export function help(): string {
  return [
    'Usage: etcd-tls gen SPEC [--out DIR] [--local] [--json]',
    '',
    "Issue the cluster's CA (only if DIR has none; an existing CA is never replaced), a server and a",
    'peer certificate per member, a certificate per client, and every config file (etcd.env,',
    'etcd.yaml, etcd.service, install.sh, etcdctl.env, kube-apiserver flags). Re-running changes',
    'nothing unless the spec changed; then exactly the affected certificates are reissued.',
    'Everything is written as one atomic batch: a failure leaves DIR as it was.',
    '',
    'Options:',
    renderFlagHelp(CLUSTER_FLAGS),
    '',
    'Layout: DIR/ca.pem, DIR/ca-key.pem, DIR/nodes/<member>/..., DIR/clients/<client>/...',
    '',
    'Examples:',
    '  etcd-tls gen cluster.yaml --out pki',
    '  etcd-tls gen cluster.yaml --out pki --local     # configs point into pki/, for `etcd-tls up`',
    '',
  ].join('\n');
}

const rel = (p: string): string => path.relative(process.cwd(), p) || '.';

export function summarize(result: MaterializeResult, dir: string): string {
  const lines = [
    result.caCreated ? `created CA ${rel(path.join(dir, 'ca.pem'))}` : `kept CA ${rel(path.join(dir, 'ca.pem'))}`,
    ...result.issued.map((c) => `${c.action === 'create' ? 'issued  ' : 'reissued'} ${rel(c.certPath)}${c.action === 'reissue' ? ` (${c.reasons.join('; ')})` : ''}`),
    `${result.issued.length} certificate(s) issued, ${result.kept.length} kept; ${result.written.length} file(s) written, ${result.unchanged.length} unchanged`,
  ];
  return `${lines.join('\n')}\n`;
}

export async function run(args: string[], io: CliIo): Promise<number> {
  const { flags, positionals } = parseFlags('gen', args, CLUSTER_FLAGS);
  const spec = readSpecFile(specArgument('gen', positionals), io.warn);
  const out = flags.out ?? 'etcd-tls-pki';
  let done = 0;
  const { plan, result } = await withoutTornWrites(io, () =>
    generateCluster(spec, {
      out,
      local: flags.local ?? false,
      // Progress only on a terminal; piped output stays a clean summary.
      ...(io.isTTY && !flags.json ? { onIssued: () => io.err(`\rissuing certificates: ${++done}`) } : {}),
    }),
  );
  if (done > 0) io.err('\n');
  if (flags.json) {
    io.out(
      `${JSON.stringify(
        {
          dir: plan.layout.dir,
          caCreated: result.caCreated,
          issued: result.issued.map((c) => ({ file: c.certPath, action: c.action, reasons: c.reasons })),
          kept: result.kept.map((c) => c.certPath),
          written: result.written,
          unchanged: result.unchanged,
        },
        null,
        2,
      )}\n`,
    );
  } else io.out(summarize(result, plan.layout.dir));
  return 0;
}
