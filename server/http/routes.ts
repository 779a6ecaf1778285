/**
 * HTTP API beside the websocket rooms (same http server):
 *
 *   GET  /healthz                      liveness: the process answers
 *   GET  /readyz                       readiness: robot model loaded, rooms can be created
 *   GET  /metrics                      Prometheus text
 *   GET  /api/robot                    arm description: joints, limits, named poses
 *   GET  /api/robot/urdf               the URDF the server uses (for viewers)
 *   GET  /api/rooms                    open rooms of this process with client counts
 *   GET  /api/rooms/:roomId/robot      robot snapshot of a twin room
 *   GET  /api/rooms/:roomId/plans      plans of a twin room (summaries)
 *   GET  /api/rooms/:roomId/plans/:id  one plan with its full trajectory
 *   GET  /api/recordings               MCAP recordings of twin sessions (newest first)
 *   GET  /api/recordings/:name         download one (Range supported; opens in Foxglove)
 *   POST /api/dev/token                development join tokens (only when enabled)
 *
 * Errors are JSON `{ error: { code, message } }` with a fitting status.
 */
import express, { type NextFunction, type Request, type Response } from "express";
import { readFile } from "node:fs/promises";
import { matchMaker } from "@colyseus/core";
import type { Logger } from "pino";
import { z } from "zod";
import { ROLES, type Role } from "../auth/roles.ts";
import type { TokenService } from "../auth/tokens.ts";
import type { Config } from "../config.ts";
import type { TwinRegistry } from "../twin/registry.ts";
import type { RobotDescription } from "../twin/robot-description.ts";
import type { ServerMetrics } from "./metrics.ts";
import { mountRecordingRoutes } from "./recordings.ts";
import { RecordingStore } from "../store/recording-store.ts";

export interface HttpDeps {
  config: Config;
  logger: Logger;
  metrics: ServerMetrics;
  tokens: TokenService;
  registry: TwinRegistry;
  robot: RobotDescription;
  /** False until the process can serve rooms (and again while shutting down). */
  isReady(): boolean;
}

const DevTokenRequest = z.strictObject({
  name: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[\w .-]+$/),
  role: z.enum(ROLES as [Role, ...Role[]]).default("operator"),
});

function fail(res: Response, status: number, code: string, message: string): void {
  res.status(status).json({ error: { code, message } });
}

/** Mounts the routes on `app` (the express app sharing the Colyseus http server). */
export function mountHttpRoutes(app: express.Application, deps: HttpDeps): void {
  const api = express.Router();
  api.use(express.json({ limit: "16kb" }));

  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });

  app.get("/readyz", (_req, res) => {
    if (deps.isReady()) res.json({ status: "ready" });
    else fail(res, 503, "not_ready", "server is starting or shutting down");
  });

  app.get("/metrics", async (_req, res) => {
    const { contentType, body } = await deps.metrics.render();
    res.type(contentType).send(body);
  });

  api.get("/robot", (_req, res) => {
    res.json(deps.robot.summary);
  });

  api.get("/robot/urdf", async (_req, res) => {
    res.type("application/xml").send(await readFile(deps.robot.urdfPath, "utf8"));
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
    const body = DevTokenRequest.safeParse(req.body ?? {});
    if (!body.success) return fail(res, 400, "invalid_request", body.error.issues[0]!.message);
    const { name, role } = body.data;
    const token = await deps.tokens.issue({ userId: name, name, role }, deps.config.auth.tokenTtlS);
    res.json({ token, role, expiresInS: deps.config.auth.tokenTtlS });
  });

  mountRecordingRoutes(api, new RecordingStore(deps.config.recording.dir), deps.logger);

  api.use((_req, res) => {
    fail(res, 404, "not_found", "no such endpoint");
  });

  app.use("/api", api);

  // Malformed JSON bodies and other request errors end here, never in a crash.
  app.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    const status = (err as { status?: number }).status;
    if (typeof status === "number" && status >= 400 && status < 500) {
      return fail(res, status, "bad_request", (err as Error).message);
    }
    deps.logger.error({ err }, "http handler failed");
    fail(res, 500, "internal", "internal error");
  });
}
