/**
 * Polls `check` every `everyMs` until it holds, for a condition no event announces (a file
 * on disk, a process gone, a value behind an HTTP API); a room's state has an event, so
 * wait on it with `waitForState` (server.ts) instead.
 * @throws naming `what` when `check` still fails after `ms`
 */
export async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  ms = 10_000,
  everyMs = 20,
): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`${what} not reached within ${ms} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
