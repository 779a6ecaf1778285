/**
 * Load benchmark (`npm run bench:load`). By default it runs the thin-generator comparison of
 * load-thin.ts: thin raw-websocket headsets and a few SDK latency samplers against the bench's
 * bare Colyseus room and the product's `digital_twin` rooms, with twin/bare ratios (see that
 * file; options below). With `--generator sdk` it runs the earlier benchmark this file
 * describes: hundreds of headset clients (real `@colyseus/sdk` clients over real websockets) across `digital_twin` and `metaverse` rooms, on one server
 * process and on two processes sharing a local `redis-server` (Colyseus Redis presence +
 * driver, `REDIS_URL` + `PUBLIC_ADDRESS`). Servers run as `npm start` runs them
 * (`server/main.ts`: simulated cell over rosbridge, agents on, recording on, info logs,
 * `PATCH_RATE_HZ=60`), each in its own child process; the headsets run in a pool of client
 * child processes, so client work is never counted as server work.
 *
 * Load: rooms of {@link ROOM_SIZE} headsets, half of each process's headsets in twin rooms,
 * half in metaverse rooms. Every headset sends its head pose at `--pose-hz` (default 72 Hz,
 * a PICO 4's refresh rate) with a small, realistic sway, so every pose is a state change the
 * room fans out to the others, as with real headsets. In every twin room an operator jogs
 * joint 1 back and forth (10 Hz jog messages, as a held button does); in every metaverse room
 * a "mover" client sends its head pose at 60 Hz. With two processes, the control clients
 * create rooms through each process in turn (Colyseus places each on the process with fewer
 * rooms) and headsets matchmake through the processes' URLs in turn, so about half reach
 * their room through a seat reservation made over Redis on the other process. Once joined, each
 * headset sends one pose where it stands and the bench waits until the metaverse rooms have
 * decided every headset's stream for that spot (`settle`) before the pose streams start.
 *
 * Change→client latency (all clocks are this machine's wall clock, so no clock offset):
 *  - twin rooms: headset `onStateChange` time − `robot.stamp`, the time the simulated cell
 *    (in the server process) sampled the joints. It covers the rosbridge hop into the room,
 *    the wait for the next 60 Hz tick (0–16.7 ms by itself), the patch and the decode;
 *  - metaverse rooms: headset `onStateChange` time − the time the mover sent its pose, which
 *    the mover writes into its own head yaw (the mover turns on the spot, one turn per
 *    10 s: yaw = 2π · (send time mod 10 s) / 10 s; float32 quaternion components keep it to
 *    about 0.001 ms). It also covers the mover's uplink (one loopback hop). The yaw, not the
 *    position, carries the stamp because a head that moves more than 0.5 m makes the room
 *    re-decide that headset's stream (see `settle` below).
 *  Each distinct stamp a headset sees is one sample; "updates/s" is how many it saw per second
 *  (≈ 60 when every patch arrives).
 *
 * Also per scenario: server CPU (% of one core, utime+stime from /proc/<pid>/stat) and memory
 * (VmRSS, VmHWM) per process, and redis-server's CPU; the server's event-loop lag p99
 * (prom-client, over the window); bytes the servers sent per headset per second (their
 * patch + message byte counters, websocket framing excluded); poses the servers accepted per
 * second; errors (failed joins after retries, join retries, room errors, drops, unexpected
 * leaves, error replies, messages the servers refused, error lines in the server logs); the
 * client pool's own CPU and event-loop delay p99; and what every other process on the
 * machine used meanwhile (from /proc/stat), because the load generator and anything else
 * running share the same cores as the servers: on a small machine the figures say as much
 * about the generator as about the server. The output says so.
 *
 *   npm run bench:load                    thin: 25, 100, 200, 500 headsets × (bare, twin)
 *   npm run bench:load -- --quick         thin: 25 and 100 headsets, 6 s windows
 *     options: --headsets 25,100  --targets bare,twin  --window-s 15  --warmup-s 4
 *              --pose-hz 30  --gen-procs 2  --samplers 5  --robot-link inprocess|sim
 *              --profile (servers under --cpu-prof: top costs per run; CPU not comparable)
 *   npm run bench:load -- --print results/load-latest.json   print a saved thin result again
 *   npm run bench:load -- --generator sdk                full: 1 process × 100/250/500,
 *                                                        2 processes × 250/500
 *   npm run bench:load -- --generator sdk --quick        1 process × 50, 2 processes × 50
 *   npm run bench:load -- --generator sdk --only one     (or: two)
 *   options: --window-s 10  --pose-hz 72  --client-procs 2
 *
 * Writes results/load-<time>.json and results/load-latest.json and prints a table. A
 * benchmark never fails a build: it exits 0 unless it could not run at all.
 */
