/**
 * Room fan-out benchmark: N headset clients (real `@colyseus/sdk` clients over real
 * websockets) in one `digital_twin` room while an operator keeps the arm jogging.
 * The server runs in a child process (`server/main.ts`, as `npm start` runs it) so its CPU
 * is measured apart from the clients'. Figures per N:
 *  - server CPU, % of one core (from /proc/<pid>/stat over the window);
 *  - state bytes per client per second (server's own patch/message byte counters);
 *  - change→callback latency: client `Date.now()` at onStateChange minus the server's
 *    `robot.stamp` of that change (same machine, same clock), p50/p99.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { Client, type Room } from "@colyseus/sdk";
import { TwinState } from "../../shared/schema/twin-state.ts";
import { REPO_ROOT } from "../../server/config.ts";
import { summarize } from "./stats.ts";

export interface RoomBenchOptions {
  clientCounts: number[];
  /** Measurement window per client count, s. */
  windowS: number;
  patchRateHz: number;
}

const CLK_TCK = 100; // Linux USER_HZ for /proc/<pid>/stat

export async function runRoomBench(
  options: RoomBenchOptions = { clientCounts: [10, 50, 200], windowS: 10, patchRateHz: 60 },
): Promise<Record<string, unknown>> {
  const results: Record<string, unknown>[] = [];
  for (const n of options.clientCounts) {
    results.push(await measure(n, options));
  }
  return { patchRateHz: options.patchRateHz, windowS: options.windowS, runs: results };
}

async function measure(n: number, options: RoomBenchOptions): Promise<Record<string, unknown>> {
  const server = await startServer(options.patchRateHz);
  const rooms: Room<unknown, TwinState>[] = [];
  try {
    const base = `http://127.0.0.1:${server.port}`;
    const operator = await join(base, "operator", "bench-operator");
    let refused = 0;
    operator.onMessage("ack", () => undefined);
    operator.onMessage("error", () => (refused += 1));
    operator.onMessage("notice", () => undefined);
    rooms.push(operator);
    const roomId = operator.roomId;
    const latencies: number[] = [];
    let recording = false;
    for (let i = 0; i < n; i++) {
      const r = await join(base, "observer", `headset-${i}`, roomId);
      let lastStamp = 0;
      r.onStateChange((s) => {
        const stamp = s.robot.stamp;
        if (!recording || stamp === lastStamp) return;
        lastStamp = stamp;
        latencies.push(Date.now() - stamp);
      });
      rooms.push(r);
    }

    // Keep the arm moving: jog joint 1 back and forth, resending within the dead-man time.
    let dir = 1;
    const jog = setInterval(() => {
      operator.send("jog", { mode: "joint", joint: 0, velocity: 0.4 * dir, deadmanMs: 300 });
    }, 100);
    const flip = setInterval(() => (dir = -dir), 1500);
    await sleep(1000); // warm-up

    const bytes0 = await bytesSent(base);
    const cpu0 = cpuSeconds(server.pid);
    const t0 = performance.now();
    recording = true;
    await sleep(options.windowS * 1000);
    recording = false;
    const elapsedS = (performance.now() - t0) / 1000;
    const cpu1 = cpuSeconds(server.pid);
    const bytes1 = await bytesSent(base);
    clearInterval(jog);
    clearInterval(flip);

    const lat = summarize(latencies);
    return {
      clients: n,
      serverCpuPercentOfOneCore: round((100 * (cpu1 - cpu0)) / elapsedS),
      bytesPerClientPerS: round((bytes1 - bytes0) / elapsedS / (n + 1)),
      latencyMs: {
        p50: round(lat.median),
        p99: round(lat.p99),
        max: round(lat.max),
        samples: lat.n,
      },
    };
  } finally {
    await Promise.allSettled(rooms.map((r) => r.leave(true)));
    server.child.kill("SIGTERM");
    await new Promise((r) => server.child.once("exit", r));
  }
}

async function join(base: string, role: string, name: string, roomId?: string) {
  const res = await fetch(`${base}/api/dev/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name, role }),
  });
  const { token } = (await res.json()) as { token: string };
  const client = new Client(base);
  client.auth.token = token;
  return roomId
    ? client.joinById(roomId, {}, TwinState)
    : client.create("digital_twin", {}, TwinState);
}

/** Total bytes the server sent to clients (patches + messages), from /metrics. */
async function bytesSent(base: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  let total = 0;
  for (const line of text.split("\n")) {
    if (
      line.startsWith("agenttwin_patch_bytes_total") ||
      line.startsWith("agenttwin_message_bytes_total")
    ) {
      total += Number(line.split(" ").pop());
    }
  }
  return total;
}

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  // utime and stime are fields 14 and 15 of stat; index 11 and 12 after the comm field.
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

async function startServer(
  patchRateHz: number,
): Promise<{ child: ChildProcess; pid: number; port: number }> {
  const child = spawn(process.execPath, ["--import", "tsx", "server/main.ts"], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      PORT: "0",
      HOST: "127.0.0.1",
      LOG_LEVEL: "info",
      PATCH_RATE_HZ: String(patchRateHz),
      MAX_CLIENTS: "1000",
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let buf = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      buf += chunk.toString();
      for (const line of buf.split("\n")) {
        if (line.includes('"msg":"listening"'))
          resolve((JSON.parse(line) as { port: number }).port);
      }
    });
    child.once("exit", (code) => reject(new Error(`server exited early (${code})`)));
  });
  child.stdout!.resume();
  return { child, pid: child.pid!, port };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (v: number) => Math.round(v * 100) / 100;

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(JSON.stringify(await runRoomBench(), null, 2));
}
