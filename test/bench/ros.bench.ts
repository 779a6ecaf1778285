/**
 * ROS link benchmark. The simulated cell runs in its own process (`ros/sim-cell/main.ts`,
 * as `npm run sim-cell` runs it), so publisher and subscriber do not share a thread.
 *  1. joint_states through roslib at 100 / 500 / 1000 Hz, JSON and CBOR: messages per
 *     second received vs published, loss, and added latency = receive time − header stamp
 *     (same machine, same clock), p50/p99.
 *  2. End to end: the server linked to that cell over rosbridge (ROBOT_LINK=ros), a headset
 *     (Colyseus SDK) in one room while the arm jogs: joint sample at the cell → headset
 *     onStateChange, p50/p99, against one patch interval + 5 ms.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { Client } from "@colyseus/sdk";
import { Ros, Topic } from "roslib";
import type { Role } from "../../server/auth/roles.ts";
import { TokenService } from "../../server/auth/tokens.ts";
import { REPO_ROOT } from "../../server/config.ts";
import type { JointStateMsg } from "../../shared/ros-msgs.ts";
import { fromRosTime } from "../../shared/ros-msgs.ts";
import { TwinState } from "../../shared/schema/twin-state.ts";
import { summarize } from "./stats.ts";

export interface RosBenchOptions {
  rates: number[];
  windowS: number;
  patchRateHz: number;
}

const round = (v: number) => Math.round(v * 100) / 100;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runRosBench(
  options: RosBenchOptions = { rates: [100, 500, 1000], windowS: 5, patchRateHz: 60 },
): Promise<Record<string, unknown>> {
  const jointStates: Record<string, unknown>[] = [];
  for (const rate of options.rates) {
    const cell = await startProcess(
      "ros/sim-cell/main.ts",
      { SIM_CELL_PORT: "0", SIM_CELL_RATE_HZ: String(rate) },
      "sim cell listening",
    );
    try {
      for (const compression of ["none", "cbor"] as const) {
        jointStates.push({
          rateHz: rate,
          compression,
          ...(await measureJointStates(cell.url, compression, options.windowS, rate)),
        });
      }
    } finally {
      await stopProcess(cell.child);
    }
  }
  const endToEnd = await measureEndToEnd(options);
  return { jointStates, endToEnd };
}

async function measureJointStates(
  url: string,
  compression: "none" | "cbor",
  windowS: number,
  rate: number,
) {
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
  await sleep(1000);
  recording = true;
  const t0 = performance.now();
  await sleep(windowS * 1000);
  recording = false;
  const elapsed = (performance.now() - t0) / 1000;
  topic.unsubscribe();
  ros.close();
  const lat = summarize(latencies);
  const perS = received / elapsed;
  return {
    receivedPerS: round(perS),
    lossPercent: round(Math.max(0, 100 * (1 - perS / rate))),
    addedLatencyMs: { p50: round(lat.median), p99: round(lat.p99), max: round(lat.max) },
  };
}

/** Secret of the benchmark's server (a ROS link refuses to start without one). */
const BENCH_SECRET = randomBytes(32).toString("hex");

async function measureEndToEnd(options: RosBenchOptions) {
  const cell = await startProcess(
    "ros/sim-cell/main.ts",
    { SIM_CELL_PORT: "0", SIM_CELL_RATE_HZ: "100" },
    "sim cell listening",
  );
  const server = await startProcess(
    "server/main.ts",
    {
      PORT: "0",
      HOST: "127.0.0.1",
      ROBOT_LINK: "ros",
      ROSBRIDGE_URL: cell.url,
      // ROBOT_LINK=ros needs a secret and gives no development tokens: mint them here.
      AUTH_SECRET: BENCH_SECRET,
      PATCH_RATE_HZ: String(options.patchRateHz),
      RECORD: "false",
    },
    "listening",
  );
  try {
    const base = `http://127.0.0.1:${server.port}`;
    const tokens = new TokenService(BENCH_SECRET);
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
    const lat = summarize(latencies);
    const budget = 1000 / options.patchRateHz + 5;
    return {
      patchRateHz: options.patchRateHz,
      latencyMs: {
        p50: round(lat.median),
        p99: round(lat.p99),
        max: round(lat.max),
        samples: lat.n,
      },
      targetP99Ms: round(budget),
    };
  } finally {
    await stopProcess(server.child);
    await stopProcess(cell.child);
  }
}

interface Started {
  child: ChildProcess;
  url: string;
  port: number;
}

/** Starts a TypeScript entry point and waits for its pino line `msg`. */
async function startProcess(
  entry: string,
  env: Record<string, string>,
  msg: string,
): Promise<Started> {
  const child = spawn(process.execPath, ["--import", "tsx", entry], {
    cwd: REPO_ROOT,
    env: { ...process.env, LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise<Started>((resolve, reject) => {
    let buf = "";
    const onData = (chunk: Buffer) => {
      buf += chunk.toString();
      const lines = buf.split("\n");
      buf = lines.pop() ?? "";
      for (const line of lines) {
        if (!line.includes(`"msg":"${msg}"`)) continue;
        const o = JSON.parse(line) as { url?: string; port?: number };
        const port = o.port ?? Number(new URL(o.url ?? "ws://x:0").port);
        child.stdout!.off("data", onData);
        child.stdout!.resume();
        resolve({ child, url: o.url ?? `ws://127.0.0.1:${port}`, port });
      }
    };
    child.stdout!.on("data", onData);
    child.once("exit", (code) => reject(new Error(`${entry} exited early (${code})`)));
  });
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await exited;
}
