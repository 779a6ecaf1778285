/**
 * Reconstruction benchmark (one thread, no sockets): the embedded CPU backend on synthetic
 * scenes with known geometry (`server/media/reconstruction/synthetic-scenes.ts`).
 *
 * Figures:
 *  - per frame size (160×120, 320×240, 640×480; 8 views of the two-objects scene): integrate
 *    ms per frame, wall and CPU time (median, p95 over every frame of several passes), mesh
 *    ms, GLB encode ms, Chamfer distance (reported in mm; exact point–surface distances, see
 *    `chamfer.ts`), GLB bytes;
 *  - per number of views (1, 2, 4, 8, 16 at 320×240): Chamfer, accuracy, completeness;
 *  - per scene (sphere, box on a plane, two objects at 320×240 × 8 views), with exact depth
 *    and with sensor-like depth noise (σ = 1.5 mm · z², z in metres);
 *  - the worst case of integration: a frame whose frustum box covers the whole 2 m volume.
 * Target (issue 5): integrating one 320×240 RGB-D frame in under 50 ms on one core.
 *
 * Run alone: `node --import tsx test/bench/reconstruction.bench.ts [--quick]`.
 */
import { parseArgs } from "node:util";
import { chamferToTruth } from "../../server/media/reconstruction/chamfer.ts";
import { CpuReconstructor } from "../../server/media/reconstruction/cpu-reconstructor.ts";
import { encodeGlb } from "../../server/media/reconstruction/glb.ts";
import { extractMesh } from "../../server/media/reconstruction/marching-cubes.ts";
import { DEFAULT_VOLUME, type RgbdFrame } from "../../server/media/reconstruction/reconstructor.ts";
import {
  distanceToSurface,
  lookAt,
  orbitPoses,
  renderRgbd,
  sampleVisibleSurface,
  SYNTHETIC_SCENES,
  type SyntheticScene,
} from "../../server/media/reconstruction/synthetic-scenes.ts";
import { BYTES_PER_VOXEL, TsdfVolume } from "../../server/media/reconstruction/tsdf.ts";
import { summarize } from "./stats.ts";

export interface ReconstructionBenchOptions {
  /** Fewer passes and samples (smoke run, ≈ 15 s instead of ≈ 1 min). */
  readonly quick?: boolean;
}

const round = (v: number, digits = 3) => Number(v.toFixed(digits));
const mm = (m: number) => round(m * 1000, 2);

/** Depth noise of the "noisy" runs: σ at 1 m, metres. */
const NOISE_AT_1M = 0.0015;
const TARGET_MS = 50;

function render(
  scene: SyntheticScene,
  views: number,
  w: number,
  h: number,
  noise = 0,
): RgbdFrame[] {
  return orbitPoses(scene, views).map((p, i) =>
    renderRgbd(scene, w, h, p, { depthNoiseAt1mM: noise, seed: 11 + i }),
  );
}

/**
 * Fuses `frames` `passes` times into fresh volumes (after one untimed pass, so compilation
 * and first-touch page faults are not charged); per-frame times and the last mesh.
 */
function fuse(frames: readonly RgbdFrame[], passes: number) {
  const integrateMs: number[] = [];
  const integrateCpuMs: number[] = [];
  const visited: number[] = [];
  const vol = new TsdfVolume({ volume: DEFAULT_VOLUME });
  for (const f of frames) vol.integrate(f);
  for (let pass = 0; pass < passes; pass++) {
    vol.tsdf.fill(1);
    vol.weight.fill(0);
    vol.color.fill(0);
    for (const f of frames) {
      const c = process.cpuUsage();
      const t = performance.now();
      const s = vol.integrate(f);
      integrateMs.push(performance.now() - t);
      const used = process.cpuUsage(c);
      integrateCpuMs.push((used.user + used.system) / 1000);
      visited.push(s.voxelsVisited);
    }
  }
  const t = performance.now();
  const mesh = extractMesh(vol);
  const meshMs = performance.now() - t;
  return { integrateMs, integrateCpuMs, visited, mesh, meshMs };
}

function quality(
  scene: SyntheticScene,
  frames: readonly RgbdFrame[],
  mesh: ReturnType<typeof extractMesh>,
  samples: number,
) {
  const truth = sampleVisibleSurface(scene, samples, frames);
  const c = chamferToTruth(mesh, truth, (p) => distanceToSurface(scene, p), samples);
  return {
    // Share of the scene's true surface (by area) that the views saw: what Chamfer covers.
    seenFraction: round(truth.length / 3 / samples, 3),
    chamferMm: mm(c.chamferM),
    accuracyMm: mm(c.accuracyM),
    completenessMm: mm(c.completenessM),
    completenessP95Mm: mm(c.completenessP95M),
  };
}

