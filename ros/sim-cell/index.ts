/**
 * The simulated robot cell: a rosbridge v2 server over a real websocket, backed by the
 * project's arm controller, motion planner and IK, so that any rosbridge client (roslib)
 * can use it as it would use rosbridge_server + MoveIt + a joint trajectory controller of a
 * real Panda. See README.md beside this file for the interfaces it offers.
 *
 * ```ts
 * const robot = await loadRobotDescription({ robot: { dir, sceneFile } });
 * const cell = await startSimCell({ robot, rosVersion: 2, port: 9090 });
 * // ws://127.0.0.1:9090 … await cell.close();
 * ```
 */
import type { AddressInfo } from "node:net";
import { pino, type Logger } from "pino";
import { WebSocketServer } from "ws";
import type { RosVersion } from "../../shared/ros-msgs.ts";
import {
  createTwinWorld,
  type RobotDescription,
  type SimulatedArm,
} from "../../server/sim/index.ts";
import { SimCellCore } from "./cell.ts";
import { SimCellStartError } from "./errors.ts";
import { noFaults, type SimCellFaults, type SimCellQuirks } from "./faults.ts";
import { type JointStatesCatchUp, RosbridgeServer } from "./server.ts";

export interface SimCellOptions {
  /** The robot and its cell layout (loadRobotDescription); only physical objects are used. */
  robot: RobotDescription;
  /** Message type names, time fields (`{sec,nanosec}` / `{secs,nsecs}`) and action transport. */
  rosVersion: 1 | 2;
  /** Listen address (default 127.0.0.1). */
  host?: string;
  /** Listen port (default 0: an ephemeral port, see {@link SimCell.port}). */
  port?: number;
  /** `/joint_states` publish rate, Hz (default 100, at most 1000). */
  jointStatesHz?: number;
  /** Spin window of the `/joint_states` scheduler, ms (default 0: timers only; at most 2). */
  jointStatesSpinMs?: number;
  /** Catch-up of late `/joint_states` deadlines (default "per-turn"; "burst" is the bench's baseline). */
  jointStatesCatchUp?: JointStatesCatchUp;
  /** Arm controller rate, Hz (default 1000, as a Panda's 1 kHz loop). */
  controllerHz?: number;
  /** Logger (default: pino at "info"). */
  logger?: Logger;
  /** Joint names the cell publishes and accepts (default: the URDF group's), group order. */
  jointNames?: readonly string[];
  /** Largest incoming frame, bytes (default 10 MiB, rosbridge's max_message_size). */
  maxMessageBytes?: number;
  /**
   * Behave like a particular rosbridge release: `rosbridge-0.11` (ROS 1 only) fails CBOR
   * subscriptions to messages with `string[]` fields, as rosbridge_suite 0.11.17 does.
   */
  quirks?: SimCellQuirks;
  /** Require rosauth MAC authentication (`auth` op) with this secret. */
  authSecret?: string;
  /** Faults in force from the start (see faults.ts); switch them later on {@link SimCell}. */
  faults?: Partial<SimCellFaults>;
}

export interface SimCell {
  /** `ws://host:port` to give to a rosbridge client. */
  readonly url: string;
  /** The bound port. */
  readonly port: number;
  /** Stops the controller, closes every client and the listening socket. */
  close(): Promise<void>;
  /** Test hook: the arm controller (positions rad, velocities rad/s, group order). */
  readonly arm: SimulatedArm;
  /** Test hook: closes every client socket abruptly (link loss). */
  dropClients(): void;
  /**
   * Test hook: freezes the rosbridge without closing any socket (a SIGSTOPped process): no
   * frame is read or sent, pings go unanswered, new handshakes hang; the arm keeps moving.
   */
  freeze(): void;
  /** Test hook: ends a freeze; frames clients sent meanwhile are handled now. */
  thaw(): void;
  /** Test hook: the run-time faults (publish no joint states, delay goal acceptance). */
  readonly faults: SimCellFaults;
  /** Test hook: subscribe ids on `topic`, summed over clients (leaks show here). */
  subscribeIds(topic: string): number;
  /** Test hook: connected clients. */
  readonly clientCount: number;
}

export const DEFAULT_MAX_MESSAGE_BYTES = 10 * 1024 * 1024;

/**
 * Starts a simulated cell listening on `host:port`.
 * @throws SimCellStartError for invalid options or when the port cannot be bound
 */
