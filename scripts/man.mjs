// Writes the man page, dist/man/etcd-tls.1, from the help texts the commands print (src/cli/manpage.ts).
// Runs after tsc, from the package root: `node scripts/man.mjs`. The date is the package's last commit's
// (or SOURCE_DATE_EPOCH), so a rebuild of the same source gives the same file.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = (file) => import(pathToFileURL(path.join(root, 'dist', 'src', 'cli', file)).href);
const { commandSpecs, topLevelHelp } = await cli('main.js');
const { renderManPage } = await cli('manpage.js');
const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));

function buildDate() {
  if (process.env.SOURCE_DATE_EPOCH) return new Date(Number(process.env.SOURCE_DATE_EPOCH) * 1000);
  try {
    return new Date(execFileSync('git', ['log', '-1', '--format=%cI'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  } catch {
    return new Date(0); // not a checkout (a tarball's prepare): a fixed date rather than a changing one
  }
}

mkdirSync(path.join(root, 'dist', 'man'), { recursive: true });
writeFileSync(path.join(root, 'dist', 'man', 'etcd-tls.1'), renderManPage(version, buildDate(), topLevelHelp(), await commandSpecs()));
