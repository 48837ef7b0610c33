// Every parser of user input, fed thousands of seeded mutations of a valid input: the doctor's etcd
// configuration readers report problems and never throw; every other parser fails only with one
// etcd-tls error line that names its source (never a bare TypeError or a library's message).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseSpec } from '../../src/cluster/spec.js';
import { layoutCluster } from '../../src/cluster/layout.js';
import { renderEtcdEnv, renderEtcdYaml, renderSystemdUnit } from '../../src/cluster/render.js';
import { parseEtcdArgs, parseEtcdEnvFile, parseEtcdYaml, splitCommandLine } from '../../src/etcd/config.js';
import { parseSigningConfig } from '../../src/cfssl/config.js';
import { parseCsrJson, parseSubjectJson } from '../../src/cfssl/csr.js';
import { parseCsrPem } from '../../src/cfssl/sign.js';
import { certificateInfo, csrInfo } from '../../src/cfssl/certinfo.js';
import { inspectCsr } from '../../src/pki/inspect.js';
import { parseCertificate } from '../../src/pki/certificate.js';
import { isEtcdTlsError } from '../../src/errors.js';
import { readCertificateFile } from '../../src/doctor/check/certs.js';
import { REPO_ROOT } from '../helpers/components.js';
import { makeTempDir } from '../helpers/tmp.js';

const fixture = (name: string): string => readFileSync(path.join(REPO_ROOT, 'test/fixtures', name), 'utf8');
const derOf = (pem: string): Buffer => Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s/g, ''), 'base64');

/** A small seeded PRNG (an LCG): the same mutations on every run, so a failure reproduces. */
function random(seed: number): (below: number) => number {
  let state = seed;
  return (below) => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state % below;
  };
}

// Fragments that tend to break YAML, JSON, PEM and shell-like syntax.
const PIECES = ['', ' ', '\n', ':', '-', '[', ']', '{', '}', ',', '"', "'", '&a', '*a', '<<: *a', '!!str', '#', '0', '-1', '1e400', '99999999999999999999', 'null', '~', 'true', 'ü', '\t', '\\', '=', '--', '$', '`', '?', '|', '/', '+', 'A'];

function mutateText(text: string, next: (below: number) => number): string {
  let s = text;
  for (let k = 0; k <= next(3); k++) {
    const at = next(s.length);
    const piece = PIECES[next(PIECES.length)] as string;
    const op = next(3);
    if (op === 0) s = s.slice(0, at) + piece + s.slice(at);
    else if (op === 1) s = s.slice(0, at) + s.slice(at + 1 + next(5));
    else s = s.slice(0, at) + piece + s.slice(at + 1);
  }
  return s;
}

function mutateBytes(der: Buffer, next: (below: number) => number): Buffer {
  const b = Buffer.from(der);
  for (let k = 0; k <= next(3); k++) {
    const at = next(b.length);
    b[at] = next(4) === 0 ? (b[at] as number) ^ (1 << next(8)) : next(256);
  }
  return b;
}

// Enough to have found every bug this file was written for (each within its first few hundred rounds).
const ROUNDS = 1000;
const DER_ROUNDS = 500;

/** Run `parse` on every input; the first error `allowed` does not accept, as text with its input. */
function firstUnexpectedError<T>(inputs: T[], parse: (input: T) => unknown, allowed: (e: unknown) => boolean): string | undefined {
  for (const input of inputs) {
    try {
      parse(input);
    } catch (e) {
      if (!allowed(e)) return `${(e as Error).name}: ${(e as Error).message}\ninput: ${JSON.stringify(Buffer.isBuffer(input) ? input.toString('hex') : input)}`;
    }
  }
  return undefined;
}

/** The first failure that is not one line of ours naming `source`. */
const firstBadFailure = <T>(inputs: T[], parse: (input: T) => unknown, source: string): string | undefined =>
  firstUnexpectedError(inputs, parse, (e) => isEtcdTlsError(e) && e.message.startsWith(source) && !e.message.includes('\n'));

