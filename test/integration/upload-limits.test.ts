/**
 * Upload bounds over real sockets: reconstruction uploads are capped in flight (the next is
 * 503 `busy`), an upload that stops sending is dropped after `UPLOAD_IDLE_TIMEOUT_S`, and
 * with less free disk than `MIN_FREE_DISK_BYTES` uploads are refused 507 before any byte is
 * kept (video and reconstruction alike).
 */
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { describe, it } from "node:test";
import { startTestServer } from "../support/server.ts";

const RGBD = "application/x-agenttwin-rgbd";

describe("upload limits", () => {
  it("caps reconstruction uploads in flight and drops one that goes idle", async () => {
    const server = await startTestServer({
      RECONSTRUCTION_UPLOADS_IN_FLIGHT: "1",
      UPLOAD_IDLE_TIMEOUT_S: "1",
      MIN_FREE_DISK_BYTES: "0",
    });
    try {
      const token = await server.token("operator");
      const url = new URL(`${server.url}/media/scenes?sceneId=slow`);
      // A stalled upload: its headers, then nothing.
      const stalled = httpRequest(url, {
        method: "POST",
        headers: {
          authorization: `Bearer ${token}`,
          "content-type": RGBD,
          "content-length": "100000",
        },
      });
      const ended = new Promise<string>((resolve) => {
        stalled.on("response", (res) => resolve(`status ${res.statusCode}`));
        stalled.on("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
      });
      stalled.flushHeaders();
      // Wait until the server counts it (its headers arrived), then try a second one.
      let second: Response | undefined;
      for (let i = 0; i < 100; i++) {
        second = await fetch(`${server.url}/media/scenes?sceneId=other`, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": RGBD },
          body: Buffer.alloc(8),
        });
        if (second.status === 503) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(second?.status, 503);
      const body = (await second!.json()) as { error: { code: string } };
      assert.equal(body.error.code, "busy");
      // The idle one is dropped by the server (the socket closes without an answer).
      const outcome = await ended;
      assert.match(outcome, /ECONNRESET|socket hang up|EPIPE/);
      // With it gone, the slot is free again: a new upload is read (and refused as malformed).
      const third = await fetch(`${server.url}/media/scenes?sceneId=other`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": RGBD },
        body: Buffer.alloc(8),
      });
      assert.notEqual(third.status, 503);
    } finally {
      await server.close();
    }
  });

  it("refuses uploads with 507 when the disk is short", async () => {
    const server = await startTestServer({ MIN_FREE_DISK_BYTES: String(2 ** 52) });
    try {
      const token = await server.token("operator");
      const scene = await fetch(`${server.url}/media/scenes?sceneId=full`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": RGBD },
        body: Buffer.alloc(64),
      });
      assert.equal(scene.status, 507);
      assert.equal(
        ((await scene.json()) as { error: { code: string } }).error.code,
        "insufficient_storage",
      );
      const video = await fetch(`${server.url}/media/video`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "video/mp4" },
        body: Buffer.alloc(64),
      });
      // 507 where the video pipeline runs; 503 `video_off` on a machine without ffmpeg.
      assert.ok(video.status === 507 || video.status === 503, String(video.status));
    } finally {
      await server.close();
    }
  });
});
