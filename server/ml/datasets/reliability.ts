/**
 * Scenarios where streaming reliability is at stake, and a trace-driven player to run
 * strategies on them. Pure (no TensorFlow.js): the models come in through
 * {@link StrategyModels}. Truth: the project's channel model with fading redrawn every tick.
 *
 * One tagged headset streams 360° video in 1 s segments (the project's VBR traces of each
 * rung: a segment's size is its 1 s window's bits) into a buffer of 4 s (`buffered`) or 2 s
 * (`live`, {@link BUFFER_PRESETS}); playback starts and resumes at 1 s of buffer. The
 * cell's `N` headsets share the downlink: under a fair scheduler each gets 1/N of every
 * band's capacity (every headset is full-buffer). What the tagged headset can download =
 * min(Σ capacity share of its bands, its network reservation). Requests start on 10 ms
 * player ticks; playback and stalls run in continuous time within a tick; the channel is
 * redrawn every 0.5 s.
 *
 * Scenarios (each 60 s; the change at 20 s):
 * - `arm-plan-through-los`: an approved plan moves the arm into the headset's line of sight
 *   for 8 s (3 s in, 8 s held, 3 s out); 24 headsets, 6k wanted.
 * - `crowd-arriving`: 12 → 30 headsets (announced by matchmaking 2 s ahead); 6k wanted.
 * - `band-degrading`: interference on the three n78 carriers rises by 12 dB over 4 s (a
 *   neighbouring cell; no model sees it coming); 24 headsets, 6k wanted.
 * - `8k-requested`: the user asks for 8k (from 4k); 24 headsets.
 *
 * Strategies (see {@link coordinatedStrategy}, {@link uncoordinatedStrategy}).
 */
import type { Vec3 } from "../../../shared/geometry.ts";
import { allocateCoordinated, DEFAULT_LADDER, rungBitrate } from "../../net/allocation.ts";
import { DEFAULT_BANDS } from "../../net/bands.ts";
import { capacityFromSnr, computeChannel } from "../../net/channel-model.ts";
import type { ArmGeometry, BandChannel, RadioEnvironment } from "../../net/contracts.ts";
import { generateEnvironment, GNB_POSITION } from "../../net/environments.ts";
import { mixSeed } from "./trace-random.ts";
import { videoWindows } from "./video-traces.ts";
import type { ArmKinematics } from "../../sim/kinematics.ts";
import { seededRandom } from "../../sim/random.ts";
import { smoothstep, tryPlanThroughLos } from "./channel-tasks.ts";

/** Player tick, s. */
export const PLAYER_DT_S = 0.01;
/** Channel tick, s. */
export const CHANNEL_DT_S = 0.5;
const SEGMENT_S = 1;
const RESUME_S = 1;

/**
 * How much video the player may hold ahead of the playhead, s: it is also how far behind
 * live the headset plays. `buffered` (4 s) suits a 360° session that may lag the event by
 * seconds; `live` (2 s) is a session where the headset watches the real cell it steers
 * (the live camera over the arm), where more than about 2 s of lag makes the picture
 * useless for supervising the motion.
 */
export const BUFFER_PRESETS = { buffered: 4, live: 2 } as const;
export type BufferPreset = keyof typeof BUFFER_PRESETS;

/** Options of {@link runPlayer}. */
export interface PlayerOptions {
  /** Buffer target and cap, s (≥ 2: one segment downloading while one plays). */
  readonly bufferMaxS: number;
}
/** State patches and control of the tagged link, bit/s (measured scale, see traffic tables). */
const BASE_DEMAND_BPS = 2e6;
const DOWNLINK = DEFAULT_BANDS.map((b, i) => ({ b, i })).filter(
  ({ b }) => b.direction === "downlink",
);

export type ReliabilityKind =
  "arm-plan-through-los" | "crowd-arriving" | "band-degrading" | "8k-requested";
export const RELIABILITY_KINDS: readonly ReliabilityKind[] = [
  "arm-plan-through-los",
  "crowd-arriving",
  "band-degrading",
  "8k-requested",
];

/** One channel tick of a scenario. */
export interface ScenarioTick {
  readonly env: RadioEnvironment;
  readonly headsets: number;
  readonly wanted: string;
  /** Extra interference per band (model order), dB — unknown to every model. */
  readonly degradeDb: readonly number[];
}

