/**
 * Truncated signed distance field (TSDF) volume with projective integration of RGB-D frames
 * (Curless & Levoy 1996; KinectFusion, Newcombe et al. 2011).
 *
 * The volume is an axis-aligned box of `world` (z up, metres) cut into `nx × ny × nz` cubic
 * voxels of edge `voxelSizeM`; voxel (i, j, k) holds the samples at its centre
 * `bounds.min + (i + ½, j + ½, k + ½) · voxelSizeM`, stored x-fastest at
 * `i + nx·(j + ny·k)`. Per voxel (24 bytes):
 *  - `tsdf`: signed distance to the nearest seen surface along the camera's optical axis,
 *    divided by the truncation distance and clamped to [−1, 1]; positive in front of the
 *    surface (free space), negative behind it; 1 until seen;
 *  - `weight`: number of observations fused (capped at `maxWeight`, after which the average
 *    becomes a moving one so the volume can follow a changing scene); 0 = never seen;
 *  - `color`: running mean R, G, B (sRGB, 0…255) of the pixels that saw the voxel within the
 *    truncation band, and the number of those observations.
 *
 * Integration is voxel-driven: each voxel inside the camera's frustum (the box around the
 * frustum between the nearest and the farthest valid depth, ± truncation) is projected into
 * the depth image and compared with the depth at the nearest pixel. Walking a row of voxels
 * along x moves the point in the camera frame by a constant vector, so the inner loop is a few
 * additions, one division and one lookup per voxel.
 */
import {
  DEFAULT_LIMITS,
  rotationFromQuat,
  type BoundsM,
  type RgbdFrame,
  type VolumeSpec,
} from "./reconstructor.ts";
import { ReconstructionError, ReconstructionErrorCode } from "./errors.ts";

/** Options of a {@link TsdfVolume}. */
export interface TsdfOptions {
  /** Box and voxel size. */
  readonly volume: VolumeSpec;
  /** Truncation distance in voxels (default 3: ±6 cm at 2 cm voxels). */
  readonly truncationVoxels?: number;
  /** Cap of the per-voxel weight (default 64). */
  readonly maxWeight?: number;
  /** Most voxels allowed (default {@link DEFAULT_LIMITS}.maxVoxels). */
  readonly maxVoxels?: number;
}

/** What one integration did. */
export interface IntegrateStats {
  /** Voxels inside the frustum box (visited by the loop). */
  readonly voxelsVisited: number;
  /** Voxels whose distance was updated. */
  readonly voxelsUpdated: number;
}

/** Bytes of memory per voxel (tsdf + weight + 4 colour floats). */
export const BYTES_PER_VOXEL = 24;

/** Smallest and largest voxel edge accepted, metres. */
export const VOXEL_SIZE_RANGE_M = { min: 0.001, max: 1 } as const;

/**
 * Number of voxels along each axis of `spec`; throws `bad_volume` for an empty or
 * non-finite box or a voxel size outside {@link VOXEL_SIZE_RANGE_M}, and `too_many_voxels`
 * when `nx·ny·nz` exceeds `maxVoxels`.
 */
export function volumeDims(
  spec: VolumeSpec,
  maxVoxels = DEFAULT_LIMITS.maxVoxels,
): [number, number, number] {
  const { min, max } = spec.bounds;
  const s = spec.voxelSizeM;
  const values = [min.x, min.y, min.z, max.x, max.y, max.z, s];
  if (!values.every(Number.isFinite) || max.x <= min.x || max.y <= min.y || max.z <= min.z) {
    throw new ReconstructionError(
      ReconstructionErrorCode.BadVolume,
      "volume bounds must be finite with max > min on every axis",
    );
  }
  if (s < VOXEL_SIZE_RANGE_M.min || s > VOXEL_SIZE_RANGE_M.max) {
    throw new ReconstructionError(
      ReconstructionErrorCode.BadVolume,
      `voxel size ${s} m is outside ${VOXEL_SIZE_RANGE_M.min}…${VOXEL_SIZE_RANGE_M.max} m`,
    );
  }
  const dims: [number, number, number] = [
    Math.max(2, Math.ceil((max.x - min.x) / s - 1e-9)),
    Math.max(2, Math.ceil((max.y - min.y) / s - 1e-9)),
    Math.max(2, Math.ceil((max.z - min.z) / s - 1e-9)),
  ];
  const count = dims[0] * dims[1] * dims[2];
  if (count > maxVoxels) {
    throw new ReconstructionError(
      ReconstructionErrorCode.TooManyVoxels,
      `${dims.join("×")} = ${count} voxels exceed the limit of ${maxVoxels}`,
    );
  }
  return dims;
}

