/**
 * The reconstruction aGF agent as the controller consults it: for a scene (the 360° video
 * the pipeline transcoded and the 3D asset it reconstructed), what each resolution costs a
 * headset. Bitrates are the pipeline's measured peaks (HLS `BANDWIDTH`, from the segment
 * sizes it wrote) when the scene has a stream, else the product ladder's nominal ones; the
 * start-up cost adds the asset download to a start-up buffer of video (see
 * server/media/reconstruction/traffic.ts). The reconstruction itself (RGB-D → TSDF → mesh →
 * GLB, or an SF3D service) runs as HTTP jobs (server/http/reconstruction-routes.ts).
 */
import { DEFAULT_LADDER, type Rung } from "../net/allocation.ts";
import { trafficPerResolution } from "../media/reconstruction/traffic.ts";
import {
  AgentLayer,
  Capability,
  type AgentInfo,
  type SceneVideo,
  type VideoTrafficEstimator,
  type VideoTrafficReport,
} from "./agent.ts";

export interface ReconstructionAgentOptions {
  /** Backend label for the agent panel, e.g. `cpu-tsdf` or `cpu-tsdf + sf3d@http://sf3d:8000`. */
  backend: string;
  /** Ladder used when a scene has no stream yet (default {@link DEFAULT_LADDER}). */
  ladder?: readonly Rung[];
  /** Video a player buffers before it starts, s (default 2). */
  startupBufferS?: number;
}

export class ReconstructionAgent implements VideoTrafficEstimator {
  readonly info: AgentInfo;
  readonly #ladder: readonly Rung[];
  readonly #bufferS: number;

  constructor(options: ReconstructionAgentOptions) {
    this.info = {
      id: "reconstruction",
      layer: AgentLayer.Application,
      capabilities: [Capability.VideoTraffic],
      model: options.backend,
    };
    this.#ladder = options.ladder ?? DEFAULT_LADDER;
    this.#bufferS = options.startupBufferS ?? 2;
  }

  videoTraffic(scene: SceneVideo): Promise<VideoTrafficReport> {
    const measured = scene.renditions.filter(
      (r) => Number.isFinite(r.bitrateBps) && r.bitrateBps > 0,
    );
    const ladder = measured.length > 0 ? measured : this.#ladder;
    const assetBytes = Number.isFinite(scene.assetBytes) ? Math.max(0, scene.assetBytes) : 0;
    const report = trafficPerResolution(ladder, {
      assetBytes,
      startupBufferS: this.#bufferS,
    });
    return Promise.resolve({
      rungs: report.rungs.map((r) => ({
        name: r.name,
        bitrateBps: r.bitrateBps,
        startupBytes: r.startupBytes,
      })),
      basis: measured.length > 0 ? "measured" : "nominal",
    });
  }
}
