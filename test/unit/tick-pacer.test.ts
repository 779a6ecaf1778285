/** TickPacer: when a room ticks at the rest rate, and what wakes it (clock injected, ms). */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TickPacer } from "../../server/rooms/tick-pacer.ts";

const options = { activeHz: 60, restHz: 10, restAfterMs: 1000 };

describe("tick pacer", () => {
  it("starts awake at the patch rate and rests only after the quiet time", () => {
    const pacer = new TickPacer(options, 0);
    assert.equal(pacer.resting, false);
    assert.equal(pacer.periodMs, 1000 / 60);
    assert.equal(pacer.quietTick(999), false, "quiet for less than 1 s");
    assert.equal(pacer.resting, false);
    assert.equal(pacer.quietTick(1000), true, "quiet for 1 s: rest starts");
    assert.equal(pacer.resting, true);
    assert.equal(pacer.periodMs, 100);
    assert.equal(pacer.quietTick(5000), false, "already resting: no second switch");
  });

  it("any activity restarts the quiet time; activity at rest wakes it once", () => {
    const pacer = new TickPacer(options, 0);
    assert.equal(pacer.activity(800), false, "awake: nothing to switch");
    assert.equal(pacer.quietTick(1500), false, "quiet since 800 ms only");
    assert.equal(pacer.quietTick(1800), true);
    assert.equal(pacer.activity(1900), true, "a message wakes the resting room");
    assert.equal(pacer.resting, false);
    assert.equal(pacer.periodMs, 1000 / 60);
    assert.equal(pacer.activity(1901), false, "awake already");
    assert.equal(pacer.quietTick(2800), false);
    assert.equal(pacer.quietTick(2901), true);
  });

  it("never rests when the rest rate is not below the patch rate", () => {
    const pacer = new TickPacer({ ...options, restHz: 60 }, 0);
    assert.equal(pacer.quietTick(60_000), false);
    assert.equal(pacer.periodMs, 1000 / 60);
    const capped = new TickPacer({ ...options, activeHz: 5 }, 0);
    assert.equal(capped.quietTick(60_000), false, "rest rate above the patch rate");
    assert.equal(capped.periodMs, 200);
  });
});
