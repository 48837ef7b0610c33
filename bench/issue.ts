/**
 * In-process issuance throughput: what etcd-tls does per leaf (P-256 key, request, certificate under
 * the server profile with 5 SANs, PEM of certificate and key) against the bare node:crypto work it
 * cannot avoid (P-256 keygen + one signature over ~400 bytes with the CA key), with the keygen either
 * the issue's `generateKeyPairSync` or ECDH, the fastest node:crypto has and the one etcd-tls uses.
 * Warm loops timed with performance.now(), rounds interleaved (A B C D, D C B A, ...). A per-step table
 * says where a leaf's time goes.
 */
import { createECDH, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadIssuer, type Issuer } from '../src/pki/certificate.js';
import { toPem } from '../src/pki/pem.js';
import { issueCertificate } from '../src/pki/issue.js';
import { encodePrivateKeyPem, generateKey, generateKeyAsync, generateKeyPair, generateKeyPairAsync, spkiDer, type GeneratedKey, type KeyPair, type KeySpec } from '../src/pki/keys.js';
import { buildName } from '../src/pki/name.js';
import { caProfile, ETCD_PROFILES } from '../src/pki/profile.js';
import { emptySans, parseHosts } from '../src/pki/san.js';
import { median, perSecond, progress, ratio, runCommand, TimeoutError, type Cell, type Section } from './table.js';

const P256: KeySpec = { algo: 'ecdsa', size: 256 };
const HOSTS = ['member1', 'localhost', '10.0.0.1', '127.0.0.1', '::1'];

export function benchIssuer(spec: KeySpec): Issuer {
  const ca = generateKeyPair(spec);
  const { der } = issueCertificate(
    { subject: buildName({ CN: 'bench CA' }), publicKey: spkiDer(ca.publicKey), sans: emptySans() },
    caProfile(),
    { selfSigned: true, privateKey: ca.privateKey },
  );
  return loadIssuer(toPem('CERTIFICATE', der), 'bench-ca.pem', encodePrivateKeyPem(ca.privateKey), 'bench-ca-key.pem');
}

/** One leaf from a key as etcd-tls issues it (gen's path); returns the PEM length so the work cannot be optimised away. */
function leafFrom(key: GeneratedKey, issuer: Issuer): number {
  const sans = parseHosts(HOSTS, 'bench', 'error');
  const cert = issueCertificate({ subject: buildName({ CN: 'member1' }), publicKey: key.spki, sans }, ETCD_PROFILES.server, issuer);
  return toPem('CERTIFICATE', cert.der).length + key.privateKeyPem.length;
}

const TBS = randomBytes(400);
function bareOne(caKey: KeyObject): number {
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return sign('sha256', TBS, caKey).length + (key.privateKey.type === 'private' ? 1 : 0);
}

// Reused like generateKey's, so the bare ECDH loop pays for the key and nothing else: etcd-tls against
// it is our overhead like for like, which the issue's generateKeyPairSync bare no longer shows.
const ECDH_P256 = createECDH('prime256v1');
function ecdhKey(): number {
  ECDH_P256.generateKeys();
  return ECDH_P256.getPrivateKey().length;
}
function bareEcdhOne(caKey: KeyObject): number {
  return sign('sha256', TBS, caKey).length + ecdhKey();
}

/** Operations per second of a synchronous `op` over about `durationMs`. */
function rate(op: () => number, durationMs: number): number {
  let sink = 0;
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < durationMs) {
    sink += op();
    n++;
    now = performance.now();
  }
  if (sink < 0) throw new Error('unreachable');
  return (n * 1000) / (now - start);
}

async function rateAsync(op: () => Promise<number>, durationMs: number): Promise<number> {
  let sink = 0;
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < durationMs) {
    sink += await op();
    n++;
    now = performance.now();
  }
  if (sink < 0) throw new Error('unreachable');
  return (n * 1000) / (now - start);
}

export interface IssueOptions {
  rounds: number;
  roundMs: number;
}

type Variant = 'bare' | 'bareEcdh' | 'sync' | 'async';
const VARIANTS: Record<Variant, string> = {
  bare: 'bare node:crypto',
  bareEcdh: 'bare node:crypto, ECDH keygen',
  sync: 'etcd-tls, `generateKey` (leaf keys)',
  async: 'etcd-tls, `generateKeyAsync` awaited per leaf',
};

