/**
 * Evaluation of the channel agent on the what-if and ahead tasks of channel-tasks.ts, with
 * the strongest simple baselines in the same table, and of its diffusion samples as a
 * distribution. Truth is the project's own channel model (measured = mean of fading draws).
 *
 * Error: NMAE of per-band capacity, Σ|ĉ − c| / Σ|c| over cases × bands. Skill of a method
 * against a baseline: `1 − NMAE_method / NMAE_baseline` (0: no better; 1: perfect).
 *
 * Methods (every one sees the same inputs; "no-ML" ones use no learned weights):
 * - `persistence` — the last measured value (nothing changes);
 * - `ewma` (ahead) — exponentially weighted mean of the measurements, α tuned on the fit set;
 * - `linear` (ahead) — linear extrapolation over the last w reports, w tuned on the fit set;
 * - `constant` (what-if) — each band's mean measured capacity over the fit set;
 * - `physics` — the channel model without fading on the future/changed geometry (the
 *   runtime's fallback when no learned model loads);
 * - `physics Δ` — last measurement + physics(after) − physics(before): the measurement
 *   carried over the change the geometry predicts;
 * - `pGF` — the model's conditional-mean head on the future/changed geometry;
 * - `pGF Δ` — last measurement + pGF(after) − pGF(before);
 * - `physics × ratio`, `pGF × ratio` (ahead) — the estimate on the future geometry times an
 *   EWMA (α tuned on the fit set) of measured / estimate so far: the model's change with the
 *   level the reports show (e.g. interference the geometry does not explain).
 */
import type { RadioEnvironment } from "../../net/contracts.ts";
import { quantile } from "./trace-windows.ts";
import {
  type AheadTrack,
  type Capacities,
  measuredCapacity,
  physicsCapacity,
  snapshotCapacity,
  type WhatIfCase,
} from "./channel-tasks.ts";

/** What the evaluation needs of the channel model. */
export interface CapacityModel {
  /** Conditional-mean capacity per band, bit/s, for each environment. */
  mean(envs: readonly RadioEnvironment[]): Capacities[];
  /** `k` sampled capacities per band for each environment (result[e][j][b]), bit/s. */
  samples?(envs: readonly RadioEnvironment[], k: number): Capacities[][];
}

/** Score of one method on one task. */
export interface MethodScore {
  readonly method: string;
  /** Uses learned weights. */
  readonly learned: boolean;
  readonly nmae: number;
  /** Per kind of case or track. */
  readonly byKind: Readonly<Record<string, number>>;
}

/** One task's table. */
export interface TaskTable {
  readonly task: string;
  readonly cases: number;
  readonly methods: readonly MethodScore[];
  /** The no-ML method with the lowest NMAE. */
  readonly strongestBaseline: string;
  /** Skill of each learned method against every no-ML one (`vs` → skill). */
  readonly skill: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** Parameters the baselines were tuned to on the fit set. */
  readonly tuned?: Readonly<Record<string, number>>;
}

class Acc {
  abs = 0;
  ref = 0;
  readonly kinds = new Map<string, { abs: number; ref: number }>();
  add(kind: string, pred: ArrayLike<number>, truth: ArrayLike<number>): void {
    let k = this.kinds.get(kind);
    if (!k) this.kinds.set(kind, (k = { abs: 0, ref: 0 }));
    for (let b = 0; b < truth.length; b++) {
      const e = Math.abs(Math.max(0, pred[b] as number) - (truth[b] as number));
      const r = Math.abs(truth[b] as number);
      this.abs += e;
      this.ref += r;
      k.abs += e;
      k.ref += r;
    }
  }
  get nmae(): number {
    return this.ref > 0 ? this.abs / this.ref : 0;
  }
}

