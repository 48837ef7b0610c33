/**
 * The cluster use cases as the edges call them: spec file → layout → plan (→ files). One place, so
 * `plan`, `gen`, `up` and `demo` agree on every step.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { fail } from '../errors.js';
import { readTextFile } from '../store/files.js';
import { withDirectoryLock } from '../store/lock.js';
import { systemClock, type Clock, type RandomSource } from '../pki/issue.js';
import { layoutCluster, NEXT_CA_CERT, type ClusterLayout } from './layout.js';
import { materializePlan, type MaterializeOptions, type MaterializeResult } from './materialize.js';
import { readMembership } from './membership.js';
import { planCluster, readClusterState, type ClusterPlan, type PlannedCertificate } from './plan.js';
import { memberCountWarnings, parseSpec, type ClusterSpec } from './spec.js';
import type { PassphraseSource } from '../pki/certificate.js';

export interface ClusterTarget {
  /** Output directory. */
  out: string;
  /** Point configs at the files inside `out` (needed to run the cluster in place). */
  local?: boolean;
}

/**
 * Read and validate a spec file (`-` is not supported: a spec is a file you keep). `warn` hears what
 * is valid but against etcd's guidance (an even member count, more than 7 members).
 */
export function readSpecFile(file: string, warn?: (message: string) => void): ClusterSpec {
  const spec = parseSpec(readTextFile(file, 'cluster spec'), file);
  if (warn) for (const w of memberCountWarnings(spec)) warn(`${file}: ${w}`);
  return spec;
}

export async function planFromSpec(spec: ClusterSpec, target: ClusterTarget, clock: Clock = systemClock): Promise<ClusterPlan> {
  const layout: ClusterLayout = layoutCluster(spec, { dir: target.out, local: target.local ?? false, existing: readMembership(target.out) });
  return planCluster(layout, readClusterState(layout), clock.now());
}

export interface GenerateOptions extends ClusterTarget {
  clock?: Clock;
  random?: RandomSource;
  onIssued?: (cert: PlannedCertificate) => void;
  passphrase?: PassphraseSource;
  /** Encrypt a new CA's key with this passphrase. */
  encryptCaKeyWith?: string;
  /** See MaterializeOptions.beforeWrite (gen --db: record the certificates before writing them). */
  beforeWrite?: MaterializeOptions['beforeWrite'];
}

/**
 * Plan and write: the whole of `etcd-tls gen`. The output directory is locked from reading its state
 * to the last write, so two runs never mix their files (a second run fails with DIRECTORY_LOCKED).
 */
export async function generateCluster(spec: ClusterSpec, options: GenerateOptions): Promise<{ plan: ClusterPlan; result: MaterializeResult }> {
  return withDirectoryLock(options.out, 'etcd-tls gen', async () => {
    // Mid-rotation, leaves of the next CA would look "issued by another CA" and be reissued by the old one.
    const next = path.join(options.out, NEXT_CA_CERT);
    if (existsSync(next))
      throw fail('OPERATION_IN_PROGRESS', `${next}: a CA rotation is under way; finish it with \`etcd-tls rotate-ca\` before running gen (nothing was written)`);
    const plan = await planFromSpec(spec, options, options.clock);
    const result = await materializePlan(plan, {
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.random ? { random: options.random } : {}),
      ...(options.onIssued ? { onIssued: options.onIssued } : {}),
      ...(options.passphrase ? { passphrase: options.passphrase } : {}),
      ...(options.encryptCaKeyWith !== undefined ? { encryptCaKeyWith: options.encryptCaKeyWith } : {}),
      ...(options.beforeWrite ? { beforeWrite: options.beforeWrite } : {}),
    });
    return { plan, result };
  });
}
