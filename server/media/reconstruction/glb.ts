/**
 * glTF 2.0 binary (GLB) writing, checking and summarising, with `@gltf-transform/core`.
 *
 * Axis change. The project's `world` is z up; glTF is y up with +z towards the viewer
 * ("front") and metres as the unit. A `world` point (x, y, z) is written as glTF
 * (x, z, −y): a rotation of −90° about x, so handedness, lengths and triangle winding are
 * kept. Normals rotate the same way. A viewer that places the asset at the glTF origin sees
 * the scene as it stood in `world`, with `world` +y pointing into the screen (glTF −z).
 *
 * Colours. Cameras deliver sRGB; glTF vertex colours (`COLOR_0`) are linear and multiply the
 * material's base colour, so colours are converted sRGB → linear and stored as normalised
 * unsigned bytes (RGBA, A = 1); the material is white, fully rough, not metallic, double
 * sided (a scan is seen from inside the room as well).
 */
import { Document, NodeIO, getBounds, type TypedArray } from "@gltf-transform/core";
import type { TriangleMesh } from "./marching-cubes.ts";
import type { BoundsM } from "./reconstructor.ts";
import { ReconstructionError, ReconstructionErrorCode } from "./errors.ts";

/** What a GLB holds, in the GLB's own frame (glTF: y up, metres). */
export interface GlbSummary {
  readonly vertices: number;
  readonly triangles: number;
  readonly boundsM: BoundsM;
}

/** Metadata written into the asset (`asset.extras`). */
export interface GlbMetadata {
  readonly [key: string]: string | number | boolean;
}

/** Converts an sRGB byte to linear light (IEC 61966-2-1), as a byte. */
const SRGB_TO_LINEAR_BYTE: Uint8Array = Uint8Array.from({ length: 256 }, (_, i) => {
  const c = i / 255;
  const l = c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  return Math.round(l * 255);
});

/**
 * Encodes a mesh in `world` (z up, metres) as a GLB (y up, metres; see the module comment):
 * one node, one mesh, one triangle primitive with POSITION, NORMAL, COLOR_0 and indices
 * (16-bit when they fit). Also returns the bounds of the written positions.
 */
export async function encodeGlb(
  mesh: TriangleMesh,
  metadata: GlbMetadata = {},
): Promise<{ glb: Uint8Array; boundsM: BoundsM }> {
  const n = mesh.positions.length / 3;
  const position = new Float32Array(n * 3);
  const normal = new Float32Array(n * 3);
  const color = new Uint8Array(n * 4);
  const lo = [Infinity, Infinity, Infinity];
  const hi = [-Infinity, -Infinity, -Infinity];
  for (let v = 0; v < n; v++) {
    const x = mesh.positions[v * 3]!;
    const y = mesh.positions[v * 3 + 1]!;
    const z = mesh.positions[v * 3 + 2]!;
    const g = [x, z, -y];
    for (let a = 0; a < 3; a++) {
      position[v * 3 + a] = g[a]!;
      lo[a] = Math.min(lo[a]!, g[a]!);
      hi[a] = Math.max(hi[a]!, g[a]!);
    }
    normal[v * 3] = mesh.normals[v * 3]!;
    normal[v * 3 + 1] = mesh.normals[v * 3 + 2]!;
    normal[v * 3 + 2] = -mesh.normals[v * 3 + 1]!;
    color[v * 4] = SRGB_TO_LINEAR_BYTE[mesh.colors[v * 3]!]!;
    color[v * 4 + 1] = SRGB_TO_LINEAR_BYTE[mesh.colors[v * 3 + 1]!]!;
    color[v * 4 + 2] = SRGB_TO_LINEAR_BYTE[mesh.colors[v * 3 + 2]!]!;
    color[v * 4 + 3] = 255;
  }
  const doc = new Document();
  doc.getRoot().getAsset().generator = "AgentTwin reconstruction (TSDF + marching cubes)";
  doc.getRoot().getAsset().extras = { ...metadata, frame: "glTF y-up = world (x, z, -y)" };
  const buffer = doc.createBuffer();
  const indices = n <= 0xffff ? Uint16Array.from(mesh.indices) : Uint32Array.from(mesh.indices);
  const accessor = (type: "VEC3" | "VEC4" | "SCALAR", array: TypedArray) =>
    doc.createAccessor().setType(type).setArray(array).setBuffer(buffer);
  const material = doc
    .createMaterial("scan")
    .setBaseColorFactor([1, 1, 1, 1])
    .setMetallicFactor(0)
    .setRoughnessFactor(1)
    .setDoubleSided(true);
  const primitive = doc
    .createPrimitive()
    .setAttribute("POSITION", accessor("VEC3", position))
    .setAttribute("NORMAL", accessor("VEC3", normal))
    .setAttribute("COLOR_0", accessor("VEC4", color).setNormalized(true))
    .setIndices(accessor("SCALAR", indices))
    .setMaterial(material);
  const meshDef = doc.createMesh("scan").addPrimitive(primitive);
  const node = doc.createNode("scan").setMesh(meshDef);
  doc.createScene("scene").addChild(node);
  doc.getRoot().setDefaultScene(doc.getRoot().listScenes()[0]!);
  const glb = await new NodeIO().writeBinary(doc);
  const boundsM: BoundsM =
    n === 0
      ? { min: { x: 0, y: 0, z: 0 }, max: { x: 0, y: 0, z: 0 } }
      : { min: { x: lo[0]!, y: lo[1]!, z: lo[2]! }, max: { x: hi[0]!, y: hi[1]!, z: hi[2]! } };
  return { glb, boundsM };
}

const GLB_MAGIC = 0x46546c67; // "glTF"
const CHUNK_JSON = 0x4e4f534a; // "JSON"
const CHUNK_BIN = 0x004e4942; // "BIN\0"

