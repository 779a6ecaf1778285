/**
 * The HTTP API as an OpenAPI 3.1 document, built from zod schemas with `z.toJSONSchema`
 * (JSON Schema 2020-12, which OpenAPI 3.1 uses as is) and served at `GET /api/openapi.json`.
 * Request bodies are the very schemas the routes validate with (routes.ts); the response
 * schemas here are what the routes answer, and test/integration/openapi.test.ts checks the
 * answers of a running server against them and every mounted route against `paths`.
 *
 * A route added to the server without an entry here fails that test: add it to PATHS.
 */
import { z } from "zod";
import { HTTP_ERROR_CODES } from "./errors.ts";
import { DevTokenRequest, LoginRequest } from "./api-schemas.ts";
import { CreateSpaceRequest } from "./space-routes.ts";
import { SpaceRecord } from "../store/space-store.ts";
import { RGBD_CONTENT_TYPE } from "../media/reconstruction/upload-format.ts";

/** `{ error: { code, message } }`: every error answer of the API. */
export const ErrorBody = z
  .strictObject({
    error: z.strictObject({
      code: z.enum(HTTP_ERROR_CODES as [string, ...string[]]),
      message: z.string(),
    }),
  })
  .meta({ id: "Error" });

export const HealthBody = z.strictObject({ status: z.literal("ok") }).meta({ id: "Health" });
export const ReadyBody = z.strictObject({ status: z.literal("ready") }).meta({ id: "Ready" });

export const TokenBody = z
  .strictObject({
    token: z.string().describe("JWT (HS256) for `Authorization: Bearer` and room joins"),
    role: z.enum(["operator", "observer"]),
    expiresInS: z.number().int().positive(),
  })
  .meta({ id: "Token" });

export const RoomListBody = z
  .array(
    z.strictObject({
      roomId: z.string(),
      name: z.string(),
      clients: z.number().int().nonnegative(),
      maxClients: z.number().int().nonnegative(),
      locked: z.boolean(),
    }),
  )
  .meta({ id: "RoomList" });

export const RobotSummaryBody = z
  .looseObject({})
  .describe("The arm: joints with limits (rad, rad/s), named poses, planning group")
  .meta({ id: "RobotSummary" });

export const RecordingListBody = z
  .array(
    z.looseObject({
      name: z.string(),
      bytes: z.number().int().nonnegative(),
    }),
  )
  .meta({ id: "RecordingList" });

export const VideoAcceptedBody = z
  .strictObject({
    jobId: z.string(),
    streamId: z.string(),
    statusUrl: z.string(),
    streamUrl: z.string().describe("HLS master playlist once the job has succeeded"),
  })
  .meta({ id: "VideoAccepted" });

export const VideoJobBody = z
  .looseObject({
    id: z.string(),
    streamId: z.string(),
    status: z.enum(["queued", "running", "succeeded", "failed", "cancelled"]),
    progress: z.number().min(0).max(1),
    error: z.strictObject({ code: z.string(), message: z.string() }).nullable(),
    streamUrl: z.string().nullable(),
  })
  .meta({ id: "VideoJob" });

export const SceneAcceptedBody = z
  .strictObject({ jobId: z.string(), sceneId: z.string(), statusUrl: z.string() })
  .meta({ id: "SceneAccepted" });

export const SceneJobBody = z
  .looseObject({
    id: z.string(),
    sceneId: z.string(),
    status: z.enum(["queued", "running", "succeeded", "failed"]),
  })
  .meta({ id: "SceneJob" });

export const SceneLatestBody = z
  .strictObject({
    sceneId: z.string(),
    version: z.number().int().positive(),
    url: z.string().describe("the version's GLB"),
    bytes: z.number().int().nonnegative(),
  })
  .meta({ id: "SceneLatest" });

export const SpaceBody = SpaceRecord.meta({ id: "Space" });

export const SpaceListBody = z
  .array(
    z.strictObject({
      name: z.string(),
      created: z.string().describe("ISO 8601"),
      updated: z.string().describe("ISO 8601: the last change of its scene"),
      scene: z.strictObject({
        version: z.number().int().nonnegative(),
        streamUrl: z.string(),
        renditions: z.array(z.string()).describe("rendition names, lowest bitrate first"),
        assetUrl: z.string(),
        assetBytes: z.number().int().nonnegative(),
      }),
    }),
  )
  .meta({ id: "SpaceList" });

