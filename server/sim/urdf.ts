/**
 * URDF → {@link UrdfRobot}. A real XML parser (fast-xml-parser) reads the document; this
 * file turns its tree into typed links and joints and checks what the kinematics relies
 * on: one root, a tree (no link with two parents), known joint types, finite numbers,
 * limits present where URDF requires them, primitive collision shapes.
 * Lengths in m, angles in rad, as URDF specifies.
 */
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { UrdfError } from "./errors.ts";
import type {
  CollisionElement,
  JointLimit,
  JointMimic,
  JointModel,
  JointType,
  LinkModel,
  Origin,
  PrimitiveShape,
  UrdfRobot,
  VisualElement,
} from "./robot-model.ts";

type Node = Record<string, unknown>;

const JOINT_TYPES: readonly JointType[] = ["revolute", "continuous", "prismatic", "fixed"];
const ARRAY_TAGS = new Set(["link", "joint", "collision", "visual", "material"]);

/**
 * Parses a URDF document.
 * @param xml the document text
 * @param source file name (or label) used in error messages
 * @throws UrdfError naming the offending element
 */
export function parseUrdf(xml: string, source = "urdf"): UrdfRobot {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) {
    throw new UrdfError(source, `not well-formed XML (line ${valid.err.line}: ${valid.err.msg})`);
  }
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: "@",
    parseAttributeValue: false,
    isArray: (name) => ARRAY_TAGS.has(name),
  });
  const doc = parser.parse(xml) as Node;
  const robot = doc.robot as Node | undefined;
  if (!robot || typeof robot !== "object") throw new UrdfError(source, "no <robot> element");
  const name = attr(robot, "name", "robot");

  const materials = new Map<string, readonly [number, number, number, number]>();
  for (const m of list(robot.material)) {
    const color = parseColor(m, `material "${attr(m, "name", "material")}"`);
    if (color) materials.set(attr(m, "name", "material"), color);
  }

  const links = list(robot.link).map((l) => parseLink(l, materials));
  const joints = list(robot.joint).map(parseJoint);
  if (links.length === 0) throw new UrdfError(source, "robot has no links");

  const linkNames = new Set<string>();
  for (const l of links) {
    if (linkNames.has(l.name)) throw new UrdfError(`link "${l.name}"`, "defined twice");
    linkNames.add(l.name);
  }
  const children = new Set<string>();
  const jointNames = new Set<string>();
  for (const j of joints) {
    const where = `joint "${j.name}"`;
    if (jointNames.has(j.name)) throw new UrdfError(where, "defined twice");
    jointNames.add(j.name);
    if (!linkNames.has(j.parent)) throw new UrdfError(where, `unknown parent link "${j.parent}"`);
    if (!linkNames.has(j.child)) throw new UrdfError(where, `unknown child link "${j.child}"`);
    if (children.has(j.child)) throw new UrdfError(where, `link "${j.child}" has two parents`);
    children.add(j.child);
  }
  for (const j of joints) {
    if (j.mimic && !jointNames.has(j.mimic.joint)) {
      throw new UrdfError(`joint "${j.name}" > mimic`, `unknown joint "${j.mimic.joint}"`);
    }
  }
  const roots = links.filter((l) => !children.has(l.name));
  if (roots.length !== 1) {
    throw new UrdfError(
      source,
      `expected one root link, found ${roots.length} (${roots.map((r) => r.name).join(", ")})`,
    );
  }
  return { name, links, joints, rootLink: (roots[0] as LinkModel).name };
}