/** The first throw at all. */
const firstThrow = <T>(inputs: T[], parse: (input: T) => unknown): string | undefined => firstUnexpectedError(inputs, parse, () => false);

const textMutations = (text: string, seed: number): string[] => {
  const next = random(seed);
  return Array.from({ length: ROUNDS }, () => mutateText(text, next));
};
const byteMutations = (der: Buffer, seed: number): Buffer[] => {
  const next = random(seed);
  return Array.from({ length: DER_ROUNDS }, () => mutateBytes(der, next));
};

describe('malformed input: one error line naming the source, never a crash', () => {
  const demoYaml = fixture('specs/demo.yaml');
  const layout = layoutCluster(parseSpec(demoYaml, 'demo.yaml'), { dir: '/srv/pki' });
  const member = layout.members[0] as (typeof layout.members)[number];

  test('the cluster spec (YAML)', () => {
    assert.equal(firstBadFailure(textMutations(demoYaml, 1), (t) => parseSpec(t, 'in.yaml'), 'in.yaml'), undefined);
  });

  test('cfssl signing config, CSR JSON and subject JSON', () => {
    const warn = (): void => {};
    assert.equal(firstBadFailure(textMutations(fixture('cfssl/config-full.json'), 2), (t) => parseSigningConfig(t, 'in.json', warn), 'in.json'), undefined);
    assert.equal(firstBadFailure(textMutations(fixture('cfssl/ca-csr.json'), 3), (t) => parseCsrJson(t, 'in.json', { initca: true, warn }), 'in.json'), undefined);
    assert.equal(firstBadFailure(textMutations(fixture('cfssl/csr-ou-list.json'), 4), (t) => parseSubjectJson(t, 'in.json', warn), 'in.json'), undefined);
  });

  test('a PEM CSR (sign)', () => {
    assert.equal(firstBadFailure(textMutations(fixture('cfssl/csr-fixture.csr'), 5), (t) => parseCsrPem(t, 'in.csr'), 'in.csr'), undefined);
  });

  test('DER certificates and CSRs (inspect, certinfo)', () => {
    const cert = derOf(fixture('cfssl/leaf.pem'));
    const csr = derOf(fixture('cfssl/csr-fixture.csr'));
    assert.equal(firstBadFailure(byteMutations(cert, 6), (b) => parseCertificate(b, 'in.pem'), 'in.pem'), undefined);
    assert.equal(firstBadFailure(byteMutations(cert, 7), (b) => certificateInfo(b, 'in.pem'), 'in.pem'), undefined);
    assert.equal(firstBadFailure(byteMutations(csr, 8), (b) => inspectCsr(b, 'in.csr'), 'in.csr'), undefined);
    assert.equal(firstBadFailure(byteMutations(csr, 9), (b) => csrInfo(b, 'in.csr'), 'in.csr'), undefined);
  });

  test("the doctor's etcd configuration readers report problems instead of throwing", () => {
    assert.equal(firstThrow(textMutations(renderEtcdYaml(layout, member), 10), (t) => parseEtcdYaml(t, 'etcd.yaml')), undefined);
    assert.equal(firstThrow(textMutations(renderEtcdEnv(layout, member), 11), (t) => parseEtcdEnvFile(t, 'etcd.env')), undefined);
    assert.equal(firstThrow(textMutations(renderSystemdUnit(layout, member), 12), (t) => parseEtcdArgs(splitCommandLine(t), 'etcd.service')), undefined);
  });
});

describe('check: a certificate that does not decode', () => {
  test("is one cert-invalid finding that gives the decoder's reason once", async (t) => {
    const dir = await makeTempDir(t, 'malformed-');
    const file = path.join(dir, 'server.pem');
    // A well-formed PEM block around a truncated DER SEQUENCE.
    writeFileSync(file, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const loaded = readCertificateFile(file);
    assert.equal(loaded.ok, false);
    assert.deepEqual(
      loaded.findings.map((f) => [f.code, f.message]),
      [['cert-invalid', 'the PEM block is not a valid X.509 certificate (truncated length at offset 0)']],
    );
  });
});
