/**
 * ROS link benchmark. The simulated cell runs in its own process (`ros/sim-cell/main.ts`,
 * as `npm run sim-cell` runs it), so publisher and subscriber do not share a thread.
 *  1. joint_states through roslib at 100 / 500 / 1000 Hz, JSON and CBOR: messages per
 *     second received vs published, loss, and added latency = receive time − header stamp
 *     (same machine, same clock), p50/p99. Beside it, the cell's own publish lateness
 *     (actual − scheduled start of each publish, from its `/sim_cell/publish_lateness`
 *     service) and the cell process's CPU use over the window; the top rate runs once more
 *     with the scheduler's spin window on (SIM_CELL_SPIN_MS) to show what it buys and costs,
 *     and once with SIM_CELL_CATCH_UP=burst, the loop the deadline scheduler replaced (late
 *     samples sent back to back, up to 50 from one wake-up): the baseline beside it.
 *  2. End to end: the server linked to that cell over rosbridge (ROBOT_LINK=ros), a headset
 *     (Colyseus SDK) in one room while the arm jogs: joint sample at the cell → headset
 *     onStateChange, p50/p99, against one patch interval + 5 ms.
 */
import { Client } from "@colyseus/sdk";
import { Ros, Service, Topic } from "roslib";
import type { Role } from "../../server/auth/roles.ts";
import type { JointStateMsg } from "../../shared/ros-msgs.ts";
import { fromRosTime } from "../../shared/ros-msgs.ts";
import { TwinState } from "../../shared/schema/twin-state.ts";
import { type ServerHandle, startScriptProcess, startServerProcess } from "../support/processes.ts";
import { benchTokens } from "./bench-tokens.ts";
import { sleep } from "./load-common.ts";
import { procCpuS } from "./proc-stats.ts";
import { latencyFigures, round } from "./stats.ts";

export interface RosBenchOptions {
  rates: number[];
  windowS: number;
  patchRateHz: number;
  /** Spin window tried at the top rate besides 0 (timers only), ms (default 1; 0 = skip). */
  spinMs?: number;
  /** Also run the top rate with the old burst catch-up (the baseline), spin 0 (default true). */
  baselineCatchUp?: boolean;
}

type CatchUp = "per-turn" | "burst";

/** The `/sim_cell/publish_lateness` response (simulation-only service of the cell). */
interface PublishLateness {
  published: number;
  skipped: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
}

export async function runRosBench(
  options: RosBenchOptions = { rates: [100, 500, 1000], windowS: 5, patchRateHz: 60 },
): Promise<Record<string, unknown>> {
  const jointStates: Record<string, unknown>[] = [];
  const runs: { rate: number; spinMs: number; catchUp: CatchUp }[] = options.rates.map((rate) => ({
    rate,
    spinMs: 0,
    catchUp: "per-turn",
  }));
  const top = Math.max(...options.rates);
  const spin = options.spinMs ?? 1;
  if (spin > 0) runs.push({ rate: top, spinMs: spin, catchUp: "per-turn" });
  if (options.baselineCatchUp ?? true) runs.push({ rate: top, spinMs: 0, catchUp: "burst" });
  for (const { rate, spinMs, catchUp } of runs) {
    const cell = await startSimCellProcess(rate, spinMs, catchUp);
    try {
      for (const compression of ["none", "cbor"] as const) {
        jointStates.push({
          rateHz: rate,
          spinMs,
          catchUp,
          compression,
          ...(await measureJointStates(cell, compression, options.windowS, rate)),
        });
      }
    } finally {
      await cell.stop();
    }
  }
  const endToEnd = await measureEndToEnd(options);
  return { jointStates, endToEnd };
}

