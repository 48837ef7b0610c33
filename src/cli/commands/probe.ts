/** `etcd-tls probe ENDPOINT...`: the TLS handshake, /health and the member list of live endpoints, with findings. */
import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { hasErrors, renderFindingsJson, renderFindingsText } from '../../doctor/findings.js';
import { DEFAULT_PROBE_TIMEOUT_MS, probeEndpoints, type EndpointReport, type MemberReport, type ProbeCredentials, type ProbeReport, type StepReport } from '../../doctor/probe/probe.js';
import { fail } from '../../errors.js';
import { parseDuration } from '../../pki/duration.js';
import { readTextFile } from '../../store/files.js';
import { parseFlags, renderFlagHelp, type FlagDefs } from '../args.js';
import type { CliIo } from '../io.js';

const FLAGS = {
  cacert: { type: 'string', value: 'FILE', description: 'CA that signed the server certificates (PEM); the server chain is verified against it' },
  cert: { type: 'string', value: 'FILE', description: 'client certificate (PEM) to present' },
  key: { type: 'string', value: 'FILE', description: 'its private key (PEM)' },
  client: { type: 'string', value: 'NAME', description: 'use DIR/clients/NAME/{ca,client,client-key}.pem from `etcd-tls gen` (with --out)' },
  out: { type: 'string', value: 'DIR', description: 'the directory `etcd-tls gen` wrote (default etcd-tls-pki), for --client' },
  timeout: { type: 'string', value: 'DURATION', description: 'bound on each network step (connect+handshake, /health, member list); default 5s' },
  json: { type: 'boolean', description: 'print the report as JSON: { ok, summary, endpoints, findings }' },
} satisfies FlagDefs;

export function help(): string {
  return [
    'Usage: etcd-tls probe ENDPOINT... [--cacert F --cert F --key F | --client NAME [--out DIR]] [--timeout 5s] [--json]',
    '',
    'Probe live etcd endpoints the way etcdctl and kube-apiserver see them. For each endpoint: the TLS',
    'handshake (protocol, cipher, the chain presented, verified against --cacert like a Go client would:',
    'unknown CA, expiry, host not in the SANs, CN-only certificates, extended key usage), whether the',
    'server accepts the client certificate, GET /health, and the member list through the JSON gateway',
    '(member IDs in hex, as etcdctl prints them). Each problem is reported with its fix and the',
    '`etcd-tls explain` entry that describes it. ENDPOINT is https://HOST:PORT (or http://HOST:PORT).',
    '',
    'Exit status: 0 when no endpoint has an error, 1 otherwise.',
    '',
    'Options:',
    renderFlagHelp(FLAGS),
    '',
    'Examples:',
    '  etcd-tls probe https://10.0.0.1:2379 https://10.0.0.2:2379 --client admin --out pki',
    '  etcd-tls probe https://127.0.0.11:2379 --cacert ca.pem --cert client.pem --key client-key.pem --json',
    '  etcd-tls probe http://10.0.0.1:2379 --timeout 2s',
    '',
  ].join('\n');
}

/** The files `--client NAME --out DIR` stands for; a missing client names the ones that exist. */
function clientFiles(out: string, name: string): { ca: string; cert: string; key: string } {
  const dir = path.join(out, 'clients', name);
  if (!existsSync(dir)) {
    const parent = path.join(out, 'clients');
    const known = existsSync(parent) ? readdirSync(parent).sort() : [];
    throw fail(
      'FILE_NOT_FOUND',
      `${dir}: no client "${name}" here${known.length ? ` (clients: ${known.join(', ')})` : ` (run etcd-tls gen first, or give --out)`}`,
    );
  }
  return { ca: path.join(dir, 'ca.pem'), cert: path.join(dir, 'client.pem'), key: path.join(dir, 'client-key.pem') };
}

