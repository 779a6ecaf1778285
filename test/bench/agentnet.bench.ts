/**
 * `npm run bench:agentnet`: the agents' accuracy on held-out environments and the paper's
 * two scenarios, coordinated vs uncoordinated (see agentnet-scenarios.ts for the rules).
 * Prints tables and writes `results/agentnet-<time>.json` and `results/agentnet-latest.json`.
 *
 * Results with the strongest simple baselines are `tasks` and `reliability`. `accuracy`
 * prints its no-ML rows beside pGF; `scenarios` and `streaming` keep their original, weak
 * "uncoordinated" baselines (fixed share, one-rung ABR, static bands) and say so in their
 * output: their differences are not results (README, "Does AgentNet earn its place?").
 *
 *   npm run bench:agentnet               everything
 *   npm run bench:agentnet -- --quick    fewer held-out environments and shorter runs
 *   npm run bench:agentnet -- --only accuracy   (or: tasks, reliability, scenarios, streaming,
 *                                                own-traffic; several separated by commas)
 *
 * `tasks` (issue 13): the predictive tasks with their baselines — pGF what-if and ahead, the
 * diffusion samples as a distribution, nGF demand, reservation and trace fidelity.
 * `own-traffic`: live adaptation on the server's own recorded traffic, scored on later traffic
 * (agentnet-own-traffic.ts; a 150 s session, 90 s with --quick).
 */
import { mkdir, writeFile } from "node:fs/promises";
import { cpus } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { pino } from "pino";
import { loadAgents } from "../../server/agents/runtime.ts";
import { loadConfig, REPO_ROOT } from "../../server/config.ts";
import { loadRobotDescription } from "../../server/sim/robot-description.ts";
import {
  digitalTwinScenario,
  metaverseScenario,
  runScenario,
  type StrategyResult,
} from "./agentnet-scenarios.ts";
import { runAccuracyBench } from "./agentnet-accuracy.ts";
import { runOwnTrafficBench } from "./agentnet-own-traffic.ts";
import { runReliabilityBench } from "./agentnet-reliability.ts";
import { runTaskBench } from "./agentnet-tasks.ts";
import { runStreamingSim } from "./streaming-sim.ts";

const { values } = parseArgs({
  options: { quick: { type: "boolean", default: false }, only: { type: "string" } },
});
const quick = values.quick ?? false;
/** `--only a,b`: the named parts; every part when absent. */
const only = values.only?.split(",").map((x) => x.trim());
const part = (name: string): boolean => only === undefined || only.includes(name);
const config = loadConfig({ LOG_LEVEL: "silent" });
const logger = pino({ level: "warn" });
const agents = await loadAgents(config.agents, logger);
const robot = await loadRobotDescription(config);
const results: Record<string, unknown> = {
  date: new Date().toISOString(),
  machine: { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "unknown" },
  backend: agents.backend,
  agents: agents.registry.list(),
  quick,
};

if (part("accuracy")) {
  console.error("accuracy …");
  const accuracy = await runAccuracyBench({ quick });
  results.accuracy = accuracy;
  const pgf = accuracy.pgf as Record<string, Record<string, unknown>>;
  console.log(
    `\nChannel agent (pGF), ${String(pgf.environments)} held-out environments, ergodic truth`,
  );
  console.table(
    Object.fromEntries(
      Object.entries(pgf)
        .filter(([, v]) => typeof v === "object" && v !== null && "accuracy" in v && "nmse" in v)
        .map(([k, v]) => {
          const inf = v.inferenceMs as { p50: number; p95: number } | undefined;
          return [
            k,
            {
              accuracy: v.accuracy,
              NMSE: v.nmse,
              "util. acc.": v.utilisationAccuracy,
              "best band": v.bestBandAgreement,
              learned: v.learned ? "yes" : "no",
              "infer p50/p95 ms": inf ? `${inf.p50} / ${inf.p95}` : "-",
            },
          ];
        }),
    ),
  );
  const ad = pgf.adaptation as { before: number; after: number; triggeredByDrift: boolean };
  console.log(
    `  refitted room: accuracy ${ad.before} → ${ad.after} after adaptation (${ad.triggeredByDrift ? "triggered by drift" : "forced"})`,
  );
  const ngf = accuracy.ngf as {
    heldOutScenarios: number;
    accuracy: Record<string, { accuracyMean: number; accuracyP95: number; nmseMean: number }>;
    baseline: Record<string, { accuracyMean: number; accuracyP95: number; nmseMean: number }>;
    predictMs: number;
    adaptation: Record<
      string,
      { before: { accuracyMean: number }; after: { accuracyMean: number } }
    >;
  };
  console.log(`\nTraffic agent (nGF), ${ngf.heldOutScenarios} held-out scenarios, measured traces`);
  console.table(
    Object.fromEntries(
      [
        ...Object.entries(ngf.accuracy),
        ...Object.entries(ngf.baseline).map(([k, v]) => [`${k} (no ML)`, v] as const),
      ].map(([k, v]) => [
        k,
        {
          "accuracy (mean)": round(v.accuracyMean),
          "accuracy (p95)": round(v.accuracyP95),
          "NMSE (mean)": Number(v.nmseMean.toExponential(2)),
        },
      ]),
    ),
  );
  for (const [k, v] of Object.entries(ngf.adaptation)) {
    console.log(
      `  shifted traffic (${k}): accuracy ${round(v.before.accuracyMean)} → ${round(v.after.accuracyMean)} after adaptation`,
    );
  }
  console.log(`  predictDemand: ${round(ngf.predictMs, 1)} ms per scenario`);
}

