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
import express, { type Request, type RequestHandler, type Response } from "express";
import { readFile } from "node:fs/promises";
import { matchMaker } from "@colyseus/core";
import type { Logger } from "pino";
import { isLocalRequest } from "../auth/loopback.ts";
import type { LoginCodes } from "../auth/login-codes.ts";
import type { TokenService } from "../auth/tokens.ts";
import type { Config } from "../config.ts";
import type { TwinRegistry } from "../twin/registry.ts";
import type { TwinSession } from "../twin/session.ts";
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
function originAllowed(req: Request, allowed: readonly string[]): boolean {
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
  app.use(["/api", "/media"], tokenGate(deps));

  app.get("/healthz", healthz());
  app.get("/readyz", readyz(deps));
  app.get("/metrics", metrics(deps));

  api.get("/robot", robotSummary(deps));
  api.get("/robot/urdf", robotUrdf(deps));
  api.get("/rooms", listRooms());
  api.get("/rooms/:roomId/robot", roomRobot(deps));
  api.get("/rooms/:roomId/plans", roomPlans(deps));
  api.get("/rooms/:roomId/plans/:planId", roomPlan(deps));
  api.post("/dev/token", devToken(deps));
  api.post("/login", login(deps));
  mountRecordingRoutes(api, deps.recordings, deps.logger);
  api.get("/openapi.json", openApi());

  // Unknown paths (404), wrong methods (405 with Allow) and request errors are answered
  // by mountFallbacks (openapi-routes.ts), mounted after every other route.
  app.use("/api", api);
}

/**
 * The token check of everything under `/api` and `/media` (the {@link TOKENLESS} routes
 * excepted): any valid token to read (media reads also by `?access_token=`), an operator's
 * to write media.
 */
function tokenGate(deps: HttpDeps): RequestHandler {
  const reader = requireBearer(deps.tokens);
  const mediaReader = requireBearer(deps.tokens, undefined, { queryToo: true });
  const writer = requireBearer(deps.tokens, ["operator"]);
  return (req, res, next) => {
    // Express matches paths case-insensitively: compare the way it routes.
    const base = req.baseUrl.toLowerCase();
    if (TOKENLESS.has(`${req.method} ${base}${req.path.toLowerCase()}`)) return next();
    const media = base === "/media";
    const write = req.method !== "GET" && req.method !== "HEAD" && req.method !== "OPTIONS";
    const gate = write ? (media ? writer : reader) : media ? mediaReader : reader;
    void gate(req, res, next);
  };
}

/** `GET /healthz`: the process answers. */
function healthz(): RequestHandler {
  return (_req, res) => {
    res.json({ status: "ok" });
  };
}

/** `GET /readyz`: 200 once rooms can be created, else 503 `not_ready`. */
function readyz(deps: HttpDeps): RequestHandler {
  return (_req, res) => {
    if (deps.isReady()) res.json({ status: "ready" });
    else fail(res, 503, "not_ready", "server is starting or shutting down");
  };
}

/** `GET /metrics`: Prometheus on the same host scrapes without a token; anyone else sends one. */
function metrics(deps: HttpDeps): RequestHandler {
  return async (req, res) => {
    if (!isLocalRequest(req)) {
      const who = await identify(deps.tokens, req);
      if ("reason" in who) return unauthorized(res, who.reason, who.invalid);
    }
    const { contentType, body } = await deps.metrics.render();
    res.type(contentType).send(body);
  };
}

/** `GET /api/robot`: joints, limits, named poses. */
function robotSummary(deps: HttpDeps): RequestHandler {
  return (_req, res) => {
    res.json(deps.robot.summary);
  };
}

/** `GET /api/robot/urdf`: read on the first request only (it does not change while running). */
function robotUrdf(deps: HttpDeps): RequestHandler {
  let urdf: Promise<string> | undefined;
  return async (_req, res) => {
    urdf ??= readFile(deps.robot.urdfPath, "utf8").catch((err: unknown) => {
      urdf = undefined;
      throw err;
    });
    res.type("application/xml").send(await urdf);
  };
}

/** `GET /api/rooms`: this process's open rooms with client counts. */
function listRooms(): RequestHandler {
  return async (_req, res) => {
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
  };
}

/** `GET /api/rooms/:roomId/robot`: a twin room's robot snapshot. */
function roomRobot(deps: HttpDeps): RequestHandler<{ roomId: string }> {
  return (req, res) => {
    const session = twinSession(deps, req.params.roomId, res);
    if (session) res.json(session.robotSnapshot());
  };
}

/** `GET /api/rooms/:roomId/plans`: a twin room's plans, summarised. */
function roomPlans(deps: HttpDeps): RequestHandler<{ roomId: string }> {
  return (req, res) => {
    const session = twinSession(deps, req.params.roomId, res);
    if (session) res.json(session.listPlans());
  };
}

/** `GET /api/rooms/:roomId/plans/:planId`: one plan with its full trajectory. */
function roomPlan(deps: HttpDeps): RequestHandler<{ roomId: string; planId: string }> {
  return (req, res) => {
    const session = twinSession(deps, req.params.roomId, res);
    if (!session) return;
    const plan = session.getPlan(req.params.planId);
    if (!plan) return fail(res, 404, "not_found", `no plan ${req.params.planId}`);
    res.json(plan);
  };
}

/** The twin session of `:roomId`, or undefined after answering 404. */
function twinSession(deps: HttpDeps, roomId: string, res: Response): TwinSession | undefined {
  const session = deps.registry.get(roomId);
  if (!session) fail(res, 404, "not_found", `no twin room ${roomId}`);
  return session;
}

/** `POST /api/dev/token`: a development join token for a client on this machine. */
function devToken(deps: HttpDeps): RequestHandler {
  return async (req, res) => {
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
  };
}

/** `POST /api/login`: redeems a one-time login code for an operator token. */
function login(deps: HttpDeps): RequestHandler {
  return async (req, res) => {
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
  };
}

/** `GET /api/openapi.json`: this API as an OpenAPI 3.1 document. */
function openApi(): RequestHandler {
  return (_req, res) => {
    res.set("Cache-Control", "no-cache").json(openApiDocument());
  };
}
