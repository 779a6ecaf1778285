/**
 * The RGB-D upload format of `POST /media/scenes` (`Content-Type: application/x-agenttwin-rgbd`),
 * a compact binary container that a capture client writes in one pass:
 *
 *   offset 0    8 bytes   magic "ATRGBD1\n"
 *   offset 8    4 bytes   header length H, unsigned little-endian (≤ 1 MiB)
 *   offset 12   H bytes   header, UTF-8 JSON (see {@link UploadHeader})
 *   then, for each frame of the header, in order:
 *               width·height·3 bytes   colour, sRGB R G B, row-major
 *               width·height·4 bytes   depth, float32 little-endian metres   (depthEncoding "float32")
 *            or width·height·2 bytes   depth, uint16 little-endian millimetres ("uint16mm", as
 *                                      RealSense/Kinect deliver it)
 *   and nothing after the last frame.
 *
 * Depth 0 marks an invalid pixel. Intrinsics, poses and frames are as in `reconstructor.ts`
 * (optical camera frame, camera → `world` poses, z up, metres).
 *
 * {@link RgbdUploadParser} reads the container as it streams in: once the header is in, the
 * total size is known, so an upload that would exceed the limit is refused before its pixels
 * arrive, and pixel bytes are copied straight into the frames' typed arrays (no second copy).
 */
import { z } from "zod";
import {
  DEFAULT_LIMITS,
  validateFrames,
  type ReconstructionLimits,
  type RgbdFrame,
  type VolumeSpec,
} from "./reconstructor.ts";
import { volumeDims } from "./tsdf.ts";

/** Content type of the container. */
export const RGBD_CONTENT_TYPE = "application/x-agenttwin-rgbd";

const MAGIC = new TextEncoder().encode("ATRGBD1\n");
const PREAMBLE_BYTES = 12;
/** Float32 depth is copied byte for byte into a Float32Array: right as is on little-endian hosts. */
const HOST_LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;
/** Largest header accepted, bytes. */
export const MAX_HEADER_BYTES = 1 << 20;

const num = z.number().finite();
const vec3 = z.strictObject({ x: num, y: num, z: num });
const FrameHeader = z.strictObject({
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  intrinsics: z.strictObject({ fx: num, fy: num, cx: num, cy: num }),
  pose: z.strictObject({
    position: vec3,
    orientation: z.strictObject({ x: num, y: num, z: num, w: num }),
  }),
});

/** Schema of the JSON header. */
export const UploadHeader = z.strictObject({
  depthEncoding: z.enum(["float32", "uint16mm"]).default("float32"),
  /** Optional fusion volume (`world`, metres); the server's default otherwise. */
  volume: z
    .strictObject({
      bounds: z.strictObject({ min: vec3, max: vec3 }),
      voxelSizeM: z.number().positive(),
    })
    .optional(),
  frames: z.array(FrameHeader).max(10_000),
});
export type UploadHeader = z.infer<typeof UploadHeader>;

/** A refused upload: `status` is the HTTP status to answer with. */
export class UploadError extends Error {
  readonly code: "bad_upload" | "too_large";
  readonly status: 400 | 413;
  constructor(code: "bad_upload" | "too_large", message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "UploadError";
    this.code = code;
    this.status = code === "too_large" ? 413 : 400;
  }
}

/** A parsed upload. */
export interface ParsedUpload {
  readonly frames: RgbdFrame[];
  readonly volume?: VolumeSpec;
}

/** Limits of the parser. */
export interface UploadLimits extends ReconstructionLimits {
  /** Largest container, bytes. */
  readonly maxUploadBytes: number;
}

