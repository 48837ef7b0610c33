// Habits a CLI user expects: a typo gets a suggestion, `help NAME` of an unknown name is an error,
// completion scripts that real shells load and answer from, and a man page made of the help texts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { COMMANDS } from '../../src/cli/main.js';
import { flagsFromHelp } from '../../src/cli/command-spec.js';
import { suggest } from '../../src/cli/suggest.js';
import { etcdTls, REPO_ROOT, requireBinary, run } from '../helpers/components.js';
import { makeTempDir } from '../helpers/tmp.js';

describe('did you mean', () => {
  test('a mistyped command names the closest one, exit 1 with a code', async () => {
    const r = await etcdTls(['gencertt']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, "etcd-tls: UNKNOWN_COMMAND: 'gencertt' is not a command; did you mean 'gencert'? (run 'etcd-tls --help' for the list)\n");
  });

  test('a name far from every command gets no guess', async () => {
    const r = await etcdTls(['frobnicate']);
    assert.equal(r.code, 1);
    assert.doesNotMatch(r.stderr, /did you mean/);
  });

  test('a mistyped flag names the closest flag of that command', async () => {
    const r = await etcdTls(['gen', '--outt', 'x']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^etcd-tls: USAGE: gen: Unknown option '--outt'; did you mean --out\? /);
  });

  test('help of an unknown command is an error, not the overview', async () => {
    const r = await etcdTls(['help', 'gencertt']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^etcd-tls: UNKNOWN_COMMAND: 'gencertt' is not a command; did you mean 'gencert'\?/);
  });

  test('suggest: typos, transpositions and unique prefixes; nothing for noise', () => {
    const names = COMMANDS.map((c) => c.name);
    assert.equal(suggest('chekc', names), 'check');
    assert.equal(suggest('migrat', names), 'migrate');
    assert.equal(suggest('certin', names), 'certinfo');
    assert.equal(suggest('x', names), undefined);
    assert.equal(suggest('zzzzzz', names), undefined);
  });
});

describe('completion', () => {
  test('every command help lists its flags in a form completion can read', async () => {
    for (const c of COMMANDS) {
      const flags = flagsFromHelp((await c.load()).help()).map((f) => f.name);
      assert.ok(flags.includes('help'), `${c.name}: no --help among ${flags.join(', ')}`);
    }
  });

  /** What bash's programmable completion offers for the words typed so far (the last one may be ''). */
  async function bashComplete(script: string, words: string[]): Promise<string[]> {
    const line = words.map((w) => `'${w}'`).join(' ');
    const r = await run('bash', ['-c', `source ${script}; COMP_WORDS=(${line}); COMP_CWORD=${words.length - 1}; _etcd_tls; printf '%s\\n' "\${COMPREPLY[@]}"`]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.split('\n').filter(Boolean);
  }

  test('bash: commands, flags of the command typed, shells, and file names after a flag that takes one', async (t) => {
    if (!requireBinary(t, 'bash')) return;
    const dir = await makeTempDir(t, 'completion-');
    const script = path.join(dir, 'etcd-tls.bash');
    const r = await etcdTls(['completion', 'bash']);
    assert.equal(r.code, 0, r.stderr);
    writeFileSync(script, r.stdout);
    writeFileSync(path.join(dir, 'cluster.yaml'), '');
    assert.deepEqual(await bashComplete(script, ['etcd-tls', 'ge']), ['gen', 'gencert', 'genkey', 'gencrl']);
    assert.deepEqual(await bashComplete(script, ['etcd-tls', 'gen', '--o']), ['--out']);
    assert.deepEqual(await bashComplete(script, ['etcd-tls', 'completion', '']), ['bash', 'zsh', 'fish']);
    const files = await run('bash', ['-c', `cd ${dir} && source ${script} && COMP_WORDS=(etcd-tls check --spec clu) COMP_CWORD=3 && _etcd_tls && echo "\${COMPREPLY[@]}"`]);
    assert.equal(files.stdout.trim(), 'cluster.yaml');
  });

  test('fish: loads the script and completes commands with their summaries, and flags', async (t) => {
    if (!requireBinary(t, 'fish')) return;
    const dir = await makeTempDir(t, 'completion-');
    const script = path.join(dir, 'etcd-tls.fish');
    writeFileSync(script, (await etcdTls(['completion', 'fish'])).stdout);
    const r = await run('fish', ['--no-config', '-c', `source ${script}; complete -C 'etcd-tls chec'; complete -C 'etcd-tls gen --lo'`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'check\tlint certificates and etcd configuration offline\n--local\tpoint every config at the files inside DIR, so the cluster can run in place\n');
  });

  test('zsh: the script parses and registers its completer with compinit', async (t) => {
    if (!requireBinary(t, 'zsh')) return;
    const dir = await makeTempDir(t, 'completion-');
    const script = path.join(dir, '_etcd-tls');
    writeFileSync(script, (await etcdTls(['completion', 'zsh'])).stdout);
    assert.equal((await run('zsh', ['-n', script])).code, 0);
    const r = await run('zsh', ['-fc', `autoload -Uz compinit && compinit -u -D && source ${script} && print -r -- $_comps[etcd-tls]`]);
    assert.equal(r.stdout, '_etcd_tls\n', r.stderr);
  });

  test('an unknown shell is one coded line', async () => {
    const r = await etcdTls(['completion', 'tcsh']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, "etcd-tls: USAGE: completion: 'tcsh' is not a shell etcd-tls completes; use one of bash, zsh, fish\n");
  });
});

describe('man page', () => {
  test('renders without roff warnings and documents every command with its help', async (t) => {
    if (!requireBinary(t, 'man')) return;
    const page = path.join(REPO_ROOT, 'dist', 'man', 'etcd-tls.1');
    const r = await run('man', ['--warnings', '-l', page], { env: { ...process.env, MANWIDTH: '100', MANPAGER: 'cat', PAGER: 'cat' } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    for (const c of COMMANDS) {
      assert.ok(r.stdout.includes(`Usage: etcd-tls ${c.name}`), `the man page lacks ${c.name}'s help`);
    }
    assert.match(readFileSync(page, 'utf8'), /^\.TH ETCD\\-TLS 1 /);
  });
});