/**
 * Checks the GLB container: magic `glTF`, version 2, the length header equal to the byte
 * count, a JSON chunk first whose text parses with `asset.version` "2.x", then an optional
 * BIN chunk, each chunk inside the file. Returns the parsed JSON.
 * @throws ReconstructionError `invalid_glb` naming the first problem
 */
export function checkGlb(bytes: Uint8Array): Record<string, unknown> {
  const bad = (message: string, cause?: unknown): never => {
    throw new ReconstructionError(ReconstructionErrorCode.InvalidGlb, message, {
      ...(cause !== undefined && { cause }),
    });
  };
  if (bytes.byteLength < 20) bad(`${bytes.byteLength} bytes is too short for a GLB`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== GLB_MAGIC) bad("missing the glTF magic");
  const version = view.getUint32(4, true);
  if (version !== 2) bad(`GLB version ${version}, expected 2`);
  const length = view.getUint32(8, true);
  if (length !== bytes.byteLength) {
    bad(`length header says ${length} bytes, got ${bytes.byteLength}`);
  }
  const jsonLength = view.getUint32(12, true);
  if (view.getUint32(16, true) !== CHUNK_JSON) bad("first chunk is not JSON");
  if (20 + jsonLength > length) bad("JSON chunk runs past the end");
  let json: unknown;
  try {
    json = JSON.parse(
      new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(20, 20 + jsonLength)),
    );
  } catch (err) {
    bad("JSON chunk does not parse", err);
  }
  const asset = (json as { asset?: { version?: unknown } } | null)?.asset;
  if (typeof asset?.version !== "string" || !asset.version.startsWith("2.")) {
    bad("JSON chunk has no asset.version 2.x");
  }
  // Chunks after the BIN one are allowed (and ignored by readers).
  const offset = 20 + jsonLength;
  if (offset + 8 <= length) {
    const binLength = view.getUint32(offset, true);
    if (view.getUint32(offset + 4, true) !== CHUNK_BIN) bad("second chunk is not BIN");
    if (offset + 8 + binLength > length) bad("BIN chunk runs past the end");
  }
  return json as Record<string, unknown>;
}

/**
 * Vertices, triangles and bounds (node transforms applied) of a GLB, read with
 * `@gltf-transform/core`. A GLB that needs an extension this reader lacks (e.g. Draco) is
 * summarised from its JSON instead: accessor counts and POSITION min/max, without node
 * transforms.
 * @throws ReconstructionError `invalid_glb` when the container or the document is broken
 */
export async function summarizeGlb(bytes: Uint8Array): Promise<GlbSummary> {
  const json = checkGlb(bytes);
  let doc: Document;
  try {
    doc = await new NodeIO().readBinary(bytes);
  } catch (err) {
    if (err instanceof Error && err.message.startsWith("Missing required extension")) {
      return summarizeJson(json);
    }
    throw new ReconstructionError(ReconstructionErrorCode.InvalidGlb, "GLB does not parse", {
      cause: err,
    });
  }
  let vertices = 0;
  let triangles = 0;
  for (const mesh of doc.getRoot().listMeshes()) {
    for (const prim of mesh.listPrimitives()) {
      const count = prim.getAttribute("POSITION")?.getCount() ?? 0;
      vertices += count;
      if (prim.getMode() === 4)
        triangles += Math.floor((prim.getIndices()?.getCount() ?? count) / 3);
    }
  }
  const scene = doc.getRoot().getDefaultScene() ?? doc.getRoot().listScenes()[0];
  const box = scene ? getBounds(scene) : null;
  const finite = box && [...box.min, ...box.max].every(Number.isFinite);
  return {
    vertices,
    triangles,
    boundsM: finite
      ? {
          min: { x: box.min[0], y: box.min[1], z: box.min[2] },
          max: { x: box.max[0], y: box.max[1], z: box.max[2] },
        }
      : { min: { x: 0, y: 0, z: 0 }, max: { x: 0, y: 0, z: 0 } },
  };
}

interface JsonAccessor {
  count?: number;
  min?: number[];
  max?: number[];
}
interface JsonPrimitive {
  attributes?: Record<string, number>;
  indices?: number;
  mode?: number;
}

function summarizeJson(json: Record<string, unknown>): GlbSummary {
  const accessors = (json.accessors ?? []) as JsonAccessor[];
  const meshes = (json.meshes ?? []) as { primitives?: JsonPrimitive[] }[];
  let vertices = 0;
  let triangles = 0;
  const lo = [Infinity, Infinity, Infinity];
  const hi = [-Infinity, -Infinity, -Infinity];
  for (const m of meshes) {
    for (const p of m.primitives ?? []) {
      const pos =
        p.attributes?.POSITION === undefined ? undefined : accessors[p.attributes.POSITION];
      const count = pos?.count ?? 0;
      vertices += count;
      const idx = p.indices === undefined ? undefined : accessors[p.indices];
      if ((p.mode ?? 4) === 4) triangles += Math.floor((idx?.count ?? count) / 3);
      for (let a = 0; a < 3; a++) {
        lo[a] = Math.min(lo[a]!, pos?.min?.[a] ?? Infinity);
        hi[a] = Math.max(hi[a]!, pos?.max?.[a] ?? -Infinity);
      }
    }
  }
  const ok = [...lo, ...hi].every(Number.isFinite);
  return {
    vertices,
    triangles,
    boundsM: ok
      ? { min: { x: lo[0]!, y: lo[1]!, z: lo[2]! }, max: { x: hi[0]!, y: hi[1]!, z: hi[2]! } }
      : { min: { x: 0, y: 0, z: 0 }, max: { x: 0, y: 0, z: 0 } },
  };
}
