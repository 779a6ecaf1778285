/**
 * Profile of an idle `digital_twin` room (`node --import tsx test/bench/idle-profile.ts`):
 * the product's server (`server/main.ts`, `ROBOT_LINK=inprocess` unless `--robot-link sim`,
 * agents and recording on) runs under `node --cpu-prof`; the bench measures its CPU over a
 * window with no room, then over a window with one twin room holding a silent operator and
 * one silent headset (the arm at rest, nobody talking), stops the server with SIGTERM (so V8
 * writes its profiles) and lists where the idle room's samples went: self time per function
 * and per file or package, for each thread that was profiled (the main thread, and workers
 * such as the agents' model host). Sample times in a profile are CLOCK_MONOTONIC µs, the
 * clock of `process.hrtime`, so the windows are cut out of the profile exactly.
 *
 *   node --import tsx test/bench/idle-profile.ts [--window-s 20] [--top 25] [--robot-link sim]
 *
 * Writes results/idle-profile-latest.json and copies the main thread's profile to
 * results/idle-twin.cpuprofile (open it in Chrome DevTools → Performance).
 */
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { REPO_ROOT } from "../../server/config.ts";
import { Role } from "../../server/auth/roles.ts";
import type { TokenService } from "../../server/auth/tokens.ts";
import { benchTokens } from "./bench-tokens.ts";
import { startScriptProcess } from "../support/processes.ts";
import { thinJoin, type ThinClient } from "./thin-client.ts";
import { sleep } from "./load-common.ts";
import { procCpuS, threadCpuS } from "./proc-stats.ts";
import { round } from "./stats.ts";

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
export interface CpuProfile {
  nodes: CpuProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Where one thread's samples went within [fromUs, toUs) (CLOCK_MONOTONIC µs). */
export interface ProfileSummary {
  file: string;
  /** ms of samples in the window that were not (idle). */
  busyMs: number;
  idleMs: number;
  topFunctions: { fn: string; selfMs: number; percentOfBusy: number }[];
  topFiles: { file: string; selfMs: number; percentOfBusy: number }[];
  /**
   * Time with the function anywhere on the stack (self + callees), for this repository's
   * functions only: which of the product's own calls the busy time hangs under.
   */
  topRepoInclusive: { fn: string; totalMs: number; percentOfBusy: number }[];
}

/** Short name for a script URL: `pkg:<name>`, a repo path, `node:<module>`, or as is. */
function fileOf(url: string): string {
  if (!url) return "(native/vm)";
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return `pkg:${nm[1]}`;
  const root = REPO_ROOT.replace(/\/$/, "");
  const repo = url.indexOf(root);
  if (repo >= 0) return url.slice(repo + root.length + 1);
  return url;
}

export function summarizeProfile(
  profile: CpuProfile,
  fromUs: number,
  toUs: number,
  top: number,
  file = "",
): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inclusiveMs = new Map<string, number>();
  const fnMs = new Map<string, number>();
  const fileMs = new Map<string, number>();
  let busyMs = 0;
  let idleMs = 0;
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i] ?? 0;
    t += dt;
    // Each sample stands for the interval up to the next one.
    const next = profile.timeDeltas[i + 1] ?? 0;
    if (t < fromUs || t >= toUs) continue;
    const node = byId.get(profile.samples[i]!);
    if (!node) continue;
    const ms = next / 1000;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === "(idle)") {
      idleMs += ms;
      continue;
    }
    busyMs += ms;
    const f = fileOf(url);
    // Lines of tsx-compiled repo files are those of the compiled code: only packages' are kept.
    const line = f.startsWith("pkg:") || f.startsWith("node:") ? `:${lineNumber + 1}` : "";
    const name = `${functionName || "(anonymous)"} ${f}${line}`;
    fnMs.set(name, (fnMs.get(name) ?? 0) + ms);
    fileMs.set(f, (fileMs.get(f) ?? 0) + ms);
    // Each repository function on this sample's stack once (recursion counted once).
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const cf = byId.get(id)?.callFrame;
      if (!cf?.url) continue;
      const ff = fileOf(cf.url);
      if (ff.startsWith("pkg:") || ff.startsWith("node:") || ff.includes("://")) continue;
      const key = `${cf.functionName || "(anonymous)"} ${ff}`;
      if (seen.has(key)) continue;
      seen.add(key);
      inclusiveMs.set(key, (inclusiveMs.get(key) ?? 0) + ms);
    }
  }
  const rank = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, v]) => ({ k, selfMs: round(v), percentOfBusy: round((100 * v) / busyMs) }));
  return {
    file,
    busyMs: round(busyMs),
    idleMs: round(idleMs),
    topFunctions: rank(fnMs).map(({ k, ...r }) => ({ fn: k, ...r })),
    topFiles: rank(fileMs).map(({ k, ...r }) => ({ file: k, ...r })),
    topRepoInclusive: rank(inclusiveMs).map(({ k, selfMs, ...r }) => ({
      fn: k,
      totalMs: selfMs,
      ...r,
    })),
  };
}

