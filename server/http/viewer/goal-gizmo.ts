/**
 * The goal handle of the twin view: three's TransformControls on a frame that starts at the
 * arm's tool (TCP) pose. Drag its arrows to move the goal, its rings to turn it (the "Turn"
 * / "Move" button or the R / T keys switch); on release the pose goes to the room as the
 * shared goal (`goal` message, `{kind: "pose", pose}` in `world`), which solves it and shows
 * the goal ghost (green: reachable and free, red: not). "Plan to goal" then plans to it.
 *
 * The handle lives under the stage's `world` group, so its position and quaternion are the
 * pose in `world` (metres, z up) as they are.
 */
import { AxesHelper, Group, Matrix4, type Object3D, Vector3 } from "three";
import { TransformControls } from "three/examples/jsm/controls/TransformControls.js";
import type { Pose } from "../../../shared/geometry.ts";
import type { Stage } from "./stage.ts";

export type GizmoMode = "translate" | "rotate";

export class GoalGizmo {
  /** The goal frame being dragged; its pose is in `world`. */
  readonly handle = new Group();
  readonly #stage: Stage;
  readonly #controls: TransformControls | null;
  readonly #tool: () => Object3D | undefined;
  readonly #onPlace: (pose: Pose) => void;
  #active = false;
  /** Goals sent from the handle. */
  placed = 0;

  /**
   * @param tool the arm's tool frame (its pose starts the handle)
   * @param onPlace called with the handle's pose in `world` when a drag ends
   */
  constructor(stage: Stage, tool: () => Object3D | undefined, onPlace: (pose: Pose) => void) {
    this.#stage = stage;
    this.#tool = tool;
    this.#onPlace = onPlace;
    this.handle.name = "goal handle";
    this.handle.visible = false;
    this.handle.add(new AxesHelper(0.12));
    stage.world.add(this.handle);
    const canvas = stage.renderer?.domElement;
    if (!canvas) {
      this.#controls = null;
      return;
    }
    const controls = new TransformControls(stage.camera, canvas);
    controls.setSpace("local");
    controls.setSize(0.8);
    controls.enabled = false;
    controls.addEventListener("dragging-changed", (e) => {
      const dragging = Boolean((e as unknown as { value: unknown }).value);
      // The orbit camera must not turn while the handle is dragged.
      if (stage.controls) stage.controls.enabled = !dragging;
      if (!dragging && this.#active) {
        this.placed++;
        this.#onPlace(this.pose);
      }
    });
    const helper = controls.getHelper();
    helper.visible = false;
    stage.scene.add(helper);
    this.#controls = controls;
  }

  /** False without WebGL (nothing to drag). */
  get available(): boolean {
    return this.#controls !== null;
  }

  get active(): boolean {
    return this.#active;
  }

  get mode(): GizmoMode {
    return (this.#controls?.getMode() as GizmoMode | undefined) ?? "translate";
  }

  /** The axis under the pointer or being dragged ("X", "XY", "E", …), or null. */
  get axis(): string | null {
    return this.#controls?.axis ?? null;
  }

  /** The handle's pose in `world`. */
  get pose(): Pose {
    const p = this.handle.position;
    const q = this.handle.quaternion;
    const r = (v: number) => Math.round(v * 1e5) / 1e5;
    return {
      position: { x: r(p.x), y: r(p.y), z: r(p.z) },
      orientation: { x: r(q.x), y: r(q.y), z: r(q.z), w: r(q.w) },
    };
  }

  /** Shows the handle at the tool's pose now (on), or hides it (off). */
  setActive(on: boolean): void {
    const controls = this.#controls;
    if (!controls) return;
    this.#active = on;
    if (on) {
      const tool = this.#tool();
      if (tool) {
        // tool pose in world = (world group)⁻¹ · tool (both in scene coordinates)
        this.#stage.scene.updateMatrixWorld(true);
        const m = new Matrix4()
          .copy(this.#stage.world.matrixWorld)
          .invert()
          .multiply(tool.matrixWorld);
        m.decompose(this.handle.position, this.handle.quaternion, new Vector3());
      }
      this.handle.visible = true;
      controls.attach(this.handle);
    } else {
      controls.detach();
      this.handle.visible = false;
    }
    controls.enabled = on;
    controls.getHelper().visible = on;
  }

  setMode(mode: GizmoMode): void {
    this.#controls?.setMode(mode);
  }

  /**
   * Where a point of the handle shows on the canvas, CSS pixels from the page's top left:
   * the origin, or `offsetM` along one of its local axes (for tests and hints).
   */
  screenPoint(axis: "x" | "y" | "z" | null = null, offsetM = 0): { x: number; y: number } {
    const canvas = this.#stage.renderer?.domElement;
    if (!canvas) return { x: -1, y: -1 };
    const local = new Vector3(
      axis === "x" ? offsetM : 0,
      axis === "y" ? offsetM : 0,
      axis === "z" ? offsetM : 0,
    );
    this.handle.updateWorldMatrix(true, false);
    const p = local.applyMatrix4(this.handle.matrixWorld).project(this.#stage.camera);
    const rect = canvas.getBoundingClientRect();
    return {
      x: rect.left + ((p.x + 1) / 2) * rect.width,
      y: rect.top + ((1 - p.y) / 2) * rect.height,
    };
  }
}
