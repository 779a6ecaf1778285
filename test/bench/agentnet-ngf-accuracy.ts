/**
 * The traffic agent's figures for `npm run bench:agentnet`: demand accuracy on the held-out
 * scenarios (new seeds, headset counts and patch rates), the same with float16/uint8
 * weights, the runtime's no-ML nominal fallback on the same measurements, per-class
 * accuracy and distribution fidelity, and accuracy before/after adaptation to shifted
 * traffic (see server/ml/README-ngf.md).
 */
import { TrafficAgent } from "../../server/agents/traffic-agent.ts";
import { evaluateNgf } from "../../server/ml/ngf-eval.ts";

export async function runNgfAccuracy(options: {
  quick: boolean;
}): Promise<Record<string, unknown>> {
  const e = await evaluateNgf({
    dir: "assets/models/ngf",
    load: (d) => TrafficAgent.load(d),
    heldOutWindows: options.quick ? 60 : 180,
    adaptWindows: options.quick ? 60 : 120,
  });
  return {
    heldOutScenarios: e.heldOutScenarios,
    accuracy: e.accuracy,
    baseline: e.baseline,
    quantisedDeviation: e.quantisedDeviation,
    perClass: e.perClass,
    fidelity: e.fidelity,
    predictMs: e.predictMs,
    adaptation: e.adaptation,
  };
}
