/**
 * Spaces over HTTP (mounted under `/api`; see server/metaverse/space-scenes.ts):
 *
 *   GET    /spaces         every space: name, created, updated, a summary of its scene
 *   POST   /spaces         `{ name }` → 201, an empty space (operator; 409 when it exists)
 *   GET    /spaces/:name   one space with its whole stored scene
 *   DELETE /spaces/:name   deletes it and its media files (operator); a room open on it
 *                          (on any process) goes back to idle, told by its scene's `error`
 *
 * A bad name is 400, an unknown one 404; a damaged stored space is left out of the listing
 * (and logged) and read as 500. Reads need any token (the `/api` gate in routes.ts); the
 * writes check for the operator role here.
 */
import express, {
  type NextFunction,
  type Request,
  type RequestHandler,
  type Response,
} from "express";
import type { Logger } from "pino";
import { z } from "zod";
import type { TokenService } from "../auth/tokens.ts";
import type { SpaceScenes } from "../metaverse/space-scenes.ts";
import {
  isSpaceName,
  SPACE_NAME_PATTERN,
  SPACE_NAME_RULE,
  SpaceCorruptError,
  type SpaceRecord,
} from "../store/space-store.ts";
import { fail } from "./errors.ts";
import { requireBearer } from "./operator-auth.ts";

/** Body of `POST /api/spaces`. */
export const CreateSpaceRequest = z.strictObject({
  name: z.string().regex(SPACE_NAME_PATTERN, SPACE_NAME_RULE),
});

/** What the listing shows of a space's scene. */
export interface SpaceSummary {
  name: string;
  created: string;
  updated: string;
  scene: {
    version: number;
    streamUrl: string;
    /** Rendition names, lowest bitrate first. */
    renditions: string[];
    assetUrl: string;
    assetBytes: number;
  };
}

export interface SpaceRouteDeps {
  spaces: SpaceScenes;
  tokens: TokenService;
  logger: Logger;
}

/** The space routes with their own JSON body parser, to mount under `/api`. */
export function spaceRouter(deps: SpaceRouteDeps): express.Router {
  const router = express.Router();
  router.use("/spaces", express.json({ limit: "4kb" }));
  const operator = requireBearer(deps.tokens, ["operator"]);
  router.get("/spaces", guarded(deps, listSpaces(deps)));
  router.post("/spaces", operator, guarded(deps, createSpace(deps)));
  router.get("/spaces/:name", guarded(deps, readSpace(deps)));
  router.delete("/spaces/:name", operator, guarded(deps, deleteSpace(deps)));
  return router;
}

/** `GET /spaces`: every readable space, by name. */
function listSpaces(deps: SpaceRouteDeps): RequestHandler {
  return async (_req, res) => {
    const records = await deps.spaces.store.list((err) =>
      deps.logger.warn({ err, space: err.space }, "a stored space is damaged; left out"),
    );
    res.set("Cache-Control", "no-store").json(records.map(summary));
  };
}

/** `POST /spaces`: an empty space, to upload to before anyone joins it. */
function createSpace(deps: SpaceRouteDeps): RequestHandler {
  return async (req, res) => {
    const body = CreateSpaceRequest.safeParse(req.body ?? {});
    if (!body.success) return fail(res, 400, "bad_request", body.error.issues[0]!.message);
    const record = await deps.spaces.store.create(body.data.name);
    if (!record) return fail(res, 409, "conflict", `space ${body.data.name} exists`);
    res.status(201).location(`/api/spaces/${record.name}`).json(record);
  };
}

/** `GET /spaces/:name`: the whole stored record. */
function readSpace(deps: SpaceRouteDeps): RequestHandler {
  return async (req, res) => {
    const name = checkedName(req, res);
    if (name === undefined) return;
    const record = await deps.spaces.store.get(name);
    if (!record) return fail(res, 404, "not_found", `no space ${name}`);
    res.set("Cache-Control", "no-store").json(record);
  };
}

/** `DELETE /spaces/:name`: the record and its media; open rooms go idle. */
function deleteSpace(deps: SpaceRouteDeps): RequestHandler {
  return async (req, res) => {
    const name = checkedName(req, res);
    if (name === undefined) return;
    if (!(await deps.spaces.remove(name))) return fail(res, 404, "not_found", `no space ${name}`);
    res.json({ name, deleted: true });
  };
}

/** The `:name` parameter, or undefined after answering 400. */
function checkedName(req: Request, res: Response): string | undefined {
  const name = req.params.name;
  if (isSpaceName(name)) return name;
  fail(res, 400, "bad_request", SPACE_NAME_RULE);
  return undefined;
}

/** The listing's view of a record. */
function summary(r: SpaceRecord): SpaceSummary {
  return {
    name: r.name,
    created: r.created,
    updated: r.updated,
    scene: {
      version: r.scene.version,
      streamUrl: r.scene.streamUrl,
      renditions: r.scene.renditions.map((x) => x.name),
      assetUrl: r.scene.assetUrl,
      assetBytes: r.scene.assetBytes,
    },
  };
}

/** Runs `handler`, answering a damaged space 500 with its reason and a store failure 500. */
function guarded(deps: SpaceRouteDeps, handler: RequestHandler): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    try {
      await handler(req, res, next);
    } catch (err) {
      if (err instanceof SpaceCorruptError) {
        deps.logger.error({ err, space: err.space }, "a stored space is damaged");
        return fail(res, 500, "internal", err.message);
      }
      deps.logger.error({ err, path: req.path }, "space request failed");
      fail(res, 500, "internal", "the space store failed; see the server log");
    }
  };
}