function parseLink(
  node: Node,
  materials: ReadonlyMap<string, readonly [number, number, number, number]>,
): LinkModel {
  const name = required(node, "name", "link");
  const where = `link "${name}"`;
  const collisions: CollisionElement[] = list(node.collision).map((c, i) => {
    const geometry = parseGeometry(c.geometry, `${where} > collision[${i}]`);
    if (geometry.kind === "mesh") {
      throw new UrdfError(
        `${where} > collision[${i}]`,
        "mesh collisions are not supported; use box, cylinder or sphere",
      );
    }
    return {
      name: optionalAttr(c, "name"),
      origin: parseOrigin(c.origin, `${where} > collision[${i}]`),
      shape: geometry,
    };
  });
  const visuals: VisualElement[] = list(node.visual).map((v, i) => {
    const w = `${where} > visual[${i}]`;
    let color: readonly [number, number, number, number] | null = null;
    const mat = list(v.material)[0];
    if (mat)
      color = parseColor(mat, `${w} > material`) ?? materials.get(attr(mat, "name", "")) ?? null;
    return {
      name: optionalAttr(v, "name"),
      origin: parseOrigin(v.origin, w),
      geometry: parseGeometry(v.geometry, w),
      color,
    };
  });
  return { name, collisions, visuals };
}

function parseJoint(node: Node): JointModel {
  const name = required(node, "name", "joint");
  const where = `joint "${name}"`;
  const type = required(node, "type", where) as JointType;
  if (!JOINT_TYPES.includes(type)) {
    throw new UrdfError(where, `unsupported type "${type}" (supported: ${JOINT_TYPES.join(", ")})`);
  }
  const parent = required(child(node, "parent", where), "link", `${where} > parent`);
  const childLink = required(child(node, "child", where), "link", `${where} > child`);
  const axisNode = node.axis as Node | undefined;
  let axis: [number, number, number] = [1, 0, 0];
  if (axisNode) {
    const a = vec3(required(axisNode, "xyz", `${where} > axis`), `${where} > axis`);
    const n = Math.hypot(...a);
    if (!(n > 1e-9)) throw new UrdfError(`${where} > axis`, "axis must be non-zero");
    axis = [a[0] / n, a[1] / n, a[2] / n];
  }
  let limit: JointLimit | null = null;
  const limitNode = node.limit as Node | undefined;
  if (type === "revolute" || type === "prismatic") {
    if (!limitNode) throw new UrdfError(where, `a ${type} joint needs <limit>`);
    const w = `${where} > limit`;
    limit = {
      lower: num(limitNode, "lower", w, 0),
      upper: num(limitNode, "upper", w, 0),
      velocity: num(limitNode, "velocity", w),
      effort: num(limitNode, "effort", w),
    };
    if (limit.lower > limit.upper) throw new UrdfError(w, "lower is above upper");
    if (!(limit.velocity > 0)) throw new UrdfError(w, "velocity must be positive");
  }
  let mimic: JointMimic | null = null;
  const mimicNode = node.mimic as Node | undefined;
  if (mimicNode) {
    const w = `${where} > mimic`;
    mimic = {
      joint: required(mimicNode, "joint", w),
      multiplier: num(mimicNode, "multiplier", w, 1),
      offset: num(mimicNode, "offset", w, 0),
    };
  }
  return {
    name,
    type,
    parent,
    child: childLink,
    origin: parseOrigin(node.origin, where),
    axis,
    limit,
    mimic,
  };
}

function parseGeometry(
  node: unknown,
  where: string,
): PrimitiveShape | { kind: "mesh"; filename: string; scale: readonly [number, number, number] } {
  if (!node || typeof node !== "object") throw new UrdfError(where, "missing <geometry>");
  const g = node as Node;
  const w = `${where} > geometry`;
  if (g.box) {
    const [x, y, z] = vec3(required(g.box as Node, "size", `${w} > box`), `${w} > box`);
    if (!(x > 0 && y > 0 && z > 0)) throw new UrdfError(`${w} > box`, "size must be positive");
    return { kind: "box", size: { x, y, z } };
  }
  if (g.cylinder) {
    const c = g.cylinder as Node;
    const radius = num(c, "radius", `${w} > cylinder`);
    const height = num(c, "length", `${w} > cylinder`);
    if (!(radius > 0 && height > 0))
      throw new UrdfError(`${w} > cylinder`, "radius and length must be positive");
    return { kind: "cylinder", radius, height };
  }
  if (g.sphere) {
    const radius = num(g.sphere as Node, "radius", `${w} > sphere`);
    if (!(radius > 0)) throw new UrdfError(`${w} > sphere`, "radius must be positive");
    return { kind: "sphere", radius };
  }
  if (g.mesh) {
    const m = g.mesh as Node;
    const scale = optionalAttr(m, "scale");
    return {
      kind: "mesh",
      filename: required(m, "filename", `${w} > mesh`),
      scale: scale ? vec3(scale, `${w} > mesh`) : [1, 1, 1],
    };
  }
  throw new UrdfError(w, "expected box, cylinder, sphere or mesh");
}