/** A TSDF volume in `world`; see the module comment for layout and meaning. */
export class TsdfVolume {
  /** Voxels along x, y, z. */
  readonly nx: number;
  readonly ny: number;
  readonly nz: number;
  /** Edge of a voxel, metres. */
  readonly voxelSizeM: number;
  /** Truncation distance, metres. */
  readonly truncationM: number;
  readonly maxWeight: number;
  /** Minimum corner of the box in `world`, metres (voxel (0,0,0)'s centre is half a voxel inside). */
  readonly origin: { readonly x: number; readonly y: number; readonly z: number };
  /** Normalised truncated distance per voxel, [−1, 1]; 1 until seen. */
  readonly tsdf: Float32Array;
  /** Observations fused per voxel; 0 = never seen. */
  readonly weight: Float32Array;
  /** Per voxel: mean R, G, B (0…255, sRGB) and the count of colour observations. */
  readonly color: Float32Array;

  /** @throws ReconstructionError `bad_volume` or `too_many_voxels` (nothing is allocated then) */
  constructor(options: TsdfOptions) {
    const [nx, ny, nz] = volumeDims(options.volume, options.maxVoxels);
    this.nx = nx;
    this.ny = ny;
    this.nz = nz;
    this.voxelSizeM = options.volume.voxelSizeM;
    this.truncationM = (options.truncationVoxels ?? 3) * this.voxelSizeM;
    this.maxWeight = options.maxWeight ?? 64;
    const { min } = options.volume.bounds;
    this.origin = { x: min.x, y: min.y, z: min.z };
    const n = nx * ny * nz;
    this.tsdf = new Float32Array(n).fill(1);
    this.weight = new Float32Array(n);
    this.color = new Float32Array(n * 4);
  }

  /** Number of voxels. */
  get size(): number {
    return this.tsdf.length;
  }

  /** The box the voxel centres span in `world`, metres. */
  get sampleBounds(): BoundsM {
    const s = this.voxelSizeM;
    const o = this.origin;
    return {
      min: { x: o.x + s / 2, y: o.y + s / 2, z: o.z + s / 2 },
      max: {
        x: o.x + (this.nx - 0.5) * s,
        y: o.y + (this.ny - 0.5) * s,
        z: o.z + (this.nz - 0.5) * s,
      },
    };
  }