/** CLOCK_MONOTONIC now, µs: the clock of a profile's sample times (cut windows with it). */
export const monoUs = () => Number(process.hrtime.bigint() / 1000n);

interface Phase {
  fromUs: number;
  toUs: number;
  cpuPercentOfOneCore: number;
  /** % of one core per thread name over the window (threads that used ≥ 0.05 %). */
  threads: Record<string, number>;
}

const NO_ROOM = "process, no room";
const IDLE_ROOM = "one idle twin room (operator + headset, silent)";

/**
 * Starts the server (under `--cpu-prof` into `profDir` when given), measures a window with no
 * room and one with an idle twin room, and stops it (SIGTERM: V8 writes its profiles).
 */
async function session(
  o: { windowS: number; robotLink: string; secret: string; tokens: TokenService },
  profDir?: string,
): Promise<{ phases: Record<string, Phase>; receivedBytes: number[]; patches: number[] }> {
  const dataDir = await mkdtemp(join(tmpdir(), "agenttwin-idle-"));
  const server = await startScriptProcess(
    "server/main.ts",
    { AUTH_SECRET: o.secret, ROBOT_LINK: o.robotLink, DATA_DIR: dataDir },
    {
      ...(profDir && { execArgv: ["--cpu-prof", `--cpu-prof-dir=${profDir}`] }),
      timeoutMs: 120_000,
    },
  );
  const clients: ThinClient[] = [];
  const phases: Record<string, Phase> = {};
  const measure = async (name: string) => {
    const c0 = procCpuS(server.pid);
    const t0 = threadCpuS(server.pid);
    const fromUs = monoUs();
    await sleep(o.windowS * 1000);
    const toUs = monoUs();
    const c1 = procCpuS(server.pid);
    const t1 = threadCpuS(server.pid);
    const s = (toUs - fromUs) / 1e6;
    const threads: Record<string, number> = {};
    for (const [comm, v] of t1) {
      const p = round((100 * (v - (t0.get(comm) ?? 0))) / s);
      if (p >= 0.05) threads[comm] = p;
    }
    phases[name] = { fromUs, toUs, cpuPercentOfOneCore: round((100 * (c1 - c0)) / s), threads };
    console.error(
      `idle${profDir ? " (profiled)" : ""}: ${name}: ${phases[name].cpuPercentOfOneCore} % of one core`,
    );
  };
  try {
    await sleep(5000); // start-up work settles
    await measure(NO_ROOM);
    const op = await thinJoin(
      server.url,
      "create",
      "digital_twin",
      await o.tokens.issue({ userId: "op", name: "op", role: Role.Operator }, 3600),
    );
    clients.push(op);
    clients.push(
      await thinJoin(
        server.url,
        "joinById",
        op.seat.roomId,
        await o.tokens.issue({ userId: "h", name: "h", role: Role.Observer }, 3600),
      ),
    );
    await sleep(5000); // room creation settles
    const before = clients.map((c) => ({ ...c.counters }));
    await measure(IDLE_ROOM);
    const received = clients.map((c, i) => ({
      bytes: c.counters.bytes - before[i]!.bytes,
      patches: c.counters.patches - before[i]!.patches,
    }));
    await Promise.allSettled(clients.map((c) => c.leave()));
    await server.stop("SIGTERM", 30_000);
    return {
      phases,
      receivedBytes: received.map((r) => r.bytes),
      patches: received.map((r) => r.patches),
    };
  } finally {
    await server.stop("SIGKILL", 1000);
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      "window-s": { type: "string", default: "20" },
      top: { type: "string", default: "25" },
      "robot-link": { type: "string", default: "inprocess" },
    },
  });
  const windowS = Number(values["window-s"]);
  const top = Number(values.top);
  const robotLink = values["robot-link"] ?? "inprocess";
  const { secret, tokens } = benchTokens();
  const o = { windowS, robotLink, secret, tokens };
  // CPU figures from a run without the profiler (its sampling thread costs CPU itself) …
  const plain = await session(o);
  // … and where the time goes from a profiled one.
  const profDir = await mkdtemp(join(tmpdir(), "agenttwin-prof-"));
  try {
    const profiled = await session(o, profDir);
    const idle = profiled.phases[IDLE_ROOM]!;
    const base = profiled.phases[NO_ROOM]!;
    const files = (await readdir(profDir)).filter((f) => f.endsWith(".cpuprofile"));
    const threads: { idleRoom: ProfileSummary; noRoom: ProfileSummary }[] = [];
    for (const f of files) {
      const profile = JSON.parse(await readFile(join(profDir, f), "utf8")) as CpuProfile;
      threads.push({
        idleRoom: summarizeProfile(profile, idle.fromUs, idle.toUs, top, f),
        noRoom: summarizeProfile(profile, base.fromUs, base.toUs, top, f),
      });
    }
    threads.sort((a, b) => b.idleRoom.busyMs - a.idleRoom.busyMs);
    const result = {
      date: new Date().toISOString(),
      note:
        "cpu: /proc of the unprofiled run; threads: % of one core per thread name; profiles: " +
        "self time of JS threads in the profiled run (the profiler's own sampling adds CPU).",
      robotLink,
      windowS,
      cpu: plain.phases,
      profiledCpu: profiled.phases,
      clientReceivedBytes: plain.receivedBytes,
      clientReceivedPatches: plain.patches,
      profiles: threads,
    };
    for (const t of threads) {
      console.log(
        `\n${t.idleRoom.file}: JS busy ${t.idleRoom.busyMs} ms of ${windowS * 1000} ms with the ` +
          `idle room (${t.noRoom.busyMs} ms without a room)`,
      );
      if (t.idleRoom.busyMs < 1) continue;
      console.table(t.idleRoom.topFunctions);
      console.table(t.idleRoom.topFiles);
      console.table(t.idleRoom.topRepoInclusive);
    }
    for (const [name, p] of Object.entries(plain.phases)) {
      console.log(`\nserver CPU, ${name}: ${p.cpuPercentOfOneCore} % of one core; per thread:`);
      console.log(
        Object.entries(p.threads)
          .sort((a, b) => b[1] - a[1])
          .map(([k, v]) => `${k} ${v} %`)
          .join(", "),
      );
    }
    console.log(
      `the idle room's headset received ${String(plain.receivedBytes[1])} B and ` +
        `${String(plain.patches[1])} patches in the ${windowS} s window`,
    );
    const dir = join(REPO_ROOT, "results");
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "idle-profile-latest.json"), JSON.stringify(result, null, 2));
    const main = threads[0]?.idleRoom.file;
    if (main) await copyFile(join(profDir, main), join(dir, "idle-twin.cpuprofile"));
    console.log("written: results/idle-profile-latest.json, results/idle-twin.cpuprofile");
  } finally {
    await rm(profDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
