/**
 * Loads a robot: `<dir>/<name>.urdf` (the one URDF in the folder) plus `<dir>/robot.json`
 * (planning group, acceleration and jerk limits, named poses, gripper, collision pairs
 * never checked). Both are checked against each other so that a typo in a joint name
 * fails at start-up with the file and the name, not later in a plan.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { RobotConfigError, UrdfError } from "./errors.ts";
import type { RobotModel, UrdfRobot } from "./robot-model.ts";
import { parseUrdf } from "./urdf.ts";

const finitePositive = z.number().finite().positive();

const RobotJson = z.object({
  group: z.object({ name: z.string().min(1), base: z.string().min(1), tip: z.string().min(1) }),
  maxAcceleration: z.record(z.string(), finitePositive),
  maxJerk: z.record(z.string(), finitePositive).default({}),
  namedPoses: z.record(z.string().regex(/^[\w.-]+$/), z.record(z.string(), z.number().finite())),
  home: z.string().min(1),
  gripper: z
    .object({
      joint: z.string().min(1),
      openingScale: finitePositive,
      touchLinks: z.array(z.string()).default([]),
    })
    .nullable()
    .default(null),
  disabledCollisions: z
    .array(z.object({ link1: z.string(), link2: z.string(), reason: z.string().default("Never") }))
    .default([]),
});

/** Reads and checks the robot in `dir` (absolute, or relative to the process cwd). */
export async function loadRobotModel(dir: string): Promise<RobotModel> {
  let files: string[];
  try {
    files = await readdir(dir);
  } catch (err) {
    throw new RobotConfigError(dir, "cannot read the robot folder", { cause: err });
  }
  const urdfs = files.filter((f) => f.endsWith(".urdf"));
  if (urdfs.length !== 1) {
    throw new RobotConfigError(dir, `expected exactly one .urdf file, found ${urdfs.length}`);
  }
  const urdfPath = join(dir, urdfs[0] as string);
  const jsonPath = join(dir, "robot.json");
  const [urdfText, jsonText] = await Promise.all([
    readFile(urdfPath, "utf8"),
    readFile(jsonPath, "utf8").catch((err: unknown) => {
      throw new RobotConfigError(jsonPath, "cannot read", { cause: err });
    }),
  ]);
  let json: unknown;
  try {
    json = JSON.parse(jsonText);
  } catch (err) {
    throw new RobotConfigError(jsonPath, "not valid JSON", { cause: err });
  }
  return buildRobotModel(parseUrdf(urdfText, urdfPath), json, urdfPath, jsonPath);
}

/**
 * Combines a parsed URDF with the contents of its robot.json.
 * @throws RobotConfigError when robot.json names links or joints the URDF lacks, or when
 *   a joint of the planning group has no acceleration limit or no position limits
 */
export function buildRobotModel(
  urdf: UrdfRobot,
  json: unknown,
  source: string,
  jsonSource = "robot.json",
): RobotModel {
  const parsed = RobotJson.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new RobotConfigError(
      jsonSource,
      `${issue?.path.join(".") ?? ""}: ${issue?.message ?? "invalid"}`,
      {
        cause: parsed.error,
      },
    );
  }
  const cfg = parsed.data;
  const links = new Set(urdf.links.map((l) => l.name));
  const joints = new Map(urdf.joints.map((j) => [j.name, j]));
  const fail = (msg: string): never => {
    throw new RobotConfigError(jsonSource, msg);
  };
  for (const l of [cfg.group.base, cfg.group.tip])
    if (!links.has(l)) fail(`group: unknown link "${l}"`);
  const chain = chainJoints(urdf, cfg.group.base, cfg.group.tip);
  const movable = chain.filter((j) => j.type !== "fixed");
  if (movable.length === 0) fail("group: the chain from base to tip has no movable joint");
  for (const j of movable) {
    if (j.type === "continuous")
      fail(`group: joint "${j.name}" is continuous; give it position limits`);
    if (cfg.maxAcceleration[j.name] === undefined)
      fail(`maxAcceleration: no limit for "${j.name}"`);
  }
  for (const name of [...Object.keys(cfg.maxAcceleration), ...Object.keys(cfg.maxJerk)]) {
    if (!joints.has(name)) fail(`unknown joint "${name}"`);
  }
  for (const [pose, values] of Object.entries(cfg.namedPoses)) {
    for (const name of Object.keys(values)) {
      if (!movable.some((j) => j.name === name))
        fail(`namedPoses.${pose}: "${name}" is not a joint of the group`);
    }
    for (const j of movable) {
      const v = values[j.name];
      if (v === undefined) fail(`namedPoses.${pose}: missing "${j.name}"`);
      const lim = j.limit;
      if (lim && ((v as number) < lim.lower - 1e-9 || (v as number) > lim.upper + 1e-9)) {
        fail(`namedPoses.${pose}: ${j.name} = ${v} outside [${lim.lower}, ${lim.upper}]`);
      }
    }
  }
  if (!cfg.namedPoses[cfg.home]) fail(`home: no named pose "${cfg.home}"`);
  if (cfg.gripper) {
    const gj = joints.get(cfg.gripper.joint);
    if (!gj || gj.type !== "prismatic")
      fail(`gripper: "${cfg.gripper.joint}" is not a prismatic joint`);
    for (const l of cfg.gripper.touchLinks)
      if (!links.has(l)) fail(`gripper.touchLinks: unknown link "${l}"`);
  }
  for (const p of cfg.disabledCollisions) {
    for (const l of [p.link1, p.link2])
      if (!links.has(l)) fail(`disabledCollisions: unknown link "${l}"`);
  }
  return {
    ...urdf,
    source,
    group: cfg.group,
    maxAcceleration: cfg.maxAcceleration,
    maxJerk: cfg.maxJerk,
    namedPoses: cfg.namedPoses,
    home: cfg.home,
    gripper: cfg.gripper,
    disabledCollisions: cfg.disabledCollisions,
  };
}

/** Joints from `base` down to `tip`, in order. */
export function chainJoints(urdf: UrdfRobot, base: string, tip: string) {
  const byChild = new Map(urdf.joints.map((j) => [j.child, j]));
  const out = [];
  let link = tip;
  while (link !== base) {
    const j = byChild.get(link);
    if (!j)
      throw new UrdfError(`group ${base} → ${tip}`, `"${tip}" does not descend from "${base}"`);
    out.push(j);
    link = j.parent;
  }
  return out.reverse();
}