function table(
  task: string,
  cases: number,
  accs: ReadonlyMap<string, { acc: Acc; learned: boolean }>,
  tuned?: Record<string, number>,
): TaskTable {
  const methods: MethodScore[] = [...accs].map(([method, { acc, learned }]) => ({
    method,
    learned,
    nmae: round(acc.nmae),
    byKind: Object.fromEntries(
      [...acc.kinds].map(([k, v]) => [k, round(v.ref > 0 ? v.abs / v.ref : 0)]),
    ),
  }));
  const baselines = methods.filter((m) => !m.learned);
  const strongest = baselines.reduce((a, b) => (b.nmae < a.nmae ? b : a));
  const skill: Record<string, Record<string, number>> = {};
  for (const m of methods.filter((x) => x.learned)) {
    skill[m.method] = Object.fromEntries(
      baselines.map((b) => [b.method, round(1 - m.nmae / Math.max(b.nmae, 1e-12))]),
    );
  }
  return {
    task,
    cases,
    methods,
    strongestBaseline: strongest.method,
    skill,
    ...(tuned && { tuned }),
  };
}

function add(a: Capacities, b: Capacities, c: Capacities): Capacities {
  return Float64Array.from(a, (v, i) => v + (b[i] as number) - (c[i] as number));
}

/**
 * The what-if table: measured before, predicted after (see the module comment).
 * @param fit cases whose measurements give the per-band constant
 * @param snapshots fading draws per measurement
 */
export function evaluateWhatIf(
  model: CapacityModel,
  cases: readonly WhatIfCase[],
  fit: readonly WhatIfCase[],
  options: { snapshots?: number; seed?: number } = {},
): TaskTable {
  const snaps = options.snapshots ?? 16;
  const seed = options.seed ?? 0x51ed;
  const fitMeas = fit.flatMap((c, i) => [
    measuredCapacity(c.before, seed + 2 * i, snaps),
    measuredCapacity(c.after, seed + 2 * i + 1, snaps),
  ]);
  const nb = fitMeas[0]?.length ?? 0;
  const constant = new Float64Array(nb);
  for (const m of fitMeas)
    m.forEach((v, b) => (constant[b] = (constant[b] as number) + v / fitMeas.length));
  const before = model.mean(cases.map((c) => c.before));
  const after = model.mean(cases.map((c) => c.after));
  const accs = new Map<string, { acc: Acc; learned: boolean }>();
  const put = (name: string, learned: boolean) => {
    let e = accs.get(name);
    if (!e) accs.set(name, (e = { acc: new Acc(), learned }));
    return e.acc;
  };
  cases.forEach((c, i) => {
    const mb = measuredCapacity(c.before, seed + 0x10000 + 2 * i, snaps);
    const truth = measuredCapacity(c.after, seed + 0x10000 + 2 * i + 1, snaps);
    const pb = physicsCapacity(c.before);
    const pa = physicsCapacity(c.after);
    put("persistence", false).add(c.kind, mb, truth);
    put("constant", false).add(c.kind, constant, truth);
    put("physics", false).add(c.kind, pa, truth);
    put("physics Δ", false).add(c.kind, add(mb, pa, pb), truth);
    put("pGF", true).add(c.kind, after[i] as Capacities, truth);
    put("pGF Δ", true).add(c.kind, add(mb, after[i] as Capacities, before[i] as Capacities), truth);
  });
  return table("what-if", cases.length, accs);
}

/** Measurements of every step of every track (seeded per track and step). */
export function measureTracks(
  tracks: readonly AheadTrack[],
  seed: number,
  snapshots = 8,
): Capacities[][] {
  return tracks.map((t, ti) =>
    t.envs.map((e, i) => measuredCapacity(e, seed + ti * 1009 + i * 7, snapshots)),
  );
}

interface AheadInputs {
  readonly tracks: readonly AheadTrack[];
  readonly meas: readonly (readonly Capacities[])[];
}

/** Forecasts from measurements only: EWMA with α and linear extrapolation over w reports. */
function ewmaSeries(meas: readonly Capacities[], alpha: number): Capacities[] {
  const out: Capacities[] = [];
  let e: Capacities | undefined;
  for (const m of meas) {
    e = e ? Float64Array.from(m, (v, b) => alpha * v + (1 - alpha) * (e as Capacities)[b]!) : m;
    out.push(e);
  }
  return out;
}

function linear(meas: readonly Capacities[], i: number, w: number, h: number): Capacities {
  const now = meas[i] as Capacities;
  const then = meas[Math.max(0, i - w)] as Capacities;
  return Float64Array.from(now, (v, b) => v + ((v - (then[b] as number)) * h) / w);
}

