/** `etcd-tls certinfo`: cfssl's certinfo. A certificate, a CSR or a server's certificate as JSON. */
import { fail } from '../../errors.js';
import { certificateInfo, csrInfo, fetchServerCertificate } from '../../cfssl/certinfo.js';
import { stringifyGo } from '../../cfssl/json.js';
import { DerError } from '../../pki/der.js';
import { parsePemBlocks } from '../../pki/pem.js';
import { readTextArg } from '../../store/files.js';
import { parseFlags, renderFlagHelp, type FlagDefs } from '../args.js';
import type { CliIo } from '../io.js';

const FLAGS = {
  cert: { type: 'string', value: 'FILE', description: 'a PEM certificate (the first one of a bundle); - for stdin' },
  csr: { type: 'string', value: 'FILE', description: 'a PEM certificate request; - for stdin' },
  domain: { type: 'string', value: 'HOST[:PORT]', description: 'the certificate a TLS server presents (port 443 by default)' },
  loglevel: { type: 'string', value: 'N', description: 'accepted for cfssl compatibility; ignored' },
} satisfies FlagDefs;

export function help(): string {
  return [
    'Usage: etcd-tls certinfo -cert FILE | -csr FILE | -domain HOST[:PORT]',
    '',
    "Print a certificate's details (subject, issuer, serial, SANs, validity, key IDs) as cfssl's",
    'certinfo JSON; with -csr, the request as cfssl prints it.',
    '',
    'Options:',
    renderFlagHelp(FLAGS),
    '',
    'Examples:',
    '  etcd-tls certinfo -cert member1.pem',
    '  etcd-tls certinfo -domain 10.0.0.1:2379',
    '',
  ].join('\n');
}

function firstBlock(text: string, source: string, labels: readonly string[]): Buffer {
  let blocks;
  try {
    blocks = parsePemBlocks(text);
  } catch (e) {
    if (e instanceof DerError) throw fail('BAD_PEM', `${source}: ${e.message}`);
    throw e;
  }
  const block = blocks.find((b) => labels.includes(b.label));
  if (!block) {
    const found = blocks[0]?.label;
    throw fail('BAD_PEM', `${source}: expected a PEM "${labels[0]}" block${found ? `, found "${found}"` : ', found no PEM block'}`);
  }
  return block.der;
}

export async function run(args: string[], io: CliIo): Promise<number> {
  const { flags, positionals } = parseFlags('certinfo', args, FLAGS);
  const chosen = (['cert', 'csr', 'domain'] as const).filter((f) => flags[f] !== undefined);
  if (chosen.length !== 1 || positionals.length > 0)
    throw fail('USAGE', "certinfo: give exactly one of -cert FILE, -csr FILE or -domain HOST[:PORT] (see 'etcd-tls certinfo --help')");
  let info;
  if (flags.domain !== undefined) {
    info = certificateInfo(await fetchServerCertificate(flags.domain), flags.domain);
  } else if (flags.cert !== undefined) {
    const { text, source } = await readTextArg(flags.cert, 'certificate');
    info = certificateInfo(firstBlock(text, source, ['CERTIFICATE']), source);
  } else {
    const { text, source } = await readTextArg(flags.csr as string, 'CSR');
    info = csrInfo(firstBlock(text, source, ['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST']), source);
  }
  io.out(`${stringifyGo(info, '  ')}\n`);
  return 0;
}
