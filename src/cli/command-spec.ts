/**
 * What completion scripts and the man page know of a command, read back from its --help text: the
 * help is rendered from the command's own flag definitions (args.ts renderFlagHelp), so it is the one
 * place every command — also one added later — already describes its flags.
 */
export interface FlagSpec {
  name: string;
  short?: string;
  /** The value placeholder (FILE, DIR, …) when the flag takes a value. */
  value?: string;
  description: string;
}

export interface CommandSpec {
  name: string;
  summary: string;
  help: string;
  flags: FlagSpec[];
}

const OPTION_LINE = /^ {2}(?:-([A-Za-z]), )?--([A-Za-z][\w-]*)(?: ((?:"[^"]*"|\S)+))?\s{2,}(.*)$/;

/** The flags listed in the `Options:` block of a --help text. */
export function flagsFromHelp(help: string): FlagSpec[] {
  const lines = help.split('\n');
  const start = lines.findIndex((l) => /^Options:\s*$/.test(l));
  if (start < 0) return [];
  const flags: FlagSpec[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.trim() === '') break;
    const m = OPTION_LINE.exec(line);
    if (!m) continue; // a continuation line of a long description
    flags.push({ name: m[2]!, description: m[4]!.trim(), ...(m[1] ? { short: m[1] } : {}), ...(m[3] ? { value: m[3] } : {}) });
  }
  return flags;
}
