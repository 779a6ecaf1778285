/**
 * The network-layer generative agent (nGF): predicts the bandwidth demand of a what-if
 * traffic scenario by synthesising per-class flow windows with the multi-generator GAN of
 * `ml/ngf-mgan.ts` and composing them, and adapts life-long to the traffic it measures.
 *
 * Composition of a scenario with H headsets (one operator per headset):
 *   aggregate(window) = H · twin_state + Σ_H control + Σ_H video_<rung>
 * State patches are broadcast (every headset receives the same frames, so the H copies are
 * one synthetic sample times H); control and video flows are independent per headset (one
 * synthetic sample each). Mean and 95th percentile are taken over the composed windows.
 *
 * Adaptation: {@link TrafficAgent.observe} keeps recent measured windows (bounded per
 * class); when the measured mean throughput of a class under a scenario drifts from the
 * model's prediction by more than a threshold, the GAN is fine-tuned on those measurements
 * mixed with its own synthetic windows for the other classes and scenarios (replay, so it
 * does not forget what it was not shown again), then re-checked.
 */
import { trafficScenarioProblems } from "../net/allocation.ts";
import type { DemandPrediction, FlowClass, FlowWindow, TrafficScenario } from "../net/contracts.ts";
import { initTf } from "../ml/backend.ts";
import {
  MixedSource,
  NgfDataset,
  NgfMgan,
  type NgfSample,
  NgfTrainer,
  usableWindow,
} from "../ml/ngf-mgan.ts";
import type { WeightEncoding } from "../ml/weights.ts";
import { AgentLayer, type AgentInfo, Capability, type DemandEstimator } from "./agent.ts";

/** Default folder of the shipped float32 weights. */
export const NGF_MODEL_DIR = "assets/models/ngf";

/** Options of a {@link TrafficAgent}. */
export interface TrafficAgentOptions {
  /** Synthetic windows per flow and prediction (default 256). */
  readonly samples?: number;
  /** Relative drift of a class's mean throughput that triggers adaptation (default 0.15). */
  readonly driftThreshold?: number;
  /**
   * The drift must also exceed this many standard errors of the measured mean (batch
   * means over the buffered windows, so correlated windows do not count as independent;
   * default 3): short measurements of a bursty flow are not mistaken for a change.
   */
  readonly driftZ?: number;
  /** Measured windows of a class and scenario needed before judging drift (default 20). */
  readonly minWindows?: number;
  /** Measured windows kept per class (default 512, oldest dropped). */
  readonly bufferWindows?: number;
  /** Fine-tuning steps per adaptation (default 300). */
  readonly fineTuneSteps?: number;
  /** Fraction of each fine-tuning batch drawn from replay (default 0.5). */
  readonly replayFraction?: number;
  /** Scenarios whose synthetic windows are replayed (default: a spread of the trained grid). */
  readonly replayScenarios?: readonly TrafficScenario[];
}

/** Drift of one class under one scenario. */
export interface ClassDrift {
  readonly flowClass: FlowClass;
  readonly scenario: TrafficScenario;
  /** Measured mean throughput per flow, bit/s (recent buffered windows). */
  readonly measuredBps: number;
  /** Model's mean throughput per flow, bit/s. */
  readonly predictedBps: number;
  /** |predicted − measured| / measured. */
  readonly relError: number;
  /** |predicted − measured| in standard errors of the measured mean. */
  readonly z: number;
}

/** What one {@link TrafficAgent.observe} call did. */
export interface AdaptationReport {
  /** Drift per class and scenario seen in this call, before any fine-tuning. */
  readonly before: readonly ClassDrift[];
  /** True when the drift exceeded the threshold and the model was fine-tuned. */
  readonly adapted: boolean;
  /** Fine-tuning steps run. */
  readonly steps: number;
  /** Drift after fine-tuning (equal to `before` when not adapted). */
  readonly after: readonly ClassDrift[];
}

/** A scenario the agent cannot answer. */
export class TrafficAgentError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "TrafficAgentError";
  }
}

interface Measured {
  readonly flowClass: FlowClass;
  readonly scenario: TrafficScenario;
  readonly window: FlowWindow;
}

/** Pose rates (Hz) and hands shares the replay cycles through (the trained range). */
const REPLAY_POSE_RATES = [20, 30, 45, 60, 72, 90] as const;
const REPLAY_HANDS = [1, 0, 0.5] as const;

const DEFAULT_REPLAY: readonly TrafficScenario[] = (() => {
  const out: TrafficScenario[] = [];
  for (const arms of [1, 2, 4])
    for (const headsets of [1, 4, 8])
      for (const patchRateHz of [30, 60, 90]) {
        const i = out.length;
        out.push({
          arms,
          headsets,
          patchRateHz,
          videoRung: null,
          poseRateHz: REPLAY_POSE_RATES[i % REPLAY_POSE_RATES.length] as number,
          handsShare: REPLAY_HANDS[Math.floor(i / REPLAY_POSE_RATES.length) % 3] as number,
        });
      }
  return out;
})();

