/**
 * ffmpeg command lines of the pipeline (pure functions, so tests can read them):
 * where the 2D picture lands in each equirectangular rung, the `-filter_complex` graph
 * (constant frame rate → split → per rung: scale, reproject, pad), libx264 settings that
 * put a keyframe at every segment boundary of every rendition, and the HLS muxer options.
 *
 * Projection. The 2D video is a flat screen in front of the viewer: centred on yaw 0 /
 * pitch 0 (the centre of the equirectangular frame), `fovDeg` wide, as tall as its aspect
 * gives (rectilinear, square pixels). With `mapping: "flat"` each rung runs ffmpeg's
 * `v360` (`input=flat` → `output=equirect`) over just the angular window the screen
 * covers (`h_fov`/`v_fov` on the output), then pads that window into the full 2:1 frame
 * with black. Reprojecting the window instead of the whole sphere keeps v360's remap
 * tables (about 24 bytes a pixel with bilinear taps) at a few percent of an 8K frame. A
 * flat screen seen on the sphere is barrel shaped, so the window's corners lie outside the
 * picture; v360 fills those with zeros, which in YUV is green/purple, not black. So the
 * picture is first padded with black bands above and below (to cover the corners, the
 * canvas needs tan(vfov/2)/cos(hfov/2) of half-height) and v360 is told that taller FOV.
 * The picture is pre-scaled so that it meets the sphere at about one source pixel per
 * output pixel at the centre (width = W·tan(hfov/2)/π), which leaves v360's bilinear
 * taps no aliasing to do when a rung is much smaller than the source.
 */
import type { VideoRung } from "../../../shared/video-ladder.ts";
import type { ProjectionMapping, SegmentFormat, X264Preset } from "../../config-video.ts";

/** Where the picture lands in one rung; px unless named otherwise. */
export interface Placement {
  /** The picture after scaling. */
  readonly contentWidth: number;
  readonly contentHeight: number;
  /** The picture's canvas height with its black bands (flat mapping; else = content). */
  readonly canvasHeight: number;
  /** FOV of the padded canvas as v360's input, degrees. */
  readonly inputHFovDeg: number;
  readonly inputVFovDeg: number;
  /** Angular window on the sphere the picture spans, degrees. */
  readonly hFovDeg: number;
  readonly vFovDeg: number;
  /** The window in the rung's frame. */
  readonly windowWidth: number;
  readonly windowHeight: number;
  /** Top-left corner of the window in the rung's frame. */
  readonly x: number;
  readonly y: number;
}

/** The tallest the picture may be on the sphere, degrees (a wider FOV is reduced to fit). */
export const MAX_VERTICAL_FOV_DEG = 150;

const even = (v: number) => Math.max(2, 2 * Math.round(v / 2));
/**
 * A size near `target` inside `frame` whose margin `frame - size` is a multiple of 4, so
 * the centred offset is even (yuv420p chroma) and the centring exact.
 */
const centredSize = (frame: number, target: number) =>
  Math.min(frame, Math.max(4 - (frame % 4), frame - 4 * Math.round((frame - target) / 4)));
const rad = (deg: number) => (deg * Math.PI) / 180;
const deg = (r: number) => (r * 180) / Math.PI;

/** Horizontal and vertical FOV of a `width`×`height` picture spanning `fovDeg`, degrees. */
export function pictureFov(
  source: { width: number; height: number },
  fovDeg: number,
): { hFovDeg: number; vFovDeg: number } {
  const aspect = source.height / source.width;
  let h = rad(fovDeg);
  let v = 2 * Math.atan(Math.tan(h / 2) * aspect);
  if (v > rad(MAX_VERTICAL_FOV_DEG)) {
    v = rad(MAX_VERTICAL_FOV_DEG);
    h = 2 * Math.atan(Math.tan(v / 2) / aspect);
  }
  return { hFovDeg: deg(h), vFovDeg: deg(v) };
}

/** Computes where a `source`-sized picture lands in `rung`. */
export function placement(
  rung: Pick<VideoRung, "width" | "height">,
  source: { width: number; height: number },
  fovDeg: number,
  mapping: ProjectionMapping,
): Placement {
  const W = rung.width;
  const H = rung.height;
  const fov = pictureFov(source, fovDeg);
  const windowWidth = centredSize(W, (W * fov.hFovDeg) / 360);
  const windowHeight = centredSize(H, (H * fov.vFovDeg) / 180);
  // The exact angles of the rounded window, so the picture is not stretched by rounding.
  const hFovDeg = (windowWidth * 360) / W;
  const vFovDeg = (windowHeight * 180) / H;
  const x = (W - windowWidth) / 2;
  const y = (H - windowHeight) / 2;
  if (mapping === "pad") {
    return {
      contentWidth: windowWidth,
      contentHeight: windowHeight,
      canvasHeight: windowHeight,
      inputHFovDeg: hFovDeg,
      inputVFovDeg: vFovDeg,
      hFovDeg,
      vFovDeg,
      windowWidth,
      windowHeight,
      x,
      y,
    };
  }
  const h = rad(hFovDeg);
  const v = rad(vFovDeg);
  const contentWidth = even((W * Math.tan(h / 2)) / Math.PI);
  const contentHeight = even((contentWidth * Math.tan(v / 2)) / Math.tan(h / 2));
  // Corners of the window: longitude h/2, latitude v/2 → flat y = tan(v/2)/cos(h/2).
  // Bands of a multiple of 2 px each (yuv420p) and a few px of margin.
  const bands = 4 * Math.ceil((contentHeight / Math.cos(h / 2) - contentHeight + 4) / 4);
  const canvasHeight = contentHeight + bands;
  const inputVFov = 2 * Math.atan((Math.tan(v / 2) * canvasHeight) / contentHeight);
  return {
    contentWidth,
    contentHeight,
    canvasHeight,
    inputHFovDeg: hFovDeg,
    inputVFovDeg: deg(inputVFov),
    hFovDeg,
    vFovDeg,
    windowWidth,
    windowHeight,
    x,
    y,
  };
}

