/**
 * The embedded reconstruction backend on synthetic scenes with known geometry: TSDF fusion
 * against a naive reference, marching cubes on a sphere (radius, closedness, normals,
 * colours), Chamfer bounds, and every bad input refused with its code.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import {
  ReconstructionError,
  ReconstructionErrorCode,
} from "../../server/media/reconstruction/errors.ts";
import { CpuReconstructor } from "../../server/media/reconstruction/cpu-reconstructor.ts";
import { chamferToTruth, MeshDistance } from "../../server/media/reconstruction/chamfer.ts";
import {
  extractMesh,
  type TriangleMesh,
} from "../../server/media/reconstruction/marching-cubes.ts";
import {
  DEFAULT_VOLUME,
  rotationFromQuat,
  type RgbdFrame,
  type VolumeSpec,
} from "../../server/media/reconstruction/reconstructor.ts";
import {
  distanceToSurface,
  orbitPoses,
  renderRgbd,
  sampleVisibleSurface,
  SYNTHETIC_SCENES,
} from "../../server/media/reconstruction/synthetic-scenes.ts";
import { TsdfVolume } from "../../server/media/reconstruction/tsdf.ts";

const VOXEL = DEFAULT_VOLUME.voxelSizeM;
const SPHERE = SYNTHETIC_SCENES.sphere;
const SPHERE_C = SPHERE.shapes[0].center;
const SPHERE_R = SPHERE.shapes[0].radiusM;

/** Edges used by exactly one triangle (holes and open borders), over all edges. */
function boundaryEdgeFraction(mesh: TriangleMesh): number {
  const uses = new Map<string, number>();
  for (let f = 0; f < mesh.indices.length; f += 3) {
    for (let e = 0; e < 3; e++) {
      const a = mesh.indices[f + e]!;
      const b = mesh.indices[f + ((e + 1) % 3)]!;
      const key = a < b ? `${a},${b}` : `${b},${a}`;
      uses.set(key, (uses.get(key) ?? 0) + 1);
    }
  }
  let boundary = 0;
  for (const n of uses.values()) if (n === 1) boundary++;
  return boundary / uses.size;
}

/** Straightforward integration, one voxel at a time, for checking the optimised loop. */
function referenceIntegrate(vol: TsdfVolume, frame: RgbdFrame): void {
  const R = rotationFromQuat(frame.pose.orientation);
  const t = frame.pose.position;
  const { fx, fy, cx, cy } = frame.intrinsics;
  const trunc = vol.truncationM;
  let dMin = Infinity;
  for (const d of frame.depthM) if (d > 0 && d < dMin) dMin = d;
  for (let k = 0; k < vol.nz; k++) {
    for (let j = 0; j < vol.ny; j++) {
      for (let i = 0; i < vol.nx; i++) {
        const wx = vol.origin.x + (i + 0.5) * vol.voxelSizeM - t.x;
        const wy = vol.origin.y + (j + 0.5) * vol.voxelSizeM - t.y;
        const wz = vol.origin.z + (k + 0.5) * vol.voxelSizeM - t.z;
        const x = R[0]! * wx + R[3]! * wy + R[6]! * wz;
        const y = R[1]! * wx + R[4]! * wy + R[7]! * wz;
        const z = R[2]! * wx + R[5]! * wy + R[8]! * wz;
        if (z <= 0) continue;
        const u = Math.round((fx * x) / z + cx);
        const v = Math.round((fy * y) / z + cy);
        if (u < 0 || v < 0 || u >= frame.width || v >= frame.height) continue;
        const d = frame.depthM[v * frame.width + u]!;
        if (!(d > 0)) continue;
        const sdf = d - z;
        if (sdf < -trunc) continue;
        // The optimised loop skips voxels nearer than (nearest depth − truncation): free
        // space in front of everything seen, which the reference would mark +1.
        if (z < dMin - trunc) continue;
        const idx = i + vol.nx * (j + vol.ny * k);
        const f = Math.min(1, sdf / trunc);
        const w0 = vol.weight[idx]!;
        vol.tsdf[idx] = (vol.tsdf[idx]! * w0 + f) / (w0 + 1);
        vol.weight[idx] = Math.min(w0 + 1, vol.maxWeight);
      }
    }
  }
}

function frames(
  scene: (typeof SYNTHETIC_SCENES)[keyof typeof SYNTHETIC_SCENES],
  n: number,
  w: number,
  h: number,
  elevationsDeg?: number[],
): RgbdFrame[] {
  return orbitPoses(scene, n, elevationsDeg ? { elevationsDeg } : {}).map((p) =>
    renderRgbd(scene, w, h, p),
  );
}

