/**
 * What the migration checks before it starts and after every step: the certificates it will hand to
 * etcd, the member count, and the live cluster as each member's stage says it should look (every
 * listener answering with the right scheme, every member healthy, every member's view of the member
 * list the same and as expected).
 */
import { readTextFile } from '../../store/files.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { fail } from '../../errors.js';
import type { ClusterLayout, MemberLayout } from '../../cluster/layout.js';
import { memberClientTls } from '../../cluster/local.js';
import { checkHealth, etcdRequest, memberList, type ClientTls, type Member } from '../../etcd/gateway.js';
import { parseCertificatePem } from '../../pki/pem.js';
import { parseCertificate } from '../../pki/certificate.js';
import { normalizeIp } from '../../pki/san.js';
import { advertisedClientUrl, advertisedPeerUrl, plaintextClientUrl, type MemberStage, type Stages } from './plan.js';

export interface Check {
  name: string;
  ok: boolean;
  /** One line: what was found (the problem when not ok). */
  message: string;
}

export interface Endpoint {
  url: string;
  tls?: ClientTls;
}

/** How etcd-tls itself talks to a member's client port in a stage: over mTLS with the member's server certificate once it has TLS. */
export function clientEndpoint(m: MemberLayout, s: MemberStage): Endpoint {
  return s.client === 'http' ? { url: advertisedClientUrl(m, s) } : { url: advertisedClientUrl(m, s), tls: memberClientTls(m) };
}

const peerTls = (m: MemberLayout): ClientTls => ({
  ca: readTextFile(m.files.ca, 'CA certificate'),
  cert: readTextFile(m.files.peerCert, 'peer certificate'),
  key: readTextFile(m.files.peerKey, 'peer key'),
});

/**
 * The addresses a member dials its peers from, as far as the spec tells: its own IPs, and 127.0.0.1
 * (::1) when it lives on loopback, because Linux picks that as the source for any loopback destination
 * and etcd checks the dialer's source address against its certificate's SANs.
 */
export function peerSourceAddresses(m: MemberLayout): string[] {
  const ips = m.spec.ips.map(normalizeIp);
  const extra = [...(ips.some((ip) => ip.startsWith('127.')) ? ['127.0.0.1'] : []), ...(ips.includes('::1') ? ['::1'] : [])];
  return [...new Set([...ips, ...extra])];
}

/** Every member's peer certificate carries its source addresses (reads DIR/nodes/<m>/peer.pem). */
export function peerSourceCheck(layout: ClusterLayout): Check {
  for (const m of layout.members) {
    const cert = parseCertificate(parseCertificatePem(readTextFile(m.files.peerCert, 'peer certificate'), m.files.peerCert), m.files.peerCert);
    const sans = new Set(cert.sans.ips.map(normalizeIp));
    const missing = peerSourceAddresses(m).filter((ip) => !sans.has(ip));
    if (missing.length > 0)
      return { name: 'peer-sources', ok: false, message: `${m.files.peerCert}: lacks IP SAN ${missing.join(', ')}, an address ${m.name} dials its peers from; its peers would reject it once they listen https` };
  }
  return { name: 'peer-sources', ok: true, message: 'every peer certificate carries the addresses its member dials from' };
}

/** A 1- or 2-member cluster loses quorum while one member restarts. */
export function memberCountCheck(count: number, force: boolean): Check {
  if (count >= 3) return { name: 'members', ok: true, message: `${count} members: quorum holds while one restarts` };
  return force
    ? { name: 'members', ok: true, message: `${count} member(s): quorum is lost while one restarts (--force)` }
    : { name: 'members', ok: false, message: `${count} voting member(s): quorum would be lost while each one restarts; add members first (at least 3) or pass --force and accept failed writes` };
}

/** The live member list against the spec: same names, no learners, enough voters. */
export function memberListCheck(list: readonly Member[], layout: ClusterLayout, force: boolean): Check {
  const want = layout.members.map((m) => m.name).sort();
  const have = list.map((m) => m.name || `(unstarted ${m.idHex})`).sort();
  if (want.join(',') !== have.join(','))
    return { name: 'member-list', ok: false, message: `the cluster's members are ${have.join(', ')}, the spec's are ${want.join(', ')}; make them the same first` };
  const learners = list.filter((m) => m.isLearner).map((m) => m.name);
  if (learners.length > 0) return { name: 'member-list', ok: false, message: `${learners.join(', ')}: a learner; promote it first (etcdctl member promote)` };
  const count = memberCountCheck(list.length, force);
  return { name: 'member-list', ok: count.ok, message: `live: ${list.map((m) => `${m.name} ${m.idHex}`).join(', ')}${count.ok ? '' : `; ${count.message}`}` };
}

export interface Observation {
  /** One line each: what does not look as the stages say. Empty: the cluster is as expected. */
  problems: string[];
  /** The member list as one healthy member sees it. */
  members?: Member[];
}

const reason = (e: unknown): string => (e instanceof Error ? e.message : String(e));

