/**
 * Builds the domain of one `digital_twin` room: a Rapier twin world of the cell, the robot
 * cell link (the in-process simulated cell by default), a planner that checks against the
 * twin, and the session's agents (its {@link AgentBridge}, given through the constructor). Kept apart from the room so that tests and benchmarks can build a session
 * without Colyseus.
 */
import { readFile } from "node:fs/promises";
import type { Logger } from "pino";
import { SessionRecorder } from "../store/session-recorder.ts";
import type { Config } from "../config.ts";
import type { RobotCell } from "../robot/robot-cell.ts";
import { SimulatedCell } from "../robot/simulated-cell.ts";
import { MotionPlanner } from "../sim/motion-planner.ts";
import { createTwinWorld, type TwinWorld } from "../sim/world.ts";
import type { RobotDescription } from "../sim/robot-description.ts";
import { type PlannerBackend, twinPlanner } from "../robot/planning.ts";
import type { CellLease } from "../robot/cell-ownership.ts";
import { AgentBridge, type TwinAgentsSetup } from "./agent-bridge.ts";
import type { TwinMetrics } from "./link-metrics.ts";
import { TwinSession } from "./session.ts";
import type { AuditLog } from "../store/audit-log.ts";
import { hasRoom } from "../store/disk.ts";

export interface SessionFactoryDeps {
  config: Config;
  logger: Logger;
  metrics: TwinMetrics;
  robot: RobotDescription;
  roomId: string;
  /** The cell to link; default: a new in-process simulated cell at the home pose. */
  cell?: RobotCell;
  /** The cell's planner (MoveIt); default: the twin's own planner. */
  planner?: PlannerBackend | null;
  /** Shown to headsets as `robot.cell`. */
  cellLabel?: string;
  /** The process's audit log (approvals, stops, refusals). */
  audit?: AuditLog | null;
  /** The session's lease on a shared cell (claimed here, before the session exists). */
  lease?: CellLease | null;
  /** The session's agents (absent or null: the agents are off). */
  agents?: TwinAgentsSetup | null;
}

/**
 * Builds a session that owns `deps.cell` and `deps.lease` from then on; when building fails,
 * closes them (and whatever it had opened) before rethrowing.
 */
export async function createTwinSession(deps: SessionFactoryDeps): Promise<TwinSession> {
  const { config, robot } = deps;
  const agents = deps.agents ?? null;
  const cell =
    deps.cell ??
    new SimulatedCell({
      limits: robot.kinematics,
      start: robot.home,
      gripper: robot.homeGripper,
      rateHz: config.room.simRateHz,
      startTolerance: config.motion.planStartToleranceRad,
    });
  let world: TwinWorld | null = null;
  let recorder: SessionRecorder | null = null;
  try {
    world = await createTwinWorld(robot.kinematics, robot.scene, {
      timestep: 1 / config.room.physicsRateHz,
    });
    // No recording on a full disk: the session runs, the log and the audit log say why.
    const room = config.recording.enabled
      ? await hasRoom(config.recording.dir, config.store.minFreeDiskBytes)
      : true;
    if (!room) {
      deps.logger.warn(
        { roomId: deps.roomId },
        "not recording this session: the disk is nearly full",
      );
      deps.audit?.append({
        kind: "media",
        room: deps.roomId,
        message: "session not recorded: less than MIN_FREE_DISK_BYTES free",
      });
    }
    recorder =
      config.recording.enabled && room
        ? await SessionRecorder.open({
            dir: config.recording.dir,
            sessionName: `twin-${deps.roomId}`,
            maxBytes: config.recording.maxBytes,
            jointHz: config.recording.jointHz,
            flushMs: config.store.recordingFlushMs,
            logger: deps.logger.child({ roomId: deps.roomId, component: "recorder" }),
            robotDescription: await readFile(robot.urdfPath, "utf8"),
          })
        : null;
    // Know who owns the arm before the first command can arrive.
    await deps.lease?.start();
    const m = cell.measurement();
    world.setArmJoints(m.positions, m.gripper);
    world.step(1);
    return new TwinSession({
      config,
      logger: deps.logger.child({ roomId: deps.roomId }),
      metrics: deps.metrics,
      robot,
      kinematics: robot.kinematics,
      cell,
      planner: deps.planner ?? twinPlanner(new MotionPlanner(robot.kinematics, world)),
      ...(deps.cellLabel !== undefined && { cellLabel: deps.cellLabel }),
      world,
      initialWorld: world.takeSnapshot(),
      recorder,
      audit: deps.audit ?? null,
      roomId: deps.roomId,
      lease: deps.lease ?? null,
      linkMetrics: deps.metrics.robotLink,
      agents: agents && ((session) => new AgentBridge({ ...agents, session, robot })),
    });
  } catch (err) {
    // The session would have closed these; without it nobody does (a RosCell would keep its
    // rosbridge connection and reconnect loop, a started lease would keep the arm).
    await deps.lease?.close().catch(() => undefined);
    await cell.close().catch(() => undefined);
    await recorder?.close().catch(() => undefined);
    world?.free();
    throw err;
  }
}
