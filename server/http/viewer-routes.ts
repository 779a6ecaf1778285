/**
 * Serves the web viewer (three.js twin view, metaverse view, WebXR) that
 * `scripts/build-viewer.ts` bundles from `server/http/viewer/` into a build folder:
 *
 *   GET /, /index.html     the page (revalidated on every load: `no-cache` + ETag)
 *   GET /viewer/<file>     bundle files; names carry a content hash, so cached for a year
 *
 * Only files the build wrote are served: no directory listings, no dotfiles, no fallback
 * to the page for unknown paths (a typo in an asset URL is a 404, not HTML parsed as
 * JavaScript). When the viewer has not been built the page answers 503 with the command
 * that builds it, so the API keeps working either way.
 */
import { resolve } from "node:path";
import express, { type Request, type Response } from "express";
import { DEFAULT_VIEWER_DIR, REPO_ROOT } from "../config.ts";

/** Where `npm run build:viewer` writes by default: gitignored, outside the sources. */
export const DEFAULT_VIEWER_DIST_DIR = resolve(REPO_ROOT, DEFAULT_VIEWER_DIR);

/** URL prefix of the bundle files (the build writes them to `<distDir>/viewer`). */
export const VIEWER_ASSET_PREFIX = "/viewer";

export interface ViewerOptions {
  /** Folder holding `index.html` and `viewer/` as written by the build script. */
  distDir: string;
}

/**
 * Page policy: scripts only from this origin (no inline script, no eval), websockets to
 * the rooms, media and workers from blob: (hls.js feeds the video element through
 * MediaSource and may transmux in a worker), WebXR allowed for this origin only.
 */
const PAGE_HEADERS: Readonly<Record<string, string>> = {
  "Cache-Control": "no-cache",
  "Content-Security-Policy": [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob:",
    "connect-src 'self' ws: wss:",
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'none'",
  ].join("; "),
  "Permissions-Policy": "xr-spatial-tracking=(self)",
  "Referrer-Policy": "no-referrer",
  "X-Content-Type-Options": "nosniff",
};

/** Mounts the page and its bundle on `app` (GET and HEAD only). */
export function mountViewer(app: express.Application, options: ViewerOptions): void {
  const distDir = resolve(options.distDir);

  const assets = express.static(resolve(distDir, "viewer"), {
    index: false,
    redirect: false,
    dotfiles: "ignore",
    fallthrough: true,
    immutable: true,
    maxAge: "365d",
    setHeaders: (res) => res.setHeader("X-Content-Type-Options", "nosniff"),
  });
  app.use(VIEWER_ASSET_PREFIX, assets, (req: Request, res: Response, next) => {
    if (req.method !== "GET" && req.method !== "HEAD") return next();
    res.status(404).type("text/plain").set("Cache-Control", "no-store").send("not found\n");
  });

  const page = (_req: Request, res: Response) => {
    res.sendFile(
      "index.html",
      { root: distDir, dotfiles: "deny", cacheControl: false, headers: PAGE_HEADERS },
      (err?: Error) => {
        if (!err || res.headersSent) return;
        res
          .status(503)
          .type("text/plain")
          .set("Cache-Control", "no-store")
          .send("The web viewer is not built: run `npm run build:viewer` (npm start does).\n");
      },
    );
  };
  app.get(["/", "/index.html"], page);
}