describe("TSDF fusion", () => {
  it("matches a naive per-voxel integration", () => {
    const volume: VolumeSpec = {
      bounds: { min: { x: -0.4, y: -0.4, z: 0.6 }, max: { x: 0.4, y: 0.4, z: 1.4 } },
      voxelSizeM: 0.04,
    };
    const fast = new TsdfVolume({ volume });
    const slow = new TsdfVolume({ volume });
    for (const f of frames(SPHERE, 3, 80, 60)) {
      fast.integrate(f);
      referenceIntegrate(slow, f);
    }
    let updated = 0;
    for (let i = 0; i < fast.size; i++) {
      assert.equal(fast.weight[i], slow.weight[i], `weight of voxel ${i}`);
      assert.ok(Math.abs(fast.tsdf[i]! - slow.tsdf[i]!) < 1e-5, `tsdf of voxel ${i}`);
      if (fast.weight[i]! > 0) updated++;
    }
    assert.ok(updated > 1000, `${updated} voxels updated`);
  });

  it("skips frames that see nothing and leaves the volume untouched", () => {
    const vol = new TsdfVolume({ volume: DEFAULT_VOLUME });
    const f = frames(SPHERE, 1, 32, 24)[0]!;
    const stats = vol.integrate({ ...f, depthM: new Float32Array(32 * 24) });
    assert.deepEqual(stats, { voxelsVisited: 0, voxelsUpdated: 0 });
    assert.ok(vol.weight.every((w) => w === 0));
  });
});

describe("marching cubes on a fused sphere (320×240, 8 views above and below)", () => {
  let mesh: TriangleMesh;
  before(() => {
    const vol = new TsdfVolume({ volume: DEFAULT_VOLUME });
    for (const f of frames(SPHERE, 8, 320, 240, [35, -35])) vol.integrate(f);
    mesh = extractMesh(vol);
  });

  it("puts every vertex within 1.5 voxels of the true radius", () => {
    const n = mesh.positions.length / 3;
    assert.ok(n > 1000, `${n} vertices`);
    let worst = 0;
    for (let v = 0; v < n; v++) {
      const r = Math.hypot(
        mesh.positions[v * 3]! - SPHERE_C.x,
        mesh.positions[v * 3 + 1]! - SPHERE_C.y,
        mesh.positions[v * 3 + 2]! - SPHERE_C.z,
      );
      worst = Math.max(worst, Math.abs(r - SPHERE_R));
    }
    assert.ok(worst < 1.5 * VOXEL, `worst radial error ${worst} m`);
  });

  it("is closed (welded, almost no boundary edges) and its normals point outwards", () => {
    const boundary = boundaryEdgeFraction(mesh);
    assert.ok(boundary < 0.002, `boundary edge fraction ${boundary}`);
    const n = mesh.positions.length / 3;
    let outward = 0;
    for (let v = 0; v < n; v++) {
      const d =
        (mesh.positions[v * 3]! - SPHERE_C.x) * mesh.normals[v * 3]! +
        (mesh.positions[v * 3 + 1]! - SPHERE_C.y) * mesh.normals[v * 3 + 1]! +
        (mesh.positions[v * 3 + 2]! - SPHERE_C.z) * mesh.normals[v * 3 + 2]!;
      if (d > 0) outward++;
    }
    assert.equal(outward, n);
  });

  it("colours the vertices with the sphere's colour", () => {
    const [r, g, b] = SPHERE.shapes[0].rgb;
    const n = mesh.colors.length / 3;
    let sum = [0, 0, 0];
    for (let v = 0; v < n; v++) {
      sum = sum.map((s, c) => s + mesh.colors[v * 3 + c]!);
    }
    const mean = sum.map((s) => s / n);
    // Shading and the checker darken the base colour by 0.44…1; the hue stays.
    assert.ok(mean[0]! > 2 * mean[1]! && mean[0]! > 2 * mean[2]!, `mean colour ${mean}`);
    assert.ok(mean[0]! <= r && mean[0]! > 0.4 * r, `mean red ${mean[0]}`);
    assert.ok(g > 0 && b > 0);
  });
});

describe("Chamfer distance", () => {
  it("is exact for point–triangle distances", () => {
    // One triangle in the z = 0 plane.
    const md = new MeshDistance(
      Float32Array.of(0, 0, 0, 1, 0, 0, 0, 1, 0),
      Uint32Array.of(0, 1, 2),
    );
    assert.ok(Math.abs(md.distance(0.2, 0.2, 0.5) - 0.5) < 1e-6);
    assert.ok(Math.abs(md.distance(-1, 0, 0) - 1) < 1e-6);
    assert.ok(Math.abs(md.distance(1, 1, 0) - Math.SQRT1_2) < 1e-6);
    assert.ok(Math.abs(md.distance(2, 0, 0) - 1) < 1e-6);
  });

  it("is below 3 mm for the sphere and below 2.5 mm for a box on a plane (320×240 × 8 views)", () => {
    for (const [scene, bound] of [
      [SYNTHETIC_SCENES.sphere, 0.003],
      [SYNTHETIC_SCENES.boxOnPlane, 0.0025],
    ] as const) {
      const views = frames(scene, 8, 320, 240);
      const vol = new TsdfVolume({ volume: DEFAULT_VOLUME });
      for (const f of views) vol.integrate(f);
      const mesh = extractMesh(vol);
      const truth = sampleVisibleSurface(scene, 10_000, views);
      assert.ok(truth.length / 3 > 5000, `${truth.length / 3} visible truth points`);
      const c = chamferToTruth(mesh, truth, (p) => distanceToSurface(scene, p), 10_000);
      assert.ok(c.chamferM < bound, `${scene.name}: Chamfer ${c.chamferM} m`);
      assert.ok(c.accuracyM < VOXEL / 4 && c.completenessM < VOXEL / 2, JSON.stringify(c));
    }
  });
});

