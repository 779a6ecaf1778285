/**
 * The embedded reconstruction backend: RGB-D frames fused into a TSDF volume (`tsdf.ts`),
 * meshed by marching cubes (`marching-cubes.ts`), written as a vertex-coloured GLB (`glb.ts`).
 * CPU only, no network, no GPU.
 *
 * The work runs on the calling thread but yields to the event loop after every frame and
 * every few slabs of marching cubes, so a server keeps answering while a job runs (the
 * longest stretch without a yield is one frame's integration, ≈ 10 ms at 320×240 on a 2 cm,
 * 2 m volume) and an abort or timeout takes effect between steps.
 */
import { setImmediate as yieldToLoop } from "node:timers/promises";
import { ReconstructionError, ReconstructionErrorCode, throwIfAborted } from "./errors.ts";
import { encodeGlb } from "./glb.ts";
import { MeshExtractor, type TriangleMesh } from "./marching-cubes.ts";
import {
  DEFAULT_LIMITS,
  DEFAULT_VOLUME,
  validateFrames,
  type ReconstructionInput,
  type ReconstructionLimits,
  type ReconstructionResult,
  type Reconstructor,
  type RgbdFrame,
  type VolumeSpec,
} from "./reconstructor.ts";
import { TsdfVolume } from "./tsdf.ts";

/** Options of the {@link CpuReconstructor}. */
export interface CpuReconstructorOptions {
  /** Volume used when the input names none (default {@link DEFAULT_VOLUME}). */
  readonly volume?: VolumeSpec;
  /** Frame, voxel and size limits (default {@link DEFAULT_LIMITS}). */
  readonly limits?: ReconstructionLimits;
  /** Truncation distance, voxels (default 3). */
  readonly truncationVoxels?: number;
  /** Marching-cubes slabs between two yields to the event loop (default 8). */
  readonly slabsPerYield?: number;
}

/** A mesh and the time each stage took (exposed for the benchmark and tests). */
export interface FusedMesh {
  readonly mesh: TriangleMesh;
  readonly volume: TsdfVolume;
  /** Wall time of each frame's integration, ms. */
  readonly integrateMs: readonly number[];
  readonly meshMs: number;
}

/** TSDF fusion + marching cubes + GLB, on the CPU. */
export class CpuReconstructor implements Reconstructor {
  readonly name = "cpu-tsdf";
  readonly #volume: VolumeSpec;
  readonly #limits: ReconstructionLimits;
  readonly #truncationVoxels: number;
  readonly #slabsPerYield: number;

  constructor(options: CpuReconstructorOptions = {}) {
    this.#volume = options.volume ?? DEFAULT_VOLUME;
    this.#limits = options.limits ?? DEFAULT_LIMITS;
    this.#truncationVoxels = options.truncationVoxels ?? 3;
    this.#slabsPerYield = options.slabsPerYield ?? 8;
  }

  /** The frame, voxel and size limits this backend enforces. */
  get limits(): ReconstructionLimits {
    return this.#limits;
  }

  async reconstruct(
    input: ReconstructionInput,
    signal?: AbortSignal,
  ): Promise<ReconstructionResult> {
    if (input.kind !== "rgbd") {
      throw new ReconstructionError(
        ReconstructionErrorCode.UnsupportedInput,
        `${this.name} reconstructs RGB-D frames, not a single ${input.kind}`,
      );
    }
    const fused = await this.fuse(input.frames, input.volume, signal);
    const triangles = fused.mesh.indices.length / 3;
    const t0 = performance.now();
    const { glb, boundsM } = await encodeGlb(fused.mesh, {
      frames: input.frames.length,
      voxelSizeM: fused.volume.voxelSizeM,
    });
    const encodeMs = performance.now() - t0;
    throwIfAborted(signal, "reconstruction");
    const integrateMsPerFrame =
      fused.integrateMs.reduce((a, b) => a + b, 0) / Math.max(1, fused.integrateMs.length);
    return {
      glb,
      vertices: fused.mesh.positions.length / 3,
      triangles,
      boundsM,
      stats: { integrateMsPerFrame, meshMs: fused.meshMs, encodeMs },
    };
  }

  /**
   * Validates the frames, fuses them and extracts the mesh (in `world`), without encoding.
   * @throws ReconstructionError for bad frames or volume, `empty_result` when no surface
   *   was found, `aborted` / `timeout` when `signal` fires
   */
  async fuse(
    frames: readonly RgbdFrame[],
    volumeSpec: VolumeSpec = this.#volume,
    signal?: AbortSignal,
  ): Promise<FusedMesh> {
    validateFrames(frames, this.#limits);
    throwIfAborted(signal, "reconstruction");
    const volume = new TsdfVolume({
      volume: volumeSpec,
      truncationVoxels: this.#truncationVoxels,
      maxVoxels: this.#limits.maxVoxels,
    });
    const integrateMs: number[] = [];
    for (const frame of frames) {
      const t = performance.now();
      volume.integrate(frame);
      integrateMs.push(performance.now() - t);
      await yieldToLoop();
      throwIfAborted(signal, "reconstruction");
    }
    let meshMs = 0;
    const ex = new MeshExtractor(volume);
    for (let k = 0; k < ex.slabs; k++) {
      const t = performance.now();
      ex.processSlab(k);
      meshMs += performance.now() - t;
      if ((k + 1) % this.#slabsPerYield === 0) {
        await yieldToLoop();
        throwIfAborted(signal, "reconstruction");
      }
    }
    const t = performance.now();
    const mesh = ex.finish();
    meshMs += performance.now() - t;
    if (mesh.indices.length === 0) {
      throw new ReconstructionError(
        ReconstructionErrorCode.EmptyResult,
        `no surface inside the volume from ${frames.length} frame(s): check depth, poses and volume bounds`,
      );
    }
    return { mesh, volume, integrateMs, meshMs };
  }
}