function sameList(list: readonly Member[], layout: ClusterLayout, stages: Stages, loose?: string): string | undefined {
  for (const m of layout.members) {
    if (m.name === loose && list.some((x) => x.name === m.name)) continue;
    const s = stages[m.name] as MemberStage;
    const got = list.find((x) => x.name === m.name);
    if (!got) return `${m.name} is missing`;
    const peer = advertisedPeerUrl(m, s);
    const client = advertisedClientUrl(m, s);
    if (got.peerURLs.join(',') !== peer) return `${m.name} has peer URL ${got.peerURLs.join(',') || '(none)'}, expected ${peer}`;
    if (got.clientURLs.join(',') !== client) return `${m.name} has client URL ${got.clientURLs.join(',') || '(none)'}, expected ${client}`;
  }
  if (list.length !== layout.members.length) return `${list.length} members listed, ${layout.members.length} expected`;
  return undefined;
}

async function observeMember(
  layout: ClusterLayout,
  m: MemberLayout,
  stages: Stages,
  legacyPorts: Record<string, number>,
  loose?: string,
): Promise<{ problems: string[]; list?: Member[] }> {
  const s = stages[m.name] as MemberStage;
  const problems: string[] = [];
  const ep = clientEndpoint(m, s);
  const probe = async (what: string, fn: () => Promise<string | undefined>): Promise<void> => {
    try {
      const p = await fn();
      if (p) problems.push(`${m.name}: ${p}`);
    } catch (e) {
      problems.push(`${m.name} ${what}: ${reason(e)}`);
    }
  };
  let list: Member[] | undefined;
  await Promise.all([
    probe('health', async () => {
      const h = await checkHealth(ep.url, ep.tls, 2000);
      return h.healthy ? undefined : `${ep.url}/health answered ${h.body.trim() || '(nothing)'}`;
    }),
    s.client === 'dual'
      ? probe('plaintext listener', async () => {
          const url = plaintextClientUrl(m, s, legacyPorts[m.name] ?? m.spec.clientPort - 1) as string;
          const h = await checkHealth(url, undefined, 2000);
          return h.healthy ? undefined : `${url}/health answered ${h.body.trim()}`;
        })
      : Promise.resolve(),
    // The scheme of the peer listener is what the member list must agree with; /version answers there.
    probe('peer listener', async () => {
      const url = s.peer === 'https' ? advertisedPeerUrl(m, s) : advertisedPeerUrl(m, { ...s, peer: 'http' });
      const r = await etcdRequest(url, '/version', { ...(s.peer === 'https' ? { tls: peerTls(m) } : {}), timeoutMs: 2000 });
      return r.status === 200 ? undefined : `${url}/version answered HTTP ${r.status}`;
    }),
    probe('member list', async () => {
      list = await memberList(ep.url, ep.tls, 2000);
      const diff = sameList(list, layout, stages, loose);
      return diff ? `its member list disagrees: ${diff}` : undefined;
    }),
  ]);
  return { problems, ...(list ? { list } : {}) };
}

/**
 * Look at every member once, as the stages say it should be. `skip` is the member the next step acts
 * on when a run resumes: it may be down, half-restarted or cut off from its peers, so it is not
 * probed and its entry in the others' member lists is not compared.
 */
export async function observeCluster(
  layout: ClusterLayout,
  stages: Stages,
  legacyPorts: Record<string, number>,
  skip?: string,
): Promise<Observation> {
  const results = await Promise.all(
    layout.members.filter((m) => m.name !== skip).map((m) => observeMember(layout, m, stages, legacyPorts, skip)),
  );
  const problems = results.flatMap((r) => r.problems);
  const members = results.find((r) => r.list && r.problems.length === 0)?.list ?? results.find((r) => r.list)?.list;
  return { problems, ...(members ? { members } : {}) };
}

export interface WaitOptions {
  timeoutMs: number;
  skip?: string;
  /** Called with the current problems while waiting (for progress output). */
  onWait?: (problems: readonly string[]) => void;
  /** Tell the user what to do when the wait ends unmet. */
  hint?: string;
  /** Give up at once when this returns a reason (e.g. the restarted process exited). */
  abort?: () => string | undefined;
}

/** Poll until the cluster is as the stages say, or fail with MIGRATION_FAILED naming what is still wrong. */
export async function waitForCluster(layout: ClusterLayout, stages: Stages, legacyPorts: Record<string, number>, options: WaitOptions): Promise<Member[]> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const o = await observeCluster(layout, stages, legacyPorts, options.skip);
    if (o.problems.length === 0 && o.members) return o.members;
    const aborted = options.abort?.();
    if (aborted) throw fail('MIGRATION_FAILED', `${aborted}${options.hint ? `; ${options.hint}` : ''}`);
    if (Date.now() >= deadline) {
      const more = o.problems.length > 1 ? ` (and ${o.problems.length - 1} more)` : '';
      throw fail('MIGRATION_FAILED', `${o.problems[0] ?? 'no member answered'}${more}${options.hint ? `; ${options.hint}` : ''}`);
    }
    options.onWait?.(o.problems);
    await sleep(500);
  }
}
