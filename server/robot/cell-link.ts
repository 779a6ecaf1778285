/**
 * Which robot cell the twin rooms link to, chosen by `ROBOT_LINK`:
 *  - `sim` (default): a simulated cell (ros/sim-cell) on loopback, reached over the rosbridge
 *    protocol exactly as a real cell would be — `npm start` exercises the ROS path. The
 *    composition root (server/app.ts) starts and closes that cell and passes its URL here;
 *  - `ros`: a real cell's rosbridge at `ROSBRIDGE_URL` (MoveIt behind it);
 *  - `inprocess`: the simulated arm in this process, no socket (fastest; tests of the room).
 * Every room gets its own link to the same cell, and a lease on it: one session at a time
 * owns (commands) the arm, the others see it read-only (cell-ownership.ts). The leases live
 * in memory, or in the shared presence (Redis) when the server is scaled out.
 */
import type { Logger } from "pino";
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
}

/** Where the cell is and who keeps its leases. */
export interface CellPeer {
  /**
   * `ws://host:port` of the cell's rosbridge: the simulated cell's (`ROBOT_LINK=sim`, started
   * by the composition root) or `ROSBRIDGE_URL` (`ros`). Unused in-process.
   */
  rosbridgeUrl: string;
  /** Shared presence (Redis) for the leases when scaled out; in memory when absent. */
  presence?: LeasePresence | undefined;
}

/**
 * Links the rooms to the cell at `peer.rosbridgeUrl` (or to an in-process arm). Opens no
 * socket itself: each {@link CellLink.connect} makes one room's connection.
 */
export function openCellLink(
  config: Config,
  robot: RobotDescription,
  logger: Logger,
  peer: CellPeer,
): CellLink {
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
    };
  }
  const url = peer.rosbridgeUrl;
  const linkConfig = { ...link, url };
  const store: LeaseStore = peer.presence
    ? new PresenceLeaseStore(peer.presence)
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
  };
}
