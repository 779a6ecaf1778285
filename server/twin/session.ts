/**
 * One digital-twin session (one room): the twin world, the link to the robot cell, the
 * people in the room, the plans. The room calls {@link handle} with validated commands and
 * {@link update} once per tick, then reads the views to build its state.
 */
import type { Logger } from "pino";
import type { Pose } from "../../shared/geometry.ts";
import { ErrorCode } from "../../shared/messages/common.ts";
import type { TwinCommand } from "../../shared/messages/twin.ts";
import { type JointMeasurement, LinkStatus, type RobotCell } from "../robot/robot-cell.ts";
import type { ArmKinematics } from "../sim/kinematics.ts";
import type { JointTrajectory } from "../sim/trajectory.ts";
import { decimate } from "../sim/trajectory-sample.ts";
import type { TwinWorld, WorldObject } from "../sim/world.ts";
import type { Actor } from "./actor.ts";
import { CommandError } from "./errors.ts";
import { type ArmMode, MotionCoordinator, type MotionDeps, type Notice } from "./motion.ts";
import type { PlanRecord } from "./plan-book.ts";
import { Presence } from "./presence.ts";
import type { RobotDescription } from "../sim/robot-description.ts";
import { SceneEditor } from "./scene-editor.ts";
import type { TrafficScenario } from "../net/contracts.ts";
import { PoseMeter } from "../net/pose-meter.ts";
import { TrafficMeter } from "../net/traffic-meter.ts";
import type { Decision, LinkSituation } from "../agents/controller.ts";
import type { AgentPanel } from "../agents/orchestrator.ts";
import { armPrimitives } from "../sim/arm-primitives.ts";
import { findLimitBreach } from "../sim/planner/joint-space.ts";
import type { SessionRecorder } from "../store/session-recorder.ts";
import type { AuditKind, AuditLog } from "../store/audit-log.ts";
import { type CellLease, ownerRefusal } from "../robot/cell-ownership.ts";
import type { RobotLinkMetrics } from "./link-metrics.ts";

export type { AgentPanel } from "../agents/orchestrator.ts";

/** What the session needs from its agents (see twin/agent-bridge.ts). */
export interface SessionAgents {
  /** Handles an utterance for `actor`; refusals are CommandErrors. */
  utterance(actor: Actor, text: string): Promise<{ summary: string }>;
  /** Something in the cell changed: the agents re-decide (debounced). */
  environmentChanged(reason: string): void;
  /** Recent decisions, oldest first. */
  decisions(): readonly Decision[];
  /** The cell's link as the agents see it now (radio, and the traffic scenario asked about). */
  situation(): LinkSituation;
  /** The agent panel for the room state; `version` changes whenever the rest does. */
  panel(): AgentPanel;
  close(): void;
}

export interface TwinSessionDeps extends Omit<MotionDeps, "twin" | "notify" | "otherOwner"> {
  world: TwinWorld;
  /** Snapshot of the world as laid out, restored by `reset`. */
  initialWorld: Uint8Array;
  /** Shown to clients as `robot.cell` (default: the cell's kind). */
  cellLabel?: string;
  /** Where the session is recorded (MCAP), if it is. */
  recorder?: SessionRecorder | null;
  /** The process's audit log (approvals, stops, refusals), if any. */
  audit?: AuditLog | null;
  /** Room id, written into audit records and used as the metrics label. */
  roomId?: string;
  /** This session's lease on a cell other sessions may link to (null: the arm is its own). */
  lease?: CellLease | null;
  /** Link metrics (`agenttwin_robot_link_up`, `…_joint_state_age_seconds`). */
  linkMetrics?: RobotLinkMetrics | null;
  /**
   * Builds the session's agents (see twin/agent-bridge.ts), called once at the end of the
   * constructor with the finished session; absent or null: the agents are off.
   */
  agents?: ((session: TwinSession) => SessionAgents) | null;
}

