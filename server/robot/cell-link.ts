/**
 * Which robot cell the twin rooms link to, chosen by `ROBOT_LINK`:
 *  - `sim` (default): a simulated cell (ros/sim-cell) started on loopback, reached over the
 *    rosbridge protocol exactly as a real cell would be — `npm start` exercises the ROS path;
 *  - `ros`: a real cell's rosbridge at `ROSBRIDGE_URL` (MoveIt behind it);
 *  - `inprocess`: the simulated arm in this process, no socket (fastest; tests of the room).
 * Every room gets its own link to the same cell, and a lease on it: one session at a time
 * owns (commands) the arm, the others see it read-only (cell-ownership.ts). The leases live
 * in memory, or in the shared presence (Redis) when the server is scaled out.
 */
import type { Logger } from "pino";
import { startSimCell, type SimCell } from "../../ros/sim-cell/index.ts";
import type { Config } from "../config.ts";
import type { RobotDescription } from "../sim/robot-description.ts";
import type { PlannerBackend } from "./planning.ts";
import {
  CellLease,
  type LeasePresence,
  type LeaseStore,
  MemoryLeaseStore,
  PresenceLeaseStore,
} from "./cell-ownership.ts";
import { MoveItPlanner } from "./moveit-planner.ts";
import type { RobotCell } from "./robot-cell.ts";
import { RosCell } from "./ros-cell.ts";
import { SimulatedCell } from "./simulated-cell.ts";

/** A cell for one room and, when the cell plans, its planner. */
export interface LinkedCell {
  cell: RobotCell;
  /** The cell's MoveIt, or null when the twin plans. */
  planner: PlannerBackend | null;
  /** Shown to headsets as `robot.cell`. */
  label: string;
  /** The session's lease on the cell (null: the arm is the session's own, in-process). */
  lease: CellLease | null;
}

export interface CellLink {
  /** rosbridge URL the rooms connect to ("" in-process). */
  readonly url: string;
  /** Name of the cell its sessions' leases are on ("" in-process). */
  readonly cellId: string;
  /** A link for room `roomId` (each room its own rosbridge connection and lease). */
  connect(roomId?: string): LinkedCell;
  close(): Promise<void>;
}

export async function openCellLink(
  config: Config,
  robot: RobotDescription,
  logger: Logger,
  options: { presence?: LeasePresence | undefined } = {},
): Promise<CellLink> {
  const link = config.link;
  if (link.mode === "inprocess") {
    return {
      url: "",
      cellId: "",
      connect: () => ({
        cell: new SimulatedCell({
          limits: robot.kinematics,
          start: robot.home,
          gripper: robot.homeGripper,
          rateHz: config.room.simRateHz,
          startTolerance: config.motion.planStartToleranceRad,
        }),
        planner: null,
        label: "in-process",
        lease: null,
      }),
      close: async () => undefined,
    };
  }
  let sim: SimCell | null = null;
  let url = link.url;
  if (link.mode === "sim") {
    sim = await startSimCell({
      robot,
      rosVersion: link.rosVersion,
      host: "127.0.0.1",
      port: 0,
      jointStatesHz: link.simCellRateHz,
      controllerHz: config.room.simRateHz,
      logger: logger.child({ component: "sim-cell" }),
    });
    url = sim.url;
    logger.info({ url }, "simulated cell listening (rosbridge protocol)");
  }
  const linkConfig = { ...link, url };
  const store: LeaseStore = options.presence
    ? new PresenceLeaseStore(options.presence)
    : new MemoryLeaseStore();
  const cellId = link.cellId ?? url;
  let rooms = 0;
  return {
    url,
    cellId,
    connect: (roomId) => {
      const cell = new RosCell({
        link: linkConfig,
        jointNames: robot.kinematics.jointNames,
        gripper: robot.homeGripper,
        ...(robot.model.gripper && { fingerJoint: robot.model.gripper.joint }),
        simulated: link.mode === "sim",
        logger,
      });
      const planner =
        link.planner === "cell"
          ? new MoveItPlanner({
              connection: cell.connection,
              link: linkConfig,
              joints: cell.jointMap,
              baseFrame: robot.model.group.base,
              tipLink: robot.model.group.tip,
            })
          : null;
      rooms += 1;
      const lease = new CellLease({
        store,
        cellId,
        roomId: roomId ?? `link-${rooms}`,
        ttlMs: link.leaseTtlMs,
        logger,
      });
      return { cell, planner, label: link.mode === "sim" ? "sim-cell" : "ros", lease };
    },
    close: async () => {
      await sim?.close();
    },
  };
}
