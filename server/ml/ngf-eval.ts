/**
 * Evaluation of the nGF traffic agent (definitions in `server/ml/README-ngf.md`):
 *
 * - demand accuracy on held-out scenarios = 1 − NMAE, NMAE = Σ|pred − meas| / Σ meas over
 *   scenarios, of the mean aggregate demand and of its 95th percentile; NMSE = Σ(pred −
 *   meas)² / Σ meas²; plus the mean per-scenario relative error (MAPE), which weighs a
 *   small no-video scenario as much as an 8k one;
 * - distribution fidelity per class: 1-D Wasserstein-1 distance and Kolmogorov–Smirnov
 *   statistic between ln throughput of synthetic and held-out measured windows;
 * - adaptation: accuracy on a shifted environment before and after observe();
 * - quantisation: accuracy of float16 / uint8 weights and their deviation from float32.
 *
 * The "measured" side is {@link measureScenario}: traces generated with held-out seeds.
 */
import { nominalDemandPrediction } from "../net/allocation.ts";
import {
  type DemandPrediction,
  type FlowClass,
  type FlowWindow,
  poseFeatures,
  type TrafficScenario,
} from "../net/contracts.ts";
import { FLOW_CLASSES, VIDEO_LADDER } from "./datasets/flow-classes.ts";
import { mixSeed } from "./datasets/trace-random.ts";
import {
  heldOutScenarios,
  type MeasuredScenario,
  measureScenario,
  SEED_BASE,
  type TrafficShift,
} from "./datasets/traffic-sets.ts";

/** What the evaluation needs of a traffic agent (`agents/traffic-agent.ts` has it). */
export interface DemandModel {
  predictDemand(s: TrafficScenario): Promise<DemandPrediction>;
  synthesize(flowClass: FlowClass, scenario: TrafficScenario, n: number): FlowWindow[];
  observe(
    measured: readonly FlowWindow[],
    scenario: TrafficScenario,
  ): Promise<{ adapted: boolean }>;
}

/** Accuracy of predicted demand against measured demand over a set of scenarios. */
export interface DemandAccuracy {
  /** Scenarios compared. */
  readonly scenarios: number;
  /** 1 − NMAE of mean aggregate demand. */
  readonly accuracyMean: number;
  /** 1 − NMAE of the 95th percentile of aggregate demand. */
  readonly accuracyP95: number;
  /** NMSE of mean and p95 demand. */
  readonly nmseMean: number;
  readonly nmseP95: number;
  /** Mean per-scenario relative error of mean and p95 demand. */
  readonly mapeMean: number;
  readonly mapeP95: number;
  /** Largest per-scenario relative error of the mean. */
  readonly worstMean: number;
  /** Per scenario: predicted and measured mean / p95, bit/s. */
  readonly rows: readonly {
    readonly scenario: TrafficScenario;
    readonly predictedMeanBps: number;
    readonly measuredMeanBps: number;
    readonly predictedP95Bps: number;
    readonly measuredP95Bps: number;
  }[];
}

/** Compares predictions with measurements, pairwise (same order). */
export function demandAccuracy(
  predicted: readonly DemandPrediction[],
  measured: readonly MeasuredScenario[],
): DemandAccuracy {
  if (predicted.length !== measured.length || predicted.length === 0)
    throw new RangeError(`${predicted.length} predictions for ${measured.length} scenarios`);
  const rows = measured.map((m, i) => {
    const p = predicted[i] as DemandPrediction;
    return {
      scenario: m.scenario,
      predictedMeanBps: p.meanBps,
      measuredMeanBps: m.meanBps,
      predictedP95Bps: p.p95Bps,
      measuredP95Bps: m.p95Bps,
    };
  });
  const stat = (pick: (r: (typeof rows)[number]) => [number, number]) => {
    let abs = 0;
    let sq = 0;
    let tot = 0;
    let tot2 = 0;
    let rel = 0;
    let worst = 0;
    for (const r of rows) {
      const [p, m] = pick(r);
      abs += Math.abs(p - m);
      sq += (p - m) ** 2;
      tot += Math.abs(m);
      tot2 += m * m;
      const e = Math.abs(p - m) / Math.max(Math.abs(m), 1e-9);
      rel += e;
      worst = Math.max(worst, e);
    }
    return { acc: 1 - abs / tot, nmse: sq / tot2, mape: rel / rows.length, worst };
  };
  const a = stat((r) => [r.predictedMeanBps, r.measuredMeanBps]);
  const b = stat((r) => [r.predictedP95Bps, r.measuredP95Bps]);
  return {
    scenarios: rows.length,
    accuracyMean: a.acc,
    accuracyP95: b.acc,
    nmseMean: a.nmse,
    nmseP95: b.nmse,
    mapeMean: a.mape,
    mapeP95: b.mape,
    worstMean: a.worst,
    rows,
  };
}

