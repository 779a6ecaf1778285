/**
 * Evaluation of the traffic agent on the sessions of traffic-tasks.ts, baselines in the same
 * tables, and of its GAN traces against held-out traces.
 *
 * **Demand** (per class group, next H s): at every second t ≥ 5 the mean throughput of the
 * group over windows [t, t + H) is forecast. Methods: `nominal` (the runtime's nominal
 * figures, `nominalDemand` of net/allocation.ts, for the scenario in force — known ahead),
 * `last` (the last window), `ewma` (α tuned on the fit sessions), `last × nominal ratio`
 * (the last window scaled by how the nominal figures change with the scenario), `nGF` (the
 * GAN's mean for the scenario in force), `last × nGF ratio` (the last window scaled by the
 * GAN's ratio of the scenario to come to the one just measured). NMAE and skill as in
 * channel-eval.ts.
 *
 * **Reservation** (aggregate and per group): every H s a reservation is made for the next H
 * windows; a window overflows when its throughput exceeds it. Each method reserves `k ×` its
 * base — `nominal + headroom` (nominal), `ewma`, `last 5 s max`, `nGF mean`, `nGF q99` (the
 * 99th percentile of the GAN's composed windows; the max over the horizon's scenarios) —
 * with `k` fitted on the fit sessions to ≤ 1 % overflow (reported: held-out overflow and
 * reserved / carried), and, for a comparison at exactly equal overflow, `k` bisected on the
 * held-out sessions themselves to 1 % (reported: reserved / carried).
 */
import { nominalDemand } from "../../net/allocation.ts";
import {
  type FlowClass,
  type FlowWindow,
  poseFeatures,
  type TrafficScenario,
} from "../../net/contracts.ts";
import { controlWindows } from "./control-traces.ts";
import { rungIndex } from "./flow-classes.ts";
import { mixSeed } from "./trace-random.ts";
import { quantile } from "./trace-windows.ts";
import { SEED_BASE, TRAIN_GRID, TRAIN_POSES } from "./traffic-sets.ts";
import { twinStateWindows } from "./twin-state-traces.ts";
import { videoWindows } from "./video-traces.ts";
import { ksStatistic } from "../ngf-eval.ts";
import { CLASS_GROUPS, type ClassGroup, groupOf, type TrafficSession } from "./traffic-tasks.ts";

/** What the evaluation needs of the traffic model. */
export interface DemandSampler {
  /** Composed synthetic windows of a scenario: aggregate and per class, bit/s. */
  demandSamples(s: TrafficScenario): {
    aggregate: Float64Array;
    perClass: Map<FlowClass, Float64Array>;
  };
}

type Target = ClassGroup | "aggregate";

interface ScenarioStats {
  mean: Record<Target, number>;
  q99: Record<Target, number>;
}

function statsOf(model: DemandSampler): (s: TrafficScenario) => ScenarioStats {
  const cache = new Map<string, ScenarioStats>();
  return (s) => {
    const key = JSON.stringify(s);
    let st = cache.get(key);
    if (!st) {
      const { aggregate, perClass } = model.demandSamples(s);
      const n = aggregate.length;
      const groups: Record<Target, Float64Array> = {
        twin_state: new Float64Array(n),
        control: new Float64Array(n),
        video: new Float64Array(n),
        aggregate: Float64Array.from(aggregate),
      };
      for (const [cls, series] of perClass) {
        const g = groups[groupOf(cls)];
        series.forEach((v, i) => (g[i] = (g[i] as number) + v));
      }
      const mean = {} as Record<Target, number>;
      const q99 = {} as Record<Target, number>;
      for (const [t, v] of Object.entries(groups) as [Target, Float64Array][]) {
        mean[t] = v.reduce((a, b) => a + b, 0) / Math.max(1, v.length);
        q99[t] = quantile(v, 0.99);
      }
      st = { mean, q99 };
      cache.set(key, st);
    }
    return st;
  };
}

function series(s: TrafficSession, t: Target): readonly number[] {
  return t === "aggregate" ? s.aggregate : s.perGroup[t];
}