export const SpaceDeletedBody = z
  .strictObject({ name: z.string(), deleted: z.literal(true) })
  .meta({ id: "SpaceDeleted" });

/** Colyseus's seat reservation (`POST /matchmake/:method/:roomName`). */
export const SeatReservationBody = z
  .looseObject({
    name: z.string().describe("room type"),
    roomId: z.string(),
    sessionId: z.string(),
    processId: z.string(),
  })
  .meta({ id: "SeatReservation" });

type Schema = z.ZodType;

interface Op {
  summary: string;
  /**
   * Who may call it: `public` (no token), `token` (any valid one), `operator`, or
   * `loopback-or-token` (clients on this machine need none).
   */
  auth: "public" | "token" | "operator" | "loopback-or-token";
  body?: { schema: Schema; contentType?: string } | { raw: string[]; description: string };
  ok: { status: number; schema?: Schema; contentType?: string; description: string };
  errors?: number[];
  query?: Record<string, string>;
}

/** Every path the server answers, in OpenAPI syntax. */
const PATHS = (): Record<string, Partial<Record<"get" | "post" | "delete", Op>>> => ({
  "/healthz": {
    get: { summary: "Liveness: the process answers", auth: "public", ok: ok(HealthBody) },
  },
  "/readyz": {
    get: {
      summary: "Readiness: rooms can be created (503 while starting or stopping)",
      auth: "public",
      ok: ok(ReadyBody),
      errors: [503],
    },
  },
  "/metrics": {
    get: {
      summary: "Prometheus text exposition (loopback clients, or any valid token)",
      auth: "loopback-or-token",
      ok: file("Prometheus text format 0.0.4", "text/plain"),
    },
  },
  "/api/openapi.json": {
    get: {
      summary: "This document",
      auth: "public",
      ok: file("OpenAPI 3.1", "application/json"),
    },
  },
  "/api/robot": {
    get: {
      summary: "Arm description: joints, limits, named poses",
      auth: "token",
      ok: ok(RobotSummaryBody),
    },
  },
  "/api/robot/urdf": {
    get: {
      summary: "The URDF the server uses (for viewers)",
      auth: "token",
      ok: file("URDF", "application/xml"),
    },
  },
  "/api/rooms": {
    get: {
      summary: "Open rooms of this process with client counts",
      auth: "token",
      ok: ok(RoomListBody),
    },
  },
  "/api/rooms/{roomId}/robot": {
    get: {
      summary: "Robot snapshot of a twin room",
      auth: "token",
      ok: ok(z.looseObject({}), "joints, tool pose, link"),
      errors: [404],
    },
  },
  "/api/rooms/{roomId}/plans": {
    get: {
      summary: "Plans of a twin room (summaries)",
      auth: "token",
      ok: ok(z.array(z.looseObject({})), "plan summaries"),
      errors: [404],
    },
  },
  "/api/rooms/{roomId}/plans/{planId}": {
    get: {
      summary: "One plan with its full trajectory",
      auth: "token",
      ok: ok(z.looseObject({}), "plan"),
      errors: [404],
    },
  },
  "/api/recordings": {
    get: {
      summary: "MCAP recordings of twin sessions, newest first",
      auth: "token",
      ok: ok(RecordingListBody),
    },
  },
  "/api/recordings/{name}": {
    get: {
      summary: "Download one recording (Range requests answer 206)",
      auth: "token",
      ok: file("MCAP file"),
      errors: [404, 416],
    },
  },
  "/api/spaces": {
    get: {
      summary: "Spaces: named metaverse scenes that outlive their rooms (join option `space`)",
      auth: "token",
      ok: ok(SpaceListBody),
    },
    post: {
      summary: "Create an empty space (to upload to before anyone joins it)",
      auth: "operator",
      body: { schema: CreateSpaceRequest },
      ok: { status: 201, schema: SpaceBody, description: "created" },
      errors: [400, 409],
    },
  },
  "/api/spaces/{name}": {
    get: {
      summary: "One space with its stored scene (stream, renditions, asset, version)",
      auth: "token",
      ok: ok(SpaceBody),
      errors: [400, 404],
    },
    delete: {
      summary:
        "Delete a space and its media files; a room open on it goes back to idle (its scene's `error` says why)",
      auth: "operator",
      ok: ok(SpaceDeletedBody),
      errors: [400, 404],
    },
  },
  "/api/dev/token": {
    post: {
      summary: "Development token for clients on this machine (when AUTH_DEV_TOKENS is on)",
      auth: "public",
      body: { schema: DevTokenRequest },
      ok: ok(TokenBody),
      errors: [400, 403, 404],
    },
  },
  "/api/login": {
    post: {
      summary: "Redeem the one-time login code printed at start for an operator token",
      auth: "public",
      body: { schema: LoginRequest },
      ok: ok(TokenBody),
    },
  },
  "/media/video": {
    post: {
      summary: "Upload a clip for a metaverse room: transcoded to a 360° HLS ladder",
      auth: "operator",
      query: {
        room: "metaverse room id, or space name, whose scene gets the stream (a room's space keeps it)",
      },
      body: {
        raw: ["video/*", "application/octet-stream", "multipart/form-data"],
        description: "the clip (raw body, or the first file part of a form)",
      },
      ok: { status: 202, schema: VideoAcceptedBody, description: "queued" },
      errors: [400, 404, 413, 415, 503, 507],
    },
  },
  "/media/jobs/{id}": {
    get: { summary: "Transcode job status", auth: "token", ok: ok(VideoJobBody), errors: [404] },
    delete: {
      summary: "Cancel a queued or running transcode job",
      auth: "operator",
      ok: ok(VideoJobBody),
      errors: [404, 409],
    },
  },
  ...streamPaths(
    "/media/video/{streamId}",
    "Finished stream files: master.m3u8, <rung>/index.m3u8, segments (Range)",
    "HLS playlist, init or media segment, MP4",
  ),
  ...streamPaths(
    "/media/live/{streamId}",
    "Live stream files (playlists not cached)",
    "HLS playlist or segment",
  ),
  "/media/scenes": {
    post: {
      summary: "RGB-D capture (or a PNG with SF3D_URL) to reconstruct a scene as GLB",
      auth: "operator",
      query: {
        sceneId:
          "metaverse room id or space name the scene belongs to (a room's space keeps the asset)",
      },
      body: {
        raw: [RGBD_CONTENT_TYPE, "image/png"],
        description: "RGB-D capture (server/media/reconstruction/upload-format.ts) or PNG",
      },
      ok: { status: 202, schema: SceneAcceptedBody, description: "queued" },
      errors: [400, 413, 415, 422, 503, 507],
    },
  },
  "/media/scenes/jobs/{id}": {
    get: {
      summary: "Reconstruction job status",
      auth: "token",
      ok: ok(SceneJobBody),
      errors: [404],
    },
  },
  "/media/scenes/{sceneId}": {
    get: {
      summary: "The scene's latest version: its number, GLB URL and size",
      auth: "token",
      ok: ok(SceneLatestBody),
      errors: [404],
    },
  },
  "/media/scenes/{sceneId}/{file}": {
    get: {
      summary: "One version's GLB (Range)",
      auth: "token",
      ok: file("GLB", "model/gltf-binary"),
      errors: [404, 416],
    },
  },
  "/": {
    get: {
      summary: "The web viewer (`/#token=<jwt>`, `/#login=<code>`); 503 when not built",
      auth: "public",
      ok: file("page", "text/html"),
    },
  },
  "/index.html": {
    get: {
      summary: "The web viewer",
      auth: "public",
      ok: file("page", "text/html"),
    },
  },
  "/viewer/{file}": {
    get: {
      summary: "Viewer bundle files (content-hashed names, cached for a year)",
      auth: "public",
      ok: file("JavaScript, CSS"),
      errors: [404],
    },
  },
  "/matchmake/{method}/{roomName}": {
    post: {
      summary:
        "Colyseus matchmaking: `joinOrCreate`, `create`, `join`, `joinById`, `reconnect` a room (`digital_twin`, `metaverse`); the SDK then opens the websocket with the reservation",
      auth: "token",
      body: { schema: z.looseObject({}).describe("join options") },
      ok: ok(SeatReservationBody),
      errors: [400, 403, 429, 503],
    },
  },
  "/__healthcheck": {
    get: {
      summary: "Colyseus's own liveness route",
      auth: "public",
      ok: file("OK", "text/plain"),
    },
  },
});

