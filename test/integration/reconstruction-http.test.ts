/**
 * Scene reconstruction over real HTTP (express on a loopback port, fetch and node:http
 * clients): upload RGB-D frames → job → versioned GLB served with Range support and the
 * onSceneReady hook; PNG uploads through the SF3D client to a stub service; every bad upload
 * refused with a clear error and nothing written; a failed or timed-out job leaves the
 * previous version served; a full queue answers 503.
 */
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { NodeIO } from "@gltf-transform/core";
import express from "express";
import { pino } from "pino";
import { SceneLatestBody } from "../../server/http/openapi.ts";
import { mountReconstructionRoutes } from "../../server/http/reconstruction-routes.ts";
import { CpuReconstructor } from "../../server/media/reconstruction/cpu-reconstructor.ts";
import { abortError } from "../../server/media/reconstruction/errors.ts";
import type {
  ReconstructionInput,
  ReconstructionResult,
  Reconstructor,
  RgbdFrame,
} from "../../server/media/reconstruction/reconstructor.ts";
import {
  type SceneJob,
  type SceneReadyStats,
  type SceneJobs,
  SceneStore,
} from "../../server/media/reconstruction/scene-jobs.ts";
import { Sf3dReconstructor } from "../../server/media/reconstruction/sf3d-client.ts";
import {
  orbitPoses,
  renderRgbd,
  SYNTHETIC_SCENES,
} from "../../server/media/reconstruction/synthetic-scenes.ts";
import {
  encodeRgbdUpload,
  RGBD_CONTENT_TYPE,
} from "../../server/media/reconstruction/upload-format.ts";

const MAX_UPLOAD = 2 * 1024 * 1024;
const silent = pino({ level: "silent" });
const scene = SYNTHETIC_SCENES.sphere;
const frames: RgbdFrame[] = orbitPoses(scene, 6, { elevationsDeg: [35, -35] }).map((p) =>
  renderRgbd(scene, 160, 120, p),
);
const PNG = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 9, 9, 9);

async function listen(app: express.Application): Promise<{ server: Server; base: string }> {
  const server = app.listen(0, "127.0.0.1");
  await new Promise<void>((r) => server.once("listening", () => r()));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
}

