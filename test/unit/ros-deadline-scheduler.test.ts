/**
 * The sim cell's drift-free publish scheduler (ros/sim-cell/deadline-scheduler.ts), driven by
 * a fake event loop: a clock that moves only when the loop says, timers that fire late by a
 * chosen amount, setImmediate turns that cost a chosen time. Judged on events: which
 * deadlines the task was given, how many ran in one wake-up, what was counted as skipped.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DeadlineScheduler, type SchedulerRuntime } from "../../ros/sim-cell/deadline-scheduler.ts";

interface Pending {
  at: number;
  fn: () => void;
}

/** A single-threaded event loop on a fake clock (ms). */
class FakeLoop implements SchedulerRuntime {
  t = 1000;
  /** Wake-ups so far (each timer or immediate callback is one). */
  wakes = 0;
  /** How late each timer fires beyond its delay, ms. */
  timerLateness: () => number = () => 0;
  /** Clock time one setImmediate turn takes, ms. */
  turnMs = 0.02;
  #timers: Pending[] = [];
  #immediates: Pending[] = [];

  now = () => this.t;
  setTimeout = (fn: () => void, ms: number) => {
    assert.ok(ms >= 1 && Number.isInteger(ms), `timer delays are whole ms ≥ 1, got ${ms}`);
    const p = { at: this.t + ms + this.timerLateness(), fn };
    this.#timers.push(p);
    return p;
  };
  clearTimeout = (h: unknown) => {
    this.#timers = this.#timers.filter((p) => p !== h);
  };
  setImmediate = (fn: () => void) => {
    const p = { at: this.t, fn };
    this.#immediates.push(p);
    return p;
  };
  clearImmediate = (h: unknown) => {
    this.#immediates = this.#immediates.filter((p) => p !== h);
  };

  /** Runs the loop until the clock passes `end`. */
  runUntil(end: number): void {
    while (this.t < end) {
      if (this.#immediates.length > 0) {
        for (const p of this.#immediates.splice(0)) {
          this.t += this.turnMs;
          this.#wake(p);
        }
        continue;
      }
      this.#timers.sort((a, b) => a.at - b.at);
      const p = this.#timers[0];
      if (!p || p.at > end) {
        this.t = end;
        return;
      }
      this.#timers.shift();
      this.t = Math.max(this.t, p.at);
      this.#wake(p);
    }
  }

  /** Moves the clock on without running anything (the thread was busy elsewhere). */
  stall(ms: number): void {
    this.t += ms;
  }

  #wake(p: Pending): void {
    this.wakes += 1;
    p.fn();
  }
}

/** Starts a scheduler on `loop` that records each deadline and the wake-up it ran in. */
function record(loop: FakeLoop, periodMs: number, spinWindowMs = 0) {
  const runs: { scheduled: number; wake: number; at: number }[] = [];
  const s = new DeadlineScheduler({ periodMs, spinWindowMs, runtime: loop }, (scheduled) =>
    runs.push({ scheduled, wake: loop.wakes, at: loop.t }),
  );
  s.start();
  return { s, runs, start: loop.t };
}

/** Deterministic pseudo-random numbers in [0, 1). */
function lcg(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1664525 + 1013904223) % 2 ** 32;
    return x / 2 ** 32;
  };
}

