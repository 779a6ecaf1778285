/**
 * The RGB-D upload container (round trip in arbitrary chunks, both depth encodings; every
 * malformed or oversized upload refused with its code) and the traffic-per-resolution report.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_LADDER } from "../../server/net/allocation.ts";
import { ReconstructionError } from "../../server/media/reconstruction/errors.ts";
import {
  orbitPoses,
  renderRgbd,
  SYNTHETIC_SCENES,
} from "../../server/media/reconstruction/synthetic-scenes.ts";
import {
  spatialInformation,
  trafficPerResolution,
} from "../../server/media/reconstruction/traffic.ts";
import {
  encodeRgbdUpload,
  RgbdUploadParser,
  UploadError,
} from "../../server/media/reconstruction/upload-format.ts";
import type { RgbdFrame } from "../../server/media/reconstruction/reconstructor.ts";

const scene = SYNTHETIC_SCENES.twoObjects;
const frames: RgbdFrame[] = orbitPoses(scene, 3).map((p) => renderRgbd(scene, 64, 48, p));

/** Feeds `bytes` in chunks of pseudo-random sizes (1 … 5000 bytes). */
function parse(bytes: Uint8Array, maxUploadBytes = 1 << 24) {
  const parser = new RgbdUploadParser({ maxUploadBytes });
  let off = 0;
  let seed = 7;
  while (off < bytes.length) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const n = 1 + (seed % 5000);
    parser.push(bytes.subarray(off, off + n));
    off += n;
  }
  return parser.finish();
}

function expectUploadError(fn: () => unknown, code: string, message: RegExp) {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof UploadError || err instanceof ReconstructionError, String(err));
    assert.equal(err.code, code, err.message);
    assert.match(err.message, message);
    return true;
  });
}

describe("RGB-D upload container", () => {
  it("round-trips float32 depth exactly, in any chunking", () => {
    const volume = {
      bounds: { min: { x: -1, y: -1, z: -0.1 }, max: { x: 1, y: 1, z: 1 } },
      voxelSizeM: 0.03,
    };
    const out = parse(encodeRgbdUpload(frames, { volume }));
    assert.deepEqual(out.volume, volume);
    assert.equal(out.frames.length, frames.length);
    out.frames.forEach((f, i) => {
      const src = frames[i]!;
      assert.equal(f.width, src.width);
      assert.deepEqual(f.intrinsics, src.intrinsics);
      assert.deepEqual(f.pose, src.pose);
      assert.deepEqual(f.rgb, src.rgb);
      assert.deepEqual(f.depthM, src.depthM);
    });
  });

  it("round-trips uint16 millimetres to within 0.5 mm and is 2/3 the size", () => {
    const f32 = encodeRgbdUpload(frames);
    const u16 = encodeRgbdUpload(frames, { depthEncoding: "uint16mm" });
    assert.ok(u16.length < f32.length * 0.72, `${u16.length} vs ${f32.length}`);
    const out = parse(u16);
    out.frames.forEach((f, i) => {
      const src = frames[i]!.depthM;
      for (let p = 0; p < src.length; p++) {
        assert.ok(Math.abs(f.depthM[p]! - src[p]!) <= 0.0005 + 1e-6, `pixel ${p}`);
      }
    });
  });

  it("refuses a missing magic, bad JSON, a bad header and a truncated or padded body", () => {
    const good = encodeRgbdUpload(frames);
    const bad = good.slice();
    bad[0] = 0x42;
    expectUploadError(() => parse(bad), "bad_upload", /magic/);
    const header = (json: string) => {
      const h = new TextEncoder().encode(json);
      const b = new Uint8Array(12 + h.length);
      b.set(good.subarray(0, 8));
      new DataView(b.buffer).setUint32(8, h.length, true);
      b.set(h, 12);
      return b;
    };
    expectUploadError(() => parse(header("{not json")), "bad_upload", /JSON/);
    expectUploadError(() => parse(header('{"frames": [{"width": 2}]}')), "bad_upload", /frames\.0/);
    expectUploadError(() => parse(header('{"frames": [], "extra": 1}')), "bad_upload", /header/);
    expectUploadError(() => parse(good.subarray(0, good.length - 1)), "bad_upload", /truncated/);
    const padded = new Uint8Array(good.length + 1);
    padded.set(good);
    expectUploadError(() => parse(padded), "bad_upload", /after the last frame/);
    expectUploadError(() => parse(good.subarray(0, 5)), "bad_upload", /truncated/);
  });

  it("refuses zero frames, NaN-free but bad intrinsics, and too many frames with reconstruction codes", () => {
    expectUploadError(() => parse(encodeRgbdUpload([])), "no_frames", /no frames/);
    const badK = frames.map((f) => ({ ...f, intrinsics: { ...f.intrinsics, fx: 0 } }));
    expectUploadError(() => parse(encodeRgbdUpload(badK)), "bad_intrinsics", /frame 0/);
    const many = Array.from({ length: 65 }, () => frames[0]!);
    expectUploadError(() => parse(encodeRgbdUpload(many)), "too_many_frames", /65 frames/);
  });

  it("refuses an upload over the limit as soon as the header announces it", () => {
    const good = encodeRgbdUpload(frames);
    const parser = new RgbdUploadParser({ maxUploadBytes: good.length - 1 });
    // The preamble and header alone are far below the limit; the announced size is not.
    const headerEnd = 12 + new DataView(good.buffer).getUint32(8, true);
    expectUploadError(() => parser.push(good.subarray(0, headerEnd)), "too_large", /by its header/);
    const raw = new RgbdUploadParser({ maxUploadBytes: 100 });
    expectUploadError(() => raw.push(new Uint8Array(101)), "too_large", /limit of 100/);
  });
});

describe("traffic per resolution", () => {
  it("reports the nominal ladder and the asset as a one-off download", () => {
    const report = trafficPerResolution(DEFAULT_LADDER, { assetBytes: 1_000_000, frames });
    assert.deepEqual(
      report.rungs.map((r) => [r.name, r.bitrateBps]),
      [
        ["1080p", 8e6],
        ["1440p", 14e6],
        ["4k", 25e6],
        ["6k", 45e6],
        ["8k", 80e6],
      ],
    );
    assert.equal(report.basis, "nominal");
    assert.equal(report.assetBytes, 1_000_000);
    // 2 s of 1080p (2 MB) on top of the asset.
    assert.equal(report.rungs[0]!.startupBytes, 3_000_000);
    assert.ok(report.spatialInformation !== null && report.spatialInformation > 0);
  });

  it("applies a calibrated complexity scale and rejects a nonsensical one", () => {
    const report = trafficPerResolution(DEFAULT_LADDER, { complexityScale: 1.5 });
    assert.equal(report.basis, "scaled");
    assert.equal(report.rungs[4]!.bitrateBps, 120e6);
    assert.equal(report.rungs[4]!.nominalBps, 80e6);
    assert.equal(report.spatialInformation, null);
    assert.throws(() => trafficPerResolution(DEFAULT_LADDER, { complexityScale: 0 }), RangeError);
  });

  it("spatial information is 0 for a flat image and grows with detail", () => {
    const flat = { width: 16, height: 16, rgb: new Uint8Array(16 * 16 * 3).fill(128) };
    assert.equal(spatialInformation(flat), 0);
    const stripes = {
      width: 16,
      height: 16,
      rgb: Uint8Array.from({ length: 16 * 16 * 3 }, (_, i) =>
        Math.floor((Math.floor(i / 3) % 16) / 4) % 2 ? 255 : 0,
      ),
    };
    assert.ok(spatialInformation(stripes) > 0);
  });
});