/** Control replay: low, mid and high pose rates, head only and with hands. */
const CONTROL_REPLAY: readonly TrafficScenario[] = [30, 60, 90].flatMap((poseRateHz) =>
  [0, 1].map((handsShare) => ({
    arms: 1,
    headsets: 1,
    patchRateHz: 60,
    videoRung: null,
    poseRateHz,
    handsShare,
  })),
);

/** The nGF agent. One per process or room; not thread-safe across concurrent observe(). */
export class TrafficAgent implements DemandEstimator {
  readonly info: AgentInfo;
  readonly #o: Required<TrafficAgentOptions>;
  readonly #buffers = new Map<FlowClass, Measured[]>();
  #trainer: NgfTrainer | undefined;
  #adaptations = 0;
  #busy = false;
  #disposed = false;

  constructor(
    /** The traffic model; the agent owns it from now on. */
    readonly model: NgfMgan,
    /** Where the weights came from (for the agent's info). */
    readonly source: string,
    options: TrafficAgentOptions = {},
  ) {
    this.#o = {
      samples: options.samples ?? 256,
      driftThreshold: options.driftThreshold ?? 0.15,
      driftZ: options.driftZ ?? 3,
      minWindows: options.minWindows ?? 20,
      bufferWindows: options.bufferWindows ?? 512,
      fineTuneSteps: options.fineTuneSteps ?? 300,
      replayFraction: options.replayFraction ?? 0.5,
      replayScenarios: options.replayScenarios ?? DEFAULT_REPLAY,
    };
    this.info = {
      id: "ngf-traffic",
      layer: AgentLayer.Network,
      capabilities: [Capability.TrafficPrediction],
      model: `ngf-mgan@${source}`,
    };
  }

  /**
   * Loads shipped weights (any encoding) and readies the TensorFlow.js backend.
   * @throws WeightsError when the folder is missing or holds another model
   */
  static async load(
    dir: string = NGF_MODEL_DIR,
    options: TrafficAgentOptions = {},
  ): Promise<TrafficAgent> {
    await initTf();
    const { model } = await NgfMgan.load(dir);
    return new TrafficAgent(model, dir, options);
  }

  /** Fine-tunings run since load. */
  get adaptations(): number {
    return this.#adaptations;
  }

  /**
   * Bandwidth demand of a what-if scenario: every flow of the cell summed per window.
   * `perClass` gives each class's total over its flows (so the class means add up to
   * `meanBps`); p95 is over windows. Units bit/s.
   * @throws TrafficAgentError for an invalid scenario or an unknown video rung
   */
  async predictDemand(s: TrafficScenario): Promise<DemandPrediction> {
    return this.#compose(s, s.headsets);
  }

  /**
   * Demand on one headset's link in a cell of `s.headsets` headsets: the cell's state
   * patches (whose size grows with every operator), its own control flow and its own video
   * stream. Units bit/s.
   */
  async predictLinkDemand(s: TrafficScenario): Promise<DemandPrediction> {
    return this.#compose(s, Math.min(1, s.headsets));
  }

  async #compose(s: TrafficScenario, links: number): Promise<DemandPrediction> {
    const t0 = performance.now();
    const { aggregate, perClass } = this.demandSamples(s, links);
    return {
      meanBps: mean(aggregate),
      p95Bps: p95(aggregate),
      perClass: [...perClass].map(([flowClass, series]) => ({
        flowClass,
        meanBps: mean(series),
        p95Bps: p95(series),
      })),
      inferenceMs: performance.now() - t0,
      source: this.info.model,
    };
  }

  /**
   * The composed synthetic windows behind a prediction: `samples` windows of the aggregate
   * and of each class's total, bit/s (deterministic per scenario). For quantiles other
   * than p95 (e.g. a reservation at the 99th percentile).
   * @param links headsets whose flows are summed (default: all of the scenario's)
   * @throws TrafficAgentError for an invalid scenario or an unknown video rung
   */
  demandSamples(
    s: TrafficScenario,
    links = s.headsets,
  ): { aggregate: Float64Array; perClass: Map<FlowClass, Float64Array> } {
    checkScenario(s, this.model);
    const n = this.#o.samples;
    const seed = scenarioSeed(s);
    const classes: { flowClass: FlowClass; flows: number; copies: number }[] = [];
    if (s.headsets > 0) {
      classes.push({ flowClass: "twin_state", flows: 1, copies: links });
      classes.push({ flowClass: "control", flows: links, copies: 1 });
      if (s.videoRung !== null)
        classes.push({ flowClass: `video_${s.videoRung}`, flows: links, copies: 1 });
    }
    const aggregate = new Float64Array(n);
    const perClass = new Map<FlowClass, Float64Array>();
    for (const [ci, c] of classes.entries()) {
      const series = new Float64Array(n);
      const v = this.model.sampleNormalised(
        this.model.condition(c.flowClass, s),
        n * c.flows,
        seed + 7919 * (ci + 1),
      );
      // Samples come out grouped by generator; flows must each draw from the whole mixture.
      const order = permutation(n * c.flows, seed + 104729 * (ci + 1));
      for (let f = 0; f < c.flows; f++)
        for (let i = 0; i < n; i++) {
          const w = this.model.denormalise(c.flowClass, v, (order[f * n + i] as number) * 3);
          series[i] = (series[i] as number) + c.copies * w.throughputBps;
        }
      series.forEach((x, i) => (aggregate[i] = (aggregate[i] as number) + x));
      perClass.set(c.flowClass, series);
    }
    return { aggregate, perClass };
  }

  /**
   * `n` synthetic windows of one flow of `flowClass` under `scenario` (deterministic per
   * scenario and n).
   * @throws TrafficAgentError for a class the model does not know
   */
  synthesize(flowClass: FlowClass, scenario: TrafficScenario, n: number): FlowWindow[] {
    if (!this.model.has(flowClass))
      throw new TrafficAgentError(`flow class ${flowClass} is not modelled`);
    return this.model.synthesize(flowClass, scenario, n, scenarioSeed(scenario) + 31);
  }

  /**
   * Takes measured windows of the cell (any classes; windows without packets are ignored)
   * under `scenario`, checks them against the model and fine-tunes when a class drifts
   * beyond the threshold. Yields to the event loop between fine-tuning steps.
   * @throws TrafficAgentError when called while a previous observe() is still fine-tuning
   */
  async observe(
    measured: readonly FlowWindow[],
    scenario: TrafficScenario,
  ): Promise<AdaptationReport> {
    if (this.#busy) throw new TrafficAgentError("observe() is already adapting");
    checkScenario(scenario, this.model);
    this.#busy = true;
    try {
      const seen = new Set<FlowClass>();
      for (const w of measured) {
        if (!usableWindow(w) || !this.model.has(w.flowClass)) continue;
        seen.add(w.flowClass);
        const buf = this.#buffers.get(w.flowClass) ?? [];
        buf.push({ flowClass: w.flowClass, scenario, window: w });
        if (buf.length > this.#o.bufferWindows) buf.splice(0, buf.length - this.#o.bufferWindows);
        this.#buffers.set(w.flowClass, buf);
      }
      const before = this.#drift(seen, scenario);
      const drifted = before.filter(
        (d) => d.relError > this.#o.driftThreshold && d.z > this.#o.driftZ,
      );
      if (drifted.length === 0) return { before, adapted: false, steps: 0, after: before };
      const steps = await this.#fineTune();
      this.#adaptations++;
      return { before, adapted: true, steps, after: this.#drift(seen, scenario) };
    } finally {
      this.#busy = false;
    }
  }

  /** Drift of each class in `classes` under `scenario`, from the buffered measurements. */
  #drift(classes: ReadonlySet<FlowClass>, scenario: TrafficScenario): ClassDrift[] {
    const out: ClassDrift[] = [];
    for (const flowClass of classes) {
      const key = conditionKey(this.model, flowClass, scenario);
      const ws = (this.#buffers.get(flowClass) ?? []).filter(
        (m) => conditionKey(this.model, flowClass, m.scenario) === key,
      );
      if (ws.length < this.#o.minWindows) continue;
      const series = ws.map((m) => m.window.throughputBps);
      const measuredBps = mean(series);
      const predictedBps = mean(
        this.model
          .synthesize(flowClass, scenario, this.#o.samples, scenarioSeed(scenario) + 17)
          .map((w) => w.throughputBps),
      );
      out.push({
        flowClass,
        scenario,
        measuredBps,
        predictedBps,
        relError: Math.abs(predictedBps - measuredBps) / Math.max(measuredBps, 1e-9),
        z: Math.abs(predictedBps - measuredBps) / Math.max(batchMeansSe(series), 1e-9),
      });
    }
    return out;
  }

  /** Fine-tunes on buffered measurements plus replayed synthetic windows. */
  async #fineTune(): Promise<number> {
    const model = this.model;
    const measured: NgfSample[] = [];
    const measuredKeys = new Set<string>();
    for (const buf of this.#buffers.values())
      for (const m of buf) {
        measured.push(m);
        measuredKeys.add(conditionKey(model, m.flowClass, m.scenario));
      }
    // Replay: the model's own windows for every class and scenario not measured, so a
    // correction where traffic drifted leaves the rest of what it learned in place.
    const replay: NgfSample[] = [];
    const perCondition = 64;
    let r = 0;
    for (const flowClass of model.config.classes) {
      const scenarios =
        flowClass === "twin_state"
          ? this.#o.replayScenarios
          : flowClass === "control"
            ? CONTROL_REPLAY
            : [{ arms: 1, headsets: 1, patchRateHz: 60, videoRung: videoRungOf(flowClass) }];
      for (const sc of scenarios) {
        if (measuredKeys.has(conditionKey(model, flowClass, sc))) continue;
        for (const w of model.synthesize(flowClass, sc, perCondition, 9_000 + r++))
          replay.push({ flowClass, scenario: sc, window: w });
      }
    }
    const steps = this.#o.fineTuneSteps;
    const fresh = new NgfDataset(model, measured);
    const old = replay.length > 0 ? new NgfDataset(model, replay) : undefined;
    model.resetToAverage();
    const trainer = new NgfTrainer(model, {
      lrD: 5e-4,
      lrG: 5e-4,
      batchSize: 128,
      instanceNoise: 0,
      emaDecay: 0.97,
      seed: 4242 + this.#adaptations,
    });
    this.#trainer = trainer;
    try {
      const source = old ? new MixedSource(fresh, old, this.#o.replayFraction) : fresh;
      for (let i = 0; i < steps; i++) {
        if (this.#disposed) throw new TrafficAgentError("disposed while adapting");
        trainer.step(source, steps);
        // Let the room's ticks run between steps.
        if (i % 10 === 9) await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } finally {
      trainer.dispose();
      this.#trainer = undefined;
    }
    return steps;
  }

  /**
   * Writes the current weights (including adaptations) with the given encoding.
   * @returns bytes of `weights.bin`
   */
  async exportQuantised(dir: string, encoding: WeightEncoding): Promise<number> {
    return this.model.save(dir, encoding, {
      exportedFrom: this.source,
      adaptations: this.#adaptations,
    });
  }

  /** Frees the model's tensors (and the optimizer state of a fine-tune in progress). */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#trainer?.dispose();
    this.#trainer = undefined;
    this.model.dispose();
  }
}

/** The scenario rules of net/allocation.ts, with the video rungs `model` has a class for. */
function checkScenario(s: TrafficScenario, model: NgfMgan): void {
  const rungs = model.config.classes.flatMap((c) => videoRungOf(c) ?? []);
  const bad = trafficScenarioProblems(s, rungs);
  if (bad.length > 0) throw new TrafficAgentError(`invalid traffic scenario: ${bad.join("; ")}`);
}

function videoRungOf(flowClass: FlowClass): string | null {
  return flowClass.startsWith("video_") ? flowClass.slice("video_".length) : null;
}

/** Identifies the model input a class gets under a scenario. */
function conditionKey(model: NgfMgan, flowClass: FlowClass, s: TrafficScenario): string {
  try {
    return Array.from(model.condition(flowClass, s), (v) => v.toFixed(4)).join(",");
  } catch (err) {
    throw new TrafficAgentError(`cannot condition ${flowClass}`, { cause: err });
  }
}

function scenarioSeed(s: TrafficScenario): number {
  const text = `${s.arms}|${s.headsets}|${s.patchRateHz}|${s.videoRung ?? "-"}`;
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return (h >>> 0) % 1_000_000_007;
}

/** Standard error of the mean from 8 contiguous batch means (robust to autocorrelation). */
function batchMeansSe(xs: readonly number[]): number {
  const b = Math.min(8, Math.floor(xs.length / 2));
  if (b < 2) return Infinity;
  const size = Math.floor(xs.length / b);
  const means: number[] = [];
  for (let i = 0; i < b; i++) means.push(mean(xs.slice(i * size, (i + 1) * size)));
  const m = mean(means);
  const variance = means.reduce((a, x) => a + (x - m) ** 2, 0) / (b - 1);
  return Math.sqrt(variance / b);
}

/** A seeded random permutation of 0..n−1 (Fisher–Yates). */
function permutation(n: number, seed: number): Uint32Array {
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  let a = seed >>> 0;
  for (let i = n - 1; i > 0; i--) {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    const j = Math.floor((a / 4294967296) * (i + 1));
    [out[i], out[j]] = [out[j] as number, out[i] as number];
  }
  return out;
}

function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i] as number;
  return xs.length ? s / xs.length : 0;
}

function p95(xs: ArrayLike<number>): number {
  if (xs.length === 0) return 0;
  const s = Float64Array.from(xs).sort();
  const pos = 0.95 * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(s.length - 1, lo + 1);
  return (s[lo] as number) + ((s[hi] as number) - (s[lo] as number)) * (pos - lo);
}
