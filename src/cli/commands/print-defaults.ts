/** `etcd-tls print-defaults`: cfssl's templates, byte for byte. */
import { fail } from '../../errors.js';
import { DEFAULTS, DEFAULTS_LIST } from '../../cfssl/defaults.js';
import { parseFlags, renderFlagHelp, type FlagDefs } from '../args.js';
import type { CliIo } from '../io.js';

const FLAGS = {} satisfies FlagDefs;

export function help(): string {
  return [
    'Usage: etcd-tls print-defaults config|csr|list',
    '',
    "Print cfssl's default signing config or CSR JSON (identical to `cfssl print-defaults`), to edit.",
    '',
    'Options:',
    renderFlagHelp(FLAGS),
    '',
    'Examples:',
    '  etcd-tls print-defaults config > ca-config.json',
    '  etcd-tls print-defaults csr > ca-csr.json',
    '',
  ].join('\n');
}

export async function run(args: string[], io: CliIo): Promise<number> {
  const { positionals } = parseFlags('print-defaults', args, FLAGS);
  const [type, extra] = positionals;
  if (type === undefined || extra !== undefined)
    throw fail('USAGE', "print-defaults: expected one of config, csr or list (see 'etcd-tls print-defaults --help')");
  if (type === 'list') {
    io.out(DEFAULTS_LIST);
    return 0;
  }
  const text = DEFAULTS[type];
  // cfssl prints the list and exits 0 for an unknown type, which hides a typo in a script.
  if (text === undefined) throw fail('USAGE', `print-defaults: unknown type "${type}" (choose config, csr or list)`);
  io.out(text);
  return 0;
}
