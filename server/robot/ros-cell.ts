/**
 * A robot cell linked over rosbridge (roslib 2.x): joint states in from `/joint_states`,
 * trajectories out through MoveIt's ExecuteTrajectory action or a controller's
 * FollowJointTrajectory action (ROS 2 actions, or ROS 1 actionlib over topics), jogging
 * through MoveIt Servo's JointJog topic, stop as a goal cancel.
 *
 * Joint order: the twin's group order ({@link RobotCell.jointNames}); names on the wire go
 * through the configured name map (twin → cell).
 *
 * Link status: `connected` while rosbridge is up AND fresh joint states arrive; `stale` when
 * the socket is open but no joint state came for `LINK_STALE_MS` (a frozen rosbridge, a dead
 * driver); `disconnected` otherwise. Only `connected` takes motion commands. An execution
 * running when the link goes stale or drops ends `aborted` and is never resumed; its goal is
 * cancelled on the cell, and the cancel is sent again whenever the link comes back until the
 * cell confirms it — a cancel that cannot be sent or is not confirmed is reported as a link
 * event in plain words (the arm may still be moving).
 *
 * rosbridge's error statuses (a refused subscription, a ROS 1 rosbridge that cannot load a
 * ROS 2 type string) become the link error with the reason. A CBOR subscription that
 * delivers nothing (ROS 1 rosbridge 0.11 cannot CBOR-encode `string[]` fields) falls back
 * to JSON, once, with a warning.
 */
import type { Logger } from "pino";
import {
  type ExecuteTrajectoryFeedback,
  type ExecuteTrajectoryGoal,
  type ExecuteTrajectoryResult,
  type FollowJointTrajectoryFeedback,
  type FollowJointTrajectoryGoal,
  type FollowJointTrajectoryResult,
  fromRosTime,
  header,
  type JointJogMsg,
  type JointStateMsg,
  type JointTrajectoryMsg,
  MoveItErrorCode,
  rosNames,
  type RosVersion,
  toRosTime,
} from "../../shared/ros-msgs.ts";
import type { LinkConfig } from "../config.ts";
import type { JointTrajectory } from "../sim/trajectory.ts";
import { maxAbsDiff } from "../sim/planner/joint-space.ts";
import { type ActionChannel, openActionChannel } from "./action-channels.ts";
import { JointNameMap } from "./joint-names.ts";
import { type KeptSubscriptionHandle, type PeerStatus, RosConnection } from "./ros-connection.ts";
import {
  CellError,
  type Execution,
  type ExecutionOutcome,
  type JointMeasurement,
  type LinkEvent,
  LinkStatus,
  type RobotCell,
} from "./robot-cell.ts";

/** How close (rad, every joint) the measurement must be to a trajectory's end to count as there. */
const SETTLED_RAD = 1e-3;
/** Least wait for a first CBOR joint state before falling back to JSON, ms. */
const MIN_CBOR_WAIT_MS = 2000;

export interface RosCellOptions {
  link: LinkConfig;
  /** Group joint names of the twin, in group order. */
  jointNames: readonly string[];
  /** Gripper opening reported until the cell publishes finger joints, m. */
  gripper: number;
  /** Finger joint published by the cell (value × 2 = opening), if any. */
  fingerJoint?: string;
  /**
   * True for the simulated cell (ros/sim-cell): `teleport` then calls its simulation-only
   * `/sim_cell/reset_arm` service. A real cell never gets a teleport.
   */
  simulated?: boolean;
  logger: Logger;
  now?: () => number;
}

type GoalMsg = ExecuteTrajectoryGoal | FollowJointTrajectoryGoal;
type Feedback = ExecuteTrajectoryFeedback | FollowJointTrajectoryFeedback;
type Result = ExecuteTrajectoryResult | FollowJointTrajectoryResult;
type Channel = ActionChannel<GoalMsg, Feedback, Result>;

