/**
 * `npm run bench`: runs the benchmarks, prints a table of figures and writes them as JSON
 * to `results/bench-<time>.json` (and `results/bench-latest.json`) so runs can be compared.
 * Benchmarks never fail a build: they report; a reader compares.
 *
 *   npm run bench                 everything (about 2 minutes)
 *   npm run bench -- --quick      fewer goals and shorter windows (smoke run)
 *   npm run bench -- --only sim   just the simulation core (or: room, ros, video, reconstruction,
 *                                 safety, intent)
 */
import { mkdir, writeFile } from "node:fs/promises";
import { cpus } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { REPO_ROOT } from "../../server/config.ts";
import { runIntentBench } from "./intent.bench.ts";
import { runReconstructionBench } from "./reconstruction.bench.ts";
import { runRoomBench } from "./room.bench.ts";
import { runRosBench } from "./ros.bench.ts";
import { runSafetyBench } from "./safety.bench.ts";
import { runSimBench } from "./sim.bench.ts";
import type { Summary } from "./stats.ts";
import { runVideoBench } from "./video.bench.ts";

const { values } = parseArgs({
  options: { quick: { type: "boolean", default: false }, only: { type: "string" } },
});
const quick = values.quick ?? false;
const results: Record<string, unknown> = {
  date: new Date().toISOString(),
  machine: { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "unknown" },
  quick,
};

if (!values.only || values.only === "sim") {
  console.error("sim core …");
  const sim = await runSimBench({ goals: quick ? 30 : 200, seed: 7 });
  results.sim = sim;
  console.log("\nSimulation core (one thread)");
  console.table(
    Object.fromEntries(
      Object.entries(sim)
        .filter(([, v]) => typeof (v as { median?: unknown }).median === "number")
        .map(([k, v]) => {
          const f = v as Record<string, number>;
          return [
            k,
            { median: f.median, p95: f.p95, max: f.max, n: f.n, success: f.successRate ?? "" },
          ];
        }),
    ),
  );
  console.log("plan failures by reason:", sim.planFailures);
}

if (!values.only || values.only === "room") {
  console.error("room fan-out …");
  const room = await runRoomBench({
    clientCounts: quick ? [10, 50] : [10, 50, 200],
    windowS: quick ? 3 : 10,
    patchRateHz: 60,
  });
  results.room = room;
  console.log("\nOne digital_twin room, arm jogging, 60 Hz patches (server in its own process)");
  console.table(
    (room.runs as Record<string, unknown>[]).map((r) => {
      const lat = r.latencyMs as Record<string, number>;
      return {
        clients: r.clients,
        "server CPU % of a core": r.serverCpuPercentOfOneCore,
        "bytes/client/s": r.bytesPerClientPerS,
        "latency p50 ms": lat.p50,
        "latency p99 ms": lat.p99,
        samples: lat.samples,
      };
    }),
  );
}

if (!values.only || values.only === "ros") {
  console.error("ros link …");
  const ros = await runRosBench({
    rates: [100, 500, 1000],
    windowS: quick ? 2 : 5,
    patchRateHz: 60,
  });
  results.ros = ros;
  console.log("\n/joint_states from the simulated cell (own process) through roslib");
  console.table(
    (ros.jointStates as Record<string, unknown>[]).map((r) => {
      const lat = r.addedLatencyMs as Record<string, number>;
      const own = r.cellLatenessMs as Record<string, number>;
      return {
        "rate Hz": r.rateHz,
        "spin ms": r.spinMs,
        "catch-up": r.catchUp,
        encoding: r.compression,
        "received/s": r.receivedPerS,
        "loss %": r.lossPercent,
        "latency p50 ms": lat.p50,
        "latency p99 ms": lat.p99,
        "cell late p50 ms": own.p50,
        "cell late p99 ms": own.p99,
        "cell skipped": own.skipped,
        "cell CPU %": r.cellCpuPercent,
      };
    }),
  );
  const e2e = ros.endToEnd as { latencyMs: Record<string, number>; targetP99Ms: number };
  console.log(
    `cell joint sample → headset callback: p50 ${e2e.latencyMs.p50} ms, p99 ${e2e.latencyMs.p99} ms (target ≤ ${e2e.targetP99Ms} ms)`,
  );
}

