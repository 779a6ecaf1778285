/**
 * The reconstruction agent's contract (aGF, "virtual environment creation" in AgentNet): turn
 * what a camera saw into a 3D asset (a glTF binary) that headsets download once and render.
 *
 * Two kinds of input, two backends:
 *  - RGB-D frames with known intrinsics and poses → the embedded CPU backend
 *    (`CpuReconstructor`: TSDF fusion, marching cubes, GLB);
 *  - one PNG image → an SF3D-style single-image-to-3D service on a GPU (`Sf3dReconstructor`).
 * A backend given the other kind of input throws `unsupported_input`.
 *
 * Frames and units:
 *  - `world`: the project's frame, z up, metres.
 *  - camera (optical) frame: x right, y down, z forward along the optical axis, metres
 *    (as ROS `*_optical_frame` and OpenCV). A pixel (column u, row v) sees the ray through
 *    ((u − cx)/fx, (v − cy)/fy, 1); pixel centres lie on integer (u, v) (OpenCV convention).
 *  - depth: the z coordinate of the seen point in the camera frame (not the ray length), as
 *    RealSense, Kinect and most RGB-D drivers deliver it; 0 (or any non-finite or negative
 *    value) marks an invalid pixel.
 *  - the GLB: glTF's own frame, y up, metres; see `glb.ts` for the axis change from `world`.
 */
import type { Pose } from "../../../shared/geometry.ts";
import { ReconstructionError, ReconstructionErrorCode } from "./errors.ts";

/** Pinhole intrinsics of one frame, pixels. */
export interface CameraIntrinsics {
  /** Focal lengths, pixels. */
  readonly fx: number;
  readonly fy: number;
  /** Principal point, pixels (column, row), pixel centres on integers. */
  readonly cx: number;
  readonly cy: number;
}

/** One RGB-D frame: colour and depth on the same pixel grid (registered), and where the camera was. */
export interface RgbdFrame {
  /** Image size, pixels. */
  readonly width: number;
  readonly height: number;
  /** Colour, row-major, 3 bytes per pixel (sRGB, R G B), length width·height·3. */
  readonly rgb: Uint8Array;
  /** Depth along the optical axis, metres, row-major, length width·height; 0 = invalid. */
  readonly depthM: Float32Array;
  readonly intrinsics: CameraIntrinsics;
  /** Camera (optical frame) → `world`: position in metres, orientation a unit quaternion. */
  readonly pose: Pose;
}

/** Axis-aligned box in a named frame, metres. */
export interface BoundsM {
  readonly min: { readonly x: number; readonly y: number; readonly z: number };
  readonly max: { readonly x: number; readonly y: number; readonly z: number };
}

/** The fusion volume: an axis-aligned box of `world` cut into cubic voxels. */
export interface VolumeSpec {
  /** The box in `world`, metres. */
  readonly bounds: BoundsM;
  /** Edge of one voxel, metres (e.g. 0.02). */
  readonly voxelSizeM: number;
}

/** What to reconstruct from. */
export type ReconstructionInput =
  | {
      readonly kind: "rgbd";
      readonly frames: readonly RgbdFrame[];
      /** Overrides the backend's default volume (still within its voxel limit). */
      readonly volume?: VolumeSpec;
    }
  | {
      readonly kind: "image";
      /** A PNG file (signature checked). */
      readonly png: Uint8Array;
    };

/** Time spent in each stage, milliseconds (0 for stages a backend does not have). */
export interface ReconstructionStats {
  /** Mean wall time to fuse one frame into the volume, ms. */
  readonly integrateMsPerFrame: number;
  /** Surface extraction (marching cubes, welding, normals), ms; for SF3D: the service call. */
  readonly meshMs: number;
  /** GLB encoding (or, for SF3D, checking and parsing the answer), ms. */
  readonly encodeMs: number;
}

/** A reconstructed asset. */
export interface ReconstructionResult {
  /** glTF 2.0 binary, y up, metres. */
  readonly glb: Uint8Array;
  /** Vertices and triangles of the mesh(es) in the GLB. */
  readonly vertices: number;
  readonly triangles: number;
  /** Bounds of the vertices in the GLB's own frame (glTF: y up), metres. */
  readonly boundsM: BoundsM;
  readonly stats: ReconstructionStats;
}

/** A backend that makes a 3D asset from camera input. */
export interface Reconstructor {
  /** Short backend name for logs and the agent panel, e.g. `cpu-tsdf`, `sf3d`. */
  readonly name: string;
  /**
   * Reconstructs `input`. Rejects with a `ReconstructionError` (its `code` says why);
   * `signal` aborts the job (`aborted`, or `timeout` for an `AbortSignal.timeout` reason).
   */
  reconstruct(input: ReconstructionInput, signal?: AbortSignal): Promise<ReconstructionResult>;
}