/** 200 with a JSON body. */
function ok(schema: Schema, description = "OK"): Op["ok"] {
  return { status: 200, schema, description };
}

/** 200 with a body that is not JSON. */
function file(description: string, contentType = "application/octet-stream"): Op["ok"] {
  return { status: 200, contentType, description };
}

/** A stream folder (no listing: 404) and its files, which players may fetch with `?access_token=`. */
function streamPaths(folder: string, summary: string, files: string): Record<string, { get: Op }> {
  return {
    [folder]: {
      get: { summary: "(no listing: 404)", auth: "token", ok: file("nothing"), errors: [404] },
    },
    [`${folder}/{file}`]: {
      get: {
        summary,
        auth: "token",
        query: { access_token: "the token, for players that cannot set headers" },
        ok: file(files),
        errors: [404, 416],
      },
    },
  };
}

const STATUS_TEXT: Record<number, string> = {
  400: "malformed request (`bad_request` or a media code)",
  401: "no or a bad token (`WWW-Authenticate: Bearer`)",
  403: "the token's role may not",
  404: "not found",
  405: "the path exists, not with this method (`Allow` lists those it has)",
  409: "conflicts with the current state",
  413: "larger than the upload limit",
  415: "not a supported media type or codec",
  416: "range outside the file",
  422: "the input cannot be reconstructed",
  429: "too many rooms for this user",
  503: "busy, not ready or switched off (`Retry-After` where it helps)",
  507: "too little free disk",
};