/** Demand accuracy of one flow class (its total over its flows) across scenarios. */
export interface ClassAccuracy {
  readonly flowClass: FlowClass;
  readonly scenarios: number;
  /** 1 − NMAE of the class's mean demand and of its p95. */
  readonly accuracyMean: number;
  readonly accuracyP95: number;
  /** Mean per-scenario relative error of the class's mean demand. */
  readonly mapeMean: number;
}

/**
 * Per-class demand accuracy (a stricter view than the aggregate, which video dominates):
 * predicted `perClass` against the measured class totals, over the scenarios having it.
 */
export function classAccuracy(
  predicted: readonly DemandPrediction[],
  measured: readonly MeasuredScenario[],
): ClassAccuracy[] {
  const out: ClassAccuracy[] = [];
  for (const flowClass of FLOW_CLASSES) {
    let abs = 0;
    let absP = 0;
    let tot = 0;
    let totP = 0;
    let rel = 0;
    let n = 0;
    measured.forEach((m, i) => {
      const meas = m.perClass.find((c) => c.flowClass === flowClass);
      const pred = predicted[i]?.perClass.find((c) => c.flowClass === flowClass);
      if (!meas || !pred) return;
      abs += Math.abs(pred.meanBps - meas.meanBps);
      absP += Math.abs(pred.p95Bps - meas.p95Bps);
      tot += meas.meanBps;
      totP += meas.p95Bps;
      rel += Math.abs(pred.meanBps - meas.meanBps) / Math.max(meas.meanBps, 1e-9);
      n++;
    });
    if (n > 0)
      out.push({
        flowClass,
        scenarios: n,
        accuracyMean: 1 - abs / tot,
        accuracyP95: 1 - absP / totP,
        mapeMean: rel / n,
      });
  }
  return out;
}

/** Wasserstein-1 distance between two 1-D samples (same units as the samples). */
export function wasserstein1(a: readonly number[], b: readonly number[]): number {
  if (a.length === 0 || b.length === 0) return Number.NaN;
  const sa = [...a].sort((x, y) => x - y);
  const sb = [...b].sort((x, y) => x - y);
  // ∫|F⁻¹_a(u) − F⁻¹_b(u)| du on the merged grid of both empirical CDFs' steps.
  let i = 0;
  let j = 0;
  let u = 0;
  let w = 0;
  while (i < sa.length && j < sb.length) {
    const ua = (i + 1) / sa.length;
    const ub = (j + 1) / sb.length;
    const next = Math.min(ua, ub);
    w += (next - u) * Math.abs((sa[i] as number) - (sb[j] as number));
    u = next;
    if (ua <= next) i++;
    if (ub <= next) j++;
  }
  return w;
}

/** Two-sample Kolmogorov–Smirnov statistic (sup |F_a − F_b|), 0..1. */
export function ksStatistic(a: readonly number[], b: readonly number[]): number {
  if (a.length === 0 || b.length === 0) return Number.NaN;
  const sa = [...a].sort((x, y) => x - y);
  const sb = [...b].sort((x, y) => x - y);
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < sa.length && j < sb.length) {
    const x = Math.min(sa[i] as number, sb[j] as number);
    while (i < sa.length && (sa[i] as number) <= x) i++;
    while (j < sb.length && (sb[j] as number) <= x) j++;
    d = Math.max(d, Math.abs(i / sa.length - j / sb.length));
  }
  return d;
}

/** Fidelity of one class's synthetic windows. */
export interface ClassFidelity {
  readonly flowClass: FlowClass;
  /** Scenarios (twin_state) or flows compared. */
  readonly groups: number;
  /** Mean over groups of W1 of ln throughput, nats (≈ relative error for small values). */
  readonly w1LnThroughput: number;
  /** Mean over groups of the KS statistic of throughput. */
  readonly ks: number;
  /** Relative error of the class's mean throughput per flow, pooled over groups. */
  readonly meanRelError: number;
}

