// The layers of docs/architecture.md, held as a test: no import cycle anywhere in src/, and every import
// points down the layers (or stays inside its own folder). A new top-level folder must be placed in
// LAYERS before anything can import it or be imported by it.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const SRC = path.join(ROOT, 'src');

/**
 * Rank of each top-level room of src/ (a folder, or a file directly in src/): a module may import a module
 * of its own room or of a room with a lower rank, never a sibling of the same rank nor anything above.
 */
export const LAYERS: Readonly<Record<string, number>> = {
  'errors.ts': 0,
  pki: 1, // pure: bytes and typed objects
  store: 1, // every file write
  etcd: 2, // etcd's own world: its configuration model and its JSON gateway
  ledger: 2, // the signing server's issuance record (SQLite, PostgreSQL)
  cfssl: 3, // cfssl-compatible CA flows
  cluster: 3, // spec -> layout -> plan -> files
  doctor: 4, // check, probe, explain: diagnosis, changes nothing
  lifecycle: 4, // day 2 on a directory: status, renew, revoke, CRLs, the CA key's encryption
  report: 5, // the HTML report: composes lifecycle/status and doctor/check, changes nothing
  ops: 5, // operations that change a live cluster: migrate, member add/remove, rotate-ca (one runner)
  server: 5, // the signing server's HTTP edge; below cli because the serve command starts it
  cli: 6,
  'index.ts': 7, // the library's public face: everything but the edges
};

interface Module {
  file: string; // relative to src/, with .ts
  imports: string[]; // relative to src/, with .ts
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(full);
    return e.name.endsWith('.ts') ? [full] : [];
  });
}

// Static imports and re-exports (`from '...'`), side-effect imports and dynamic import('...') with a literal.
const SPECIFIER = /\bfrom\s*['"]([^'"]+)['"]|\bimport\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g;

function readModules(): Module[] {
  return sourceFiles(SRC).map((full) => {
    const text = readFileSync(full, 'utf8');
    const imports: string[] = [];
    for (const m of text.matchAll(SPECIFIER)) {
      const spec = m[1] ?? m[2] ?? m[3];
      if (spec === undefined || !spec.startsWith('.')) continue;
      imports.push(path.relative(SRC, path.resolve(path.dirname(full), spec)).replace(/\.js$/, '.ts'));
    }
    return { file: path.relative(SRC, full), imports };
  });
}

const roomOf = (file: string): string => file.split(path.sep)[0] as string;

/** Strongly connected components with more than one module (or a module importing itself): Tarjan. */
export function importCycles(modules: readonly Module[]): string[][] {
  const graph = new Map(modules.map((m) => [m.file, m.imports]));
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(component.sort());
  };
  for (const m of modules) if (!index.has(m.file)) visit(m.file);
  return cycles;
}

/** Every import that points up the layers or sideways to a sibling room, as `from -> to`. */
export function layerViolations(modules: readonly Module[]): string[] {
  const out: string[] = [];
  for (const m of modules) {
    const from = roomOf(m.file);
    for (const target of m.imports) {
      const to = roomOf(target);
      if (to === from) continue;
      const a = LAYERS[from];
      const b = LAYERS[to];
      if (a === undefined || b === undefined || b >= a || to === 'cli') out.push(`${m.file} -> ${target}`);
    }
  }
  return out;
}

describe('architecture: the layers of docs/architecture.md', () => {
  const modules = readModules();

  test('src/ is read: every room is placed in the layers', () => {
    assert.ok(modules.length > 50, `only ${modules.length} modules found under ${SRC}`);
    const unplaced = [...new Set(modules.map((m) => roomOf(m.file)))].filter((r) => LAYERS[r] === undefined);
    assert.deepEqual(unplaced, [], 'place each new room of src/ in LAYERS (test/unit/architecture.test.ts) and docs/architecture.md');
  });

  test('no import cycle anywhere in src/', () => {
    assert.deepEqual(importCycles(modules), []);
  });

  test('every import points down the layers; pki/ and store/ import only themselves and errors.ts; only cli/ imports cli/', () => {
    assert.deepEqual(layerViolations(modules), []);
  });

  test('the public API is listed name by name: no `export *`, no DER internals', async () => {
    const index = readFileSync(path.join(SRC, 'index.ts'), 'utf8');
    assert.doesNotMatch(index, /export \*/);
    const api = await import('../../src/index.js');
    for (const internal of ['tlv', 'raw', 'children', 'readElement', 'sequence', 'el', 'encode'])
      assert.equal(internal in api, false, `${internal} is exported by src/index.ts`);
    for (const name of ['issueCertificate', 'parsePemCertificates', 'parseCertificate', 'runCheck', 'probeEndpoints', 'explainLine', 'migrateCluster'])
      assert.equal(typeof (api as Record<string, unknown>)[name], 'function', `${name} is missing from src/index.ts`);
  });

  test('the checker sees what it must refuse', () => {
    // A cycle, an upward arrow, a sideways arrow and an import of cli/ from below: each is caught.
    const bad: Module[] = [
      { file: 'pki/a.ts', imports: ['pki/b.ts'] },
      { file: 'pki/b.ts', imports: ['pki/a.ts', 'doctor/x.ts'] },
      { file: 'cfssl/c.ts', imports: ['cluster/d.ts'] },
      { file: 'index.ts', imports: ['cli/main.ts'] },
    ];
    assert.deepEqual(importCycles(bad), [['pki/a.ts', 'pki/b.ts']]);
    assert.deepEqual(layerViolations(bad), ['pki/b.ts -> doctor/x.ts', 'cfssl/c.ts -> cluster/d.ts', 'index.ts -> cli/main.ts']);
  });
});
