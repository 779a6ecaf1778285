/**
 * The process's agents, loaded once at start: the intent agent (grammar parser or an
 * OpenAI-compatible model), the channel agent (pGF diffusion model) and the traffic agent
 * (nGF multi-generator GAN) from their shipped weights. A model that cannot load is
 * replaced by the physics it was trained on — the channel model itself, or nominal
 * bitrates — under its own name, so every decision says what really answered.
 */
import type { Logger } from "pino";
import type { AgentsConfig } from "../config.ts";
import { initTf } from "../ml/backend.ts";
import { nominalDemandPrediction } from "../net/allocation.ts";
import { DEFAULT_BANDS } from "../net/bands.ts";
import { computeChannel } from "../net/channel-model.ts";
import type { FlowWindow, TrafficScenario } from "../net/contracts.ts";
import {
  AgentLayer,
  AgentRegistry,
  Capability,
  type ChannelEstimator,
  type DemandEstimator,
} from "./agent.ts";
import type { IntentBackendMetrics } from "./intent/backend-health.ts";
import { createIntentModel } from "./intent/create.ts";
import type { IntentModel } from "./intent/intent-model.ts";
import { type Loaded, loadLearnedModels } from "./learned-models.ts";
import { ModelWorker } from "./model-host.ts";
import type { LoadOutcome } from "./model-worker-protocol.ts";

export interface AgentRuntime {
  readonly registry: AgentRegistry;
  readonly intents: IntentModel;
  /**
   * Feeds measured traffic windows to the traffic agent's drift check and fine-tuning;
   * absent when no learned traffic model is loaded. Rejects while another call adapts.
   */
  readonly observeTraffic?: (
    windows: readonly FlowWindow[],
    scenario: TrafficScenario,
  ) => Promise<unknown>;
  /** TF.js backend in use. */
  readonly backend: string;
  /** Stops the model worker, if one runs. */
  close(): Promise<void>;
}

/** Where the models run. */
export interface AgentRunOptions {
  /**
   * Run the channel and traffic models in a worker thread with at most `maxQueue` requests
   * waiting (AGENT_WORKER, the default); absent: in this thread.
   */
  worker?: { maxQueue: number };
}

/** Ports the agents report through (injected by the composition root). */
export interface AgentPorts {
  /** The intent backend's health and latency (the process's /metrics). */
  readonly intentMetrics?: IntentBackendMetrics;
}

export async function loadAgents(
  config: AgentsConfig,
  logger: Logger,
  ports: AgentPorts = {},
  run: AgentRunOptions = {},
): Promise<AgentRuntime> {
  const worker = run.worker
    ? await ModelWorker.start({
        pgfDir: config.pgfDir,
        ngfDir: config.ngfDir,
        tfBackend: config.tfBackend,
        maxQueue: run.worker.maxQueue,
        logger,
      })
    : null;
  const backend = worker?.loaded
    ? { name: `${worker.loaded.backend} (worker thread)`, skipped: [] }
    : await initTf(config.tfBackend);
  // Without a worker the models load in this thread.
  const local = worker ? null : await loadLearnedModels(config.pgfDir, config.ngfDir);
  const channelModel = answerer(worker, worker?.loaded?.channel, local?.channel);
  const trafficModel = answerer(worker, worker?.loaded?.traffic, local?.traffic);
  logger.info({ backend: backend.name, skipped: backend.skipped.length }, "TensorFlow.js backend");
  const registry = new AgentRegistry();
  const intents = createIntentModel(
    config.intent.kind === "openai"
      ? {
          ...config.intent,
          logger,
          ...(ports.intentMetrics && { metrics: ports.intentMetrics }),
        }
      : { kind: "grammar" },
  );
  registry.register({
    info: {
      id: "intent",
      layer: AgentLayer.Application,
      capabilities: [Capability.Intent],
      model: intents.name,
    },
  });

  let channel: ChannelEstimator;
  if (channelModel.ok) {
    const agent = channelModel.agent;
    channel = {
      info: {
        id: "pgf",
        layer: AgentLayer.Physical,
        capabilities: [Capability.ChannelPrediction],
        // The conditional-mean head answers (no DDIM sampling): named so, not "diffusion".
        model: `pgf-mean-head@${config.pgfDir}`,
      },
      predict: (env) => agent.predict(env),
    };
  } else {
    logger.warn(
      { reason: channelModel.error, dir: config.pgfDir },
      "channel agent model not loaded; the channel model answers instead",
    );
    channel = channelModelEstimator();
  }
  registry.register(channel);

  let traffic: DemandEstimator;
  let observeTraffic: AgentRuntime["observeTraffic"];
  if (trafficModel.ok) {
    const agent = trafficModel.agent;
    observeTraffic = (windows, scenario) => agent.observe(windows, scenario);
    traffic = {
      info: {
        id: "ngf",
        layer: AgentLayer.Network,
        capabilities: [Capability.TrafficPrediction],
        model: `ngf-mgan@${config.ngfDir}`,
      },
      predictDemand: (s) => agent.predictDemand(s),
    };
  } else {
    logger.warn(
      { reason: trafficModel.error, dir: config.ngfDir },
      "traffic agent model not loaded; nominal bitrates answer instead",
    );
    traffic = {
      info: {
        id: "nominal-demand",
        layer: AgentLayer.Network,
        capabilities: [Capability.TrafficPrediction],
        model: "nominal bitrates (no learned model)",
      },
      predictDemand: async (s) => nominalDemandPrediction(s),
    };
  }
  registry.register(traffic);
  return {
    registry,
    intents,
    backend: backend.name,
    ...(observeTraffic && { observeTraffic }),
    close: async () => {
      await worker?.close();
    },
  };
}

/**
 * The geometric channel model as a channel estimator (deterministic: seed 1, no fading): what
 * answers when the pGF model does not load.
 */
export function channelModelEstimator(): ChannelEstimator {
  return {
    info: {
      id: "channel-model",
      layer: AgentLayer.Physical,
      capabilities: [Capability.ChannelPrediction],
      model: "geometric channel model (no learned model)",
    },
    predict: async (env) => {
      const t0 = performance.now();
      const bands = computeChannel(env, DEFAULT_BANDS, { seed: 1, fading: false });
      return { bands, inferenceMs: performance.now() - t0, source: "channel-model" };
    },
  };
}

/**
 * What answers for a learned model: the worker when there is one and it loaded the model,
 * else the agent loaded in this thread; or why neither can.
 */
function answerer<T>(
  worker: ModelWorker | null,
  inWorker: LoadOutcome | undefined,
  here: Loaded<T> | undefined,
): Loaded<T | ModelWorker> {
  if (!worker) return here ?? { ok: false, error: "not loaded" };
  if (inWorker?.ok) return { ok: true, agent: worker };
  return { ok: false, error: inWorker?.error ?? "the model worker did not start" };
}
