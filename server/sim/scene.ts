/**
 * Scene layout files (`assets/scenes/*.json`): where the robot stands in the cell and the
 * physical objects around it (table, fixtures, parts). Poses in the `world` frame: metres,
 * z up, unit quaternions. Objects from a layout are physical (`virtual: false`): they
 * exist in the real cell, so operators cannot remove them from the twin.
 */
import { readFile } from "node:fs/promises";
import { z } from "zod";
import type { Pose } from "../../shared/geometry.ts";
import { PoseSchema } from "../../shared/messages/common.ts";
import { ShapeSchema } from "../../shared/messages/twin.ts";
import { SceneError } from "./errors.ts";
import type { PrimitiveShape } from "./robot-model.ts";

/** What the world needs to create one object. */
export interface SceneObjectSpec {
  readonly id: string;
  readonly shape: PrimitiveShape;
  /** Pose of the object's centre, `world`. Cylinders run along the object's local z. */
  readonly pose: Pose;
  /** True: simulated under gravity. False: fixed in place. */
  readonly dynamic: boolean;
  /** kg (used when dynamic). */
  readonly mass: number;
  /** True when the object exists only in the twin. */
  readonly virtual: boolean;
  /** `#rrggbb` for viewers, or null. */
  readonly color: string | null;
}

/** A parsed scene layout. */
export interface SceneLayout {
  readonly name: string;
  /** Pose of the robot's `base_link` in `world`. */
  readonly robotBase: Pose;
  /** Id of the object the robot is bolted to: its base may touch it. */
  readonly mount: string | null;
  readonly objects: readonly SceneObjectSpec[];
}

const ObjectSchema = z.strictObject({
  id: z.string().regex(/^[\w.-]{1,48}$/),
  shape: ShapeSchema,
  pose: PoseSchema,
  dynamic: z.boolean().default(false),
  mass: z.number().min(0.01).max(1000).default(1),
  color: z
    .string()
    .regex(/^#[0-9a-fA-F]{6}$/)
    .nullable()
    .default(null),
});

const LayoutSchema = z.strictObject({
  $comment: z.string().optional(),
  name: z.string().min(1).max(64),
  robot: z.strictObject({ base: PoseSchema, mount: z.string().nullable().default(null) }),
  objects: z.array(ObjectSchema).max(1000),
});

/** Reads and validates a layout file. */
export async function loadScene(file: string): Promise<SceneLayout> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new SceneError(file, "cannot read", { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new SceneError(file, "not valid JSON", { cause: err });
  }
  return parseScene(json, file);
}

/** Validates a layout object; `file` names it in errors. */
export function parseScene(json: unknown, file = "scene"): SceneLayout {
  const parsed = LayoutSchema.safeParse(json);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new SceneError(file, `${i?.path.join(".") ?? ""}: ${i?.message ?? "invalid"}`, {
      cause: parsed.error,
    });
  }
  const d = parsed.data;
  const ids = new Set<string>();
  for (const o of d.objects) {
    if (ids.has(o.id)) throw new SceneError(file, `object id "${o.id}" used twice`);
    ids.add(o.id);
  }
  if (d.robot.mount !== null && !ids.has(d.robot.mount)) {
    throw new SceneError(file, `robot.mount: no object "${d.robot.mount}"`);
  }
  return {
    name: d.name,
    robotBase: d.robot.base,
    mount: d.robot.mount,
    objects: d.objects.map((o) => ({ ...o, virtual: false })),
  };
}