function parseOrigin(node: unknown, where: string): Origin {
  if (!node || typeof node !== "object") return { xyz: [0, 0, 0], rpy: [0, 0, 0] };
  const o = node as Node;
  const xyz = optionalAttr(o, "xyz");
  const rpy = optionalAttr(o, "rpy");
  return {
    xyz: xyz ? vec3(xyz, `${where} > origin`) : [0, 0, 0],
    rpy: rpy ? vec3(rpy, `${where} > origin`) : [0, 0, 0],
  };
}

function parseColor(node: Node, where: string): readonly [number, number, number, number] | null {
  const c = node.color as Node | undefined;
  if (!c) return null;
  const parts = numbers(required(c, "rgba", `${where} > color`), `${where} > color`);
  if (parts.length !== 4 || parts.some((v) => v < 0 || v > 1)) {
    throw new UrdfError(`${where} > color`, "rgba must be four numbers in [0, 1]");
  }
  return [parts[0] as number, parts[1] as number, parts[2] as number, parts[3] as number];
}

function list(v: unknown): Node[] {
  if (v === undefined || v === null || v === "") return [];
  return (Array.isArray(v) ? v : [v]).filter((x): x is Node => typeof x === "object" && x !== null);
}

function child(node: Node, tag: string, where: string): Node {
  const c = node[tag];
  if (!c || typeof c !== "object") throw new UrdfError(where, `missing <${tag}>`);
  return c as Node;
}

function optionalAttr(node: Node, name: string): string | null {
  const v = node[`@${name}`];
  return typeof v === "string" ? v : null;
}

function attr(node: Node, name: string, fallback: string): string {
  return optionalAttr(node, name) ?? fallback;
}

function required(node: Node, name: string, where: string): string {
  const v = optionalAttr(node, name);
  if (v === null || v.trim() === "") throw new UrdfError(where, `missing attribute "${name}"`);
  return v;
}

function num(node: Node, name: string, where: string, fallback?: number): number {
  const v = optionalAttr(node, name);
  if (v === null) {
    if (fallback !== undefined) return fallback;
    throw new UrdfError(where, `missing attribute "${name}"`);
  }
  const n = parseDecimal(v);
  if (n === null) throw new UrdfError(where, `attribute "${name}" is not a finite number: "${v}"`);
  return n;
}

/** A decimal number as URDF writes them ("1", "-0.5", "1e-3"); null for "", hex, NaN. */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
function parseDecimal(text: string): number | null {
  const t = text.trim();
  if (!DECIMAL.test(t)) return null;
  const n = Number(t);
  return Number.isFinite(n) ? n : null;
}

function numbers(text: string, where: string): number[] {
  const parts = text
    .trim()
    .split(/\s+/)
    .map((x) => parseDecimal(x) ?? Number.NaN);
  if (parts.some((v) => !Number.isFinite(v)))
    throw new UrdfError(where, `not a list of numbers: "${text}"`);
  return parts;
}

function vec3(text: string, where: string): [number, number, number] {
  const p = numbers(text, where);
  if (p.length !== 3) throw new UrdfError(where, `expected three numbers, got "${text}"`);
  return [p[0] as number, p[1] as number, p[2] as number];
}
