/**
 * HTTP API beside the websocket rooms (same http server):
 *
 *   GET  /healthz                      liveness: the process answers
 *   GET  /readyz                       readiness: robot model loaded, rooms can be created
 *   GET  /metrics                      Prometheus text (loopback clients, or any valid token)
 *   GET  /api/robot                    arm description: joints, limits, named poses
 *   GET  /api/robot/urdf               the URDF the server uses (for viewers)
 *   GET  /api/rooms                    open rooms of this process with client counts
 *   GET  /api/rooms/:roomId/robot      robot snapshot of a twin room
 *   GET  /api/rooms/:roomId/plans      plans of a twin room (summaries)
 *   GET  /api/rooms/:roomId/plans/:id  one plan with its full trajectory
 *   GET  /api/recordings               MCAP recordings of twin sessions (newest first)
 *   GET  /api/recordings/:name         download one (Range supported; opens in Foxglove)
 *   POST /api/dev/token                development join tokens: loopback clients only, when
 *                                      enabled (default without AUTH_SECRET), role observer
 *                                      unless asked for
 *   POST /api/login                    `{ code }` → operator token: redeems the one-time login
 *                                      link printed at start (without AUTH_SECRET only)
 *   GET  /api/openapi.json             this API as an OpenAPI 3.1 document (no token needed)
 *
 * Everything under `/api` and `/media` needs `Authorization: Bearer <token>` (the two token
 * routes above excepted): none or a bad one → 401 with `WWW-Authenticate: Bearer`; a valid
 * token whose role may not → 403 (writes under `/media` need an operator). Media reads also
 * take `?access_token=<token>` (RFC 6750 §2.3) for video players that cannot set headers.
 *
 * Errors are JSON `{ error: { code, message } }` with a fitting status and one code
 * vocabulary (errors.ts); a known path with another method is 405 with `Allow`.
 */
import express from "express";
import { readFile } from "node:fs/promises";
import { matchMaker } from "@colyseus/core";
import type { Logger } from "pino";
import { isLocalRequest } from "../auth/loopback.ts";
import type { LoginCodes } from "../auth/login-codes.ts";
import type { TokenService } from "../auth/tokens.ts";
import type { Config } from "../config.ts";
import type { TwinRegistry } from "../twin/registry.ts";
import type { RobotDescription } from "../sim/robot-description.ts";
import type { ServerMetrics } from "./metrics.ts";
import { forbidden, identify, requireBearer, unauthorized } from "./operator-auth.ts";
import { mountRecordingRoutes } from "./recordings.ts";
import type { RecordingStore } from "../store/recording-store.ts";
import { DevTokenRequest, LoginRequest } from "./api-schemas.ts";
import { openApiDocument } from "./openapi.ts";
import { fail } from "./errors.ts";

export interface HttpDeps {
  config: Config;
  logger: Logger;
  metrics: ServerMetrics;
  tokens: TokenService;
  /** One-time login codes (only without AUTH_SECRET). */
  loginCodes?: LoginCodes | undefined;
  registry: TwinRegistry;
  robot: RobotDescription;
  /** The recordings folder (the process's one store: its summary cache is shared). */
  recordings: RecordingStore;
  /** False until the process can serve rooms (and again while shutting down). */
  isReady(): boolean;
}

/**
 * A browser's request from this server's own page or an allowed origin (or no browser:
 * no `Origin`). A foreign page cannot read our answers anyway (CORS); this also keeps it
 * from spending a login code or minting a token it cannot read.
 */
function originAllowed(req: express.Request, allowed: readonly string[]): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (allowed.includes(origin)) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

/** Routes that take no token: they are where a local user gets one. */
const TOKENLESS = new Set(["POST /api/dev/token", "POST /api/login", "GET /api/openapi.json"]);

