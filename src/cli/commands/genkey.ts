/** `etcd-tls genkey`: cfssl's genkey. A private key and CSR, or with -initca a new CA. */
import { fail } from '../../errors.js';
import { parseCsrJson } from '../../cfssl/csr.js';
import { genKey, initCa } from '../../cfssl/gencert.js';
import { renderResult } from '../../cfssl/json.js';
import { readTextArg } from '../../store/files.js';
import { parseFlags, renderFlagHelp, type FlagDefs } from '../args.js';
import type { CliIo } from '../io.js';

const FLAGS = {
  initca: { type: 'boolean', description: 'also self-sign: a new CA (key, CSR and certificate), as gencert -initca' },
  pkcs8: { type: 'boolean', description: 'write the private key as PKCS#8 ("PRIVATE KEY") instead of RSA/EC PRIVATE KEY' },
  config: { type: 'string', value: 'FILE', description: 'accepted for cfssl compatibility; genkey signs nothing with it' },
  loglevel: { type: 'string', value: 'N', description: 'accepted for cfssl compatibility; ignored' },
} satisfies FlagDefs;

export function help(): string {
  return [
    'Usage: etcd-tls genkey [-initca] [-pkcs8] CSRJSON',
    '',
    'Generate a private key and a CSR from cfssl CSR JSON (a file, or - for stdin) and print',
    '{"csr","key"} as one line of JSON; with -initca also a self-signed CA certificate ({"cert","csr","key"}).',
    '',
    'Options:',
    renderFlagHelp(FLAGS),
    '',
    'Examples:',
    '  etcd-tls genkey member1-csr.json | etcd-tls json -bare member1      # member1-key.pem, member1.csr',
    '  etcd-tls genkey -initca ca-csr.json | etcd-tls json -bare ca',
    '',
  ].join('\n');
}

export async function run(args: string[], io: CliIo): Promise<number> {
  const { flags, positionals } = parseFlags('genkey', args, FLAGS);
  if (positionals.length !== 1)
    throw fail('USAGE', `genkey: expected one CSRJSON argument (a file, or - for stdin), got ${positionals.length} (see 'etcd-tls genkey --help')`);
  const input = await readTextArg(positionals[0] as string, 'CSR JSON');
  const initca = Boolean(flags.initca);
  const req = parseCsrJson(input.text, input.source, { initca, warn: io.warn });
  const opts = { warn: io.warn, keyFormat: flags.pkcs8 ? ('pkcs8' as const) : ('traditional' as const) };
  io.out(renderResult(initca ? initCa(req, opts) : genKey(req, opts)));
  return 0;
}