/** EWMA over a track of measured / estimated per band, one value per step. */
function ratioSeries(
  meas: readonly Capacities[],
  est: readonly Capacities[],
  alpha: number,
): Capacities[] {
  const out: Capacities[] = [];
  let r: Capacities | undefined;
  meas.forEach((m, i) => {
    const now = Float64Array.from(m, (v, b) => v / Math.max(est[i]![b]!, 1));
    r = r ? Float64Array.from(now, (v, b) => alpha * v + (1 - alpha) * r![b]!) : now;
    out.push(r);
  });
  return out;
}

function scaled(a: Capacities, r: Capacities): Capacities {
  return Float64Array.from(a, (v, b) => v * r[b]!);
}

/** First decision step of a track (history for the baselines). */
const FIRST_STEP = 5;

/** Errors of `forecast` at every decision step (from {@link FIRST_STEP}) against the report h later. */
function accOf(
  inputs: AheadInputs,
  h: number,
  forecast: (ti: number, i: number) => Capacities,
): { acc: Acc; cases: number } {
  const acc = new Acc();
  let cases = 0;
  inputs.tracks.forEach((t, ti) => {
    const m = inputs.meas[ti] as Capacities[];
    for (let i = FIRST_STEP; i + h < t.envs.length; i++) {
      acc.add(t.kind, forecast(ti, i), m[i + h] as Capacities);
      cases++;
    }
  });
  return { acc, cases };
}

function nmaeOf(
  inputs: AheadInputs,
  h: number,
  forecast: (ti: number, i: number) => Capacities,
): number {
  return accOf(inputs, h, forecast).acc.nmae;
}

/** EWMA α and extrapolation window (reports) tuned on the fit tracks for horizon h. */
export function tuneAheadBaselines(fit: AheadInputs, h: number): { alpha: number; window: number } {
  let alpha = 1;
  let best = Infinity;
  for (const a of [0.1, 0.2, 0.3, 0.5, 0.7, 1]) {
    const series = fit.meas.map((m) => ewmaSeries(m, a));
    const e = nmaeOf(fit, h, (ti, i) => series[ti]![i]!);
    if (e < best) [best, alpha] = [e, a];
  }
  let window = 1;
  best = Infinity;
  for (const w of [1, 2, 3, 5, 8]) {
    const e = nmaeOf(fit, h, (ti, i) => linear(fit.meas[ti]!, i, w, h));
    if (e < best) [best, window] = [e, w];
  }
  return { alpha, window };
}

/**
 * The ahead table for horizons `horizonsS` (seconds; rounded to whole steps): every step
 * from the 6th on forecasts the measurement `h` later knowing the geometry then.
 */