import { randomBytes } from "node:crypto";
import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { Client, type Room } from "@colyseus/sdk";
import { REPO_ROOT } from "../../server/config.ts";
import { MetaverseState } from "../../shared/schema/metaverse-state.ts";
import { TwinState } from "../../shared/schema/twin-state.ts";
import {
  devToken,
  freePort,
  hasRedisServer,
  type RedisHandle,
  type ServerHandle,
  startRedis,
  startScriptProcess,
} from "../support/processes.ts";
import {
  printThinTable,
  runThinLoadBench,
  thinChildren,
  type Target,
  type ThinBenchResult,
} from "./load-thin.ts";
import {
  ChildPool,
  countErrorLines,
  joinEach,
  type MetricsSample,
  placeOf,
  type Poser,
  quietSdk,
  ROOM_SIZE,
  roomSizes,
  scrapeMetrics,
  sleep,
  startPoseStream,
  swayingPose,
  wallMs,
  withinMs,
} from "./load-common.ts";
import { CLK_TCK, machineCpu, memoryOf, procCpuS } from "./proc-stats.ts";
import { latencyFigures, type LatencyFigures, round } from "./stats.ts";

/** One measured configuration. */
export interface LoadScenario {
  label: string;
  /** Server processes; 2 share matchmaking through a local redis-server. */
  processes: 1 | 2;
  /** Headsets per process (half in twin rooms, half in metaverse rooms). */
  headsetsPerProcess: number;
}

export interface LoadBenchOptions {
  /** Small scenarios and short windows. */
  quick?: boolean;
  /** Only the one-process or only the two-process scenarios. */
  only?: "one" | "two";
  /** Replaces the default scenarios. */
  scenarios?: LoadScenario[];
  /** Measurement window per scenario, s. */
  windowS?: number;
  /** Client processes the headsets are spread over. */
  clientProcs?: number;
  /** Head poses each headset sends per second (0: headsets only receive). */
  headsetPoseHz?: number;
  patchRateHz?: number;
}

/** Secret shared by the bench's server processes when they scale out over Redis. */
const LOAD_SECRET = randomBytes(32).toString("hex");

/** The issue's target: headsets per process at 60 Hz patches with p99 < 30 ms. */
export const TARGET = { headsetsPerProcess: 500, patchRateHz: 60, p99Ms: 30 };

const THIS_FILE = fileURLToPath(import.meta.url);
/** Metaverse latency is carried in the mover's head yaw: one turn per this many ms. */
const STAMP_PERIOD_MS = 10_000;
/** Joins in flight per client process: each is an HTTP request plus a websocket. */
const JOIN_CONCURRENCY = 8;
const JOIN_TIMEOUT_MS = 15_000;
const MOVER_HZ = 60;

const NOTE =
  "The load generator (headset clients) runs on the same machine and shares its cores with " +
  "the server process(es); so does anything else running. Server CPU is the server " +
  "processes' own; client CPU and other CPU are reported apart.";

function defaultScenarios(quick: boolean, only: "one" | "two" | undefined): LoadScenario[] {
  const all: LoadScenario[] = quick
    ? [
        { label: "1 process × 50", processes: 1, headsetsPerProcess: 50 },
        { label: "2 processes × 50", processes: 2, headsetsPerProcess: 50 },
      ]
    : [
        { label: "1 process × 100", processes: 1, headsetsPerProcess: 100 },
        { label: "1 process × 250", processes: 1, headsetsPerProcess: 250 },
        { label: "1 process × 500", processes: 1, headsetsPerProcess: 500 },
        { label: "2 processes × 250", processes: 2, headsetsPerProcess: 250 },
        { label: "2 processes × 500", processes: 2, headsetsPerProcess: 500 },
      ];
  if (only === undefined) return all;
  return all.filter((s) => s.processes === (only === "one" ? 1 : 2));
}

// --- messages between the bench and its client processes ---------------------------------

/** One headset to run: which server to matchmake through and which room to join. */
interface HeadsetSpec {
  name: string;
  url: string;
  roomId: string;
  kind: "twin" | "metaverse";
  /** Metaverse: session id of the room's mover, whose head position carries its send time. */
  moverSessionId?: string;
}

type ToClients =
  | { cmd: "join"; headsets: HeadsetSpec[] }
  | { cmd: "poses"; hz: number }
  | { cmd: "record"; on: boolean }
  | { cmd: "report" }
  | { cmd: "leave" };

interface ClientReport {
  twinLatencyMs: Float64Array;
  metaverseLatencyMs: Float64Array;
  /** State changes (new stamps) received while recording, all headsets together. */
  updates: number;
  /** Poses sent while recording. */
  posesSent: number;
  errors: Record<string, number>;
  cpuS: number;
  eventLoopDelayP99Ms: number;
}

type FromClients =
  | { kind: "joined"; joined: number; failed: number; firstError?: string }
  | ({ kind: "report" } & ClientReport)
  | { kind: "left" };

// --- client process -----------------------------------------------------------------------

/** A head pose whose yaw carries the send time (see the file header), for the mover. */
function stampedPose() {
  const yaw = (2 * Math.PI * (wallMs() % STAMP_PERIOD_MS)) / STAMP_PERIOD_MS;
  return {
    head: {
      position: { x: 0, y: -1.5, z: 1.6 },
      orientation: { x: 0, y: 0, z: Math.sin(yaw / 2), w: Math.cos(yaw / 2) },
    },
  };
}

