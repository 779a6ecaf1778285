/**
 * Standalone simulated cell: `npm run sim-cell`. Environment (all optional):
 * SIM_CELL_PORT (9090), SIM_CELL_HOST (127.0.0.1), ROS_VERSION (2), SIM_CELL_RATE_HZ
 * (/joint_states rate, 100), SIM_CELL_SPIN_MS (spin window of its scheduler before each
 * deadline, 0 = timers only; see deadline-scheduler.ts), SIM_CELL_CATCH_UP (per-turn | burst:
 * how late deadlines are caught up; burst is the old loop, the bench's baseline), ROBOT_DIR
 * and SCENE_FILE (as the server's), LOG_LEVEL (info);
 * faults (faults.ts): SIM_CELL_QUIRKS (none | rosbridge-0.11), SIM_CELL_AUTH_SECRET (require
 * rosauth MAC authentication), SIM_CELL_GOAL_ACCEPT_DELAY_MS (0).
 * Logs JSON lines with pino; SIGTERM/SIGINT close every client and exit 0.
 */
import { exitOnSignals } from "../../server/shutdown.ts";
import { pino } from "pino";
import { z } from "zod";
import { loadRobotDescription } from "../../server/sim/index.ts";
import { startSimCell } from "./index.ts";

const EnvSchema = z.object({
  SIM_CELL_PORT: z.coerce.number().int().min(0).max(65535).default(9090),
  SIM_CELL_HOST: z.string().min(1).default("127.0.0.1"),
  ROS_VERSION: z.enum(["1", "2"]).default("2"),
  SIM_CELL_RATE_HZ: z.coerce.number().finite().gt(0).max(1000).default(100),
  SIM_CELL_SPIN_MS: z.coerce.number().finite().min(0).max(2).default(0),
  SIM_CELL_CATCH_UP: z.enum(["per-turn", "burst"]).default("per-turn"),
  ROBOT_DIR: z.string().min(1).default("assets/robots/panda"),
  SCENE_FILE: z.string().min(1).default("assets/scenes/cell.json"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  SIM_CELL_QUIRKS: z.enum(["none", "rosbridge-0.11"]).default("none"),
  SIM_CELL_AUTH_SECRET: z.string().min(1).optional(),
  SIM_CELL_GOAL_ACCEPT_DELAY_MS: z.coerce.number().int().min(0).max(60_000).default(0),
});

async function main(): Promise<void> {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([, v]) => v !== undefined && v !== ""),
  );
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    console.error(`invalid configuration:\n  ${lines.join("\n  ")}`);
    process.exit(2);
  }
  const e = parsed.data;
  const logger = pino({ level: e.LOG_LEVEL, base: { service: "sim-cell" } });
  const robot = await loadRobotDescription({
    robot: { dir: e.ROBOT_DIR, sceneFile: e.SCENE_FILE },
  });
  const cell = await startSimCell({
    robot,
    rosVersion: e.ROS_VERSION === "1" ? 1 : 2,
    host: e.SIM_CELL_HOST,
    port: e.SIM_CELL_PORT,
    jointStatesHz: e.SIM_CELL_RATE_HZ,
    jointStatesSpinMs: e.SIM_CELL_SPIN_MS,
    jointStatesCatchUp: e.SIM_CELL_CATCH_UP,
    logger,
    quirks: e.SIM_CELL_QUIRKS,
    ...(e.SIM_CELL_AUTH_SECRET !== undefined && { authSecret: e.SIM_CELL_AUTH_SECRET }),
    faults: { goalAcceptDelayMs: e.SIM_CELL_GOAL_ACCEPT_DELAY_MS },
  });

  exitOnSignals(logger, () => cell.close(), 5000);
}

await main();
