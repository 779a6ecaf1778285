/**
 * A deadline as an abort signal that cannot be garbage-collected before it fires.
 *
 * `AbortSignal.any([parent, AbortSignal.timeout(ms)])` is the idiom, but on Node 20 a
 * timeout signal that only a composite signal refers to may be collected before its timer
 * fires, and the deadline then never comes (nodejs/node#57736; seen here as a
 * reconstruction job that did not time out in 30 s under the stress run's GC pressure).
 * Here the timer's callback holds the controller strongly; {@link Deadline.clear} stops it.
 */

/** A running deadline: its signal, whether it was the deadline that fired, and a stop. */
export interface Deadline {
  /**
   * Aborts `ms` after {@link deadline} was called, with a `TimeoutError` `DOMException`
   * reason (as `AbortSignal.timeout` gives), or when the parent aborts, with its reason.
   */
  readonly signal: AbortSignal;
  /** True when the deadline, not the parent, aborted the signal. */
  readonly timedOut: boolean;
  /** Stops the timer and detaches from the parent (call when the work is done). */
  clear(): void;
}

/**
 * Starts a deadline of `ms` milliseconds, optionally following `parent`.
 * @throws RangeError when `ms` is not a finite number ≥ 0
 */
export function deadline(ms: number, parent?: AbortSignal): Deadline {
  if (!(Number.isFinite(ms) && ms >= 0)) throw new RangeError(`deadline of ${ms} ms`);
  const ctl = new AbortController();
  let timedOut = false;
  const follow = (): void => ctl.abort(parent?.reason);
  if (parent?.aborted) follow();
  else parent?.addEventListener("abort", follow, { once: true });
  const timer = setTimeout(() => {
    if (ctl.signal.aborted) return;
    timedOut = true;
    ctl.abort(new DOMException(`timed out after ${ms} ms`, "TimeoutError"));
  }, ms);
  return {
    signal: ctl.signal,
    get timedOut() {
      return timedOut;
    },
    clear() {
      clearTimeout(timer);
      parent?.removeEventListener("abort", follow);
    },
  };
}
