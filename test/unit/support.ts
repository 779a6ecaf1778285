/**
 * Shared fixtures for the unit tests of `server/sim`: the shipped Panda and work cell
 * (loaded once per test file), seeded random configurations inside the joint limits, and
 * small numeric helpers. Nothing here asserts; the test files do.
 */
import { readFile } from "node:fs/promises";
import type { ArmLimits } from "../../server/sim/contracts.ts";
import { type RobotDescription, loadRobotDescription } from "../../server/sim/robot-description.ts";

/** The shipped robot folder and scene, relative to the repository root. */
export const PANDA = { dir: "assets/robots/panda", sceneFile: "assets/scenes/cell.json" } as const;
export const PANDA_URDF_PATH = "assets/robots/panda/panda.urdf";
export const PANDA_JSON_PATH = "assets/robots/panda/robot.json";
/** Top of the cell's table in `world`, m (table centre z 0.775, height 0.05). */
export const TABLE_TOP_Z = 0.8;

let cached: Promise<RobotDescription> | undefined;

/** The Panda in the default work cell (the same description the server builds). */
export function loadPanda(): Promise<RobotDescription> {
  cached ??= loadRobotDescription({ robot: PANDA });
  return cached;
}

/** Text of the shipped URDF. */
export function readPandaUrdf(): Promise<string> {
  return readFile(new URL(`../../${PANDA_URDF_PATH}`, import.meta.url), "utf8");
}

/** Parsed contents of the shipped robot.json (a fresh copy each call, safe to mutate). */
export async function readPandaJson(): Promise<Record<string, unknown>> {
  const text = await readFile(new URL(`../../${PANDA_JSON_PATH}`, import.meta.url), "utf8");
  return JSON.parse(text) as Record<string, unknown>;
}

/** A named pose of the description, as a joint vector (throws when absent). */
export function namedPose(robot: RobotDescription, name: string): Float64Array {
  const q = robot.namedPoses.get(name);
  if (!q) throw new Error(`no named pose "${name}"`);
  return q;
}

/** A configuration drawn uniformly inside `[lower + margin, upper - margin]`, rad. */
export function randomConfig(
  limits: Pick<ArmLimits, "lower" | "upper">,
  random: () => number,
  margin = 0,
): Float64Array {
  return Float64Array.from(limits.lower, (lo, j) => {
    const hi = limits.upper[j] as number;
    return lo + margin + (hi - lo - 2 * margin) * random();
  });
}

/** Largest absolute element-wise difference. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    m = Math.max(m, Math.abs((a[i] ?? Number.NaN) - (b[i] ?? Number.NaN)));
  }
  return m;
}

/** Asserts-free check: every element of `a` within `[lo, hi]` (element-wise, with slack). */
export function withinLimits(
  q: ArrayLike<number>,
  limits: Pick<ArmLimits, "lower" | "upper">,
  slack = 0,
): boolean {
  for (let j = 0; j < limits.lower.length; j++) {
    const v = q[j] as number;
    if (!(v >= (limits.lower[j] as number) - slack && v <= (limits.upper[j] as number) + slack)) {
      return false;
    }
  }
  return true;
}
