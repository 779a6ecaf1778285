/**
 * Which rungs a clip gets (never one above the source's pixels per degree) and how a job's
 * progress is read from ffmpeg's `-progress` lines, weighted over rungs encoded in turn.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { VIDEO_LADDER } from "../../shared/video-ladder.ts";
import { LadderProgress, parseProgressLine } from "../../server/media/video/ffmpeg-progress.ts";
import { placement } from "../../server/media/video/ffmpeg-args.ts";
import { selectRungs, sourcePixelsPerDegree } from "../../server/media/video/rung-selection.ts";

const flat90 = { kind: "flat", fovDeg: 90, mapping: "flat" } as const;

describe("rung selection", () => {
  it("gives a 640×360 clip at 90° only the rungs it fills, and says why the rest are gone", () => {
    const s = selectRungs(VIDEO_LADDER, { width: 640, height: 360 }, flat90);
    // 320 px per radian at the centre = 5.59 px/deg; 1080p is 5.33, 1440p 7.11.
    assert.ok(Math.abs(s.sourcePxPerDeg - (320 * Math.PI) / 180) < 1e-9);
    assert.deepEqual(
      s.rungs.map((r) => r.name),
      ["1080p"],
    );
    assert.deepEqual(
      s.skipped.map((r) => [r.name, r.reason]),
      [
        ["1440p", "above_source"],
        ["4k", "above_source"],
        ["6k", "above_source"],
        ["8k", "above_source"],
      ],
    );
    assert.equal(s.capped, null);
    for (const r of s.skipped) assert.ok(r.rungPxPerDeg > s.sourcePxPerDeg);
  });

  it("keeps exactly the rungs whose pre-scaled picture is not larger than the source", () => {
    for (const source of [
      { width: 640, height: 360 },
      { width: 1920, height: 1080 },
      { width: 3840, height: 2160 },
      { width: 1280, height: 960 },
    ]) {
      const kept = new Set(selectRungs(VIDEO_LADDER, source, flat90).rungs.map((r) => r.name));
      for (const rung of VIDEO_LADDER) {
        const scaledUp = placement(rung, source, 90, "flat").contentWidth > source.width * 1.01;
        assert.equal(kept.has(rung.name), !scaledUp, `${source.width}: ${rung.name}`);
      }
    }
  });

  it("keeps every rung for an 8K-class source and the 360° rungs up to an equirectangular one", () => {
    const big = selectRungs(VIDEO_LADDER, { width: 7680, height: 4320 }, flat90);
    assert.equal(big.rungs.length, VIDEO_LADDER.length);
    assert.deepEqual(big.skipped, []);
    const sphere = selectRungs(
      VIDEO_LADDER,
      { width: 3840, height: 1920 },
      {
        kind: "equirectangular",
      },
    );
    assert.deepEqual(
      sphere.rungs.map((r) => r.name),
      ["1080p", "1440p", "4k"],
    );
    assert.equal(
      sourcePixelsPerDegree({ width: 3840, height: 1920 }, { kind: "equirectangular" }),
      3840 / 360,
    );
  });

  it("uses the window width for the pad mapping", () => {
    const pad = { kind: "flat", fovDeg: 90, mapping: "pad" } as const;
    // 640 px over 90° = 7.11 px/deg: 1440p (7.11) is not above it, 4k is.
    assert.deepEqual(
      selectRungs(VIDEO_LADDER, { width: 640, height: 360 }, pad).rungs.map((r) => r.name),
      ["1080p", "1440p"],
    );
  });

  it("keeps the lowest rung, made no larger than the source, when every rung is above it", () => {
    const s = selectRungs(VIDEO_LADDER, { width: 160, height: 90 }, flat90);
    assert.equal(s.rungs.length, 1);
    const [only] = s.rungs;
    assert.equal(only?.name, "1080p");
    assert.ok(only && only.width / 360 <= s.sourcePxPerDeg, "capped at the source");
    assert.equal(only?.width, 2 * (only?.height ?? 0));
    assert.equal((only?.width ?? 1) % 4, 0);
    assert.deepEqual(s.capped && [s.capped.fromWidth, s.capped.reason], [1920, "above_source"]);
    assert.ok((only?.bitrateBps ?? Infinity) < 8e6);
    assert.deepEqual(
      s.skipped.map((r) => r.name),
      ["1440p", "4k", "6k", "8k"],
    );
  });
});

describe("ladder progress from -progress lines", () => {
  it("reads key=value lines", () => {
    assert.deepEqual(parseProgressLine("out_time_us=1500000"), {
      key: "out_time_us",
      value: "1500000",
    });
    assert.equal(parseProgressLine("garbage"), null);
  });

  it("rises within each rung, weighted by pixels, and never reaches 1 before publishing", () => {
    const seen: number[] = [];
    // Weights 1 and 3: the first rung is a quarter of the job.
    const p = new LadderProgress(
      [
        { width: 100, height: 50 },
        { width: 300, height: 50 },
      ],
      4,
      (f) => seen.push(f),
    );
    p.startRung(0);
    p.line("out_time_us=N/A");
    p.line("out_time_us=2000000");
    p.line("progress=continue");
    p.line("progress=end");
    p.startRung(1);
    p.line("out_time_us=2000000");
    p.line("out_time_us=1000000"); // never goes back
    p.line("progress=end");
    assert.deepEqual(seen, [0.125, 0.25, 0.625, 0.99]);
  });
});