function nominalOf(sc: TrafficScenario, t: Target): number {
  const n = nominalDemand(sc);
  return t === "aggregate" ? n.twin_state + n.control + n.video : n[t];
}

function ewma(xs: readonly number[], alpha: number): number[] {
  const out: number[] = [];
  let e = xs[0] ?? 0;
  for (const x of xs) out.push((e = alpha * x + (1 - alpha) * e));
  return out;
}

const FIRST = 5;

/** A point-forecast table (one class group, one horizon). */
export interface DemandTable {
  readonly target: Target;
  readonly horizonS: number;
  readonly decisions: number;
  readonly nmae: Readonly<Record<string, number>>;
  readonly strongestBaseline: string;
  /** Skill of each learned method (`nGF`, `last × nGF ratio`) against each baseline. */
  readonly skill: Readonly<Record<string, Readonly<Record<string, number>>>>;
  readonly ewmaAlpha: number;
}

function pointNmae(
  sessions: readonly TrafficSession[],
  target: Target,
  h: number,
  forecast: (s: TrafficSession, si: number, t: number) => number,
): { nmae: number; n: number } {
  let abs = 0;
  let ref = 0;
  let n = 0;
  sessions.forEach((s, si) => {
    const x = series(s, target);
    for (let t = FIRST; t + h <= x.length; t++) {
      let truth = 0;
      for (let w = t; w < t + h; w++) truth += x[w] as number;
      truth /= h;
      abs += Math.abs(forecast(s, si, t) - truth);
      ref += Math.abs(truth);
      n++;
    }
  });
  return { nmae: ref > 0 ? abs / ref : 0, n };
}

/** Per class group and aggregate, horizons `horizonsS`: the demand tables. */
export function evaluateDemandForecast(
  model: DemandSampler,
  sessions: readonly TrafficSession[],
  fit: readonly TrafficSession[],
  horizonsS: readonly number[] = [1, 5],
): DemandTable[] {
  const stats = statsOf(model);
  const out: DemandTable[] = [];
  for (const target of [...CLASS_GROUPS, "aggregate"] as Target[]) {
    for (const h of horizonsS) {
      let alpha = 1;
      let best = Infinity;
      for (const a of [0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1]) {
        const e = fit.map((s) => ewma(series(s, target), a));
        const r = pointNmae(fit, target, h, (_, si, t) => e[si]![t - 1]!).nmae;
        if (r < best) [best, alpha] = [r, a];
      }
      const e = sessions.map((s) => ewma(series(s, target), alpha));
      const ahead = (s: TrafficSession, t: number, f: (sc: TrafficScenario) => number) => {
        let v = 0;
        for (let w = t; w < t + h; w++) v += f(s.scenarios[w] as TrafficScenario);
        return v / h;
      };
      const methods: [string, (s: TrafficSession, si: number, t: number) => number][] = [
        ["nominal", (s, _, t) => ahead(s, t, (sc) => nominalOf(sc, target))],
        ["last", (s, _, t) => series(s, target)[t - 1]!],
        ["ewma", (_, si, t) => e[si]![t - 1]!],
        [
          "last × nominal ratio",
          (s, _, t) =>
            (series(s, target)[t - 1]! * ahead(s, t, (sc) => nominalOf(sc, target))) /
            Math.max(nominalOf(s.scenarios[t - 1] as TrafficScenario, target), 1e-9),
        ],
        ["nGF", (s, _, t) => ahead(s, t, (sc) => stats(sc).mean[target])],
        [
          "last × nGF ratio",
          (s, _, t) =>
            (series(s, target)[t - 1]! * ahead(s, t, (sc) => stats(sc).mean[target])) /
            Math.max(stats(s.scenarios[t - 1] as TrafficScenario).mean[target], 1e-9),
        ],
      ];
      const nmae: Record<string, number> = {};
      let decisions = 0;
      for (const [name, f] of methods) {
        const r = pointNmae(sessions, target, h, f);
        nmae[name] = round(r.nmae);
        decisions = r.n;
      }
      const baselines = ["nominal", "last", "ewma", "last × nominal ratio"];
      const learned = ["nGF", "last × nGF ratio"];
      const strongest = baselines.reduce((a, b) => (nmae[b]! < nmae[a]! ? b : a));
      out.push({
        target,
        horizonS: h,
        decisions,
        nmae,
        strongestBaseline: strongest,
        skill: Object.fromEntries(
          learned.map((m) => [
            m,
            Object.fromEntries(
              baselines.map((b) => [b, round(1 - nmae[m]! / Math.max(nmae[b]!, 1e-12))]),
            ),
          ]),
        ),
        ewmaAlpha: alpha,
      });
    }
  }
  return out;
}