/** Send time mod {@link STAMP_PERIOD_MS} read back from a yaw quaternion, ms. */
function stampOf(q: { z: number; w: number }): number {
  const yaw = 2 * Math.atan2(q.z, q.w);
  const turn = (yaw / (2 * Math.PI) + 2) % 1;
  return turn * STAMP_PERIOD_MS;
}

async function clientProcess(): Promise<void> {
  const rooms: Room[] = [];
  const posers: Poser[] = [];
  const twinLatency: number[] = [];
  const metaverseLatency: number[] = [];
  const errors: Record<string, number> = {};
  const count = (what: string) => (errors[what] = (errors[what] ?? 0) + 1);
  let recording = false;
  let leaving = false;
  let updates = 0;
  let posesSent = 0;
  let cpu0 = process.cpuUsage();
  const eld = monitorEventLoopDelay({ resolution: 5 });
  let poseTimer: NodeJS.Timeout | undefined;
  const send = (m: FromClients) => process.send?.(m);
  // The bench is gone: leave nothing behind.
  process.on("disconnect", () => process.exit(0));
  quietSdk();

  const join = async (h: HeadsetSpec): Promise<Room> => {
    const client = new Client(h.url);
    client.auth.token = await devToken(h.url, h.name, "observer");
    return h.kind === "twin"
      ? await client.joinById(h.roomId, {}, TwinState)
      : await client.joinById(h.roomId, {}, MetaverseState);
  };

  const track = (h: HeadsetSpec, room: Room, i: number) => {
    rooms.push(room);
    room.onMessage("*", (type) => {
      if (type === "error" && recording) count("error replies");
    });
    room.onError(() => count("room errors"));
    room.onDrop(() => count("drops"));
    room.onLeave(() => {
      if (!leaving) count("unexpected leaves");
    });
    if (h.kind === "twin") {
      let last = 0;
      (room as Room<unknown, TwinState>).onStateChange((s) => {
        const stamp = s.robot.stamp;
        if (!recording || stamp === last) return;
        last = stamp;
        updates += 1;
        twinLatency.push(wallMs() - stamp);
      });
    } else {
      let last = Number.NaN;
      (room as Room<unknown, MetaverseState>).onStateChange((s) => {
        const q = s.participants.get(h.moverSessionId ?? "")?.head.orientation;
        if (!recording || q === undefined || q.z === last) return;
        last = q.z;
        updates += 1;
        const now = wallMs() % STAMP_PERIOD_MS;
        metaverseLatency.push((now - stampOf(q) + STAMP_PERIOD_MS) % STAMP_PERIOD_MS);
      });
    }
    // Headsets stand around the cell; their pose phases are spread over one period.
    posers.push({ send: (type, payload) => room.send(type, payload), ...placeOf(i) });
  };

  process.on("message", (m: ToClients) => {
    void (async () => {
      if (m.cmd === "join") {
        const joins = await joinEach(
          m.headsets.map((h, i) => ({ h, i })),
          { concurrency: JOIN_CONCURRENCY, attemptTimeoutMs: JOIN_TIMEOUT_MS },
          async ({ h, i }) => track(h, await join(h), i),
          count,
        );
        // Headset put on: one pose where the user stands (the stream starts on "poses").
        const tS = performance.now() / 1000;
        for (const p of posers) p.send("pose", swayingPose(p.base, tS, p.phase));
        send({ kind: "joined", ...joins });
      } else if (m.cmd === "poses") {
        if (m.hz > 0 && !poseTimer) {
          poseTimer = startPoseStream(posers, m.hz, () => {
            if (recording) posesSent += 1;
          });
        }
      } else if (m.cmd === "record") {
        recording = m.on;
        if (m.on) {
          cpu0 = process.cpuUsage();
          eld.reset();
          eld.enable();
        } else eld.disable();
      } else if (m.cmd === "report") {
        const cpu = process.cpuUsage(cpu0);
        send({
          kind: "report",
          twinLatencyMs: Float64Array.from(twinLatency),
          metaverseLatencyMs: Float64Array.from(metaverseLatency),
          updates,
          posesSent,
          errors,
          cpuS: (cpu.user + cpu.system) / 1e6,
          eventLoopDelayP99Ms: eld.percentile(99) / 1e6,
        });
      } else {
        leaving = true;
        clearInterval(poseTimer);
        await Promise.allSettled(rooms.map((r) => withinMs(r.leave(true), 2000)));
        send({ kind: "left" });
        process.exit(0);
      }
    })();
  });
}

/** Child processes of this bench, killed if the bench exits early. */
const children = new Set<ChildProcess>();

// --- the bench ----------------------------------------------------------------------------

interface ProcessFigures {
  cpuPercentOfOneCore: number;
  rssMiB: number;
  peakRssMiB: number;
  eventLoopLagP99Ms: number;
  rooms: Record<string, number>;
  /** Clients joined (headsets and control clients). */
  clients: number;
}