async function measureJointStates(
  cell: ServerHandle,
  compression: "none" | "cbor",
  windowS: number,
  rate: number,
) {
  const url = cellUrl(cell);
  const ros = new Ros({});
  await new Promise<void>((resolve, reject) => {
    ros.on("connection", () => resolve());
    ros.on("error", () => reject(new Error(`cannot connect to ${url}`)));
    void ros.connect(url);
  });
  const latencies: number[] = [];
  let received = 0;
  let recording = false;
  const topic = new Topic<JointStateMsg>({
    ros,
    name: "/joint_states",
    messageType: "sensor_msgs/msg/JointState",
    compression,
    throttle_rate: 0,
    queue_length: 0,
  });
  topic.subscribe((msg) => {
    if (!recording) return;
    received += 1;
    latencies.push(
      performance.timeOrigin + performance.now() - fromRosTime(msg.header.stamp) * 1000,
    );
  });
  const lateness = new Service<{ reset: boolean }, PublishLateness>({
    ros,
    name: "/sim_cell/publish_lateness",
    serviceType: "agenttwin_msgs/PublishLateness",
  });
  const readLateness = (reset: boolean) =>
    new Promise<PublishLateness>((resolve, reject) =>
      lateness.callService({ reset }, resolve, (e) => reject(new Error(String(e)))),
    );
  await sleep(1000);
  await readLateness(true);
  const cpu0 = procCpuS(cell.pid);
  recording = true;
  const t0 = performance.now();
  await sleep(windowS * 1000);
  recording = false;
  const elapsed = (performance.now() - t0) / 1000;
  const cellCpuPercent = (100 * (procCpuS(cell.pid) - cpu0)) / elapsed;
  const own = await readLateness(false);
  topic.unsubscribe();
  ros.close();
  const perS = received / elapsed;
  return {
    receivedPerS: round(perS),
    lossPercent: round(Math.max(0, 100 * (1 - perS / rate))),
    addedLatencyMs: latencyFigures(latencies),
    cellLatenessMs: {
      p50: round(own.p50_ms),
      p99: round(own.p99_ms),
      max: round(own.max_ms),
      published: own.published,
      skipped: own.skipped,
    },
    cellCpuPercent: round(cellCpuPercent),
  };
}

async function measureEndToEnd(options: RosBenchOptions) {
  const cell = await startSimCellProcess(100);
  // ROBOT_LINK=ros needs a secret and gives no development tokens: mint them here.
  const { secret, tokens } = benchTokens();
  let server: ServerHandle | undefined;
  try {
    server = await startServerProcess({
      ROBOT_LINK: "ros",
      ROSBRIDGE_URL: cellUrl(cell),
      AUTH_SECRET: secret,
      PATCH_RATE_HZ: String(options.patchRateHz),
      RECORD: "false",
    });
    const base = server.url;
    const token = (role: Role, name: string) => tokens.issue({ userId: name, name, role }, 3600);
    const opClient = new Client(base);
    opClient.auth.token = await token("operator", "bench-op");
    const op = await opClient.joinOrCreate("digital_twin", {}, TwinState);
    op.onMessage("ack", () => undefined);
    op.onMessage("error", () => undefined);
    op.onMessage("notice", () => undefined);
    const viewer = new Client(base);
    viewer.auth.token = await token("observer", "bench-headset");
    const headset = await viewer.joinById(op.roomId, {}, TwinState);
    const latencies: number[] = [];
    let last = 0;
    let recording = false;
    headset.onStateChange((s) => {
      const stamp = s.robot.stamp;
      if (!recording || stamp === last || s.robot.link !== "connected") return;
      last = stamp;
      latencies.push(performance.timeOrigin + performance.now() - stamp);
    });
    let dir = 1;
    const jog = setInterval(
      () => op.send("jog", { mode: "joint", joint: 0, velocity: 0.4 * dir, deadmanMs: 300 }),
      100,
    );
    const flip = setInterval(() => (dir = -dir), 1500);
    await sleep(1500);
    recording = true;
    await sleep(options.windowS * 1000);
    recording = false;
    clearInterval(jog);
    clearInterval(flip);
    await Promise.allSettled([headset.leave(true), op.leave(true)]);
    const budget = 1000 / options.patchRateHz + 5;
    return {
      patchRateHz: options.patchRateHz,
      latencyMs: latencyFigures(latencies),
      targetP99Ms: round(budget),
    };
  } finally {
    await server?.stop();
    await cell.stop();
  }
}

/** The simulated cell in its own process (as `npm run sim-cell` runs it), any free port. */
function startSimCellProcess(
  rateHz: number,
  spinMs = 0,
  catchUp: CatchUp = "per-turn",
): Promise<ServerHandle> {
  return startScriptProcess(
    "ros/sim-cell/main.ts",
    {
      SIM_CELL_PORT: "0",
      SIM_CELL_RATE_HZ: String(rateHz),
      SIM_CELL_SPIN_MS: String(spinMs),
      SIM_CELL_CATCH_UP: catchUp,
    },
    { ready: "sim cell listening" },
  );
}

const cellUrl = (cell: ServerHandle) => `ws://127.0.0.1:${cell.port}`;