/** Incremental parser: {@link push} the body's chunks in order, then {@link finish}. */
export class RgbdUploadParser {
  readonly #limits: UploadLimits;
  #preamble = new Uint8Array(PREAMBLE_BYTES);
  #header: Uint8Array | null = null;
  #got = 0;
  #received = 0;
  #expected = Infinity;
  /** Byte targets after the header, filled in order. */
  #targets: Uint8Array[] = [];
  #target = 0;
  #targetOffset = 0;
  #frames: { frame: RgbdFrame; depthRaw: Uint8Array; encoding: "float32" | "uint16mm" }[] = [];
  #volume: VolumeSpec | undefined;

  constructor(limits: Partial<UploadLimits> & { readonly maxUploadBytes: number }) {
    this.#limits = { ...DEFAULT_LIMITS, ...limits };
  }

  /** Bytes received so far. */
  get received(): number {
    return this.#received;
  }

  /** Total size the header announces (Infinity until the header is in). */
  get expectedBytes(): number {
    return this.#expected;
  }

  /**
   * Consumes the next chunk.
   * @throws UploadError `too_large` (limit passed or announced) or `bad_upload`;
   *   ReconstructionError for frames that cannot be reconstructed (dimensions, intrinsics,
   *   poses, frame count, volume)
   */
  push(chunk: Uint8Array): void {
    this.#received += chunk.byteLength;
    if (this.#received > this.#limits.maxUploadBytes) {
      throw new UploadError(
        "too_large",
        `upload exceeds the limit of ${this.#limits.maxUploadBytes} bytes`,
      );
    }
    if (this.#received > this.#expected) {
      throw new UploadError(
        "bad_upload",
        `bytes after the last frame (expected ${this.#expected})`,
      );
    }
    let off = 0;
    while (off < chunk.byteLength) {
      if (this.#header === null) {
        const n = Math.min(PREAMBLE_BYTES - this.#got, chunk.byteLength - off);
        this.#preamble.set(chunk.subarray(off, off + n), this.#got);
        this.#got += n;
        off += n;
        if (this.#got === PREAMBLE_BYTES) this.#startHeader();
        continue;
      }
      if (this.#targets.length === 0) {
        const n = Math.min(this.#header.byteLength - this.#got, chunk.byteLength - off);
        this.#header.set(chunk.subarray(off, off + n), this.#got);
        this.#got += n;
        off += n;
        if (this.#got === this.#header.byteLength) this.#parseHeader();
        continue;
      }
      const target = this.#targets[this.#target]!;
      const n = Math.min(target.byteLength - this.#targetOffset, chunk.byteLength - off);
      target.set(chunk.subarray(off, off + n), this.#targetOffset);
      this.#targetOffset += n;
      off += n;
      if (this.#targetOffset === target.byteLength) {
        this.#target++;
        this.#targetOffset = 0;
      }
    }
  }

  /**
   * The frames, once every byte is in.
   * @throws UploadError `bad_upload` for a truncated container
   */
  finish(): ParsedUpload {
    if (this.#received !== this.#expected) {
      const expected = Number.isFinite(this.#expected) ? `${this.#expected}` : "a complete header";
      throw new UploadError(
        "bad_upload",
        `upload truncated: got ${this.#received} bytes, expected ${expected}`,
      );
    }
    const frames = this.#frames.map(({ frame, depthRaw, encoding }) => {
      const depth = frame.depthM as Float32Array;
      const view = new DataView(depthRaw.buffer, depthRaw.byteOffset, depthRaw.byteLength);
      if (encoding === "uint16mm") {
        for (let p = 0; p < depth.length; p++) depth[p] = view.getUint16(p * 2, true) / 1000;
      } else if (!HOST_LITTLE_ENDIAN) {
        for (let p = 0; p < depth.length; p++) depth[p] = view.getFloat32(p * 4, true);
      }
      return frame;
    });
    return { frames, ...(this.#volume && { volume: this.#volume }) };
  }

  #startHeader(): void {
    if (MAGIC.some((b, i) => this.#preamble[i] !== b)) {
      throw new UploadError("bad_upload", 'not an RGB-D upload (magic "ATRGBD1\\n" missing)');
    }
    const length = new DataView(this.#preamble.buffer).getUint32(8, true);
    if (length === 0 || length > MAX_HEADER_BYTES) {
      throw new UploadError("bad_upload", `header length ${length} is not 1…${MAX_HEADER_BYTES}`);
    }
    this.#header = new Uint8Array(length);
    this.#got = 0;
  }

  #parseHeader(): void {
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(this.#header!));
    } catch (err) {
      throw new UploadError("bad_upload", "header is not UTF-8 JSON", { cause: err });
    }
    const parsed = UploadHeader.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.length ? issue.path.join(".") : "header";
      throw new UploadError("bad_upload", `${where}: ${issue?.message ?? "invalid"}`, {
        cause: parsed.error,
      });
    }
    const header = parsed.data;
    if (header.volume) volumeDims(header.volume, this.#limits.maxVoxels);
    const depthBytes = header.depthEncoding === "uint16mm" ? 2 : 4;
    // Dimensions and limits first, so no buffer is allocated for a frame that will be refused.
    validateFrames(
      header.frames.map((f) => ({
        ...f,
        rgb: { length: f.width * f.height * 3 },
        depthM: { length: f.width * f.height },
      })),
      this.#limits,
    );
    let total = PREAMBLE_BYTES + this.#header!.byteLength;
    for (const f of header.frames) total += f.width * f.height * (3 + depthBytes);
    if (total > this.#limits.maxUploadBytes) {
      throw new UploadError(
        "too_large",
        `upload of ${total} bytes (by its header) exceeds the limit of ${this.#limits.maxUploadBytes}`,
      );
    }
    this.#expected = total;
    if (this.#received > total) {
      throw new UploadError("bad_upload", `bytes after the last frame (expected ${total})`);
    }
    for (const f of header.frames) {
      const n = f.width * f.height;
      const rgb = new Uint8Array(n * 3);
      const depthM = new Float32Array(n);
      const depthRaw = depthBytes === 4 ? new Uint8Array(depthM.buffer) : new Uint8Array(n * 2);
      this.#targets.push(rgb, depthRaw);
      this.#frames.push({ frame: { ...f, rgb, depthM }, depthRaw, encoding: header.depthEncoding });
    }
    if (header.volume) this.#volume = header.volume;
    if (this.#targets.length === 0) this.#targets.push(new Uint8Array(0));
  }
}

/**
 * Writes frames as an upload container (for capture clients, tests and the benchmark).
 * `uint16mm` rounds depth to millimetres (values beyond 65.535 m become invalid).
 */
export function encodeRgbdUpload(
  frames: readonly RgbdFrame[],
  options: { depthEncoding?: "float32" | "uint16mm"; volume?: VolumeSpec } = {},
): Uint8Array {
  const encoding = options.depthEncoding ?? "float32";
  const header = new TextEncoder().encode(
    JSON.stringify({
      depthEncoding: encoding,
      ...(options.volume && { volume: options.volume }),
      frames: frames.map((f) => ({
        width: f.width,
        height: f.height,
        intrinsics: f.intrinsics,
        pose: f.pose,
      })),
    }),
  );
  const depthBytes = encoding === "uint16mm" ? 2 : 4;
  let total = PREAMBLE_BYTES + header.byteLength;
  for (const f of frames) total += f.rgb.byteLength + f.depthM.length * depthBytes;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  view.setUint32(8, header.byteLength, true);
  out.set(header, PREAMBLE_BYTES);
  let off = PREAMBLE_BYTES + header.byteLength;
  for (const f of frames) {
    out.set(f.rgb, off);
    off += f.rgb.byteLength;
    for (let p = 0; p < f.depthM.length; p++, off += depthBytes) {
      const d = f.depthM[p]!;
      if (encoding === "float32") view.setFloat32(off, d, true);
      else {
        const mm = Math.round(d * 1000);
        view.setUint16(off, d > 0 && mm <= 0xffff ? mm : 0, true);
      }
    }
  }
  return out;
}
