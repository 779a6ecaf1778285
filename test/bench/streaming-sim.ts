/**
 * Trace-driven 360° streaming simulation: one headset walking through the cell, sharing the
 * downlink with the room's other headsets, plays a 2 s-segment HLS ladder; its rendition is
 * chosen either by a throughput-based ABR (the usual player logic) or by the agents.
 *
 * Traces per second: the channel model with fading along the walk (true per-band capacity);
 * the scheduler shares the link's bands equally among the room's active headsets, so what
 * the headset can download in a second = capacity of its bands / headsets. Segment sizes
 * come from the project's VBR video traces of each rung.
 *  - ABR: static bands (the two lowest downlink carriers) — or, as a generous baseline, all
 *    five; next rung = highest nominal bitrate ≤ 0.85 × harmonic mean of the last three
 *    segment download rates, one rung up at a time; start at the lowest rung.
 *  - agents: every 5 s (and on start) the controller allocates bands and a rung for the
 *    whole room (channel agent at the headset's position, traffic agent for the room's
 *    headsets); the headset gets the rung; when the buffer falls below 4 s the measured
 *    download rate caps the rung (the QoE report loop of the metaverse room).
 * Player: buffer target 20 s, a segment is fetched whenever the buffer is below target;
 * playback stalls when the buffer is empty. Figures: mean bitrate played, stall ratio
 * (stalled time / session time), rendition switches per minute.
 */
import { pino } from "pino";
import type { AgentRegistry } from "../../server/agents/agent.ts";
import { AgentController } from "../../server/agents/controller.ts";
import { armGeometry } from "../../server/net/arm-geometry.ts";
import { DEFAULT_LADDER } from "../../server/net/allocation.ts";
import { DEFAULT_BANDS } from "../../server/net/bands.ts";
import { computeChannel } from "../../server/net/channel-model.ts";
import type { Vec3 } from "../../shared/geometry.ts";
import { GNB_POSITION } from "../../server/net/environments.ts";
import { measureScenario } from "../../server/ml/datasets/traffic-sets.ts";
import type { RobotDescription } from "../../server/sim/robot-description.ts";

const SEGMENT_S = 2;
const BUFFER_TARGET_S = 20;
const LOW_BUFFER_S = 4;
const DOWNLINK = DEFAULT_BANDS.filter((b) => b.direction === "downlink");

export interface StreamingResult {
  strategy: string;
  meanBitrateBps: number;
  stallRatio: number;
  switchesPerMin: number;
}

/** A walk: positions at 1 s steps, passing behind the arm and back. */
function walk(seconds: number, seed: number): Vec3[] {
  const stops: Vec3[] = [
    { x: 1.8, y: 0.9, z: 1.7 },
    { x: 1.2, y: 1.9, z: 1.6 },
    { x: 0.6, y: 2.4, z: 1.3 },
    { x: -0.8, y: 2.0, z: 1.5 },
    { x: 1.6, y: -1.2, z: 1.7 },
  ];
  const out: Vec3[] = [];
  const leg = Math.max(10, Math.floor(seconds / stops.length));
  for (let t = 0; t < seconds; t++) {
    const i = Math.floor(t / leg) % stops.length;
    const a = stops[(i + seed) % stops.length]!;
    const b = stops[(i + seed + 1) % stops.length]!;
    const f = (t % leg) / leg;
    out.push({ x: a.x + (b.x - a.x) * f, y: a.y + (b.y - a.y) * f, z: a.z + (b.z - a.z) * f });
  }
  return out;
}

