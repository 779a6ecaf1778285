/**
 * `twin_state` traces: REAL state-patch frames. A {@link TwinState} (the room's own schema)
 * is driven by a cell of 1..n arms and N operators, and the real `@colyseus/schema` 5
 * `Encoder` encodes one patch per patch tick exactly as the room's serializer does
 * (`encode({ offset: 1 })` after the protocol byte, then `discardChanges()`); a frame's
 * size is `encode().length`, the bytes `Client.raw` carries. What is modelled is the
 * motion that changes the state: per-arm idle / jog / execute profiles (a Markov chain
 * with exponential dwell times; quintic trajectories; plan lifecycle and goal marker
 * of the real arm), headset and controller poses of every operator (Ornstein–Uhlenbeck
 * walks sampled at the headset rate, tracker jitter at rest), and the room's change
 * epsilons (1e-5 rad, 1e-4 rad/s, 0.05 mm), the ones `rooms/twin-state-sync.ts` reads
 * (`shared/schema/twin-patch.ts`).
 * An added arm is carried as seven more `JointState` entries in `robot.joints` (what a
 * client needs to render it from joint values): the schema has one `RobotState`.
 */
import { Encoder } from "@colyseus/schema";
import {
  GoalState,
  JointState,
  ObjectState,
  OperatorState,
  PlanState,
  type PoseState,
  TwinState,
} from "../../../shared/schema/twin-state.ts";
import {
  EPS_M,
  EPS_QUAT,
  EPS_RAD,
  EPS_RAD_S,
  PREVIEW_POINTS,
} from "../../../shared/schema/twin-patch.ts";
import type { FlowWindow } from "../../net/contracts.ts";
import {
  clonePose,
  HandsInPoses,
  jitter,
  pose,
  type PoseTruth,
  quat,
  walk,
} from "./operator-poses.ts";
import { mixSeed, Rng } from "./trace-random.ts";
import { clamp, toWindows, TraceError, WINDOW_S } from "./trace-windows.ts";

/** What an arm is doing. */
export type MotionProfile = "idle" | "jog" | "execute";

/** Plans kept in the state (the room's bounded history). */
const PLAN_HISTORY = 8;
const JOINTS_PER_ARM = 7;
/** `Protocol.ROOM_STATE_PATCH` of the Colyseus wire protocol. */
const ROOM_STATE_PATCH = 15;
/** `Protocol.ROOM_STATE` (full state on join). */
const ROOM_STATE = 14;

/** Mean dwell time per profile, s, and the next profile's probabilities. */
const PROFILE_CHAIN: Record<
  MotionProfile,
  { dwellS: number; next: readonly [MotionProfile, number][] }
> = {
  idle: {
    dwellS: 6,
    next: [
      ["jog", 0.5],
      ["execute", 0.5],
    ],
  },
  jog: {
    dwellS: 5,
    next: [
      ["idle", 0.6],
      ["execute", 0.4],
    ],
  },
  execute: {
    dwellS: 4,
    next: [
      ["idle", 0.7],
      ["jog", 0.3],
    ],
  },
};

interface ArmMotion {
  readonly rng: Rng;
  profile: MotionProfile;
  /** End of the current profile episode, s. */
  untilS: number;
  q: number[];
  v: number[];
  /** Jog: target velocities, rad/s; the next target change, s. */
  target: number[];
  retargetS: number;
  /** Execute: trajectory start, duration, start joints and displacement. */
  t0: number;
  dur: number;
  from: number[];
  delta: number[];
  planId: string;
}

interface OperatorMotion {
  readonly rng: Rng;
  readonly key: string;
  readonly rateHz: number;
  /** When the pose messages carry the controllers (the rest carry the head only). */
  readonly hands: HandsInPoses;
  nextSampleS: number;
  version: number;
  seenVersion: number;
  /** Whether the latest pose carried the controllers. */
  handsInLast: boolean;
  active: boolean;
  activeUntilS: number;
  head: PoseTruth;
  left: PoseTruth;
  right: PoseTruth;
  /** Rest poses of the hands (watching). */
  restL: PoseTruth;
  restR: PoseTruth;
}

