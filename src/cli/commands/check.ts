/** `etcd-tls check`: lint certificates and etcd configuration offline; exit 1 when anything is an error. */
import { fail } from '../../errors.js';
import { runCheck, type CertRole, type CheckRequest } from '../../doctor/check/check.js';
import { hasErrors, renderFindingsJson, renderFindingsText } from '../../doctor/findings.js';
import { parseFlags, renderFlagHelp, type FlagDefs } from '../args.js';
import type { CliIo } from '../io.js';

const FLAGS = {
  ca: { type: 'string', value: 'FILE', description: 'CA bundle the certificates must chain to (default: DIR/ca.pem)' },
  cert: { type: 'string', value: 'FILE', description: 'check one certificate file (with --key and --role)' },
  key: { type: 'string', value: 'FILE', description: 'the private key of --cert' },
  role: { type: 'string', value: 'ROLE', description: 'what --cert is used as: server, peer or client (default: from its file name)' },
  'etcd-env': { type: 'string', multiple: true, value: 'FILE', description: 'an etcd environment file (ETCD_* variables, DAEMON_ARGS), e.g. /etc/default/etcd; repeatable' },
  'etcd-yaml': { type: 'string', value: 'FILE', description: 'a YAML file for etcd --config-file' },
  flags: { type: 'string', value: '"ARGS"', description: "etcd's command line, e.g. --flags=\"--cert-file=/etc/etcd/server.pem ...\"" },
  spec: { type: 'string', value: 'SPEC', description: 'the cluster spec DIR was generated from: every member and client must be there' },
  now: { type: 'string', value: 'ISO', description: 'judge validity at this time instead of now, e.g. 2027-01-01T00:00:00Z' },
  json: { type: 'boolean', description: 'print the findings as JSON' },
} satisfies FlagDefs;

const ROLES: readonly CertRole[] = ['server', 'peer', 'client'];

export function help(): string {
  return [
    'Usage: etcd-tls check [DIR] [--ca FILE] [--etcd-env FILE] [--etcd-yaml FILE] [--flags "ARGS"]',
    '                      [--cert FILE --key FILE --role server|peer|client] [--spec SPEC] [--now ISO] [--json]',
    '',
    "Find what etcd 3.4 and its clients will reject, before anything starts: expired or mis-chained",
    'certificates, keys that do not match, missing extended key usages (the server certificate needs',
    "clientAuth for etcd's gRPC gateway), SANs that miss an advertised address, http:// URLs beside TLS",
    'files, settings given twice or ignored, cipher suites that kill HTTP/2, CRLs from another CA.',
    '',
    'DIR is a directory laid out like `etcd-tls gen` output (ca.pem, nodes/<member>/, clients/<client>/)',
    'or any folder of PEM files: roles come from file names (server, peer, client), keys from <name>-key.pem,',
    "and each etcd.env / etcd.yaml is checked against the certificates beside it. Nothing is contacted;",
    "use 'etcd-tls probe' for live endpoints.",
    '',
    'Exit status: 0 when no finding is an error (warnings allowed), 1 otherwise.',
    '',
    'Options:',
    renderFlagHelp(FLAGS),
    '',
    'Examples:',
    '  etcd-tls check pki                                  # everything etcd-tls gen wrote',
    '  etcd-tls check --etcd-env /etc/default/etcd         # on an etcd host: config and the files it names',
    '  etcd-tls check --cert server.pem --key server-key.pem --role server --ca ca.pem',
    '  etcd-tls check --flags="--listen-client-urls=https://10.0.0.1:2379 --cert-file=server.pem" --ca ca.pem',
    '  etcd-tls check pki --json | jq \'.findings[] | select(.severity == "error")\'',
    '',
  ].join('\n');
}

function parseNow(value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw fail('BAD_DURATION', `check: --now "${value}" is not an ISO 8601 time (e.g. 2027-01-01T00:00:00Z)`);
  return d;
}

export async function run(args: string[], io: CliIo): Promise<number> {
  const { flags, positionals } = parseFlags('check', args, FLAGS);
  if (positionals.length > 1) throw fail('USAGE', `check: expected at most one DIR, got ${positionals.length} (see 'etcd-tls check --help')`);
  if ((flags.key || flags.role) && !flags.cert) throw fail('USAGE', 'check: --key and --role describe --cert, which is missing');
  const role = flags.role as CertRole | undefined;
  if (role !== undefined && !ROLES.includes(role)) throw fail('USAGE', `check: --role "${role}" must be server, peer or client`);
  const request: CheckRequest = {
    ...(positionals[0] !== undefined ? { dir: positionals[0] } : {}),
    ...(flags.ca ? { ca: flags.ca } : {}),
    ...(flags.spec ? { spec: flags.spec } : {}),
    ...(flags.cert ? { certificates: [{ cert: flags.cert, ...(flags.key ? { key: flags.key } : {}), ...(role ? { role } : {}) }] } : {}),
    ...(flags['etcd-env']?.length ? { etcdEnv: flags['etcd-env'] } : {}),
    ...(flags['etcd-yaml'] ? { etcdYaml: flags['etcd-yaml'] } : {}),
    ...(flags.flags !== undefined ? { flags: flags.flags } : {}),
  };
  const now = parseNow(flags.now);
  if (now) request.now = now;
  const report = await runCheck(request);
  if (flags.json) {
    io.out(renderFindingsJson(report.findings, { checked: report.checked }));
  } else {
    const { certificates, caFiles, configs } = report.checked;
    const n = (count: number, word: string): string => `${count} ${word}${count === 1 ? '' : 's'}`;
    io.out(`checked ${n(certificates.length, 'certificate')}, ${n(caFiles.length, 'CA file')}, ${n(configs.length, 'etcd configuration')}\n\n`);
    io.out(renderFindingsText(report.findings));
  }
  return hasErrors(report.findings) ? 1 : 0;
}
