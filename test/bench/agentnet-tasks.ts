/**
 * The predictive tasks of `npm run bench:agentnet` (issue 13): pGF what-if and ahead, the
 * diffusion samples as a distribution, nGF demand and reservation, GAN trace fidelity —
 * every table with its baselines, on held-out sets (server/ml/datasets/). Prints the tables
 * and returns the figures for results/agentnet-latest.json.
 */
import { ChannelAgent } from "../../server/agents/channel-agent.ts";
import { TrafficAgent } from "../../server/agents/traffic-agent.ts";
import {
  type CapacityModel,
  evaluateAhead,
  evaluateDistribution,
  evaluateWhatIf,
  type TaskTable,
} from "../../server/ml/datasets/channel-eval.ts";
import { aheadTracks, TASK_SEEDS, whatIfCases } from "../../server/ml/datasets/channel-tasks.ts";
import {
  evaluateDemandForecast,
  evaluateReservation,
  evaluateTraceFidelity,
} from "../../server/ml/datasets/traffic-eval.ts";
import { TRAFFIC_TASK_SEEDS, trafficSessions } from "../../server/ml/datasets/traffic-tasks.ts";
import type { RadioEnvironment } from "../../server/net/contracts.ts";
import type { ArmKinematics } from "../../server/sim/kinematics.ts";

/** The channel agent as the evaluation's {@link CapacityModel}. */
export function capacityModel(agent: ChannelAgent): CapacityModel {
  return {
    mean: (envs: readonly RadioEnvironment[]) => {
      const out: Float64Array[] = [];
      for (let s = 0; s < envs.length; s += 256)
        for (const p of agent.predictMany(envs.slice(s, s + 256)))
          out.push(Float64Array.from(p.bands, (b) => b.capacityBps));
      return out;
    },
    samples: (envs: readonly RadioEnvironment[], k: number) => {
      const out: Float64Array[][] = [];
      for (let s = 0; s < envs.length; s += 16)
        out.push(...agent.sampleCapacities(envs.slice(s, s + 16), k));
      return out;
    },
  };
}

function printTask(t: TaskTable): void {
  console.log(
    `\npGF ${t.task}: ${t.cases} held-out cases, NMAE of per-band capacity (truth: the channel model, measured)`,
  );
  const kinds = Object.keys(t.methods[0]?.byKind ?? {});
  console.table(
    Object.fromEntries(
      t.methods.map((m) => [
        m.method,
        {
          learned: m.learned ? "yes" : "no",
          NMAE: m.nmae,
          ...Object.fromEntries(kinds.map((k) => [k, m.byKind[k]])),
        },
      ]),
    ),
  );
  for (const [m, s] of Object.entries(t.skill))
    console.log(
      `  skill of ${m} vs strongest baseline (${t.strongestBaseline}): ${s[t.strongestBaseline]}; vs persistence: ${s.persistence}`,
    );
}

export async function runTaskBench(options: {
  quick: boolean;
  kinematics: ArmKinematics;
}): Promise<Record<string, unknown>> {
  const { quick, kinematics: kin } = options;
  const out: Record<string, unknown> = {};
  const agent = await ChannelAgent.load("assets/models/pgf", { estimator: "mean" });
  try {
    const model = capacityModel(agent);
    console.error("pGF what-if …");
    const whatIf = evaluateWhatIf(
      model,
      whatIfCases(kin, quick ? 45 : 150, TASK_SEEDS.heldOut),
      whatIfCases(kin, quick ? 24 : 60, TASK_SEEDS.fit),
    );
    printTask(whatIf);
    console.error("pGF ahead …");
    const ahead = evaluateAhead(
      model,
      aheadTracks(kin, quick ? 10 : 30, TASK_SEEDS.heldOut),
      aheadTracks(kin, quick ? 6 : 12, TASK_SEEDS.fit),
    );
    for (const t of ahead) printTask(t);
    console.error("pGF samples as a distribution …");
    const distEnvs = whatIfCases(kin, quick ? 30 : 90, TASK_SEEDS.heldOut + 1).map((c) => c.after);
    const distFit = whatIfCases(kin, quick ? 24 : 45, TASK_SEEDS.fit + 1).map((c) => c.after);
    const distribution = evaluateDistribution(model, distEnvs, distFit, { samples: 32 });
    console.log(
      `\npGF as a distribution: ${distribution.environments} held-out environments, ${distribution.samplesPerEnvironment} samples each, truth = single fading realisations (slots)`,
    );
    console.table(
      Object.fromEntries(
        distribution.coverage90.map((c, i) => [
          c.method,
          {
            "90 % interval coverage": c.coverage,
            "width / capacity": c.relativeWidth,
            "q05 reserve: outage": distribution.reserve5[i]?.outage,
            "goodput / capacity": distribution.reserve5[i]?.goodputShare,
          },
        ]),
      ),
    );
    out.pgf = { whatIf, ahead, distribution };
  } finally {
    agent.dispose();
  }

  const traffic = await TrafficAgent.load();
  try {
    console.error("nGF sessions …");
    const held = trafficSessions(quick ? 4 : 12, TRAFFIC_TASK_SEEDS.heldOut, quick ? 20 : 30);
    const fit = trafficSessions(4, TRAFFIC_TASK_SEEDS.fit, quick ? 20 : 30);
    const demand = evaluateDemandForecast(traffic, held, fit);
    console.log(
      `\nnGF demand over the next H s, ${held.length} held-out sessions (NMAE of the group's mean throughput)`,
    );
    console.table(
      Object.fromEntries(
        demand.map((d) => [
          `${d.target} H=${d.horizonS}s`,
          { ...d.nmae, strongest: d.strongestBaseline },
        ]),
      ),
    );
    const reservation = evaluateReservation(traffic, held, fit);
    for (const r of reservation) {
      console.log(
        `\nnGF reservation, ${r.target}, held ${r.horizonS} s (headroom fitted to ≤ 1 % overflow on fit sessions; reserved/carried also at exactly 1 % held-out overflow)`,
      );
      console.table(
        Object.fromEntries(
          r.rows.map((x) => [
            x.method,
            {
              k: x.k,
              overflow: x.overflow,
              "reserved/carried": x.reservedRatio,
              "at equal overflow": x.reservedRatioAtEqualOverflow,
            },
          ]),
        ),
      );
      console.log(
        `  nGF q99 saves ${r.savingVs[r.strongestBaseline]} of the strongest baseline's (${r.strongestBaseline}) reservation at equal overflow`,
      );
    }
    console.error("nGF trace fidelity …");
    const fidelity = evaluateTraceFidelity(
      traffic,
      [
        { arms: 2, headsets: 5, patchRateHz: 45, videoRung: "4k" },
        { arms: 3, headsets: 3, patchRateHz: 72, videoRung: "8k" },
      ],
      quick ? 60 : 120,
    );
    console.log("\nnGF traces vs held-out traces (1 s windows of throughput)");
    console.table(
      fidelity.map((f) => ({
        class: f.flowClass,
        scenario: `${f.scenario.arms}a ${f.scenario.headsets}h ${f.scenario.patchRateHz}Hz`,
        "held-out acf1": f.heldOut.acf1,
        "GAN acf1": f.gan.acf1,
        "train acf1": f.nearestTraining.acf1,
        "held-out burst": f.heldOut.burstLength,
        "GAN burst": f.gan.burstLength,
        "train burst": f.nearestTraining.burstLength,
        "GAN KS": f.gan.ks,
        "train KS": f.nearestTraining.ks,
      })),
    );
    out.ngf = { demand, reservation, fidelity };
  } finally {
    traffic.dispose();
  }
  return out;
}
