/**
 * The routes an express 5 app has mounted, read from its router stack, and the answers for
 * requests no route takes: 405 with `Allow` for a known path with another method, a JSON
 * 404 for an unknown path (never express's HTML page), JSON for request errors.
 */
import type { Application, NextFunction, Request, Response } from "express";
import type { Logger } from "pino";
import { fail } from "./errors.ts";

/** One method on one path, in express syntax (`/api/rooms/:roomId`, `/media/video/*file`). */
export interface MountedRoute {
  /** Upper case; `ALL` for `app.all`. */
  readonly method: string;
  readonly path: string;
}

interface StackLayer {
  rawPath?: unknown;
  route?: { path: unknown; methods: Record<string, boolean> };
  handle?: { stack?: StackLayer[] };
}

const asPaths = (p: unknown): string[] =>
  (Array.isArray(p) ? p.flat(Infinity) : [p]).filter((x): x is string => typeof x === "string");

/**
 * Every route of `app`, nested routers included (`app.use("/api", router)`), in stack order.
 * Middleware that is not a route (static folders, gates) is not listed.
 */
export function mountedRoutes(app: Application): MountedRoute[] {
  const out: MountedRoute[] = [];
  const walk = (stack: readonly StackLayer[], prefixes: readonly string[]) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const prefix of prefixes) {
          for (const path of asPaths(layer.route.path)) {
            for (const [m, on] of Object.entries(layer.route.methods)) {
              if (!on) continue;
              out.push({ method: m === "_all" ? "ALL" : m.toUpperCase(), path: prefix + path });
            }
          }
        }
      } else if (layer.handle?.stack) {
        const mounts = layer.rawPath === undefined ? [""] : asPaths(layer.rawPath);
        const next = prefixes.flatMap((p) => mounts.map((m) => p + (m === "/" ? "" : m)));
        walk(layer.handle.stack, next);
      }
    }
  };
  const router = (app as unknown as { router?: { stack: StackLayer[] } }).router;
  walk(router?.stack ?? [], [""]);
  return out;
}

/** An express path as a case-insensitive regular expression (`:p` one segment, `*p` the rest). */
export function pathPattern(path: string): RegExp {
  const body = path
    .split(/(:\w+|\*\w+)/)
    .map((part) =>
      part.startsWith(":")
        ? "[^/]+"
        : part.startsWith("*")
          ? ".+"
          : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"),
    )
    .join("");
  return new RegExp(`^${body}/?$`, "i");
}

/** A route with its path compiled (see {@link pathPattern}). */
export interface RoutePattern extends MountedRoute {
  readonly pattern: RegExp;
}

/** `routes` with their paths compiled, for {@link allowedMethods}. */
export function routePatterns(routes: readonly MountedRoute[]): RoutePattern[] {
  return routes.map((r) => ({ ...r, pattern: pathPattern(r.path) }));
}

/** The methods `routes` answer on `path` (with HEAD wherever GET is), sorted; [] if none. */
export function allowedMethods(routes: readonly RoutePattern[], path: string): string[] {
  const methods = new Set<string>();
  for (const r of routes) {
    if (!r.pattern.test(path)) continue;
    if (r.method === "ALL") return ["ALL"];
    methods.add(r.method);
    if (r.method === "GET") methods.add("HEAD");
  }
  if (methods.size > 0) methods.add("OPTIONS");
  return [...methods].sort();
}

/**
 * Mounts the last handlers of `app`; call after every route is mounted.
 * @param extra routes answered before express sees the request (Colyseus's matchmaking)
 */
export function mountFallbacks(
  app: Application,
  logger: Logger,
  extra: () => readonly MountedRoute[] = () => [],
): void {
  // Read and compiled at the first unmatched request, when every route is mounted.
  let known: RoutePattern[] | undefined;
  app.use((req: Request, res: Response) => {
    known ??= routePatterns([...mountedRoutes(app), ...extra()]);
    const allow = allowedMethods(known, req.path);
    if (allow.length > 0 && !allow.includes("ALL")) {
      res.set("Allow", allow.join(", "));
      return fail(res, 405, "method_not_allowed", `${req.method} is not allowed here`);
    }
    fail(res, 404, "not_found", "no such endpoint");
  });

  // Malformed JSON bodies and other request errors end here, never in a crash or an HTML page.
  app.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    const status = (err as { status?: number }).status;
    if (typeof status === "number" && status >= 400 && status < 500) {
      return fail(
        res,
        status,
        status === 413 ? "too_large" : "bad_request",
        (err as Error).message,
      );
    }
    logger.error({ err }, "http handler failed");
    fail(res, 500, "internal", "internal error");
  });
}

/** The part of Colyseus's HTTP router (better-call) this module touches. */
export interface ColyseusRouter {
  endpoints: Record<string, unknown>;
  findRoute(method: string, path: string): { data?: unknown } | undefined;
}

/**
 * Colyseus's router also serves `GET /api/reference`: an HTML page of its own generated
 * API description that loads a script from a CDN, answered before express (so before our
 * `/api` token gate) and naming only its matchmaking route. Our description is
 * `/api/openapi.json`; this drops theirs, so the path falls through to express (401 without
 * a token, else 404). Call after `listen` (when Colyseus has bound its router).
 */
export function dropColyseusReference(router: ColyseusRouter): void {
  const reference = router.endpoints.openapi;
  if (reference === undefined) return;
  delete router.endpoints.openapi;
  const find = router.findRoute.bind(router);
  router.findRoute = (method, path) => {
    const found = find(method, path);
    return found?.data === reference ? undefined : found;
  };
}
