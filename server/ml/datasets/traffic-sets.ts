/**
 * The traffic data sets: training and validation traces over the scenario grid, the
 * held-out evaluation scenarios, and scenario measurement (every flow of a cell composed
 * into its aggregate demand). Every trace is cut into fixed windows ({@link FlowWindow}):
 * throughput (bit/s), mean packet/frame size (bytes) and mean inter-arrival = window
 * length / packets (s), the same definitions the live `TrafficMeter` uses
 * (`net/flow-window.ts`).
 */
import {
  type FlowClass,
  type FlowWindow,
  poseFeatures,
  type TrafficScenario,
} from "../../net/contracts.ts";
import { controlWindows } from "./control-traces.ts";
import { rungIndex, VIDEO_LADDER, videoClass } from "./flow-classes.ts";
import { mixSeed, Rng } from "./trace-random.ts";
import { mean, quantile } from "./trace-windows.ts";
import { twinStateWindows } from "./twin-state-traces.ts";
import { videoWindows } from "./video-traces.ts";

/** A flow's windows and the scenario they were generated under. */
export interface FlowTrace {
  readonly flowClass: FlowClass;
  readonly scenario: TrafficScenario;
  readonly windows: readonly FlowWindow[];
}

/** Changes to the traffic environment that the models have not seen (for adaptation). */
export interface TrafficShift {
  /** Video encoder bitrate multiplier (e.g. 1.3: a codec 30 % hungrier). */
  readonly videoBitrateScale?: number;
  /** State patches carry this many times the headsets' operators (e.g. 2). */
  readonly operatorFactor?: number;
}

/** Seed bases: training, validation (checkpoint choice) and held-out evaluation. */
export const SEED_BASE = { train: 1, validation: 500_000, heldOut: 1_000_000 } as const;

/** The scenario grid the shipped model is trained on. */
export const TRAIN_GRID = {
  arms: [1, 2, 3, 4],
  headsets: [1, 2, 4, 6, 8],
  patchRateHz: [20, 30, 60, 90],
} as const;

/**
 * Headset pose behaviour the training traces draw from (per twin_state trace, at random;
 * every pair for the control traces): pose rates, Hz (a 30 Hz head-only SDK client up to a
 * 90 Hz headset), and hand-controller shares (head only, half, always).
 */
export const TRAIN_POSES = {
  poseRateHz: [20, 30, 45, 60, 72, 90],
  handsShare: [0, 0.5, 1],
} as const;

/** Pose behaviour of the validation and held-out scenarios: values not in {@link TRAIN_POSES}. */
export const HELD_OUT_POSES = {
  poseRateHz: [36, 50, 80],
  handsShare: [0.25, 0.75],
} as const;

/**
 * Held-out scenarios: headset counts and patch rates not in {@link TRAIN_GRID} (3, 5, 7
 * headsets; 45 and 72 Hz), pose rates and hands shares not in {@link TRAIN_POSES}
 * ({@link HELD_OUT_POSES}, cycled), every arm count, with and without video, on seeds from
 * {@link SEED_BASE.heldOut}.
 */
export function heldOutScenarios(): TrafficScenario[] {
  const out: TrafficScenario[] = [];
  const rungs: (string | null)[] = [null, ...VIDEO_LADDER.map((r) => r.name)];
  const { poseRateHz: rates, handsShare: hands } = HELD_OUT_POSES;
  let i = 0;
  for (const arms of [1, 2, 3, 4])
    for (const headsets of [3, 5, 7])
      for (const patchRateHz of [45, 72]) {
        out.push({
          arms,
          headsets,
          patchRateHz,
          videoRung: rungs[i % rungs.length] ?? null,
          poseRateHz: rates[i % rates.length] as number,
          handsShare: hands[Math.floor(i / rates.length) % hands.length] as number,
        });
        i++;
      }
  return out;
}

/** Options of {@link trainingTraces}. */
export interface TrainingSetOptions {
  /** Windows per twin_state trace (one per grid scenario). */
  readonly twinWindows: number;
  /** Control traces (one operator each) and windows per trace. */
  readonly controlTraces: number;
  readonly controlWindows: number;
  /** Video traces per rung and windows per trace. */
  readonly videoTraces: number;
  readonly videoWindows: number;
  readonly seedBase: number;
  readonly grid?: {
    readonly arms: readonly number[];
    readonly headsets: readonly number[];
    readonly patchRateHz: readonly number[];
  };
  /** Pose rates and hands shares drawn from (default {@link TRAIN_POSES}). */
  readonly poses?: {
    readonly poseRateHz: readonly number[];
    readonly handsShare: readonly number[];
  };
  /** twin_state traces per grid scenario, each with its own pose draw (default 2). */
  readonly twinDraws?: number;
  /** Called after each trace (progress). */
  readonly onTrace?: (done: number, total: number) => void;
}

/**
 * Generates the training (or validation) traces of every class: `twinDraws` twin_state
 * traces per grid scenario, each with a pose rate and hands share drawn (seeded) from
 * `poses`; control traces cycling through every (pose rate, hands share) pair.
 */
