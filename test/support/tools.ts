/**
 * Suites that need a tool from Debian's packages (redis-server, ffmpeg, chromium, mcs/mono):
 * a developer's `npm test` skips them with the reason when the tool is missing, but under
 * `CI=true` — where `.ci/run` installs every one of them — a missing tool is a failure, so
 * a broken install can never turn into a green run that tested nothing.
 */
import { hasRedisServer } from "./processes.ts";

/**
 * `skip` option for a suite that needs a tool: false when `available`, else the reason —
 * or, with `CI` set, an error that fails the test file at load.
 * @param reason what is missing and how to install it
 */
export function skipUnlessTool(available: boolean, reason: string): false | string {
  if (available) return false;
  if (isCi()) throw new Error(`${reason} — .ci/run installs it, so under CI this is a failure`);
  return reason;
}

/** `skip` for suites that need Debian's redis-server (a failure under CI, which installs it). */
export function skipWithoutRedis(): false | string {
  return skipUnlessTool(
    hasRedisServer(),
    "redis-server is not installed (apt-get install redis-server)",
  );
}

/** True under CI (CI=true or 1), where `.ci/run` has installed the test tools. */
export function isCi(): boolean {
  const ci = (process.env.CI ?? "").toLowerCase();
  return ci === "true" || ci === "1";
}
