/**
 * The server-only load benchmark (`npm run bench:load`, the default mode): the same thin load
 * generator against (a) the bench's bare Colyseus room (bare-room.ts, served by
 * bare-server.ts) and (b) the product's `digital_twin` rooms (`server/main.ts` as `npm start`
 * runs it: `ROBOT_LINK=inprocess` by default, agents and recording on, info logs), one fresh
 * server process per measurement, so every figure comes with its ratio to bare.
 *
 * Load per headset count: rooms of {@link ROOM_SIZE} headsets; in each room an operator (a
 * thin client in the bench process) jogs joint 1 back and forth (10 Hz jog messages, as a
 * held button sends them) and every headset sends its head pose at `--pose-hz` (30 Hz) as a
 * `pose` room message with a small sway, so every pose is a change the room relays. Headsets
 * are thin clients (thin-client.ts: raw websockets, msgpack messages, bytes counted, nothing
 * decoded) spread over `--gen-procs` child processes, except `--samplers` of them (5), which
 * are full `@colyseus/sdk` clients decoding the state in one child process of their own and
 * giving the latency: receive time − `robot.stamp` (the arm's sample time, same clock).
 *
 * Figures per run (all over the measurement window, after a warm-up):
 *  - server CPU: utime+stime of the server process from /proc/<pid>/stat, in cores and in
 *    milli-cores per headset;
 *  - bytes per headset per second: websocket payload bytes the thin clients received
 *    (framing excluded), and patches per headset per second;
 *  - latency p50/p99 and updates/s: from the samplers (each distinct stamp is one update);
 *  - event-loop lag p99 of the server: the product's prom-client `nodejs_eventloop_lag_p99_seconds`
 *    (reset by each /metrics scrape), the bare server's own `monitorEventLoopDelay` at the same
 *    10 ms resolution (`/bench/stats`);
 *  - RSS (VmRSS, VmHWM) of the server process;
 *  - the generator's own CPU and what every other process on the machine used (/proc/stat):
 *    on a small or shared machine they compete with the server for cores.
 * The twin/bare ratio is given for CPU, bytes, p50, p99, updates/s, lag and RSS.
 */
import type { ChildProcess } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { REPO_ROOT } from "../../server/config.ts";
import type { TokenService } from "../../server/auth/tokens.ts";
import { benchTokens } from "./bench-tokens.ts";
import { Role } from "../../server/auth/roles.ts";
import { startScriptProcess, type ServerHandle } from "../support/processes.ts";
import { latencyFigures, round, type LatencyFigures } from "./stats.ts";
import { BARE_ROOM } from "./bare-room.ts";
import {
  ChildPool,
  countErrorLines,
  ROOM_SIZE,
  roomSizes,
  scrapeMetrics,
  sleep,
} from "./load-common.ts";
import { CLK_TCK, machineCpu, memoryOf, procCpuS } from "./proc-stats.ts";
import { monoUs, summarizeProfile, type CpuProfile, type ProfileSummary } from "./idle-profile.ts";
import { thinJoin, type ThinClient } from "./thin-client.ts";
import type { FromGenerator, GenHeadset, ToGenerator } from "./thin-generator.ts";

export type Target = "bare" | "twin";

export interface ThinBenchOptions {
  quick?: boolean;
  /** Headset counts (default 25, 100, 200, 500; quick: 25, 100). */
  headsets?: number[];
  /** Measurement window per run, s (default 15; quick 6). */
  windowS?: number;
  /** Poses flowing before the window, s (default 4; quick 2). */
  warmupS?: number;
  /** Head poses per headset per second (default 30). */
  poseHz?: number;
  /** Twin and bare tick / patch rate, Hz (default 60). */
  patchRateHz?: number;
  /** Child processes for the thin headsets (default 2). */
  genProcs?: number;
  /** Full SDK clients measuring latency per run (default 5). */
  samplers?: number;
  /** The product's ROBOT_LINK (default inprocess, as issue 14 measured). */
  robotLink?: "inprocess" | "sim";
  /** Which servers to measure (default both). */
  targets?: Target[];
  /**
   * Run the servers under `node --cpu-prof` and summarise where each one's main thread spent
   * the measurement window (the profiler's sampling costs CPU: such runs' figures are not
   * comparable with unprofiled ones). The profiles are copied to `results/`.
   */
  profile?: boolean;
}