  /**
   * Fuses one frame (already validated with `validateFrames`) into the volume.
   * Depth values that are 0, negative or not finite are ignored.
   */
  integrate(frame: RgbdFrame): IntegrateStats {
    const { width: w, height: h, depthM: depth, rgb } = frame;
    const { fx, fy, cx, cy } = frame.intrinsics;
    const R = rotationFromQuat(frame.pose.orientation);
    const t = frame.pose.position;
    const trunc = this.truncationM;
    const invTrunc = 1 / trunc;

    // Depth range seen by this frame: bounds the frustum to what can change.
    let dMin = Infinity;
    let dMax = 0;
    for (let p = 0; p < depth.length; p++) {
      const d = depth[p] as number;
      if (d > 0 && d < Infinity) {
        if (d < dMin) dMin = d;
        if (d > dMax) dMax = d;
      }
    }
    if (dMax === 0) return { voxelsVisited: 0, voxelsUpdated: 0 };
    const near = Math.max(1e-3, dMin - trunc);
    const far = dMax + trunc;

    // Box in voxel indices around the frustum between near and far.
    const s = this.voxelSizeM;
    const o = this.origin;
    let lo = [Infinity, Infinity, Infinity];
    let hi = [-Infinity, -Infinity, -Infinity];
    for (const zc of [near, far]) {
      for (const u of [-0.5, w - 0.5]) {
        for (const v of [-0.5, h - 0.5]) {
          const xc = ((u - cx) / fx) * zc;
          const yc = ((v - cy) / fy) * zc;
          const p = [
            R[0]! * xc + R[1]! * yc + R[2]! * zc + t.x,
            R[3]! * xc + R[4]! * yc + R[5]! * zc + t.y,
            R[6]! * xc + R[7]! * yc + R[8]! * zc + t.z,
          ];
          lo = lo.map((l, a) => Math.min(l, p[a]!));
          hi = hi.map((m, a) => Math.max(m, p[a]!));
        }
      }
    }
    const nx = this.nx;
    const ny = this.ny;
    const nz = this.nz;
    const origins = [o.x, o.y, o.z];
    const counts = [nx, ny, nz];
    const i0: number[] = [];
    const i1: number[] = [];
    for (let a = 0; a < 3; a++) {
      // Voxel centres c = origin + (i + ½)s inside [lo, hi].
      i0[a] = Math.max(0, Math.ceil((lo[a]! - origins[a]!) / s - 0.5));
      i1[a] = Math.min(counts[a]! - 1, Math.floor((hi[a]! - origins[a]!) / s - 0.5));
      if (i1[a]! < i0[a]!) return { voxelsVisited: 0, voxelsUpdated: 0 };
    }
    const [xa, ya, za] = i0 as [number, number, number];
    const [xb, yb, zb] = i1 as [number, number, number];

    // Camera-frame coordinates: p_c = Rᵀ (p_w − t). One voxel step along world x, y, z moves
    // p_c by s times the first, second, third row of R.
    const dxX = R[0]! * s;
    const dxY = R[1]! * s;
    const dxZ = R[2]! * s;
    const dyX = R[3]! * s;
    const dyY = R[4]! * s;
    const dyZ = R[5]! * s;
    const dzX = R[6]! * s;
    const dzY = R[7]! * s;
    const dzZ = R[8]! * s;
    // p_c of voxel (0,0,0).
    const wx0 = o.x + s / 2 - t.x;
    const wy0 = o.y + s / 2 - t.y;
    const wz0 = o.z + s / 2 - t.z;
    const cX0 = R[0]! * wx0 + R[3]! * wy0 + R[6]! * wz0;
    const cY0 = R[1]! * wx0 + R[4]! * wy0 + R[7]! * wz0;
    const cZ0 = R[2]! * wx0 + R[5]! * wy0 + R[8]! * wz0;

    const tsdf = this.tsdf;
    const weight = this.weight;
    const color = this.color;
    const maxW = this.maxWeight;
    const uMax = w - 0.5;
    const vMax = h - 0.5;
    let visited = 0;
    let updated = 0;
    for (let k = za; k <= zb; k++) {
      for (let j = ya; j <= yb; j++) {
        let px = cX0 + xa * dxX + j * dyX + k * dzX;
        let py = cY0 + xa * dxY + j * dyY + k * dzY;
        let pz = cZ0 + xa * dxZ + j * dyZ + k * dzZ;
        let idx = xa + nx * (j + ny * k);
        visited += xb - xa + 1;
        for (let i = xa; i <= xb; i++, idx++, px += dxX, py += dxY, pz += dxZ) {
          if (pz < near || pz > far) continue;
          const iz = 1 / pz;
          const uf = fx * px * iz + cx;
          if (uf < -0.5 || uf >= uMax) continue;
          const vf = fy * py * iz + cy;
          if (vf < -0.5 || vf >= vMax) continue;
          const pix = ((vf + 0.5) | 0) * w + ((uf + 0.5) | 0);
          const d = depth[pix] as number;
          if (!(d > 0 && d < Infinity)) continue;
          const sdf = d - pz;
          if (sdf < -trunc) continue; // hidden behind the surface: unknown
          const f = sdf >= trunc ? 1 : sdf * invTrunc;
          const w0 = weight[idx] as number;
          const w1 = w0 + 1;
          tsdf[idx] = ((tsdf[idx] as number) * w0 + f) / w1;
          weight[idx] = w1 < maxW ? w1 : maxW;
          updated++;
          if (sdf < trunc) {
            const c = idx * 4;
            const cw0 = color[c + 3] as number;
            const cw1 = cw0 + 1;
            const r = 1 / cw1;
            const p3 = pix * 3;
            color[c] = ((color[c] as number) * cw0 + (rgb[p3] as number)) * r;
            color[c + 1] = ((color[c + 1] as number) * cw0 + (rgb[p3 + 1] as number)) * r;
            color[c + 2] = ((color[c + 2] as number) * cw0 + (rgb[p3 + 2] as number)) * r;
            color[c + 3] = cw1 < maxW ? cw1 : maxW;
          }
        }
      }
    }
    return { voxelsVisited: visited, voxelsUpdated: updated };
  }
}
