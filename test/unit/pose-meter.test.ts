/**
 * The pose meter: the measured pose rate and hands share of the twin's traffic scenario.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PoseMeter } from "../../server/net/pose-meter.ts";

describe("PoseMeter", () => {
  it("measures pose messages per headset per second and the share with hands", () => {
    const t0 = 1_000_000;
    let now = t0;
    const meter = new PoseMeter({ now: () => now, history: 10 });
    assert.equal(meter.measure(), null, "nothing measured");
    // Headset a: 30 Hz head only from mid-window; b: 60 Hz, every other pose with hands.
    for (let ms = 500; ms < 4000; ms++) {
      if (ms % 33 === 0) meter.record("a", false, t0 + ms);
      if (ms % 17 === 0) meter.record("b", (ms / 17) % 2 === 0, t0 + ms);
    }
    now = t0 + 4200;
    const m = meter.measure()!;
    // Full windows 1..3 s (the first is partial, the open one not closed): 30.3 and 58.8 /s.
    assert.ok(Math.abs(m.poseRateHz - (1000 / 33 + 1000 / 17) / 2) < 1.5, `${m.poseRateHz}`);
    assert.ok(Math.abs(m.handsShare - 58.8 / 2 / (30.3 + 58.8)) < 0.03, `${m.handsShare}`);
    // With a third headset present that sends no pose, the rate is over all three.
    const three = meter.measure(now, 3)!;
    assert.ok(Math.abs(three.poseRateHz - (m.poseRateHz * 2) / 3) < 1e-9, `${three.poseRateHz}`);
    assert.equal(three.handsShare, m.handsShare);
    assert.equal(meter.measure(now, 1)!.poseRateHz, m.poseRateHz, "fewer present than posing");
    // Only the last `history` windows count; a headset that left is forgotten.
    meter.removeHeadset("b");
    now = t0 + 12_500;
    const a = meter.measure()!;
    assert.ok(a.poseRateHz < 30 && a.poseRateHz > 5, `a fell silent: ${a.poseRateHz}`);
    assert.equal(a.handsShare, 0);
    now = t0 + 30_000;
    assert.equal(meter.measure(), null, "every pose has left the span");
  });
});
