/** `etcd-tls info`: cfssl's info: ask a signing server for its CA certificate and a profile's usages and expiry. */
import { fail } from '../../errors.js';
import { readSigningConfig } from '../../cfssl/config.js';
import { callRemote, remoteBaseUrl, remoteFor } from '../../cfssl/remote.js';
import { parseFlags, renderFlagHelp, type FlagDefs } from '../args.js';
import type { CliIo } from '../io.js';

const FLAGS = {
  remote: { type: 'string', value: 'HOST', description: 'the server: HOST (port 8888), HOST:PORT or http://HOST:PORT' },
  profile: { type: 'string', value: 'NAME', description: 'the profile to describe (default: the default profile)' },
  label: { type: 'string', value: 'LABEL', description: 'the signer label (multi-root servers)' },
  config: { type: 'string', value: 'FILE', description: 'a client config whose profile names the remote (instead of -remote)' },
  loglevel: { type: 'string', value: 'N', description: 'accepted for cfssl compatibility; ignored' },
} satisfies FlagDefs;

export function help(): string {
  return [
    'Usage: etcd-tls info -remote HOST[:PORT] [-profile NAME] [-label LABEL]',
    '',
    "Print a signing server's CA certificate and a profile's usages and expiry as one line of JSON",
    '{"certificate","usages","expiry"}, as `cfssl info` does. Works against cfssl serve and etcd-tls serve.',
    '',
    'Options:',
    renderFlagHelp(FLAGS),
    '',
    'Examples:',
    '  etcd-tls info -remote 10.0.0.5:8888 -profile peer',
    "  etcd-tls info -remote http://10.0.0.5:8888 | jq -r .certificate > ca.pem",
    '',
  ].join('\n');
}

export async function run(args: string[], io: CliIo): Promise<number> {
  const { flags, positionals } = parseFlags('info', args, FLAGS);
  if (positionals.length > 0) throw fail('USAGE', `info: unexpected argument ${JSON.stringify(positionals[0])} (see 'etcd-tls info --help')`);
  const config = flags.config === undefined ? undefined : readSigningConfig(flags.config, () => {});
  const remote = flags.remote ?? remoteFor(config, flags.profile).remote;
  if (remote === undefined) throw fail('MISSING_FLAG', 'info: -remote is required (the signing server to ask)');
  const result = await callRemote(remoteBaseUrl(remote), 'info', { ...(flags.label ? { label: flags.label } : {}), ...(flags.profile ? { profile: flags.profile } : {}) });
  io.out(`${JSON.stringify(result)}\n`);
  return 0;
}
