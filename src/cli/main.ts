/**
 * The CLI entry: find the command, import only that command's module (so `--help` and small
 * commands start fast), run it, and turn whatever it throws into one line on stderr.
 */
import { readFileSync } from 'node:fs';
import { fail } from '../errors.js';
import { flagsFromHelp, type CommandSpec } from './command-spec.js';
import { renderCompletion } from './completion.js';
import { processIo, type CliIo, type CommandModule } from './io.js';
import { exitQuietlyOnClosedStdout, reportError, runCommand } from './run.js';
import { didYouMean } from './suggest.js';

interface CommandEntry {
  name: string;
  group: 'cfssl-compatible' | 'cluster' | 'doctor' | 'day2' | 'other';
  summary: string;
  load: () => Promise<CommandModule>;
}

// Each entry imports its module lazily; keep this table the only place that lists commands.
export const COMMANDS: readonly CommandEntry[] = [
  { name: 'demo', group: 'cluster', summary: 'the main job: a 3-member mTLS cluster on 127.0.0.11-13, generated, started, used and stopped', load: () => import('./commands/demo.js') },
  { name: 'init', group: 'cluster', summary: 'write a commented cluster spec template', load: () => import('./commands/init.js') },
  { name: 'plan', group: 'cluster', summary: 'show what gen would issue and write, writing nothing', load: () => import('./commands/plan.js') },
  { name: 'gen', group: 'cluster', summary: "issue the whole cluster's PKI and configuration from a spec", load: () => import('./commands/gen.js') },
  { name: 'up', group: 'cluster', summary: 'start every member of a generated cluster locally', load: () => import('./commands/up.js') },
  { name: 'down', group: 'cluster', summary: 'stop the members that up started', load: () => import('./commands/down.js') },
  { name: 'check', group: 'doctor', summary: 'lint certificates and etcd configuration offline', load: () => import('./commands/check.js') },
  { name: 'probe', group: 'doctor', summary: 'probe live etcd endpoints: TLS handshake, /health, member list', load: () => import('./commands/probe.js') },
  { name: 'explain', group: 'doctor', summary: 'explain an etcd TLS error line: cause and fix', load: () => import('./commands/explain.js') },
  { name: 'migrate', group: 'doctor', summary: 'migrate a running cluster from http to https, member by member', load: () => import('./commands/migrate.js') },
  { name: 'member', group: 'cluster', summary: 'add or remove a member of a running cluster from the spec, one at a time', load: () => import('./commands/member.js') },
  { name: 'rotate-ca', group: 'cluster', summary: 'replace the CA of a running cluster in four phases, without a failed write', load: () => import('./commands/rotate-ca.js') },
  { name: 'gencert', group: 'cfssl-compatible', summary: 'generate a key and a certificate signed by a CA (or a new CA with -initca)', load: () => import('./commands/gencert.js') },
  { name: 'sign', group: 'cfssl-compatible', summary: 'sign an existing CSR', load: () => import('./commands/sign.js') },
  { name: 'genkey', group: 'cfssl-compatible', summary: 'generate a key and CSR (and a CA with -initca)', load: () => import('./commands/genkey.js') },
  { name: 'selfsign', group: 'cfssl-compatible', summary: 'generate a self-signed certificate', load: () => import('./commands/selfsign.js') },
  { name: 'certinfo', group: 'cfssl-compatible', summary: 'print a certificate or CSR as JSON', load: () => import('./commands/certinfo.js') },
  { name: 'print-defaults', group: 'cfssl-compatible', summary: "print cfssl's default config or CSR JSON", load: () => import('./commands/print-defaults.js') },
  { name: 'info', group: 'cfssl-compatible', summary: "ask a signing server for its CA and a profile's usages", load: () => import('./commands/info.js') },
  { name: 'serve', group: 'cfssl-compatible', summary: "cfssl's signing API server, every certificate recorded in a ledger", load: () => import('./commands/serve.js') },
  { name: 'json', group: 'cfssl-compatible', summary: 'write cfssl JSON output to files (replaces cfssljson)', load: () => import('./commands/json.js') },
  { name: 'db', group: 'cluster', summary: "create or complete the issuance ledger's tables (db migrate --db URL)", load: () => import('./commands/db.js') },
  { name: 'ledger', group: 'cluster', summary: 'list and show the certificates the issuance ledger recorded', load: () => import('./commands/ledger.js') },
  { name: 'gencrl', group: 'cfssl-compatible', summary: 'generate a CRL from a list of serials (base64 DER, as cfssl)', load: () => import('./commands/gencrl.js') },
  { name: 'status', group: 'day2', summary: 'expiry of every certificate, key, CA and CRL in DIR: table, --json, --prometheus; exit 0/3/4', load: () => import('./commands/status.js') },
  { name: 'renew', group: 'day2', summary: 'reissue certificates in place (same key, or --rekey); says what restarts what', load: () => import('./commands/renew.js') },
  { name: 'revoke', group: 'day2', summary: 'revoke member/client certificates: record it and re-sign the CRL etcd enforces', load: () => import('./commands/revoke.js') },
  { name: 'crl', group: 'day2', summary: "re-sign DIR's CRL with a fresh nextUpdate (for cron)", load: () => import('./commands/crl.js') },
  { name: 'ca', group: 'day2', summary: "encrypt or decrypt DIR's CA key in place (ca encrypt|decrypt)", load: () => import('./commands/ca.js') },
];

