/**
 * The HTTP API against its OpenAPI document (GET /api/openapi.json), on a running server:
 * every route the server has mounted (express's router stack and Colyseus's matchmaking
 * routes) is described; answers match the document's schemas; a wrong method on a known
 * path is 405 with `Allow` (never express's HTML page); 401 carries `WWW-Authenticate`,
 * a role that may not is 403; no `X-Powered-By`; error codes come from one vocabulary.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { z } from "zod";
import { HTTP_ERROR_CODES } from "../../server/http/errors.ts";
import { pathPattern } from "../../server/http/openapi-routes.ts";
import {
  ErrorBody,
  HealthBody,
  ReadyBody,
  RecordingListBody,
  RoomListBody,
  SeatReservationBody,
  TokenBody,
} from "../../server/http/openapi.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

/** `/api/rooms/:roomId` and `/api/rooms/{roomId}` → `/api/rooms/{}`: names do not matter. */
const shape = (path: string) => path.replace(/:\w+|\*\w+|\{\w+\}/g, "{}").replace(/\/$/, "") || "/";

interface OpenApi {
  openapi: string;
  paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
}

describe("HTTP API and its OpenAPI document", () => {
  let server: TestServer;
  let doc: OpenApi;
  before(async () => {
    server = await startTestServer({ VIDEO: "true", RECORD: "false", ROBOT_LINK: "inprocess" });
    const res = await fetch(`${server.url}/api/openapi.json`);
    assert.equal(res.status, 200, "served without a token");
    doc = (await res.json()) as OpenApi;
  });
  after(async () => {
    await server.close();
  });

  const parse = async <T extends z.ZodType>(res: Response, schema: T) => {
    const body: unknown = await res.json();
    const r = schema.safeParse(body);
    assert.ok(r.success, `${res.url} ${res.status}: ${JSON.stringify(body)}`);
    return r.data;
  };

  it("is OpenAPI 3.1 and describes every mounted route, Colyseus's included", () => {
    assert.equal(doc.openapi, "3.1.0");
    const routes = server.app.routes();
    assert.ok(routes.length >= 20, `routes found: ${routes.length}`);
    assert.ok(
      routes.some((r) => r.method === "POST" && r.path.startsWith("/matchmake/")),
      "the matchmaking route is among them",
    );
    assert.ok(
      routes.some((r) => r.path === "/api/rooms/:roomId/plans/:planId"),
      "nested routers",
    );
    const described = new Map<string, Set<string>>();
    for (const [path, ops] of Object.entries(doc.paths)) {
      const set = described.get(shape(path)) ?? new Set();
      for (const m of Object.keys(ops)) if (m !== "parameters") set.add(m.toUpperCase());
      described.set(shape(path), set);
    }
    const missing = routes.filter((r) => {
      const methods = described.get(shape(r.path));
      return !methods || (r.method !== "ALL" && !methods.has(r.method));
    });
    assert.deepEqual(missing, [], "routes without an entry in server/http/openapi.ts");
  });

  it("answers as the document says: health, readiness, reads, tokens, matchmaking", async () => {
    await parse(await fetch(`${server.url}/healthz`), HealthBody);
    await parse(await fetch(`${server.url}/readyz`), ReadyBody);
    await parse(await server.get("/api/rooms"), RoomListBody);
    await parse(await server.get("/api/recordings"), RecordingListBody);
    const dev = await fetch(`${server.url}/api/dev/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "doc", role: "operator" }),
    });
    const { token } = await parse(dev, TokenBody);
    const seat = await fetch(`${server.url}/matchmake/joinOrCreate/digital_twin`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: "{}",
    });
    assert.equal(seat.status, 200);
    await parse(seat, SeatReservationBody);
  });

  it("answers a wrong method on a known path with 405 and Allow, as JSON", async () => {
    for (const [method, path, allow] of [
      ["POST", "/healthz", "GET, HEAD, OPTIONS"],
      ["DELETE", "/api/robot", "GET, HEAD, OPTIONS"],
      ["PUT", "/api/dev/token", "OPTIONS, POST"],
      ["GET", "/matchmake/joinOrCreate/digital_twin", "OPTIONS, POST"],
    ] as const) {
      const res = await server.get(path, { method });
      assert.equal(res.status, 405, `${method} ${path}`);
      assert.equal(res.headers.get("allow"), allow, `${method} ${path}`);
      assert.match(res.headers.get("content-type") ?? "", /application\/json/);
      const body = await parse(res, ErrorBody);
      assert.equal(body.error.code, "method_not_allowed");
      const op = Object.entries(doc.paths).find(([p]) =>
        pathPattern(p.replace(/\{(\w+)\}/g, ":$1")).test(path),
      )?.[1];
      const first = Object.values(op ?? {}).find((o) => "responses" in o);
      assert.ok(first?.responses["405"], `405 documented for ${path}`);
    }
    const unknown = await fetch(`${server.url}/no/such/thing`, { method: "POST" });
    assert.equal(unknown.status, 404);
    assert.equal((await parse(unknown, ErrorBody)).error.code, "not_found");
  });

  it("tells 401 (with WWW-Authenticate) from 403, and malformed bodies are bad_request", async () => {
    const none = await fetch(`${server.url}/api/robot`);
    assert.equal(none.status, 401);
    assert.match(none.headers.get("www-authenticate") ?? "", /^Bearer /);
    assert.equal((await parse(none, ErrorBody)).error.code, "unauthorized");
    const observer = await server.get(
      "/media/video?room=x",
      { method: "POST", headers: { "content-type": "video/mp4" }, body: "x" },
      "observer",
    );
    assert.equal(observer.status, 403, "an observer's upload is forbidden, not unauthenticated");
    assert.equal((await parse(observer, ErrorBody)).error.code, "forbidden");
    for (const body of ["{not json", JSON.stringify({ name: "x", role: "root" })]) {
      const bad = await fetch(`${server.url}/api/dev/token`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      assert.equal(bad.status, 400, body);
      assert.equal((await parse(bad, ErrorBody)).error.code, "bad_request", body);
    }
  });

  it("serves no third-party API page (Colyseus's /api/reference) past the token gate", async () => {
    const anonymous = await fetch(`${server.url}/api/reference`);
    assert.equal(anonymous.status, 401);
    await anonymous.arrayBuffer();
    const withToken = await server.get("/api/reference");
    assert.equal(withToken.status, 404);
    assert.equal((await parse(withToken, ErrorBody)).error.code, "not_found");
  });

  it("does not name its framework", async () => {
    for (const path of ["/healthz", "/api/openapi.json", "/nothing"]) {
      const res = await fetch(`${server.url}${path}`);
      assert.equal(res.headers.get("x-powered-by"), null, path);
      await res.arrayBuffer();
    }
  });

  it("enumerates one error vocabulary, without invalid_request", () => {
    const schemas = (doc as unknown as { components: { schemas: Record<string, unknown> } })
      .components.schemas;
    const text = JSON.stringify(schemas.Error);
    for (const code of HTTP_ERROR_CODES) assert.ok(text.includes(`"${code}"`), code);
    assert.ok(!text.includes("invalid_request"));
  });
});
