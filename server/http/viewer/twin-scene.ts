/**
 * The twin in three.js: the arm from the server's URDF (urdf-loader, primitive visuals),
 * a ghost arm at the goal marker, a ghost replaying the latest validated plan's preview,
 * the scene objects, the other people (head and hands) and the plans' tool paths.
 * Everything is placed under the stage's `world` group in `world` coordinates (z up), so
 * poses from the room state are used as they are.
 */
import {
  BoxGeometry,
  BufferGeometry,
  Color,
  ConeGeometry,
  CylinderGeometry,
  Float32BufferAttribute,
  Group,
  Line,
  LineBasicMaterial,
  type Material,
  Mesh,
  MeshStandardMaterial,
  type Object3D,
  SphereGeometry,
} from "three";
import URDFLoader, { type URDFRobot } from "urdf-loader";
import type {
  GoalState,
  ObjectState,
  OperatorState,
  PlanState,
  PoseState,
} from "../../../shared/schema/twin-state.ts";
import type { RobotInfo } from "./api.ts";
import type { Stage } from "./stage.ts";

const HEX = /^#[0-9a-fA-F]{6}$/;
const PLAN_COLORS: Record<string, number> = {
  proposed: 0xcfd6df,
  validated: 0x4aa3ff,
  approved: 0x39d98a,
  executing: 0x39d98a,
  succeeded: 0x8892a0,
  rejected: 0xe5484d,
  aborted: 0xf2a33a,
};
/** Plans whose tool path is drawn: the newest few. */
const PLAN_PATHS_SHOWN = 3;

function applyPose(o: Object3D, pose: PoseState): void {
  o.position.set(pose.position.x, pose.position.y, pose.position.z);
  const q = pose.orientation;
  o.quaternion.set(q.x, q.y, q.z, q.w);
  if (o.quaternion.lengthSq() < 1e-9) o.quaternion.identity();
  else o.quaternion.normalize();
}

function isUnset(pose: PoseState): boolean {
  const p = pose.position;
  return p.x === 0 && p.y === 0 && p.z === 0;
}

/** Replaces every mesh material of `root` with one translucent material. */
function ghostify(root: Object3D, material: Material): void {
  root.traverse((o) => {
    if ((o as Mesh).isMesh) {
      const mesh = o as Mesh;
      mesh.material = material;
      mesh.renderOrder = 2;
    }
  });
}

function ghostMaterial(color: number, opacity: number): MeshStandardMaterial {
  return new MeshStandardMaterial({ color, transparent: true, opacity, depthWrite: false });
}

/** What the scene needs of a MapSchema (or a Map). */
export interface Keyed<T> {
  forEach(cb: (value: T, key: string) => void): void;
}

interface Drawn {
  node: Object3D;
  key: string;
}

export class TwinScene {
  readonly robot: URDFRobot;
  readonly jointNames: string[];
  readonly #goalGhost: URDFRobot;
  readonly #previewGhost: URDFRobot;
  readonly #goalValid = ghostMaterial(0x39d98a, 0.3);
  readonly #goalInvalid = ghostMaterial(0xe5484d, 0.3);
  readonly #gripperJoint: string | undefined;
  readonly #objects = new Map<string, Drawn>();
  readonly #operators = new Map<string, Drawn>();
  readonly #planPaths = new Map<string, Drawn>();
  readonly #objectGroup = new Group();
  readonly #peopleGroup = new Group();
  readonly #planGroup = new Group();
  /** Preview being replayed: rows of joint values and the trajectory duration, s. */
  #preview: { id: string; rows: Float64Array[]; durationS: number } | null = null;
  #previewT = 0;
  readonly #rendered: Float64Array;