const jsonSchema = (schema: Schema, io: "input" | "output"): unknown =>
  z.toJSONSchema(schema, { io, unrepresentable: "any", target: "draft-2020-12" });

let cached: Record<string, unknown> | undefined;

/** The document (built once). */
export function openApiDocument(): Record<string, unknown> {
  if (cached) return cached;
  const errorRef = { $ref: "#/components/schemas/Error" };
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [path, ops] of Object.entries(PATHS())) {
    const item: Record<string, unknown> = {};
    const params = [...path.matchAll(/\{(\w+)\}/g)].map((m) => ({
      name: m[1],
      in: "path",
      required: true,
      schema: { type: "string" },
    }));
    if (params.length > 0) item.parameters = params;
    for (const [method, op] of Object.entries(ops)) {
      const responses: Record<string, unknown> = {
        [String(op.ok.status)]: {
          description: op.ok.description,
          content: {
            [op.ok.contentType ?? "application/json"]: op.ok.schema
              ? { schema: jsonSchema(op.ok.schema, "output") }
              : {},
          },
        },
      };
      const errors = new Set(op.errors ?? []);
      errors.add(405);
      if (op.auth !== "public") errors.add(401);
      if (op.auth === "operator") errors.add(403);
      for (const status of [...errors].sort()) {
        responses[String(status)] = {
          description: STATUS_TEXT[status] ?? "error",
          content: { "application/json": { schema: errorRef } },
        };
      }
      item[method] = {
        summary: op.summary,
        operationId: `${method}${path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c?: string) => (c ? c.toUpperCase() : ""))}`,
        ...(op.auth === "public" ? { security: [] } : {}),
        ...(op.auth === "loopback-or-token" && {
          description: "Clients on this machine need no token.",
        }),
        ...(op.query && {
          parameters: Object.entries(op.query).map(([name, description]) => ({
            name,
            in: "query",
            required: name !== "access_token",
            description,
            schema: { type: "string" },
          })),
        }),
        ...(op.body && {
          requestBody: {
            required: true,
            content:
              "schema" in op.body
                ? {
                    [op.body.contentType ?? "application/json"]: {
                      schema: jsonSchema(op.body.schema, "input"),
                    },
                  }
                : Object.fromEntries(op.body.raw.map((t) => [t, { schema: {} }])),
            ...("description" in op.body && { description: op.body.description }),
          },
        }),
        responses,
      };
    }
    paths[path] = item;
  }
  cached = {
    openapi: "3.1.0",
    info: {
      title: "AgentTwin HTTP API",
      version: "0.1.0",
      description:
        "REST routes beside the Colyseus rooms on the same http server. Errors are `{ error: { code, message } }`; " +
        "a known path with another method answers 405 with `Allow`.",
      license: { name: "MIT", identifier: "MIT" },
    },
    servers: [{ url: "/" }],
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: {
        bearer: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "JWT",
          description: "Media reads also take `?access_token=` (RFC 6750 §2.3)",
        },
      },
      schemas: { Error: jsonSchema(ErrorBody, "output") },
    },
  };
  return cached;
}