/** Runs the benchmark and returns its figures (JSON-serialisable). */
export async function runReconstructionBench(
  options: ReconstructionBenchOptions = {},
): Promise<Record<string, unknown>> {
  const quick = options.quick ?? false;
  const passes = quick ? 2 : 5;
  const samples = quick ? 5000 : 20_000;
  const main = SYNTHETIC_SCENES.twoObjects;
  const probe = new TsdfVolume({ volume: DEFAULT_VOLUME });
  const volume = {
    voxelSizeM: DEFAULT_VOLUME.voxelSizeM,
    dims: [probe.nx, probe.ny, probe.nz],
    voxels: probe.size,
    megabytes: round((probe.size * BYTES_PER_VOXEL) / 1e6, 1),
    truncationM: probe.truncationM,
  };

  const perFrameSize = [];
  for (const [w, h] of [
    [160, 120],
    [320, 240],
    [640, 480],
  ] as const) {
    const frames = render(main, 8, w, h);
    const { integrateMs, integrateCpuMs, visited, mesh, meshMs } = fuse(frames, passes);
    const t = performance.now();
    const { glb } = await encodeGlb(mesh);
    const encodeMs = performance.now() - t;
    const ms = summarize(integrateMs);
    const cpu = summarize(integrateCpuMs);
    perFrameSize.push({
      size: `${w}x${h}`,
      views: frames.length,
      integrateMsMedian: round(ms.median),
      integrateMsP95: round(ms.p95),
      integrateCpuMsMedian: round(cpu.median),
      integrateCpuMsP95: round(cpu.p95),
      integrateSamples: ms.n,
      voxelsVisitedPerFrame: Math.round(summarize(visited).median),
      meshMs: round(meshMs, 1),
      encodeMs: round(encodeMs, 1),
      vertices: mesh.positions.length / 3,
      triangles: mesh.indices.length / 3,
      glbBytes: glb.byteLength,
      ...quality(main, frames, mesh, samples),
    });
  }

  const perViewCount = [];
  for (const views of quick ? [1, 4, 8] : [1, 2, 4, 8, 16]) {
    const frames = render(main, views, 320, 240);
    const { mesh } = fuse(frames, 1);
    perViewCount.push({ views, ...quality(main, frames, mesh, samples) });
  }

  const perScene = [];
  for (const scene of Object.values(SYNTHETIC_SCENES)) {
    for (const noise of [0, NOISE_AT_1M]) {
      const frames = render(scene, 8, 320, 240, noise);
      const { mesh } = fuse(frames, 1);
      perScene.push({
        scene: scene.name,
        depthNoiseAt1mMm: noise * 1000,
        triangles: mesh.indices.length / 3,
        ...quality(scene, frames, mesh, samples),
      });
    }
  }

  // Worst case: a camera outside the volume looking across it at a floor that fills the
  // box, so the frustum box between the nearest and farthest depth is the whole volume.
  const room: SyntheticScene = {
    name: "room",
    shapes: [
      ...main.shapes.filter((s) => s.kind !== "plane"),
      { kind: "plane", zM: 0, min: { x: -1, y: -1 }, max: { x: 1, y: 1 }, rgb: [120, 120, 110] },
    ],
    target: { x: 0, y: 0, z: 0.2 },
  };
  const wide = renderRgbd(room, 320, 240, lookAt({ x: 1.6, y: 1.6, z: 1.9 }, room.target), {
    hfovDeg: 90,
  });
  const worst = fuse(
    Array.from({ length: quick ? 10 : 40 }, () => wide),
    1,
  );
  const worstMs = summarize(worst.integrateMs);
  const worstCpu = summarize(worst.integrateCpuMs);

  // The whole job through the public API, as the server runs it (320×240 × 8 views).
  const job = await new CpuReconstructor().reconstruct({
    kind: "rgbd",
    frames: render(main, 8, 320, 240),
  });

  const at320 = perFrameSize.find((r) => r.size === "320x240")!;
  return {
    volume,
    perFrameSize,
    perViewCount,
    perScene,
    worstCaseIntegrate320x240: {
      voxelsVisitedPerFrame: Math.round(summarize(worst.visited).median),
      integrateMsMedian: round(worstMs.median),
      integrateMsP95: round(worstMs.p95),
      integrateCpuMsMedian: round(worstCpu.median),
      integrateCpuMsP95: round(worstCpu.p95),
    },
    job320x240x8: {
      integrateMsPerFrame: round(job.stats.integrateMsPerFrame),
      meshMs: round(job.stats.meshMs, 1),
      encodeMs: round(job.stats.encodeMs, 1),
      glbBytes: job.glb.byteLength,
    },
    // CPU time is what "on one core" means; wall time also counts waiting for the core
    // on a shared machine.
    target: {
      integrateMs320x240: TARGET_MS,
      cpuMsP95: at320.integrateCpuMsP95,
      worstCaseCpuMsP95: round(worstCpu.p95),
      met: at320.integrateCpuMsP95 < TARGET_MS && worstCpu.p95 < TARGET_MS,
    },
  };
}

// Run directly: print the JSON.
if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { quick: { type: "boolean", default: false } } });
  const res = await runReconstructionBench({ quick: values.quick ?? false });
  console.log(JSON.stringify(res, null, 2));
}