/** What one scenario measured (or why it was skipped). */
export interface LoadRun {
  label: string;
  processes: 1 | 2;
  skipped?: string;
  error?: string;
  rooms?: { digital_twin: number; metaverse: number };
  headsets?: {
    asked: number;
    joined: number;
    failed: number;
    joinSeconds: number;
    /** Wait after the first poses until the servers' CPU settled (see `settle`). */
    settleSeconds: number;
  };
  firstJoinError?: string;
  windowS?: number;
  perProcess?: ProcessFigures[];
  redisCpuPercentOfOneCore?: number;
  latencyMs?: { all: LatencyFigures; digital_twin: LatencyFigures; metaverse: LatencyFigures };
  updatesPerHeadsetPerS?: number;
  bytesPerHeadsetPerS?: number;
  posesAcceptedPerS?: number;
  posesSentPerS?: number;
  errors?: Record<string, number>;
  generator?: {
    clientProcesses: number;
    clientCpuPercentOfOneCore: number[];
    clientEventLoopDelayP99Ms: number[];
    benchCpuPercentOfOneCore: number;
  };
  /** CPU every other process on the machine used during the window, % of one core. */
  otherCpuPercentOfOneCore?: number;
  /** Whole machine busy, % of all cores. */
  machineBusyPercent?: number;
  meetsTarget?: boolean;
}

export interface LoadBenchResult {
  date: string;
  note: string;
  machine: Record<string, unknown>;
  options: Record<string, unknown>;
  target: typeof TARGET;
  runs: LoadRun[];
  scaling?: Record<string, unknown>;
}

/** Runs every scenario and returns the figures (also printed by the CLI below). */
export async function runLoadBench(options: LoadBenchOptions = {}): Promise<LoadBenchResult> {
  const quick = options.quick ?? false;
  const windowS = options.windowS ?? (quick ? 8 : 10);
  const clientProcs = options.clientProcs ?? Math.max(2, Math.min(4, cpus().length - 1));
  const poseHz = options.headsetPoseHz ?? 72;
  const patchRateHz = options.patchRateHz ?? TARGET.patchRateHz;
  const runs: LoadRun[] = [];
  const load0 = loadavg();
  for (const scenario of options.scenarios ?? defaultScenarios(quick, options.only)) {
    const base = { label: scenario.label, processes: scenario.processes };
    if (scenario.processes === 2 && !hasRedisServer()) {
      runs.push({ ...base, skipped: "redis-server is not installed" });
      continue;
    }
    console.error(`load: ${scenario.label} …`);
    try {
      runs.push(await measure(scenario, { windowS, clientProcs, poseHz, patchRateHz }));
    } catch (err) {
      // A benchmark reports; one scenario that could not run does not stop the others.
      console.error(`load: ${scenario.label} failed:`, err);
      runs.push({ ...base, error: err instanceof Error ? err.message : String(err) });
    }
  }
  return {
    date: new Date().toISOString(),
    note: NOTE,
    machine: {
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? "unknown",
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      loadAverage1mBefore: round(load0[0]!),
      loadAverage1mAfter: round(loadavg()[0]!),
    },
    options: {
      quick,
      windowS,
      clientProcs,
      headsetPoseHz: poseHz,
      patchRateHz,
      roomSize: ROOM_SIZE,
      moverHz: MOVER_HZ,
    },
    target: TARGET,
    runs,
    ...scaling(runs),
  };
}

/**
 * Capacity with the second process: each two-process run beside the one-process run with
 * the same headsets per process. Linear scaling keeps CPU per process, p99 and updates/s.
 */
function scaling(runs: LoadRun[]): { scaling?: Record<string, unknown> } {
  const pairs: Record<string, unknown>[] = [];
  for (const two of runs.filter((r) => r.processes === 2 && r.perProcess)) {
    const n = (two.headsets?.asked ?? 0) / 2;
    const one = runs.find(
      (r) => r.processes === 1 && r.perProcess && (r.headsets?.asked ?? 0) === n,
    );
    if (!one) continue;
    const cpu = (r: LoadRun) =>
      round(r.perProcess!.reduce((a, p) => a + p.cpuPercentOfOneCore, 0) / r.perProcess!.length);
    pairs.push({
      headsetsPerProcess: n,
      headsets: { oneProcess: one.headsets?.joined, twoProcesses: two.headsets?.joined },
      serverCpuPercentPerProcess: { oneProcess: cpu(one), twoProcesses: cpu(two) },
      p99Ms: { oneProcess: one.latencyMs?.all.p99, twoProcesses: two.latencyMs?.all.p99 },
      updatesPerHeadsetPerS: {
        oneProcess: one.updatesPerHeadsetPerS,
        twoProcesses: two.updatesPerHeadsetPerS,
      },
      /** Headsets served per unit of server CPU, two processes ÷ one (1 = linear). */
      efficiencyRatio: round(
        two.headsets!.joined / (cpu(two) * 2) / (one.headsets!.joined / cpu(one)),
      ),
    });
  }
  return pairs.length > 0 ? { scaling: { pairs } } : {};
}