export function evaluateAhead(
  model: CapacityModel,
  tracks: readonly AheadTrack[],
  fitTracks: readonly AheadTrack[],
  options: { horizonsS?: readonly number[]; seed?: number; snapshots?: number } = {},
): TaskTable[] {
  const seed = options.seed ?? 0xa4ead;
  const snaps = options.snapshots ?? 8;
  const fit: AheadInputs = { tracks: fitTracks, meas: measureTracks(fitTracks, seed, snaps) };
  const fitMu = fitTracks.map((t) => model.mean(t.envs));
  const fitPhys = fitTracks.map((t) => t.envs.map((e) => physicsCapacity(e)));
  const test: AheadInputs = { tracks, meas: measureTracks(tracks, seed + 0x77777, snaps) };
  const mu = tracks.map((t) => model.mean(t.envs));
  const phys = tracks.map((t) => t.envs.map((e) => physicsCapacity(e)));
  const out: TaskTable[] = [];
  for (const hs of options.horizonsS ?? [0.5, 1, 2]) {
    const dt = tracks[0]?.dtS ?? 0.1;
    const h = Math.max(1, Math.round(hs / dt));
    const { alpha, window } = tuneAheadBaselines(fit, h);
    const tuneRatio = (est: readonly (readonly Capacities[])[]): number => {
      let best = Infinity;
      let pick = 1;
      for (const a of [0.05, 0.1, 0.2, 0.5, 1]) {
        const r = fit.meas.map((m, ti) => ratioSeries(m, est[ti]!, a));
        const e = nmaeOf(fit, h, (ti, i) => scaled(est[ti]![i + h]!, r[ti]![i]!));
        if (e < best) [best, pick] = [e, a];
      }
      return pick;
    };
    const aPhys = tuneRatio(fitPhys);
    const aMu = tuneRatio(fitMu);
    const rPhys = test.meas.map((m, ti) => ratioSeries(m, phys[ti]!, aPhys));
    const rMu = test.meas.map((m, ti) => ratioSeries(m, mu[ti]!, aMu));
    const ewma = test.meas.map((m) => ewmaSeries(m, alpha));
    const accs = new Map<string, { acc: Acc; learned: boolean }>();
    const methods: [string, boolean, (ti: number, i: number) => Capacities][] = [
      ["persistence", false, (ti, i) => test.meas[ti]![i]!],
      ["ewma", false, (ti, i) => ewma[ti]![i]!],
      ["linear", false, (ti, i) => linear(test.meas[ti]!, i, window, h)],
      ["physics", false, (ti, i) => phys[ti]![i + h]!],
      ["physics Δ", false, (ti, i) => add(test.meas[ti]![i]!, phys[ti]![i + h]!, phys[ti]![i]!)],
      ["physics × ratio", false, (ti, i) => scaled(phys[ti]![i + h]!, rPhys[ti]![i]!)],
      ["pGF", true, (ti, i) => mu[ti]![i + h]!],
      ["pGF Δ", true, (ti, i) => add(test.meas[ti]![i]!, mu[ti]![i + h]!, mu[ti]![i]!)],
      ["pGF × ratio", true, (ti, i) => scaled(mu[ti]![i + h]!, rMu[ti]![i]!)],
    ];
    let cases = 0;
    for (const [name, learned, f] of methods) {
      const r = accOf(test, h, f);
      accs.set(name, { acc: r.acc, learned });
      cases = r.cases;
    }
    out.push(
      table(`ahead ${hs} s`, cases, accs, {
        ewmaAlpha: alpha,
        linearWindow: window,
        physicsRatioAlpha: aPhys,
        pgfRatioAlpha: aMu,
      }),
    );
  }
  return out;
}

/** Calibration of the diffusion samples and what reserving for their 5th percentile buys. */
export interface DistributionResult {
  readonly environments: number;
  readonly samplesPerEnvironment: number;
  /** Share of single-slot capacities inside each method's 90 % interval, and its mean width. */
  readonly coverage90: readonly { method: string; coverage: number; relativeWidth: number }[];
  /**
   * Rate reserved per band for one slot at a 5 % outage target: outage on held-out slots,
   * goodput (rate when it fits, 0 in outage) as a share of the mean slot capacity.
   */
  readonly reserve5: readonly { method: string; outage: number; goodputShare: number }[];
  /** Scale factors fitted on the fit environments. */
  readonly fitted: Readonly<Record<string, number>>;
}

/**
 * Coverage of 90 % intervals and the q05 reservation against single fading realisations
 * (slots), each method's interval `[lo, hi]` per environment and band:
 * - `pGF samples (raw q05–q95)`: the empirical quantiles of the diffusion samples;
 * - `pGF samples, spread rescaled`: `μ − a·(μ − q05)`, `μ + b·(q95 − μ)` with a, b fitted on the
 *   fit environments to 5 % below / above (the samples' per-environment spread, its scale
 *   calibrated: does the spread carry information the constant factor lacks?);
 * - `pGF mean × factors`, `physics × factors`: the point estimate times the fit set's 5th and
 *   95th percentiles of slot / estimate (one constant factor per side, no ML distribution).
 */
