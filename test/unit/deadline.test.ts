/**
 * The deadline signal (server/deadline.ts): times out with a TimeoutError reason, follows
 * its parent, stops on clear(), and still fires when nothing but a listener refers to it
 * after a full garbage collection (the case where `AbortSignal.any` with
 * `AbortSignal.timeout` can lose its timer on Node 20, nodejs/node#57736).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { deadline } from "../../server/deadline.ts";

function aborted(signal: AbortSignal): Promise<unknown> {
  return new Promise((resolve) =>
    signal.addEventListener("abort", () => resolve(signal.reason), { once: true }),
  );
}

describe("deadline", () => {
  it("aborts with a TimeoutError once its time has passed", async () => {
    const d = deadline(20);
    const reason = await aborted(d.signal);
    assert.ok(reason instanceof Error && reason.name === "TimeoutError", String(reason));
    assert.equal(d.timedOut, true);
  });

  it("follows its parent with the parent's reason, and not as a timeout", async () => {
    const parent = new AbortController();
    const d = deadline(60_000, parent.signal);
    const why = new Error("closing");
    const seen = aborted(d.signal);
    parent.abort(why);
    assert.equal(await seen, why);
    assert.equal(d.timedOut, false);
    d.clear();
    const already = deadline(60_000, parent.signal);
    assert.equal(already.signal.aborted, true, "a parent aborted before is followed at once");
    already.clear();
  });

  it("stops on clear(): neither the timer nor the parent aborts it afterwards", async () => {
    const parent = new AbortController();
    const d = deadline(10, parent.signal);
    d.clear();
    parent.abort();
    await new Promise((r) => setTimeout(r, 40));
    assert.equal(d.signal.aborted, false);
  });

  it("fires after a full garbage collection when only its listener refers to it", async () => {
    // On Node 20.20, AbortSignal.any([parent, AbortSignal.timeout(200)]) with a listener on
    // the composite fired 0 of 50 times after a gc() in a later task (the WeakRefs a
    // timeout is reached by are only kept alive to the end of the task that made them).
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const parents: AbortController[] = [];
    let fired = 0;
    for (let i = 0; i < 20; i++) {
      const parent = new AbortController();
      parents.push(parent);
      deadline(150, parent.signal).signal.addEventListener("abort", () => (fired += 1));
    }
    await new Promise((r) => setTimeout(r, 20));
    for (let i = 0; i < 3; i++) gc();
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(fired, 20);
    assert.equal(parents.length, 20);
  });

  it("refuses a deadline that is not a finite number of ms", () => {
    assert.throws(() => deadline(Number.NaN), RangeError);
    assert.throws(() => deadline(-1), RangeError);
  });
});
