/**
 * Traffic metering and the traces the traffic agent learns from: windows and throughput
 * of the meter; state patches that come from the real schema encoder and grow with arms
 * and operators; control frames sized by the SDK's encoders; video at its nominal rate.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Decoder } from "@colyseus/schema";
import { Packr } from "msgpackr";
import { TwinState } from "../../shared/schema/twin-state.ts";
import { TrafficMeter, TrafficMeterError } from "../../server/net/traffic-meter.ts";
import { controlWindows } from "../../server/ml/datasets/control-traces.ts";
import { VIDEO_LADDER } from "../../server/ml/datasets/flow-classes.ts";
import { mean, quantile, TraceError } from "../../server/ml/datasets/trace-windows.ts";
import { measureScenario } from "../../server/ml/datasets/traffic-sets.ts";
import {
  TwinPatchSource,
  twinStateTrace,
  twinStateWindows,
} from "../../server/ml/datasets/twin-state-traces.ts";
import { videoWindows } from "../../server/ml/datasets/video-traces.ts";
import { controlMessageBytes } from "../../server/net/colyseus-frames.ts";

describe("TrafficMeter", () => {
  it("cuts records into clock-aligned windows with throughput, size and inter-arrival", () => {
    let now = 0;
    const meter = new TrafficMeter({ windowS: 1, now: () => now });
    // Window 0: 10 × 100 B; window 1: nothing; window 2: 4 × 250 B.
    for (let i = 0; i < 10; i++) meter.record("twin_state", 100, i * 100, "a");
    for (let i = 0; i < 4; i++) meter.record("twin_state", 250, 2000 + i * 200, "a");
    now = 3000;
    const ws = meter.windows("twin_state", "a");
    assert.equal(ws.length, 3);
    assert.deepEqual(
      ws.map((w) => [w.throughputBps, w.meanPacketBytes, w.meanInterArrivalS]),
      [
        [8000, 100, 0.1],
        [0, 0, 1],
        [8000, 250, 0.25],
      ],
    );
    assert.ok(ws.every((w) => w.flowClass === "twin_state" && w.windowS === 1));
  });

  it("keeps a bounded ring per flow and a bounded number of flows", () => {
    let now = 0;
    const meter = new TrafficMeter({ history: 5, maxFlows: 2, now: () => now });
    for (let t = 0; t < 20_000; t += 500) meter.record("control", 10, t, "x");
    now = 20_000;
    assert.equal(meter.windows("control", "x").length, 5);
    meter.record("control", 10, 20_000, "y");
    meter.record("control", 10, 20_001, "z");
    // x was the longest silent and is evicted.
    assert.deepEqual(
      meter
        .flows()
        .map((f) => f.flowId)
        .sort(),
      ["y", "z"],
    );
    meter.removeFlow("y");
    assert.deepEqual(
      meter.flows().map((f) => f.flowId),
      ["z"],
    );
  });

  it("sums flows per window slot into an aggregate throughput", () => {
    let now = 0;
    const meter = new TrafficMeter({ now: () => now });
    for (let s = 0; s < 4; s++) {
      meter.record("twin_state", 1000, s * 1000 + 10, "a");
      meter.record("twin_state", 1000, s * 1000 + 20, "b");
      meter.record("video_4k", 1200 * (s + 1), s * 1000 + 30, "a");
    }
    now = 4000;
    const all = meter.aggregate();
    assert.equal(all.windows, 4);
    // (2000 + 1200·(s+1)) B per slot → mean (2000 + 3000) · 8 bit/s.
    assert.equal(all.meanBps, 40_000);
    assert.equal(all.lastBps, (2000 + 4800) * 8);
    assert.ok(all.p95Bps > all.meanBps && all.p95Bps <= all.lastBps);
    assert.equal(meter.aggregate("twin_state").meanBps, 16_000);
    assert.equal(meter.aggregate("control").windows, 0);
  });

  it("hands out each closed window once", () => {
    let now = 0;
    const meter = new TrafficMeter({ now: () => now });
    for (let t = 0; t < 3000; t += 100) meter.record("control", 200, t, "op");
    now = 2500;
    assert.equal(meter.takeWindows().length, 2);
    assert.equal(meter.takeWindows().length, 0);
    now = 5000;
    // Window 2 (records) and window 3, 4 (silent) close now.
    const later = meter.takeWindows();
    assert.deepEqual(
      later.map((w) => w.throughputBps),
      [16_000, 0, 0],
    );
  });

  it("refuses bad sizes and times with a typed error", () => {
    const meter = new TrafficMeter();
    assert.throws(() => meter.record("control", -1, 0), TrafficMeterError);
    assert.throws(() => meter.record("control", 1, Number.NaN), TrafficMeterError);
    assert.throws(() => new TrafficMeter({ windowS: 0 }), TrafficMeterError);
  });
});

describe("twin_state traces", () => {
  it("are real encoder patches: a client decoder rebuilds the arm and the operators", () => {
    const src = new TwinPatchSource({ arms: 2, operators: 3, seed: 5, profile: "execute" });
    const client = new TwinState();
    const decoder = new Decoder(client);
    decoder.decode(src.fullState(), { offset: 1 });
    let patches = 0;
    for (let k = 1; k <= 120; k++) {
      const frame = src.patchAt(k / 60);
      if (!frame) continue;
      patches++;
      assert.equal(frame[0], 15, "ROOM_STATE_PATCH");
      decoder.decode(frame, { offset: 1 });
    }
    assert.ok(patches > 100);
    assert.equal(client.robot.joints.length, 14);
    assert.equal(client.operators.size, 3);
    src.state.robot.joints.forEach((j, i) => {
      const c = client.robot.joints[i];
      assert.ok(c);
      assert.equal(c.name, j.name);
      assert.ok(Math.abs(c.position - j.position) < 1e-6, `${j.name} position`);
    });
    for (const [key, op] of src.state.operators) {
      const c = client.operators.get(key);
      assert.ok(c);
      assert.ok(Math.abs(c.head.position.x - op.head.position.x) < 1e-5);
    }
  });

  it("patch sizes grow with arms and with operators", () => {
    const size = (arms: number, operators: number): number => {
      const { patches } = twinStateTrace({
        arms,
        operators,
        patchRateHz: 60,
        windows: 10,
        seed: 3,
        profile: "execute",
      });
      return mean(patches.map((p) => p.bytes));
    };
    const base = size(1, 2);
    const moreArms = size(3, 2);
    const moreOperators = size(1, 6);
    assert.ok(moreArms > base * 1.3, `arms: ${base.toFixed(0)} → ${moreArms.toFixed(0)} B`);
    assert.ok(
      moreOperators > base * 1.5,
      `ops: ${base.toFixed(0)} → ${moreOperators.toFixed(0)} B`,
    );
  });

  it("an idle cell with no operators sends nothing; one patch per tick otherwise", () => {
    const idle = twinStateTrace({
      arms: 1,
      operators: 0,
      patchRateHz: 30,
      windows: 3,
      seed: 1,
      profile: "idle",
    });
    assert.equal(idle.patches.length, 0);
    assert.ok(idle.windows.every((w) => w.throughputBps === 0));
    const busy = twinStateTrace({ arms: 1, operators: 2, patchRateHz: 30, windows: 3, seed: 1 });
    assert.ok(busy.windows.every((w) => Math.abs(w.meanInterArrivalS - 1 / 30) < 1e-9));
    assert.throws(() => new TwinPatchSource({ arms: 0, operators: 1, seed: 1 }), TraceError);
  });
});

describe("control traces", () => {
  it("size frames with the SDK's header and msgpack packer", () => {
    const body = { head: { position: { x: 0.1, y: 1.6, z: 0.25 } } };
    // ROOM_DATA byte + string header (1 + 4 bytes for "pose") + payload.
    assert.equal(controlMessageBytes("pose", body), 6 + new Packr().pack(body).length);
    const ws = controlWindows({ windows: 30, seed: 2, poseRateHz: 72 });
    const rate = mean(ws.map((w) => 1 / w.meanInterArrivalS));
    assert.ok(rate > 65 && rate < 90, `messages/s ${rate}`);
    assert.ok(ws.every((w) => w.meanPacketBytes > 50 && w.meanPacketBytes < 400));
  });

  it("scale with the pose rate; head-only poses are smaller than poses with hands", () => {
    const bps = (poseRateHz: number, handsShare: number) =>
      mean(
        controlWindows({ windows: 60, seed: 3, poseRateHz, handsShare }).map(
          (w) => w.throughputBps,
        ),
      );
    const size = (handsShare: number) =>
      mean(
        controlWindows({ windows: 60, seed: 3, poseRateHz: 30, handsShare }).map(
          (w) => w.meanPacketBytes,
        ),
      );
    // Poses dominate the uplink: 90 Hz carries about three times what 30 Hz does.
    const ratio = bps(90, 1) / bps(30, 1);
    assert.ok(ratio > 2.6 && ratio < 3.2, `90 Hz / 30 Hz throughput ${ratio.toFixed(2)}`);
    const [head, half, both] = [size(0), size(0.5), size(1)];
    assert.ok(
      head < 0.5 * both,
      `head-only ${head.toFixed(0)} B vs with hands ${both.toFixed(0)} B`,
    );
    assert.ok(head < half && half < both, `${head} < ${half} < ${both}`);
    assert.throws(() => controlWindows({ windows: 1, seed: 1, handsShare: 1.5 }), RangeError);
    assert.throws(() => controlWindows({ windows: 1, seed: 1, poseRateHz: 0 }), RangeError);
  });
});

describe("twin_state traces: headset poses", () => {
  it("follow the pose rate and carry the controllers only in poses with hands", () => {
    const bps = (headsetRateHz: number, handsShare: number) =>
      mean(
        twinStateWindows({
          arms: 1,
          operators: 4,
          patchRateHz: 90,
          headsetRateHz,
          handsShare,
          windows: 30,
          seed: 5,
          profile: "idle",
        }).map((w) => w.throughputBps),
      );
    // An idle arm: the patches are the operators' poses, one per pose message at most.
    const slow = bps(30, 1);
    const fast = bps(90, 1);
    assert.ok(fast > 2 * slow, `90 Hz ${fast.toFixed(0)} vs 30 Hz ${slow.toFixed(0)} bit/s`);
    const headOnly = bps(30, 0);
    assert.ok(headOnly < 0.7 * slow, `head only ${headOnly.toFixed(0)} vs ${slow.toFixed(0)}`);
    assert.throws(
      () => new TwinPatchSource({ arms: 1, operators: 1, seed: 1, handsShare: -0.1 }),
      TraceError,
    );
  });
});

describe("video traces", () => {
  for (const rung of VIDEO_LADDER) {
    it(`${rung.name}: mean throughput within ±15 % of ${rung.nominalBps / 1e6} Mbit/s`, () => {
      for (const fps of [30, 60] as const) {
        const ws = videoWindows({ rung: rung.name, windows: 60, seed: 11, fps });
        const m = mean(ws.map((w) => w.throughputBps));
        assert.ok(Math.abs(m / rung.nominalBps - 1) < 0.15, `${fps} fps: ${(m / 1e6).toFixed(2)}`);
        assert.ok(ws.every((w) => w.meanPacketBytes <= 1200 && w.meanPacketBytes > 1000));
        // VBR: windows spread (I frames, scene cuts, complexity), not a constant rate.
        const spread =
          quantile(
            ws.map((w) => w.throughputBps),
            0.95,
          ) / m;
        assert.ok(spread > 1.05, `p95/mean ${spread.toFixed(3)}`);
      }
    });
  }

  it("refuses an unknown rung", () => {
    assert.throws(() => videoWindows({ rung: "16k", windows: 1, seed: 1 }), TraceError);
  });
});

describe("measureScenario", () => {
  it("composes headsets × state patches + control and video per headset", () => {
    const m = measureScenario(
      { arms: 1, headsets: 2, patchRateHz: 30, videoRung: "1080p" },
      { windows: 20, seed: 9 },
    );
    assert.equal(m.aggregateBps.length, 20);
    const sum = m.perClass.reduce((a, c) => a + c.meanBps, 0);
    assert.ok(Math.abs(sum - m.meanBps) < 1e-6 * m.meanBps);
    assert.deepEqual(
      m.perClass.map((c) => c.flowClass),
      ["twin_state", "control", "video_1080p"],
    );
    assert.ok(m.p95Bps >= m.meanBps);
    assert.equal(m.flows.get("video_1080p")?.length, 2);
  });
});
