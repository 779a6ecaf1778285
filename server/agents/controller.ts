/**
 * The AgentController: the coordination loop of AgentNet for one link (the twin's cell, a
 * metaverse headset).
 *
 *   identify the task and the environment → select agents by capability → exchange their
 *   estimates (per-band channel from the physical-layer agent, demand per video rung from
 *   the network-layer agent) → orchestrate resources (bands, bandwidth share, rung) →
 *   apply → monitor, and decide again when the requirements or the environment change.
 *
 * Every decision is logged with its trigger, inputs, outputs, the agents consulted and its
 * latency and returned; the session's AgentOrchestrator (orchestrator.ts) keeps the history
 * and hands each one to the panel, the socket.io stream, the metrics and the recorder.
 */
import type { Logger } from "pino";
import {
  type Allocation,
  allocateCoordinated,
  DEFAULT_LADDER,
  type Rung,
} from "../net/allocation.ts";
import type {
  Band,
  ChannelPrediction,
  DemandPrediction,
  RadioEnvironment,
  TrafficScenario,
} from "../net/contracts.ts";
import {
  type AgentRegistry,
  Capability,
  type ChannelEstimator,
  type DemandEstimator,
  type SceneVideo,
  type VideoTrafficEstimator,
  type VideoTrafficReport,
} from "./agent.ts";

/** What a decision is about. */
export type DecisionTask =
  | "allocate"
  | "raise_resolution"
  | "lower_resolution"
  | "set_resolution"
  | "evaluate_add_arm"
  | "evaluate_resolution"
  | "evaluate_current";

/** Why it was taken. */
export type DecisionTrigger =
  "utterance" | "environment_change" | "monitor" | "request" | "start" | "qoe";

/** The situation of the room's downlink (all its headsets) as the controller sees it. */
export interface LinkSituation {
  readonly radio: RadioEnvironment;
  /** Traffic of the cell (arms, headsets, patch rate); video is decided per link. */
  readonly traffic: TrafficScenario;
  /** Highest rung the user asked for, or null for video off. */
  readonly wantedRung: string | null;
  /**
   * The scene's video and asset, when the link plays one: the reconstruction agent then
   * reports what each rung costs, and a rung's video demand is the larger of that and the
   * traffic agent's prediction.
   */
  readonly scene?: SceneVideo;
}

/** One logged decision. */
export interface Decision {
  readonly id: string;
  /** ms since the Unix epoch. */
  readonly atMs: number;
  readonly trigger: DecisionTrigger;
  readonly task: DecisionTask;
  /** Agent ids consulted, in order. */
  readonly agents: readonly string[];
  readonly inputs: Readonly<Record<string, unknown>>;
  readonly outputs: Readonly<Record<string, unknown>>;
  /** One line for people. */
  readonly summary: string;
  /** True when the decision changed what the link uses. */
  readonly applied: boolean;
  /** Wall time of the whole decision, ms. */
  readonly latencyMs: number;
}

export interface AgentControllerOptions {
  registry: AgentRegistry;
  bands: readonly Band[];
  ladder?: readonly Rung[];
  /** Capacity kept free against estimation error, 0..1 (default 0.2). */
  margin?: number;
  logger: Logger;
  now?: () => number;
}

/** Refused because an agent the task needs is not registered. */
export class AgentUnavailableError extends Error {
  constructor(capability: Capability) {
    super(`no agent with capability ${capability} is registered`);
    this.name = "AgentUnavailableError";
  }
}

export class AgentController {
  readonly ladder: readonly Rung[];
  readonly #o: AgentControllerOptions;
  readonly #downlink: ReadonlySet<string>;
  readonly #now: () => number;
  readonly #margin: number;
  #counter = 0;
  #allocation: Allocation | null = null;
  #wantedRung: string | null;