/** Polls a job until it has finished. */
async function waitJob(base: string, id: string): Promise<SceneJob> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const res = await fetch(`${base}/media/scenes/jobs/${id}`);
    assert.equal(res.status, 200);
    const job = (await res.json()) as SceneJob;
    if (job.status === "succeeded" || job.status === "failed") return job;
    if (Date.now() > deadline) throw new Error(`job ${id} still ${job.status}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function post(
  base: string,
  sceneId: string | null,
  body: Uint8Array,
  type = RGBD_CONTENT_TYPE,
) {
  const q = sceneId === null ? "" : `?sceneId=${sceneId}`;
  return fetch(`${base}/media/scenes${q}`, {
    method: "POST",
    headers: { "content-type": type },
    body,
  });
}

async function errorOf(res: Response): Promise<{ code: string; message: string }> {
  const body = (await res.json()) as { error: { code: string; message: string } };
  return body.error;
}

/** A chunked upload (no Content-Length) through node:http, so the limit is met mid-stream. */
function postChunked(
  base: string,
  sceneId: string,
  chunks: Uint8Array[],
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const url = new URL(`${base}/media/scenes?sceneId=${sceneId}`);
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method: "POST",
        headers: { "content-type": RGBD_CONTENT_TYPE, "transfer-encoding": "chunked" },
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("error", reject);
    let i = 0;
    const next = (): void => {
      if (i === chunks.length) {
        req.end();
        return;
      }
      if (!req.write(chunks[i++]!)) req.once("drain", next);
      else setImmediate(next);
    };
    next();
  });
}

describe("scene reconstruction over http", () => {
  let dir: string;
  let server: Server;
  let base: string;
  let jobs: SceneJobs;
  let stub: Server;
  const ready: { sceneId: string; url: string; stats: SceneReadyStats }[] = [];

  /** Every file under the scenes folder, relative. */
  const files = async () => {
    const out: string[] = [];
    for (const s of await readdir(dir).catch(() => [])) {
      for (const f of await readdir(join(dir, s))) out.push(`${s}/${f}`);
    }
    return out.sort();
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "agenttwin-scenes-"));
    // An SF3D stand-in that answers every PNG with a GLB the CPU backend made.
    const sphereGlb = (
      await new CpuReconstructor().reconstruct({ kind: "rgbd", frames: frames.slice(0, 2) })
    ).glb;
    stub = createServer((req, res) => {
      req.resume();
      req.on("end", () =>
        res.writeHead(200, { "content-type": "model/gltf-binary" }).end(sphereGlb),
      );
    });
    stub.listen(0, "127.0.0.1");
    await new Promise<void>((r) => stub.once("listening", () => r()));
    const stubUrl = `http://127.0.0.1:${(stub.address() as AddressInfo).port}`;

    const app = express();
    const router = express.Router();
    jobs = mountReconstructionRoutes(router, {
      dir,
      rgbd: new CpuReconstructor(),
      image: new Sf3dReconstructor({ baseUrl: stubUrl, timeoutMs: 5000 }),
      maxUploadBytes: MAX_UPLOAD,
      maxQueue: 4,
      jobTimeoutMs: 30_000,
      // The bad-upload table sends its requests at once; the in-flight cap has its own test.
      maxInFlight: 32,
      logger: silent,
      onSceneReady: (sceneId, url, stats) => ready.push({ sceneId, url, stats }),
    });
    app.use(router);
    ({ server, base } = await listen(app));
  });

  after(async () => {
    await jobs.close();
    await close(server);
    await close(stub);
    await rm(dir, { recursive: true, force: true });
  });

  it("reconstructs an upload into v1, calls the hook and serves the GLB with Range", async () => {
    const body = encodeRgbdUpload(frames, { depthEncoding: "uint16mm" });
    assert.ok(body.length < MAX_UPLOAD);
    const res = await post(base, "lab", body);
    assert.equal(res.status, 202);
    const { jobId, sceneId, statusUrl } = (await res.json()) as Record<string, string>;
    assert.equal(sceneId, "lab");
    assert.equal(statusUrl, `/media/scenes/jobs/${jobId}`);
    assert.equal(res.headers.get("location"), statusUrl);

    const job = await waitJob(base, jobId!);
    assert.equal(job.status, "succeeded", JSON.stringify(job.error));
    assert.equal(job.frames, frames.length);
    assert.equal(job.result?.url, "/media/scenes/lab/v1.glb");
    assert.equal(job.result?.version, 1);
    assert.equal(job.result?.backend, "cpu-tsdf");
    assert.ok(job.result!.triangles > 1000);

    assert.equal(ready.length, 1);
    assert.equal(ready[0]!.sceneId, "lab");
    assert.equal(ready[0]!.url, "/media/scenes/lab/v1.glb");
    const traffic = ready[0]!.stats.traffic;
    assert.equal(traffic.assetBytes, ready[0]!.stats.bytes);
    assert.deepEqual(
      traffic.rungs.map((r) => r.name),
      ["1080p", "1440p", "4k", "6k", "8k"],
    );

    const latest: unknown = await (await fetch(`${base}/media/scenes/lab`)).json();
    assert.deepEqual(latest, {
      sceneId: "lab",
      version: 1,
      url: "/media/scenes/lab/v1.glb",
      bytes: ready[0]!.stats.bytes,
    });
    assert.ok(SceneLatestBody.safeParse(latest).success, "the OpenAPI document's SceneLatest");

    const asset = await fetch(`${base}/media/scenes/lab/v1.glb`);
    assert.equal(asset.status, 200);
    assert.equal(asset.headers.get("content-type"), "model/gltf-binary");
    assert.equal(asset.headers.get("accept-ranges"), "bytes");
    assert.match(asset.headers.get("cache-control") ?? "", /immutable/);
    const bytes = new Uint8Array(await asset.arrayBuffer());
    assert.equal(bytes.length, ready[0]!.stats.bytes);
    const doc = await new NodeIO().readBinary(bytes);
    const prim = doc.getRoot().listMeshes()[0]!.listPrimitives()[0]!;
    assert.equal(prim.getAttribute("POSITION")!.getCount(), job.result!.vertices);
    assert.ok(prim.getAttribute("COLOR_0") && prim.getAttribute("NORMAL"));

    const part = await fetch(`${base}/media/scenes/lab/v1.glb`, {
      headers: { range: "bytes=0-11" },
    });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get("content-range"), `bytes 0-11/${bytes.length}`);
    assert.equal(
      Buffer.from(await part.arrayBuffer())
        .subarray(0, 4)
        .toString("latin1"),
      "glTF",
    );
    const outside = await fetch(`${base}/media/scenes/lab/v1.glb`, {
      headers: { range: `bytes=${bytes.length + 10}-` },
    });
    assert.equal(outside.status, 416);
    assert.equal((await errorOf(outside)).code, "range_not_satisfiable");
  });

  it("a failed job leaves the previous version served and writes nothing", async () => {
    const blind = frames.map((f) => ({ ...f, depthM: new Float32Array(f.width * f.height) }));
    const res = await post(base, "lab", encodeRgbdUpload(blind));
    assert.equal(res.status, 202);
    const job = await waitJob(base, ((await res.json()) as { jobId: string }).jobId);
    assert.equal(job.status, "failed");
    assert.equal(job.error?.code, "empty_result");
    assert.equal(ready.length, 1, "no hook call for a failed job");
    const latest = (await (await fetch(`${base}/media/scenes/lab`)).json()) as { version: number };
    assert.equal(latest.version, 1);
    assert.deepEqual(await files(), ["lab/v1.glb"]);
  });

  it("takes every room id Colyseus makes as a scene id, and nothing that leaves the folder", () => {
    // Colyseus room ids are nanoids: `_` and `-` may come first.
    for (const id of ["lab", "_x7Kq2", "-a_b-C", "A".repeat(64)]) {
      assert.ok(SceneStore.isSceneId(id), id);
    }
    for (const id of ["", "..", "a/b", "a.b", "a b", "A".repeat(65), "jobs"]) {
      assert.ok(!SceneStore.isSceneId(id), id);
    }
  });

  it("bad uploads get clear errors and nothing is queued or written", async () => {
    const before = await files();
    const good = encodeRgbdUpload(frames.slice(0, 2));
    const header = (json: object) => {
      const h = new TextEncoder().encode(JSON.stringify(json));
      const b = new Uint8Array(12 + h.length);
      b.set(good.subarray(0, 8));
      new DataView(b.buffer).setUint32(8, h.length, true);
      b.set(h, 12);
      return b;
    };
    const frameHeader = {
      width: 160,
      height: 120,
      intrinsics: frames[0]!.intrinsics,
      pose: frames[0]!.pose,
    };
    const cases: [string, Promise<Response>, number, string, RegExp?][] = [
      ["no scene id", post(base, null, good), 400, "bad_request"],
      ["bad scene id", post(base, "..%2Fetc", good), 400, "bad_request"],
      ["wrong type", post(base, "bad", good, "application/json"), 415, "unsupported_media_type"],
      // The depth of the last frame is shorter than its header says.
      [
        "short depth",
        post(base, "bad", good.subarray(0, good.length - 4)),
        400,
        "bad_upload",
        /truncated/,
      ],
      [
        "NaN intrinsics (JSON null)",
        post(
          base,
          "bad",
          header({
            frames: [{ ...frameHeader, intrinsics: { ...frameHeader.intrinsics, fx: null } }],
          }),
        ),
        400,
        "bad_upload",
        /frames\.0\.intrinsics\.fx/,
      ],
      [
        "zero focal length",
        post(
          base,
          "bad",
          header({
            frames: [{ ...frameHeader, intrinsics: { ...frameHeader.intrinsics, fx: 0 } }],
          }),
        ),
        422,
        "bad_intrinsics",
      ],
      ["zero frames", post(base, "bad", header({ frames: [] })), 422, "no_frames"],
      [
        "too many voxels",
        post(
          base,
          "bad",
          header({
            volume: {
              bounds: { min: { x: -2, y: -2, z: 0 }, max: { x: 2, y: 2, z: 2 } },
              voxelSizeM: 0.01,
            },
            frames: [frameHeader],
          }),
        ),
        422,
        "too_many_voxels",
      ],
      ["oversize (declared)", post(base, "bad", new Uint8Array(MAX_UPLOAD + 1)), 413, "too_large"],
    ];
    for (const [name, response, status, code, message] of cases) {
      const res = await response;
      assert.equal(res.status, status, name);
      const err = await errorOf(res);
      assert.equal(err.code, code, `${name}: ${err.message}`);
      if (message) assert.match(err.message, message, name);
    }

    // Streamed without a length: the header announces more than the limit.
    const big = frames.map((f) => renderRgbd(scene, 640, 480, f.pose));
    const bigBody = encodeRgbdUpload(big);
    assert.ok(bigBody.length > MAX_UPLOAD);
    const chunks = Array.from({ length: Math.ceil(bigBody.length / 65536) }, (_, i) =>
      bigBody.subarray(i * 65536, (i + 1) * 65536),
    );
    const streamed = await postChunked(base, "bad", chunks);
    assert.equal(streamed.status, 413);
    assert.match(streamed.body, /too_large/);
    // Streamed raw bytes past the limit (no header ever completes).
    const junk = Array.from({ length: 40 }, () => new Uint8Array(65536));
    const raw = await postChunked(base, "bad", [good.subarray(0, 12), ...junk]);
    assert.ok(raw.status === 400 || raw.status === 413, `status ${raw.status}`);

    assert.deepEqual(await files(), before);
    assert.equal(jobs.waiting, 0);
    const missing = await fetch(`${base}/media/scenes/bad`);
    assert.equal(missing.status, 404);
  });

  it("a PNG goes through the SF3D client and becomes the scene's next version", async () => {
    const res = await post(base, "lab", PNG, "image/png");
    assert.equal(res.status, 202);
    const job = await waitJob(base, ((await res.json()) as { jobId: string }).jobId);
    assert.equal(job.status, "succeeded", JSON.stringify(job.error));
    assert.equal(job.result?.backend, "sf3d");
    assert.equal(job.result?.url, "/media/scenes/lab/v2.glb");
    assert.deepEqual(await files(), ["lab/v1.glb", "lab/v2.glb"]);
  });

  it("unknown jobs, scenes and unsafe asset names are 404", async () => {
    for (const path of [
      "/media/scenes/jobs/nope",
      "/media/scenes/nope",
      "/media/scenes/lab/v9.glb",
      "/media/scenes/lab/v01.glb",
      "/media/scenes/lab/.v1.glb.tmp",
      "/media/scenes/..%2F..%2Fetc/v1.glb",
    ]) {
      const res = await fetch(`${base}${path}`);
      assert.equal(res.status, 404, path);
      assert.equal((await errorOf(res)).code, "not_found", path);
    }
  });
});

