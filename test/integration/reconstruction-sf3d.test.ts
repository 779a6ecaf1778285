/**
 * The SF3D-style client against a local stub service on a loopback port (port 0): a GLB
 * built with @gltf-transform, and the failure modes a GPU service shows — an HTTP error, an
 * answer slower than the timeout, garbage, a broken or empty GLB, an answer over the size
 * limit (declared, or streamed without a length), a refused connection.
 */
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { Document, NodeIO } from "@gltf-transform/core";
import { ReconstructionError, Sf3dError } from "../../server/media/reconstruction/errors.ts";
import { Sf3dReconstructor } from "../../server/media/reconstruction/sf3d-client.ts";

/** A PNG signature and a few bytes (the client checks the signature; the stub reads bytes). */
const PNG = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 4, 5, 6);

/** A unit cube (12 triangles), y up, as an SF3D service would answer. */
async function cubeGlb(options: { empty?: boolean; requireDraco?: boolean } = {}) {
  const doc = new Document();
  const buf = doc.createBuffer();
  const p = [
    [-0.5, -0.5, -0.5],
    [0.5, -0.5, -0.5],
    [0.5, 0.5, -0.5],
    [-0.5, 0.5, -0.5],
    [-0.5, -0.5, 0.5],
    [0.5, -0.5, 0.5],
    [0.5, 0.5, 0.5],
    [-0.5, 0.5, 0.5],
  ].flat();
  const idx = [
    [0, 2, 1, 0, 3, 2],
    [4, 5, 6, 4, 6, 7],
    [0, 1, 5, 0, 5, 4],
    [3, 6, 2, 3, 7, 6],
    [0, 4, 7, 0, 7, 3],
    [1, 2, 6, 1, 6, 5],
  ].flat();
  const prim = doc
    .createPrimitive()
    .setAttribute(
      "POSITION",
      doc.createAccessor().setType("VEC3").setArray(Float32Array.from(p)).setBuffer(buf),
    );
  if (!options.empty) {
    prim.setIndices(
      doc.createAccessor().setType("SCALAR").setArray(Uint16Array.from(idx)).setBuffer(buf),
    );
  } else prim.setMode(0); // POINTS: a document with no triangles
  const node = doc.createNode("cube").setMesh(doc.createMesh("cube").addPrimitive(prim));
  doc.createScene().addChild(node);
  let glb: Uint8Array = await new NodeIO().writeBinary(doc);
  if (options.requireDraco) glb = withRequiredExtension(glb, "KHR_draco_mesh_compression");
  return glb;
}

/** Rewrites the JSON chunk of a GLB to require an extension this reader lacks. */
function withRequiredExtension(glb: Uint8Array, name: string): Uint8Array {
  const view = new DataView(glb.buffer, glb.byteOffset, glb.byteLength);
  const jsonLength = view.getUint32(12, true);
  const json = JSON.parse(new TextDecoder().decode(glb.subarray(20, 20 + jsonLength))) as Record<
    string,
    unknown
  >;
  json.extensionsUsed = [name];
  json.extensionsRequired = [name];
  let text = JSON.stringify(json);
  while (text.length % 4) text += " ";
  const jsonBytes = new TextEncoder().encode(text);
  const rest = glb.subarray(20 + jsonLength);
  const out = new Uint8Array(20 + jsonBytes.length + rest.length);
  const ov = new DataView(out.buffer);
  ov.setUint32(0, 0x46546c67, true);
  ov.setUint32(4, 2, true);
  ov.setUint32(8, out.length, true);
  ov.setUint32(12, jsonBytes.length, true);
  ov.setUint32(16, 0x4e4f534a, true);
  out.set(jsonBytes, 20);
  out.set(rest, 20 + jsonBytes.length);
  return out;
}

