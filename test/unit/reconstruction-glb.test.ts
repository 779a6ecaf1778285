/**
 * The GLB the CPU backend writes reads back with @gltf-transform (positions, normals, vertex
 * colours, indices, y-up bounds), and the GLB checker refuses broken containers.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { NodeIO, type Primitive } from "@gltf-transform/core";
import { CpuReconstructor } from "../../server/media/reconstruction/cpu-reconstructor.ts";
import { ReconstructionError } from "../../server/media/reconstruction/errors.ts";
import { checkGlb, summarizeGlb } from "../../server/media/reconstruction/glb.ts";
import type { ReconstructionResult } from "../../server/media/reconstruction/reconstructor.ts";
import {
  orbitPoses,
  renderRgbd,
  SYNTHETIC_SCENES,
} from "../../server/media/reconstruction/synthetic-scenes.ts";

const SPHERE = SYNTHETIC_SCENES.sphere;
const R = SPHERE.shapes[0].radiusM;

describe("GLB of a reconstructed sphere", () => {
  let result: ReconstructionResult;
  let prim: Primitive;

  before(async () => {
    const frames = orbitPoses(SPHERE, 6, { elevationsDeg: [35, -35] }).map((p) =>
      renderRgbd(SPHERE, 160, 120, p),
    );
    result = await new CpuReconstructor().reconstruct({ kind: "rgbd", frames });
    const doc = await new NodeIO().readBinary(result.glb);
    const meshes = doc.getRoot().listMeshes();
    assert.equal(meshes.length, 1);
    prim = meshes[0]!.listPrimitives()[0]!;
  });

  it("parses back with positions, normals, colours and indices", () => {
    const pos = prim.getAttribute("POSITION")!;
    const nor = prim.getAttribute("NORMAL")!;
    const col = prim.getAttribute("COLOR_0")!;
    const idx = prim.getIndices()!;
    assert.equal(pos.getCount(), result.vertices);
    assert.equal(nor.getCount(), result.vertices);
    assert.equal(col.getCount(), result.vertices);
    assert.equal(idx.getCount(), result.triangles * 3);
    assert.equal(prim.getMode(), 4); // TRIANGLES
    assert.equal(col.getType(), "VEC4");
    assert.ok(col.getNormalized());
    assert.ok(prim.getMaterial(), "has a material");
    for (let v = 0; v < nor.getCount(); v += 97) {
      const n = nor.getElement(v, []);
      assert.ok(Math.abs(Math.hypot(n[0]!, n[1]!, n[2]!) - 1) < 1e-3, `normal ${v} is unit`);
    }
  });

  it("is y-up: the sphere centred at world (0, 0, 1) sits at glTF (0, 1, 0), in metres", () => {
    const { min, max } = result.boundsM;
    const centre = [(min.x + max.x) / 2, (min.y + max.y) / 2, (min.z + max.z) / 2];
    assert.ok(Math.abs(centre[0]!) < 0.02 && Math.abs(centre[1]! - 1) < 0.02, `centre ${centre}`);
    assert.ok(Math.abs(centre[2]!) < 0.02, `centre ${centre}`);
    for (const size of [max.x - min.x, max.y - min.y, max.z - min.z]) {
      assert.ok(Math.abs(size - 2 * R) < 0.04, `extent ${size}`);
    }
    // Normals point away from the centre in glTF space too (the axis change is a rotation).
    const pos = prim.getAttribute("POSITION")!;
    const nor = prim.getAttribute("NORMAL")!;
    for (let v = 0; v < pos.getCount(); v += 31) {
      const p = pos.getElement(v, []);
      const n = nor.getElement(v, []);
      const d = p[0]! * n[0]! + (p[1]! - 1) * n[1]! + p[2]! * n[2]!;
      assert.ok(d > 0, `vertex ${v} normal points inwards`);
    }
  });

  it("summarizeGlb agrees with the result", async () => {
    const s = await summarizeGlb(result.glb);
    assert.equal(s.vertices, result.vertices);
    assert.equal(s.triangles, result.triangles);
    assert.ok(Math.abs(s.boundsM.max.y - result.boundsM.max.y) < 1e-5);
    assert.ok(result.stats.integrateMsPerFrame > 0 && result.stats.meshMs > 0);
  });

  it("checkGlb refuses bad magic, version, length, chunks and JSON", () => {
    const good = result.glb;
    const broken = (edit: (b: Uint8Array, v: DataView) => Uint8Array | void) => {
      const b = good.slice();
      const v = new DataView(b.buffer);
      return edit(b, v) ?? b;
    };
    const cases: [string, Uint8Array, RegExp][] = [
      ["short", good.subarray(0, 10), /too short/],
      ["magic", broken((b) => void (b[0] = 0x78)), /magic/],
      ["version", broken((_, v) => v.setUint32(4, 1, true)), /version 1/],
      ["length", broken((_, v) => v.setUint32(8, good.length + 4, true)), /length header/],
      ["truncated", good.subarray(0, good.length - 100), /length header/],
      ["chunk type", broken((_, v) => v.setUint32(16, 0x1234, true)), /not JSON/],
      ["json length", broken((_, v) => v.setUint32(12, good.length, true)), /past the end/],
      ["json text", broken((b) => void (b[20] = 0x5b)), /does not parse/],
      ["garbage", Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919) & 255), /magic/],
    ];
    for (const [name, bytes, message] of cases) {
      assert.throws(
        () => checkGlb(bytes),
        (err: unknown) =>
          err instanceof ReconstructionError &&
          err.code === "invalid_glb" &&
          message.test(err.message),
        name,
      );
    }
    assert.equal((checkGlb(good).asset as { version: string }).version, "2.0");
  });
});