/** What one server measured at one headset count. */
export interface ThinRun {
  target: Target;
  headsets: { asked: number; joined: number; failed: number; thin: number; samplers: number };
  rooms: number;
  firstJoinError?: string;
  windowS: number;
  serverCores: number;
  serverMilliCoresPerHeadset: number;
  bytesPerHeadsetPerS: number;
  patchesPerHeadsetPerS: number;
  latencyMs: LatencyFigures;
  updatesPerS: number;
  eventLoopLagP99Ms: number;
  rssMiB: number;
  peakRssMiB: number;
  posesSentPerS: number;
  /** Poses the server accepted per second (its own counter, scrape to scrape). */
  posesAcceptedPerS: number;
  errors: Record<string, number>;
  generator: { cpuPercentOfOneCore: number[]; eventLoopDelayP99Ms: number[] };
  benchCpuPercentOfOneCore: number;
  otherCpuPercentOfOneCore: number;
  machineBusyPercent: number;
  /**
   * The machine's cores were ≥ 90 % busy over the window: the server waited for CPU, so its
   * latency, updates/s and lag say more about the machine than about the server.
   */
  machineSaturated: boolean;
  /** With `profile`: the main thread's busy time in the window, top self and inclusive. */
  profile?: ProfileSummary;
}

export interface ThinRow {
  headsets: number;
  bare?: ThinRun | { error: string };
  twin?: ThinRun | { error: string };
  /** twin ÷ bare for each figure (absent when either run failed). */
  ratio?: Record<string, number>;
}

export interface ThinBenchResult {
  date: string;
  generator: "thin";
  note: string;
  machine: Record<string, unknown>;
  options: Record<string, unknown>;
  rows: ThinRow[];
}

const GENERATOR = fileURLToPath(new URL("./thin-generator.ts", import.meta.url));
const JOIN_CONCURRENCY = 8;

/** Child processes of this bench, killed if the bench exits early. */
export const thinChildren = new Set<ChildProcess>();

export async function runThinLoadBench(o: ThinBenchOptions = {}): Promise<ThinBenchResult> {
  const quick = o.quick ?? false;
  const opts = {
    headsets: o.headsets ?? (quick ? [25, 100] : [25, 100, 200, 500]),
    windowS: o.windowS ?? (quick ? 6 : 15),
    warmupS: o.warmupS ?? (quick ? 2 : 4),
    poseHz: o.poseHz ?? 30,
    patchRateHz: o.patchRateHz ?? 60,
    genProcs: o.genProcs ?? 2,
    samplers: o.samplers ?? 5,
    robotLink: o.robotLink ?? "inprocess",
    targets: o.targets ?? (["bare", "twin"] as Target[]),
    profile: o.profile ?? false,
  };
  // Tokens as the product mints them (server/app.ts): the same secret, issuer, audience, TTL.
  const { secret, tokens } = benchTokens();
  const load0 = loadavg();
  const busy0 = machineCpu();
  const t0 = performance.now();
  const rows: ThinRow[] = [];
  for (const n of opts.headsets) {
    const row: ThinRow = { headsets: n };
    for (const target of opts.targets) {
      console.error(`load: ${n} headsets, ${target} …`);
      try {
        row[target] = await measure(target, n, opts, tokens, secret);
      } catch (err) {
        console.error(`load: ${n} headsets, ${target} failed:`, err);
        row[target] = { error: err instanceof Error ? err.message : String(err) };
      }
    }
    const b = row.bare;
    const t = row.twin;
    if (b && t && !("error" in b) && !("error" in t)) row.ratio = ratios(t, b);
    rows.push(row);
  }
  const busy1 = machineCpu();
  const wallS = (performance.now() - t0) / 1000;
  const machineBusy = round(
    (100 * (busy1.busyTicks - busy0.busyTicks)) / CLK_TCK / wallS / busy1.cores,
  );
  const saturated = rows.flatMap((row) =>
    opts.targets.filter((t) => {
      const r = row[t];
      return r && !("error" in r) && r.machineSaturated;
    }),
  ).length;
  const thisRun =
    saturated > 0
      ? ` This run: the machine was saturated (≥ 90 % of all cores busy) in ${saturated} of its ` +
        `measurement windows (load average ${round(load0[0]!)} → ${round(loadavg()[0]!)} on ` +
        `${busy1.cores} cores; see otherCpuPercentOfOneCore): there the server waited for CPU, ` +
        `so latency, updates/s and lag are the machine's, and server CPU is what it was given.`
      : "";
  return {
    date: new Date().toISOString(),
    generator: "thin",
    note:
      `The generator (${opts.genProcs} thin processes + 1 sampler process) and the bench run on the ` +
      `same machine as the server and share its ${busy1.cores} cores, as does anything else running; ` +
      `server CPU is the server process's own (/proc), and other CPU is reported per run. ` +
      `Figures from a small or shared machine are noisy: compare the ratios, which come from ` +
      `the same run, more than the absolute values.` +
      thisRun,
    machine: {
      node: process.version,
      cpus: busy1.cores,
      cpuModel: cpus()[0]?.model ?? "unknown",
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      loadAverage1mBefore: round(load0[0]!),
      loadAverage1mAfter: round(loadavg()[0]!),
      machineBusyPercentOverRun: machineBusy,
    },
    options: { quick, roomSize: ROOM_SIZE, jogHz: 10, ...opts },
    rows,
  };
}