/** What a robot looks like to clients, refreshed every tick. */
export interface RobotView {
  jointNames: readonly string[];
  positions: Float64Array;
  velocities: Float64Array;
  gripper: number;
  /** Tool pose, `world` frame. */
  tcpWorld: Pose;
  mode: ArmMode;
  link: string;
  activePlanId: string;
  progress: number;
  /** Measurement time, ms since the Unix epoch. */
  stampMs: number;
  /** Kind of cell linked (in-process simulated, simulated over rosbridge, ROS). */
  cell: string;
  /** Measured-vs-planned deviation of a running plan, rad. */
  deviation: number;
  /** Why the link does not work, in words ("" when it does). */
  linkError: string;
  /** Empty while this room commands the arm; else who does (the room sees it read-only). */
  owner: string;
}

/** Commands written to the audit log when they succeed (stop is written before anything). */
const AUDITED: Partial<Record<TwinCommand["type"], AuditKind>> = {
  approve: "approve",
  plan: "plan",
  reset: "reset",
};

/** Largest number of physics steps per tick: a stalled loop skips ahead instead of spiralling. */
const MAX_STEPS_PER_TICK = 100;

export class TwinSession {
  readonly presence = new Presence();
  readonly motion: MotionCoordinator;
  readonly scene: SceneEditor;
  readonly robot: RobotView;
  readonly #world: TwinWorld;
  readonly #cell: RobotCell;
  readonly #kin: ArmKinematics;
  readonly #desc: RobotDescription;
  readonly #log: Logger;
  readonly #initialWorld: Uint8Array;
  readonly #listeners: ((n: Notice) => void)[] = [];
  #stepDebt = 0;
  readonly #recorder: SessionRecorder | null;
  readonly #audit: AuditLog | null;
  #samplesFromCell = false;
  readonly #roomId: string;
  /** The server's own flows of this session, metered per headset (state patches, control). */
  readonly traffic = new TrafficMeter();
  /** The headsets' accepted pose messages (rate and hands share of the traffic scenario). */
  readonly poses = new PoseMeter();
  /** The session's link to the agents (null when the agents are off). */
  readonly agents: SessionAgents | null;
  #recordedStamp = -1;
  readonly #lease: CellLease | null;
  readonly #linkMetrics: RobotLinkMetrics | null;
  readonly #recordedPlans = new Map<string, number>();
  #closed = false;
  /** Joints (rad) {@link robot}'s `tcpWorld` was computed for: at rest, no FK per tick. */
  readonly #tcpFor: Float64Array;