export function evaluateDistribution(
  model: CapacityModel,
  envs: readonly RadioEnvironment[],
  fitEnvs: readonly RadioEnvironment[],
  options: { samples?: number; slots?: number; seed?: number } = {},
): DistributionResult {
  const k = options.samples ?? 32;
  const slots = options.slots ?? 8;
  const seed = options.seed ?? 0xd157;
  const sampler = model.samples?.bind(model);
  if (!sampler) throw new Error("the model draws no samples");
  const slotCaps = (list: readonly RadioEnvironment[], s0: number) =>
    list.map((e, i) =>
      Array.from({ length: slots }, (_, j) => snapshotCapacity(e, s0 + i * 131 + j)),
    );
  interface Set {
    mu: Capacities[];
    phys: Capacities[];
    q05: Capacities[];
    q95: Capacities[];
    slots: Capacities[][];
  }
  const prepare = (list: readonly RadioEnvironment[], s0: number): Set => {
    const samples = sampler(list, k);
    const quant = (p: number) =>
      samples.map((ss) =>
        Float64Array.from(ss[0] ?? [], (_, b) =>
          quantile(
            ss.map((x) => x[b]!),
            p,
          ),
        ),
      );
    return {
      mu: model.mean(list),
      phys: list.map((e) => physicsCapacity(e)),
      q05: quant(0.05),
      q95: quant(0.95),
      slots: slotCaps(list, s0),
    };
  };
  const fit = prepare(fitEnvs, seed);
  const test = prepare(envs, seed + 0x5555);
  /** The 95th percentile over the fit slots of `score(i, b, v)`. */
  const fitQ = (score: (i: number, b: number, v: number) => number, p = 0.95) =>
    quantile(
      fit.slots.flatMap((ss, i) => ss.flatMap((s) => Array.from(s, (v, b) => score(i, b, v)))),
      p,
    );
  const eps = 1;
  const a = fitQ(
    (i, b, v) => (fit.mu[i]![b]! - v) / Math.max(fit.mu[i]![b]! - fit.q05[i]![b]!, eps),
  );
  const bb = fitQ(
    (i, b, v) => (v - fit.mu[i]![b]!) / Math.max(fit.q95[i]![b]! - fit.mu[i]![b]!, eps),
  );
  const muLo = fitQ((i, b, v) => v / Math.max(fit.mu[i]![b]!, eps), 0.05);
  const muHi = fitQ((i, b, v) => v / Math.max(fit.mu[i]![b]!, eps), 0.95);
  const phLo = fitQ((i, b, v) => v / Math.max(fit.phys[i]![b]!, eps), 0.05);
  const phHi = fitQ((i, b, v) => v / Math.max(fit.phys[i]![b]!, eps), 0.95);
  const t = test;
  const methods: {
    name: string;
    lo: (i: number, b: number) => number;
    hi: (i: number, b: number) => number;
  }[] = [
    { name: "pGF samples (raw q05–q95)", lo: (i, b) => t.q05[i]![b]!, hi: (i, b) => t.q95[i]![b]! },
    {
      name: "pGF samples, spread rescaled on fit set",
      lo: (i, b) => t.mu[i]![b]! - a * (t.mu[i]![b]! - t.q05[i]![b]!),
      hi: (i, b) => t.mu[i]![b]! + bb * (t.q95[i]![b]! - t.mu[i]![b]!),
    },
    {
      name: "pGF mean × fit-set factors (no sampling)",
      lo: (i, b) => t.mu[i]![b]! * muLo,
      hi: (i, b) => t.mu[i]![b]! * muHi,
    },
    {
      name: "physics × fit-set factors (no ML)",
      lo: (i, b) => t.phys[i]![b]! * phLo,
      hi: (i, b) => t.phys[i]![b]! * phHi,
    },
  ];
  // One pass per method over the held-out slots: interval coverage and the q05 reservation.
  const scored = methods.map((m) => {
    let inside = 0;
    let outage = 0;
    let n = 0;
    let width = 0;
    let good = 0;
    let ref = 0;
    t.slots.forEach((ss, i) =>
      ss.forEach((s) =>
        s.forEach((v, b) => {
          const lo = m.lo(i, b);
          const hi = m.hi(i, b);
          if (v >= lo && v <= hi) inside++;
          width += hi - lo;
          const r = Math.max(0, lo);
          if (r > v) outage++;
          else good += r;
          n++;
          ref += v;
        }),
      ),
    );
    return {
      coverage: { method: m.name, coverage: round(inside / n), relativeWidth: round(width / ref) },
      reserve: { method: m.name, outage: round(outage / n), goodputShare: round(good / ref) },
    };
  });
  const coverage90 = scored.map((x) => x.coverage);
  const reserve5 = scored.map((x) => x.reserve);
  return {
    environments: envs.length,
    samplesPerEnvironment: k,
    coverage90,
    reserve5,
    fitted: { spreadLo: round(a), spreadHi: round(bb), meanLo: round(muLo), meanHi: round(muHi) },
  };
}

function round(v: number, d = 4): number {
  return Math.round(v * 10 ** d) / 10 ** d;
}