function ratios(t: ThinRun, b: ThinRun): Record<string, number> {
  const r = (x: number, y: number) => (y > 0 ? round(x / y) : Number.NaN);
  return {
    serverCores: r(t.serverCores, b.serverCores),
    serverMilliCoresPerHeadset: r(t.serverMilliCoresPerHeadset, b.serverMilliCoresPerHeadset),
    bytesPerHeadsetPerS: r(t.bytesPerHeadsetPerS, b.bytesPerHeadsetPerS),
    p50: r(t.latencyMs.p50, b.latencyMs.p50),
    p99: r(t.latencyMs.p99, b.latencyMs.p99),
    updatesPerS: r(t.updatesPerS, b.updatesPerS),
    eventLoopLagP99: r(t.eventLoopLagP99Ms, b.eventLoopLagP99Ms),
    rss: r(t.rssMiB, b.rssMiB),
  };
}

type Opts = Required<Omit<ThinBenchOptions, "quick">>;

async function measure(
  target: Target,
  n: number,
  o: Opts,
  tokens: TokenService,
  secret: string,
): Promise<ThinRun> {
  let server: ServerHandle | undefined;
  let pool: ChildPool<ToGenerator, FromGenerator> | undefined;
  let dataDir: string | undefined;
  const operators: ThinClient[] = [];
  const timers: NodeJS.Timeout[] = [];
  let recording = false;
  const mint = (name: string, role: string) =>
    tokens.issue({ userId: name, name, role: role as typeof Role.Observer }, 3600);
  const profDir = o.profile ? await mkdtemp(join(tmpdir(), "agenttwin-loadprof-")) : undefined;
  const execArgv = profDir ? ["--cpu-prof", `--cpu-prof-dir=${profDir}`] : [];
  try {
    if (target === "bare") {
      server = await startScriptProcess("test/bench/bare-server.ts", {}, { execArgv });
    } else {
      dataDir = await mkdtemp(join(tmpdir(), "agenttwin-load-"));
      server = await startScriptProcess(
        "server/main.ts",
        {
          AUTH_SECRET: secret,
          ROBOT_LINK: o.robotLink,
          PATCH_RATE_HZ: String(o.patchRateHz),
          MAX_CLIENTS: "1000",
          MAX_ROOMS: "200",
          DATA_DIR: dataDir,
        },
        { timeoutMs: 120_000, execArgv },
      );
    }
    thinChildren.add(server.child);
    const serverErrors = countErrorLines(server.child, () => recording);
    const base = server.url;

    // Rooms: an operator creates each one and jogs joint 1 back and forth.
    const sizes = roomSizes(n);
    const roomIds: string[] = [];
    for (const r of sizes.keys()) {
      const token = await mint(`operator-${r}`, Role.Operator);
      const op =
        target === "bare"
          ? await thinJoin(base, "create", BARE_ROOM, token, { patchRateHz: o.patchRateHz })
          : await thinJoin(base, "create", "digital_twin", token);
      operators.push(op);
      roomIds.push(op.seat.roomId);
      let dir = 1;
      timers.push(
        setInterval(() => {
          op.send("jog", { mode: "joint", joint: 0, velocity: 0.4 * dir, deadmanMs: 300 });
        }, 100),
        setInterval(() => (dir = -dir), 1500),
      );
    }

    // Headsets: samplers first spread one per room, then the thin ones.
    const rooms = sizes.length;
    const headsets: GenHeadset[] = [];
    let index = 0;
    for (const [r, size] of sizes.entries()) {
      for (let h = 0; h < size; h++) {
        headsets.push({
          base,
          roomId: roomIds[r]!,
          token: await mint(`headset-${r}-${h}`, Role.Observer),
          sampler: h * rooms + r < o.samplers,
          state: target,
          index: index++,
        });
      }
    }
    const samplers = headsets.filter((h) => h.sampler);
    const thin = headsets.filter((h) => !h.sampler);
    pool = new ChildPool(o.genProcs + 1, {
      script: GENERATOR,
      env: { AGENTTWIN_THIN_GENERATOR: "1" },
      label: "generator process",
      registry: thinChildren,
    });
    const joins = await pool.ask(
      "joined",
      (i) => ({
        cmd: "join",
        concurrency: JOIN_CONCURRENCY,
        headsets: i === o.genProcs ? samplers : thin.filter((_, k) => k % o.genProcs === i),
      }),
      60_000 + 1000 * n,
    );
    const joined = joins.reduce((a, j) => a + j.joined, 0);
    const failed = joins.reduce((a, j) => a + j.failed, 0);
    const firstError = joins.find((j) => j.firstError)?.firstError;

    pool.tell({ cmd: "poses", hz: o.poseHz });
    await sleep(o.warmupS * 1000);

    const before = await serverSample(target, base); // also resets the server's lag histogram
    const cpu0 = procCpuS(server.pid);
    const bench0 = process.cpuUsage();
    const machine0 = machineCpu();
    const t0 = performance.now();
    const mono0 = monoUs();
    pool.tell({ cmd: "record", on: true });
    recording = true;
    await sleep(o.windowS * 1000);
    pool.tell({ cmd: "record", on: false });
    recording = false;
    const mono1 = monoUs();
    const cpuS = procCpuS(server.pid) - cpu0;
    const machine1 = machineCpu();
    const bench = process.cpuUsage(bench0);
    const elapsedS = (performance.now() - t0) / 1000;
    const after = await serverSample(target, base);
    const memory = memoryOf(server.pid);
    const reports = await pool.ask("report", () => ({ cmd: "report" }), 60_000);

    const thinReports = reports.slice(0, o.genProcs);
    const sampler = reports[o.genProcs]!;
    const thinCount = thinReports.reduce((a, r) => a + r.thin, 0);
    const errors: Record<string, number> = {};
    for (const r of reports) {
      for (const [k, v] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + v;
    }
    if (serverErrors.lines) errors["server error log lines"] = serverErrors.lines;
    // Counted from scrape to scrape (a little wider than the window).
    const rejected = after.rejected - before.rejected;
    if (rejected) errors["messages refused by the server"] = rejected;
    for (const op of operators) {
      if (op.closed) errors["operator closed"] = (errors["operator closed"] ?? 0) + 1;
    }
    const genS = reports.reduce((a, r) => a + r.cpuS, 0);
    const benchS = (bench.user + bench.system) / 1e6;
    const busyS = (machine1.busyTicks - machine0.busyTicks) / CLK_TCK;
    const cores = cpuS / elapsedS;
    const run: ThinRun = {
      target,
      headsets: {
        asked: n,
        joined,
        failed,
        thin: thinCount,
        samplers: sampler.samplers,
      },
      rooms,
      ...(firstError && { firstJoinError: firstError }),
      windowS: round(elapsedS),
      serverCores: round3(cores),
      serverMilliCoresPerHeadset: round3((1000 * cores) / Math.max(1, joined)),
      bytesPerHeadsetPerS: Math.round(
        sum(thinReports, (r) => r.bytes) / Math.max(1, thinCount) / elapsedS,
      ),
      patchesPerHeadsetPerS: round(
        sum(thinReports, (r) => r.patches) / Math.max(1, thinCount) / elapsedS,
      ),
      latencyMs: latencyFigures(sampler.latencyMs),
      updatesPerS: round(sampler.updates / Math.max(1, sampler.samplers) / elapsedS),
      eventLoopLagP99Ms: round(after.lagP99Ms),
      rssMiB: round(memory.rssMiB),
      peakRssMiB: round(memory.peakRssMiB),
      posesSentPerS: round(sum(reports, (r) => r.posesSent) / elapsedS),
      posesAcceptedPerS: round((after.poses - before.poses) / elapsedS),
      errors,
      generator: {
        cpuPercentOfOneCore: reports.map((r) => pct(r.cpuS, elapsedS)),
        eventLoopDelayP99Ms: reports.map((r) => round(r.eventLoopDelayP99Ms)),
      },
      benchCpuPercentOfOneCore: pct(benchS, elapsedS),
      otherCpuPercentOfOneCore: pct(Math.max(0, busyS - cpuS - genS - benchS), elapsedS),
      machineBusyPercent: round((100 * busyS) / elapsedS / machine1.cores),
      machineSaturated: busyS / elapsedS / machine1.cores >= 0.9,
    };
    if (profDir) {
      // V8 writes the profiles when the server exits.
      await pool.close();
      await server.stop("SIGTERM", 30_000);
      const summaries: ProfileSummary[] = [];
      for (const f of (await readdir(profDir)).filter((x) => x.endsWith(".cpuprofile"))) {
        const profile = JSON.parse(await readFile(join(profDir, f), "utf8")) as CpuProfile;
        summaries.push(summarizeProfile(profile, mono0, mono1, 20, f));
      }
      summaries.sort((a, b) => b.busyMs - a.busyMs);
      const main = summaries[0];
      if (main) {
        run.profile = main;
        const dir = join(REPO_ROOT, "results");
        await mkdir(dir, { recursive: true });
        await copyFile(join(profDir, main.file), join(dir, `load-${n}-${target}.cpuprofile`));
      }
    }
    return run;
  } finally {
    if (profDir) await rm(profDir, { recursive: true, force: true }).catch(() => undefined);
    for (const t of timers) clearInterval(t);
    await pool?.close();
    await Promise.allSettled(operators.map((op) => op.leave()));
    await server?.stop("SIGTERM");
    if (server) thinChildren.delete(server.child);
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }
}

/** What the server says of itself; `lagP99Ms` is since the previous call. NaN: no answer. */
interface ServerSample {
  lagP99Ms: number;
  /** Pose messages accepted, total. */
  poses: number;
  /** Messages refused, total. */
  rejected: number;
}

/** Reads the bare server's `/bench/stats` or the product's `/metrics` (prom-client). */
async function serverSample(target: Target, base: string): Promise<ServerSample> {
  const nan = { lagP99Ms: Number.NaN, poses: Number.NaN, rejected: Number.NaN };
  try {
    if (target === "bare") {
      const res = await fetch(`${base}/bench/stats`, { signal: AbortSignal.timeout(10_000) });
      const s = (await res.json()) as {
        eventLoopLagP99Ms: number;
        posesAccepted: number;
        messagesRejected: number;
      };
      return {
        lagP99Ms: s.eventLoopLagP99Ms,
        poses: s.posesAccepted,
        rejected: s.messagesRejected,
      };
    }
    const m = await scrapeMetrics(base);
    return m ? { lagP99Ms: m.eventLoopLagP99Ms, poses: m.poses, rejected: m.rejected } : nan;
  } catch {
    return nan;
  }
}

const sum = <T>(xs: T[], f: (x: T) => number) => xs.reduce((a, x) => a + f(x), 0);
const round3 = (v: number) => Math.round(v * 1000) / 1000;
const pct = (cpuS: number, windowS: number) => round((100 * cpuS) / windowS);

/** Prints the side-by-side table: per headset count, bare, twin and twin ÷ bare. */
export function printThinTable(result: ThinBenchResult): void {
  const o = result.options;
  console.log(
    `\nThin generator: rooms of ${String(o.roomSize)}, head poses at ${String(o.poseHz)} Hz, ` +
      `${String(o.patchRateHz)} Hz ticks, an operator jogging joint 1 per room; ` +
      `${String(o.samplers)} SDK samplers per run for latency; window ${String(o.windowS)} s.`,
  );
  console.log(`Note: ${result.note}`);
  const m = result.machine;
  console.log(
    `Machine: ${String(m.cpus)} × ${String(m.cpuModel)}, load average ` +
      `${String(m.loadAverage1mBefore)} → ${String(m.loadAverage1mAfter)}, ` +
      `busy ${String(m.machineBusyPercentOverRun)} % of all cores over the run`,
  );
  const lines: Record<string, unknown>[] = [];
  for (const row of result.rows) {
    for (const target of ["bare", "twin"] as const) {
      const r = row[target];
      if (!r) continue;
      if ("error" in r) {
        lines.push({ run: `${row.headsets} ${target}`, error: r.error.slice(0, 60) });
        continue;
      }
      const errs = Object.values(r.errors).reduce((a, v) => a + v, 0);
      lines.push({
        run: `${row.headsets} ${target}`,
        joined: `${r.headsets.joined}/${r.headsets.asked}`,
        cores: r.serverCores,
        "m-core/headset": r.serverMilliCoresPerHeadset,
        "B/headset/s": r.bytesPerHeadsetPerS,
        "patches/s": r.patchesPerHeadsetPerS,
        "p50 ms": r.latencyMs.p50,
        "p99 ms": r.latencyMs.p99,
        "updates/s": r.updatesPerS,
        "lag p99 ms": r.eventLoopLagP99Ms,
        "RSS MiB": Math.round(r.rssMiB),
        "poses in/s": Math.round(r.posesAcceptedPerS),
        errors: errs,
        "gen CPU %": Math.round(r.generator.cpuPercentOfOneCore.reduce((a, v) => a + v, 0)),
        "other CPU %": Math.round(r.otherCpuPercentOfOneCore),
        "machine busy %": Math.round(r.machineBusyPercent),
      });
    }
    const q = row.ratio;
    if (q) {
      lines.push({
        run: `${row.headsets} twin÷bare`,
        cores: q.serverCores,
        "m-core/headset": q.serverMilliCoresPerHeadset,
        "B/headset/s": q.bytesPerHeadsetPerS,
        "p50 ms": q.p50,
        "p99 ms": q.p99,
        "updates/s": q.updatesPerS,
        "lag p99 ms": q.eventLoopLagP99,
        "RSS MiB": q.rss,
      });
    }
  }
  console.table(lines);
  // The same figures side by side, as issue 14 tabulates them.
  const side: Record<string, unknown>[] = [];
  for (const row of result.rows) {
    const b = row.bare;
    const t = row.twin;
    if (!b || !t || "error" in b || "error" in t) continue;
    const q = row.ratio!;
    side.push({
      headsets: row.headsets,
      "bare cores": b.serverCores,
      "twin cores": t.serverCores,
      "cores ×": q.serverCores,
      "bare p50/p99 ms": `${b.latencyMs.p50} / ${b.latencyMs.p99}`,
      "twin p50/p99 ms": `${t.latencyMs.p50} / ${t.latencyMs.p99}`,
      "updates/s b/t": `${b.updatesPerS} / ${t.updatesPerS}`,
      "B/headset/s b/t": `${b.bytesPerHeadsetPerS} / ${t.bytesPerHeadsetPerS}`,
      "lag p99 ms b/t": `${b.eventLoopLagP99Ms} / ${t.eventLoopLagP99Ms}`,
      "RSS MiB b/t": `${Math.round(b.rssMiB)} / ${Math.round(t.rssMiB)}`,
    });
  }
  if (side.length) {
    console.log("\nSide by side (b: bare room, t: digital_twin; ×: twin ÷ bare):");
    console.table(side);
  }
  for (const row of result.rows) {
    for (const target of ["bare", "twin"] as const) {
      const r = row[target];
      if (!r || "error" in r) continue;
      const errs = Object.entries(r.errors);
      if (errs.length)
        console.log(
          `errors, ${row.headsets} ${target}: ${errs.map(([k, v]) => `${k} ${v}`).join(", ")}`,
        );
      if (r.firstJoinError) console.log(`first join error: ${r.firstJoinError}`);
    }
  }
  for (const row of result.rows) {
    for (const target of ["bare", "twin"] as const) {
      const r = row[target];
      if (!r || "error" in r || !r.profile) continue;
      const p = r.profile;
      console.log(
        `\nprofile, ${row.headsets} ${target}: main thread JS busy ${p.busyMs} ms of ` +
          `${Math.round(r.windowS * 1000)} ms (self time; then this repository's functions, inclusive)`,
      );
      console.table(p.topFunctions.slice(0, 15));
      if (p.topRepoInclusive.length) console.table(p.topRepoInclusive.slice(0, 15));
    }
  }
  const saturated = result.rows.flatMap((row) =>
    (["bare", "twin"] as const)
      .filter((t) => {
        const r = row[t];
        return r && !("error" in r) && r.machineSaturated;
      })
      .map((t) => `${row.headsets} ${t}`),
  );
  if (saturated.length)
    console.log(
      `WARNING: the machine was saturated (≥ 90 % of all cores busy) during ${saturated.join(", ")}: ` +
        "the server waited for CPU there, so latency, updates/s and lag are the machine's, not the server's.",
    );
  console.log(
    "cores: the server process's CPU over the window (1 = one core busy). B/headset/s: " +
      "websocket payload bytes a thin headset received. p50/p99: SDK sampler receive time − " +
      "robot.stamp. updates/s: distinct stamps a sampler saw (≈ tick rate when every patch " +
      "arrives). lag: the server's event-loop delay p99. poses in/s: poses the server took. " +
      "gen/other CPU: % of one core.",
  );
}
