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
import { pathToFileURL } from "node:url";
import { Client, type Room } from "@colyseus/sdk";
import { TwinState } from "../../shared/schema/twin-state.ts";
import { devToken, startServerProcess } from "../support/processes.ts";
import { scrapeMetrics, sleep, withinMs } from "./load-common.ts";
import { procCpuS } from "./proc-stats.ts";
import { latencyFigures, round } from "./stats.ts";

export interface RoomBenchOptions {
  clientCounts: number[];
  /** Measurement window per client count, s. */
  windowS: number;
  patchRateHz: number;
}

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
  const server = await startServerProcess({
    PATCH_RATE_HZ: String(options.patchRateHz),
    MAX_CLIENTS: "1000",
  });
  const rooms: Room<unknown, TwinState>[] = [];
  try {
    const base = server.url;
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
    const cpu0 = procCpuS(server.pid);
    const t0 = performance.now();
    recording = true;
    await sleep(options.windowS * 1000);
    recording = false;
    const elapsedS = (performance.now() - t0) / 1000;
    const cpu1 = procCpuS(server.pid);
    const bytes1 = await bytesSent(base);
    clearInterval(jog);
    clearInterval(flip);

    return {
      clients: n,
      serverCpuPercentOfOneCore: round((100 * (cpu1 - cpu0)) / elapsedS),
      bytesPerClientPerS: round((bytes1 - bytes0) / elapsedS / (n + 1)),
      latencyMs: latencyFigures(latencies),
    };
  } finally {
    await Promise.allSettled(rooms.map((r) => withinMs(r.leave(true), 2000)));
    await server.stop("SIGTERM");
  }
}

async function join(base: string, role: string, name: string, roomId?: string) {
  const client = new Client(base);
  client.auth.token = await devToken(base, name, role);
  return roomId
    ? client.joinById(roomId, {}, TwinState)
    : client.create("digital_twin", {}, TwinState);
}

/** Total bytes the server sent to clients (patches + messages), from /metrics. */
async function bytesSent(base: string): Promise<number> {
  const m = await scrapeMetrics(base);
  if (!m) throw new Error("/metrics did not answer");
  return m.bytes;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(JSON.stringify(await runRoomBench(), null, 2));
}