/** Options of {@link TwinPatchSource}. */
export interface TwinSourceOptions {
  /** Arms in the twin, 1..8 (the first is the real arm). */
  readonly arms: number;
  /** Connected operators whose headset poses are in the state, 0..64. */
  readonly operators: number;
  readonly seed: number;
  /** A fixed profile for every arm, or `mixed` (Markov chain, the default). */
  readonly profile?: MotionProfile | "mixed";
  /** Pose message rate of the headsets, Hz, in (0, 240] (default 72, the Unity bridge's). */
  readonly headsetRateHz?: number;
  /**
   * Share of pose messages that carry both controllers, 0..1 (default 1); a head-only pose
   * leaves the controllers' state unchanged, so nothing of them is patched.
   */
  readonly handsShare?: number;
}

/**
 * A digital-twin room's state under a moving cell, encoded by the real schema encoder.
 * Call {@link patchAt} at increasing times (the room's patch ticks).
 */
export class TwinPatchSource {
  /** The room state being encoded. */
  readonly state: TwinState;
  readonly encoder: Encoder;
  readonly #arms: ArmMotion[] = [];
  readonly #ops: OperatorMotion[] = [];
  readonly #profile: MotionProfile | "mixed";
  readonly #epochMs = 1_767_225_600_000;
  #t = 0;
  #plans = 0;

