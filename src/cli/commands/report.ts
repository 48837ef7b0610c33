/** `etcd-tls report [DIR] --html FILE`: one self-contained HTML page of DIR's PKI and check findings. */
import * as path from 'node:path';
import { fail } from '../../errors.js';
import { renderReportHtml } from '../../report/html.js';
import { buildReport } from '../../report/report.js';
import { PUBLIC_FILE_MODE, writeFileAtomic } from '../../store/files.js';
import { dirArgument, parseFlags, renderFlagHelp, type FlagDefs } from '../args.js';
import type { CliIo } from '../io.js';

const FLAGS = {
  html: { type: 'string', value: 'FILE', description: 'write the HTML page to FILE (atomically); - prints it to stdout' },
  now: { type: 'string', value: 'TIME', description: 'report as of this ISO 8601 time instead of now' },
} satisfies FlagDefs;

export function help(): string {
  return [
    'Usage: etcd-tls report [DIR] --html FILE [--now TIME]',
    '',
    'One self-contained HTML page (no script, no network, a CSP that forbids loading anything) about DIR',
    '(default ./etcd-tls-pki): the trust chain (CA -> members\' server and peer certificates -> clients)',
    'with subjects, SANs and key types; an expiry timeline (inline SVG) with a "now" line and each',
    "certificate's renewal window; the findings of `etcd-tls check DIR` grouped by severity. Reads only.",
    '',
    'Options:',
    renderFlagHelp(FLAGS),
    '',
    'Examples:',
    '  etcd-tls report pki --html pki-report.html',
    '  etcd-tls report pki --html - --now 2027-06-01T00:00:00Z > in-six-months.html',
    '',
  ].join('\n');
}

export async function run(args: string[], io: CliIo): Promise<number> {
  const { flags, positionals } = parseFlags('report', args, FLAGS);
  if (flags.html === undefined) throw fail('USAGE', 'report: --html FILE is required (use --html - for stdout)');
  let now: Date | undefined;
  if (flags.now !== undefined) {
    now = new Date(flags.now);
    if (Number.isNaN(now.getTime())) throw fail('BAD_DURATION', `--now: "${flags.now}" is not an ISO 8601 time (e.g. 2027-01-31T12:00:00Z)`);
  }
  const html = renderReportHtml(await buildReport(dirArgument('report', positionals), now ? { now } : {}));
  if (flags.html === '-') io.out(html);
  else {
    writeFileAtomic({ path: path.resolve(flags.html), data: html, mode: PUBLIC_FILE_MODE });
    io.err(`wrote ${flags.html}\n`);
  }
  return 0;
}
