/**
 * `etcd-tls gencert`: cfssl's gencert. Loads nothing heavy (no zod, yaml or ASN.1 schema library):
 * it must start within 1.3x of `node -e 0`.
 */
import { fail } from '../../errors.js';
import { parseCsrJson } from '../../cfssl/csr.js';
import { genCert, initCa } from '../../cfssl/gencert.js';
import { readIssuer, readSourceArg } from '../../cfssl/inputs.js';
import { renderResult } from '../../cfssl/json.js';
import { CFSSL_DEFAULT_PROFILE } from '../../pki/profile.js';
import { readTextArg } from '../../store/files.js';
import { parseFlags, renderFlagHelp, requireFlag, type FlagDefs } from '../args.js';
import type { CliIo } from '../io.js';
import { CA_PASSPHRASE_FLAGS, passphraseSource } from '../passphrase.js';
import { newPassphrase, readCaPrivateKey } from '../../lifecycle/ca-key.js';

const FLAGS = {
  initca: { type: 'boolean', description: 'make a new self-signed CA from CSRJSON (key, CSR and certificate)' },
  ca: { type: 'string', value: 'FILE', description: 'CA certificate to sign with (also file:PATH, env:VAR)' },
  'ca-key': { type: 'string', value: 'FILE', description: 'CA private key; with -initca, re-issue the CA for this existing key' },
  config: { type: 'string', value: 'FILE', description: 'cfssl signing config (profiles, usages, expiry)' },
  profile: { type: 'string', value: 'NAME', description: 'signing profile from -config (default: signing.default)' },
  hostname: { type: 'string', value: 'LIST', description: 'comma-separated SANs; replaces the "hosts" of CSRJSON' },
  cn: { type: 'string', value: 'NAME', description: 'override the CN of CSRJSON' },
  pkcs8: { type: 'boolean', description: 'write the private key as PKCS#8 ("PRIVATE KEY") instead of RSA/EC PRIVATE KEY' },
  label: { type: 'string', value: 'LABEL', description: 'accepted for cfssl compatibility (multi-root signers); ignored' },
  remote: { type: 'string', value: 'HOST', description: 'sign on a cfssl-compatible server: HOST (port 8888), HOST:PORT or http://HOST:PORT' },
  loglevel: { type: 'string', value: 'N', description: 'accepted for cfssl compatibility; etcd-tls prints only warnings and errors' },
  encrypt: { type: 'boolean', description: 'with -initca: write the CA key encrypted (PKCS#8, PBKDF2 + AES-256-CBC) with the CA passphrase' },
  ...CA_PASSPHRASE_FLAGS,
} satisfies FlagDefs;

export function help(): string {
  return [
    'Usage: etcd-tls gencert -initca [-ca-key KEY] CSRJSON',
    '       etcd-tls gencert -ca CA -ca-key KEY [-config FILE] [-profile NAME] [-hostname LIST] CSRJSON',
    '       etcd-tls gencert -remote HOST[:PORT] [-config FILE] [-profile NAME] [-hostname LIST] CSRJSON',
    '',
    "Generate a private key, a CSR and a certificate from cfssl CSR JSON (a file, or - for stdin), and",
    'print them as one line of JSON {"cert","csr","key"}; pipe it to `etcd-tls json -bare NAME` for files.',
    'Stricter than cfssl: an unknown -profile, a certificate outliving its CA and a malformed -hostname',
    'entry are errors; both values of a repeated name key (the blog\'s two "OU"s) are kept.',
    '',
    'Options:',
    renderFlagHelp(FLAGS),
    '',
    'With -remote (or a -config whose profile names a remote), the key and CSR are made here and the',
    "CSR is signed by the server (cfssl serve or etcd-tls serve); a profile with an auth key in -config",
    'is signed through /authsign with its HMAC token.',
    '',
    'Examples:',
    '  etcd-tls gencert -initca ca-csr.json | etcd-tls json -bare ca',
    '  etcd-tls gencert -remote 10.0.0.5:8888 -profile peer member1-csr.json | etcd-tls json -bare member1',
    '  ETCD_TLS_CA_PASSPHRASE=... etcd-tls gencert -initca -encrypt ca-csr.json | etcd-tls json -bare ca',
    `  echo '{"CN":"member1","key":{"algo":"ecdsa","size":256}}' | etcd-tls gencert -ca=ca.pem -ca-key=ca-key.pem \\`,
    '      -config=ca-config.json -profile=peer -hostname="10.0.0.1,member1" - | etcd-tls json -bare member1',
    '',
  ].join('\n');
}