export async function runStreamingSim(
  robot: RobotDescription,
  registry: AgentRegistry,
  options: { traces: number; seconds: number; others: number; crowd?: boolean },
): Promise<StreamingResult[]> {
  const arm = armGeometry(robot.kinematics, robot.home, robot.basePose, "panda");
  const totals = new Map<string, { bitrate: number; stall: number; switches: number; n: number }>();
  for (let trace = 0; trace < options.traces; trace++) {
    const path = walk(options.seconds, trace);
    const capacity = path.map((headset, t) => {
      const c = computeChannel({ gnb: GNB_POSITION, headset, arms: [arm] }, DEFAULT_BANDS, {
        seed: trace * 10_000 + t,
        fading: true,
      });
      return new Map(c.map((b) => [b.bandId, b.capacityBps]));
    });
    // Segment sizes of each rung along the trace (VBR), from the same trace generator.
    const segBits = new Map<string, readonly number[]>();
    for (const r of DEFAULT_LADDER) {
      const video = measureScenario(
        { arms: 1, headsets: 1, patchRateHz: 60, videoRung: r.name },
        { windows: options.seconds, seed: 200 + trace },
      );
      const series = video.aggregateBps.map((x) => x * SEGMENT_S);
      segBits.set(r.name, series);
    }
    const segmentBits = (rung: number, segment: number) => {
      const r = DEFAULT_LADDER[rung]!;
      return segBits.get(r.name)?.[segment % options.seconds] || r.bitrateBps * SEGMENT_S;
    };
    // The scheduler shares the link's bands equally among the room's active headsets.
    // With `crowd`, as many headsets again join for the middle third of the session.
    const usersAt = (t: number) =>
      (options.others + 1) *
      (options.crowd && t >= options.seconds / 3 && t < (2 * options.seconds) / 3 ? 2 : 1);
    const availableAt = (t: number, bands: readonly string[]) =>
      bands.reduce((s, b) => s + (capacity[Math.min(t, capacity.length - 1)]?.get(b) ?? 0), 0) /
      usersAt(t);

    const staticBands = DOWNLINK.slice(0, 2).map((b) => b.id);
    const controller = new AgentController({
      registry,
      bands: DEFAULT_BANDS,
      logger: pino({ level: "silent" }),
    });
    for (const strategy of [
      "throughput ABR (static bands)",
      "throughput ABR (all 5 bands)",
      "agents (coordinated)",
    ] as const) {
      let bands: readonly string[] =
        strategy === "throughput ABR (all 5 bands)" ? DOWNLINK.map((b) => b.id) : staticBands;
      let rung = 0;
      let buffer = 0;
      let clock = 0;
      let stalled = 0;
      let played = 0;
      let bitrateSum = 0;
      let switches = 0;
      let lastDecision = -Infinity;
      const rates: number[] = [];
      let segment = 0;
      let prevRung = -1;
      while (clock < options.seconds) {
        const t = Math.floor(clock);
        if (strategy === "agents (coordinated)" && clock - lastDecision >= 5) {
          await controller.allocate(
            {
              radio: { gnb: GNB_POSITION, headset: path[t]!, arms: [arm] },
              traffic: { arms: 1, headsets: usersAt(t), patchRateHz: 60, videoRung: null },
              wantedRung: "8k",
            },
            "monitor",
          );
          lastDecision = clock;
          const a = controller.allocation!;
          bands = a.bands;
          // The room plans for everyone at one rung; this headset plays that rung.
          const next = DEFAULT_LADDER.findIndex((r) => r.name === a.rung);
          if (next >= 0) rung = next;
        }
        if (strategy === "agents (coordinated)" && buffer < LOW_BUFFER_S && rates.length > 0) {
          const last = rates[rates.length - 1]!;
          const fits = DEFAULT_LADDER.map((r, i) => (r.bitrateBps <= 0.85 * last ? i : -1)).filter(
            (i) => i >= 0,
          );
          rung = Math.min(rung, fits.length ? Math.max(...fits) : 0);
        }
        if (strategy !== "agents (coordinated)" && rates.length >= 1) {
          const recent = rates.slice(-3);
          const h = recent.length / recent.reduce((s, v) => s + 1 / Math.max(v, 1), 0);
          const fits = DEFAULT_LADDER.map((r, i) => (r.bitrateBps <= 0.85 * h ? i : -1)).filter(
            (i) => i >= 0,
          );
          const best = fits.length ? Math.max(...fits) : 0;
          rung = best > rung ? rung + 1 : best;
        }
        if (buffer >= BUFFER_TARGET_S) {
          // Buffer full: play until there is room for a segment.
          const wait = buffer - BUFFER_TARGET_S + SEGMENT_S;
          clock += wait;
          played += wait;
          buffer -= wait;
          continue;
        }
        // Download one segment at the rates of the seconds it spans.
        const size = segmentBits(rung, segment);
        let bits = size;
        const start = clock;
        while (bits > 0 && clock < options.seconds) {
          const sec = Math.floor(clock);
          const rate = Math.max(1, availableAt(sec, bands));
          const toBoundary = sec + 1 - clock;
          const slice = Math.min(toBoundary, bits / rate);
          bits -= rate * slice;
          // Snap to the second's boundary when the step would vanish in rounding (clock
          // just below an integer would otherwise never advance).
          clock = slice >= toBoundary || clock + slice === clock ? sec + 1 : clock + slice;
          if (buffer > 0) {
            const use = Math.min(buffer, slice);
            buffer -= use;
            played += use;
            stalled += slice - use;
          } else if (segment > 0) stalled += slice;
        }
        const took = Math.max(1e-6, clock - start);
        rates.push(size / took);
        if (segment > 0 && prevRung !== rung) switches += 1;
        prevRung = rung;
        buffer += SEGMENT_S;
        bitrateSum += DEFAULT_LADDER[rung]!.bitrateBps;
        segment += 1;
      }
      const acc = totals.get(strategy) ?? { bitrate: 0, stall: 0, switches: 0, n: 0 };
      acc.bitrate += bitrateSum / Math.max(1, segment);
      acc.stall += stalled / Math.max(1e-9, stalled + played);
      acc.switches += switches / (options.seconds / 60);
      acc.n += 1;
      totals.set(strategy, acc);
    }
  }
  return [...totals].map(([strategy, a]) => ({
    strategy,
    meanBitrateBps: Math.round(a.bitrate / a.n),
    stallRatio: Math.round((a.stall / a.n) * 10_000) / 10_000,
    switchesPerMin: Math.round((a.switches / a.n) * 100) / 100,
  }));
}
