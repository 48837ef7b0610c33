/**
 * What every live operation needs to know about the cluster in DIR: the spec's layout (as `gen` laid
 * it out, joiners included), which members `etcd-tls up` runs here (etcd-tls restarts those itself;
 * the others get runbooks), the trust to verify members with (the CA, and the next CA during a
 * rotation), the admin identity operations act with, and the live member list.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as net from 'node:net';
import { fail } from '../errors.js';
import { readSpecFile } from '../cluster/generate.js';
import { layoutCluster, NEXT_CA_CERT, type ClusterLayout, type MemberLayout } from '../cluster/layout.js';
import { runningPid } from '../cluster/local.js';
import { readMembership } from '../cluster/membership.js';
import type { ClusterSpec } from '../cluster/spec.js';
import { memberList, type ClientTls, type Member } from '../etcd/gateway.js';
import type { GateMember } from './runner.js';

export { NEXT_CA_CERT, NEXT_CA_KEY } from '../cluster/layout.js';

export interface OpsCluster {
  specFile: string;
  spec: ClusterSpec;
  layout: ClusterLayout;
  /** PIDs of the members `etcd-tls up` runs, by name. */
  managed: Map<string, number>;
  /** The admin client (or, without one in the spec, a member's server certificate) operations act with. */
  identityName: string;
  identity: () => ClientTls;
  /** PEM: DIR/ca.pem, plus the next CA while a rotation is under way. */
  trust: () => string;
  gateMember: (name: string, clientUrl: string) => GateMember;
}

const read = (file: string): string => readFileSync(file, 'utf8');

/** Whether DIR's configurations point into DIR (`gen --local`, `up`) rather than at installed paths. */
function isLocal(layout: ClusterLayout, managed: Map<string, number>): boolean {
  if (managed.size > 0) return true;
  const m = layout.members.find((x) => existsSync(x.files.env));
  return m ? read(m.files.env).includes(`ETCD_CERT_FILE="${m.files.serverCert}"`) : false;
}

/**
 * Whether etcd-tls restarts members itself: the directory is local and etcd-tls runs its members. Not
 * "this member runs now": a run killed inside a restart leaves that member stopped, and resuming must
 * start it again rather than wait for an operator who never stopped it.
 */
export const managesMembers = (c: OpsCluster, manual = false): boolean => !manual && c.managed.size > 0 && c.layout.local;

export function loadOpsCluster(specFile: string, out: string, client = 'admin'): OpsCluster {
  const spec = readSpecFile(specFile);
  const existing = readMembership(out);
  const probe = layoutCluster(spec, { dir: out, local: true, existing });
  const managed = new Map<string, number>();
  for (const m of probe.members) {
    const pid = runningPid(m);
    if (pid !== undefined) managed.set(m.name, pid);
  }
  const layout = isLocal(probe, managed) ? probe : layoutCluster(spec, { dir: out, local: false, existing });
  const dir = layout.dir;
  const trust = (): string => {
    const ca = path.join(dir, 'ca.pem');
    if (!existsSync(ca)) throw fail('FILE_NOT_FOUND', `${ca}: no CA here; run \`etcd-tls gen ${specFile} --out ${out}\` first`);
    const next = path.join(dir, NEXT_CA_CERT);
    return existsSync(next) ? `${read(ca).trimEnd()}\n${read(next)}` : read(ca);
  };
  const admin = layout.clients.find((c) => c.name === client);
  const fallback = layout.members.find((m) => existsSync(m.files.serverCert));
  const identityName = admin ? `client ${admin.name}` : `${fallback?.name ?? '?'}'s server certificate`;
  const identity = (): ClientTls => {
    const cert = admin?.files.cert ?? fallback?.files.serverCert;
    const key = admin?.files.key ?? fallback?.files.serverKey;
    if (!cert || !key || !existsSync(cert)) throw fail('FILE_NOT_FOUND', `${cert ?? path.join(dir, 'clients', client, 'client.pem')}: no client certificate to act with; run \`etcd-tls gen ${specFile} --out ${out}\``);
    return { ca: trust(), cert: read(cert), key: read(key) };
  };
  return { specFile, spec, layout, managed, identityName, identity, trust, gateMember: (name, clientUrl) => ({ name, clientUrl, tls: identity }) };
}

export const memberOf = (c: OpsCluster, name: string): MemberLayout | undefined => c.layout.members.find((m) => m.name === name);

/**
 * The live member list, asked of each candidate URL in turn until one answers. MEMBER_UNHEALTHY when
 * none does.
 */
export async function liveMembers(c: OpsCluster, urls: readonly string[]): Promise<{ list: Member[]; via: string }> {
  const problems: string[] = [];
  for (const url of urls) {
    try {
      return { list: await memberList(url, c.identity(), 3000), via: url };
    } catch (e) {
      problems.push(`${url}: ${(e as Error).message}`);
    }
  }
  throw fail('MEMBER_UNHEALTHY', `no member answered the member list (${problems[0] ?? 'no member to ask'}); start the cluster first`);
}

/** Gate members for the voters of a live list, reached at their advertised client URL. */
export function gateFor(c: OpsCluster, list: readonly Member[], names: readonly string[]): GateMember[] {
  return names.map((n) => {
    const url = memberOf(c, n)?.clientUrl ?? list.find((m) => m.name === n)?.clientURLs[0] ?? '';
    return c.gateMember(n, url);
  });
}

/** `etcdctl` with the admin identity in DIR, for runbooks. */
export function etcdctlCommand(c: OpsCluster, endpoint: string, args: string): string {
  const admin = c.layout.clients.find((x) => `client ${x.name}` === c.identityName);
  const files = admin ? admin.installed : undefined;
  const m = c.layout.members[0];
  const ca = files?.ca ?? m?.installed.ca;
  const cert = files?.cert ?? m?.installed.serverCert;
  const key = files?.key ?? m?.installed.serverKey;
  return `ETCDCTL_API=3 etcdctl --endpoints=${endpoint} --cacert=${ca} --cert=${cert} --key=${key} ${args}`;
}

/** True when something accepts TCP connections on host:port. */
export function portInUse(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: timeoutMs });
    const done = (used: boolean): void => {
      socket.destroy();
      resolve(used);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(true));
    socket.once('error', (e: NodeJS.ErrnoException) => done(e.code !== 'ECONNREFUSED'));
  });
}