export interface ReliabilityScenario {
  readonly kind: ReliabilityKind;
  readonly seed: number;
  /** Channel ticks every {@link CHANNEL_DT_S}. */
  readonly ticks: readonly ScenarioTick[];
  /** Ticks ahead the controller knows (plans, joins, requests): 2 s for joins, all for plans. */
  readonly knownAheadTicks: number;
  /** True per-headset capacity per band (model order) of every tick, bit/s. */
  readonly capacity: readonly Float64Array[];
  /** Segment size of every rung, bits, for every second. */
  readonly segmentBits: Readonly<Record<string, readonly number[]>>;
}

const DURATION_S = 60;
const CHANGE_S = 20;

function armThroughLos(
  kin: ArmKinematics,
  seed: number,
): { at: (u: number) => ArmGeometry; head: Vec3; others: ArmGeometry[] } {
  for (let index = 0; index < 200; index++) {
    const base = generateEnvironment(kin, seed, index);
    const main = base.arms[0] as ArmGeometry;
    const others = base.arms.slice(1);
    const plan = tryPlanThroughLos(kin, main, others, seededRandom(mixSeed(seed, index, 91)), 1);
    if (plan) return { ...plan, others };
  }
  throw new Error("no arm plan through the line of sight found");
}

/**
 * A scenario of `kind` built on seed `seed` (geometry, fading and video traces all seeded).
 */
export function reliabilityScenario(
  kin: ArmKinematics,
  kind: ReliabilityKind,
  seed: number,
): ReliabilityScenario {
  const n = Math.round(DURATION_S / CHANNEL_DT_S);
  const nb = DEFAULT_BANDS.length;
  const zero = new Array<number>(nb).fill(0);
  const ticks: ScenarioTick[] = [];
  if (kind === "arm-plan-through-los") {
    const { at, head, others } = armThroughLos(kin, seed);
    for (let i = 0; i < n; i++) {
      const t = i * CHANNEL_DT_S - CHANGE_S;
      const u = t < 3 ? smoothstep(t / 3) : t < 11 ? 1 : smoothstep((14 - t) / 3);
      ticks.push({
        env: { gnb: { ...GNB_POSITION }, headset: head, arms: [at(u), ...others] },
        headsets: 24,
        wanted: "6k",
        degradeDb: zero,
      });
    }
  } else {
    let env: RadioEnvironment | undefined;
    for (let index = 0; !env; index++) {
      const e = generateEnvironment(kin, seed, index);
      // A clear line of sight at the start, so the change is what the scenario adds.
      const clear = computeChannel(e, DEFAULT_BANDS, { seed: 1, fading: false });
      if ((clear[5]?.snrDb ?? 0) > 25 || index > 50) env = e;
    }
    for (let i = 0; i < n; i++) {
      const t = i * CHANNEL_DT_S;
      const after = t >= CHANGE_S;
      const ramp = Math.min(1, Math.max(0, (t - CHANGE_S) / 4));
      ticks.push({
        env,
        headsets: kind === "crowd-arriving" ? (after ? 30 : 12) : 24,
        wanted: kind === "8k-requested" ? (after ? "8k" : "4k") : "6k",
        degradeDb:
          kind === "band-degrading"
            ? DEFAULT_BANDS.map((b) =>
                b.id === "dl-1" || b.id === "dl-2" || b.id === "dl-3" ? 12 * ramp : 0,
              )
            : zero,
      });
    }
  }
  const capacity = ticks.map((tk, i) => {
    const ch = computeChannel(tk.env, DEFAULT_BANDS, {
      seed: mixSeed(seed, 0xcafe, i),
      fading: true,
    });
    return Float64Array.from(ch, (c, b) => {
      const band = DEFAULT_BANDS[b];
      const sc = c.subcarrierSnrDb ?? [c.snrDb];
      const deg = tk.degradeDb[b] ?? 0;
      const cap = band
        ? capacityFromSnr(
            sc.map((v) => v - deg),
            band.bandwidthHz,
          )
        : 0;
      return cap / tk.headsets;
    });
  });
  const segmentBits: Record<string, number[]> = {};
  for (const r of DEFAULT_LADDER)
    segmentBits[r.name] = videoWindows({
      rung: r.name,
      windows: DURATION_S + 5,
      seed: mixSeed(seed, 0x51de0, r.bitrateBps),
    }).map((w) => w.throughputBps * SEGMENT_S);
  return {
    kind,
    seed,
    ticks,
    knownAheadTicks: kind === "crowd-arriving" ? Math.round(2 / CHANNEL_DT_S) : n,
    capacity,
    segmentBits,
  };
}