if (!values.only || values.only === "reconstruction") {
  console.error("reconstruction …");
  const rec = await runReconstructionBench({ quick });
  results.reconstruction = rec;
  console.log("\nRGB-D reconstruction (CPU TSDF + marching cubes, one thread)");
  console.log(JSON.stringify(rec, null, 2));
}

if (!values.only || values.only === "video") {
  console.error("video transcode (ffmpeg) …");
  try {
    const video = await runVideoBench({ quick });
    results.video = video;
    console.log(`\nTranscode to the 360° ladder (${video.ffmpeg}, preset ${video.preset})`);
    console.table([...video.perRung, video.ladder]);
  } catch (err) {
    // No ffmpeg on this machine: report it, keep the other figures.
    results.video = { error: err instanceof Error ? err.message : String(err) };
    console.log(`video bench skipped: ${String((results.video as { error: string }).error)}`);
  }
}

if (!values.only || values.only === "safety") {
  console.error("safety: STOP under an utterance flood …");
  const safety = await runSafetyBench({ stops: quick ? 10 : 30, floodPerS: 110 });
  results.safety = safety;
  const row = (phase: string, r: Record<string, unknown>) => {
    const c = r.stopToCancelMs as Record<string, number>;
    const a = r.stopToAckMs as Record<string, number>;
    return {
      phase,
      "stop → cell cancel p50 ms": c.p50,
      "p99 ms": c.p99,
      "max ms": c.max,
      "stop → ack p50 ms": a.p50,
      "ack p99 ms": a.p99,
      stops: c.samples,
      "cancels missed": r.cancelsMissed,
    };
  };
  const flood = safety.flood as Record<string, unknown>;
  console.log(
    `\nSTOP round-trip (client send → the cell cancels the goal), target p99 < ${String(safety.targetP99Ms)} ms`,
  );
  console.table([
    row("quiet", safety.quiet as Record<string, unknown>),
    row(`observer flooding ${String(flood.floodPerS)} utterances/s`, flood),
  ]);
  console.log("the flooder's utterances got:", flood.utteranceReplies);
}

if (!values.only || values.only === "intent") {
  console.error("intent: spoken stop vs STOP message, model hanging …");
  const intent = await runIntentBench({ stops: quick ? 5 : 20, intentTimeoutMs: 10_000 });
  results.intent = intent;
  const row = (kind: string, r: { ackMs: Summary; stoppedMs: Summary }) => ({
    kind,
    "send → ack p50 ms": r.ackMs.median,
    "ack p95 ms": r.ackMs.p95,
    "send → state stopped p50 ms": r.stoppedMs.median,
    "stopped p95 ms": r.stoppedMs.p95,
    "stopped max ms": r.stoppedMs.max,
    stops: r.ackMs.n,
  });
  console.log(
    `\nStop while a plan executes, intent model hanging (timeout ${intent.intentTimeoutMs} ms)`,
  );
  console.table([
    row("STOP message", intent.stopMessage),
    row('spoken "stop the arm"', intent.spokenStop),
  ]);
  console.log(
    `model calls made by spoken stops: ${intent.modelCallsBySpokenStops}; spoken stops acknowledged while the model still hung: ${intent.acksWhileModelHung}/${intent.stops}`,
  );
}

const dir = join(REPO_ROOT, "results");
await mkdir(dir, { recursive: true });
const json = JSON.stringify(results, null, 2);
const file = join(dir, `bench-${results.date as string}.json`.replaceAll(":", "-"));
await writeFile(file, json);
await writeFile(join(dir, "bench-latest.json"), json);
console.log(`\nwritten: ${file}`);