describe("reconstruction queue limits", () => {
  /** A backend that holds each job until released (or until its signal fires). */
  class Gate implements Reconstructor {
    readonly name = "gate";
    readonly #waiting: (() => void)[] = [];
    started = 0;
    constructor(readonly glb: Uint8Array) {}
    release(): void {
      for (const r of this.#waiting.splice(0)) r();
    }
    reconstruct(_input: ReconstructionInput, signal?: AbortSignal): Promise<ReconstructionResult> {
      this.started++;
      return new Promise((resolve, reject) => {
        signal?.addEventListener("abort", () => reject(abortError(signal, "gate")), { once: true });
        this.#waiting.push(() =>
          resolve({
            glb: this.glb,
            vertices: 3,
            triangles: 1,
            boundsM: { min: { x: 0, y: 0, z: 0 }, max: { x: 1, y: 1, z: 0 } },
            stats: { integrateMsPerFrame: 0, meshMs: 0, encodeMs: 0 },
          }),
        );
      });
    }
  }

  it("answers 503 when the queue is full and times out a job that runs too long", async () => {
    const dir = await mkdtemp(join(tmpdir(), "agenttwin-scenes-q-"));
    const glb = (
      await new CpuReconstructor().reconstruct({ kind: "rgbd", frames: frames.slice(0, 1) })
    ).glb;
    const gate = new Gate(glb);
    const app = express();
    const router = express.Router();
    const jobs = mountReconstructionRoutes(router, {
      dir,
      rgbd: gate,
      maxUploadBytes: MAX_UPLOAD,
      maxQueue: 1,
      jobTimeoutMs: 1500,
      logger: silent,
    });
    app.use(router);
    const { server, base } = await listen(app);
    try {
      const body = encodeRgbdUpload(frames.slice(0, 1));
      const first = await post(base, "q", body);
      assert.equal(first.status, 202);
      while (gate.started === 0) await new Promise((r) => setTimeout(r, 5));
      const second = await post(base, "q", body);
      assert.equal(second.status, 202);
      const third = await post(base, "q", body);
      assert.equal(third.status, 503);
      assert.equal(third.headers.get("retry-after"), "10");
      assert.equal((await errorOf(third)).code, "queue_full");
      const png = await post(base, "q", PNG, "image/png");
      assert.equal(png.status, 415, "no image backend configured");

      // The first job is never released: it times out; the second then runs and is released.
      const firstJob = await waitJob(base, ((await first.json()) as { jobId: string }).jobId);
      assert.equal(firstJob.status, "failed");
      assert.equal(firstJob.error?.code, "timeout");
      while (gate.started < 2) await new Promise((r) => setTimeout(r, 5));
      gate.release();
      const secondJob = await waitJob(base, ((await second.json()) as { jobId: string }).jobId);
      assert.equal(secondJob.status, "succeeded");
      assert.equal(secondJob.result?.url, "/media/scenes/q/v1.glb");
      assert.deepEqual(await readdir(join(dir, "q")), ["v1.glb"]);
    } finally {
      await jobs.close();
      await close(server);
      await rm(dir, { recursive: true, force: true });
    }
  });
});