function credentialsFrom(flags: { cacert?: string; cert?: string; key?: string; client?: string; out?: string }): ProbeCredentials {
  if (flags.client !== undefined && (flags.cert !== undefined || flags.key !== undefined))
    throw fail('USAGE', "probe: give either --client or --cert/--key, not both (see 'etcd-tls probe --help')");
  if (flags.out !== undefined && flags.client === undefined) throw fail('USAGE', 'probe: --out is only used with --client NAME');
  const files: { ca?: string; cert?: string; key?: string } =
    flags.client !== undefined ? clientFiles(flags.out ?? 'etcd-tls-pki', flags.client) : { ca: flags.cacert, cert: flags.cert, key: flags.key };
  const ca = flags.cacert ?? files.ca;
  const creds: ProbeCredentials = {};
  if (ca !== undefined) Object.assign(creds, { ca: readTextFile(ca, 'CA file'), caSource: ca });
  if (files.cert !== undefined) Object.assign(creds, { cert: readTextFile(files.cert, 'client certificate'), certSource: files.cert });
  if (files.key !== undefined) creds.key = readTextFile(files.key, 'client key');
  return creds;
}

export async function run(args: string[], io: CliIo): Promise<number> {
  const { flags, positionals } = parseFlags('probe', args, FLAGS);
  if (positionals.length === 0) throw fail('USAGE', "probe: give at least one endpoint, e.g. https://127.0.0.1:2379 (see 'etcd-tls probe --help')");
  const timeoutMs = flags.timeout === undefined ? DEFAULT_PROBE_TIMEOUT_MS : parseDuration(flags.timeout, '--timeout');
  const report = await probeEndpoints(positionals, { credentials: credentialsFrom(flags), timeoutMs });
  // Each finding once, at the top level (its subject names the endpoint or member), not again per endpoint.
  if (flags.json) io.out(renderFindingsJson(report.findings, { endpoints: report.endpoints.map(({ findings: _, ...rest }) => rest) }));
  else io.out(renderProbeText(report));
  return hasErrors(report.findings) ? 1 : 0;
}

const mark = (s: StepReport): string => (s.status === 'ok' ? 'ok' : s.status === 'failed' ? 'FAILED' : 'skipped');
const day = (iso: string): string => iso.slice(0, 10);

function endpointBlock(r: EndpointReport): string[] {
  const rows: [string, string][] = [];
  if (r.tls) {
    rows.push(['tls', `${mark(r.tls.handshake)}: ${r.tls.handshake.detail}`]);
    r.tls.chain.forEach((c, i) => {
      const usage = c.isCA ? 'CA' : c.extKeyUsage.join(',') || 'any usage';
      const sans = c.sans.length ? `  ${c.sans.join(' ')}` : '';
      rows.push([i === 0 ? 'chain' : '', `[${i}] ${c.subject}  ${day(c.notBefore)}..${day(c.notAfter)}  ${usage}${sans}${c.fromCaFile ? '  (from CA file)' : ''}`]);
    });
    rows.push(['verify', `${mark(r.tls.verification)}: ${r.tls.verification.detail}`]);
    rows.push(['client cert', `${mark(r.tls.clientCertificate)}: ${r.tls.clientCertificate.detail}`]);
  } else if (!r.reachable) rows.push(['connect', 'FAILED']);
  rows.push(['health', `${mark(r.health)}: ${r.health.detail}`]);
  rows.push(['members', `${mark(r.members)}: ${r.members.detail}`]);
  return [r.endpoint, ...rows.map(([k, v]) => `  ${k.padEnd(13)}${v}`)];
}

function memberTable(list: readonly MemberReport[]): string[] {
  const header = ['ID', 'NAME', 'PEER URLS', 'CLIENT URLS', 'LEARNER'];
  const rows = list.map((m) => [m.idHex, m.name || '(unstarted)', m.peerURLs.join(','), m.clientURLs.join(','), String(m.isLearner)]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  return [header, ...rows].map((r) => `  ${r.map((c, i) => c.padEnd(widths[i] as number)).join('  ')}`.trimEnd());
}

/**
 * Text for people: one block per endpoint, the member table (once per distinct answer), then the
 * findings with their fixes and the summary line.
 */
export function renderProbeText(report: ProbeReport): string {
  const blocks = report.endpoints.map((r) => endpointBlock(r).join('\n'));
  const tables = new Map<string, { from: string; list: MemberReport[] }>();
  for (const r of report.endpoints) {
    const list = r.members.list;
    if (!list) continue;
    const key = JSON.stringify(list);
    if (!tables.has(key)) tables.set(key, { from: r.endpoint, list });
  }
  const memberBlocks = [...tables.values()].map((t) => [`members (from ${t.from})`, ...memberTable(t.list)].join('\n'));
  return `${[...blocks, ...memberBlocks].join('\n\n')}\n\n${renderFindingsText(report.findings)}`;
}