/** What a strategy sees when it picks the next segment. */
export interface DecisionContext {
  readonly timeS: number;
  readonly tick: number;
  readonly bufferS: number;
  /** The player's buffer cap, s ({@link PlayerOptions.bufferMaxS}). */
  readonly bufferMaxS: number;
  /** Download rates of the past segments, bit/s (newest last). */
  readonly segmentRates: readonly number[];
  /** Bits per second of the segments downloaded in the last 5 s (the measured demand). */
  readonly recentDemandBps: readonly number[];
  /** Per band, the per-headset capacity reported over the last second (CQI), bit/s. */
  readonly measuredCapacity: Float64Array;
  readonly currentRung: string | null;
  readonly scenario: ReliabilityScenario;
}

export interface Decision {
  readonly rung: string;
  /** Downlink band indices (model order) carrying the link. */
  readonly bands: readonly number[];
  readonly reservedBps: number;
}

export interface Strategy {
  readonly name: string;
  decide(ctx: DecisionContext): Decision;
}

/** Figures of one run. */
export interface RunResult {
  readonly stalls: number;
  readonly stallS: number;
  readonly meanBitrateBps: number;
  readonly switches: number;
  /** Σ carried / Σ true capacity share of the assigned bands. */
  readonly spectrumUtilisation: number;
  /** Σ carried / Σ reserved. */
  readonly bandwidthUtilisation: number;
  /** Wall time of decisions, ms. */
  readonly decisionMs: readonly number[];
}

/** Plays `scenario` with `strategy` into a buffer of `options.bufferMaxS` (default 4 s). */
export function runPlayer(
  scenario: ReliabilityScenario,
  strategy: Strategy,
  options: PlayerOptions = { bufferMaxS: BUFFER_PRESETS.buffered },
): RunResult {
  const bufferMaxS = options.bufferMaxS;
  if (!Number.isFinite(bufferMaxS) || bufferMaxS < SEGMENT_S + RESUME_S)
    throw new RangeError(`bufferMaxS must be ≥ ${SEGMENT_S + RESUME_S} s, got ${bufferMaxS}`);
  const steps = Math.round(DURATION_S / PLAYER_DT_S);
  const perTick = Math.round(CHANNEL_DT_S / PLAYER_DT_S);
  let buffer = 0;
  let playing = false;
  let started = false;
  let stalls = 0;
  let stallS = 0;
  let switches = 0;
  let played = 0;
  let playedS = 0;
  let carried = 0;
  let spectrum = 0;
  let reservedSum = 0;
  let segment = 0;
  let dl: { rung: string; left: number; bits: number; t0: number; d: Decision } | null = null;
  let current: string | null = null;
  let lastDecision: Decision | null = null;
  const rates: number[] = [];
  const demand: { t: number; bps: number }[] = [];
  const decisionMs: number[] = [];
  const queue: string[] = [];
  for (let s = 0; s < steps; s++) {
    const t = s * PLAYER_DT_S;
    const tick = Math.min(scenario.ticks.length - 1, Math.floor(s / perTick));
    if (!dl && buffer + SEGMENT_S <= bufferMaxS + 1e-9) {
      const measured = new Float64Array(DEFAULT_BANDS.length);
      const from = Math.max(0, tick - 2);
      const to = Math.max(0, tick - 1);
      for (let k = from; k <= to; k++)
        scenario.capacity[k]?.forEach(
          (v, b) => (measured[b] = (measured[b] as number) + v / (to - from + 1)),
        );
      const t0 = performance.now();
      const d = strategy.decide({
        timeS: t,
        tick,
        bufferS: buffer,
        bufferMaxS,
        segmentRates: rates,
        recentDemandBps: demand.filter((x) => x.t > t - 5).map((x) => x.bps),
        measuredCapacity: measured,
        currentRung: current,
        scenario,
      });
      decisionMs.push(performance.now() - t0);
      const bits = scenario.segmentBits[d.rung]?.[segment] ?? rungBitrate(d.rung);
      if (current !== null && d.rung !== current) switches++;
      current = d.rung;
      dl = { rung: d.rung, left: bits, bits, t0: t, d };
      lastDecision = d;
    }
    const d = dl?.d ?? lastDecision;
    const cap = scenario.capacity[tick] as Float64Array;
    const share = d ? d.bands.reduce((a, b) => a + (cap[b] as number), 0) : 0;
    const rate = d ? Math.min(share, d.reservedBps) : 0;
    if (d) {
      spectrum += share * PLAYER_DT_S;
      reservedSum += d.reservedBps * PLAYER_DT_S;
    }
    // Where in this tick (s from its start) a finished segment lands in the buffer.
    let landsAt: number | null = null;
    let landing = "";
    if (dl) {
      const got = Math.min(dl.left, rate * PLAYER_DT_S);
      const done = dl.left - got <= 1e-6;
      if (done) landsAt = rate > 0 ? Math.min(PLAYER_DT_S, dl.left / rate) : PLAYER_DT_S;
      dl.left -= got;
      carried += got;
      if (done) {
        const took = Math.max(1e-3, t + (landsAt as number) - dl.t0);
        rates.push(dl.bits / took);
        demand.push({ t, bps: dl.bits / SEGMENT_S });
        landing = dl.rung;
        segment++;
        dl = null;
      }
    }
    // Playback in continuous time within the tick: a stall lasts from the moment the
    // buffer runs dry until it again holds RESUME_S, to the ms, not to the tick.
    let clock = 0;
    while (clock < PLAYER_DT_S - 1e-12) {
      const lands = landsAt ?? Infinity;
      if (playing) {
        const until = Math.min(PLAYER_DT_S, lands, clock + buffer);
        const run = until - clock;
        buffer -= run;
        played += rungBitrate(queue[0] ?? current ?? "1080p") * run;
        playedS += run;
        clock = until;
        if (clock >= lands - 1e-12) {
          buffer += SEGMENT_S;
          queue.push(landing);
          landsAt = null;
        } else if (buffer <= 1e-9 && clock < PLAYER_DT_S - 1e-12) {
          buffer = 0;
          playing = false;
          stalls++;
        }
      } else if (buffer >= RESUME_S - 1e-9) {
        playing = true;
        started = true;
      } else {
        const until = Math.min(PLAYER_DT_S, lands);
        if (started) stallS += until - clock;
        clock = until;
        if (clock >= lands - 1e-12) {
          buffer += SEGMENT_S;
          queue.push(landing);
          landsAt = null;
        }
      }
    }
    // Segments leave the queue as they are played.
    while (queue.length > Math.ceil(buffer / SEGMENT_S) + 1) queue.shift();
  }
  return {
    stalls,
    stallS: Math.round(stallS * 1000) / 1000,
    meanBitrateBps: playedS > 0 ? played / playedS : 0,
    switches,
    spectrumUtilisation: spectrum > 0 ? carried / spectrum : 0,
    bandwidthUtilisation: reservedSum > 0 ? carried / reservedSum : 0,
    decisionMs,
  };
}

