/**
 * etcd-tls(1), rendered from the same help texts the commands print, so the man page can never say
 * something `--help` does not. Written at build time by scripts/man.mjs into dist/man/etcd-tls.1.
 */
import type { CommandSpec } from './command-spec.js';

/** Text safe in roff: backslashes doubled, and a line may not start with a control character. */
function roff(text: string): string {
  return text.replace(/\\/g, '\\e').replace(/-/g, '\\-').replace(/^([.'])/gm, '\\&$1');
}

/** The help text after its first (usage) paragraph, as preformatted roff. */
function helpBody(help: string): string {
  return `.nf\n${roff(help.trimEnd())}\n.fi`;
}

export function renderManPage(version: string, date: Date, overview: string, commands: readonly CommandSpec[]): string {
  const day = date.toISOString().slice(0, 10);
  return [
    `.TH ETCD\\-TLS 1 "${day}" "etcd\\-tls ${roff(version)}" "User Commands"`,
    '.SH NAME',
    'etcd\\-tls \\- secure etcd with TLS, from the CA to a running mutual\\-TLS cluster',
    '.SH SYNOPSIS',
    '.B etcd\\-tls',
    '.I command',
    '[\\fIflags\\fR] [\\fIargs\\fR]',
    '.SH DESCRIPTION',
    helpBody(overview),
    '.SH COMMANDS',
    ...commands.flatMap((c) => [`.SS ${roff(c.name)}`, roff(c.summary), '.PP', helpBody(c.help)]),
    '.SH "SHELL COMPLETION"',
    '.nf',
    'etcd\\-tls completion bash > /etc/bash_completion.d/etcd\\-tls',
    'etcd\\-tls completion zsh > "${fpath[1]}/_etcd\\-tls"',
    'etcd\\-tls completion fish > ~/.config/fish/completions/etcd\\-tls.fish',
    '.fi',
    '.SH "EXIT STATUS"',
    '0 on success; 1 for bad input (one line on stderr: etcd\\-tls: CODE: message); 2 for an internal fault',
    '(ETCD_TLS_DEBUG=1 prints the stack trace). Some commands document further codes in their help.',
    '',
  ].join('\n');
}