/**
 * Synthetic vs measured windows per class over held-out scenarios: twin_state per scenario
 * (its condition), control per pose rate and hands share (its condition), video pooled over
 * every flow of the class.
 */
export function fidelity(
  agent: DemandModel,
  measured: readonly MeasuredScenario[],
  samples = 512,
): ClassFidelity[] {
  const groups = new Map<string, { cls: FlowClass; s: TrafficScenario; real: number[] }>();
  for (const m of measured)
    for (const [cls, flows] of m.flows) {
      const pose = poseFeatures(m.scenario);
      const key =
        cls === "twin_state"
          ? `${cls}|${m.scenario.arms}|${m.scenario.headsets}|${m.scenario.patchRateHz}|${pose.poseRateHz}|${pose.handsShare}`
          : cls === "control"
            ? `${cls}|${pose.poseRateHz}|${pose.handsShare}`
            : cls;
      const g = groups.get(key) ?? { cls, s: m.scenario, real: [] };
      for (const f of flows)
        for (const w of f) if (w.throughputBps > 0) g.real.push(w.throughputBps);
      groups.set(key, g);
    }
  const out: ClassFidelity[] = [];
  for (const cls of FLOW_CLASSES) {
    const gs = [...groups.values()].filter((g) => g.cls === cls);
    if (gs.length === 0) continue;
    let w1 = 0;
    let ks = 0;
    let synTotal = 0;
    let realTotal = 0;
    for (const g of gs) {
      const syn = agent.synthesize(cls, g.s, samples).map((w) => w.throughputBps);
      w1 += wasserstein1(syn.map(Math.log), g.real.map(Math.log));
      ks += ksStatistic(syn, g.real);
      synTotal += avg(syn);
      realTotal += avg(g.real);
    }
    out.push({
      flowClass: cls,
      groups: gs.length,
      w1LnThroughput: w1 / gs.length,
      ks: ks / gs.length,
      meanRelError: Math.abs(synTotal - realTotal) / realTotal,
    });
  }
  return out;
}

/** Measures every scenario with held-out seeds (seedBase + index). */
export function measureAll(
  scenarios: readonly TrafficScenario[],
  opts: { windows: number; seedBase: number; shift?: TrafficShift },
): MeasuredScenario[] {
  return scenarios.map((s, i) =>
    measureScenario(s, {
      windows: opts.windows,
      seed: mixSeed(opts.seedBase, i),
      ...(opts.shift && { shift: opts.shift }),
    }),
  );
}

/** Demand accuracy of an agent on measured scenarios (aggregate and per class). */
export async function evaluateDemand(
  agent: DemandModel,
  measured: readonly MeasuredScenario[],
): Promise<DemandAccuracy & { readonly perClass: readonly ClassAccuracy[] }> {
  const predicted: DemandPrediction[] = [];
  for (const m of measured) predicted.push(await agent.predictDemand(m.scenario));
  return { ...demandAccuracy(predicted, measured), perClass: classAccuracy(predicted, measured) };
}

/** Accuracy on a shifted environment before and after the agent observes it. */
export interface AdaptationResult {
  readonly shift: TrafficShift;
  readonly before: DemandAccuracy;
  readonly after: DemandAccuracy;
  /** Fine-tunings triggered by the observations. */
  readonly adaptations: number;
  /** Measured windows shown to observe(). */
  readonly observedWindows: number;
}

/**
 * Shows the agent measurements of `observe` scenarios under `shift` (its own seeds), then
 * compares demand accuracy on `evaluate` scenarios (other seeds) before and after.
 */
export async function evaluateAdaptation(
  agent: DemandModel,
  opts: {
    shift: TrafficShift;
    observe: readonly TrafficScenario[];
    evaluate: readonly TrafficScenario[];
    windows: number;
    seedBase: number;
  },
): Promise<AdaptationResult> {
  const evalSet = measureAll(opts.evaluate, {
    windows: opts.windows,
    seedBase: opts.seedBase,
    shift: opts.shift,
  });
  const before = await evaluateDemand(agent, evalSet);
  const shown = measureAll(opts.observe, {
    windows: opts.windows,
    seedBase: opts.seedBase + 7_777,
    shift: opts.shift,
  });
  let adaptations = 0;
  let observedWindows = 0;
  for (const m of shown) {
    const windows = [...m.flows.values()].flatMap((flows) => flows.flat());
    observedWindows += windows.length;
    const r = await agent.observe(windows, m.scenario);
    if (r.adapted) adaptations++;
  }
  const after = await evaluateDemand(agent, evalSet);
  return { shift: opts.shift, before, after, adaptations, observedWindows };
}

