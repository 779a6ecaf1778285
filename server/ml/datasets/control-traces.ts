/**
 * `control` traces: client→server command frames of one operator — `pose` at the headset's
 * pose rate (head, plus both controllers in a given share of the poses), `jog` at 10 Hz
 * while jogging, occasional goal/plan/approve. Sizes are REAL (the SDK's framing,
 * {@link controlMessageBytes}); activity and timing are modelled.
 */
import { controlMessageBytes } from "../../net/colyseus-frames.ts";
import type { FlowWindow } from "../../net/contracts.ts";
import { HandsInPoses, pose, type PoseTruth, quat, walk } from "./operator-poses.ts";
import { mixSeed, Rng } from "./trace-random.ts";
import { type Emission, round, toWindows, WINDOW_S } from "./trace-windows.ts";

/** Options of {@link controlWindows}. */
export interface ControlTraceOptions {
  /** Windows to produce. */
  readonly windows: number;
  readonly seed: number;
  /** Window length, s (default {@link WINDOW_S}). */
  readonly windowS?: number;
  /** Pose messages per second, Hz, in (0, 240] (default 72, the Unity bridge's rate). */
  readonly poseRateHz?: number;
  /**
   * Share of pose messages that carry both controllers, 0..1 (default 1); the rest carry
   * the head only (each pose drawn independently, {@link HandsInPoses}).
   */
  readonly handsShare?: number;
}

/** The command flow of one operator's headset (uplink). */
export function controlWindows(opts: ControlTraceOptions): FlowWindow[] {
  const windowS = opts.windowS ?? WINDOW_S;
  const rng = new Rng(mixSeed(opts.seed, 0xc0de));
  const rate = opts.poseRateHz ?? 72;
  if (!(rate > 0 && rate <= 240))
    throw new RangeError(`poseRateHz must be in (0, 240], got ${rate}`);
  const hands = new HandsInPoses(opts.handsShare ?? 1, new Rng(mixSeed(opts.seed, 0x4a4d)));
  const duration = opts.windows * windowS;
  const head = pose([1.5, 0.2, 1.6], [Math.PI]);
  const left = pose([1.3, 0.4, 1.1], [0]);
  const right = pose([1.3, 0.0, 1.1], [0]);
  const emissions: Emission[] = [];
  let activity: "watch" | "jog" | "plan" = "watch";
  let activityUntil = rng.exp(6);
  let nextJog = 0;
  let jog: Record<string, unknown> = {};
  let req = 0;
  const planSteps: { t: number; type: string; body: Record<string, unknown> }[] = [];
  for (let t = rng.next() / rate; t < duration; t += 1 / rate) {
    if (t >= activityUntil) {
      const u = rng.next();
      activity = u < 0.55 ? "watch" : u < 0.85 ? "jog" : "plan";
      activityUntil = t + Math.max(1, rng.exp(activity === "watch" ? 8 : 5));
      if (activity === "plan") {
        const id = `r-${++req}`;
        const positions = Array.from({ length: 7 }, () => round((rng.next() - 0.5) * 3, 4));
        planSteps.push(
          {
            t: t + 0.5,
            type: "goal",
            body: { requestId: id, goal: { kind: "joints", positions } },
          },
          { t: t + 1.5, type: "plan", body: { requestId: `${id}p`, velocityScale: 0.5 } },
          { t: t + 3, type: "approve", body: { requestId: `${id}a`, planId: `plan-${req}` } },
        );
      }
    }
    const handsTracked = hands.next();
    walk(head, 1 / rate, 0.8, 0.04, 0.25, rng);
    walk(left, 1 / rate, 0.6, activity === "watch" ? 0.02 : 0.25, 0.8, rng);
    walk(right, 1 / rate, 0.6, activity === "watch" ? 0.02 : 0.25, 0.8, rng);
    // ~1 % of headset frames are not sent (app hitches, Wi-Fi power save).
    if (rng.next() >= 0.01) {
      const body: Record<string, unknown> = { head: wirePose(head) };
      if (handsTracked) {
        body.left = wirePose(left);
        body.right = wirePose(right);
      }
      emissions.push({ t, bytes: controlMessageBytes("pose", body), packets: 1 });
    }
    if (activity === "jog" && t >= nextJog) {
      if (nextJog === 0 || rng.next() < 0.05) {
        jog =
          rng.next() < 0.7
            ? {
                mode: "joint",
                joint: rng.int(7),
                velocity: round((rng.next() - 0.5) * 1, 4),
                deadmanMs: 300,
              }
            : {
                mode: "cartesian",
                linear: { x: round(rng.next() * 0.1, 4), y: 0, z: round(rng.next() * 0.1, 4) },
                angular: { x: 0, y: 0, z: round(rng.next() * 0.2, 4) },
                deadmanMs: 300,
              };
      }
      emissions.push({ t, bytes: controlMessageBytes("jog", jog), packets: 1 });
      nextJog = t + 0.1;
    } else if (activity !== "jog") nextJog = 0;
    while (planSteps.length > 0 && (planSteps[0] as { t: number }).t <= t) {
      const step = planSteps.shift() as { type: string; body: Record<string, unknown> };
      emissions.push({ t, bytes: controlMessageBytes(step.type, step.body), packets: 1 });
    }
  }
  return toWindows("control", emissions, opts.windows, windowS);
}

/** A pose as the Unity client sends it: float64 numbers (msgpack float64). */
function wirePose(x: PoseTruth): Record<string, unknown> {
  const [qx, qy, qz, qw] = quat(x.e);
  return {
    position: { x: x.p[0], y: x.p[1], z: x.p[2] },
    orientation: { x: qx, y: qy, z: qz, w: qw },
  };
}
