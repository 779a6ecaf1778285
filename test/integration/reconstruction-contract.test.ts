/**
 * One contract suite for every `Reconstructor` implementation available here: the embedded
 * CPU backend, and the SF3D client against a local stand-in of the GPU service (a real HTTP
 * server on port 0 that answers with a GLB). Each must: name itself; turn its kind of input
 * into a valid GLB whose counts and bounds match what it reports; refuse the other kind of
 * input with `unsupported_input`; honour an aborted signal.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { CpuReconstructor } from "../../server/media/reconstruction/cpu-reconstructor.ts";
import { ReconstructionError } from "../../server/media/reconstruction/errors.ts";
import { summarizeGlb } from "../../server/media/reconstruction/glb.ts";
import type {
  ReconstructionInput,
  Reconstructor,
} from "../../server/media/reconstruction/reconstructor.ts";
import { Sf3dReconstructor } from "../../server/media/reconstruction/sf3d-client.ts";
import {
  orbitPoses,
  renderRgbd,
  SYNTHETIC_SCENES,
} from "../../server/media/reconstruction/synthetic-scenes.ts";

const scene = SYNTHETIC_SCENES.boxOnPlane;
const rgbd: ReconstructionInput = {
  kind: "rgbd",
  frames: orbitPoses(scene, 4).map((p) => renderRgbd(scene, 160, 120, p)),
};
const image: ReconstructionInput = {
  kind: "image",
  png: Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13),
};

interface Implementation {
  readonly make: () => Reconstructor;
  readonly supported: ReconstructionInput;
  readonly unsupported: ReconstructionInput;
}

let stub: Server;
let stubUrl = "";

const implementations: Record<string, Implementation> = {
  "cpu-tsdf": { make: () => new CpuReconstructor(), supported: rgbd, unsupported: image },
  sf3d: {
    make: () => new Sf3dReconstructor({ baseUrl: stubUrl, timeoutMs: 5000 }),
    supported: image,
    unsupported: rgbd,
  },
};

before(async () => {
  const glb = (await new CpuReconstructor().reconstruct(rgbd)).glb;
  stub = createServer((req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(200, { "content-type": "model/gltf-binary" }).end(glb));
  });
  stub.listen(0, "127.0.0.1");
  await new Promise<void>((r) => stub.once("listening", () => r()));
  stubUrl = `http://127.0.0.1:${(stub.address() as AddressInfo).port}`;
});

after(async () => {
  stub.closeAllConnections();
  await new Promise<void>((r) => stub.close(() => r()));
});

for (const [name, impl] of Object.entries(implementations)) {
  describe(`Reconstructor contract: ${name}`, () => {
    it("names itself", () => {
      assert.equal(impl.make().name, name);
    });

    it("makes a valid GLB whose counts and bounds match the result", async () => {
      const res = await impl.make().reconstruct(impl.supported);
      const summary = await summarizeGlb(res.glb);
      assert.equal(summary.vertices, res.vertices);
      assert.equal(summary.triangles, res.triangles);
      assert.ok(res.triangles > 0);
      for (const axis of ["x", "y", "z"] as const) {
        assert.ok(Math.abs(summary.boundsM.min[axis] - res.boundsM.min[axis]) < 1e-4, axis);
        assert.ok(Math.abs(summary.boundsM.max[axis] - res.boundsM.max[axis]) < 1e-4, axis);
        assert.ok(res.boundsM.max[axis] >= res.boundsM.min[axis]);
      }
      for (const v of Object.values(res.stats)) assert.ok(Number.isFinite(v) && v >= 0);
    });

    it("refuses the other kind of input with unsupported_input", async () => {
      await assert.rejects(
        impl.make().reconstruct(impl.unsupported),
        (err: unknown) => err instanceof ReconstructionError && err.code === "unsupported_input",
      );
    });

    it("honours an aborted signal", async () => {
      const ctl = new AbortController();
      ctl.abort();
      await assert.rejects(
        impl.make().reconstruct(impl.supported, ctl.signal),
        (err: unknown) => err instanceof ReconstructionError && err.code === "aborted",
      );
    });
  });
}
