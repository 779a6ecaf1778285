/**
 * Everything the twin knows about its robot, loaded once per process: the URDF model and
 * its kinematics, the cell layout (where the base stands, the physical objects), named
 * poses, and the frame conversions between `world` and the arm's `base_link`.
 */
import { isAbsolute, resolve } from "node:path";
import type { Pose } from "../../shared/geometry.ts";
import { type Config, REPO_ROOT } from "../config.ts";
import { ArmKinematics } from "./kinematics.ts";
import { composePoses, invertPose } from "./math.ts";
import { loadRobotModel } from "./robot-loader.ts";
import type { RobotModel } from "./robot-model.ts";
import { loadScene, type SceneLayout } from "./scene.ts";

export interface RobotDescription {
  readonly model: RobotModel;
  readonly kinematics: ArmKinematics;
  readonly scene: SceneLayout;
  /** Path of the URDF file, for `GET /api/robot/urdf`. */
  readonly urdfPath: string;
  /** `world ← base_link`. */
  readonly basePose: Pose;
  /** Named configurations, rad, group order. */
  readonly namedPoses: ReadonlyMap<string, Float64Array>;
  /** Where the arm starts and returns on reset, rad. */
  readonly home: Float64Array;
  /** Gripper opening at start, m. */
  readonly homeGripper: number;
  /** A pose in `world` expressed in `base_link`. */
  worldToBase(p: Pose): Pose;
  /** A pose in `base_link` expressed in `world`. */
  baseToWorld(p: Pose): Pose;
  /** JSON description for `GET /api/robot`. */
  readonly summary: Record<string, unknown>;
}

/** Resolves a configured path against the repository root when it is relative. */
export function resolvePath(p: string): string {
  return isAbsolute(p) ? p : resolve(REPO_ROOT, p);
}

/** Loads the robot folder and scene file named in `config.robot`. */
export async function loadRobotDescription(
  config: Pick<Config, "robot">,
): Promise<RobotDescription> {
  const [model, scene] = await Promise.all([
    loadRobotModel(resolvePath(config.robot.dir)),
    loadScene(resolvePath(config.robot.sceneFile)),
  ]);
  return describeRobot(model, scene);
}

/** Builds the description from an already loaded model and scene. */
export function describeRobot(model: RobotModel, scene: SceneLayout): RobotDescription {
  const kinematics = new ArmKinematics(model);
  const toArray = (values: Readonly<Record<string, number>>) =>
    Float64Array.from(kinematics.jointNames, (n) => values[n] ?? 0);
  const namedPoses = new Map(Object.entries(model.namedPoses).map(([k, v]) => [k, toArray(v)]));
  const home = namedPoses.get(model.home) as Float64Array;
  const base = scene.robotBase;
  const baseInv = invertPose(base);
  return {
    model,
    kinematics,
    scene,
    urdfPath: model.source,
    basePose: base,
    namedPoses,
    home,
    homeGripper: kinematics.gripperRange.max,
    worldToBase: (p) => composePoses(baseInv, p),
    baseToWorld: (p) => composePoses(base, p),
    summary: {
      name: model.name,
      group: model.group,
      base: { frame: "world", ...base },
      joints: kinematics.jointNames.map((name, j) => ({
        name,
        lower: kinematics.lower[j],
        upper: kinematics.upper[j],
        maxVelocity: kinematics.maxVelocity[j],
        maxAcceleration: kinematics.maxAcceleration[j],
      })),
      gripper: model.gripper && { joint: model.gripper.joint, range: kinematics.gripperRange },
      namedPoses: Object.fromEntries([...namedPoses].map(([k, v]) => [k, Array.from(v)])),
      home: model.home,
      scene: scene.name,
    },
  };
}