/** Limits that keep one job's memory and time bounded. */
export interface ReconstructionLimits {
  /** Most frames per job. */
  readonly maxFrames: number;
  /** Most voxels per volume (about 24 bytes each, see `tsdf.ts`). */
  readonly maxVoxels: number;
  /** Largest frame side, pixels. */
  readonly maxFrameSide: number;
}

/** Defaults: 64 frames, 4 M voxels (≈ 96 MB), frames up to 4096 px a side. */
export const DEFAULT_LIMITS: ReconstructionLimits = {
  maxFrames: 64,
  maxVoxels: 4_000_000,
  maxFrameSide: 4096,
};

/**
 * Default volume: a 2 × 2 × 2 m box around the `world` origin from 10 cm below the floor
 * (z = 0, so the floor itself has voxels on both sides) to 1.9 m, 2 cm voxels (10⁶ voxels).
 */
export const DEFAULT_VOLUME: VolumeSpec = {
  bounds: { min: { x: -1, y: -1, z: -0.1 }, max: { x: 1, y: 1, z: 1.9 } },
  voxelSizeM: 0.02,
};

/** What {@link validateFrames} looks at: a frame's header and the lengths of its arrays. */
export type FrameShape = Pick<RgbdFrame, "width" | "height" | "intrinsics" | "pose"> & {
  readonly rgb: { readonly length: number };
  readonly depthM: { readonly length: number };
};

const finite = (...v: number[]) => v.every((x) => Number.isFinite(x));

/**
 * Checks every frame of an RGB-D input against `limits` and throws the first problem found:
 * `no_frames`, `too_many_frames`, `bad_dimensions`, `bad_intrinsics` or `bad_pose` (with the
 * frame index). Pixel values are not checked (invalid depth is simply ignored).
 */
export function validateFrames(
  frames: readonly FrameShape[],
  limits: ReconstructionLimits = DEFAULT_LIMITS,
): void {
  if (frames.length === 0) {
    throw new ReconstructionError(ReconstructionErrorCode.NoFrames, "no frames to reconstruct");
  }
  if (frames.length > limits.maxFrames) {
    throw new ReconstructionError(
      ReconstructionErrorCode.TooManyFrames,
      `${frames.length} frames exceed the limit of ${limits.maxFrames}`,
    );
  }
  frames.forEach((f, frameIndex) => {
    const { width: w, height: h } = f;
    if (
      !Number.isInteger(w) ||
      !Number.isInteger(h) ||
      w < 1 ||
      h < 1 ||
      w > limits.maxFrameSide ||
      h > limits.maxFrameSide
    ) {
      throw new ReconstructionError(
        ReconstructionErrorCode.BadDimensions,
        `frame size ${w}×${h} is not 1…${limits.maxFrameSide} pixels a side`,
        { frameIndex },
      );
    }
    if (f.depthM.length !== w * h) {
      throw new ReconstructionError(
        ReconstructionErrorCode.BadDimensions,
        `depth has ${f.depthM.length} values, expected ${w}×${h} = ${w * h}`,
        { frameIndex },
      );
    }
    if (f.rgb.length !== w * h * 3) {
      throw new ReconstructionError(
        ReconstructionErrorCode.BadDimensions,
        `rgb has ${f.rgb.length} bytes, expected ${w}×${h}×3 = ${w * h * 3}`,
        { frameIndex },
      );
    }
    const k = f.intrinsics;
    if (!finite(k.fx, k.fy, k.cx, k.cy) || k.fx <= 0 || k.fy <= 0) {
      throw new ReconstructionError(
        ReconstructionErrorCode.BadIntrinsics,
        `intrinsics must be finite with fx, fy > 0 (got fx=${k.fx} fy=${k.fy} cx=${k.cx} cy=${k.cy})`,
        { frameIndex },
      );
    }
    const { position: p, orientation: q } = f.pose;
    if (!finite(p.x, p.y, p.z, q.x, q.y, q.z, q.w) || Math.hypot(q.x, q.y, q.z, q.w) < 1e-6) {
      throw new ReconstructionError(
        ReconstructionErrorCode.BadPose,
        "pose must be finite with a non-zero quaternion",
        { frameIndex },
      );
    }
  });
}

/**
 * Rotation matrix (row-major 3×3) of a quaternion, normalised first; `R · v_camera = v_world`
 * for a camera → world orientation.
 */
export function rotationFromQuat(q: { x: number; y: number; z: number; w: number }): Float64Array {
  const n = Math.hypot(q.x, q.y, q.z, q.w);
  const x = q.x / n;
  const y = q.y / n;
  const z = q.z / n;
  const w = q.w / n;
  return Float64Array.of(
    1 - 2 * (y * y + z * z),
    2 * (x * y - z * w),
    2 * (x * z + y * w),
    2 * (x * y + z * w),
    1 - 2 * (x * x + z * z),
    2 * (y * z - x * w),
    2 * (x * z - y * w),
    2 * (y * z + x * w),
    1 - 2 * (x * x + y * y),
  );
}