  constructor(deps: TwinSessionDeps) {
    this.#world = deps.world;
    this.#cell = deps.cell;
    this.#kin = deps.kinematics;
    this.#desc = deps.robot;
    this.#log = deps.logger;
    this.#initialWorld = deps.initialWorld;
    this.#recorder = deps.recorder ?? null;
    // The server's own traffic, for `npm run train:ngf -- --from-recordings` (the scenario
    // is the one the agents are asked about).
    this.#recorder?.followTraffic(this.traffic, () => ({
      arms: 1 + this.virtualArms().length,
      headsets: Math.max(1, this.presence.count()),
      patchRateHz: deps.config.room.patchRateHz,
      videoRung: null,
      ...this.measuredPoses(),
    }));
    this.#audit = deps.audit ?? null;
    const recorder = this.#recorder;
    if (recorder && deps.cell.onMeasurement) {
      // Every sample the cell sends (up to RECORDING_JOINT_HZ), not only those a tick sees.
      this.#samplesFromCell = true;
      deps.cell.onMeasurement((m) => this.#recordJointState(m));
    }
    this.#roomId = deps.roomId ?? "";
    this.#lease = deps.lease ?? null;
    this.#linkMetrics = deps.linkMetrics ?? null;
    const lease = this.#lease;
    this.motion = new MotionCoordinator({
      ...deps,
      twin: deps.world,
      notify: (n) => this.#notify(n),
      ...(lease && { otherOwner: () => ownerRefusal(lease) }),
    });
    this.scene = new SceneEditor(
      deps.world,
      this.presence,
      deps.config.room.maxObjects,
      () => this.#cell.measurement().positions,
    );
    const m = this.#cell.measurement();
    this.#tcpFor = Float64Array.from(m.positions);
    this.robot = {
      jointNames: this.#cell.jointNames,
      positions: Float64Array.from(m.positions),
      velocities: Float64Array.from(m.velocities),
      gripper: m.gripper,
      tcpWorld: this.#desc.baseToWorld(this.#kin.fk(m.positions)),
      mode: this.motion.mode(),
      link: this.#cell.linkStatus(),
      activePlanId: "",
      progress: 0,
      stampMs: m.stampMs,
      cell: deps.cellLabel ?? this.#cell.kind,
      deviation: 0,
      linkError: this.#cell.linkError?.() ?? "",
      owner: lease ? (ownerRefusal(lease) ?? "") : "",
    };
    lease?.onChange((_owner, mine) => {
      if (mine) {
        this.#notify({
          code: ErrorCode.Conflict,
          message: `this room now commands the arm of cell ${lease.cellId}`,
        });
        return;
      }
      // Another session took the arm (or nobody can be sure who has it): stop our motion.
      if (this.motion.plans.active() || this.#cell.isJogging())
        this.motion.stop(null, "ownership of the cell lost");
      this.#notify({ code: ErrorCode.Conflict, message: ownerRefusal(lease) ?? "" });
    });
    this.#cell.onLinkEvent?.((e) => {
      const code =
        this.#cell.linkStatus() === LinkStatus.Stale ? ErrorCode.LinkStale : ErrorCode.LinkDown;
      this.#notify({ code, message: e.message });
    });
    this.#cell.onLinkStatus?.((status) => {
      this.#log.warn({ link: status }, "robot cell link status");
      this.#recorder?.event(Date.now(), { level: "info", message: `link ${status}` });
      if (status === LinkStatus.Disconnected) {
        this.#notify({
          code: ErrorCode.LinkDown,
          message: "link to the robot cell lost; motion commands are refused",
        });
      } else if (status === LinkStatus.Stale) {
        this.#notify({
          code: ErrorCode.LinkStale,
          message:
            "robot cell link stale: no fresh joint states; a running plan was aborted and its goal cancelled; motion commands are refused",
        });
      }
    });
    // Last: the agents read the finished session (their first decision is queued at once).
    this.agents = deps.agents?.(this) ?? null;
  }

  /** Subscribes to notices (errors or alerts that arise outside a command's reply). */
  onNotice(listener: (n: Notice) => void): void {
    this.#listeners.push(listener);
  }

  join(actor: Actor): void {
    this.presence.join(actor);
    // Whoever joins learns at once why the link is not working (the event may predate them).
    const linkError = this.#cell.linkError?.();
    if (linkError)
      this.#notify({ to: actor.sessionId, code: ErrorCode.LinkDown, message: linkError });
    const readOnly = this.#lease ? ownerRefusal(this.#lease) : null;
    if (readOnly)
      this.#notify({ to: actor.sessionId, code: ErrorCode.Conflict, message: readOnly });
  }

  /**
   * The headsets' pose behaviour as measured over the pose meter's window (pose messages
   * accepted per headset per second, Hz, at most 240, over every present headset — one
   * that sends no pose, e.g. a desktop operator, counts as 0 Hz, so rate × the scenario's
   * headset count is the poses the state carries; share of them with hand controllers),
   * or nothing when no pose was measured yet: a scenario without them means the defaults.
   */
  measuredPoses(): Pick<TrafficScenario, "poseRateHz" | "handsShare"> {
    const m = this.poses.measure(undefined, this.presence.count());
    if (!m) return {};
    return { poseRateHz: Math.min(240, m.poseRateHz), handsShare: m.handsShare };
  }

  setConnected(sessionId: string, connected: boolean): void {
    this.presence.setConnected(sessionId, connected);
  }

  /** A person left for good: their grabs are released; a jog they held dies by dead-man. */
  leave(sessionId: string): void {
    this.traffic.removeFlow(sessionId);
    this.poses.removeHeadset(sessionId);
    this.scene.release(sessionId);
    this.presence.leave(sessionId);
  }

  /** Executes one validated command for `actor`. Throws {@link CommandError} on refusal. */
  async handle(actor: Actor, cmd: TwinCommand): Promise<{ id?: string; summary?: string } | void> {
    // STOP first, in the caller's turn of the event loop (this runs before the first await),
    // whatever else the session is doing — even while it closes.
    if (cmd.type === "stop") {
      const active = this.motion.plans.active();
      this.motion.stop(actor);
      this.#auditFor(actor, "stop", { type: "stop", ...(active && { planId: active.id }) });
      this.#recordCommand(actor, cmd);
      return;
    }
    if (this.#closed) throw new CommandError(ErrorCode.Conflict, "session closed");
    // Headset poses arrive at display rate and are not audit material; everything else is.
    if (cmd.type === "pose") return this.#handle(actor, cmd);
    try {
      const result = await this.#handle(actor, cmd);
      const kind = AUDITED[cmd.type];
      if (kind) {
        const planId = cmd.type === "approve" ? cmd.body.planId : result?.id;
        this.#auditFor(actor, kind, { type: cmd.type, ...(planId && { planId }) });
      }
      this.#recordCommand(actor, cmd);
      return result;
    } catch (err) {
      if (err instanceof CommandError)
        this.recordRejection(actor.sessionId, cmd.type, err.code, err.message);
      throw err;
    }
  }

  /**
   * Adds a virtual arm of the cell's robot at `base` (`world`), in a named pose (default
   * `ready`) or at joint positions (rad). @returns its id
   */
  addVirtualArm(cmd: { id?: string; base: Pose; pose?: string; positions?: number[] }): string {
    const kin = this.#kin;
    let q: Float64Array;
    if (cmd.positions) {
      if (cmd.positions.length !== kin.dof) {
        throw new CommandError(
          ErrorCode.OutOfRange,
          `expected ${kin.dof} joint positions, got ${cmd.positions.length}`,
        );
      }
      q = Float64Array.from(cmd.positions);
      const breach = findLimitBreach(q, kin);
      if (breach)
        throw new CommandError(
          ErrorCode.OutOfRange,
          `${breach.jointName} = ${breach.value} outside its limits`,
        );
    } else {
      const named = this.#desc.namedPoses.get(cmd.pose ?? "ready");
      if (!named) throw new CommandError(ErrorCode.NotFound, `no named pose ${cmd.pose}`);
      q = Float64Array.from(named);
    }
    const id = cmd.id ?? this.scene.nextArmId();
    this.scene.addArm(id, armPrimitives(kin, q, kin.gripperRange.max, cmd.base), cmd.base, q);
    this.#environmentChanged("arm added");
    return id;
  }

  /** Virtual arms: id, base pose (`world`) and joints (rad). */
  virtualArms(): { id: string; base: Pose; q: Float64Array }[] {
    return [...this.scene.arms()].map(([id, a]) => ({ id, ...a }));
  }

  /** Records an agent decision in the session recording. */
  recordDecision(d: Decision): void {
    this.#recorder?.decision(d.atMs, {
      agent: d.agents.join(","),
      inputs: { trigger: d.trigger, task: d.task, ...d.inputs },
      outputs: { summary: d.summary, applied: d.applied, latencyMs: d.latencyMs, ...d.outputs },
    });
  }

  /** Records a refused message (the room refuses malformed ones before they get here). */
  recordRejection(sessionId: string, type: string, code: string, message: string): void {
    this.#recorder?.rejection(Date.now(), { sessionId, type, code, message });
    const who = [...this.presence.all()].find((p) => p.actor.sessionId === sessionId)?.actor;
    if (who) this.#auditFor(who, "refusal", { type, code, message });
    else
      this.#audit?.append({
        kind: "refusal",
        room: this.#roomId,
        session: sessionId,
        type,
        code,
        message,
      });
  }

  /**
   * Stops the arm for a reason outside any command (a fatal error, shutdown): cancels the
   * cell's goal synchronously and writes it to the audit log. Never throws.
   */
  emergencyStop(reason: string): void {
    try {
      const active = this.motion.plans.active();
      this.motion.stop(null, reason);
      void this.#recorder?.flush();
      this.#audit?.append({
        kind: "stop",
        room: this.#roomId,
        message: reason,
        ...(active && { planId: active.id }),
      });
    } catch (err) {
      this.#log.error({ err }, "emergency stop failed");
    }
  }

  /** Writes a carried-out command to the session recording. */
  #recordCommand(actor: Actor, cmd: TwinCommand): void {
    this.#recorder?.command(Date.now(), {
      sessionId: actor.sessionId,
      userId: actor.userId,
      role: actor.role,
      type: cmd.type,
      body: cmd.body,
    });
  }

  #auditFor(
    actor: Actor,
    kind: AuditKind,
    fields: { type?: string; planId?: string; code?: string; message?: string },
  ): void {
    this.#audit?.append({
      kind,
      room: this.#roomId,
      user: actor.userId,
      name: actor.name,
      role: actor.role,
      session: actor.sessionId,
      ...fields,
    });
  }

  async #handle(actor: Actor, cmd: TwinCommand): Promise<{ id?: string; summary?: string } | void> {
    switch (cmd.type) {
      case "pose":
        this.presence.setPoses(actor.sessionId, cmd.body);
        this.poses.record(
          actor.sessionId,
          cmd.body.left !== undefined || cmd.body.right !== undefined,
        );
        return;
      case "jog":
        this.motion.jog(actor, cmd.body);
        return;
      case "goal":
        this.motion.setGoal(actor, cmd.body.goal);
        return;
      case "plan": {
        const plan = await this.motion.plan(actor, cmd.body.goal, cmd.body.velocityScale);
        return { id: plan.id };
      }
      case "approve":
        return { id: this.motion.approve(actor, cmd.body.planId).id };
      case "stop":
        this.motion.stop(actor);
        return;
      case "reset":
        await this.#reset();
        return;
      case "addObject": {
        const id = this.scene.add(actor, cmd.body);
        this.#environmentChanged("object added");
        return { id };
      }
      case "removeObject":
        this.scene.remove(cmd.body.id);
        this.#environmentChanged("object removed");
        return;
      case "addArm": {
        const id = this.addVirtualArm(cmd.body);
        return { id };
      }
      case "utterance": {
        if (!this.agents)
          throw new CommandError(ErrorCode.Conflict, "the agents are off on this server");
        const result = await this.agents.utterance(actor, cmd.body.text);
        return { summary: result.summary };
      }
      case "grab":
        this.scene.grab(actor, cmd.body.objectId, cmd.body.hand);
        return;
      case "release":
        this.scene.release(actor.sessionId, cmd.body.hand);
        return;
    }
  }

  /** Advances the twin by `dtS` seconds of wall time and refreshes {@link robot}. */
  update(dtS: number): void {
    const m = this.#cell.measurement();
    if (!this.#samplesFromCell) this.#recordJointState(m);
    this.#recordPlans();
    this.#world.setArmJoints(m.positions, m.gripper);
    this.scene.update();
    this.#stepDebt += Math.max(0, dtS) / this.#world.timestep;
    const steps = Math.min(MAX_STEPS_PER_TICK, Math.floor(this.#stepDebt));
    this.#stepDebt = Math.min(this.#stepDebt - steps, 1);
    if (steps > 0) this.#world.step(steps);
    this.motion.update();

    const r = this.robot;
    r.positions.set(m.positions);
    r.velocities.set(m.velocities);
    r.gripper = m.gripper;
    if (!sameValues(this.#tcpFor, m.positions)) {
      r.tcpWorld = this.#desc.baseToWorld(this.#kin.fk(m.positions));
      this.#tcpFor.set(m.positions);
    }
    r.mode = this.motion.mode();
    r.link = this.#cell.linkStatus();
    const exec = this.motion.execution();
    r.activePlanId = exec.planId;
    r.progress = exec.progress;
    r.stampMs = m.stampMs;
    r.deviation = this.motion.deviation;
    r.linkError = this.#cell.linkError?.() ?? "";
    r.owner = this.#lease ? (ownerRefusal(this.#lease) ?? "") : "";
    if (this.#linkMetrics && this.#roomId) {
      const link = r.link;
      this.#linkMetrics.observe(
        this.#roomId,
        link === LinkStatus.Connected || link === LinkStatus.Simulated,
        (this.#cell.jointStateAgeMs?.() ?? 0) / 1000,
      );
    }
  }

  objects(): WorldObject[] {
    return this.#world.getObjects();
  }

  /** Changes whenever {@link objects} may have changed; equal versions, equal objects. */
  objectsVersion(): number {
    return this.#world.version;
  }

  plans(): IterableIterator<PlanRecord> {
    return this.motion.plans.all();
  }

  /** JSON snapshot of the robot for the REST API. */
  robotSnapshot() {
    const r = this.robot;
    return {
      jointNames: r.jointNames,
      positions: Array.from(r.positions),
      velocities: Array.from(r.velocities),
      gripper: r.gripper,
      tcp: { frame: "world", ...r.tcpWorld },
      mode: r.mode,
      link: r.link,
      linkError: r.linkError,
      owner: r.owner,
      cell: r.cell,
      deviation: r.deviation,
      activePlanId: r.activePlanId,
      progress: r.progress,
      stampMs: r.stampMs,
    };
  }

  /**
   * A decimated preview of a trajectory for clients: at most `maxPoints` configurations
   * (rad, flattened rows) and the tool path through them (`world`, m, flattened x,y,z).
   */
  preview(
    trajectory: JointTrajectory,
    maxPoints: number,
  ): { joints: number[]; tcpWorld: number[] } {
    const joints: number[] = [];
    const tcpWorld: number[] = [];
    for (const p of decimate(trajectory, maxPoints).points) {
      joints.push(...p.positions);
      const tcp = this.#desc.baseToWorld(this.#kin.fk(p.positions)).position;
      tcpWorld.push(tcp.x, tcp.y, tcp.z);
    }
    return { joints, tcpWorld };
  }

  listPlans() {
    return [...this.plans()].map((p) => ({
      id: p.id,
      status: p.status,
      reason: p.reason,
      goal: p.goal,
      requestedBy: p.requestedBy,
      approvedBy: p.approvedBy,
      createdAt: new Date(p.createdAt).toISOString(),
      planningMs: p.planningMs,
      durationS: p.trajectory?.duration ?? 0,
    }));
  }

  getPlan(id: string) {
    const p = this.motion.plans.get(id);
    if (!p) return undefined;
    const summary = this.listPlans().find((s) => s.id === id);
    return { ...summary, start: Array.from(p.start), trajectory: p.trajectory };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.agents?.close();
    this.motion.stop(null, "session closed");
    this.#recordPlans();
    if (this.#roomId) this.#linkMetrics?.remove(this.#roomId);
    await this.#lease?.close();
    await this.#cell.close();
    this.#world.free();
    await this.#recorder?.close();
  }

  async #reset(): Promise<void> {
    const readOnly = this.#lease && this.#cell.teleport ? ownerRefusal(this.#lease) : null;
    if (readOnly)
      throw new CommandError(ErrorCode.Conflict, `reset would move the arm: ${readOnly}`);
    this.motion.reset("scene reset");
    this.scene.clear();
    this.#world.restoreSnapshot(this.#initialWorld);
    try {
      await this.#cell.teleport?.(this.#desc.home);
    } catch (err) {
      throw new CommandError(
        ErrorCode.LinkDown,
        `scene reset, but the arm was not sent home: ${String(err)}`,
        {
          cause: err,
        },
      );
    }
    this.scene.version += 1;
    this.#log.info("scene reset");
  }

  #environmentChanged(reason: string): void {
    this.agents?.environmentChanged(reason);
  }

  #notify(n: Notice): void {
    this.#audit?.append({
      kind: n.code === ErrorCode.LinkDown ? "link" : "abort",
      room: this.#roomId,
      code: n.code,
      message: n.message,
    });
    this.#recorder?.event(Date.now(), {
      level: "warn",
      message: n.message,
      data: { code: n.code },
    });
    for (const l of this.#listeners) l(n);
  }

  /** Writes a joint sample to the recording, once per measurement stamp. */
  #recordJointState(m: JointMeasurement): void {
    if (!this.#recorder || m.stampMs === this.#recordedStamp) return;
    this.#recordedStamp = m.stampMs;
    this.#recorder.jointState(m.stampMs, this.#cell.jointNames, m.positions, m.velocities);
  }

  /** Writes every plan whose status changed since the last call to the recording. */
  #recordPlans(): void {
    const rec = this.#recorder;
    if (!rec) return;
    for (const p of this.motion.plans.all()) {
      if (this.#recordedPlans.get(p.id) === p.version) continue;
      this.#recordedPlans.set(p.id, p.version);
      rec.plan(Date.now(), p);
    }
    if (this.#recordedPlans.size > 4 * this.motion.plans.capacity) this.#recordedPlans.clear();
  }
}

/** Whether `a` and `b` hold the same numbers (same length, exactly equal). */
function sameValues(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