  constructor(readonly options: TwinSourceOptions) {
    const { arms, operators } = options;
    if (!Number.isInteger(arms) || arms < 1 || arms > 8)
      throw new TraceError(`arms must be an integer in 1..8, got ${arms}`);
    if (!Number.isInteger(operators) || operators < 0 || operators > 64)
      throw new TraceError(`operators must be an integer in 0..64, got ${operators}`);
    const poseRateHz = options.headsetRateHz ?? 72;
    if (!(poseRateHz > 0 && poseRateHz <= 240))
      throw new TraceError(`headsetRateHz must be in (0, 240], got ${poseRateHz}`);
    const handsShare = options.handsShare ?? 1;
    if (!(handsShare >= 0 && handsShare <= 1))
      throw new TraceError(`handsShare must be in [0, 1], got ${handsShare}`);
    this.#profile = options.profile ?? "mixed";
    const state = new TwinState();
    this.state = state;
    const r = state.robot;
    r.mode = "idle";
    r.link = "simulated";
    r.cell = "sim-cell";
    r.gripper = 0.04;
    for (let a = 0; a < arms; a++) {
      // Every arm and every operator draws from its own stream, so adding one leaves the
      // others' motion unchanged (a what-if changes only what it adds).
      const rng = new Rng(mixSeed(options.seed, 0x7417, a));
      const q: number[] = [];
      for (let j = 0; j < JOINTS_PER_ARM; j++) {
        q.push((rng.next() - 0.5) * 1.5);
        const name = a === 0 ? `panda_joint${j + 1}` : `arm${a + 1}/panda_joint${j + 1}`;
        r.joints.push(new JointState({ name, position: q[j] as number }));
      }
      this.#arms.push(this.#newArm(q, a, rng));
    }
    this.#setTcp();
    // A static layout: table, two boxes and a bin (sent once, in the full state).
    const layout: [string, string, number, number, number][] = [
      ["table", "box", 1.2, 0.8, 0.04],
      ["box-a", "box", 0.06, 0.06, 0.06],
      ["box-b", "box", 0.05, 0.08, 0.05],
      ["bin", "cylinder", 0.12, 0.12, 0.1],
    ];
    layout.forEach(([id, shape, x, y, z], i) => {
      const o = new ObjectState({ id, shape, color: "#8899aa" });
      [o.size.x, o.size.y, o.size.z] = [x, y, z];
      o.pose.position.x = 0.4 + 0.1 * i;
      o.pose.position.z = 0.02 * i;
      state.objects.set(id, o);
    });
    for (let i = 0; i < operators; i++) {
      const rng = new Rng(mixSeed(options.seed, 0x0f5, i));
      const key = sessionKey(rng);
      const s = new OperatorState({
        name: `operator-${i + 1}`,
        role: i < 2 ? "operator" : "observer",
        connected: true,
      });
      state.operators.set(key, s);
      const angle = (2 * Math.PI * i) / Math.max(operators, 1);
      const head = pose([1.6 * Math.cos(angle), 1.6 * Math.sin(angle), 1.6], [angle + Math.PI]);
      const restL = pose([head.p[0] * 0.9, head.p[1] * 0.9 + 0.2, 1.0], [angle]);
      const restR = pose([head.p[0] * 0.9, head.p[1] * 0.9 - 0.2, 1.0], [angle]);
      this.#ops.push({
        rng,
        key,
        rateHz: poseRateHz,
        hands: new HandsInPoses(handsShare, new Rng(mixSeed(options.seed, 0x4a4d, i))),
        nextSampleS: rng.next() / poseRateHz,
        version: 0,
        seenVersion: -1,
        handsInLast: true,
        active: i < 2 && rng.next() < 0.5,
        activeUntilS: rng.exp(8),
        head,
        left: clonePose(restL),
        right: clonePose(restR),
        restL,
        restR,
      });
    }
    this.encoder = new Encoder(state);
    // What existed before the first tick reaches clients in the full state, not in patches.
    this.encoder.discardChanges();
  }

  /** Seconds simulated so far. */
  get timeS(): number {
    return this.#t;
  }

  /** The full-state frame a joining headset receives, bytes (a copy). */
  fullState(): Uint8Array {
    const buf = new Uint8Array(64 * 1024);
    buf[0] = ROOM_STATE;
    return this.encoder.encodeAll({ offset: 1 }, buf).slice();
  }

  /**
   * Advances the cell to `tS` (s since the start; non-decreasing), copies it into the state
   * with the room's epsilons and encodes one patch.
   * @returns the patch frame (protocol byte + encoded changes, a copy), or null when
   *   nothing changed (the room sends nothing then)
   */
  patchAt(tS: number): Uint8Array | null {
    if (tS < this.#t) throw new TraceError(`time went backwards: ${tS} < ${this.#t}`);
    const dt = tS - this.#t;
    this.#t = tS;
    this.#stepArms(tS, dt);
    this.#stepOperators(tS);
    if (!this.encoder.hasChanges) return null;
    this.encoder.sharedBuffer[0] = ROOM_STATE_PATCH;
    const frame = this.encoder.encode({ offset: 1 }).slice();
    this.encoder.discardChanges();
    return frame;
  }

  #newArm(q: number[], index: number, rng: Rng): ArmMotion {
    const profile: MotionProfile = this.#profile === "mixed" ? "idle" : this.#profile;
    const arm: ArmMotion = {
      rng,
      profile,
      untilS: 0,
      q: [...q],
      v: q.map(() => 0),
      target: q.map(() => 0),
      retargetS: 0,
      t0: 0,
      dur: 1,
      from: [...q],
      delta: q.map(() => 0),
      planId: "",
    };
    this.#enter(arm, index, profile, 0);
    return arm;
  }

  #enter(arm: ArmMotion, index: number, profile: MotionProfile, t: number): void {
    const rng = arm.rng;
    arm.profile = profile;
    if (profile === "idle") {
      arm.untilS = t + Math.max(1, rng.exp(PROFILE_CHAIN.idle.dwellS));
      arm.target = arm.q.map(() => 0);
    } else if (profile === "jog") {
      arm.untilS = t + Math.max(1, rng.exp(PROFILE_CHAIN.jog.dwellS));
      this.#retarget(arm, t);
    } else {
      // Plan, validate and approve take ~0.4 s before the motion starts.
      arm.t0 = t + 0.4;
      arm.dur = 2 + 4 * rng.next();
      arm.untilS = arm.t0 + arm.dur;
      arm.from = [...arm.q];
      arm.delta = arm.q.map((qj) => clamp((rng.next() - 0.5) * 2, -2.4 - qj, 2.4 - qj));
      arm.v = arm.q.map(() => 0);
      if (index === 0) this.#startPlan(arm, t);
    }
    // Executing starts as planning; `#stepArms` switches to executing when the motion starts.
    if (index === 0) this.state.robot.mode = profileMode(profile);
  }

  #retarget(arm: ArmMotion, t: number): void {
    const rng = arm.rng;
    arm.target = arm.q.map(() => 0);
    if (rng.next() < 0.7) {
      // Joint jog: one joint at a steady speed.
      arm.target[rng.int(JOINTS_PER_ARM)] = (rng.next() < 0.5 ? -1 : 1) * (0.1 + 0.4 * rng.next());
    } else {
      // Cartesian jog: the IK moves every joint.
      arm.target = arm.q.map(() => (rng.next() - 0.5) * 0.4);
    }
    arm.retargetS = t + 0.5 + rng.exp(1.5);
  }

  #startPlan(arm: ArmMotion, t: number): void {
    const { state } = this;
    const rng = arm.rng;
    const id = `plan-${++this.#plans}`;
    arm.planId = id;
    const owner = this.#ops[0]?.key ?? "";
    const goal = new GoalState({ kind: "joints", valid: true, setBy: owner });
    goal.positions.push(...arm.from.map((q, j) => q + (arm.delta[j] as number)));
    goal.pose.position.x = 0.3 + 0.3 * rng.next();
    goal.pose.position.y = (rng.next() - 0.5) * 0.6;
    goal.pose.position.z = 0.2 + 0.4 * rng.next();
    state.goal = goal;
    const plan = new PlanState({
      id,
      status: "validated",
      requestedBy: owner,
      createdAt: this.#epochMs + t * 1000,
      duration: arm.dur,
      planningMs: 20 + 200 * rng.next(),
    });
    const tcp: number[] = [];
    for (let k = 0; k < PREVIEW_POINTS; k++) {
      const s = quintic(k / (PREVIEW_POINTS - 1)).s;
      const q = arm.from.map((q0, j) => q0 + (arm.delta[j] as number) * s);
      plan.preview.push(...q);
      tcp.push(...tcpOf(q).p);
    }
    plan.previewTcp.push(...tcp);
    state.plans.set(id, plan);
    while (state.plans.size > PLAN_HISTORY) {
      const oldest = state.plans.keys().next().value;
      if (oldest === undefined) break;
      state.plans.delete(oldest);
    }
  }

  #stepArms(t: number, dt: number): void {
    const r = this.state.robot;
    let moved = false;
    this.#arms.forEach((arm, a) => {
      if (t >= arm.untilS) this.#finish(arm, a, t);
      if (arm.profile === "jog") {
        if (t >= arm.retargetS) this.#retarget(arm, t);
        for (let j = 0; j < JOINTS_PER_ARM; j++) {
          // Jogs ramp at ≤ 2 rad/s² and turn back before the joint limits.
          const tgt = arm.target[j] as number;
          const v0 = arm.v[j] as number;
          const v = v0 + clamp(tgt - v0, -2 * dt, 2 * dt);
          let q = (arm.q[j] as number) + v * dt;
          if (Math.abs(q) > 2.6) {
            arm.target[j] = -tgt;
            q = Math.sign(q) * 2.6;
          }
          arm.v[j] = v;
          arm.q[j] = q;
        }
      } else if (arm.profile === "execute") {
        const tau = clamp((t - arm.t0) / arm.dur, 0, 1);
        const { s, ds } = quintic(tau);
        const running = t >= arm.t0 && tau < 1;
        for (let j = 0; j < JOINTS_PER_ARM; j++) {
          const d = arm.delta[j] as number;
          arm.q[j] = (arm.from[j] as number) + d * s;
          arm.v[j] = running ? (d * ds) / arm.dur : 0;
        }
        if (a === 0) {
          const plan = this.state.plans.get(arm.planId);
          if (t >= arm.t0 - 0.25 && plan && plan.status === "validated") {
            plan.status = "approved";
            plan.approvedBy = this.#ops[1]?.key ?? this.#ops[0]?.key ?? "";
          }
          if (running && plan && plan.status === "approved") {
            plan.status = "executing";
            r.activePlanId = arm.planId;
            r.mode = "executing";
          }
          if (Math.abs(r.progress - tau) > 1e-3) r.progress = tau;
        }
      } else {
        arm.v.fill(0);
      }
      for (let j = 0; j < JOINTS_PER_ARM; j++) {
        const js = r.joints[a * JOINTS_PER_ARM + j];
        if (!js) continue;
        const q = arm.q[j] as number;
        const v = arm.v[j] as number;
        if (Math.abs(js.position - q) > EPS_RAD) {
          js.position = q;
          moved = true;
        }
        if (Math.abs(js.velocity - v) > EPS_RAD_S) {
          js.velocity = v;
          moved = true;
        }
      }
    });
    if (this.#setTcp()) moved = true;
    if (moved) r.stamp = this.#epochMs + t * 1000;
  }

  #finish(arm: ArmMotion, a: number, t: number): void {
    if (arm.profile === "execute" && a === 0) {
      const plan = this.state.plans.get(arm.planId);
      if (plan) plan.status = "succeeded";
      const r = this.state.robot;
      r.activePlanId = "";
      r.progress = 0;
      // The gripper closes or opens at the end of a move.
      r.gripper = r.gripper > 0.02 ? 0.0 : 0.04;
    }
    let next: MotionProfile;
    if (this.#profile !== "mixed") next = this.#profile;
    else {
      const u = arm.rng.next();
      let acc = 0;
      next = PROFILE_CHAIN[arm.profile].next[0]?.[0] ?? "idle";
      for (const [p, prob] of PROFILE_CHAIN[arm.profile].next) {
        acc += prob;
        if (u < acc) {
          next = p;
          break;
        }
      }
    }
    this.#enter(arm, a, next, t);
  }

  /** Copies the real arm's tool pose (a smooth stand-in for its FK). */
  #setTcp(): boolean {
    const arm = this.#arms[0];
    if (!arm) return false;
    return setPose(this.state.robot.tcp, tcpOf(arm.q));
  }

  #stepOperators(t: number): void {
    for (const op of this.#ops) {
      const rng = op.rng;
      while (op.nextSampleS <= t) {
        const dt = 1 / op.rateHz;
        op.nextSampleS += dt;
        op.version++;
        if (op.nextSampleS >= op.activeUntilS) {
          op.active = !op.active;
          op.activeUntilS = op.nextSampleS + rng.exp(op.active ? 6 : 10);
        }
        // Head: a slow walk (breathing, looking around); always above the epsilon.
        walk(op.head, dt, 0.8, 0.04, 0.25, rng);
        // A head-only pose leaves the controllers where the state has them.
        op.handsInLast = op.hands.next();
        if (!op.handsInLast) continue;
        if (op.active) {
          walk(op.left, dt, 0.6, 0.25, 0.8, rng);
          walk(op.right, dt, 0.6, 0.25, 0.8, rng);
        } else {
          // Controllers at rest: 0.03 mm / 2e-5 rad tracker jitter around the rest pose.
          jitter(op.left, op.restL, 3e-5, 2e-5, rng);
          jitter(op.right, op.restR, 3e-5, 2e-5, rng);
        }
      }
      if (op.seenVersion === op.version) continue;
      op.seenVersion = op.version;
      const s = this.state.operators.get(op.key);
      if (!s) continue;
      setPose(s.head, op.head);
      if (op.handsInLast) {
        setPose(s.left, op.left);
        setPose(s.right, op.right);
      }
    }
  }
}