const f4 = (v: number) => v.toFixed(4);

/** The filter chain that turns one split branch into a rung's full equirectangular frame. */
export function rungFilter(rung: VideoRung, p: Placement, mapping: ProjectionMapping): string {
  const steps = [`scale=${p.contentWidth}:${p.contentHeight}:flags=bicubic`];
  if (mapping === "flat") {
    steps.push(
      `pad=${p.contentWidth}:${p.canvasHeight}:0:${(p.canvasHeight - p.contentHeight) / 2}:black`,
      `v360=input=flat:output=equirect:ih_fov=${f4(p.inputHFovDeg)}:iv_fov=${f4(p.inputVFovDeg)}` +
        `:h_fov=${f4(p.hFovDeg)}:v_fov=${f4(p.vFovDeg)}:w=${p.windowWidth}:h=${p.windowHeight}:interp=linear`,
    );
  }
  steps.push(`pad=${rung.width}:${rung.height}:${p.x}:${p.y}:black`, "setsar=1");
  return steps.join(",");
}

/** The output frame rate for a source rate: the source's, capped, as an ffmpeg rational. */
export function outputFps(sourceFps: number, maxFps: number): { value: number; expr: string } {
  const fps = Math.min(sourceFps, maxFps);
  // NTSC rates (29.97, 59.94, 23.976) stay exact so no frame is dropped or repeated.
  const ntsc = Math.round(fps * 1.001);
  if (Math.abs(fps - (ntsc * 1000) / 1001) < 0.005 && Math.abs(fps - ntsc) > 0.01) {
    return { value: (ntsc * 1000) / 1001, expr: `${ntsc * 1000}/1001` };
  }
  const rounded = Math.round(fps * 1000) / 1000;
  return { value: rounded, expr: String(rounded) };
}

/** Builds `-filter_complex`: `[0:v:0]` → CFR yuv420p → split → `[v0]…[vN-1]`. */
export function ladderFilterGraph(
  rungs: readonly VideoRung[],
  source: { width: number; height: number },
  options: { fpsExpr: string; fovDeg: number; mapping: ProjectionMapping; input?: string },
): string {
  const input = options.input ?? "[0:v:0]";
  const branches = rungs.map((_, i) => `[s${i}]`).join("");
  const parts = [`${input}fps=${options.fpsExpr},format=yuv420p,split=${rungs.length}${branches}`];
  rungs.forEach((rung, i) => {
    const p = placement(rung, source, options.fovDeg, options.mapping);
    parts.push(`[s${i}]${rungFilter(rung, p, options.mapping)}[v${i}]`);
  });
  return parts.join(";");
}

/** Encoder and muxer settings shared by VOD and live. */
export interface EncodeSettings {
  readonly preset: X264Preset;
  readonly crf: number;
  readonly fps: number;
  readonly segmentDurationS: number;
  readonly segmentFormat: SegmentFormat;
  /** AAC bitrate, bit/s; null for no audio. */
  readonly audioBitrateBps: number | null;
  /** `-tune zerolatency` (live). */
  readonly zeroLatency?: boolean;
}

/** File names inside a rendition's folder. */
export const SEGMENT_PATTERN = { fmp4: "seg_%05d.m4s", mpegts: "seg_%05d.ts" } as const;
export const INIT_SEGMENT = "init.mp4";
export const MEDIA_PLAYLIST = "index.m3u8";
export const MASTER_PLAYLIST = "master.m3u8";

/** Keyframe interval, frames: one GOP per segment. */
export function keyint(fps: number, segmentDurationS: number): number {
  return Math.max(1, Math.round(fps * segmentDurationS));
}

/**
 * libx264 options of one output stream: CRF capped at the rung's bitrate (VBV buffer of
 * 2 s of it), a keyframe exactly at every segment boundary (forced by time, so the
 * renditions cut at the same instants) and none elsewhere (no scene-cut keyframes, closed
 * GOPs) — what lets a player switch renditions at any segment boundary.
 */
