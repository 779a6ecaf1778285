/**
 * Editing the twin's scene: virtual objects added and removed by operators, picked up with
 * a hand controller (they follow that hand, `world` frame) and released (dynamic objects
 * then fall under gravity). Objects of the scene layout are physical: they can't be removed
 * or grabbed, since the twin must keep matching the real cell.
 */
import { ErrorCode } from "../../shared/messages/common.ts";
import type { AddObjectCommand } from "../../shared/messages/twin.ts";
import type { TwinWorld } from "../sim/world.ts";
import type { Pose } from "../../shared/geometry.ts";
import type { PlacedPrimitive } from "../sim/arm-primitives.ts";
import type { SceneObjectSpec } from "../sim/scene.ts";
import type { Actor } from "./actor.ts";
import { CommandError } from "./errors.ts";
import type { Hand, Presence } from "./presence.ts";

/** Who holds an object: `${sessionId}:${hand}`. */
type HolderKey = `${string}:${Hand}`;

export class SceneEditor {
  /** objectId → holder */
  readonly #held = new Map<string, HolderKey>();
  /** Virtual arms: their part object ids, base pose and joints. */
  readonly #arms = new Map<string, { base: Pose; q: Float64Array; parts: string[] }>();
  #counter = 0;
  /** Bumped when the set of objects or a holder changes (not on pose changes). */
  version = 0;

  constructor(
    private readonly world: TwinWorld,
    private readonly presence: Presence,
    private readonly maxObjects: number,
    /** Joint positions of the arm now (rad), to refuse objects dropped onto it. */
    private readonly armNow: () => ArrayLike<number>,
  ) {}

  add(actor: Actor, cmd: AddObjectCommand): string {
    const objects = this.world.getObjects();
    if (objects.length >= this.maxObjects) {
      throw new CommandError(ErrorCode.Conflict, `scene is full (${this.maxObjects} objects)`);
    }
    const id = cmd.id ?? this.#nextId(objects.map((o) => o.id));
    if (objects.some((o) => o.id === id)) {
      throw new CommandError(ErrorCode.Conflict, `object ${id} already exists`);
    }
    const spec = toSpec(id, cmd);
    const overlap = this.world.checkObjectPlacement(spec, this.armNow());
    if (overlap) {
      throw new CommandError(ErrorCode.Collision, `object ${id} would overlap ${overlap}`);
    }
    this.world.addObject(spec);
    this.version += 1;
    void actor;
    return id;
  }

  /**
   * Adds a virtual arm as its link primitives (`<id>.<k>`), all or nothing.
   * @param parts the arm's collision primitives placed in `world` (see sim/arm-primitives.ts)
   */
  addArm(id: string, parts: readonly PlacedPrimitive[], base: Pose, q: Float64Array): void {
    if (
      this.#arms.has(id) ||
      this.world.getObjects().some((o) => o.id === id || o.id.startsWith(`${id}.`))
    ) {
      throw new CommandError(ErrorCode.Conflict, `object ${id} already exists`);
    }
    if (this.world.getObjects().length + parts.length > this.maxObjects) {
      throw new CommandError(ErrorCode.Conflict, `scene is full (${this.maxObjects} objects)`);
    }
    const specs = parts.map((p, k) =>
      toSpec(`${id}.${k}`, { shape: p.shape, pose: p.pose, color: "#9aa7b8" }),
    );
    for (const spec of specs) {
      const overlap = this.world.checkObjectPlacement(spec, this.armNow());
      if (overlap)
        throw new CommandError(ErrorCode.Collision, `arm ${id} would overlap ${overlap}`);
    }
    for (const spec of specs) this.world.addObject(spec);
    this.#arms.set(id, { base, q, parts: specs.map((s) => s.id) });
    this.version += 1;
  }

  /** Virtual arms by id: base pose (`world`) and joints (rad). */
  arms(): IterableIterator<[string, { base: Pose; q: Float64Array }]> {
    return this.#arms.entries();
  }

  /** A fresh id for a virtual arm (`arm-2`, `arm-3`, …). */
  nextArmId(): string {
    let n = 2;
    while (this.#arms.has(`arm-${n}`)) n += 1;
    return `arm-${n}`;
  }

  remove(id: string): void {
    const arm = this.#arms.get(id);
    if (arm) {
      for (const part of arm.parts) this.world.removeObject(part);
      this.#arms.delete(id);
      this.version += 1;
      return;
    }
    const obj = this.#virtualObject(id);
    this.#held.delete(obj.id);
    this.world.removeObject(obj.id);
    this.version += 1;
  }

  grab(actor: Actor, id: string, hand: Hand): void {
    const obj = this.#virtualObject(id);
    const holder = this.#held.get(id);
    const key: HolderKey = `${actor.sessionId}:${hand}`;
    if (holder && holder !== key)
      throw new CommandError(ErrorCode.Conflict, `object ${id} is held by someone else`);
    if (!this.presence.hand(actor.sessionId, hand)) {
      throw new CommandError(
        ErrorCode.Conflict,
        `no ${hand} controller pose yet; send a pose first`,
      );
    }
    // Whatever that hand held before is let go first: one object per hand.
    this.release(actor.sessionId, hand);
    this.#held.set(obj.id, key);
    this.world.setObjectHeld(obj.id, true);
    this.version += 1;
  }

  /** Releases what `sessionId` holds in `hand` (or in both hands). Returns how many. */
  release(sessionId: string, hand?: Hand): number {
    let n = 0;
    for (const [id, key] of this.#held) {
      const [sid, h] = key.split(":") as [string, Hand];
      if (sid === sessionId && (hand === undefined || h === hand)) {
        this.#held.delete(id);
        this.world.setObjectHeld(id, false);
        n += 1;
      }
    }
    if (n) this.version += 1;
    return n;
  }

  heldBy(id: string): string {
    return this.#held.get(id) ?? "";
  }

  /** Per tick, before the physics step: held objects follow their hands. */
  update(): void {
    for (const [id, key] of this.#held) {
      const [sid, hand] = key.split(":") as [string, Hand];
      const pose = this.presence.hand(sid, hand);
      if (pose) this.world.setObjectPose(id, pose);
    }
  }

  /** Drops every grab and virtual arm record (scene reset restores the world itself). */
  clear(): void {
    this.#held.clear();
    this.#arms.clear();
    this.version += 1;
  }

  #virtualObject(id: string) {
    const obj = this.world.getObjects().find((o) => o.id === id);
    if (!obj) throw new CommandError(ErrorCode.NotFound, `no object ${id}`);
    const arm = [...this.#arms].find(([, a]) => a.parts.includes(id));
    if (arm)
      throw new CommandError(
        ErrorCode.Conflict,
        `${id} is part of virtual arm ${arm[0]}; remove the arm`,
      );
    if (!obj.virtual) {
      throw new CommandError(
        ErrorCode.Forbidden,
        `object ${id} is physical (from the cell layout); only virtual objects can be edited`,
      );
    }
    return obj;
  }

  #nextId(taken: string[]): string {
    const set = new Set(taken);
    let id: string;
    do id = `obj-${++this.#counter}`;
    while (set.has(id));
    return id;
  }
}

function toSpec(
  id: string,
  cmd: Pick<AddObjectCommand, "shape" | "pose" | "color"> & Partial<AddObjectCommand>,
): SceneObjectSpec {
  return {
    id,
    shape: cmd.shape,
    pose: cmd.pose,
    dynamic: cmd.dynamic ?? false,
    mass: cmd.mass ?? 1,
    virtual: true,
    color: cmd.color ?? "#4fa3ff",
  };
}