interface Measured {
  label: string;
  algo: KeySpec['algo'];
  rates: Record<Variant, number[]>;
}

interface Step {
  step: string;
  us: number;
}

/** Microseconds per call of each step of a leaf, ECDSA CA (inputs prepared outside the timed loop). */
async function stepCosts(issuer: Issuer, n: number): Promise<Step[]> {
  const steps: Step[] = [];
  const time = (step: string, f: (i: number) => unknown): void => {
    const start = performance.now();
    for (let i = 0; i < n; i++) f(i);
    steps.push({ step, us: ((performance.now() - start) * 1000) / n });
  };
  time('`generateKeyPairSync` P-256 (bare)', () => generateKeyPairSync('ec', { namedCurve: 'P-256' }));
  time('ECDH `generateKeys` + `getPrivateKey` P-256, reused object (bare)', ecdhKey);
  time('`generateKeyPair` P-256 (sync, keys re-imported)', () => generateKeyPair(P256));
  time('`generateKey` P-256 (sync; ECDH keygen, SPKI + SEC1 PEM encoded by etcd-tls)', () => generateKey(P256));
  let start = performance.now();
  for (let i = 0; i < n; i++) await generateKeyPairAsync(P256);
  steps.push({ step: '`generateKeyPairAsync` P-256, awaited one by one', us: ((performance.now() - start) * 1000) / n });
  start = performance.now();
  const keys = await Promise.all(Array.from({ length: n }, () => generateKeyPairAsync(P256)));
  steps.push({ step: '`generateKeyPairAsync` P-256, all at once (as gen)', us: ((performance.now() - start) * 1000) / n });
  const spkis: Buffer[] = [];
  time('`spkiDer` of the public key', (i) => (spkis[i] = spkiDer((keys[i] as KeyPair).publicKey)));
  time('`parseHosts`, 5 SANs', () => parseHosts(HOSTS, 'bench', 'error'));
  const sans = parseHosts(HOSTS, 'bench', 'error');
  const ders: Buffer[] = [];
  time('`issueCertificate`, server profile', (i) => (ders[i] = issueCertificate({ subject: buildName({ CN: 'member1' }), publicKey: spkis[i] as Buffer, sans }, ETCD_PROFILES.server, issuer).der));
  time('… of which `crypto.sign` with the CA key (bare)', (i) => sign('sha256', (ders[i] as Buffer).subarray(0, 400), issuer.privateKey));
  time('`toPem` of the certificate', (i) => toPem('CERTIFICATE', ders[i] as Buffer));
  time('`encodePrivateKeyPem` of the key', (i) => encodePrivateKeyPem((keys[i] as KeyPair).privateKey));
  return steps;
}

/** The loops themselves; run in a child process (see runIssueBench). */
export async function measureIssue(o: IssueOptions): Promise<{ measured: Measured[]; steps: Step[] }> {
  const measured: Measured[] = [];
  let steps: Step[] = [];
  for (const [label, spec] of [
    ['ECDSA P-256', P256],
    ['RSA-2048 (for information)', { algo: 'rsa', size: 2048 }],
  ] as [string, KeySpec][]) {
    const issuer = benchIssuer(spec);
    const ops: Record<Variant, () => Promise<number>> = {
      bare: async () => rate(() => bareOne(issuer.privateKey), o.roundMs),
      bareEcdh: async () => rate(() => bareEcdhOne(issuer.privateKey), o.roundMs),
      sync: async () => rate(() => leafFrom(generateKey(P256), issuer), o.roundMs),
      async: () => rateAsync(async () => leafFrom(await generateKeyAsync(P256), issuer), o.roundMs),
    };
    // Warm-up: JIT, OpenSSL's lazily built tables, the profile's extension cache.
    for (const v of Object.keys(ops) as Variant[]) await ops[v]();
    const m: Measured = { label, algo: spec.algo, rates: { bare: [], bareEcdh: [], sync: [], async: [] } };
    for (let r = 0; r < o.rounds; r++) {
      const order = Object.keys(ops) as Variant[];
      for (const v of r % 2 === 0 ? order : order.reverse()) m.rates[v].push(await ops[v]());
      // Yield between rounds so an interrupt is handled promptly.
      await new Promise((resolve) => setImmediate(resolve));
    }
    measured.push(m);
    if (spec.algo === 'ecdsa') steps = await stepCosts(issuer, 2000);
  }
  return { measured, steps };
}