async function measure(
  scenario: LoadScenario,
  o: { windowS: number; clientProcs: number; poseHz: number; patchRateHz: number },
): Promise<LoadRun> {
  let redis: RedisHandle | undefined;
  const servers: ServerHandle[] = [];
  const dataDirs: string[] = [];
  const controls: Room[] = [];
  const timers: NodeJS.Timeout[] = [];
  let pool: ChildPool<ToClients, FromClients> | undefined;
  const serverErrors: { lines: number }[] = [];
  const controlErrors: Record<string, number> = {};
  const countControl = (what: string) => (controlErrors[what] = (controlErrors[what] ?? 0) + 1);
  let recording = false;
  try {
    if (scenario.processes === 2) {
      redis = await startRedis();
      children.add(redis.child);
    }
    for (let i = 0; i < scenario.processes; i++) {
      const port = await freePort();
      const dataDir = await mkdtemp(join(tmpdir(), "agenttwin-load-"));
      dataDirs.push(dataDir);
      // startScriptProcess: it also knows the longer "listening: viewer …" start-up line.
      const server = await startScriptProcess(
        "server/main.ts",
        {
          PORT: String(port),
          PATCH_RATE_HZ: String(o.patchRateHz),
          MAX_CLIENTS: "1000",
          MAX_ROOMS: "1000",
          DATA_DIR: dataDir,
          // Processes sharing Redis verify each other's tokens: one secret (required with
          // REDIS_URL), and development tokens for the bench's loopback clients.
          ...(redis && {
            REDIS_URL: redis.url,
            PUBLIC_ADDRESS: `127.0.0.1:${port}`,
            AUTH_SECRET: LOAD_SECRET,
            AUTH_DEV_TOKENS: "true",
          }),
        },
        { timeoutMs: 120_000 },
      );
      children.add(server.child);
      serverErrors.push(countErrorLines(server.child, () => recording));
      servers.push(server);
    }
    const urls = servers.map((s) => s.url);
    const perKind = Math.floor(scenario.headsetsPerProcess / 2);
    const twinRooms = Array.from({ length: scenario.processes }, () => roomSizes(perKind)).flat();
    const mvRooms = Array.from({ length: scenario.processes }, () =>
      roomSizes(scenario.headsetsPerProcess - perKind),
    ).flat();

    // Control clients create the rooms, through each process in turn.
    const headsets: HeadsetSpec[] = [];
    const movers: Room<unknown, MetaverseState>[] = [];
    const controlEvents = (room: Room) => {
      room.onMessage("*", (type) => {
        if (type === "error" && recording) countControl("control error replies");
      });
      room.onDrop(() => countControl("control drops"));
      room.onLeave(() => {
        if (recording) countControl("control leaves");
      });
    };
    for (const [r, size] of twinRooms.entries()) {
      const url = urls[r % urls.length]!;
      const op = new Client(url);
      op.auth.token = await devToken(url, `operator-${r}`, "operator");
      const room = await op.create("digital_twin", {}, TwinState);
      controlEvents(room);
      controls.push(room);
      let dir = 1;
      timers.push(
        setInterval(() => {
          room.send("jog", { mode: "joint", joint: 0, velocity: 0.4 * dir, deadmanMs: 300 });
        }, 100),
        setInterval(() => (dir = -dir), 1500),
      );
      for (let h = 0; h < size; h++) {
        headsets.push({ name: `twin-${r}-${h}`, url: "", roomId: room.roomId, kind: "twin" });
      }
    }
    for (const [r, size] of mvRooms.entries()) {
      const url = urls[(twinRooms.length + r) % urls.length]!;
      const mover = new Client(url);
      mover.auth.token = await devToken(url, `mover-${r}`, "observer");
      const room = await mover.create("metaverse", {}, MetaverseState);
      controlEvents(room);
      controls.push(room);
      room.send("pose", stampedPose());
      movers.push(room);
      for (let h = 0; h < size; h++) {
        headsets.push({
          name: `mv-${r}-${h}`,
          url: "",
          roomId: room.roomId,
          kind: "metaverse",
          moverSessionId: room.sessionId,
        });
      }
    }
    // Headsets matchmake through every process's URL in turn.
    headsets.forEach((h, i) => (h.url = urls[i % urls.length]!));

    pool = new ChildPool(o.clientProcs, {
      script: THIS_FILE,
      env: { AGENTTWIN_LOAD_CLIENT: "1" },
      label: "client process",
      registry: children,
    });
    const tJoin = performance.now();
    const joins = await pool.ask(
      "joined",
      (i) => ({ cmd: "join", headsets: headsets.filter((_, k) => k % o.clientProcs === i) }),
      60_000 + 2000 * Math.ceil(headsets.length / o.clientProcs),
    );
    const joinS = (performance.now() - tJoin) / 1000;
    const joined = joins.reduce((a, j) => a + j.joined, 0);
    const failed = joins.reduce((a, j) => a + j.failed, 0);
    const firstError = joins.find((j) => j.firstError)?.firstError;

    // Every headset has sent one pose where it stands; the metaverse rooms decide each one's
    // stream for that spot (agents, tens of ms each). Poses stream once the decisions end.
    const settleS = await settle(movers);
    pool.tell({ cmd: "poses", hz: o.poseHz });
    for (const room of movers) {
      timers.push(setInterval(() => room.send("pose", stampedPose()), 1000 / MOVER_HZ));
    }
    await sleep(3000); // warm-up: poses flowing

    const before = await Promise.all(servers.map((s) => metricsOf(s)));
    const tm0 = performance.now();
    const cpu0 = servers.map((s) => procCpuS(s.pid));
    const redis0 = redis ? procCpuS(redis.pid) : 0;
    const bench0 = process.cpuUsage();
    const machine0 = machineCpu();
    const t0 = performance.now();
    pool.tell({ cmd: "record", on: true });
    recording = true;
    await sleep(o.windowS * 1000);
    pool.tell({ cmd: "record", on: false });
    recording = false;
    const cpu1 = servers.map((s) => procCpuS(s.pid));
    const redisS = redis ? procCpuS(redis.pid) - redis0 : 0;
    const bench = process.cpuUsage(bench0);
    const machine1 = machineCpu();
    const elapsedS = (performance.now() - t0) / 1000;
    const memory = servers.map((s) => memoryOf(s.pid));
    const after = await Promise.all(servers.map((s) => metricsOf(s)));
    const metricsS = (performance.now() - tm0) / 1000;
    const reports = await pool.ask("report", () => ({ cmd: "report" }), 60_000);

    const errors: Record<string, number> = {};
    for (const r of reports) {
      for (const [k, v] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + v;
    }
    Object.assign(errors, controlErrors);
    const rejected = after.reduce((a, s, i) => a + s.rejected - before[i]!.rejected, 0);
    if (rejected) errors["messages refused by servers"] = rejected;
    const unanswered = [...before, ...after].filter((x) => !x.answered).length;
    if (unanswered) errors["/metrics unanswered within 10 s"] = unanswered;
    const errorLines = serverErrors.reduce((a, e) => a + e.lines, 0);
    if (errorLines) errors["server error log lines"] = errorLines;

    const cpuS = (i: number) => cpu1[i]! - cpu0[i]!;
    const serverS = servers.reduce((a, _, i) => a + cpuS(i), 0);
    const clientS = reports.reduce((a, r) => a + r.cpuS, 0);
    const benchS = (bench.user + bench.system) / 1e6;
    const busyS = (machine1.busyTicks - machine0.busyTicks) / CLK_TCK;
    const bytes = after.reduce((a, s, i) => a + s.bytes - before[i]!.bytes, 0);
    const poses = after.reduce((a, s, i) => a + s.poses - before[i]!.poses, 0);
    const perProcess: ProcessFigures[] = servers.map((_, i) => ({
      cpuPercentOfOneCore: pct(cpuS(i), elapsedS),
      rssMiB: round(memory[i]!.rssMiB),
      peakRssMiB: round(memory[i]!.peakRssMiB),
      eventLoopLagP99Ms: round(after[i]!.eventLoopLagP99Ms),
      rooms: after[i]!.rooms,
      clients: after[i]!.clients,
    }));
    const headsetCount = Math.max(1, joined);
    const twin = reports.map((r) => r.twinLatencyMs);
    const metaverse = reports.map((r) => r.metaverseLatencyMs);
    const latencyMs = {
      all: latencyFigures(concat([...twin, ...metaverse])),
      digital_twin: latencyFigures(concat(twin)),
      metaverse: latencyFigures(concat(metaverse)),
    };
    const updatesPerHeadsetPerS = round(
      reports.reduce((a, r) => a + r.updates, 0) / headsetCount / elapsedS,
    );
    return {
      label: scenario.label,
      processes: scenario.processes,
      rooms: { digital_twin: twinRooms.length, metaverse: mvRooms.length },
      headsets: {
        asked: headsets.length,
        joined,
        failed,
        joinSeconds: round(joinS),
        settleSeconds: round(settleS),
      },
      ...(firstError && { firstJoinError: firstError }),
      windowS: round(elapsedS),
      perProcess,
      ...(redis && { redisCpuPercentOfOneCore: pct(redisS, elapsedS) }),
      latencyMs,
      updatesPerHeadsetPerS,
      // Control clients receive patches too; the bytes are shared over everyone joined.
      bytesPerHeadsetPerS: round(bytes / (headsetCount + controls.length) / metricsS),
      posesAcceptedPerS: round(poses / metricsS),
      posesSentPerS: round(reports.reduce((a, r) => a + r.posesSent, 0) / elapsedS),
      errors,
      generator: {
        clientProcesses: o.clientProcs,
        clientCpuPercentOfOneCore: reports.map((r) => pct(r.cpuS, elapsedS)),
        clientEventLoopDelayP99Ms: reports.map((r) => round(r.eventLoopDelayP99Ms)),
        benchCpuPercentOfOneCore: pct(benchS, elapsedS),
      },
      otherCpuPercentOfOneCore: pct(
        Math.max(0, busyS - serverS - redisS - clientS - benchS),
        elapsedS,
      ),
      machineBusyPercent: round((100 * busyS) / elapsedS / machine1.cores),
      meetsTarget:
        failed === 0 &&
        latencyMs.all.p99 < TARGET.p99Ms &&
        updatesPerHeadsetPerS >= 0.9 * o.patchRateHz,
    };
  } finally {
    for (const t of timers) clearInterval(t);
    await pool?.close();
    await Promise.allSettled(controls.map((r) => withinMs(r.leave(true), 2000)));
    await Promise.allSettled(servers.map((s) => s.stop("SIGTERM")));
    await redis?.stop();
    await Promise.allSettled(dataDirs.map((d) => rm(d, { recursive: true, force: true })));
  }
}

/** One server's /metrics; `answered` false (and the figures NaN) when it did not answer. */
type ServerMetricsSample = MetricsSample & { answered: boolean };

/**
 * Waits until the metaverse rooms have decided every headset's stream for the spot where it
 * stands: the newest decision on each room's agent panel (as its mover sees it) unchanged
 * for 2 s (at least 2 s, at most 90 s). Returns the seconds waited.
 *
 * Why: `MetaverseSession` decides a headset's stream again whenever its head moved more than
 * 0.5 m from where the last *finished* decision saw it, and queues every such decision; a
 * headset that streams poses while its first decision is still queued therefore queues one
 * decision per pose, without bound, and the server falls behind for minutes (see the report
 * that came with this bench). Real headsets do the same when a user walks; this bench
 * measures standing users, so it waits here.
 */
async function settle(movers: Room<unknown, MetaverseState>[]): Promise<number> {
  const t0 = performance.now();
  const newest = () =>
    movers
      .map((m) => {
        const d = m.state.agents.decisions;
        const last = d.at(d.length - 1);
        return `${d.length}:${last?.id ?? ""}:${last?.atMs ?? 0}`;
      })
      .join("|");
  let seen = newest();
  let stableSince = performance.now();
  while (performance.now() - t0 < 90_000) {
    await sleep(250);
    const now = newest();
    if (now !== seen) {
      seen = now;
      stableSince = performance.now();
    } else if (performance.now() - stableSince >= 2000 && performance.now() - t0 >= 2000) break;
  }
  return (performance.now() - t0) / 1000;
}

/** A server's /metrics; a saturated server may not answer: its counters are then NaN, not 0. */
async function metricsOf(s: ServerHandle): Promise<ServerMetricsSample> {
  const m = await scrapeMetrics(s.url);
  if (m) return { answered: true, ...m };
  const nan = Number.NaN;
  const none = { eventLoopLagP99Ms: nan, bytes: nan, poses: nan, rejected: nan, clients: nan };
  return { answered: false, ...none, rooms: {} };
}

function concat(parts: Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((a, p) => a + p.length, 0));
  let i = 0;
  for (const p of parts) {
    out.set(p, i);
    i += p.length;
  }
  return out;
}

