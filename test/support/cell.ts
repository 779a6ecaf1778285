/**
 * The simulated robot cell (ros/sim-cell) for tests that link the server to it over
 * rosbridge: the shipped Panda in the default work cell (loaded once per process), ROS 2
 * unless told, logs at TEST_LOG_LEVEL (silent by default), and every stop of its arm
 * recorded, so a test waits for the cell's cancel as an event instead of polling the arm.
 */
import { pino } from "pino";
import { type SimCell, type SimCellOptions, startSimCell } from "../../ros/sim-cell/index.ts";
import { loadRobotDescription, type RobotDescription } from "../../server/sim/robot-description.ts";

/** The shipped robot and work cell, relative to the repository root. */
export const PANDA_CELL = {
  robot: { dir: "assets/robots/panda", sceneFile: "assets/scenes/cell.json" },
} as const;

let panda: Promise<RobotDescription> | undefined;

/** The Panda in the default work cell (the description the server builds), loaded once. */
export function loadPandaCell(): Promise<RobotDescription> {
  panda ??= loadRobotDescription(PANDA_CELL);
  return panda;
}

/** A simulated cell whose arm stops are recorded. */
export interface TestCell extends SimCell {
  /** Reason of every stop of the arm so far, oldest first (`canceled`: a goal's cancel). */
  readonly stops: readonly string[];
  /**
   * Resolves once the arm has been stopped for `reason` — counting only stops after the
   * first `after` of {@link stops} (take `stops.length` before the action), or rejects
   * after `timeoutMs`.
   */
  stopped(reason: string, after?: number, timeoutMs?: number): Promise<void>;
}

/** Starts a simulated cell on an ephemeral loopback port (ROS 2 unless `options` say). */
export async function startTestCell(options: Partial<SimCellOptions> = {}): Promise<TestCell> {
  const cell = await startSimCell({
    robot: await loadPandaCell(),
    rosVersion: 2,
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }),
    ...options,
  });
  const stops: string[] = [];
  let waiters: { reason: string; resolve: () => void }[] = [];
  const stop = cell.arm.stop.bind(cell.arm);
  cell.arm.stop = (reason: string) => {
    stops.push(reason);
    stop(reason);
    const done = waiters.filter((w) => w.reason === reason);
    waiters = waiters.filter((w) => w.reason !== reason);
    for (const w of done) w.resolve();
  };
  return Object.assign(cell, {
    stops,
    stopped(reason: string, after = 0, timeoutMs = 10_000): Promise<void> {
      if (stops.slice(after).includes(reason)) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters = waiters.filter((w) => w.resolve !== done);
          reject(new Error(`no arm stop "${reason}" within ${timeoutMs} ms; stops: ${stops}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          resolve();
        };
        waiters.push({ reason, resolve: done });
      });
    },
  });
}

/** Server env linking to a rosbridge at `url` with fast reconnects (tests drop links). */
export function rosLinkEnv(url: string): Record<string, string> {
  return {
    ROBOT_LINK: "ros",
    ROSBRIDGE_URL: url,
    ROS_RECONNECT_MIN_MS: "50",
    ROS_RECONNECT_MAX_MS: "200",
  };
}