// ---------------------------------------------------------------------------------------
// Strategies

/** Ladder rungs, lowest first. */
const RUNGS = DEFAULT_LADDER.map((r) => r.name);

function capAt(rung: string, wanted: string): string {
  const w = RUNGS.indexOf(wanted);
  const i = RUNGS.indexOf(rung);
  return RUNGS[Math.min(i, w)] as string;
}

/**
 * The smaller of a fast and a slow EWMA of segment download rates, bit/s (half-lives in
 * segments), fed from {@link DecisionContext.segmentRates} as they grow; 0 before any.
 */
function downloadRateEstimate(fastHalfLife: number, slowHalfLife: number) {
  const aFast = 1 - 0.5 ** (1 / fastHalfLife);
  const aSlow = 1 - 0.5 ** (1 / slowHalfLife);
  let fast = 0;
  let slow = 0;
  let seen = 0;
  return (rates: readonly number[]): number => {
    while (seen < rates.length) {
      const r = rates[seen++] as number;
      fast = fast ? aFast * r + (1 - aFast) * fast : r;
      slow = slow ? aSlow * r + (1 - aSlow) * slow : r;
    }
    return Math.min(fast, slow);
  };
}

/**
 * An uncoordinated stack's decision for `rung`: capped by the user's wish, proportional
 * fair over all five downlink carriers, reservation = (max(measured demand of the last
 * 5 s, the rung's bitrate) + state and control) × `headroom`.
 */
function uncoordinatedDecision(ctx: DecisionContext, rung: string, headroom: number): Decision {
  const wanted = capAt(rung, (ctx.scenario.ticks[ctx.tick] as ScenarioTick).wanted);
  const measured = ctx.recentDemandBps.length
    ? Math.max(...ctx.recentDemandBps)
    : rungBitrate(wanted);
  return {
    rung: wanted,
    bands: DOWNLINK.map((d) => d.i),
    reservedBps: (Math.max(measured, rungBitrate(wanted)) + BASE_DEMAND_BPS) * headroom,
  };
}

