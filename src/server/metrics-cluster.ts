/**
 * `/metrics` for a server of several worker processes (`serve --workers N`): whichever worker a scrape
 * reaches asks the primary over the cluster's IPC channel, the primary asks every worker for a
 * snapshot of its counters and answers with their sum. Pulled at scrape time, so the figures are
 * exact and nothing is sent per request. A worker that exits takes its counters with it; the primary
 * keeps the last snapshot it had from it, so the sums lose at most what that worker counted since the
 * previous scrape (Prometheus reads a smaller counter as a reset).
 */
import cluster, { type Worker } from 'node:cluster';
import { Metrics, type MetricsSnapshot } from './metrics.js';

interface MetricsMessage {
  serve?: string;
  id?: number;
  snapshot?: MetricsSnapshot;
}

const ASK_WORKERS_MS = 2_000;
const ASK_PRIMARY_MS = 5_000;

/** In the primary: answer workers' scrapes with every worker's counters summed. Call once, before forking. */
export function sumWorkerMetrics(): void {
  const lastKnown = new Map<number, MetricsSnapshot>();
  const retired = new Metrics();
  let nextRound = 0;
  const rounds = new Map<number, { waiting: Set<number>; done: () => void }>();

  cluster.on('exit', (w: Worker) => {
    const last = lastKnown.get(w.id);
    if (last) retired.add(last);
    lastKnown.delete(w.id);
    for (const r of rounds.values()) if (r.waiting.delete(w.id) && r.waiting.size === 0) r.done();
  });

  cluster.on('message', (from: Worker, msg: MetricsMessage) => {
    if (msg?.serve === 'metrics-snapshot' && typeof msg.id === 'number' && msg.snapshot) {
      lastKnown.set(from.id, msg.snapshot);
      const r = rounds.get(msg.id);
      if (r?.waiting.delete(from.id) && r.waiting.size === 0) r.done();
      return;
    }
    if (msg?.serve !== 'metrics?' || typeof msg.id !== 'number') return;
    const replyTo = msg.id;
    const round = nextRound++;
    const live = Object.values(cluster.workers ?? {}).filter((w): w is Worker => Boolean(w?.isConnected()));
    void new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ASK_WORKERS_MS);
      const waiting = new Set(live.map((w) => w.id));
      rounds.set(round, { waiting, done: () => (clearTimeout(timer), resolve()) });
      for (const w of live) w.send({ serve: 'metrics-snapshot?', id: round });
      if (waiting.size === 0) resolve();
    }).then(() => {
      rounds.delete(round);
      // A worker that did not answer in time counts with its previous snapshot.
      const total = Metrics.sum([retired.snapshot(), ...lastKnown.values()]);
      if (from.isConnected()) from.send({ serve: 'metrics', id: replyTo, snapshot: total.snapshot() });
    });
  });
}

/**
 * In a worker: answer the primary's snapshot requests with `own`, and return the scrape function the
 * HTTP edge calls for the whole server's counters.
 */
export function workerMetrics(own: Metrics): () => Promise<Metrics> {
  let nextId = 0;
  const pending = new Map<number, (s: MetricsSnapshot | undefined) => void>();
  process.on('message', (msg: MetricsMessage) => {
    if (msg?.serve === 'metrics-snapshot?' && typeof msg.id === 'number') process.send?.({ serve: 'metrics-snapshot', id: msg.id, snapshot: own.snapshot() });
    else if (msg?.serve === 'metrics' && typeof msg.id === 'number') pending.get(msg.id)?.(msg.snapshot);
  });
  return () =>
    new Promise<Metrics>((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => settle(undefined), ASK_PRIMARY_MS);
      function settle(s: MetricsSnapshot | undefined): void {
        clearTimeout(timer);
        pending.delete(id);
        if (s) resolve(Metrics.sum([s]));
        else reject(new Error('the primary process did not answer with the workers\' metrics'));
      }
      pending.set(id, settle);
      process.send?.({ serve: 'metrics?', id });
    });
}