function profileMode(p: MotionProfile): string {
  if (p === "jog") return "jogging";
  if (p === "execute") return "planning";
  return "idle";
}

/** Quintic time scaling s(τ) and ds/dτ. */
function quintic(tau: number): { s: number; ds: number } {
  const t = clamp(tau, 0, 1);
  return {
    s: t * t * t * (10 - 15 * t + 6 * t * t),
    ds: 30 * t * t * (1 - 2 * t + t * t),
  };
}

/** A smooth function of the joints standing in for the tool pose (only its changes matter). */
function tcpOf(q: readonly number[]): PoseTruth {
  const g = (i: number): number => q[i] ?? 0;
  const p: [number, number, number] = [
    0.3 + 0.3 * Math.cos(g(0)) * Math.cos(g(1)) + 0.1 * Math.cos(g(3)),
    0.3 * Math.sin(g(0)) * Math.cos(g(1)) + 0.05 * Math.sin(g(4)),
    0.33 + 0.3 * Math.sin(g(1)) + 0.1 * Math.sin(g(3) + g(5)),
  ];
  return pose(p, [g(0) + g(4) + g(6), g(1) + g(3) + g(5), g(2)]);
}

/** Copies a pose into schema fields that differ beyond the room's epsilons. */
function setPose(s: PoseState, x: PoseTruth): boolean {
  let changed = false;
  const sp = s.position;
  const [px, py, pz] = x.p;
  if (Math.abs(sp.x - px) > EPS_M) [sp.x, changed] = [px, true];
  if (Math.abs(sp.y - py) > EPS_M) [sp.y, changed] = [py, true];
  if (Math.abs(sp.z - pz) > EPS_M) [sp.z, changed] = [pz, true];
  const [qx, qy, qz, qw] = quat(x.e);
  const so = s.orientation;
  if (Math.abs(so.x - qx) > EPS_QUAT) [so.x, changed] = [qx, true];
  if (Math.abs(so.y - qy) > EPS_QUAT) [so.y, changed] = [qy, true];
  if (Math.abs(so.z - qz) > EPS_QUAT) [so.z, changed] = [qz, true];
  if (Math.abs(so.w - qw) > EPS_QUAT) [so.w, changed] = [qw, true];
  return changed;
}