export function trainingTraces(o: TrainingSetOptions): FlowTrace[] {
  const grid = o.grid ?? TRAIN_GRID;
  const poses = o.poses ?? TRAIN_POSES;
  const draws = o.twinDraws ?? 2;
  const out: FlowTrace[] = [];
  const total =
    grid.arms.length * grid.headsets.length * grid.patchRateHz.length * draws +
    o.controlTraces +
    o.videoTraces * VIDEO_LADDER.length;
  const done = (): void => o.onTrace?.(out.length, total);
  for (const arms of grid.arms)
    for (const headsets of grid.headsets)
      for (const patchRateHz of grid.patchRateHz)
        for (let d = 0; d < draws; d++) {
          const seed = mixSeed(o.seedBase, arms, headsets, patchRateHz, d);
          const pick = new Rng(mixSeed(seed, 0x905e));
          const scenario: TrafficScenario = {
            arms,
            headsets,
            patchRateHz,
            videoRung: null,
            poseRateHz: poses.poseRateHz[pick.int(poses.poseRateHz.length)] as number,
            handsShare: poses.handsShare[pick.int(poses.handsShare.length)] as number,
          };
          const windows = twinStateWindows({
            arms,
            operators: headsets,
            patchRateHz,
            headsetRateHz: scenario.poseRateHz,
            handsShare: scenario.handsShare,
            windows: o.twinWindows,
            seed,
          });
          out.push({ flowClass: "twin_state", scenario, windows });
          done();
        }
  const none: TrafficScenario = { arms: 1, headsets: 1, patchRateHz: 60, videoRung: null };
  const pairs = poses.poseRateHz.flatMap((poseRateHz) =>
    poses.handsShare.map((handsShare) => ({ poseRateHz, handsShare })),
  );
  for (let i = 0; i < o.controlTraces; i++) {
    const pose = pairs[i % pairs.length] as { poseRateHz: number; handsShare: number };
    const windows = controlWindows({
      windows: o.controlWindows,
      seed: mixSeed(o.seedBase, 7, i),
      ...pose,
    });
    out.push({ flowClass: "control", scenario: { ...none, ...pose }, windows });
    done();
  }
  for (const rung of VIDEO_LADDER)
    for (let i = 0; i < o.videoTraces; i++) {
      const windows = videoWindows({
        rung: rung.name,
        windows: o.videoWindows,
        seed: mixSeed(o.seedBase, 11, rungIndex(rung.name), i),
      });
      out.push({
        flowClass: videoClass(rung.name),
        scenario: { ...none, videoRung: rung.name },
        windows,
      });
      done();
    }
  return out;
}

/** What a scenario carried, measured from generated traces. */
export interface MeasuredScenario {
  readonly scenario: TrafficScenario;
  /** Per class: every flow's windows (twin_state: one flow, received by every headset). */
  readonly flows: ReadonlyMap<FlowClass, readonly (readonly FlowWindow[])[]>;
  /** Aggregate demand per window, bit/s. */
  readonly aggregateBps: readonly number[];
  /** Mean and 95th percentile of the aggregate, bit/s. */
  readonly meanBps: number;
  readonly p95Bps: number;
  /** Per class: the class's aggregate (sum over its flows), mean and p95, bit/s. */
  readonly perClass: readonly { flowClass: FlowClass; meanBps: number; p95Bps: number }[];
}

/**
 * Runs a scenario: one twin_state flow to each of `headsets` headsets (the same frames),
 * one control flow from each headset (every operator at the scenario's pose rate and hands
 * share, defaults when absent) and, with a rung, one video stream to each headset;
 * aggregate per window = headsets × twin_state + Σ control + Σ video.
 */
export function measureScenario(
  scenario: TrafficScenario,
  opts: { windows: number; seed: number; shift?: TrafficShift; windowS?: number },
): MeasuredScenario {
  const { windows, seed } = opts;
  const shift = opts.shift ?? {};
  const h = scenario.headsets;
  const { poseRateHz, handsShare } = poseFeatures(scenario);
  const flows = new Map<FlowClass, FlowWindow[][]>();
  const twin = twinStateWindows({
    arms: scenario.arms,
    operators: Math.round(h * (shift.operatorFactor ?? 1)),
    patchRateHz: scenario.patchRateHz,
    headsetRateHz: poseRateHz,
    handsShare,
    windows,
    seed: mixSeed(seed, 1),
    ...(opts.windowS !== undefined && { windowS: opts.windowS }),
  });
  flows.set("twin_state", [twin]);
  const control: FlowWindow[][] = [];
  for (let k = 0; k < h; k++)
    control.push(
      controlWindows({
        windows,
        seed: mixSeed(seed, 2, k),
        poseRateHz,
        handsShare,
        ...(opts.windowS !== undefined && { windowS: opts.windowS }),
      }),
    );
  flows.set("control", control);
  if (scenario.videoRung !== null) {
    const video: FlowWindow[][] = [];
    for (let k = 0; k < h; k++)
      video.push(
        videoWindows({
          rung: scenario.videoRung,
          windows,
          seed: mixSeed(seed, 3, k),
          bitrateScale: shift.videoBitrateScale ?? 1,
          ...(opts.windowS !== undefined && { windowS: opts.windowS }),
        }),
      );
    flows.set(videoClass(scenario.videoRung), video);
  }
  const perClassSeries = new Map<FlowClass, number[]>();
  for (const [cls, fl] of flows) {
    const series = new Array<number>(windows).fill(0);
    const copies = cls === "twin_state" ? h : 1;
    for (const f of fl)
      f.forEach((w, i) => (series[i] = (series[i] as number) + copies * w.throughputBps));
    perClassSeries.set(cls, series);
  }
  const aggregate = new Array<number>(windows).fill(0);
  for (const s of perClassSeries.values())
    s.forEach((v, i) => (aggregate[i] = (aggregate[i] as number) + v));
  return {
    scenario,
    flows,
    aggregateBps: aggregate,
    meanBps: mean(aggregate),
    p95Bps: quantile(aggregate, 0.95),
    perClass: [...perClassSeries].map(([flowClass, s]) => ({
      flowClass,
      meanBps: mean(s),
      p95Bps: quantile(s, 0.95),
    })),
  };
}