if (part("tasks")) {
  results.tasks = await runTaskBench({ quick, kinematics: robot.kinematics });
}
if (part("reliability")) {
  results.reliability = await runReliabilityBench({ quick, kinematics: robot.kinematics });
}
if (part("own-traffic")) {
  console.error("own traffic: a live twin session, recorded …");
  const own = await runOwnTrafficBench({ sessionS: quick ? 90 : 150 });
  results.ownTraffic = own;
  console.log(
    `\nnGF live adaptation on the server's own traffic: a ${own.sessionS} s twin session ` +
      `(${own.headsets.before} headsets, ${own.headsets.after} for the last 40 %), ` +
      `${own.records} /traffic batches (${own.split} split: ${own.trainRecords} observed, ` +
      `${own.heldOutRecords} held out), ${own.fineTunes} fine-tunes triggered by drift`,
  );
  console.table(own.rows.map((r) => ({ method: r.method, "held-out NMAE": round(r.nmae) })));
  console.log(
    `  skill of the adapted nGF over the strongest baseline (${own.strongestBaseline}): ` +
      round(own.skill, 3),
  );
  console.log("  per flow class, bit/s per flow (held-out measured, each method's prediction):");
  console.table(
    Object.fromEntries(
      Object.entries(own.byClass).map(([c, row]) => [
        c,
        Object.fromEntries(Object.entries(row).map(([k, v]) => [k, Math.round(v)])),
      ]),
    ),
  );
}

const WEAK =
  "  (weak baselines: a fixed share, one-rung ABR, static bands — differences are not results;" +
  " see --only reliability for the strongest uncoordinated stack)";
const scenarios = [];
for (const scenario of part("scenarios") ? [digitalTwinScenario, metaverseScenario] : []) {
  console.error(`${scenario.name} …`);
  const r = await runScenario(scenario, robot, agents.registry, {
    monitorS: 5,
    fixedShareBps: 40e6,
    seed: 11,
  });
  scenarios.push(r);
  console.log(`\n${r.scenario}\n${WEAK}`);
  console.table(
    r.results.map((x) => ({
      strategy: x.strategy,
      "spectrum util.": x.spectrumUtilisation,
      "bandwidth util.": x.bandwidthUtilisation,
      "stall ratio": x.stallRatio,
      "video Mbit/s": Math.round(x.meanVideoBps / 1e5) / 10,
      "bands (mean)": x.meanBands,
      "decision p50/p95 ms": x.decisionLatencyMs
        ? `${x.decisionLatencyMs.p50} / ${x.decisionLatencyMs.p95}`
        : "-",
    })),
  );
  const [coord, ...base] = r.results as [StrategyResult, ...StrategyResult[]];
  for (const b of base) {
    console.log(
      `  vs ${b.strategy} (weak baseline): spectrum ${pct(coord.spectrumUtilisation / b.spectrumUtilisation - 1)}, ` +
        `bandwidth ${pct(coord.bandwidthUtilisation / b.bandwidthUtilisation - 1)}, ` +
        `stalls ${b.stallRatio} → ${coord.stallRatio}`,
    );
  }
}
results.scenarios = scenarios;

if (part("streaming")) {
  console.error("streaming simulation …");
  const streaming: Record<string, unknown> = {};
  for (const [name, crowd] of [
    ["steady", false],
    ["crowded", true],
  ] as const) {
    const runs = await runStreamingSim(robot, agents.registry, {
      traces: quick ? 2 : 8,
      seconds: quick ? 120 : 300,
      others: 11,
      crowd,
    });
    streaming[name] = runs;
    console.log(
      `\n360° streaming (${name}), one walking headset sharing the downlink with 11 others` +
        (crowd ? ", 12 more joining for the middle third" : "") +
        ` (trace-driven)\n${WEAK}`,
    );
    console.table(
      runs.map((x) => ({
        strategy: x.strategy,
        "mean bitrate Mbit/s": Math.round(x.meanBitrateBps / 1e5) / 10,
        "stall ratio": x.stallRatio,
        "switches/min": x.switchesPerMin,
      })),
    );
  }
  results.streaming = streaming;
}

const dir = join(REPO_ROOT, "results");
await mkdir(dir, { recursive: true });
const json = JSON.stringify(results, null, 2);
const file = join(dir, `agentnet-${(results.date as string).replaceAll(":", "-")}.json`);
await writeFile(file, json);
await writeFile(join(dir, "agentnet-latest.json"), json);
console.log(`\nwritten: ${file}`);

function round(v: number, d = 4): number {
  return Math.round(v * 10 ** d) / 10 ** d;
}

function pct(x: number): string {
  return `${x >= 0 ? "+" : ""}${Math.round(x * 100)} %`;
}