function sessionKey(rng: Rng): string {
  const abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
  let s = "";
  for (let i = 0; i < 9; i++) s += abc[rng.int(abc.length)];
  return s;
}

/** Options of {@link twinStateWindows}. */
export interface TwinTraceOptions extends TwinSourceOptions {
  /** Patch rate of the room, Hz (1..240). */
  readonly patchRateHz: number;
  /** Windows to produce. */
  readonly windows: number;
  /** Window length, s (default {@link WINDOW_S}). */
  readonly windowS?: number;
  /** Seconds simulated (and dropped) before the first window (default 2). */
  readonly warmupS?: number;
}

/**
 * The state-patch flow one headset receives (every headset receives the same frames),
 * measured from real encoder output.
 */
export function twinStateWindows(opts: TwinTraceOptions): FlowWindow[] {
  return twinStateTrace(opts).windows;
}

/** {@link twinStateWindows} plus every patch frame size (bytes) and send time (s). */
export function twinStateTrace(opts: TwinTraceOptions): {
  windows: FlowWindow[];
  patches: { t: number; bytes: number }[];
} {
  const { patchRateHz, windows } = opts;
  if (!(patchRateHz >= 1 && patchRateHz <= 240))
    throw new TraceError(`patchRateHz must be in 1..240, got ${patchRateHz}`);
  const windowS = opts.windowS ?? WINDOW_S;
  const warm = opts.warmupS ?? 2;
  const src = new TwinPatchSource(opts);
  const patches: { t: number; bytes: number }[] = [];
  const ticks = Math.round((windows * windowS + warm) * patchRateHz);
  for (let k = 1; k <= ticks; k++) {
    const t = k / patchRateHz;
    const frame = src.patchAt(t);
    // Ticks sit at k/rate; the 1e-9 keeps a tick on a window edge in the later window.
    const rel = t - warm + 1e-9;
    if (frame && rel >= 0) patches.push({ t: rel, bytes: frame.length });
  }
  const emissions = patches.map((p) => ({ t: p.t, bytes: p.bytes, packets: 1 }));
  return { windows: toWindows("twin_state", emissions, windows, windowS), patches };
}