export function videoEncodeArgs(rung: VideoRung, s: EncodeSettings): string[] {
  const k = keyint(s.fps, s.segmentDurationS);
  const args = [
    "-c:v",
    "libx264",
    "-preset",
    s.preset,
    ...(s.zeroLatency ? ["-tune", "zerolatency"] : []),
    "-profile:v",
    "high",
    "-pix_fmt",
    "yuv420p",
    "-crf",
    String(s.crf),
    "-maxrate",
    String(Math.round(rung.bitrateBps)),
    "-bufsize",
    String(Math.round(2 * rung.bitrateBps)),
    "-g",
    String(k),
    "-keyint_min",
    String(k),
    "-sc_threshold",
    "0",
    "-force_key_frames",
    `expr:gte(t,n_forced*${s.segmentDurationS})`,
  ];
  return args;
}

/** HLS muxer options of one rendition folder. */
export function hlsArgs(
  dir: string,
  s: Pick<EncodeSettings, "segmentDurationS" | "segmentFormat">,
  mode: { kind: "vod" } | { kind: "live"; windowSegments: number },
): string[] {
  const flags = ["independent_segments"];
  const args = ["-f", "hls", "-hls_time", String(s.segmentDurationS)];
  if (mode.kind === "vod") {
    args.push("-hls_playlist_type", "vod", "-hls_list_size", "0");
  } else {
    // Sliding window; segments leave the disk as they leave the playlist, and are
    // written under a temporary name first so a half-written one is never served.
    args.push("-hls_list_size", String(mode.windowSegments));
    flags.push("delete_segments", "temp_file", "program_date_time");
  }
  if (s.segmentFormat === "fmp4") {
    args.push("-hls_segment_type", "fmp4", "-hls_fmp4_init_filename", INIT_SEGMENT);
  } else {
    args.push("-hls_segment_type", "mpegts");
  }
  args.push(
    "-hls_flags",
    flags.join("+"),
    "-hls_segment_filename",
    `${dir}/${SEGMENT_PATTERN[s.segmentFormat]}`,
    `${dir}/${MEDIA_PLAYLIST}`,
  );
  return args;
}

/** `[option, n]` for a thread count above 0, else nothing (ffmpeg picks). */
function threads(n: number | undefined, option: string): string[] {
  return n !== undefined && n > 0 ? [option, String(n)] : [];
}

/** Everything one VOD transcode needs to build its command line. */
export interface TranscodeArgsInput {
  readonly input: string;
  /** Folder that receives `<rung>/index.m3u8` etc. (the rung folders must exist). */
  readonly outDir: string;
  readonly rungs: readonly VideoRung[];
  readonly source: { width: number; height: number; fps: number; hasAudio: boolean };
  readonly maxFps: number;
  readonly fovDeg: number;
  readonly mapping: ProjectionMapping;
  readonly preset: X264Preset;
  readonly crf: number;
  readonly segmentDurationS: number;
  readonly segmentFormat: SegmentFormat;
  /** AAC bitrate, bit/s, or null to drop audio. */
  readonly audioBitrateBps: number | null;
  /** Threads for the decoder, the filters and each encoder; 0 or absent: ffmpeg's choice. */
  readonly threads?: number;
}

/** The full ffmpeg argument list of a VOD encode (one process, each of `rungs` an HLS output). */
export function transcodeArgs(t: TranscodeArgsInput): { args: string[]; fps: number } {
  const fps = outputFps(t.source.fps, t.maxFps);
  const graph = ladderFilterGraph(t.rungs, t.source, {
    fpsExpr: fps.expr,
    fovDeg: t.fovDeg,
    mapping: t.mapping,
  });
  const audio = t.source.hasAudio && t.audioBitrateBps !== null ? t.audioBitrateBps : null;
  const settings: EncodeSettings = {
    preset: t.preset,
    crf: t.crf,
    fps: fps.value,
    segmentDurationS: t.segmentDurationS,
    segmentFormat: t.segmentFormat,
    audioBitrateBps: audio,
  };
  const args = [
    "-hide_banner",
    "-nostdin",
    "-y",
    "-v",
    "warning",
    "-nostats",
    "-progress",
    "pipe:1",
    ...threads(t.threads, "-filter_threads"),
    ...threads(t.threads, "-threads"),
    "-i",
    t.input,
    "-filter_complex",
    graph,
  ];
  t.rungs.forEach((rung, i) => {
    args.push("-map", `[v${i}]`);
    if (audio !== null) args.push("-map", "0:a:0");
    args.push(...videoEncodeArgs(rung, settings), ...threads(t.threads, "-threads"));
    if (audio !== null) args.push("-c:a", "aac", "-b:a", String(audio), "-ac", "2");
    args.push(
      "-map_metadata",
      "-1",
      "-map_chapters",
      "-1",
      "-max_muxing_queue_size",
      "1024",
      ...hlsArgs(`${t.outDir}/${rung.name}`, settings, { kind: "vod" }),
    );
  });
  return { args, fps: fps.value };
}