/** Rounded figures of a {@link DemandAccuracy} (no per-scenario rows). */
export interface AccuracySummary {
  readonly accuracyMean: number;
  readonly accuracyP95: number;
  readonly nmseMean: number;
  readonly nmseP95: number;
  readonly mapeMean: number;
  readonly mapeP95: number;
  readonly worstMean: number;
}

/** Before/after figures of one adaptation experiment. */
export interface AdaptationSummary {
  readonly shift: TrafficShift;
  readonly adaptations: number;
  readonly observedWindows: number;
  readonly before: AccuracySummary;
  readonly after: AccuracySummary;
}

/** Everything {@link evaluateNgf} measures (JSON-ready). */
export interface NgfEvaluation {
  readonly heldOutScenarios: number;
  readonly heldOutWindows: number;
  /** Held-out demand accuracy per weight encoding. */
  readonly accuracy: {
    readonly f32: AccuracySummary;
    readonly f16: AccuracySummary;
    readonly u8: AccuracySummary;
  };
  /**
   * The same figures of the runtime's no-ML fallback (nominal bitrates, p95 = 1.3 × mean,
   * `nominalDemandPrediction` of net/allocation.ts) on the same measurements.
   */
  readonly baseline: { readonly nominal: AccuracySummary };
  /** Largest |f16 − f32| and |u8 − f32| relative difference of predicted mean demand. */
  readonly quantisedDeviation: { readonly f16: number; readonly u8: number };
  readonly perClass: readonly ClassAccuracy[];
  readonly fidelity: readonly ClassFidelity[];
  /** Mean wall time of one predictDemand on the held-out scenarios, ms. */
  readonly predictMs: number;
  readonly adaptation: {
    /** Video codec 30 % hungrier; one scenario per rung observed. */
    readonly codec: AdaptationSummary;
    /** State patches carry twice the operators; four cells observed. */
    readonly operators: AdaptationSummary;
  };
}

/** An agent the evaluation can load (one per weights folder) and free. */
export type LoadAgent = (dir: string) => Promise<DemandModel & { dispose(): void }>;

/**
 * The full nGF evaluation of a weights folder `dir` (with `dir-f16` and `dir-u8` beside it):
 * held-out demand accuracy per encoding and per class, fidelity, prediction time, and the
 * two adaptation experiments (each on a freshly loaded agent).
 */