describe("SF3D client against a stub service", () => {
  let server: Server;
  let base: string;
  let glb: Uint8Array;
  let emptyGlb: Uint8Array;
  let dracoGlb: Uint8Array;
  const received: { type: string | undefined; accept: string | undefined; body: Buffer }[] = [];

  before(async () => {
    glb = await cubeGlb();
    emptyGlb = await cubeGlb({ empty: true });
    dracoGlb = await cubeGlb({ requireDraco: true });
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", (): void => {
        const [, variant, endpoint] = (req.url ?? "").split("/");
        if (endpoint !== "reconstruct" || req.method !== "POST") {
          res.writeHead(404).end();
          return;
        }
        received.push({
          type: req.headers["content-type"],
          accept: req.headers.accept,
          body: Buffer.concat(chunks),
        });
        const send = (bytes: Uint8Array, status = 200): void => {
          res.writeHead(status, { "content-type": "model/gltf-binary" }).end(bytes);
        };
        switch (variant) {
          case "ok":
            return send(glb);
          case "error":
            res.writeHead(500, { "content-type": "text/plain" }).end("CUDA out of memory");
            return;
          case "slow":
            setTimeout(() => send(glb), 2000).unref();
            return;
          case "garbage":
            return send(Uint8Array.from({ length: 3000 }, (_, i) => (i * 31) & 255));
          case "truncated":
            return send(glb.subarray(0, glb.length - 16));
          case "empty":
            return send(emptyGlb);
          case "draco":
            return send(dracoGlb);
          case "huge":
            res.writeHead(200, { "content-length": String(10 * 1024 * 1024) });
            res.write(new Uint8Array(64 * 1024));
            setTimeout(() => res.destroy(), 200).unref();
            return;
          case "stream":
            // No length: 4 × 64 KiB chunks, more than the 100 KiB limit below.
            res.writeHead(200, { "content-type": "model/gltf-binary" });
            for (let i = 0; i < 4; i++) res.write(new Uint8Array(64 * 1024));
            res.end();
            return;
          default:
            res.writeHead(404).end();
        }
      });
    });
    server.listen(0, "127.0.0.1");
    await new Promise<void>((r) => server.once("listening", () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  const client = (variant: string, timeoutMs = 3000) =>
    new Sf3dReconstructor({
      baseUrl: `${base}/${variant}/`,
      timeoutMs,
      maxResponseBytes: 100 * 1024,
    });

  const expectFailure = async (
    promise: Promise<unknown>,
    code: string,
    status?: number,
    message?: RegExp,
  ) => {
    await assert.rejects(promise, (err: unknown) => {
      assert.ok(err instanceof ReconstructionError, String(err));
      assert.equal(err.code, code, err.message);
      if (status !== undefined) {
        assert.ok(err instanceof Sf3dError);
        assert.equal(err.status, status);
      }
      if (message) assert.match(err.message, message);
      return true;
    });
  };

  it("posts the PNG and returns the checked GLB with its counts and bounds", async () => {
    const before = received.length;
    const res = await client("ok").reconstruct({ kind: "image", png: PNG });
    assert.deepEqual(Buffer.from(res.glb), Buffer.from(glb));
    assert.equal(res.vertices, 8);
    assert.equal(res.triangles, 12);
    assert.deepEqual(res.boundsM, {
      min: { x: -0.5, y: -0.5, z: -0.5 },
      max: { x: 0.5, y: 0.5, z: 0.5 },
    });
    assert.ok(res.stats.meshMs > 0);
    const req = received[before]!;
    assert.equal(req.type, "image/png");
    assert.equal(req.accept, "model/gltf-binary");
    assert.deepEqual(new Uint8Array(req.body), PNG);
  });

  it("an HTTP 500 is http_error with the status and the service's reason", async () => {
    await expectFailure(
      client("error").reconstruct({ kind: "image", png: PNG }),
      "http_error",
      500,
      /500: CUDA out of memory/,
    );
  });

  it("a service slower than the timeout is timeout; the caller's abort is aborted", async () => {
    const t0 = performance.now();
    await expectFailure(client("slow", 300).reconstruct({ kind: "image", png: PNG }), "timeout");
    assert.ok(performance.now() - t0 < 1500, "gave up at the timeout");
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(), 100);
    await expectFailure(
      client("slow").reconstruct({ kind: "image", png: PNG }, ctl.signal),
      "aborted",
    );
  });

  it("garbage, a truncated GLB and a GLB without triangles are refused", async () => {
    await expectFailure(
      client("garbage").reconstruct({ kind: "image", png: PNG }),
      "invalid_glb",
      200,
      /magic/,
    );
    await expectFailure(
      client("truncated").reconstruct({ kind: "image", png: PNG }),
      "invalid_glb",
      200,
      /length header/,
    );
    await expectFailure(client("empty").reconstruct({ kind: "image", png: PNG }), "empty_result");
  });

  it("a GLB needing an extension the reader lacks is still accepted, summarised from its JSON", async () => {
    const res = await client("draco").reconstruct({ kind: "image", png: PNG });
    assert.equal(res.vertices, 8);
    assert.equal(res.triangles, 12);
    assert.equal(res.boundsM.max.x, 0.5);
  });

  it("answers over the size limit are refused, declared or streamed", async () => {
    await expectFailure(
      client("huge").reconstruct({ kind: "image", png: PNG }),
      "response_too_large",
      200,
    );
    await expectFailure(
      client("stream").reconstruct({ kind: "image", png: PNG }),
      "response_too_large",
      200,
    );
  });

  it("a refused connection is unreachable; RGB-D or non-PNG input is unsupported", async () => {
    const closed = createServer();
    closed.listen(0, "127.0.0.1");
    await new Promise<void>((r) => closed.once("listening", () => r()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const dead = new Sf3dReconstructor({ baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 2000 });
    await expectFailure(dead.reconstruct({ kind: "image", png: PNG }), "unreachable");
    await expectFailure(
      client("ok").reconstruct({ kind: "rgbd", frames: [] }),
      "unsupported_input",
    );
    await expectFailure(
      client("ok").reconstruct({ kind: "image", png: new TextEncoder().encode("GIF89a....") }),
      "unsupported_input",
      undefined,
      /not a PNG/,
    );
    assert.throws(() => new Sf3dReconstructor({ baseUrl: "ftp://x" }), RangeError);
  });
});
