/**
 * Copies a {@link TwinSession} into the room's schema state. Schema fields are assigned only
 * when the value changed by more than a display epsilon, so an arm at rest, static objects
 * and idle plans cost no patch bytes; objects are not even read while the world's version
 * stands still (a resting world is not stepped).
 */
import type { Pose } from "../../shared/geometry.ts";
import {
  GoalState,
  JointState,
  ObjectState,
  OperatorState,
  PlanState,
  type PoseState,
  type TwinState,
} from "../../shared/schema/twin-state.ts";
import {
  EPS_M,
  EPS_QUAT,
  EPS_RAD,
  EPS_RAD_S,
  PREVIEW_POINTS,
} from "../../shared/schema/twin-patch.ts";
import type { TwinSession } from "../twin/session.ts";
import { syncAgentPanel } from "./agent-panel-sync.ts";

/** Copies one session into one room state; remembers what it copied last. */
export class TwinStateSync {
  readonly #seen = {
    plans: new Map<string, number>(),
    people: new Map<string, number>(),
    goal: -1,
    agents: -1,
    objects: -1,
  };

  constructor(
    private readonly session: TwinSession,
    private readonly state: TwinState,
  ) {}

  /** Brings the state up to date with the session. */
  sync(): void {
    const { session, state } = this;
    syncRobot(session, state);
    const objects = session.objectsVersion();
    if (objects !== this.#seen.objects) {
      this.#seen.objects = objects;
      syncObjects(session, state);
    }
    syncPeople(session, state, this.#seen.people);
    syncPlans(session, state, this.#seen.plans);
    syncGoal(session, state, this.#seen);
    syncAgents(session, state, this.#seen);
  }
}

function syncRobot(session: TwinSession, state: TwinState): void {
  const r = session.robot;
  const s = state.robot;
  if (s.joints.length !== r.jointNames.length) {
    s.joints.clear();
    for (const name of r.jointNames) s.joints.push(new JointState({ name }));
  }
  let moved = false;
  for (let j = 0; j < r.jointNames.length; j++) {
    const js = s.joints[j]!;
    if (Math.abs(js.position - r.positions[j]!) > EPS_RAD) {
      js.position = r.positions[j]!;
      moved = true;
    }
    if (Math.abs(js.velocity - r.velocities[j]!) > EPS_RAD_S) {
      js.velocity = r.velocities[j]!;
      moved = true;
    }
  }
  if (Math.abs(s.gripper - r.gripper) > EPS_M) {
    s.gripper = r.gripper;
    moved = true;
  }
  if (setPose(s.tcp, r.tcpWorld)) moved = true;
  if (moved) s.stamp = r.stampMs;
  if (s.mode !== r.mode) s.mode = r.mode;
  if (s.link !== r.link) s.link = r.link;
  if (s.activePlanId !== r.activePlanId) s.activePlanId = r.activePlanId;
  if (Math.abs(s.progress - r.progress) > 1e-3) s.progress = r.progress;
  if (s.cell !== r.cell) s.cell = r.cell;
  if (Math.abs(s.deviation - r.deviation) > 1e-3) s.deviation = r.deviation;
}

function syncObjects(session: TwinSession, state: TwinState): void {
  const live = new Set<string>();
  for (const o of session.objects()) {
    live.add(o.id);
    let s = state.objects.get(o.id);
    if (!s) {
      s = new ObjectState({ id: o.id, shape: o.shape.kind });
      const sz = s.size;
      if (o.shape.kind === "box")
        [sz.x, sz.y, sz.z] = [o.shape.size.x, o.shape.size.y, o.shape.size.z];
      else if (o.shape.kind === "cylinder")
        [sz.x, sz.y, sz.z] = [o.shape.radius, o.shape.radius, o.shape.height];
      else [sz.x, sz.y, sz.z] = [o.shape.radius, o.shape.radius, o.shape.radius];
      s.dynamic = o.dynamic;
      s.virtual = o.virtual;
      s.color = o.color ?? "";
      state.objects.set(o.id, s);
    }
    setPose(s.pose, o.pose);
    const held = session.scene.heldBy(o.id);
    if (s.heldBy !== held) s.heldBy = held;
  }
  for (const id of [...state.objects.keys()]) if (!live.has(id)) state.objects.delete(id);
}

function syncPeople(session: TwinSession, state: TwinState, seen: Map<string, number>): void {
  const live = new Set<string>();
  for (const p of session.presence.all()) {
    const sid = p.actor.sessionId;
    live.add(sid);
    if (seen.get(sid) === p.version) continue;
    seen.set(sid, p.version);
    let s = state.operators.get(sid);
    if (!s) {
      s = new OperatorState({ name: p.actor.name, role: p.actor.role });
      state.operators.set(sid, s);
    }
    if (s.connected !== p.connected) s.connected = p.connected;
    if (p.head) setPose(s.head, p.head);
    if (p.left) setPose(s.left, p.left);
    if (p.right) setPose(s.right, p.right);
  }
  for (const sid of [...state.operators.keys()]) {
    if (!live.has(sid)) {
      state.operators.delete(sid);
      seen.delete(sid);
    }
  }
}

function syncPlans(session: TwinSession, state: TwinState, seen: Map<string, number>): void {
  const live = new Set<string>();
  for (const p of session.plans()) {
    live.add(p.id);
    if (seen.get(p.id) === p.version) continue;
    seen.set(p.id, p.version);
    let s = state.plans.get(p.id);
    if (!s) {
      s = new PlanState({ id: p.id, requestedBy: p.requestedBy, createdAt: p.createdAt });
      state.plans.set(p.id, s);
    }
    s.status = p.status;
    s.reason = p.reason;
    s.approvedBy = p.approvedBy;
    s.planningMs = p.planningMs;
    if (p.trajectory && s.preview.length === 0) {
      const preview = session.preview(p.trajectory, PREVIEW_POINTS);
      s.duration = p.trajectory.duration;
      s.preview.push(...preview.joints);
      s.previewTcp.push(...preview.tcpWorld);
    }
  }
  for (const id of [...state.plans.keys()]) {
    if (!live.has(id)) {
      state.plans.delete(id);
      seen.delete(id);
    }
  }
}

function syncGoal(session: TwinSession, state: TwinState, seen: { goal: number }): void {
  const g = session.motion.goal;
  const version = g?.version ?? 0;
  if (seen.goal === version) return;
  seen.goal = version;
  if (!g) {
    state.goal = new GoalState({ kind: "" });
    return;
  }
  const s = new GoalState({
    kind: g.goal.kind,
    valid: g.valid,
    reason: g.reason,
    setBy: g.setBy,
  });
  if (g.positions) s.positions.push(...g.positions);
  setPose(s.pose, g.poseWorld);
  state.goal = s;
}

function syncAgents(session: TwinSession, state: TwinState, seen: { agents: number }): void {
  const panel = session.agents?.panel();
  if (!panel || seen.agents === panel.version) return;
  seen.agents = panel.version;
  syncAgentPanel(state.agents, panel);
}

/** Copies a pose into schema fields that differ beyond epsilon; true when any changed. */
function setPose(s: PoseState, p: Pose): boolean {
  let changed = false;
  const sp = s.position;
  const so = s.orientation;
  if (Math.abs(sp.x - p.position.x) > EPS_M) {
    sp.x = p.position.x;
    changed = true;
  }
  if (Math.abs(sp.y - p.position.y) > EPS_M) {
    sp.y = p.position.y;
    changed = true;
  }
  if (Math.abs(sp.z - p.position.z) > EPS_M) {
    sp.z = p.position.z;
    changed = true;
  }
  const o = p.orientation;
  if (
    Math.abs(so.x - o.x) > EPS_QUAT ||
    Math.abs(so.y - o.y) > EPS_QUAT ||
    Math.abs(so.z - o.z) > EPS_QUAT ||
    Math.abs(so.w - o.w) > EPS_QUAT
  ) {
    so.x = o.x;
    so.y = o.y;
    so.z = o.z;
    so.w = o.w;
    changed = true;
  }
  return changed;
}
