/**
 * Which members an output directory already configures, read from their etcd.env files: what makes
 * `gen` treat a member added to the spec as one that joins the running cluster (ETCD_INITIAL_CLUSTER_STATE
 * =existing with the members of that moment) rather than as one more founder.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseEtcdEnvFile } from '../etcd/config.js';
import type { ExistingMember } from './layout.js';

/** The members with a DIR/nodes/<name>/etcd.env, founders first then joiners, each group by name. */
export function readMembership(dir: string): ExistingMember[] {
  const nodes = path.join(path.resolve(dir), 'nodes');
  if (!existsSync(nodes)) return [];
  const found: (ExistingMember & { order: number })[] = [];
  for (const entry of readdirSync(nodes, { withFileTypes: true })) {
    const file = path.join(nodes, entry.name, 'etcd.env');
    if (!entry.isDirectory() || !existsSync(file)) continue;
    const settings = new Map(parseEtcdEnvFile(readFileSync(file, 'utf8'), file).settings.map((s) => [s.flag, s.value]));
    const initialCluster = settings.get('initial-cluster') ?? '';
    const state = settings.get('initial-cluster-state') === 'existing' ? 'existing' : 'new';
    const peerUrl = settings.get('initial-advertise-peer-urls')?.split(',')[0] ?? '';
    // A joiner's own list names everyone who was there before it: fewer entries, earlier member.
    found.push({ name: entry.name, initialClusterState: state, initialCluster, peerUrl, order: state === 'new' ? 0 : initialCluster.split(',').length });
  }
  return found.sort((a, b) => a.order - b.order || a.name.localeCompare(b.name)).map(({ order: _o, ...m }) => m);
}
