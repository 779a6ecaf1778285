/**
 * Loads the learned models of the channel agent (pGF) and the traffic agent (nGF) from their
 * folders, each on its own: one that cannot load says why and the other still loads. Used
 * in the model worker (server/agents/model-worker.ts) and, without a worker, in the event
 * loop's thread (server/agents/runtime.ts), so both load the same models the same way.
 */
import { ChannelAgent } from "./channel-agent.ts";
import { TrafficAgent } from "./traffic-agent.ts";

/** A model that loaded, or why it did not. */
export type Loaded<T> =
  { readonly ok: true; readonly agent: T } | { readonly ok: false; readonly error: string };

export interface LearnedModels {
  readonly channel: Loaded<ChannelAgent>;
  readonly traffic: Loaded<TrafficAgent>;
}

export async function loadLearnedModels(pgfDir: string, ngfDir: string): Promise<LearnedModels> {
  return {
    // The denoiser's mean network ranks bands better than the mean of samples (server/ml/README.md).
    channel: await attempt(() => ChannelAgent.load(pgfDir, { estimator: "mean" })),
    traffic: await attempt(() => TrafficAgent.load(ngfDir)),
  };
}

async function attempt<T>(load: () => Promise<T>): Promise<Loaded<T>> {
  try {
    return { ok: true, agent: await load() };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}
