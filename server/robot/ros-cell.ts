/**
 * A robot cell linked over rosbridge (roslib 2.x): joint states in from `/joint_states`,
 * trajectories out through MoveIt's ExecuteTrajectory action or a controller's
 * FollowJointTrajectory action (ROS 2 actions, or ROS 1 actionlib over topics), jogging
 * through MoveIt Servo's JointJog topic, stop as a goal cancel.
 *
 * Joint order: the twin's group order ({@link RobotCell.jointNames}); names on the wire go
 * through the configured name map (twin → cell). Link status is `connected` only while
 * rosbridge is up AND joint states have arrived; anything else is `disconnected` and every
 * motion command is refused. An execution running when the link drops ends `aborted` and is
 * never resumed.
 */
import type { Logger } from "pino";
import { Action, ActionClient, Goal } from "roslib";
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
import { JointNameMap } from "./joint-names.ts";
import { RosConnection } from "./ros-connection.ts";
import {
  CellError,
  type Execution,
  type ExecutionOutcome,
  type JointMeasurement,
  LinkStatus,
  type RobotCell,
} from "./robot-cell.ts";

/** How close (rad, every joint) the measurement must be to a trajectory's end to count as there. */
const SETTLED_RAD = 1e-3;

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

interface Running {
  cancel(): void;
  settle(o: ExecutionOutcome): void;
  startMs: number;
  duration: number;
  progress: number;
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
  #haveState = false;
  #jogUntilMs = 0;
  #running: Running | null = null;
  /** Run on every joint state while a finished execution waits for the arm to be measured there. */
  #onState: (() => void) | null = null;
  #lastStatus: LinkStatus = LinkStatus.Disconnected;
  readonly #statusListeners: ((s: LinkStatus) => void)[] = [];

  constructor(options: RosCellOptions) {
    this.#link = options.link;
    this.#version = options.link.rosVersion;
    this.#names = rosNames(this.#version);
    this.jointNames = options.jointNames;
    this.#log = options.logger.child({ cell: "ros", url: options.link.url });
    this.#now = options.now ?? Date.now;
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
      logger: this.#log,
    });
    this.connection.on("down", (reason) => this.#onDown(reason));
    this.connection.keepSubscribed<JointStateMsg>(
      {
        topic: options.link.jointStatesTopic,
        type: this.#names.jointState,
        throttleMs: options.link.throttleMs,
        queueLength: options.link.queueLength,
        compression: options.link.compression,
      },
      (msg) => this.#onJointState(msg),
    );
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

  /** Subscribes to link status changes (connected / disconnected). */
  onLinkStatus(listener: (s: LinkStatus) => void): void {
    this.#statusListeners.push(listener);
  }

  linkStatus(): LinkStatus {
    return this.connection.isUp && this.#haveState ? LinkStatus.Connected : LinkStatus.Disconnected;
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
    let settle!: (o: ExecutionOutcome) => void;
    let finished = false;
    const done = new Promise<ExecutionOutcome>((resolve) => {
      settle = (o) => {
        if (finished) return;
        finished = true;
        if (this.#running === running) this.#running = null;
        resolve(o);
      };
    });
    const running: Running = {
      cancel: () => undefined,
      settle: (o) => settle(o),
      startMs: this.#now(),
      duration: trajectory.duration,
      progress: 0,
    };
    this.#running = running;
    const controller = this.#link.execute === "controller";
    const name = controller ? this.#link.controllerAction : this.#link.executeAction;
    const type = controller ? this.#names.followJointTrajectory : this.#names.executeTrajectory;
    const goal: GoalMsg = controller
      ? { trajectory: jt }
      : { trajectory: { joint_trajectory: jt } };
    const onResult = (r: Result) => {
      const ok = controller
        ? (r as FollowJointTrajectoryResult).error_code === 0
        : (r as ExecuteTrajectoryResult).error_code?.val === MoveItErrorCode.SUCCESS;
      // The result can overtake the last joint states on the wire: success is reported once
      // the measurement shows the arm at the trajectory's end, so the twin shows it there.
      if (ok)
        this.#whenMeasuredAt(trajectory.points.at(-1)?.positions, () =>
          settle({ status: "succeeded" }),
        );
      else
        settle({
          status: "aborted",
          reason: `${name} reported failure: ${JSON.stringify(r).slice(0, 200)}`,
        });
    };
    const onFeedback = (f: Feedback) => {
      const m = "state" in f ? /progress=([\d.]+)/.exec(f.state) : null;
      if (m) running.progress = Math.min(1, Number(m[1]));
    };
    const ros = this.connection.ros;
    if (this.#version === 2) {
      const action = new Action<GoalMsg, Feedback, Result>({ ros, name, actionType: type });
      const id = action.sendGoal(goal, onResult, onFeedback, (err) =>
        settle({ status: "aborted", reason: `${name}: ${err}` }),
      );
      running.cancel = () => {
        if (id) action.cancelGoal(id);
      };
    } else {
      const client = new ActionClient<GoalMsg, Feedback, Result>({
        ros,
        serverName: name,
        actionName: type,
        // roslib: ms to wait for the server's first status before emitting `timeout`.
        timeout: this.#link.callTimeoutMs,
      });
      const g = new Goal({ actionClient: client, goalMessage: goal });
      g.on("feedback", onFeedback);
      g.on("result", (r) => {
        // actionlib: 3 SUCCEEDED; anything else (2 PREEMPTED, 4 ABORTED, 5 REJECTED) failed.
        if (g.status?.status === 3) onResult(r);
        else
          settle({
            status: "aborted",
            reason: `${name}: goal ended with status ${g.status?.status ?? "?"}`,
          });
      });
      g.on("timeout", () =>
        settle({ status: "aborted", reason: `${name}: no action server answered` }),
      );
      // roslib: ms to wait for the result; the trajectory's duration plus the call timeout.
      g.send(trajectory.duration * 1000 + this.#link.callTimeoutMs);
      running.cancel = () => g.cancel();
    }
    this.#log.info(
      { action: name, points: jt.points.length, durationS: trajectory.duration },
      "trajectory sent",
    );
    return {
      done,
      progress: () => {
        if (finished) return 1;
        const byTime =
          trajectory.duration > 0
            ? (this.#now() - running.startMs) / 1000 / trajectory.duration
            : 1;
        return Math.max(running.progress, Math.min(0.999, byTime));
      },
    };
  }

  stop(reason: string): void {
    this.#jogUntilMs = 0;
    const running = this.#running;
    if (running) {
      this.#running = null;
      try {
        running.cancel();
      } catch (err) {
        this.#log.error({ err }, "cancel failed");
      }
      running.settle({ status: "aborted", reason });
    }
    if (this.connection.isUp) {
      // A zero jog halts a servo jog at once (the cell otherwise stops at its deadline).
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

  async close(): Promise<void> {
    this.stop("cell closed");
    this.connection.close();
  }

  #requireUp(): void {
    if (this.linkStatus() !== LinkStatus.Connected) {
      throw new CellError(`robot cell at ${this.#link.url} is disconnected`);
    }
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
    this.#m.stampMs = stampMs > 0 ? stampMs : this.#now();
    if (!this.#haveState && seen === this.jointNames.length) {
      this.#haveState = true;
      this.#emitStatus();
    }
    this.#onState?.();
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
    this.#jogUntilMs = 0;
    const running = this.#running;
    this.#running = null;
    running?.settle({ status: "aborted", reason: `link to the robot cell lost (${reason})` });
    this.#emitStatus();
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