interface Running {
  cancel(): void;
  settle(o: ExecutionOutcome): void;
  /** When the action server took the goal up, ms (null until then). */
  activeMs: number | null;
  duration: number;
  progress: number;
  action: string;
  type: string;
  goalId: string;
}

/** A cancel the cell has not confirmed yet. */
interface PendingCancel {
  action: string;
  type: string;
  goalId: string;
  reason: string;
  /** A failure to deliver it was reported (so its later confirmation is reported too). */
  reported: boolean;
  attempt: number;
}

export class RosCell implements RobotCell {
  readonly kind = "ros";
  readonly jointNames: readonly string[];
  /** The rosbridge link; shared with the MoveIt planner. */
  readonly connection: RosConnection;
  /** Twin ↔ cell joint names. */
  get jointMap(): JointNameMap {
    return this.#jointMap;
  }
  readonly #link: LinkConfig;
  readonly #version: RosVersion;
  readonly #names: ReturnType<typeof rosNames>;
  readonly #jointMap: JointNameMap;
  readonly #m: {
    positions: Float64Array;
    velocities: Float64Array;
    gripper: number;
    stampMs: number;
  };
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #fingerJoint: string | undefined;
  readonly #jointSub: KeptSubscriptionHandle;
  readonly #watchdog: NodeJS.Timeout;
  readonly #createdMs: number;
  #haveState = false;
  #stale = false;
  /** Arrival time (this server's clock) of the newest complete joint state, ms. */
  #lastArrivalMs = 0;
  /** When the current connection came up, ms (0 while down). */
  #upSinceMs = 0;
  /** Joint states received on the current connection. */
  #statesThisConnection = 0;
  #cborFellBack = false;
  /** When the watchdog last ran, ms. */
  #lastCheckMs = 0;
  #linkError = "";
  #jogUntilMs = 0;
  #running: Running | null = null;
  #pendingCancel: PendingCancel | null = null;
  #cancelAttempts = 0;
  /** Action clients of the current connection, by action name. */
  readonly #channels = new Map<string, Channel>();
  /** Run on every joint state while a finished execution waits for the arm to be measured there. */
  #onState: (() => void) | null = null;
  #lastStatus: LinkStatus = LinkStatus.Disconnected;
  readonly #statusListeners: ((s: LinkStatus) => void)[] = [];
  readonly #eventListeners: ((e: LinkEvent) => void)[] = [];
  /** Last time each event text was emitted, ms (identical events are spaced 10 s apart). */
  readonly #eventTimes = new Map<string, number>();
  #closed = false;

  constructor(options: RosCellOptions) {
    this.#link = options.link;
    this.#version = options.link.rosVersion;
    this.#names = rosNames(this.#version);
    this.jointNames = options.jointNames;
    this.#log = options.logger.child({ cell: "ros", url: options.link.url });
    this.#now = options.now ?? Date.now;
    this.#createdMs = this.#now();
    this.#fingerJoint = options.fingerJoint;
    this.#jointMap = new JointNameMap(options.jointNames, options.link.jointNameMap);
    const dof = options.jointNames.length;
    this.#m = {
      positions: new Float64Array(dof),
      velocities: new Float64Array(dof),
      gripper: options.gripper,
      stampMs: 0,
    };
    this.connection = new RosConnection({
      url: options.link.url,
      reconnectMinMs: options.link.reconnectMinMs,
      reconnectMaxMs: options.link.reconnectMaxMs,
      callTimeoutMs: options.link.callTimeoutMs,
      pingMs: options.link.pingMs,
      ...(options.link.authSecret !== undefined && { authSecret: options.link.authSecret }),
      authLevel: options.link.authLevel,
      logger: this.#log,
    });
    this.connection.on("down", (reason) => this.#onDown(reason));
    this.connection.on("up", () => this.#onUp());
    this.connection.on("peerError", (s) => this.#onPeerError(s));
    this.#jointSub = this.connection.keepSubscribed<JointStateMsg>(
      {
        topic: options.link.jointStatesTopic,
        type: this.#names.jointState,
        throttleMs: options.link.throttleMs,
        queueLength: options.link.queueLength,
        compression: options.link.compression,
      },
      (msg) => this.#onJointState(msg),
    );
    const period = Math.max(10, Math.min(100, options.link.staleMs / 4));
    this.#watchdog = setInterval(() => this.#checkLink(), period);
    this.#watchdog.unref();
    this.connection.start();
    if (options.simulated) this.teleport = (q) => this.#resetArm(q);
  }

  async #resetArm(q: ArrayLike<number>): Promise<void> {
    this.#requireUp();
    this.stop("reset");
    const res = await this.connection.callService<
      { name: string[]; position: number[] },
      { success: boolean; message: string }
    >("/sim_cell/reset_arm", "agenttwin_msgs/ResetArm", {
      name: this.#jointMap.cellNames(),
      position: Array.from(q),
    });
    if (!res.success) throw new CellError(`reset refused: ${res.message}`);
  }

  /** Simulated cells only (see {@link RosCellOptions.simulated}). */
  readonly teleport?: (q: ArrayLike<number>) => Promise<void>;

  /** Subscribes to link status changes (connected / stale / disconnected). */
  onLinkStatus(listener: (s: LinkStatus) => void): void {
    this.#statusListeners.push(listener);
  }

  onLinkEvent(listener: (e: LinkEvent) => void): void {
    this.#eventListeners.push(listener);
  }

  linkStatus(): LinkStatus {
    if (!this.connection.isUp || !this.#haveState) return LinkStatus.Disconnected;
    return this.#stale ? LinkStatus.Stale : LinkStatus.Connected;
  }

  linkError(): string {
    return this.#linkError;
  }

  jointStateAgeMs(): number {
    return this.#now() - (this.#lastArrivalMs || this.#createdMs);
  }

  measurement(): JointMeasurement {
    return this.#m;
  }

  isJogging(): boolean {
    return this.#now() < this.#jogUntilMs;
  }

  jog(velocities: ArrayLike<number>, holdMs: number): void {
    this.#requireUp();
    if (this.#running) throw new CellError("a trajectory is executing");
    const msg: JointJogMsg = {
      header: header(this.#now() / 1000, this.#version),
      joint_names: this.#jointMap.cellNames(),
      displacements: [],
      velocities: Array.from(velocities),
      duration: holdMs / 1000,
    };
    this.connection.publish(this.#link.jogTopic, this.#names.jointJog, msg);
    this.#jogUntilMs = this.#now() + holdMs;
  }

  execute(trajectory: JointTrajectory): Execution {
    this.#requireUp();
    if (this.#running) throw new CellError("a trajectory is already executing");
    const jt = this.#toMsg(trajectory);
    const { controller, name, type } = this.#executeAction();
    const goal: GoalMsg = controller
      ? { trajectory: jt }
      : { trajectory: { joint_trajectory: jt } };
    const channel = this.#channel(name, type);
    let settle!: (o: ExecutionOutcome) => void;
    let finished = false;
    let acceptTimer: NodeJS.Timeout | undefined;
    const done = new Promise<ExecutionOutcome>((resolve) => {
      settle = (o) => {
        if (finished) return;
        finished = true;
        clearTimeout(acceptTimer);
        if (this.#running === running) this.#running = null;
        if (o.status === "aborted")
          this.#log.warn({ action: name, reason: o.reason }, "execution aborted");
        resolve(o);
      };
    });
    const running: Running = {
      cancel: () => channel.cancel(running.goalId),
      settle: (o) => settle(o),
      activeMs: null,
      duration: trajectory.duration,
      progress: 0,
      action: name,
      type,
      goalId: "",
    };
    this.#running = running;
    running.goalId = channel.send(goal, {
      active: () => {
        if (running.activeMs !== null) return;
        running.activeMs = this.#now();
        clearTimeout(acceptTimer);
        this.#log.info({ action: name, goal: running.goalId }, "trajectory goal active");
      },
      feedback: (f) => {
        const m = "state" in f ? /progress=([\d.]+)/.exec(f.state) : null;
        if (m) running.progress = Math.min(1, Number(m[1]));
      },
      result: (r, ok, reason) => {
        if (!ok) {
          settle({ status: "aborted", reason });
          return;
        }
        const success = controller
          ? (r as FollowJointTrajectoryResult | undefined)?.error_code === 0
          : (r as ExecuteTrajectoryResult | undefined)?.error_code?.val === MoveItErrorCode.SUCCESS;
        // The result can overtake the last joint states on the wire: success is reported once
        // the measurement shows the arm at the trajectory's end, so the twin shows it there.
        if (success)
          this.#whenMeasuredAt(trajectory.points.at(-1)?.positions, () =>
            settle({ status: "succeeded" }),
          );
        else
          settle({
            status: "aborted",
            reason: `${name} reported failure: ${JSON.stringify(r).slice(0, 200)}`,
          });
      },
    });
    const acceptMs = this.#link.actionAcceptTimeoutMs;
    acceptTimer = setTimeout(() => {
      if (running.activeMs !== null || finished) return;
      // Nobody took the goal up: withdraw it, in case a server appears and starts it late.
      try {
        channel.cancel(running.goalId);
      } catch {
        // the link is down: the goal went nowhere either
      }
      channel.forget(running.goalId);
      settle({
        status: "aborted",
        reason: `no action server at ${name}: the goal was not accepted within ${acceptMs} ms (check ROS_EXECUTE / ROS_CONTROLLER_ACTION)`,
      });
    }, acceptMs);
    acceptTimer.unref();
    this.#log.info(
      { action: name, points: jt.points.length, durationS: trajectory.duration },
      "trajectory sent",
    );
    return {
      done,
      activeSinceMs: () => running.activeMs,
      progress: () => {
        if (finished) return 1;
        if (running.activeMs === null || trajectory.duration <= 0) return running.progress;
        const byTime = (this.#now() - running.activeMs) / 1000 / trajectory.duration;
        return Math.max(running.progress, Math.min(0.999, byTime));
      },
    };
  }

  stop(reason: string): void {
    // Only a cell that jogged sends the zero jog: a read-only room closing must not halt the
    // owner's jog on the same arm.
    const jogged = this.#jogUntilMs > 0 && this.#now() < this.#jogUntilMs + 1000;
    this.#jogUntilMs = 0;
    this.#abortRunning(reason);
    if (jogged) this.#zeroJog();
  }

  /** A zero JointJog: halts a servo jog at once (the cell otherwise stops at its deadline). */
  #zeroJog(): void {
    if (this.connection.isUp) {
      try {
        this.connection.publish<JointJogMsg>(this.#link.jogTopic, this.#names.jointJog, {
          header: header(this.#now() / 1000, this.#version),
          joint_names: this.#jointMap.cellNames(),
          displacements: [],
          velocities: this.jointNames.map(() => 0),
          duration: 0,
        });
      } catch (err) {
        this.#log.warn({ err }, "zero jog not sent");
      }
    }
  }

  cancelAll(reason: string): void {
    this.stop(reason);
    this.#zeroJog();
    const { name, type } = this.#executeAction();
    this.#pendingCancel ??= {
      action: name,
      type,
      goalId: "",
      reason,
      reported: false,
      attempt: 0,
    };
    this.#deliverCancel();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.stop("cell closed");
    clearInterval(this.#watchdog);
    this.#disposeChannels();
    this.connection.close();
  }

  #requireUp(): void {
    const s = this.linkStatus();
    if (s === LinkStatus.Stale) {
      throw new CellError(
        `robot cell at ${this.#link.url} is stale: no joint states for ${Math.round(this.jointStateAgeMs())} ms`,
      );
    }
    if (s !== LinkStatus.Connected) {
      throw new CellError(`robot cell at ${this.#link.url} is disconnected`);
    }
  }

  /** The action trajectories go to: the controller's or MoveIt's (`ROS_EXECUTE`). */
  #executeAction(): { controller: boolean; name: string; type: string } {
    const controller = this.#link.execute === "controller";
    return controller
      ? { controller, name: this.#link.controllerAction, type: this.#names.followJointTrajectory }
      : { controller, name: this.#link.executeAction, type: this.#names.executeTrajectory };
  }

  /** The action client of this connection for `name` (created once, disposed on reconnect). */
  #channel(name: string, type: string): Channel {
    let c = this.#channels.get(name);
    if (!c) {
      c = openActionChannel<GoalMsg, Feedback, Result>(this.#version, this.connection, name, type);
      this.#channels.set(name, c);
    }
    return c;
  }

  #disposeChannels(): void {
    for (const c of this.#channels.values()) {
      try {
        c.dispose();
      } catch (err) {
        this.#log.debug({ err }, "action client dispose failed");
      }
    }
    this.#channels.clear();
  }

  /** Ends the running execution (if any) `aborted` and cancels its goal on the cell. */
  #abortRunning(reason: string): void {
    const running = this.#running;
    if (!running) return;
    this.#running = null;
    running.settle({ status: "aborted", reason });
    this.#cancelOnCell(running, reason);
  }

  /** Cancels an aborted execution's goal on the cell, until the cell confirms it. */
  #cancelOnCell(running: Running, reason: string): void {
    if (running.goalId === "") return;
    this.#pendingCancel = {
      action: running.action,
      type: running.type,
      goalId: running.goalId,
      reason,
      reported: false,
      attempt: 0,
    };
    if (this.connection.isUp) {
      try {
        running.cancel();
      } catch (err) {
        this.#log.warn({ err }, "cancel not sent");
      }
    }
    this.#deliverCancel();
  }

  /** Sends the pending cancel (cancel-all on its action) and waits for the cell to confirm it. */
  #deliverCancel(): void {
    const p = this.#pendingCancel;
    if (!p || this.#closed) return;
    if (!this.connection.isUp) {
      p.reported = true;
      this.#event(
        "error",
        `the cancel of the goal on ${p.action} could not be sent: the link to the robot cell is down. The arm may still be running its trajectory — use the robot's own stop. The cancel is sent again when the link is back.`,
      );
      return;
    }
    this.#cancelAttempts += 1;
    const attempt = this.#cancelAttempts;
    p.attempt = attempt;
    let channel: Channel;
    try {
      channel = this.#channel(p.action, p.type);
    } catch (err) {
      this.#log.warn({ err }, "cancel not sent");
      return;
    }
    const timeoutMs = Math.max(1000, Math.min(this.#link.callTimeoutMs, 5000));
    void channel.cancelAll(p.goalId || null, timeoutMs).then((ok) => {
      if (this.#pendingCancel !== p || p.attempt !== attempt || this.#closed) return;
      if (ok) {
        this.#pendingCancel = null;
        this.#log.info({ action: p.action }, "the cell confirmed the cancel");
        if (p.reported)
          this.#event(
            "info",
            `the robot cell confirmed the cancel of the goal on ${p.action} (${p.reason})`,
          );
        return;
      }
      p.reported = true;
      this.#event(
        "error",
        `the robot cell did not confirm the cancel of the goal on ${p.action} within ${timeoutMs} ms (link ${this.linkStatus()}): the arm may still be moving — use the robot's own stop. The cancel is sent again when the link is back.`,
      );
    });
  }

  #onUp(): void {
    this.#upSinceMs = this.#now();
    this.#statesThisConnection = 0;
    this.#disposeChannels();
    // A cancel the cell never confirmed goes out again on the new connection.
    if (this.#pendingCancel) this.#deliverCancel();
  }

  #onJointState(msg: JointStateMsg): void {
    const names = msg.name;
    if (!Array.isArray(names) || !Array.isArray(msg.position)) return;
    let seen = 0;
    for (let k = 0; k < names.length; k++) {
      const i = this.#jointMap.indexOf(names[k] as string);
      const p = msg.position[k];
      if (i === undefined || typeof p !== "number" || !Number.isFinite(p)) {
        if (names[k] === this.#fingerJoint && typeof p === "number" && Number.isFinite(p))
          this.#m.gripper = 2 * p;
        continue;
      }
      this.#m.positions[i] = p;
      const v = msg.velocity?.[k];
      this.#m.velocities[i] = typeof v === "number" && Number.isFinite(v) ? v : 0;
      seen += 1;
    }
    if (seen === 0) return;
    // The cell's sample time (its clock); the arrival time where the stamp is missing.
    const stampMs = fromRosTime(msg.header?.stamp) * 1000;
    const now = this.#now();
    this.#m.stampMs = stampMs > 0 ? stampMs : now;
    if (seen === this.jointNames.length) {
      this.#lastArrivalMs = now;
      this.#statesThisConnection += 1;
      const wasStale = this.#stale;
      this.#stale = false;
      if (this.#linkError !== "") this.#linkError = "";
      if (!this.#haveState) this.#haveState = true;
      this.#emitStatus();
      if (wasStale && this.#pendingCancel) this.#deliverCancel();
    }
    this.#onState?.();
    for (const l of this.#measurementListeners) l(this.#m);
  }

  readonly #measurementListeners: ((m: JointMeasurement) => void)[] = [];

  /** Every joint state as it arrives (see RobotCell.onMeasurement). */
  onMeasurement(listener: (m: JointMeasurement) => void): void {
    this.#measurementListeners.push(listener);
  }

  /** Watchdog: joint states that stopped (stale), CBOR that never arrived (fallback). */
  #checkLink(): void {
    const now = this.#now();
    const sinceLastCheck = now - this.#lastCheckMs;
    this.#lastCheckMs = now;
    if (this.#closed || !this.connection.isUp) return;
    // A tick that comes late means this process stalled (GC, CPU starvation), not the link:
    // joint states that waited in the socket meanwhile are read right after this timer, so
    // judge the link on the next tick.
    if (sinceLastCheck > Math.max(250, this.#link.staleMs / 2)) return;
    const staleMs = this.#link.staleMs;
    if (this.#haveState && !this.#stale && now - this.#lastArrivalMs > staleMs) {
      this.#goStale(now - this.#lastArrivalMs);
      return;
    }
    if (this.#statesThisConnection > 0 || this.#upSinceMs === 0) return;
    const silentMs = now - this.#upSinceMs;
    const topic = this.#link.jointStatesTopic;
    if (
      this.#jointSub.options.compression === "cbor" &&
      !this.#cborFellBack &&
      silentMs > Math.max(staleMs, MIN_CBOR_WAIT_MS)
    ) {
      this.#cborFellBack = true;
      this.#event(
        "warn",
        `rosbridge sent no CBOR ${topic} within ${silentMs} ms; subscribed again as JSON (a ROS 1 rosbridge ≤ 0.11 cannot CBOR-encode string[] fields; set ROS_COMPRESSION=none for it)`,
      );
      this.#upSinceMs = now;
      this.#jointSub.update({ compression: "none" });
      return;
    }
    if (silentMs > Math.max(staleMs, MIN_CBOR_WAIT_MS) && this.#linkError === "") {
      this.#setLinkError(
        `rosbridge is connected but no ${topic} arrived within ${silentMs} ms: is the arm's driver running, and does ROS_VERSION (${this.#version}) match the cell?`,
      );
    }
  }

  #goStale(ageMs: number): void {
    this.#stale = true;
    this.#jogUntilMs = 0;
    const reason = `link stale: no joint states for ${Math.round(ageMs)} ms`;
    this.#log.warn({ ageMs }, "robot cell link stale");
    this.#emitStatus();
    this.#abortRunning(reason);
  }

  #onPeerError(s: PeerStatus): void {
    const topic = this.#link.jointStatesTopic;
    let reason = `rosbridge error: ${s.msg}`;
    if (s.id !== undefined && s.id === this.#jointSub.subscribeId) {
      reason = `rosbridge refused the ${topic} subscription: ${s.msg}`;
      if (/not a valid type string/.test(s.msg)) {
        const other = this.#version === 2 ? 1 : 2;
        reason += ` — ROS_VERSION=${this.#version} names it ${this.#jointSub.options.type}, which this rosbridge cannot load: it looks like a ROS ${other} rosbridge, set ROS_VERSION=${other}`;
      }
      this.#setLinkError(reason);
      return;
    }
    if (s.id?.startsWith(`publish:${this.#link.jogTopic}:`)) {
      // A jog the cell refused (e.g. a zero jog while a trajectory runs): not a link error.
      this.#log.debug({ status: s.msg }, "jog refused by the cell");
      return;
    }
    const running = this.#running;
    if (running && s.id === running.goalId) {
      running.settle({ status: "aborted", reason: `${running.action}: ${s.msg}` });
      return;
    }
    if (s.id === "auth") {
      this.#setLinkError(s.msg);
      return;
    }
    this.#event("warn", reason);
  }

  #setLinkError(reason: string): void {
    if (this.#linkError === reason) return;
    this.#linkError = reason;
    this.#event("error", reason);
  }

  #event(level: LinkEvent["level"], message: string): void {
    const now = this.#now();
    const last = this.#eventTimes.get(message);
    if (last !== undefined && now - last < 10_000) return;
    this.#eventTimes.set(message, now);
    if (this.#eventTimes.size > 64) this.#eventTimes.clear();
    const fields = { link: this.linkStatus(), event: message };
    if (level === "error") this.#log.error(fields, "robot cell link event");
    else if (level === "warn") this.#log.warn(fields, "robot cell link event");
    else this.#log.info(fields, "robot cell link event");
    for (const l of this.#eventListeners) l({ level, message });
  }

  /**
   * Runs `fn` once a joint state puts every joint within {@link SETTLED_RAD} of `target`
   * (group order, rad), or after a grace of three throttle periods (at least 250 ms): a cell
   * whose controller settled within its own, looser goal tolerance is not held up for long.
   */
  #whenMeasuredAt(target: ArrayLike<number> | undefined, fn: () => void): void {
    // One slot suffices: a new execution starts only after this one settled (a stop settles
    // it at once), so a later wait may replace this one.
    const once = () => {
      if (this.#onState !== check) return;
      this.#onState = null;
      clearTimeout(timer);
      fn();
    };
    const check = () => {
      if (!target || maxAbsDiff(this.#m.positions, target) <= SETTLED_RAD) once();
    };
    const timer = setTimeout(once, Math.max(250, 3 * this.#link.throttleMs));
    this.#onState = check;
    check();
  }

  #onDown(reason: string): void {
    this.#haveState = false;
    this.#stale = false;
    this.#upSinceMs = 0;
    this.#jogUntilMs = 0;
    this.#disposeChannels();
    this.#emitStatus();
    this.#abortRunning(`link to the robot cell lost (${reason})`);
  }

  #emitStatus(): void {
    const s = this.linkStatus();
    if (s === this.#lastStatus) return;
    this.#lastStatus = s;
    for (const l of this.#statusListeners) l(s);
  }

  #toMsg(t: JointTrajectory): JointTrajectoryMsg {
    const names = t.jointNames.map((n) => this.#jointMap.toCell(n));
    for (const n of names) {
      if (this.#jointMap.indexOf(n) === undefined)
        throw new CellError(`joint ${n} is not one of the cell's joints`);
    }
    return {
      header: header(0, this.#version),
      joint_names: names,
      points: t.points.map((p) => ({
        positions: [...p.positions],
        velocities: [...p.velocities],
        accelerations: [...p.accelerations],
        effort: [],
        time_from_start: toRosTime(p.timeFromStart, this.#version),
      })),
    };
  }
}
