/** `etcd-tls sign`: cfssl's sign. Certifies an existing PEM CSR with a CA. */
import { fail } from '../../errors.js';
import { loadProfile } from '../../cfssl/config.js';
import { parseSubjectJson } from '../../cfssl/csr.js';
import { readIssuer } from '../../cfssl/inputs.js';
import { renderResult } from '../../cfssl/json.js';
import { signCsr } from '../../cfssl/sign.js';
import { readTextArg } from '../../store/files.js';
import { parseFlags, renderFlagHelp, requireFlag, type FlagDefs } from '../args.js';
import type { CliIo } from '../io.js';
import { CA_PASSPHRASE_FLAGS, passphraseSource } from '../passphrase.js';

const FLAGS = {
  ca: { type: 'string', value: 'FILE', description: 'CA certificate to sign with (also file:PATH, env:VAR)' },
  'ca-key': { type: 'string', value: 'FILE', description: 'CA private key' },
  config: { type: 'string', value: 'FILE', description: 'cfssl signing config (profiles, usages, expiry)' },
  profile: { type: 'string', value: 'NAME', description: 'signing profile from -config (default: signing.default)' },
  hostname: { type: 'string', value: 'LIST', description: "comma-separated SANs; replaces the CSR's SANs" },
  csr: { type: 'string', value: 'FILE', description: 'the CSR (instead of the CSR argument; wins over it, as in cfssl)' },
  label: { type: 'string', value: 'LABEL', description: 'accepted for cfssl compatibility; ignored' },
  remote: { type: 'string', value: 'HOST', description: 'sign on a cfssl-compatible server: HOST (port 8888), HOST:PORT or http://HOST:PORT' },
  loglevel: { type: 'string', value: 'N', description: 'accepted for cfssl compatibility; ignored' },
  ...CA_PASSPHRASE_FLAGS,
} satisfies FlagDefs;

export function help(): string {
  return [
    'Usage: etcd-tls sign -ca CA -ca-key KEY [-config FILE] [-profile NAME] [-hostname LIST] CSR [SUBJECT]',
    '       etcd-tls sign -remote HOST[:PORT] [-config FILE] [-profile NAME] [-hostname LIST] CSR',
    '',
    'Sign a PEM certificate request (a file, or - for stdin) and print {"cert","csr"} as one line of',
    'JSON. The CSR signature is verified first. SUBJECT is an optional JSON file {"CN","names":[...]}',
    "that replaces the CSR's subject.",
    '',
    'Options:',
    renderFlagHelp(FLAGS),
    '',
    'Examples:',
    '  etcd-tls sign -ca=ca.pem -ca-key=ca-key.pem -config=ca-config.json -profile=client client.csr | etcd-tls json -bare client',
    '  etcd-tls sign -ca ca.pem -ca-key ca-key.pem -hostname 10.0.0.1,etcd1 etcd1.csr',
    '  etcd-tls sign -remote http://10.0.0.5:8888 -profile client client.csr',
    '',
  ].join('\n');
}

export async function run(args: string[], io: CliIo): Promise<number> {
  const { flags, positionals } = parseFlags('sign', args, FLAGS);
  if (flags.label !== undefined && flags.remote === undefined) io.warn('sign: -label is ignored (it selects a signer of a remote multi-root CA)');
  const csrArg = flags.csr ?? positionals[0];
  const subjectArg = flags.csr === undefined ? positionals[1] : positionals[0];
  const max = flags.csr === undefined ? 2 : 1;
  if (csrArg === undefined) throw fail('USAGE', "sign: expected a CSR argument (a file, or - for stdin) (see 'etcd-tls sign --help')");
  if (positionals.length > max) throw fail('USAGE', `sign: unexpected argument ${JSON.stringify(positionals[max])} (see 'etcd-tls sign --help')`);

  if (flags.remote !== undefined || (flags.ca === undefined && flags.config !== undefined)) {
    const { remoteSignCsr } = await import('../../cfssl/remote-flows.js');
    const csr = await readTextArg(csrArg, 'CSR');
    const subject = subjectArg === undefined ? undefined : await readTextArg(subjectArg, 'subject JSON');
    const result = await remoteSignCsr(csr.text, csr.source, {
      remote: flags.remote,
      config: flags.config,
      profile: flags.profile,
      label: flags.label,
      hostname: flags.hostname,
      warn: io.warn,
      ...(subject ? { subject: parseSubjectJson(subject.text, subject.source, io.warn) } : {}),
    });
    if (result) {
      io.out(renderResult(result));
      return 0;
    }
  }

  const ca = requireFlag('sign', flags.ca, 'ca', 'the CA certificate to sign with');
  const caKey = requireFlag('sign', flags['ca-key'], 'ca-key', "the CA's private key");
  const profile = loadProfile(flags.config, flags.profile, io.warn);
  const issuer = await readIssuer(ca, caKey, passphraseSource(flags));
  const subject = subjectArg === undefined ? undefined : await readTextArg(subjectArg, 'subject JSON');
  const csr = await readTextArg(csrArg, 'CSR');
  const result = signCsr(csr.text, csr.source, {
    issuer,
    profile,
    warn: io.warn,
    ...(flags.hostname ? { hostname: flags.hostname } : {}),
    ...(subject ? { subject: parseSubjectJson(subject.text, subject.source, io.warn), subjectSource: subject.source } : {}),
  });
  io.out(renderResult(result));
  return 0;
}
