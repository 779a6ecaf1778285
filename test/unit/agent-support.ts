/**
 * Agents the unit tests of the agent orchestrator and the sessions decide with: the runtime's
 * geometric channel estimator behind a gate the test opens (so "a decision is still running"
 * is an event, not a timing) and a traffic estimator with a fixed demand.
 */
import { AgentLayer, AgentRegistry, Capability } from "../../server/agents/agent.ts";
import { channelModelEstimator } from "../../server/agents/runtime.ts";

/** A registry whose channel agent answers only while its gate is open; counts each call. */
export function gatedRegistry() {
  let open = false;
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => (release = r));
  const calls: (() => void)[] = [];
  let asked = 0;
  const channel = channelModelEstimator();
  const registry = new AgentRegistry();
  registry.register({
    info: { ...channel.info, model: "gated" },
    predict: async (env) => {
      asked += 1;
      for (const c of calls.splice(0)) c();
      if (!open) await gate;
      return channel.predict(env);
    },
  });
  registry.register({
    info: {
      id: "nominal-demand",
      layer: AgentLayer.Network,
      capabilities: [Capability.TrafficPrediction],
      model: "fixed",
    },
    predictDemand: () =>
      Promise.resolve({ meanBps: 1e6, p95Bps: 1.3e6, perClass: [], inferenceMs: 0, source: "x" }),
  });
  return {
    registry,
    /** Lets every waiting and later prediction through. */
    open: () => {
      open = true;
      release();
    },
    /** Resolves at the next prediction the channel agent is asked for. */
    nextCall: () => new Promise<void>((r) => calls.push(r)),
    /** Predictions asked for so far. */
    asked: () => asked,
  };
}
