/** Running `etcd-tls probe --json` in tests and reading its report. */
import assert from 'node:assert/strict';
import { etcdTls, type RunResult } from './components.js';

/** The parts of probe's JSON report the tests read. */
export interface ProbeJson {
  ok: boolean;
  summary: { errors: number; warnings: number };
  endpoints: {
    endpoint: string;
    reachable: boolean;
    tls?: {
      protocol?: string;
      cipher?: string;
      chain: { subject: string; sans: string[]; fromCaFile: boolean }[];
      verification: { status: string; detail: string };
      clientCertificate: { status: string; detail?: string };
    };
    health: { status: string; healthy?: boolean };
    members: { status: string; detail?: string; list?: { id: string; idHex: string; name: string; peerURLs: string[]; clientURLs: string[] }[] };
  }[];
  findings: { code: string; severity: string; subject: string; message: string; fix: string; seeAlso?: string[] }[];
}

/** Run probe with --json and a bounded timeout; fails the test when it prints no JSON. */
export async function probeJson(args: string[]): Promise<{ r: RunResult; report: ProbeJson }> {
  const r = await etcdTls(['probe', ...args, '--json', '--timeout', '5s'], { timeoutMs: 40_000 });
  let report: ProbeJson;
  try {
    report = JSON.parse(r.stdout) as ProbeJson;
  } catch {
    assert.fail(`probe printed no JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
  }
  return { r, report };
}

/** The finding with this code; fails the test, listing what was found, when there is none. */
export function finding(report: ProbeJson, code: string): ProbeJson['findings'][number] {
  const f = report.findings.find((x) => x.code === code);
  assert.ok(f, `expected finding ${code}, got: ${JSON.stringify(report.findings, null, 2)}`);
  return f;
}
