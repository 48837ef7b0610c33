/** `etcd-tls explain`: recognise well-known etcd TLS failures in log lines and say their cause and fix. */
import { findEntry } from '../../doctor/explain/catalogue.js';
import { explainEntry, explainText, type TextExplanation } from '../../doctor/explain/explain.js';
import { escapeControl, fail } from '../../errors.js';
import { parseFlags, renderFlagHelp, type FlagDefs } from '../args.js';
import type { CliIo } from '../io.js';

const FLAGS = {
  json: { type: 'boolean', description: 'print what was recognised as a JSON array (id, title, evidence, match, line, count, cause, fix, seeAlso, facts)' },
} satisfies FlagDefs;

/** A whole day of etcd logs fits; a runaway pipe does not get to fill memory. */
export const MAX_STDIN_BYTES = 4 * 1024 * 1024;
const WIDTH = 100;
const EVIDENCE_SHOWN = 300;

export function help(): string {
  return [
    'Usage: etcd-tls explain [--json] [LINE... | ID]',
    '',
    'Recognise well-known etcd TLS failures in log lines (etcd, etcdctl, curl, openssl, kube-apiserver,',
    'kubectl) and explain each: what it means, its usual cause in an etcd cluster, the fix, and the',
    'upstream issues. Without LINE, reads a log from stdin (at most 4 MiB) and reports each failure once,',
    'with the first line that showed it and how many lines did. An entry ID that check or probe printed',
    '(e.g. client-cert-missing) shows that entry.',
    '',
    'Quote a line that holds quotes or parentheses; unquoted words are joined into one line. Put -- before',
    'a line that starts with "-". Exit status: 0 when something was recognised, 1 when nothing was.',
    '',
    'Options:',
    renderFlagHelp(FLAGS),
    '',
    'Examples:',
    "  etcd-tls explain 'x509: certificate is valid for 127.0.0.2, not 127.0.0.1'",
    '  etcd-tls explain tls: first record does not look like a TLS handshake',
    '  journalctl -u etcd --since -1h | etcd-tls explain',
    '  etcd-tls explain server-cert-missing-clientauth',
    '  etcdctl --debug endpoint health 2>&1 | etcd-tls explain --json',
    '',
  ].join('\n');
}

export async function run(args: string[], io: CliIo): Promise<number> {
  const { flags, positionals } = parseFlags('explain', args, FLAGS);
  const text = positionals.length > 0 ? textFromArgs(positionals) : await readStdinBounded(io);
  if (text.trim() === '') {
    throw fail(
      'EMPTY_INPUT',
      positionals.length > 0
        ? 'explain: the arguments hold no text to explain'
        : "stdin: no log lines to explain; pipe a log in or pass the line as an argument (see 'etcd-tls explain --help')",
    );
  }
  // `check` and `probe` name catalogue entries by id ("see: client-cert-missing"): an id alone is looked up.
  const id = text.trim();
  const found: TextExplanation[] = findEntry(id)
    ? [{ ...explainEntry(id, {}, `catalogue entry ${id}`), line: 1, count: 1 }]
    : explainText(text);
  if (flags.json) io.out(`${JSON.stringify(found, null, 2)}\n`);
  else if (found.length > 0) io.out(renderText(found, countLines(text) > 1));
  if (found.length === 0) throw fail('NOTHING_RECOGNISED', "no known etcd TLS failure was recognised; to test a live endpoint, run 'etcd-tls probe'");
  return 0;
}

/**
 * A pasted line arrives either quoted (one argument, spaces inside) or split by the shell into words.
 * Words are joined back into one line; quoted arguments each stay a line of their own.
 */
function textFromArgs(args: readonly string[]): string {
  return args.some((a) => /\s/.test(a)) ? args.join('\n') : args.join(' ');
}

async function readStdinBounded(io: CliIo): Promise<string> {
  const stdin = process.stdin;
  if (stdin.isTTY) io.err('etcd-tls explain: paste log lines, then press Ctrl-D\n');
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  for await (const chunk of stdin) {
    const b = chunk as Buffer;
    if (size + b.length > MAX_STDIN_BYTES) {
      chunks.push(b.subarray(0, MAX_STDIN_BYTES - size));
      truncated = true;
      break; // ends the iteration, which destroys stdin: the writer gets EPIPE, we do not wait for it
    }
    chunks.push(b);
    size += b.length;
  }
  let text = Buffer.concat(chunks).toString('utf8');
  if (truncated) {
    // A line cut in half could match the wrong entry, or none: drop it.
    text = text.slice(0, Math.max(0, text.lastIndexOf('\n')));
    io.warn(`stdin: only the first ${MAX_STDIN_BYTES / 1024 / 1024} MiB were read; explain a shorter excerpt for the rest`);
  }
  return text;
}

function countLines(text: string): number {
  return text.split('\n').filter((l) => l.trim() !== '').length;
}

function wrap(text: string, indent: number, width = WIDTH): string {
  const pad = ' '.repeat(indent);
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line !== '' && indent + line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(line);
  return lines.join(`\n${pad}`);
}

function renderOne(e: TextExplanation, multiLine: boolean): string {
  const label = (name: string): string => `  ${name.padEnd(10)}`;
  // A long line (zap JSON, gRPC retries) is shown by the part that was recognised.
  const evidence =
    e.evidence.length <= EVIDENCE_SHOWN
      ? e.evidence
      : `… ${e.match.length > EVIDENCE_SHOWN ? `${e.match.slice(0, EVIDENCE_SHOWN - 1)}…` : `${e.match} …`}`;
  const rows = [
    wrap(`${e.id}: ${e.title}`, 2),
    // The evidence is the user's own log line: it may carry terminal escapes.
    `${label('evidence')}${escapeControl(evidence)}`,
    ...(multiLine ? [`${label('seen')}line ${e.line}${e.count > 1 ? `, ${e.count} lines in all` : ''}`] : []),
    `${label('cause')}${wrap(e.cause, 12)}`,
    `${label('fix')}${wrap(e.fix, 12)}`,
    ...(e.seeAlso.length > 0 ? [`${label('see also')}${e.seeAlso.join(`\n${' '.repeat(12)}`)}`] : []),
  ];
  return rows.join('\n');
}

function renderText(found: readonly TextExplanation[], multiLine: boolean): string {
  return `${found.map((e) => renderOne(e, multiLine)).join('\n\n')}\n`;
}