/** CPU seconds over a window as % of one core. */
const pct = (cpuS: number, windowS: number) => round((100 * cpuS) / windowS);

// --- entry points -------------------------------------------------------------------------

function printTable(result: LoadBenchResult): void {
  const o = result.options;
  console.log(
    `\nHeadsets in digital_twin and metaverse rooms of ${String(o.roomSize)}, ` +
      `${String(o.patchRateHz)} Hz patches, headsets sending poses at ${String(o.headsetPoseHz)} Hz ` +
      `(target: ${TARGET.headsetsPerProcess} per process, p99 < ${TARGET.p99Ms} ms)`,
  );
  console.log(`Note: ${result.note}`);
  const m = result.machine;
  console.log(
    `Machine: ${String(m.cpus)} × ${String(m.cpuModel)}, load average ${String(m.loadAverage1mBefore)} → ${String(m.loadAverage1mAfter)}`,
  );
  console.table(
    result.runs.map((r) => {
      if (r.skipped || r.error) return { scenario: r.label, skipped: r.skipped ?? r.error };
      const lat = r.latencyMs!;
      const procs = r.perProcess!;
      const errs = Object.values(r.errors ?? {}).reduce((a, v) => a + v, 0);
      return {
        scenario: r.label,
        headsets: `${r.headsets!.joined}/${r.headsets!.asked}`,
        "p50 ms": lat.all.p50,
        "p99 ms": lat.all.p99,
        "twin p99": lat.digital_twin.p99,
        "mv p99": lat.metaverse.p99,
        "updates/s": r.updatesPerHeadsetPerS,
        "server CPU %": procs.map((p) => Math.round(p.cpuPercentOfOneCore)).join(" / "),
        "server lag p99 ms": procs.map((p) => Math.round(p.eventLoopLagP99Ms)).join(" / "),
        "RSS MiB": procs.map((p) => Math.round(p.rssMiB)).join(" / "),
        "B/headset/s": Math.round(r.bytesPerHeadsetPerS!),
        errors: errs,
        "client CPU %": Math.round(
          r.generator!.clientCpuPercentOfOneCore.reduce((a, v) => a + v, 0),
        ),
        "other CPU %": Math.round(r.otherCpuPercentOfOneCore!),
        "machine busy %": Math.round(r.machineBusyPercent!),
        "p99 < 30": r.meetsTarget ? "yes" : "no",
      };
    }),
  );
  for (const r of result.runs) {
    const errs = Object.entries(r.errors ?? {});
    if (errs.length)
      console.log(`errors, ${r.label}: ${errs.map(([k, v]) => `${k} ${v}`).join(", ")}`);
  }
  const pairs = (result.scaling?.pairs ?? []) as Record<string, Record<string, unknown>>[];
  for (const p of pairs) {
    const f = (k: string) => `${String(p[k]!.oneProcess)} → ${String(p[k]!.twoProcesses)}`;
    console.log(
      `scaling at ${String(p.headsetsPerProcess)} headsets per process, 1 → 2 processes: ` +
        `headsets ${f("headsets")}, server CPU % per process ${f("serverCpuPercentPerProcess")}, ` +
        `p99 ms ${f("p99Ms")}, updates/s ${f("updatesPerHeadsetPerS")}, ` +
        `efficiency ${String(p.efficiencyRatio)} (1 = linear)`,
    );
  }
  console.log(
    "CPU % is of one core (server: per process, utime+stime from /proc; client: the headset " +
      "pool; other: every other process on the machine); machine busy is % of all cores. " +
      "Latency: change on the server → headset onStateChange, same clock (see the header of " +
      "test/bench/load.bench.ts). updates/s below the patch rate means headsets fell behind.",
  );
}