/** One reservation method's figures. */
export interface ReservationRow {
  readonly method: string;
  /** Headroom factor fitted on the fit sessions (≤ 1 % overflow there). */
  readonly k: number;
  /** Held-out share of windows over the reservation with that k. */
  readonly overflow: number;
  /** Held-out Σ reserved / Σ carried with that k. */
  readonly reservedRatio: number;
  /** Σ reserved / Σ carried at exactly 1 % held-out overflow (k bisected on held-out). */
  readonly reservedRatioAtEqualOverflow: number;
}

export interface ReservationTable {
  readonly target: Target;
  readonly horizonS: number;
  readonly rows: readonly ReservationRow[];
  /** nGF q99's reserved bandwidth at equal overflow, relative to each baseline's: 1 − r/r_b. */
  readonly savingVs: Readonly<Record<string, number>>;
  readonly strongestBaseline: string;
}

/** Overflow share and reserved/carried of `k × base` held for h windows from t = FIRST. */
function reserveRun(
  sessions: readonly TrafficSession[],
  target: Target,
  h: number,
  base: (s: TrafficSession, si: number, t: number) => number,
  k: number,
): { overflow: number; ratio: number } {
  let over = 0;
  let n = 0;
  let reserved = 0;
  let carried = 0;
  sessions.forEach((s, si) => {
    const x = series(s, target);
    for (let t = FIRST; t < x.length; t += h) {
      const r = k * base(s, si, t);
      for (let w = t; w < Math.min(x.length, t + h); w++) {
        if ((x[w] as number) > r) over++;
        n++;
        reserved += r;
        carried += x[w] as number;
      }
    }
  });
  return { overflow: n ? over / n : 0, ratio: carried > 0 ? reserved / carried : 0 };
}

