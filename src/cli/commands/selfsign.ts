/** `etcd-tls selfsign`: cfssl's selfsign. A key and a self-signed leaf certificate for tests. */
import { fail } from '../../errors.js';
import { loadProfile } from '../../cfssl/config.js';
import { parseCsrJson } from '../../cfssl/csr.js';
import { SELFSIGN_EXPIRY_MS, selfSign } from '../../cfssl/gencert.js';
import { renderResult } from '../../cfssl/json.js';
import { CFSSL_DEFAULT_PROFILE } from '../../pki/profile.js';
import { readTextArg } from '../../store/files.js';
import { parseFlags, renderFlagHelp, type FlagDefs } from '../args.js';
import type { CliIo } from '../io.js';

const FLAGS = {
  config: { type: 'string', value: 'FILE', description: 'cfssl signing config (default: cfssl default usages, 2190h)' },
  profile: { type: 'string', value: 'NAME', description: 'signing profile from -config' },
  pkcs8: { type: 'boolean', description: 'write the private key as PKCS#8 ("PRIVATE KEY")' },
  loglevel: { type: 'string', value: 'N', description: 'accepted for cfssl compatibility; ignored' },
} satisfies FlagDefs;

export function help(): string {
  return [
    'Usage: etcd-tls selfsign [-config FILE] [-profile NAME] HOSTNAME CSRJSON',
    '',
    'Generate a key and a self-signed leaf certificate for HOSTNAME (comma-separated DNS names or IPs,',
    'which replace the "hosts" of CSRJSON) and print {"cert","csr","key"}. Trusted by nothing: for tests.',
    '',
    'Options:',
    renderFlagHelp(FLAGS),
    '',
    'Examples:',
    '  etcd-tls selfsign 127.0.0.1,localhost csr.json | etcd-tls json -bare test',
    '',
  ].join('\n');
}

export async function run(args: string[], io: CliIo): Promise<number> {
  const { flags, positionals } = parseFlags('selfsign', args, FLAGS);
  if (positionals.length !== 2)
    throw fail('USAGE', `selfsign: expected HOSTNAME and CSRJSON, got ${positionals.length} argument(s) (see 'etcd-tls selfsign --help')`);
  const [hostname, csrArg] = positionals as [string, string];
  const profile = loadProfile(flags.config, flags.profile, io.warn, { ...CFSSL_DEFAULT_PROFILE, expiryMs: SELFSIGN_EXPIRY_MS });
  const input = await readTextArg(csrArg, 'CSR JSON');
  const req = parseCsrJson(input.text, input.source, { initca: false, warn: io.warn });
  const result = selfSign(req, hostname, { profile, warn: io.warn, keyFormat: flags.pkcs8 ? 'pkcs8' : 'traditional' });
  io.warn('selfsign: a self-signed certificate is trusted by nothing but itself; use it for tests, not production');
  io.out(renderResult(result));
  return 0;
}