export function readVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

const COMPLETION_HELP = [
  'Usage: etcd-tls completion bash|zsh|fish',
  '',
  'Print a completion script for the shell: commands, their flags, and file names after flags that take one.',
  '',
  'Examples:',
  '  etcd-tls completion bash > /etc/bash_completion.d/etcd-tls',
  '  etcd-tls completion zsh > "${fpath[1]}/_etcd-tls"',
  '  etcd-tls completion fish > ~/.config/fish/completions/etcd-tls.fish',
  '  source <(etcd-tls completion bash)             # this shell only',
  '',
].join('\n');

function topLevelHelp(): string {
  const groups: CommandEntry['group'][] = ['cluster', 'day2', 'doctor', 'cfssl-compatible'];
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  const sections = groups.map((g) => {
    const rows = COMMANDS.filter((c) => c.group === g).map((c) => `  ${c.name.padEnd(width)}${c.summary}`);
    const title = g === 'cfssl-compatible' ? 'cfssl-compatible (cfssl → etcd-tls, cfssljson → etcd-tls json)' : g === 'day2' ? 'day 2 (expiry, renewal, revocation, CA key)' : g;
    return `${title}:\n${rows.join('\n')}`;
  });
  return [
    'etcd-tls: secure etcd with TLS, from CA to a running mTLS cluster.',
    '',
    'Usage: etcd-tls <command> [flags] [args]',
    '',
    ...sections.flatMap((s) => [s, '']),
    'Global: --help (also on every command), --version. ETCD_TLS_DEBUG=1 prints stack traces.',
    "Also: 'etcd-tls help COMMAND', 'etcd-tls completion bash|zsh|fish' (shell completion), 'man etcd-tls'.",
    '',
    'Examples:',
    '  etcd-tls demo                                   # the whole flow on built-in defaults',
    '  etcd-tls init --members member1=10.0.0.1,member2=10.0.0.2,member3=10.0.0.3 > cluster.yaml',
    '  etcd-tls gen cluster.yaml --out pki',
    '  etcd-tls gencert -initca ca-csr.json | etcd-tls json -bare ca',
    '',
  ].join('\n');
}

/** Every command with its summary, help and flags: what completion scripts and the man page are made of. */
export async function commandSpecs(): Promise<CommandSpec[]> {
  return Promise.all(
    COMMANDS.map(async (c) => {
      const help = (await c.load()).help();
      return { name: c.name, summary: c.summary, help, flags: flagsFromHelp(help) };
    }),
  );
}

export { topLevelHelp };

function findCommand(name: string): CommandEntry {
  const entry = COMMANDS.find((c) => c.name === name);
  if (entry) return entry;
  const names = COMMANDS.map((c) => c.name);
  throw fail('UNKNOWN_COMMAND', `'${name}' is not a command${didYouMean(name, names)} (run 'etcd-tls --help' for the list)`);
}

export async function main(argv: string[], io: CliIo = processIo): Promise<void> {
  exitQuietlyOnClosedStdout();
  const [name, ...rest] = argv;
  try {
    if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
      const topic = name === 'help' ? rest[0] : undefined;
      io.out(topic === undefined ? topLevelHelp() : (await findCommand(topic).load()).help());
      return;
    }
    if (name === 'completion') {
      if (rest[0] === '--help' || rest[0] === '-h') {
        io.out(COMPLETION_HELP);
        return;
      }
      if (rest[0] === undefined) throw fail('USAGE', "completion: name a shell: 'etcd-tls completion bash|zsh|fish'");
      io.out(renderCompletion(rest[0], await commandSpecs()));
      return;
    }
    if (name === '--version' || name === '-v' || name === 'version') {
      io.out(`etcd-tls ${readVersion()}\n`);
      return;
    }
    await runCommand(await findCommand(name).load(), rest, io);
  } catch (e) {
    process.exitCode = reportError(e, io);
  }
}