describe("sim cell deadline scheduler", () => {
  it("keeps every deadline on the grid however late the timers fire (no drift)", () => {
    const loop = new FakeLoop();
    const rand = lcg(7);
    loop.timerLateness = () => 0.9 * rand();
    const { s, runs, start } = record(loop, 1);
    const n = 10_000;
    loop.runUntil(start + n + 3);
    s.stop();
    assert.ok(runs.length >= n, `one run per period, none lost to late timers: ${runs.length}`);
    for (const [i, r] of runs.entries()) {
      assert.equal(r.scheduled, start + (i + 1) * 1, `run ${i} is for deadline ${i + 1}`);
      assert.ok(r.at >= r.scheduled, `run ${i} never starts before its deadline`);
    }
    // Late wake-ups do not add up: the last run is as close to its deadline as the first.
    assert.ok(s.figures().maxMs < 2, `lateness stays under 2 periods: ${s.figures().maxMs} ms`);
    assert.equal(s.figures().skipped, 0);
  });

  it("runs at most one deadline per wake-up, also when catching up", () => {
    const loop = new FakeLoop();
    loop.timerLateness = () => 2.5; // every timer fires 2.5 periods late
    const { s, runs, start } = record(loop, 1);
    loop.runUntil(start + 200);
    s.stop();
    const perWake = new Map<number, number>();
    for (const r of runs) perWake.set(r.wake, (perWake.get(r.wake) ?? 0) + 1);
    assert.ok(runs.length > 150, `kept up the rate: ${runs.length} runs in 200 periods`);
    assert.deepEqual([...new Set(perWake.values())], [1]);
  });

  it("skips and counts the deadlines of a stall beyond the catch-up window, then stays on the grid", () => {
    const loop = new FakeLoop();
    const { s, runs, start } = record(loop, 2);
    loop.runUntil(start + 10.5); // deadlines 1..5 ran
    assert.equal(runs.length, 5);
    loop.stall(50); // the thread was busy: now at start + 60.5, deadlines 6..30 have passed
    loop.runUntil(start + 71);
    s.stop();
    const after = runs.slice(5).map((r) => (r.scheduled - start) / 2);
    // Deadline 6's wake-up finds 6..30 passed: 6..27 are skipped (22), 28 runs, and 29 and
    // 30 (within the catch-up window of 2) follow one per loop turn; 31.. are on time.
    assert.equal(s.figures().skipped, 22);
    assert.deepEqual(after, [28, 29, 30, 31, 32, 33, 34, 35]);
    assert.equal(new Set(runs.slice(5).map((r) => r.wake)).size, after.length, "no burst");
  });

  it("with burst (the bench's baseline), runs the passed deadlines back to back in one wake-up", () => {
    const loop = new FakeLoop();
    loop.timerLateness = () => 2.5;
    const runs: { scheduled: number; wake: number }[] = [];
    const s = new DeadlineScheduler(
      { periodMs: 1, maxCatchUpPeriods: 50, burst: true, runtime: loop },
      (scheduled) => runs.push({ scheduled, wake: loop.wakes }),
    );
    const start = loop.t;
    s.start();
    loop.runUntil(start + 200);
    s.stop();
    for (const [i, r] of runs.entries()) assert.equal(r.scheduled, start + i + 1);
    assert.ok(runs.length >= 195, `every deadline ran: ${runs.length}`);
    assert.equal(s.figures().skipped, 0);
    const perWake = new Map<number, number>();
    for (const r of runs) perWake.set(r.wake, (perWake.get(r.wake) ?? 0) + 1);
    assert.ok(Math.max(...perWake.values()) >= 3, "several deadlines ran in one wake-up");
  });

  it("with a spin window, runs within one loop turn of each deadline", () => {
    const loop = new FakeLoop();
    loop.timerLateness = () => 0.8;
    const { s, runs, start } = record(loop, 1, 0.5);
    loop.runUntil(start + 500.5);
    s.stop();
    assert.equal(runs.length, 500);
    for (const r of runs) assert.ok(r.at - r.scheduled <= loop.turnMs + 1e-9);
    const f = s.figures();
    assert.ok(f.p99Ms <= loop.turnMs + 1e-9, `p99 lateness ${f.p99Ms} ms`);
  });

  it("reports lateness figures and starts a new window on reset", () => {
    const loop = new FakeLoop();
    const rand = lcg(3);
    loop.timerLateness = () => 0.7 * rand();
    const { s, runs, start } = record(loop, 1);
    loop.runUntil(start + 1000.5);
    const late = runs.map((r) => r.at - r.scheduled).sort((a, b) => a - b);
    const f = s.figures();
    assert.equal(f.ran, runs.length);
    assert.equal(f.p50Ms, late[Math.floor(0.5 * late.length)]);
    assert.equal(f.p99Ms, late[Math.floor(0.99 * late.length)]);
    assert.equal(f.maxMs, late.at(-1));
    s.resetFigures();
    assert.deepEqual(s.figures(), { ran: 0, skipped: 0, p50Ms: 0, p99Ms: 0, maxMs: 0 });
    s.stop();
  });

  it("goes on after a task that throws, reporting the error", () => {
    const loop = new FakeLoop();
    const errors: unknown[] = [];
    let calls = 0;
    const s = new DeadlineScheduler(
      { periodMs: 1, runtime: loop, onError: (e) => errors.push(e) },
      () => {
        calls += 1;
        if (calls === 3) throw new Error("boom");
      },
    );
    s.start();
    loop.runUntil(loop.t + 10.5);
    s.stop();
    assert.equal(calls, 10);
    assert.equal(errors.length, 1);
  });

  it("runs nothing after stop and refuses a non-positive period", () => {
    const loop = new FakeLoop();
    const { s, runs, start } = record(loop, 1);
    loop.runUntil(start + 3.5);
    s.stop();
    loop.runUntil(start + 100);
    assert.equal(runs.length, 3);
    assert.throws(() => new DeadlineScheduler({ periodMs: 0 }, () => undefined), RangeError);
  });
});