export async function evaluateNgf(opts: {
  readonly dir: string;
  readonly load: LoadAgent;
  /** Windows per held-out scenario (180 in `train:ngf`). */
  readonly heldOutWindows: number;
  /** Windows per scenario in the adaptation experiments (120 in `train:ngf`). */
  readonly adaptWindows: number;
  readonly log?: (line: string) => void;
}): Promise<NgfEvaluation> {
  const log = opts.log ?? ((): void => {});
  const scenarios = heldOutScenarios();
  log(`measuring ${scenarios.length} held-out scenarios (${opts.heldOutWindows} windows each)`);
  const measured = measureAll(scenarios, {
    windows: opts.heldOutWindows,
    seedBase: SEED_BASE.heldOut,
  });
  const acc: Partial<Record<"f32" | "f16" | "u8", DemandAccuracy>> = {};
  let perClass: readonly ClassAccuracy[] = [];
  let fid: readonly ClassFidelity[] = [];
  let predictMs = 0;
  for (const [suffix, name] of [
    ["", "f32"],
    ["-f16", "f16"],
    ["-u8", "u8"],
  ] as const) {
    const agent = await opts.load(`${opts.dir}${suffix}`);
    try {
      const a = await evaluateDemand(agent, measured);
      acc[name] = a;
      log(`held-out ${name}: ${formatAccuracy(a)}`);
      if (name !== "f32") continue;
      perClass = a.perClass;
      for (const c of perClass)
        log(
          `  class ${c.flowClass.padEnd(11)} accuracy(mean) ${c.accuracyMean.toFixed(4)}  ` +
            `accuracy(p95) ${c.accuracyP95.toFixed(4)}  MAPE ${(c.mapeMean * 100).toFixed(2)} %`,
        );
      fid = fidelity(agent, measured);
      for (const f of fid)
        log(
          `  fidelity ${f.flowClass.padEnd(11)} W1(ln bps) ${f.w1LnThroughput.toFixed(3)}  ` +
            `KS ${f.ks.toFixed(3)}  mean error ${(f.meanRelError * 100).toFixed(1)} %`,
        );
      const t0 = performance.now();
      for (const s of scenarios) await agent.predictDemand(s);
      predictMs = (performance.now() - t0) / scenarios.length;
      log(`  predictDemand ${predictMs.toFixed(1)} ms per scenario`);
    } finally {
      agent.dispose();
    }
  }
  const [f32, f16, u8] = [acc.f32, acc.f16, acc.u8];
  if (!f32 || !f16 || !u8) throw new RangeError("an encoding was not evaluated");
  const deviation = (q: DemandAccuracy): number =>
    Math.max(
      ...q.rows.map((r, i) => {
        const ref = f32.rows[i]?.predictedMeanBps ?? r.predictedMeanBps;
        return Math.abs(r.predictedMeanBps - ref) / Math.max(ref, 1e-9);
      }),
    );

  const adapt = async (
    shift: TrafficShift,
    observe: readonly TrafficScenario[],
    evaluate: readonly TrafficScenario[],
    seedOffset: number,
  ): Promise<AdaptationSummary> => {
    const agent = await opts.load(opts.dir);
    try {
      const r = await evaluateAdaptation(agent, {
        shift,
        observe,
        evaluate,
        windows: opts.adaptWindows,
        seedBase: SEED_BASE.heldOut + seedOffset,
      });
      log(
        `adaptation ${JSON.stringify(shift)}: ${r.adaptations} fine-tunings on ` +
          `${r.observedWindows} windows; accuracy(mean) ${r.before.accuracyMean.toFixed(4)} → ` +
          `${r.after.accuracyMean.toFixed(4)}, accuracy(p95) ${r.before.accuracyP95.toFixed(4)} → ` +
          `${r.after.accuracyP95.toFixed(4)}`,
      );
      return {
        shift,
        adaptations: r.adaptations,
        observedWindows: r.observedWindows,
        before: summarise(r.before),
        after: summarise(r.after),
      };
    } finally {
      agent.dispose();
    }
  };
  const codec = await adapt(
    { videoBitrateScale: 1.3 },
    VIDEO_LADDER.map((r, i) => ({
      arms: 1 + (i % 4),
      headsets: 2,
      patchRateHz: 60,
      videoRung: r.name,
    })),
    scenarios.filter((s) => s.videoRung !== null),
    50_000,
  );
  const cells: TrafficScenario[] = [1, 2, 3, 4].map((arms) => ({
    arms,
    headsets: 3,
    patchRateHz: 45,
    videoRung: null,
  }));
  const operators = await adapt({ operatorFactor: 2 }, cells, cells, 60_000);
  return {
    heldOutScenarios: scenarios.length,
    heldOutWindows: opts.heldOutWindows,
    accuracy: { f32: summarise(f32), f16: summarise(f16), u8: summarise(u8) },
    baseline: {
      nominal: summarise(
        demandAccuracy(
          measured.map((m) => nominalDemandPrediction(m.scenario)),
          measured,
        ),
      ),
    },
    quantisedDeviation: { f16: round(deviation(f16), 6), u8: round(deviation(u8), 6) },
    perClass,
    fidelity: fid,
    predictMs: round(predictMs, 2),
    adaptation: { codec, operators },
  };
}

/** One line of the headline figures. */
export function formatAccuracy(a: DemandAccuracy): string {
  return (
    `accuracy(mean) ${a.accuracyMean.toFixed(4)}  accuracy(p95) ${a.accuracyP95.toFixed(4)}  ` +
    `NMSE(mean) ${a.nmseMean.toExponential(2)}  NMSE(p95) ${a.nmseP95.toExponential(2)}  ` +
    `MAPE(mean) ${(a.mapeMean * 100).toFixed(2)} %  worst ${(a.worstMean * 100).toFixed(1)} %`
  );
}

function summarise(a: DemandAccuracy): AccuracySummary {
  return {
    accuracyMean: round(a.accuracyMean),
    accuracyP95: round(a.accuracyP95),
    nmseMean: round(a.nmseMean, 8),
    nmseP95: round(a.nmseP95, 8),
    mapeMean: round(a.mapeMean),
    mapeP95: round(a.mapeP95),
    worstMean: round(a.worstMean),
  };
}

function round(x: number, digits = 5): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function avg(xs: readonly number[]): number {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0;
}
