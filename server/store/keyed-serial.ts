/**
 * One-at-a-time work per key (a space's read-change-write, a space file's replacement): a
 * task runs after every task queued before it under the same key, whether those succeeded
 * or failed. A key's entry is dropped as soon as its last task settles, so the map holds
 * only keys with work pending.
 */
export class KeyedSerial {
  /** The latest pending task of each key (settled, never rejecting). */
  readonly #tails = new Map<string, Promise<unknown>>();

  /** Runs `fn` after every task of `key` queued before it; resolves or rejects as `fn` does. */
  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#tails.get(key) ?? Promise.resolve();
    // Forgotten before the caller hears the outcome, unless a later task is queued.
    const next = prev.then(fn).finally(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    const tail = next.catch(() => undefined);
    this.#tails.set(key, tail);
    return next;
  }

  /** Keys with a task queued or running. */
  get size(): number {
    return this.#tails.size;
  }

  /** Resolves when every task queued so far has settled. */
  async idle(): Promise<void> {
    await Promise.all([...this.#tails.values()]);
  }
}