describe("CpuReconstructor refuses bad input with a code", () => {
  const rec = new CpuReconstructor({
    limits: { maxFrames: 4, maxVoxels: 2_000_000, maxFrameSide: 1024 },
  });
  const good = frames(SPHERE, 1, 40, 30)[0]!;
  const expectCode = async (
    input: Parameters<CpuReconstructor["reconstruct"]>[0],
    code: ReconstructionErrorCode,
    frameIndex?: number,
  ) => {
    await assert.rejects(rec.reconstruct(input), (err: unknown) => {
      assert.ok(err instanceof ReconstructionError, String(err));
      assert.equal(err.code, code, err.message);
      if (frameIndex !== undefined) assert.equal(err.frameIndex, frameIndex);
      return true;
    });
  };

  it("wrong depth or colour length", async () => {
    await expectCode(
      { kind: "rgbd", frames: [good, { ...good, depthM: new Float32Array(40 * 29) }] },
      ReconstructionErrorCode.BadDimensions,
      1,
    );
    await expectCode(
      { kind: "rgbd", frames: [{ ...good, rgb: new Uint8Array(40 * 30) }] },
      ReconstructionErrorCode.BadDimensions,
      0,
    );
    await expectCode(
      { kind: "rgbd", frames: [{ ...good, width: 0 }] },
      ReconstructionErrorCode.BadDimensions,
    );
  });

  it("NaN or non-positive intrinsics, a broken pose", async () => {
    await expectCode(
      { kind: "rgbd", frames: [{ ...good, intrinsics: { ...good.intrinsics, fx: Number.NaN } }] },
      ReconstructionErrorCode.BadIntrinsics,
    );
    await expectCode(
      { kind: "rgbd", frames: [{ ...good, intrinsics: { ...good.intrinsics, fy: -1 } }] },
      ReconstructionErrorCode.BadIntrinsics,
    );
    await expectCode(
      {
        kind: "rgbd",
        frames: [{ ...good, pose: { ...good.pose, orientation: { x: 0, y: 0, z: 0, w: 0 } } }],
      },
      ReconstructionErrorCode.BadPose,
    );
  });

  it("zero frames, too many frames, too many voxels, a bad volume", async () => {
    await expectCode({ kind: "rgbd", frames: [] }, ReconstructionErrorCode.NoFrames);
    await expectCode(
      { kind: "rgbd", frames: [good, good, good, good, good] },
      ReconstructionErrorCode.TooManyFrames,
    );
    await expectCode(
      { kind: "rgbd", frames: [good], volume: { ...DEFAULT_VOLUME, voxelSizeM: 0.005 } },
      ReconstructionErrorCode.TooManyVoxels,
    );
    await expectCode(
      {
        kind: "rgbd",
        frames: [good],
        volume: {
          bounds: { min: { x: 0, y: 0, z: 0 }, max: { x: 0, y: 1, z: 1 } },
          voxelSizeM: 0.02,
        },
      },
      ReconstructionErrorCode.BadVolume,
    );
  });

  it("frames that see nothing inside the volume give empty_result", async () => {
    await expectCode(
      { kind: "rgbd", frames: [{ ...good, depthM: new Float32Array(40 * 30) }] },
      ReconstructionErrorCode.EmptyResult,
    );
  });

  it("a single image is unsupported; an aborted signal aborts", async () => {
    await expectCode(
      { kind: "image", png: new Uint8Array(8) },
      ReconstructionErrorCode.UnsupportedInput,
    );
    const ctl = new AbortController();
    ctl.abort();
    await assert.rejects(rec.reconstruct({ kind: "rgbd", frames: [good] }, ctl.signal), {
      code: ReconstructionErrorCode.Aborted,
    });
    await assert.rejects(
      rec.reconstruct({ kind: "rgbd", frames: [good] }, AbortSignal.timeout(0)),
      (err: unknown) =>
        err instanceof ReconstructionError &&
        (err.code === ReconstructionErrorCode.Timeout ||
          err.code === ReconstructionErrorCode.Aborted),
    );
  });
});