if (process.env.AGENTTWIN_LOAD_CLIENT === "1") {
  await clientProcess();
} else if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      generator: { type: "string", default: "thin" },
      only: { type: "string" },
      "client-procs": { type: "string" },
      "window-s": { type: "string" },
      "pose-hz": { type: "string" },
      headsets: { type: "string" },
      targets: { type: "string" },
      "gen-procs": { type: "string" },
      samplers: { type: "string" },
      "warmup-s": { type: "string" },
      "robot-link": { type: "string" },
      profile: { type: "boolean", default: false },
      print: { type: "string" },
    },
  });
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  // Children must not outlive the bench, whatever stops it.
  process.on("exit", () => {
    for (const child of [...children, ...thinChildren]) child.kill("SIGKILL");
  });
  for (const signal of ["SIGINT", "SIGTERM"] as const)
    process.once(signal, () => process.exit(130));
  const write = async (result: { date: string }) => {
    const dir = join(REPO_ROOT, "results");
    await mkdir(dir, { recursive: true });
    const json = JSON.stringify(result, null, 2);
    const file = join(dir, `load-${result.date}.json`.replaceAll(":", "-"));
    await writeFile(file, json);
    await writeFile(join(dir, "load-latest.json"), json);
    console.log(`\nwritten: ${file}`);
  };

  if (values.print !== undefined) {
    // Prints a saved thin-generator result again (e.g. results/load-latest.json).
    printThinTable(JSON.parse(readFileSync(values.print, "utf8")) as ThinBenchResult);
  } else if (values.generator === "thin") {
    const targets = values.targets?.split(",");
    if (targets?.some((t) => t !== "bare" && t !== "twin")) {
      console.error(`--targets takes bare and/or twin, not "${values.targets}"`);
      process.exit(2);
    }
    const link = values["robot-link"];
    if (link !== undefined && link !== "inprocess" && link !== "sim") {
      console.error(`--robot-link must be inprocess or sim, not "${link}"`);
      process.exit(2);
    }
    const result = await runThinLoadBench({
      quick: values.quick ?? false,
      ...(values.headsets && { headsets: values.headsets.split(",").map(Number) }),
      ...(targets && { targets: targets as Target[] }),
      ...(values["window-s"] && { windowS: num(values["window-s"]) }),
      ...(values["warmup-s"] && { warmupS: num(values["warmup-s"]) }),
      ...(values["pose-hz"] && { poseHz: num(values["pose-hz"]) }),
      ...(values["gen-procs"] && { genProcs: num(values["gen-procs"]) }),
      ...(values.samplers && { samplers: num(values.samplers) }),
      ...(link && { robotLink: link }),
      profile: values.profile ?? false,
    });
    printThinTable(result);
    await write(result);
  } else if (values.generator === "sdk") {
    const only = values.only;
    if (only !== undefined && only !== "one" && only !== "two") {
      console.error(`--only must be "one" or "two", not "${only}"`);
      process.exit(2);
    }
    quietSdk();
    const result = await runLoadBench({
      quick: values.quick ?? false,
      ...(only && { only }),
      ...(values["client-procs"] && { clientProcs: num(values["client-procs"]) }),
      ...(values["window-s"] && { windowS: num(values["window-s"]) }),
      ...(values["pose-hz"] !== undefined && { headsetPoseHz: num(values["pose-hz"]) }),
    });
    printTable(result);
    await write(result);
  } else {
    console.error(`--generator must be thin or sdk, not "${values.generator}"`);
    process.exit(2);
  }
}