/** Mounts the routes on `app` (the express app sharing the Colyseus http server). */
export function mountHttpRoutes(app: express.Application, deps: HttpDeps): void {
  // Nothing to gain from naming the framework to every client.
  app.disable("x-powered-by");
  const api = express.Router();
  api.use(express.json({ limit: "16kb" }));

  // Every read and write under /api and /media needs a token; writes to media an operator.
  const reader = requireBearer(deps.tokens);
  const mediaReader = requireBearer(deps.tokens, undefined, { queryToo: true });
  const writer = requireBearer(deps.tokens, ["operator"]);
  app.use(["/api", "/media"], (req, res, next) => {
    // Express matches paths case-insensitively: compare the way it routes.
    const base = req.baseUrl.toLowerCase();
    if (TOKENLESS.has(`${req.method} ${base}${req.path.toLowerCase()}`)) return next();
    const media = base === "/media";
    const write = req.method !== "GET" && req.method !== "HEAD" && req.method !== "OPTIONS";
    const gate = write ? (media ? writer : reader) : media ? mediaReader : reader;
    void gate(req, res, next);
  });

  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });

  app.get("/readyz", (_req, res) => {
    if (deps.isReady()) res.json({ status: "ready" });
    else fail(res, 503, "not_ready", "server is starting or shutting down");
  });

  // Prometheus on the same host scrapes without a token; anything else sends one.
  app.get("/metrics", async (req, res) => {
    if (!isLocalRequest(req)) {
      const who = await identify(deps.tokens, req);
      if ("reason" in who) return unauthorized(res, who.reason, who.invalid);
    }
    const { contentType, body } = await deps.metrics.render();
    res.type(contentType).send(body);
  });

  api.get("/robot", (_req, res) => {
    res.json(deps.robot.summary);
  });

  // Read on the first request only: the file does not change while the server runs.
  let urdf: Promise<string> | undefined;
  api.get("/robot/urdf", async (_req, res) => {
    urdf ??= readFile(deps.robot.urdfPath, "utf8").catch((err: unknown) => {
      urdf = undefined;
      throw err;
    });
    res.type("application/xml").send(await urdf);
  });

  api.get("/rooms", async (_req, res) => {
    const rooms = await matchMaker.query({});
    res.json(
      rooms.map((r) => ({
        roomId: r.roomId,
        name: r.name,
        clients: r.clients,
        maxClients: r.maxClients,
        locked: r.locked,
      })),
    );
  });

  api.get("/rooms/:roomId/robot", (req, res) => {
    const session = deps.registry.get(req.params.roomId);
    if (!session) return fail(res, 404, "not_found", `no twin room ${req.params.roomId}`);
    res.json(session.robotSnapshot());
  });

  api.get("/rooms/:roomId/plans", (req, res) => {
    const session = deps.registry.get(req.params.roomId);
    if (!session) return fail(res, 404, "not_found", `no twin room ${req.params.roomId}`);
    res.json(session.listPlans());
  });

  api.get("/rooms/:roomId/plans/:planId", (req, res) => {
    const session = deps.registry.get(req.params.roomId);
    if (!session) return fail(res, 404, "not_found", `no twin room ${req.params.roomId}`);
    const plan = session.getPlan(req.params.planId);
    if (!plan) return fail(res, 404, "not_found", `no plan ${req.params.planId}`);
    res.json(plan);
  });

  api.post("/dev/token", async (req, res) => {
    if (!deps.config.auth.devTokens) {
      return fail(res, 404, "not_found", "development tokens are disabled (AUTH_DEV_TOKENS)");
    }
    // Only a browser or tool on this machine, by a loopback name (no DNS rebinding), no proxy.
    if (!isLocalRequest(req, true)) {
      return forbidden(res, "development tokens are only given to clients on this machine");
    }
    if (!originAllowed(req, deps.config.http.corsOrigins)) {
      return forbidden(res, "development tokens are not given to other web origins");
    }
    const body = DevTokenRequest.safeParse(req.body ?? {});
    if (!body.success) return fail(res, 400, "bad_request", body.error.issues[0]!.message);
    const { name, role } = body.data;
    const token = await deps.tokens.issue({ userId: name, name, role }, deps.config.auth.tokenTtlS);
    res
      .set("Cache-Control", "no-store")
      .json({ token, role, expiresInS: deps.config.auth.tokenTtlS });
  });

  api.post("/login", async (req, res) => {
    if (!originAllowed(req, deps.config.http.corsOrigins)) {
      return forbidden(res, "login links are redeemed by the viewer of this server only");
    }
    const body = LoginRequest.safeParse(req.body ?? {});
    if (!deps.loginCodes || !body.success || !deps.loginCodes.redeem(body.data.code)) {
      return unauthorized(res, "login code unknown, used or expired: restart for a new link", true);
    }
    const ttl = deps.config.auth.tokenTtlS;
    const token = await deps.tokens.issue(
      { userId: "local-operator", name: "local operator", role: "operator" },
      ttl,
    );
    res.set("Cache-Control", "no-store").json({ token, role: "operator", expiresInS: ttl });
  });

  mountRecordingRoutes(api, deps.recordings, deps.logger);

  api.get("/openapi.json", (_req, res) => {
    res.set("Cache-Control", "no-cache").json(openApiDocument());
  });

  // Unknown paths (404), wrong methods (405 with Allow) and request errors are answered
  // by mountFallbacks (openapi-routes.ts), mounted after every other route.
  app.use("/api", api);
}