export async function run(args: string[], io: CliIo): Promise<number> {
  const { flags, positionals } = parseFlags('gencert', args, FLAGS);
  if (positionals.length !== 1)
    throw fail('USAGE', `gencert: expected one CSRJSON argument (a file, or - for stdin), got ${positionals.length} (see 'etcd-tls gencert --help')`);
  if (flags.label !== undefined && flags.remote === undefined) io.warn('gencert: -label is ignored (it selects a signer of a remote multi-root CA)');
  const keyFormat = flags.pkcs8 ? 'pkcs8' : 'traditional';

  if (flags.initca) {
    if (flags.config !== undefined || flags.profile !== undefined || flags.hostname !== undefined)
      io.warn('gencert: -config, -profile and -hostname do not apply to -initca (as in cfssl); set "ca":{"expiry":...} in the CSR JSON');
    const keyArg = flags['ca-key'] === undefined ? undefined : await readSourceArg(flags['ca-key'], 'CA private key');
    const existingKey = keyArg === undefined ? undefined : await readCaPrivateKey(keyArg.text, keyArg.source, passphraseSource(flags));
    const encryptKeyWith = flags.encrypt && !existingKey ? await newPassphrase(passphraseSource(flags), 'the new CA key') : undefined;
    const input = await readTextArg(positionals[0] as string, 'CSR JSON');
    const req = parseCsrJson(input.text, input.source, { initca: true, warn: io.warn });
    if (flags.cn !== undefined) req.subject.CN = flags.cn;
    io.out(
      renderResult(
        initCa(req, {
          warn: io.warn,
          keyFormat,
          ...(existingKey && keyArg ? { existingKey, existingKeySource: keyArg.source } : {}),
          ...(encryptKeyWith !== undefined ? { encryptKeyWith } : {}),
        }),
      ),
    );
    return 0;
  }

  if (flags.remote !== undefined || (flags.ca === undefined && flags.config !== undefined)) {
    const { remoteGencert } = await import('../../cfssl/remote-flows.js');
    const input = await readTextArg(positionals[0] as string, 'CSR JSON');
    const req = parseCsrJson(input.text, input.source, { initca: false, warn: io.warn });
    if (flags.cn !== undefined) req.subject.CN = flags.cn;
    const result = await remoteGencert(req, { remote: flags.remote, config: flags.config, profile: flags.profile, label: flags.label, hostname: flags.hostname, keyFormat, warn: io.warn });
    if (result) {
      io.out(renderResult(result));
      return 0;
    }
  }

  const ca = requireFlag('gencert', flags.ca, 'ca', 'the CA certificate to sign with (or -initca to make a new CA)');
  const caKey = requireFlag('gencert', flags['ca-key'], 'ca-key', "the CA's private key");
  // Everything that can fail cheaply is checked before a key is generated.
  // The config schema is loaded only when a config or profile is asked for: every module costs start-up time.
  const profile =
    flags.config === undefined && flags.profile === undefined
      ? CFSSL_DEFAULT_PROFILE
      : (await import('../../cfssl/config.js')).loadProfile(flags.config, flags.profile, io.warn);
  if (flags.encrypt) io.warn('gencert: -encrypt applies to -initca only; ignored');
  const issuer = await readIssuer(ca, caKey, passphraseSource(flags));
  const input = await readTextArg(positionals[0] as string, 'CSR JSON');
  const req = parseCsrJson(input.text, input.source, { initca: false, warn: io.warn });
  if (flags.cn !== undefined) req.subject.CN = flags.cn;
  const result = genCert(req, { issuer, profile, warn: io.warn, keyFormat, ...(flags.hostname !== undefined ? { hostname: flags.hostname } : {}) });
  io.out(renderResult(result));
  return 0;
}