  constructor(options: AgentControllerOptions) {
    this.#o = options;
    this.ladder = options.ladder ?? DEFAULT_LADDER;
    this.#downlink = new Set(
      options.bands.filter((b) => b.direction === "downlink").map((b) => b.id),
    );
    this.#now = options.now ?? Date.now;
    this.#margin = options.margin ?? 0.2;
    this.#wantedRung = null;
  }

  /** What the link uses now (null before the first decision). */
  get allocation(): Allocation | null {
    return this.#allocation;
  }

  /**
   * Decides the link's bands, share and rung for `situation` and applies it.
   * @param task what asked for it (a resolution change names the rung in the situation)
   */
  async allocate(
    situation: LinkSituation,
    trigger: DecisionTrigger,
    task: DecisionTask = "allocate",
    /** False for a what-if: the decision is logged but the link keeps what it has. */
    apply = true,
  ): Promise<Decision> {
    const t0 = performance.now();
    const video = situation.scene ? await this.#videoTraffic(situation.scene) : null;
    const { channel, channelAgent } = await this.#channel(situation.radio);
    const { demand, trafficAgent } = await this.#demand(
      situation.traffic,
      situation.wantedRung,
      video?.report,
    );
    const allocation = allocateCoordinated({
      channel: channel.bands,
      downlink: this.#downlink,
      baseDemandBps: demand.base.p95Bps,
      videoDemandBps: demand.video,
      ladder: this.ladder,
      wantedRung: situation.wantedRung,
      margin: this.#margin,
    });
    const before = this.#allocation;
    const applied = apply && !sameAllocation(before, allocation);
    if (apply) {
      this.#allocation = allocation;
      this.#wantedRung = situation.wantedRung;
    }
    const short = situation.wantedRung !== null && allocation.rung !== situation.wantedRung;
    const summary =
      `${allocation.rung ?? "no video"} on ${allocation.bands.length} band(s) ` +
      `(${allocation.bands.join(", ")}), reserving ${mbps(allocation.reservedBps)} of ${mbps(allocation.capacityBps)}` +
      (short ? `; ${situation.wantedRung} cannot be sustained` : "");
    return this.#log({
      trigger,
      task,
      agents: [...(video ? [video.agent] : []), channelAgent, trafficAgent],
      inputs: {
        radio: summariseRadio(situation.radio),
        traffic: situation.traffic,
        wantedRung: situation.wantedRung,
      },
      outputs: {
        allocation,
        channel: channelSummary(channel),
        demand: { baseBps: demand.base.p95Bps, videoBps: demand.video },
        ...(video && { videoTraffic: video.report }),
      },
      summary,
      applied,
      latencyMs: performance.now() - t0,
    });
  }

  /**
   * What-if: adding an arm (`withArm` is the situation with it). Nothing is applied; the
   * outputs compare per-band capacity, demand and the allocation each would get.
   */
  async evaluateAddArm(
    now: LinkSituation,
    withArm: LinkSituation,
    trigger: DecisionTrigger,
  ): Promise<Decision> {
    const t0 = performance.now();
    const [a, b] = [await this.#channel(now.radio), await this.#channel(withArm.radio)];
    const [da, db] = [
      await this.#demand(now.traffic, now.wantedRung),
      await this.#demand(withArm.traffic, withArm.wantedRung),
    ];
    const alloc = (c: ChannelPrediction, d: typeof da.demand, s: LinkSituation) =>
      allocateCoordinated({
        channel: c.bands,
        downlink: this.#downlink,
        baseDemandBps: d.base.p95Bps,
        videoDemandBps: d.video,
        ladder: this.ladder,
        wantedRung: s.wantedRung,
        margin: this.#margin,
      });
    const before = alloc(a.channel, da.demand, now);
    const after = alloc(b.channel, db.demand, withArm);
    const perBand = a.channel.bands.map((band, i) => ({
      band: band.bandId,
      capacityBeforeBps: band.capacityBps,
      capacityAfterBps: b.channel.bands[i]?.capacityBps ?? 0,
    }));
    const worst = perBand.reduce(
      (w, p) => {
        const drop = 1 - p.capacityAfterBps / Math.max(1, p.capacityBeforeBps);
        return drop > w.drop ? { band: p.band, drop } : w;
      },
      { band: "", drop: -Infinity },
    );
    const extraDemand = db.demand.base.p95Bps - da.demand.base.p95Bps;
    const summary =
      `adding an arm: state traffic +${mbps(extraDemand)}, ` +
      (worst.drop > 0
        ? `largest capacity loss ${Math.round(worst.drop * 100)} % on ${worst.band}, `
        : "no band loses capacity, ") +
      `${after.bands.length} band(s) needed instead of ${before.bands.length}` +
      (after.rung !== before.rung
        ? `, video would drop from ${before.rung ?? "none"} to ${after.rung ?? "none"}`
        : "");
    return this.#log({
      trigger,
      task: "evaluate_add_arm",
      agents: [a.channelAgent, da.trafficAgent],
      inputs: {
        now: summariseRadio(now.radio),
        withArm: summariseRadio(withArm.radio),
        traffic: now.traffic,
      },
      outputs: { perBand, before, after, extraDemandBps: extraDemand },
      summary,
      applied: false,
      latencyMs: performance.now() - t0,
    });
  }

  /** The rung above (or below) the one the link wants now. */
  neighbourRung(
    direction: "raise" | "lower",
    from: string | null = this.#wantedRung,
  ): string | null {
    const i = from === null ? -1 : this.ladder.findIndex((r) => r.name === from);
    const j = direction === "raise" ? Math.min(this.ladder.length - 1, i + 1) : i - 1;
    return j >= 0 ? (this.ladder[j] as Rung).name : null;
  }

  get wantedRung(): string | null {
    return this.#wantedRung;
  }

  async #channel(
    radio: RadioEnvironment,
  ): Promise<{ channel: ChannelPrediction; channelAgent: string }> {
    const agent = this.#o.registry.find<ChannelEstimator>(Capability.ChannelPrediction);
    if (!agent) throw new AgentUnavailableError(Capability.ChannelPrediction);
    return { channel: await agent.predict(radio), channelAgent: agent.info.id };
  }

  /**
   * Base (non-video) demand and video demand per rung up to `wanted`, for the room's
   * headsets together (the downlink the allocation serves carries all of them).
   */
  async #demand(traffic: TrafficScenario, wanted: string | null, scene?: VideoTrafficReport) {
    const agent = this.#o.registry.find<DemandEstimator>(Capability.TrafficPrediction);
    if (!agent) throw new AgentUnavailableError(Capability.TrafficPrediction);
    const link: TrafficScenario = { ...traffic, videoRung: null };
    const base = await agent.predictDemand(link);
    const video: Record<string, number> = {};
    const last = wanted === null ? -1 : this.ladder.findIndex((r) => r.name === wanted);
    const rungs = this.ladder.slice(0, last + 1);
    // A rung the traffic agent was not trained on (a custom ladder) is priced by the
    // reconstruction agent's measurement alone; with neither it cannot be sustained.
    const predictions = await Promise.all(
      rungs.map((r) =>
        agent
          .predictDemand({ ...link, videoRung: r.name })
          .catch((err: unknown) => (scene ? null : Promise.reject(err))),
      ),
    );
    rungs.forEach((r, i) => {
      const p = predictions[i] as DemandPrediction | null;
      const measured = scene?.rungs.find((m) => m.name === r.name)?.bitrateBps ?? 0;
      const predicted = p ? Math.max(0, p.p95Bps - base.p95Bps) : 0;
      video[r.name] =
        p || measured > 0 ? Math.max(predicted, measured * traffic.headsets) : Infinity;
    });
    return { demand: { base, video }, trafficAgent: agent.info.id };
  }

  /** The reconstruction agent's cost per rung of the scene, when one is registered. */
  async #videoTraffic(
    scene: SceneVideo,
  ): Promise<{ report: VideoTrafficReport; agent: string } | null> {
    const agent = this.#o.registry.find<VideoTrafficEstimator>(Capability.VideoTraffic);
    if (!agent) return null;
    return { report: await agent.videoTraffic(scene), agent: agent.info.id };
  }

  #log(d: Omit<Decision, "id" | "atMs">): Decision {
    this.#counter += 1;
    const decision: Decision = { id: `d-${this.#counter}`, atMs: this.#now(), ...d };
    // What a person asked for, or a change of what the link uses, is news; re-confirming the
    // same allocation on every quality report or monitor tick is routine (debug).
    const routine = !d.applied && (d.trigger === "qoe" || d.trigger === "monitor");
    this.#o.logger[routine ? "debug" : "info"](
      {
        decision: decision.id,
        task: d.task,
        trigger: d.trigger,
        latencyMs: Math.round(d.latencyMs),
      },
      d.summary,
    );
    return decision;
  }
}

function sameAllocation(a: Allocation | null, b: Allocation): boolean {
  return !!a && a.rung === b.rung && a.bands.join() === b.bands.join();
}

function mbps(bps: number): string {
  return `${(bps / 1e6).toFixed(1)} Mbit/s`;
}

function channelSummary(c: ChannelPrediction) {
  return {
    source: c.source,
    inferenceMs: c.inferenceMs,
    bands: c.bands.map((b) => ({ band: b.bandId, snrDb: b.snrDb, capacityBps: b.capacityBps })),
  };
}

function summariseRadio(r: RadioEnvironment) {
  return { gnb: r.gnb, headset: r.headset, arms: r.arms.map((a) => a.id) };
}
