/**
 * Typed robot description: what `urdf.ts` parses out of a URDF file and what
 * `robot-loader.ts` adds from the robot's JSON side files (acceleration limits, named poses,
 * planning group, collision pairs to skip). Lengths in m, angles in rad.
 */

/**
 * A collision or visual primitive, centred on its frame's origin. Cylinders run along the
 * frame's local z axis (as in URDF and in scene files).
 */
export type PrimitiveShape =
  | {
      readonly kind: "box";
      /** Full edge lengths along x, y, z, m. */
      readonly size: { readonly x: number; readonly y: number; readonly z: number };
    }
  | {
      readonly kind: "cylinder";
      /** m */
      readonly radius: number;
      /** Full length along local z, m. */
      readonly height: number;
    }
  | { readonly kind: "sphere"; /** m */ readonly radius: number };

/** A URDF `<origin>`: translation `xyz` (m) and fixed-axis roll, pitch, yaw (rad). */
export interface Origin {
  readonly xyz: readonly [number, number, number];
  readonly rpy: readonly [number, number, number];
}

/** One `<collision>` element of a link: a primitive placed in the link frame. */
export interface CollisionElement {
  /** Optional `name` attribute. */
  readonly name: string | null;
  readonly origin: Origin;
  readonly shape: PrimitiveShape;
}

/** One `<visual>` element: a primitive, or a mesh file the client may load. */
export interface VisualElement {
  readonly name: string | null;
  readonly origin: Origin;
  readonly geometry:
    | PrimitiveShape
    | {
        readonly kind: "mesh";
        readonly filename: string;
        readonly scale: readonly [number, number, number];
      };
  /** RGBA in [0, 1] from an inline `<material><color>` or a named top-level material. */
  readonly color: readonly [number, number, number, number] | null;
}

export interface LinkModel {
  readonly name: string;
  readonly collisions: readonly CollisionElement[];
  readonly visuals: readonly VisualElement[];
}

/** URDF joint types this project supports. */
export type JointType = "revolute" | "continuous" | "prismatic" | "fixed";

/** `<limit>`: position range (rad or m), speed (rad/s or m/s) and effort (N·m or N). */
export interface JointLimit {
  readonly lower: number;
  readonly upper: number;
  readonly velocity: number;
  readonly effort: number;
}

/** `<mimic>`: `value = multiplier · value(joint) + offset`. */
export interface JointMimic {
  readonly joint: string;
  readonly multiplier: number;
  readonly offset: number;
}

export interface JointModel {
  readonly name: string;
  readonly type: JointType;
  readonly parent: string;
  readonly child: string;
  /** Pose of the joint frame in the parent link frame. */
  readonly origin: Origin;
  /** Unit axis in the joint frame (normalised on parse); `[1, 0, 0]` when absent, as URDF says. */
  readonly axis: readonly [number, number, number];
  /** Present for revolute and prismatic joints; `null` for fixed and continuous ones. */
  readonly limit: JointLimit | null;
  readonly mimic: JointMimic | null;
}

/** What a URDF file holds. */
export interface UrdfRobot {
  readonly name: string;
  /** Links in document order. */
  readonly links: readonly LinkModel[];
  /** Joints in document order. */
  readonly joints: readonly JointModel[];
  /** The one link that is no joint's child. */
  readonly rootLink: string;
}

/** A link pair never checked against each other (adjacent, or unable to touch). */
export interface DisabledCollisionPair {
  readonly link1: string;
  readonly link2: string;
  /** `Adjacent`, `Never` or `Default`, as in MoveIt's SRDF. */
  readonly reason: string;
}

/** The gripper: which joint drives it and which links may touch a held object. */
export interface GripperModel {
  /** The driven finger joint (the other finger mimics it). */
  readonly joint: string;
  /** Opening between the fingers (m) per unit of the driven joint's value. */
  readonly openingScale: number;
  /** Links allowed to touch an object held by the tool. */
  readonly touchLinks: readonly string[];
}

/** A URDF robot plus the limits and semantics URDF has no place for. */
export interface RobotModel extends UrdfRobot {
  /** Path of the URDF file it was loaded from (or a label for in-memory input). */
  readonly source: string;
  /** Planning group: the chain from `base` to `tip` (the tool frame). */
  readonly group: { readonly name: string; readonly base: string; readonly tip: string };
  /** Maximum joint accelerations, rad/s² (or m/s²), by joint name. */
  readonly maxAcceleration: Readonly<Record<string, number>>;
  /** Maximum joint jerks, rad/s³, by joint name (empty when the file gives none). */
  readonly maxJerk: Readonly<Record<string, number>>;
  /** Named configurations (e.g. `ready`), joint name → position (rad). */
  readonly namedPoses: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** The named pose the arm starts in and returns to on reset. */
  readonly home: string;
  readonly gripper: GripperModel | null;
  readonly disabledCollisions: readonly DisabledCollisionPair[];
}