/** Smallest k (to 0.1 %) with overflow ≤ `target` on `sessions`. */
function fitK(
  sessions: readonly TrafficSession[],
  target: Target,
  h: number,
  base: (s: TrafficSession, si: number, t: number) => number,
  overflow = 0.01,
): number {
  let lo = 0.2;
  let hi = 20;
  for (let i = 0; i < 40; i++) {
    const mid = (lo + hi) / 2;
    if (reserveRun(sessions, target, h, base, mid).overflow <= overflow) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** Reservation tables for the aggregate and each group at horizons `horizonsS`. */
export function evaluateReservation(
  model: DemandSampler,
  sessions: readonly TrafficSession[],
  fit: readonly TrafficSession[],
  horizonsS: readonly number[] = [1, 5],
): ReservationTable[] {
  const stats = statsOf(model);
  const out: ReservationTable[] = [];
  for (const target of ["aggregate", ...CLASS_GROUPS] as Target[]) {
    if (target === "video") continue; // video dominates the aggregate (≥ 98 %)
    for (const h of horizonsS) {
      const maxAhead = (s: TrafficSession, t: number, f: (sc: TrafficScenario) => number) => {
        let v = 0;
        for (let w = t; w < Math.min(s.scenarios.length, t + h); w++)
          v = Math.max(v, f(s.scenarios[w] as TrafficScenario));
        return v;
      };
      const lastMax = (s: TrafficSession, t: number) => {
        const x = series(s, target);
        let v = 0;
        for (let w = Math.max(0, t - 5); w < t; w++) v = Math.max(v, x[w] as number);
        return v;
      };
      const ewmaCache = new Map<readonly TrafficSession[], number[][]>();
      const ew = (list: readonly TrafficSession[]) => {
        let e = ewmaCache.get(list);
        if (!e) ewmaCache.set(list, (e = list.map((s) => ewma(series(s, target), 0.3))));
        return e;
      };
      const methods: [
        string,
        (list: readonly TrafficSession[]) => (s: TrafficSession, si: number, t: number) => number,
      ][] = [
        ["nominal + headroom", () => (s, _, t) => maxAhead(s, t, (sc) => nominalOf(sc, target))],
        ["ewma + headroom", (list) => (_, si, t) => ew(list)[si]![t - 1]!],
        ["last 5 s max + headroom", () => (s, _, t) => lastMax(s, t)],
        ["nGF mean + headroom", () => (s, _, t) => maxAhead(s, t, (sc) => stats(sc).mean[target])],
        [
          "last 5 s max × nominal ratio + headroom",
          () => (s, _, t) =>
            (lastMax(s, t) * maxAhead(s, t, (sc) => nominalOf(sc, target))) /
            Math.max(nominalOf(s.scenarios[t - 1] as TrafficScenario, target), 1e-9),
        ],
        ["nGF q99", () => (s, _, t) => maxAhead(s, t, (sc) => stats(sc).q99[target])],
        [
          "last 5 s max × nGF ratio + headroom",
          () => (s, _, t) =>
            (lastMax(s, t) * maxAhead(s, t, (sc) => stats(sc).q99[target])) /
            Math.max(stats(s.scenarios[t - 1] as TrafficScenario).q99[target], 1e-9),
        ],
      ];
      const rows: ReservationRow[] = methods.map(([method, make]) => {
        const k = fitK(fit, target, h, make(fit));
        const held = reserveRun(sessions, target, h, make(sessions), k);
        const kEq = fitK(sessions, target, h, make(sessions));
        const eq = reserveRun(sessions, target, h, make(sessions), kEq);
        return {
          method,
          k: round(k, 3),
          overflow: round(held.overflow),
          reservedRatio: round(held.ratio),
          reservedRatioAtEqualOverflow: round(eq.ratio),
        };
      });
      const model = rows.find((r) => r.method === "nGF q99") as ReservationRow;
      const baselines = rows.filter((r) => !r.method.includes("nGF"));
      const strongest = baselines.reduce((a, b) =>
        b.reservedRatioAtEqualOverflow < a.reservedRatioAtEqualOverflow ? b : a,
      );
      out.push({
        target,
        horizonS: h,
        rows,
        savingVs: Object.fromEntries(
          baselines.map((b) => [
            b.method,
            round(1 - model.reservedRatioAtEqualOverflow / b.reservedRatioAtEqualOverflow),
          ]),
        ),
        strongestBaseline: strongest.method,
      });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Generative side: synthetic traces against held-out traces

/** What the fidelity check needs: synthetic windows of one flow. */
export interface TraceSynthesizer {
  synthesize(flowClass: FlowClass, scenario: TrafficScenario, n: number): FlowWindow[];
}

/** Statistics of a throughput series. */
export interface TraceStats {
  readonly mean: number;
  /** Lag-1 and lag-5 autocorrelation. */
  readonly acf1: number;
  readonly acf5: number;
  /** Mean run length (windows) above the held-out trace's 90th percentile. */
  readonly burstLength: number;
}

function acf(x: readonly number[], lag: number): number {
  const n = x.length;
  const m = x.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    den += (x[i]! - m) ** 2;
    if (i + lag < n) num += (x[i]! - m) * (x[i + lag]! - m);
  }
  return den > 0 ? num / den : 0;
}

function burstLength(x: readonly number[], threshold: number): number {
  let runs = 0;
  let total = 0;
  let cur = 0;
  for (const v of x) {
    if (v > threshold) cur++;
    else if (cur) {
      runs++;
      total += cur;
      cur = 0;
    }
  }
  if (cur) {
    runs++;
    total += cur;
  }
  return runs ? total / runs : 0;
}

function traceStats(x: readonly number[], threshold: number): TraceStats {
  return {
    mean: round(x.reduce((a, b) => a + b, 0) / x.length, 0),
    acf1: round(acf(x, 1), 3),
    acf5: round(acf(x, 5), 3),
    burstLength: round(burstLength(x, threshold), 2),
  };
}

export interface FidelityRow {
  readonly flowClass: FlowClass;
  readonly scenario: TrafficScenario;
  readonly heldOut: TraceStats;
  /** The GAN's windows in the order it draws them. */
  readonly gan: TraceStats & { readonly ks: number };
  /** A training recording of the nearest trained scenario, replayed (no ML). */
  readonly nearestTraining: TraceStats & { readonly ks: number };
}

function nearest(values: readonly number[], v: number): number {
  return values.reduce((a, b) => (Math.abs(b - v) < Math.abs(a - v) ? b : a));
}

/**
 * For each scenario and class: a held-out trace of `windows` 1 s windows against the GAN's
 * windows and against a training-seed trace of the nearest trained scenario (no ML).
 */
export function evaluateTraceFidelity(
  model: TraceSynthesizer,
  scenarios: readonly TrafficScenario[],
  windows = 120,
): FidelityRow[] {
  const out: FidelityRow[] = [];
  scenarios.forEach((s, si) => {
    const classes: FlowClass[] = ["twin_state", "control"];
    if (s.videoRung) classes.push(`video_${s.videoRung}`);
    for (const flowClass of classes) {
      const gen = (seed: number, sc: TrafficScenario): FlowWindow[] =>
        flowClass === "twin_state"
          ? twinStateWindows({
              arms: sc.arms,
              operators: sc.headsets,
              patchRateHz: sc.patchRateHz,
              headsetRateHz: poseFeatures(sc).poseRateHz,
              handsShare: poseFeatures(sc).handsShare,
              windows,
              seed,
            })
          : flowClass === "control"
            ? controlWindows({ windows, seed, ...poseFeatures(sc) })
            : videoWindows({ rung: sc.videoRung as string, windows, seed });
      const held = gen(mixSeed(SEED_BASE.heldOut, 77, si, classes.indexOf(flowClass)), s).map(
        (w) => w.throughputBps,
      );
      const near: TrafficScenario = {
        ...s,
        arms: nearest(TRAIN_GRID.arms, s.arms),
        headsets: nearest(TRAIN_GRID.headsets, s.headsets),
        patchRateHz: nearest(TRAIN_GRID.patchRateHz, s.patchRateHz),
        poseRateHz: nearest(TRAIN_POSES.poseRateHz, poseFeatures(s).poseRateHz),
        handsShare: nearest(TRAIN_POSES.handsShare, poseFeatures(s).handsShare),
      };
      const trainSeed =
        flowClass === "twin_state"
          ? mixSeed(SEED_BASE.train, near.arms, near.headsets, near.patchRateHz)
          : flowClass === "control"
            ? mixSeed(SEED_BASE.train, 7, si)
            : mixSeed(SEED_BASE.train, 11, rungIndex(s.videoRung), si);
      const train = gen(trainSeed, near).map((w) => w.throughputBps);
      // The GAN draws independent windows (no time structure); its output is grouped by
      // generator, so it is shuffled (seeded) into the order a consumer would see.
      const gan = shuffle(
        model.synthesize(flowClass, s, windows).map((w) => w.throughputBps),
        mixSeed(si, 0x5eed),
      );
      const threshold = quantile(held, 0.9);
      out.push({
        flowClass,
        scenario: s,
        heldOut: traceStats(held, threshold),
        gan: { ...traceStats(gan, threshold), ks: round(ksStatistic(gan, held), 3) },
        nearestTraining: {
          ...traceStats(train, threshold),
          ks: round(ksStatistic(train, held), 3),
        },
      });
    }
  });
  return out;
}

function shuffle(xs: number[], seed: number): number[] {
  let h = seed >>> 0 || 1;
  for (let i = xs.length - 1; i > 0; i--) {
    h = (Math.imul(h, 1664525) + 1013904223) >>> 0;
    const j = h % (i + 1);
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}

function round(v: number, d = 4): number {
  return Math.round(v * 10 ** d) / 10 ** d;
}
