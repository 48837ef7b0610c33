/** `etcd-tls json`: cfssljson. Writes cfssl's JSON output to NAME.pem, NAME-key.pem, NAME.csr. */
import { fail } from '../../errors.js';
import { cfssljsonFiles, cfssljsonItems, cfssljsonResult, renderCfssljsonStdout } from '../../cfssl/cfssljson.js';
import { parseJson } from '../../cfssl/json.js';
import { readTextArg, writeFilesAtomic } from '../../store/files.js';
import { parseFlags, renderFlagHelp, type FlagDefs } from '../args.js';
import type { CliIo } from '../io.js';

const FLAGS = {
  bare: { type: 'boolean', description: "the input is a command's output ({\"cert\",\"key\",...}), not an API response" },
  f: { type: 'string', short: 'f', value: 'FILE', description: 'read the JSON from FILE (default -, stdin)' },
  stdout: { type: 'boolean', description: 'print the PEM texts instead of writing files' },
  force: { type: 'boolean', description: "replace an existing CA's key file (refused otherwise)" },
} satisfies FlagDefs;

export function help(): string {
  return [
    'Usage: etcd-tls json [-bare] [-f FILE] [-stdout] [-force] [BASENAME]',
    '',
    'Replaces cfssljson: reads the JSON that gencert, sign or genkey print and writes BASENAME.pem',
    '(certificate, 0644), BASENAME-key.pem (private key, 0600, also when it replaces a file) and',
    'BASENAME.csr (0644), all or nothing. BASENAME defaults to "cert". A trailing "-" (as in',
    '`cfssljson -bare ca -`) is accepted and ignored. An existing CA key is never replaced without -force.',
    '',
    'Options:',
    renderFlagHelp(FLAGS),
    '',
    'Examples:',
    '  etcd-tls gencert -initca ca-csr.json | etcd-tls json -bare ca',
    '  etcd-tls gencert -ca=ca.pem -ca-key=ca-key.pem -profile=client client.json | etcd-tls json -bare client',
    '',
  ].join('\n');
}

export async function run(args: string[], io: CliIo): Promise<number> {
  // Go's flag package reads `-f=FILE`; node's parser would take "=FILE" as the value of the short flag.
  const goArgs = args.map((a) => (a.startsWith('-f=') ? `--f=${a.slice(3)}` : a));
  const { flags, positionals } = parseFlags('json', goArgs, FLAGS);
  // cfssljson takes BASENAME and ignores anything after it (the blog's trailing "-").
  const named = positionals.filter((p) => p !== '-');
  if (named.length > 1) throw fail('USAGE', `json: expected at most one BASENAME, got ${named.map((p) => JSON.stringify(p)).join(', ')}`);
  if (named[0] === '') throw fail('USAGE', "json: BASENAME is empty; it names the files (BASENAME.pem, BASENAME-key.pem)");
  const basename = named[0] ?? 'cert';
  const input = await readTextArg(flags.f ?? '-', 'cfssl JSON');
  const doc = parseJson(input.text, input.source);
  const items = cfssljsonItems(cfssljsonResult(doc, Boolean(flags.bare)), input.source);
  if (flags.stdout) {
    io.out(renderCfssljsonStdout(items));
    return 0;
  }
  writeFilesAtomic(cfssljsonFiles(items, basename, input.source, Boolean(flags.force)));
  return 0;
}