/**
 * A key from Node 20's generateKeyPairSync, exported while a garbage collection finalizes its keygen
 * job, deadlocks the process (src/pki/keys.ts explains; bench/README.md, "Deadlock"). The loops run in a
 * child process with a deadline, so a regression is reported, and retried, instead of hanging the run.
 */
export async function runIssueBench(o: IssueOptions): Promise<Section[]> {
  const deadlineMs = 2 * (2 * (o.rounds + 1) * Object.keys(VARIANTS).length * o.roundMs) + 60_000;
  const self = fileURLToPath(import.meta.url);
  const hangs: string[] = [];
  let result: Awaited<ReturnType<typeof measureIssue>> | undefined;
  for (let attempt = 1; attempt <= 3 && !result; attempt++) {
    try {
      result = JSON.parse(await runCommand(process.execPath, [self, '--child', JSON.stringify(o)], { timeoutMs: deadlineMs })) as Awaited<ReturnType<typeof measureIssue>>;
    } catch (e) {
      if (!(e instanceof TimeoutError)) throw e;
      hangs.push(`attempt ${attempt} did not finish within ${Math.round(deadlineMs / 1000)} s and was killed`);
      progress(`issue: attempt ${attempt} hung; killed`);
    }
  }
  const rows: Cell[][] = [];
  const notes: string[] = [];
  for (const m of result?.measured ?? []) {
    const bare = median(m.rates.bare);
    const bareEcdh = median(m.rates.bareEcdh);
    const pct = (x: number, of: number): string => `${((x / of) * 100).toFixed(0)}%`;
    for (const v of Object.keys(VARIANTS) as Variant[]) {
      const x = median(m.rates[v]);
      rows.push([`${m.label} CA`, VARIANTS[v], perSecond(x), v === 'bare' ? '' : pct(x, bare), v === 'bareEcdh' ? '' : pct(x, bareEcdh), `${(1e6 / x).toFixed(0)} µs`, `${perSecond(Math.min(...m.rates[v]))} – ${perSecond(Math.max(...m.rates[v]))}`]);
      // The target is the issue's (against the generateKeyPairSync bare); the ECDH ratio is our overhead alone.
      if (m.algo === 'ecdsa' && (v === 'sync' || v === 'async'))
        notes.push(`Target ≥ 50% of the bare rate (ECDSA CA), ${VARIANTS[v]}: ${pct(x, bare)} — ${x / bare >= 0.5 ? 'met' : 'MISSED'} (${ratio(x, bare)}); against the bare ECDH keygen, the same keygen as etcd-tls's, it is ${pct(x, bareEcdh)} (${ratio(x, bareEcdh)}).`);
    }
  }
  if (hangs.length) notes.push(`Hung (deadlock?): ${hangs.join('; ')}. See bench/README.md, "Deadlock".`);
  if (!result) notes.push('No attempt finished: no figures.');
  const throughput: Section = {
    title: 'In-process issuance throughput (warm loop, performance.now())',
    intro: [
      'bare = `generateKeyPairSync("ec", P-256)` + `crypto.sign("sha256", 400 bytes, CA key)` (the issue\'s definition); bare ECDH = the same with',
      'a reused `createECDH("prime256v1")`\'s `generateKeys()` + `getPrivateKey()` as the keygen; etcd-tls = a P-256 key + `parseHosts` (5 SANs)',
      '+ `issueCertificate` (server profile, 5 SANs) + PEM of certificate and key, with the key from each of the two keygen functions.',
      `${o.rounds} interleaved rounds of ${o.roundMs} ms per variant after a warm-up; medians; one thread (in a child process).`,
    ],
    head: ['CA key', 'variant', 'leaves/s', '% of bare', '% of bare ECDH', 'per leaf', 'rounds (min – max)'],
    rows,
    notes,
  };
  const steps: Section = {
    title: 'Issuance: where a leaf\'s time goes (ECDSA P-256 CA, 2,000 calls per step)',
    intro: ['Each step timed alone on prepared inputs; the bare rows are what node:crypto needs anyway.'],
    head: ['step', 'µs per call'],
    rows: (result?.steps ?? []).map((s) => [s.step, s.us.toFixed(1)]),
    notes: [],
  };
  return result ? [throughput, steps] : [throughput];
}

if (process.argv[2] === '--child' && process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await measureIssue(JSON.parse(process.argv[3] ?? '{}') as IssueOptions);
  process.stdout.write(JSON.stringify(result));
}
