/**
 * The agents the controller can consult, by layer (as in AgentNet: application-, physical-
 * and network-layer generative agents) and by declared capability. Each capability has one
 * small interface; an agent declares what it can do and the registry finds it by that.
 */
import type {
  ChannelPrediction,
  DemandPrediction,
  RadioEnvironment,
  TrafficScenario,
} from "../net/contracts.ts";

export const AgentLayer = {
  /** aGF: reads goals (intent), builds virtual environments (reconstruction). */
  Application: "application",
  /** pGF: predicts the radio channel. */
  Physical: "physical",
  /** nGF: predicts and synthesises traffic. */
  Network: "network",
} as const;
export type AgentLayer = (typeof AgentLayer)[keyof typeof AgentLayer];

export const Capability = {
  Intent: "intent",
  ChannelPrediction: "channel_prediction",
  TrafficPrediction: "traffic_prediction",
  /** What each video resolution of a scene costs (the reconstruction aGF agent). */
  VideoTraffic: "video_traffic",
} as const;
export type Capability = (typeof Capability)[keyof typeof Capability];

/** What every agent says about itself. */
export interface AgentInfo {
  readonly id: string;
  readonly layer: AgentLayer;
  readonly capabilities: readonly Capability[];
  /** Model behind it, e.g. `pgf-diffusion@assets/models/pgf`. */
  readonly model: string;
}

/** Predicts per-band channel state for an environment. */
export interface ChannelEstimator {
  readonly info: AgentInfo;
  predict(env: RadioEnvironment): Promise<ChannelPrediction>;
}

/** Predicts bandwidth demand for a what-if scenario. */
export interface DemandEstimator {
  readonly info: AgentInfo;
  predictDemand(scenario: TrafficScenario): Promise<DemandPrediction>;
}

/** A scene's video as the pipeline produced it: each rendition with its measured bitrate. */
export interface SceneVideo {
  /** Renditions, lowest first; `bitrateBps` is the measured peak (HLS BANDWIDTH), bit/s. */
  readonly renditions: readonly { readonly name: string; readonly bitrateBps: number }[];
  /** Size of the scene's 3D asset, bytes (0 when there is none). */
  readonly assetBytes: number;
}

/** Per resolution: the stream bitrate a headset needs, bit/s, and what it fetches to start. */
export interface VideoTrafficReport {
  readonly rungs: readonly {
    readonly name: string;
    readonly bitrateBps: number;
    readonly startupBytes: number;
  }[];
  /** `measured` when the pipeline's segment sizes gave the bitrates, else `nominal`. */
  readonly basis: "measured" | "nominal";
}

/** Reports the traffic each resolution of a scene's video costs. */
export interface VideoTrafficEstimator {
  readonly info: AgentInfo;
  videoTraffic(scene: SceneVideo): Promise<VideoTrafficReport>;
}

export type AnyAgent =
  ChannelEstimator | DemandEstimator | VideoTrafficEstimator | { readonly info: AgentInfo };

/** Agents by id, found by capability. */
export class AgentRegistry {
  readonly #agents = new Map<string, AnyAgent>();

  register(agent: AnyAgent): void {
    if (this.#agents.has(agent.info.id))
      throw new Error(`agent ${agent.info.id} is already registered`);
    this.#agents.set(agent.info.id, agent);
  }

  /** The first agent declaring `capability`, or undefined. */
  find<T extends AnyAgent>(capability: Capability): T | undefined {
    for (const a of this.#agents.values())
      if (a.info.capabilities.includes(capability)) return a as T;
    return undefined;
  }

  list(): AgentInfo[] {
    return [...this.#agents.values()].map((a) => a.info);
  }
}