/**
 * The strongest uncoordinated stack we could build honestly:
 * - ABR: dash.js's DYNAMIC rule — throughput rule (highest rung ≤ 0.9 × the smaller of a
 *   fast and a slow EWMA of segment download rates, half-lives 3 and 8 segments) while the
 *   buffer is below half its target, BOLA-BASIC (Spiteri et al. 2016; utilities ln(S/S₁),
 *   γp = 1 s, V from the buffer target) above it; capped by the user's wish.
 * - Bands: proportional fair over all five downlink carriers (the fair share of each).
 * - Network: reservation = measured demand (max segment bitrate of the last 5 s) × (1 + h),
 *   h = 1 so that the ABR can climb one rung (ladder steps are ≤ 1.8×).
 */
export function uncoordinatedStrategy(): Strategy {
  const estimate = downloadRateEstimate(3, 8);
  return {
    name: "uncoordinated: BOLA/throughput ABR + PF bands + measured demand ×2",
    decide(ctx) {
      const est = estimate(ctx.segmentRates);
      let rung: string;
      if (!ctx.segmentRates.length) rung = RUNGS[0] as string;
      else if (ctx.bufferS < ctx.bufferMaxS / 2) {
        rung = RUNGS[0] as string;
        for (const r of DEFAULT_LADDER)
          if (r.bitrateBps + BASE_DEMAND_BPS <= 0.9 * est) rung = r.name;
      } else {
        const s1 = rungBitrate(RUNGS[0] as string);
        const gp = 1;
        const qMax = ctx.bufferMaxS / SEGMENT_S;
        const uMax = Math.log(rungBitrate(RUNGS[RUNGS.length - 1] as string) / s1);
        const v = (qMax - 1) / (uMax + gp);
        let best = -Infinity;
        rung = RUNGS[0] as string;
        for (const r of DEFAULT_LADDER) {
          const score =
            (v * (Math.log(r.bitrateBps / s1) + gp) - ctx.bufferS / SEGMENT_S) / r.bitrateBps;
          if (score > best) [best, rung] = [score, r.name];
        }
      }
      return uncoordinatedDecision(ctx, rung, 2);
    },
  };
}

/**
 * The second uncoordinated stack: hls.js's default ABR on live streams (abr-controller with
 * `abrEwmaFastLive` 3, `abrEwmaSlowLive` 9, `abrBandWidthFactor` 0.95,
 * `abrBandWidthUpFactor` 0.7): the bandwidth estimate is the smaller of a fast and a slow
 * EWMA of segment download rates (half-lives here in segments, 1 s of media each); a rung
 * at or below the current one must fit 0.95 × the estimate, a higher one 0.7 × it. It
 * climbs more cautiously than the throughput rule above and never uses the buffer level.
 * Bands as {@link uncoordinatedStrategy}; the reservation is measured demand × 2.6, the
 * least headroom that lets a 0.7 up-factor climb the ladder's largest step (1.8×): with
 * × 2 the download rate, capped by the reservation, never shows room for the next rung.
 */
export function hlsjsStrategy(): Strategy {
  const estimate = downloadRateEstimate(3, 9);
  return {
    name: "uncoordinated: hls.js live ABR (0.95 / 0.7 up) + PF bands + measured demand ×2.6",
    decide(ctx) {
      const est = estimate(ctx.segmentRates);
      let rung = RUNGS[0] as string;
      if (ctx.segmentRates.length) {
        const cur = ctx.currentRung ? RUNGS.indexOf(ctx.currentRung) : 0;
        DEFAULT_LADDER.forEach((r, i) => {
          const factor = i > cur ? 0.7 : 0.95;
          if (r.bitrateBps + BASE_DEMAND_BPS <= factor * est) rung = r.name;
        });
      }
      return uncoordinatedDecision(ctx, rung, 2.6);
    },
  };
}

/** What the coordinated strategy asks of its models. */
export interface StrategyModels {
  readonly name: string;
  /** Per-band capacity (model order, whole band, bit/s) for each environment. */
  capacity(envs: readonly RadioEnvironment[]): Float64Array[];
  /** Demand to plan for on one headset's link streaming `rung` (video + state + control), bit/s. */
  linkDemand(rung: string): number;
}

