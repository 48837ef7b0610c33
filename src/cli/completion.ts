/**
 * Shell completion scripts for `etcd-tls completion bash|zsh|fish`: commands with their summaries,
 * and each command's flags (with file-name completion after a flag that takes a value). Generated
 * from the command table and each command's --help, so a new command or flag is completed at once.
 */
import { fail } from '../errors.js';
import type { CommandSpec, FlagSpec } from './command-spec.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

export function isShell(name: string): name is Shell {
  return (SHELLS as readonly string[]).includes(name);
}

/** Single-quoted for POSIX shells and fish: the only character to escape is the quote itself. */
const shQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
const fishQuote = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
/** Inside a zsh _arguments spec: brackets and colons end fields. */
const zshSpecText = (s: string): string => s.replace(/\\/g, '\\\\').replace(/([[\]:])/g, '\\$1');

const flagWords = (f: FlagSpec): string[] => [`--${f.name}`, ...(f.short ? [`-${f.short}`] : [])];

function bash(commands: readonly CommandSpec[]): string {
  const cases = commands.map((c) => {
    const words = c.flags.flatMap(flagWords).join(' ');
    const valued = c.flags.filter((f) => f.value).flatMap(flagWords).join('|');
    return `    ${c.name}) flags=${shQuote(words)}; valued=${shQuote(valued)} ;;`;
  });
  return `# etcd-tls completion for bash: source it, or save it as /etc/bash_completion.d/etcd-tls
_etcd_tls() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]} flags='' valued=''
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W ${shQuote([...commands.map((c) => c.name), 'help', 'completion'].join(' '))} -- "$cur"))
    return
  fi
  case \${COMP_WORDS[1]} in
${cases.join('\n')}
    help) COMPREPLY=($(compgen -W ${shQuote(commands.map((c) => c.name).join(' '))} -- "$cur")); return ;;
    completion) COMPREPLY=($(compgen -W 'bash zsh fish' -- "$cur")); return ;;
  esac
  if [ -n "$valued" ] && [[ "|$valued|" == *"|$prev|"* ]]; then
    COMPREPLY=($(compgen -f -- "$cur"))
  elif [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$flags" -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -o filenames -F _etcd_tls etcd-tls
`;
}

function zsh(commands: readonly CommandSpec[]): string {
  const described = commands.map((c) => `    ${shQuote(`${c.name.replace(/:/g, '\\:')}:${c.summary}`)}`).join('\n');
  const cases = commands.map((c) => {
    const specs = c.flags.map((f) => {
      const value = f.value ? `:${zshSpecText(f.value)}:_files` : '';
      const spec = shQuote(`[${zshSpecText(f.description)}]${value}`);
      // -h and --help exclude each other: '(-h --help)'{-h,--help}'[…]'
      return f.short ? `'(-${f.short} --${f.name})'{-${f.short},--${f.name}}${spec}` : `--${f.name}${spec}`;
    });
    return `    ${c.name}) _arguments -s ${[...specs, "'*:file:_files'"].join(' ')} ;;`;
  });
  return `#compdef etcd-tls
# etcd-tls completion for zsh: save it as _etcd-tls in a directory of your $fpath
_etcd_tls() {
  local -a commands
  commands=(
${described}
    'help:show the help of a command'
    'completion:print a shell completion script'
  )
  if (( CURRENT == 2 )); then
    _describe -t commands 'etcd-tls command' commands
    return
  fi
  local cmd=$words[2]
  shift words
  (( CURRENT-- ))
  case $cmd in
${cases.join('\n')}
    help) _describe -t commands 'etcd-tls command' commands ;;
    completion) _values 'shell' bash zsh fish ;;
  esac
}
if [ "$funcstack[1]" = "_etcd_tls" ]; then _etcd_tls "$@"; else compdef _etcd_tls etcd-tls; fi
`;
}

function fish(commands: readonly CommandSpec[]): string {
  const lines = [
    '# etcd-tls completion for fish: save it as ~/.config/fish/completions/etcd-tls.fish',
    'complete -c etcd-tls -f',
    ...commands.map((c) => `complete -c etcd-tls -n __fish_use_subcommand -a ${fishQuote(c.name)} -d ${fishQuote(c.summary)}`),
    `complete -c etcd-tls -n __fish_use_subcommand -a help -d 'show the help of a command'`,
    `complete -c etcd-tls -n __fish_use_subcommand -a completion -d 'print a shell completion script'`,
    `complete -c etcd-tls -n '__fish_seen_subcommand_from completion' -a 'bash zsh fish'`,
    `complete -c etcd-tls -n '__fish_seen_subcommand_from help' -a ${fishQuote(commands.map((c) => c.name).join(' '))}`,
  ];
  for (const c of commands) {
    const when = fishQuote(`__fish_seen_subcommand_from ${c.name}`);
    lines.push(`complete -c etcd-tls -n ${when} -F`);
    for (const f of c.flags) {
      const short = f.short ? ` -s ${f.short}` : '';
      lines.push(`complete -c etcd-tls -n ${when} -l ${f.name}${short}${f.value ? ' -r -F' : ''} -d ${fishQuote(f.description)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** The completion script for `shell`. */
export function renderCompletion(shell: string, commands: readonly CommandSpec[]): string {
  if (!isShell(shell)) throw fail('USAGE', `completion: '${shell}' is not a shell etcd-tls completes; use one of ${SHELLS.join(', ')}`);
  return { bash, zsh, fish }[shell](commands);
}