  constructor(stage: Stage, urdf: string, info: RobotInfo) {
    const loader = new URDFLoader();
    loader.parseVisual = true;
    loader.parseCollision = false;
    this.robot = loader.parse(urdf);
    this.robot.name = "arm";
    this.jointNames = info.joints.map((j) => j.name);
    this.#rendered = new Float64Array(this.jointNames.length);
    this.#gripperJoint = info.gripper?.joint;

    // The arm's base_link stands at the scene's robot base pose (`world`).
    const base = new Group();
    base.name = "base_link";
    applyPose(base, {
      position: info.base.position,
      orientation: info.base.orientation,
    } as PoseState);
    this.#goalGhost = this.robot.clone(true);
    this.#goalGhost.name = "goal ghost";
    ghostify(this.#goalGhost, this.#goalValid);
    this.#goalGhost.visible = false;
    this.#previewGhost = this.robot.clone(true);
    this.#previewGhost.name = "plan preview ghost";
    ghostify(this.#previewGhost, ghostMaterial(0x4aa3ff, 0.35));
    this.#previewGhost.visible = false;
    base.add(this.robot, this.#goalGhost, this.#previewGhost);
    this.#objectGroup.name = "objects";
    this.#peopleGroup.name = "people";
    this.#planGroup.name = "plan paths";
    stage.world.add(base, this.#objectGroup, this.#peopleGroup, this.#planGroup);

    const home = info.namedPoses[info.home];
    if (home) this.setArm(home, info.gripper?.range.max ?? 0);
  }

  /** Links of the arm's URDF. */
  get linkCount(): number {
    return Object.keys(this.robot.links).length;
  }

  /** Movable (non-fixed) joints of the URDF, the gripper's included. */
  get movableJointCount(): number {
    return Object.values(this.robot.joints).filter((j) => j.jointType !== "fixed").length;
  }

  get meshCount(): number {
    let n = 0;
    this.robot.traverse((o) => {
      if ((o as Mesh).isMesh) n++;
    });
    return n;
  }

  /** Joint values the rendered arm shows now, rad. */
  get renderedJoints(): number[] {
    return Array.from(this.#rendered);
  }

  get objectCount(): number {
    return this.#objects.size;
  }

  get virtualObjectCount(): number {
    return [...this.#objects.values()].filter((d) => d.key.endsWith("|v")).length;
  }

  get operatorCount(): number {
    return [...this.#operators.values()].filter((d) => d.node.visible).length;
  }

  get planPathCount(): number {
    return this.#planPaths.size;
  }

  get goalVisible(): boolean {
    return this.#goalGhost.visible;
  }

  get previewVisible(): boolean {
    return this.#previewGhost.visible;
  }

  /** Poses the arm: joint values (rad, group order) and gripper opening (m). */
  setArm(q: ArrayLike<number>, gripper?: number): void {
    const n = Math.min(q.length, this.jointNames.length);
    for (let j = 0; j < n; j++) {
      this.#rendered[j] = q[j]!;
      this.robot.setJointValue(this.jointNames[j]!, q[j]!);
    }
    // Each finger moves half the opening (the second finger mimics the first in the URDF).
    if (gripper !== undefined && this.#gripperJoint) {
      this.robot.setJointValue(this.#gripperJoint, gripper / 2);
    }
  }

  /** Draws the scene objects: added, moved, recoloured, removed. */
  syncObjects(objects: Keyed<ObjectState>): void {
    const seen = new Set<string>();
    objects.forEach((o, id) => {
      seen.add(id);
      const color = HEX.test(o.color) ? o.color : "#9aa7b8";
      const key = `${o.shape}|${o.size.x}|${o.size.y}|${o.size.z}|${color}|${o.heldBy ? "h" : ""}|${o.virtual ? "v" : ""}`;
      let drawn = this.#objects.get(id);
      if (!drawn || drawn.key !== key) {
        if (drawn) this.#dispose(drawn.node, this.#objectGroup);
        const node = this.#objectMesh(o, color);
        node.name = `object ${id}`;
        this.#objectGroup.add(node);
        drawn = { node, key };
        this.#objects.set(id, drawn);
      }
      applyPose(drawn.node, o.pose);
    });
    for (const [id, d] of this.#objects) {
      if (seen.has(id)) continue;
      this.#dispose(d.node, this.#objectGroup);
      this.#objects.delete(id);
    }
  }

  #objectMesh(o: ObjectState, color: string): Mesh {
    let geometry: BufferGeometry;
    switch (o.shape) {
      case "cylinder":
        // Scene cylinders run along their local z; three's along y.
        geometry = new CylinderGeometry(o.size.x, o.size.x, o.size.z, 32).rotateX(Math.PI / 2);
        break;
      case "sphere":
        geometry = new SphereGeometry(o.size.x, 24, 16);
        break;
      default:
        geometry = new BoxGeometry(o.size.x, o.size.y, o.size.z);
    }
    const material = new MeshStandardMaterial({
      color: new Color(color),
      roughness: 0.8,
      transparent: o.virtual,
      opacity: o.virtual ? 0.45 : 1,
      depthWrite: !o.virtual,
      emissive: new Color(o.heldBy ? 0x333300 : 0x000000),
    });
    return new Mesh(geometry, material);
  }

  /** Draws the other people: a head with a visor facing its view direction, and hands. */
  syncOperators(operators: Keyed<OperatorState>, mySessionId: string): void {
    const seen = new Set<string>();
    operators.forEach((op, id) => {
      if (id === mySessionId) return;
      seen.add(id);
      const key = `${op.role}|${op.connected ? 1 : 0}`;
      let drawn = this.#operators.get(id);
      if (!drawn || drawn.key !== key) {
        if (drawn) this.#dispose(drawn.node, this.#peopleGroup);
        drawn = { node: this.#person(op), key };
        drawn.node.name = `person ${op.name}`;
        this.#peopleGroup.add(drawn.node);
        this.#operators.set(id, drawn);
      }
      const [head, left, right] = drawn.node.children as [Object3D, Object3D, Object3D];
      drawn.node.visible = !isUnset(op.head);
      applyPose(head, op.head);
      left.visible = !isUnset(op.left);
      applyPose(left, op.left);
      right.visible = !isUnset(op.right);
      applyPose(right, op.right);
    });
    for (const [id, d] of this.#operators) {
      if (seen.has(id)) continue;
      this.#dispose(d.node, this.#peopleGroup);
      this.#operators.delete(id);
    }
  }

  #person(op: OperatorState): Group {
    const color = op.role === "operator" ? 0xf2a33a : 0x9aa7b8;
    const material = new MeshStandardMaterial({
      color,
      transparent: !op.connected,
      opacity: op.connected ? 1 : 0.35,
    });
    const head = new Group();
    head.add(new Mesh(new SphereGeometry(0.1, 20, 14), material));
    // The visor marks where the person looks: WebXR view space looks along its −z.
    const visor = new Mesh(
      new BoxGeometry(0.14, 0.05, 0.04),
      new MeshStandardMaterial({ color: 0x222831 }),
    );
    visor.position.set(0, 0.01, -0.09);
    head.add(visor);
    const hand = (c: number) => {
      const g = new Group();
      g.add(new Mesh(new SphereGeometry(0.03, 12, 8), new MeshStandardMaterial({ color: c })));
      const pointer = new Mesh(new ConeGeometry(0.015, 0.06, 10), material);
      pointer.rotation.x = -Math.PI / 2;
      pointer.position.z = -0.05;
      g.add(pointer);
      return g;
    };
    const g = new Group();
    g.add(head, hand(0x4aa3ff), hand(0xe5484d));
    return g;
  }

  /** Shows the goal marker as a ghost arm (green when reachable and free, red otherwise). */
  syncGoal(goal: GoalState): void {
    const q = goal.positions.toArray();
    const show = goal.kind !== "" && q.length >= this.jointNames.length;
    this.#goalGhost.visible = show;
    if (!show) return;
    ghostify(this.#goalGhost, goal.valid ? this.#goalValid : this.#goalInvalid);
    this.jointNames.forEach((name, j) => this.#goalGhost.setJointValue(name, q[j]!));
  }

  /**
   * Draws the tool paths of the newest plans and replays the newest validated plan's
   * joint preview on the preview ghost.
   */
  syncPlans(plans: Keyed<PlanState>): void {
    const list: PlanState[] = [];
    plans.forEach((p) => list.push(p));
    list.sort((a, b) => b.createdAt - a.createdAt);
    const shown = list.slice(0, PLAN_PATHS_SHOWN).filter((p) => p.previewTcp.length >= 6);
    const seen = new Set<string>();
    for (const p of shown) {
      seen.add(p.id);
      const key = `${p.status}|${p.previewTcp.length}`;
      const drawn = this.#planPaths.get(p.id);
      if (drawn && drawn.key === key) continue;
      if (drawn) this.#dispose(drawn.node, this.#planGroup);
      const geometry = new BufferGeometry();
      geometry.setAttribute("position", new Float32BufferAttribute(p.previewTcp.toArray(), 3));
      const line = new Line(
        geometry,
        new LineBasicMaterial({ color: PLAN_COLORS[p.status] ?? 0xffffff }),
      );
      line.name = `plan ${p.id}`;
      this.#planGroup.add(line);
      this.#planPaths.set(p.id, { node: line, key });
    }
    for (const [id, d] of this.#planPaths) {
      if (seen.has(id)) continue;
      this.#dispose(d.node, this.#planGroup);
      this.#planPaths.delete(id);
    }

    const dof = this.jointNames.length;
    const validated = list.find((p) => p.status === "validated" && p.preview.length >= 2 * dof);
    if (!validated) {
      this.#preview = null;
    } else if (this.#preview?.id !== validated.id) {
      const flat = validated.preview.toArray();
      const rows: Float64Array[] = [];
      for (let i = 0; i + dof <= flat.length; i += dof)
        rows.push(Float64Array.from(flat.slice(i, i + dof)));
      this.#preview = { id: validated.id, rows, durationS: Math.max(0.5, validated.duration) };
      this.#previewT = 0;
    }
    this.#previewGhost.visible = this.#preview !== null;
  }

  /** Advances the preview replay (loops, with a short hold at the goal). */
  update(dtS: number): void {
    const p = this.#preview;
    if (!p) return;
    const hold = 0.6;
    this.#previewT = (this.#previewT + dtS) % (p.durationS + hold);
    const f = Math.min(1, this.#previewT / p.durationS) * (p.rows.length - 1);
    const i = Math.min(p.rows.length - 2, Math.floor(f));
    const a = p.rows[i]!;
    const b = p.rows[i + 1]!;
    const u = f - i;
    this.jointNames.forEach((name, j) => {
      this.#previewGhost.setJointValue(name, a[j]! + (b[j]! - a[j]!) * u);
    });
  }

  #dispose(node: Object3D, parent: Object3D): void {
    parent.remove(node);
    node.traverse((o) => {
      const m = o as Mesh;
      if (!m.isMesh && !(o as Line).isLine) return;
      m.geometry.dispose();
      const mats = Array.isArray(m.material) ? m.material : [m.material];
      for (const mat of mats) mat.dispose();
    });
  }
}