/** How the coordinated rule forecasts capacity from reports and its model. */
export type Forecast = "delta" | "ratio";

/**
 * The controller's rule with a channel and a demand model: for the next 4 s (what the
 * buffer covers) forecast each band's per-headset capacity from the known geometry and
 * headset count — `delta`: the last report carried over the model's predicted change,
 * `(m·N_now + M(t+h) − M(now)) / N(t+h)`; `ratio`: the model on the future geometry times an
 * EWMA (α 0.2 per decision) of report / model, `ρ·M(t+h) / N(t+h)` (the form that forecasts
 * best on the ahead task) — the lower envelope over the horizon, then
 * `allocateCoordinated` (fewest best bands with a 20 % margin, highest rung ≤ the wish,
 * reservation = planned demand + 10 %). Safety: with under 1 s buffered, the rung also fits
 * 0.9 × what the last report says the assigned bands carry now. (Not the last segment's
 * download rate: the rule's own reservation caps that at 1.1 × the planned demand, so
 * "fit 0.9 × it" stepped one rung down at every decision made under 1 s of buffer — every
 * decision of a 2 s live buffer — and never climbed back.)
 */
export function coordinatedStrategy(
  models: StrategyModels,
  forecastKind: Forecast = "ratio",
): Strategy {
  const horizon = Math.round(4 / CHANNEL_DT_S);
  const downlink = new Set(DOWNLINK.map((d) => d.b.id));
  let rho: Float64Array | null = null;
  return {
    name: `coordinated (${forecastKind}): ${models.name}`,
    decide(ctx) {
      const sc = ctx.scenario;
      const now = sc.ticks[ctx.tick] as ScenarioTick;
      const known = Math.min(horizon, sc.knownAheadTicks);
      const idx = Array.from({ length: known + 1 }, (_, h) =>
        Math.min(sc.ticks.length - 1, ctx.tick + h),
      );
      const preds = models.capacity([
        now.env,
        ...idx.map((i) => (sc.ticks[i] as ScenarioTick).env),
      ]);
      const base = preds[0] as Float64Array;
      const ratioNow = Float64Array.from(
        base,
        (v, b) => ((ctx.measuredCapacity[b] as number) * now.headsets) / Math.max(v, 1),
      );
      rho = rho ? Float64Array.from(ratioNow, (v, b) => 0.2 * v + 0.8 * rho![b]!) : ratioNow;
      const r = rho;
      const forecast = new Float64Array(DEFAULT_BANDS.length).fill(Infinity);
      idx.forEach((i, h) => {
        const tk = sc.ticks[i] as ScenarioTick;
        const p = preds[h + 1] as Float64Array;
        p.forEach((v, b) => {
          const f =
            forecastKind === "ratio"
              ? ((r[b] as number) * v) / tk.headsets
              : ((ctx.measuredCapacity[b] as number) * now.headsets + v - (base[b] as number)) /
                tk.headsets;
          forecast[b] = Math.min(forecast[b] as number, Math.max(0, f));
        });
      });
      const channel: BandChannel[] = DEFAULT_BANDS.map((b, i) => ({
        bandId: b.id,
        snrDb: 0,
        capacityBps: forecast[i] as number,
      }));
      const wanted = (sc.ticks[idx[idx.length - 1] as number] as ScenarioTick).wanted;
      const videoDemandBps = Object.fromEntries(
        RUNGS.map((r) => [r, models.linkDemand(r) - BASE_DEMAND_BPS]),
      );
      const a = allocateCoordinated({
        channel,
        downlink,
        baseDemandBps: BASE_DEMAND_BPS,
        videoDemandBps,
        ladder: DEFAULT_LADDER,
        wantedRung: wanted,
        margin: 0.2,
        shareHeadroom: 0.1,
      });
      let rung = a.rung ?? (RUNGS[0] as string);
      const bands = a.bands.map((id) => DEFAULT_BANDS.findIndex((b) => b.id === id));
      if (ctx.bufferS < 1 && ctx.segmentRates.length > 0) {
        const carriesNow = bands.reduce((s, b) => s + (ctx.measuredCapacity[b] as number), 0);
        while (RUNGS.indexOf(rung) > 0 && models.linkDemand(rung) > 0.9 * carriesNow)
          rung = RUNGS[RUNGS.indexOf(rung) - 1] as string;
      }
      return {
        rung,
        bands,
        reservedBps: Math.max(a.reservedBps, models.linkDemand(rung) * 1.1),
      };
    },
  };
}
