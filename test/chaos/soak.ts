// The soak: steady concurrency for a minute against the server processes, their memory sampled after a
// forced GC, and their active handles (timers, sockets) counted idle before and after.
import { sleep } from '../multi-instance/harness.js';
import type { Cluster, DebugReport } from './cluster.js';
import { runSteady } from './load.js';
import type { Outcome, Send } from './load.js';

export const SOAK_MS = Number(process.env.CHAOS_SOAK_MS ?? 60_000);
const WARMUP_MS = 5000;
/** Live heap a server may gain between the end of the warm-up and the end of the soak (after GC). */
export const HEAP_GROWTH_BOUND = 8 * 1024 * 1024;
/** RSS a server may gain over the same span (allocator and JIT noise included). */
export const RSS_GROWTH_BOUND = 64 * 1024 * 1024;
/** Connections a server may hold idle after the load and not before: its pg pool (max 6). */
const POOL_SOCKETS = 6;

const MB = 1024 * 1024;
const sampleAll = (cluster: Cluster) => Promise.all(cluster.instances.map((_, i) => cluster.debug(i, true)));

export function createSoak(concurrency: number) {
  let idle: DebugReport[] = [];
  let warm: DebugReport[] = [];
  const series: number[][] = [];

  return {
    async load(senders: readonly Send[], cluster: Cluster): Promise<Outcome[]> {
      idle = await sampleAll(cluster);
      const outcomes = await runSteady('soak-warmup', senders, concurrency, WARMUP_MS);
      warm = await sampleAll(cluster);
      series.push(warm.map((r) => r.heapUsed));
      const sampler = (async () => {
        for (let t = 10_000; t < SOAK_MS; t += 10_000) {
          await sleep(10_000);
          series.push((await sampleAll(cluster)).map((r) => r.heapUsed));
        }
      })();
      outcomes.push(...(await runSteady('soak', senders, concurrency, SOAK_MS)));
      await sampler;
      return outcomes;
    },

    /** Closes the proxy (its keep-alive sockets), samples again, and returns the figures to assert. */
    async after(cluster: Cluster, closeProxy: () => Promise<void>): Promise<Record<string, number>> {
      await closeProxy();
      await sleep(500);
      const end = await sampleAll(cluster);
      series.push(end.map((r) => r.heapUsed));
      const heapGrowth = Math.max(...end.map((r, i) => r.heapUsed - warm[i]!.heapUsed));
      const rssGrowth = Math.max(...end.map((r, i) => r.rss - warm[i]!.rss));
      console.log(
        `[chaos] soak memory (MB, per server, after GC): heap ${series
          .map((sample) => sample.map((bytes) => (bytes / MB).toFixed(1)).join('/'))
          .join(' → ')}; rss ${warm.map((r) => (r.rss / MB).toFixed(0)).join('/')} → ${end
          .map((r) => (r.rss / MB).toFixed(0))
          .join(
            '/',
          )}; handles idle ${JSON.stringify(idle[0]!.resources)} → after ${JSON.stringify(end[0]!.resources)}`,
      );
      let timerLeak = 0;
      let socketLeak = 0;
      let inFlight = 0;
      end.forEach((report, i) => {
        const before = idle[i]!.resources;
        // Nothing is in flight: no lease heartbeat, store timeout or handler timer may remain.
        inFlight += report.inFlight;
        timerLeak = Math.max(timerLeak, (report.resources.Timeout ?? 0) - (before.Timeout ?? 0));
        socketLeak = Math.max(
          socketLeak,
          (report.resources.TCPSocketWrap ?? 0) - (before.TCPSocketWrap ?? 0) - POOL_SOCKETS,
        );
      });
      return {
        soakMs: SOAK_MS,
        heapGrowthBoundMB: HEAP_GROWTH_BOUND / MB,
        rssGrowthBoundMB: RSS_GROWTH_BOUND / MB,
        maxHeapGrowthMB: Number((heapGrowth / MB).toFixed(2)),
        maxRssGrowthMB: Number((rssGrowth / MB).toFixed(1)),
        timersLeaked: timerLeak,
        socketsLeaked: socketLeak,
        inFlightAfter: inFlight,
      };
    },
  };
}
