/**
 * Model weights on disk: a folder with `model.json` (a manifest: model kind, config,
 * training metadata, and each tensor's name, shape, encoding and byte range) and
 * `weights.bin` (the tensors back to back). Tensors can be stored as float32, float16
 * (IEEE half, round to nearest even) or uint8 (affine: `min + q · scale`, per tensor) for
 * edge deployment; loading always gives float32 tensors.
 */
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { tf } from "./backend.ts";

export type WeightEncoding = "float32" | "float16" | "uint8";

/** Named float32 parameters of a model. */
export type NamedTensors = Record<string, tf.Tensor>;

const Entry = z.object({
  name: z.string().min(1),
  shape: z.array(z.number().int().nonnegative()),
  encoding: z.enum(["float32", "float16", "uint8"]),
  offset: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  min: z.number().optional(),
  scale: z.number().optional(),
});

const Manifest = z.object({
  format: z.literal("agenttwin-weights/1"),
  kind: z.string().min(1),
  config: z.record(z.string(), z.unknown()),
  metadata: z.record(z.string(), z.unknown()).default({}),
  tensors: z.array(Entry),
});
export type WeightsManifest = z.infer<typeof Manifest>;

/** A model file that is missing, corrupt or of another kind. */
export class WeightsError extends Error {
  constructor(
    readonly dir: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`${dir}: ${message}`, options);
    this.name = "WeightsError";
  }
}

/**
 * Writes `tensors` into `dir` (created if missing; files replaced atomically).
 * @returns total bytes of `weights.bin`
 */
export async function saveWeights(
  dir: string,
  kind: string,
  config: Record<string, unknown>,
  tensors: NamedTensors,
  options: { encoding?: WeightEncoding; metadata?: Record<string, unknown> } = {},
): Promise<number> {
  const encoding = options.encoding ?? "float32";
  const parts: Uint8Array[] = [];
  const entries: z.infer<typeof Entry>[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const values = t.dataSync() as Float32Array;
    const { bytes, min, scale } = encode(values, encoding);
    entries.push({
      name,
      shape: t.shape,
      encoding,
      offset,
      bytes: bytes.length,
      ...(min !== undefined && { min, scale }),
    });
    parts.push(bytes);
    offset += bytes.length;
    // Keep every tensor 4-byte aligned so float32 views need no copy.
    const pad = (4 - (offset % 4)) % 4;
    if (pad) {
      parts.push(new Uint8Array(pad));
      offset += pad;
    }
  }
  const manifest: WeightsManifest = {
    format: "agenttwin-weights/1",
    kind,
    config,
    metadata: options.metadata ?? {},
    tensors: entries,
  };
  await mkdir(dir, { recursive: true });
  const bin = Buffer.concat(parts);
  await writeFile(join(dir, "weights.bin.tmp"), bin);
  await writeFile(join(dir, "model.json.tmp"), `${JSON.stringify(manifest, null, 1)}\n`);
  await rename(join(dir, "weights.bin.tmp"), join(dir, "weights.bin"));
  await rename(join(dir, "model.json.tmp"), join(dir, "model.json"));
  return bin.length;
}

/** Reads a model folder; checks the kind. @throws WeightsError */
export async function loadWeights(
  dir: string,
  kind: string,
): Promise<{ manifest: WeightsManifest; tensors: NamedTensors }> {
  let manifest: WeightsManifest;
  let bin: Buffer;
  try {
    const parsed = Manifest.safeParse(JSON.parse(await readFile(join(dir, "model.json"), "utf8")));
    if (!parsed.success)
      throw new WeightsError(dir, "model.json is not a weights manifest", { cause: parsed.error });
    manifest = parsed.data;
    bin = await readFile(join(dir, "weights.bin"));
  } catch (err) {
    if (err instanceof WeightsError) throw err;
    throw new WeightsError(dir, "cannot read the model files", { cause: err });
  }
  if (manifest.kind !== kind)
    throw new WeightsError(dir, `holds a ${manifest.kind} model, not ${kind}`);
  const tensors: NamedTensors = {};
  for (const e of manifest.tensors) {
    if (e.offset + e.bytes > bin.length)
      throw new WeightsError(dir, `tensor ${e.name} runs past weights.bin`);
    const size = e.shape.reduce((a, b) => a * b, 1);
    const raw = new Uint8Array(bin.buffer, bin.byteOffset + e.offset, e.bytes);
    const values = decode(raw, e.encoding, size, e.min ?? 0, e.scale ?? 1);
    if (values.length !== size)
      throw new WeightsError(
        dir,
        `tensor ${e.name} has ${values.length} values, shape needs ${size}`,
      );
    tensors[e.name] = tf.tensor(values, e.shape, "float32");
  }
  return { manifest, tensors };
}

function encode(
  values: Float32Array,
  encoding: WeightEncoding,
): { bytes: Uint8Array; min?: number; scale?: number } {
  if (encoding === "float32")
    return {
      bytes: new Uint8Array(
        values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength),
      ),
    };
  if (encoding === "float16") {
    const out = new Uint16Array(values.length);
    for (let i = 0; i < values.length; i++) out[i] = toHalf(values[i] as number);
    return { bytes: new Uint8Array(out.buffer) };
  }
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (!Number.isFinite(min)) [min, max] = [0, 0];
  const scale = max > min ? (max - min) / 255 : 1;
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++)
    out[i] = Math.round(((values[i] as number) - min) / scale);
  return { bytes: out, min, scale };
}

function decode(
  raw: Uint8Array,
  encoding: WeightEncoding,
  size: number,
  min: number,
  scale: number,
): Float32Array {
  if (encoding === "float32") return new Float32Array(raw.slice().buffer, 0, raw.length / 4);
  if (encoding === "float16") {
    const half = new Uint16Array(raw.slice().buffer, 0, raw.length / 2);
    const out = new Float32Array(half.length);
    for (let i = 0; i < half.length; i++) out[i] = fromHalf(half[i] as number);
    return out;
  }
  const out = new Float32Array(Math.min(size, raw.length));
  for (let i = 0; i < out.length; i++) out[i] = min + (raw[i] as number) * scale;
  return out;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float32 → IEEE 754 half bits, round to nearest even; overflow → ±Inf, NaN kept. */
export function toHalf(v: number): number {
  f32[0] = v;
  const x = u32[0] as number;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >> shift;
    const rest = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rest > mid || (rest === mid && half & 1)) half += 1;
    return sign | half;
  }
  let half = (e << 10) | (mant >> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half += 1;
  e = half >> 10;
  return sign | (e >= 0x1f ? 0x7c00 : half);
}

/** IEEE 754 half bits → number. */
export function fromHalf(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? Number.NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}
