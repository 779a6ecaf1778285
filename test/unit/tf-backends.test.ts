/**
 * The same weights give the same answers on every TensorFlow.js backend available here
 * (wasm, the default, and the pure-JS cpu backend; tfjs-node is not installable offline):
 * the channel agent's per-band capacities and the traffic agent's demand agree to float32
 * rounding.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { ChannelAgent } from "../../server/agents/channel-agent.ts";
import { TrafficAgent } from "../../server/agents/traffic-agent.ts";
import { initTf, tf } from "../../server/ml/backend.ts";
import { generateEnvironments, HELD_OUT_SEED } from "../../server/net/environments.ts";
import { loadRobotDescription } from "../../server/sim/robot-description.ts";

describe("TensorFlow.js backends", () => {
  after(async () => {
    await tf.setBackend("wasm");
  });

  it("selects wasm by default and gives the same predictions on cpu", async () => {
    const info = await initTf("auto");
    assert.equal(info.name, "wasm");
    const robot = await loadRobotDescription({
      robot: { dir: "assets/robots/panda", sceneFile: "assets/scenes/cell.json" },
    });
    const envs = generateEnvironments(robot.kinematics, 5, { seed: HELD_OUT_SEED });
    const pgf = await ChannelAgent.load("assets/models/pgf", { estimator: "mean" });
    const ngf = await TrafficAgent.load("assets/models/ngf");
    const scenario = { arms: 2, headsets: 3, patchRateHz: 60, videoRung: "4k" };
    const onWasm = {
      channel: await Promise.all(envs.map((e) => pgf.predict(e))),
      demand: await ngf.predictDemand(scenario),
    };
    assert.ok(await tf.setBackend("cpu"));
    const onCpu = {
      channel: await Promise.all(envs.map((e) => pgf.predict(e))),
      demand: await ngf.predictDemand(scenario),
    };
    for (let i = 0; i < envs.length; i++) {
      onWasm.channel[i]!.bands.forEach((b, k) => {
        const c = onCpu.channel[i]!.bands[k]!;
        assert.ok(
          Math.abs(b.capacityBps - c.capacityBps) / b.capacityBps < 1e-4,
          `${b.bandId}: ${b.capacityBps} vs ${c.capacityBps}`,
        );
      });
    }
    assert.ok(
      Math.abs(onWasm.demand.meanBps - onCpu.demand.meanBps) / onWasm.demand.meanBps < 1e-3,
    );
    pgf.dispose();
    ngf.dispose();
  });
});
