/**
 * score's run-level metrics (SCORE_METRICS), pushed to a Prometheus Pushgateway when a run ends: a
 * job is gone before any scrape, so the batch plan's alerts (a run missing, the reject ratio, input
 * drift) read what the last run of each shard pushed. One group per model and shard (PUT: a shard's
 * new run replaces its last one), so the shards of an Indexed Job add up.
 */
import { Pushgateway } from "prom-client";
import { createScoreMetrics } from "./metrics.js";
import type { ScoreSummary } from "./score.js";

export const SCORE_PUSH_JOB = "stackwright-score";

export async function pushScoreMetrics(
  url: string,
  summary: ScoreSummary,
  shard: { index: number; count: number },
  now: () => number = Date.now,
): Promise<void> {
  const m = createScoreMetrics();
  const run = { model: summary.model, version: summary.version };
  m.rows.set({ ...run, outcome: "scored" }, summary.rows.scored);
  m.rows.set({ ...run, outcome: "rejected" }, summary.rows.rejected);
  m.duration.set(run, summary.seconds);
  m.lastSuccess.set(run, Math.floor(now() / 1000));
  for (const [feature, value] of Object.entries(summary.drift ?? {}))
    m.psi.set({ model: summary.model, feature }, value);
  const gateway = new Pushgateway(url, { timeout: 10_000 }, m.registry);
  await gateway.push({
    jobName: SCORE_PUSH_JOB,
    groupings: { model: summary.model, shard: `${shard.index}-of-${shard.count}` },
  });
}