export async function startSimCell(options: SimCellOptions): Promise<SimCell> {
  const { robot } = options;
  const kin = robot.kinematics;
  const host = options.host ?? "127.0.0.1";
  const jointStatesHz = options.jointStatesHz ?? 100;
  const controllerHz = options.controllerHz ?? 1000;
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const jointNames = options.jointNames ?? kin.jointNames;
  const logger = options.logger ?? pino({ base: { service: "sim-cell" } });
  const version: RosVersion = options.rosVersion;
  const problems: string[] = [];
  if (version !== 1 && version !== 2)
    problems.push(`rosVersion must be 1 or 2, got ${String(version)}`);
  if (!(jointStatesHz > 0 && jointStatesHz <= 1000))
    problems.push("jointStatesHz must be in (0, 1000]");
  const jointStatesSpinMs = options.jointStatesSpinMs ?? 0;
  if (!(jointStatesSpinMs >= 0 && jointStatesSpinMs <= 2))
    problems.push("jointStatesSpinMs must be in [0, 2]");
  const jointStatesCatchUp = options.jointStatesCatchUp ?? "per-turn";
  if (jointStatesCatchUp !== "per-turn" && jointStatesCatchUp !== "burst")
    problems.push(
      `jointStatesCatchUp must be "per-turn" or "burst", got ${String(jointStatesCatchUp)}`,
    );
  if (!(controllerHz >= 20 && controllerHz <= 10_000))
    problems.push("controllerHz must be in [20, 10000]");
  const quirks = options.quirks ?? "none";
  if (quirks !== "none" && quirks !== "rosbridge-0.11")
    problems.push(`quirks must be none or rosbridge-0.11, got ${String(quirks)}`);
  if (quirks === "rosbridge-0.11" && version !== 1)
    problems.push("quirks rosbridge-0.11 is a ROS 1 rosbridge (rosVersion 1)");
  if (options.authSecret !== undefined && options.authSecret.length === 0)
    problems.push("authSecret must not be empty");
  if (!(Number.isInteger(maxMessageBytes) && maxMessageBytes >= 1024)) {
    problems.push("maxMessageBytes must be an integer ≥ 1024");
  }
  if (
    jointNames.length !== kin.dof ||
    new Set(jointNames).size !== jointNames.length ||
    jointNames.some((n) => n.length === 0)
  ) {
    problems.push(`jointNames must be ${kin.dof} distinct non-empty names`);
  }
  if (problems.length > 0)
    throw new SimCellStartError(`invalid sim cell options: ${problems.join("; ")}`);

  // The real cell knows only its physical objects; the twin's virtual ones stay in the twin.
  const layout = { ...robot.scene, objects: robot.scene.objects.filter((o) => !o.virtual) };
  const world = await createTwinWorld(kin, layout, { timestep: Math.min(0.05, 1 / controllerHz) });
  world.setArmJoints(robot.home, robot.homeGripper);
  const cell = new SimCellCore({ robot, checker: world, controllerHz });
  const faults: SimCellFaults = { ...noFaults(), ...options.faults };
  const server = new RosbridgeServer({
    cell,
    rosVersion: version,
    jointNames,
    jointStatesHz,
    jointStatesSpinMs,
    jointStatesCatchUp,
    maxMessageBytes,
    logger,
    faults,
    quirks,
    ...(options.authSecret !== undefined && { authSecret: options.authSecret }),
  });
  /**
   * Handshakes held while frozen (a stopped process accepts TCP but never answers): `true`
   * completes one, `false` refuses it (on close, so the listener can close).
   */
  const heldHandshakes: ((ok: boolean) => void)[] = [];
  // Frames up to twice the limit reach the server, which refuses them with a status error;
  // larger ones are cut by ws (close 1009) before they are buffered whole.
  const wss = new WebSocketServer({
    host,
    port: options.port ?? 0,
    maxPayload: 2 * maxMessageBytes + 64 * 1024,
    perMessageDeflate: false,
    verifyClient: (_info, accept) => {
      if (faults.frozen && heldHandshakes.length < 64) heldHandshakes.push(accept);
      else accept(true);
    },
  });
  try {
    await new Promise<void>((resolve, reject) => {
      wss.once("listening", resolve);
      wss.once("error", reject);
    });
  } catch (err) {
    cell.close();
    await server.close();
    world.free();
    throw new SimCellStartError(`cannot listen on ${host}:${options.port ?? 0}`, { cause: err });
  }
  wss.on("error", (err) => logger.error({ err }, "websocket server error"));
  wss.on("connection", (ws) => server.handleConnection(ws));
  const port = (wss.address() as AddressInfo).port;
  const urlHost =
    host === "0.0.0.0"
      ? "127.0.0.1"
      : host === "::"
        ? "[::1]"
        : host.includes(":")
          ? `[${host}]`
          : host;
  const url = `ws://${urlHost}:${port}`;
  logger.info(
    {
      url,
      rosVersion: version,
      jointStatesHz,
      jointStatesSpinMs,
      jointStatesCatchUp,
      controllerHz,
      objects: layout.objects.map((o) => o.id),
    },
    "sim cell listening",
  );

  let closing: Promise<void> | null = null;
  return {
    url,
    port,
    arm: cell.arm,
    dropClients: () => server.dropClients(),
    faults,
    subscribeIds: (topic) => server.subscribeIds(topic),
    get clientCount() {
      return server.clientCount;
    },
    freeze: () => server.setFrozen(true),
    thaw: () => {
      server.setFrozen(false);
      for (const accept of heldHandshakes.splice(0)) accept(true);
    },
    close: () => {
      closing ??= (async () => {
        cell.close();
        await server.close();
        // A held handshake keeps its HTTP request open, which would hold wss.close() back.
        for (const accept of heldHandshakes.splice(0)) accept(false);
        await new Promise<void>((resolve) => wss.close(() => resolve()));
        world.free();
        logger.info("sim cell closed");
      })();
      return closing;
    },
  };
}

export { RosbridgeServer, type RosbridgeServerOptions } from "./server.ts";
export { SimCellCore, CellExecution, type SimCellCoreOptions } from "./cell.ts";
export * from "./catalog.ts";
export * from "./errors.ts";
export * from "./faults.ts";
