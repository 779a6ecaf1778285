/**
 * Bundles the web viewer (`server/http/viewer/`) with esbuild into a folder the server
 * serves (`mountViewer` in server/http/viewer-routes.ts):
 *
 *   <out>/index.html           the page, naming the hashed entry files
 *   <out>/viewer/main-<hash>.js, main-<hash>.css, chunk-<hash>.js (the metaverse view and
 *                              hls.js load only when that view opens), source maps
 *
 *   npm run build:viewer [-- --out DIR] [-- --no-minify] [-- --check]
 *
 * Offline and fast (about a second): everything comes from node_modules. The new build is
 * written beside the old one and swapped in with renames, so a running server never serves
 * a half-written folder. `--check` also type-checks the viewer against the DOM library
 * (its own tsconfig; the root project has no DOM types).
 */
import { execFile } from "node:child_process";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";
import { build, type Metafile } from "esbuild";
import { DEFAULT_VIEWER_DIST_DIR, VIEWER_ASSET_PREFIX } from "../server/http/viewer-routes.ts";

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
/** Sources of the viewer (browser TypeScript, the page template, the style sheet). */
export const VIEWER_SRC_DIR = join(REPO_ROOT, "server/http/viewer");
const ASSETS_MARKER = "<!-- viewer:assets -->";

export interface BuildViewerOptions {
  /** Output folder; default {@link DEFAULT_VIEWER_DIST_DIR}. */
  outDir?: string;
  /** Minify the bundle (default true). */
  minify?: boolean;
}

export interface BuildViewerResult {
  outDir: string;
  /** Files written, relative to `outDir`. */
  files: string[];
  /** Bytes of the entry script (without lazily loaded chunks). */
  entryBytes: number;
  ms: number;
}

/** Builds the viewer into `outDir` (replacing what was there). */
export async function buildViewer(options: BuildViewerOptions = {}): Promise<BuildViewerResult> {
  const t0 = performance.now();
  const outDir = resolve(options.outDir ?? DEFAULT_VIEWER_DIST_DIR);
  const staging = `${outDir}.tmp-${process.pid}-${Date.now()}`;
  await rm(staging, { recursive: true, force: true });
  try {
    const result = await build({
      absWorkingDir: REPO_ROOT,
      entryPoints: {
        main: join(VIEWER_SRC_DIR, "main.ts"),
        viewer: join(VIEWER_SRC_DIR, "viewer.css"),
      },
      outdir: join(staging, "viewer"),
      bundle: true,
      format: "esm",
      splitting: true,
      platform: "browser",
      // Browsers of current headsets (Quest / PICO browsers are Chromium) and desktops.
      target: ["es2022", "chrome111", "firefox115", "safari16.4"],
      minify: options.minify ?? true,
      sourcemap: "linked",
      entryNames: "[name]-[hash]",
      chunkNames: "chunk-[hash]",
      assetNames: "[name]-[hash]",
      legalComments: "linked",
      define: { "process.env.NODE_ENV": '"production"' },
      metafile: true,
      logLevel: "silent",
      write: true,
    });
    for (const w of result.warnings) console.warn(`build-viewer: ${w.text}`);
    const { js, css, bytes } = entryFiles(result.metafile, join(staging, "viewer"));

    const template = await readFile(join(VIEWER_SRC_DIR, "index.html"), "utf8");
    if (!template.includes(ASSETS_MARKER)) {
      throw new Error(`index.html lacks the ${ASSETS_MARKER} marker`);
    }
    const tags = [
      `<link rel="stylesheet" href="${VIEWER_ASSET_PREFIX}/${css}" />`,
      `<script type="module" src="${VIEWER_ASSET_PREFIX}/${js}"></script>`,
    ];
    await writeFile(
      join(staging, "index.html"),
      template.replace(ASSETS_MARKER, tags.join("\n    ")),
    );

    await swapIn(staging, outDir);
    const files = [
      "index.html",
      ...Object.keys(result.metafile.outputs).map((f) =>
        join("viewer", relative(join(staging, "viewer"), resolve(REPO_ROOT, f))),
      ),
    ];
    return {
      outDir,
      files,
      entryBytes: bytes,
      ms: performance.now() - t0,
    };
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
}

/** The entry script and the style sheet, as file names inside the output folder. */
function entryFiles(
  metafile: Metafile,
  outDir: string,
): { js: string; css: string; bytes: number } {
  let js: { name: string; bytes: number } | undefined;
  let css: string | undefined;
  // Lazily imported modules are entry points of their own chunks too: match the sources.
  const source = (name: string) => resolve(VIEWER_SRC_DIR, name);
  for (const [file, out] of Object.entries(metafile.outputs)) {
    if (!out.entryPoint || dirname(resolve(REPO_ROOT, file)) !== outDir) continue;
    const from = resolve(REPO_ROOT, out.entryPoint);
    if (from === source("main.ts") && file.endsWith(".js")) {
      js = { name: basename(file), bytes: out.bytes };
    } else if (from === source("viewer.css") && file.endsWith(".css")) css = basename(file);
  }
  if (!js || !css) throw new Error("esbuild wrote no entry script or style sheet");
  return { js: js.name, css, bytes: js.bytes };
}

/** Replaces `outDir` with `staging` by renames (a reader sees the old or the new folder). */
async function swapIn(staging: string, outDir: string): Promise<void> {
  await mkdir(dirname(outDir), { recursive: true });
  const old = `${outDir}.old-${process.pid}-${Date.now()}`;
  await rename(outDir, old).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== "ENOENT") throw err;
  });
  await rename(staging, outDir);
  await rm(old, { recursive: true, force: true });
}

/** Type-checks the viewer with its own tsconfig (DOM library). Rejects with tsc's output. */
export async function typecheckViewer(): Promise<void> {
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  await promisify(execFile)(process.execPath, [tsc, "-p", join(VIEWER_SRC_DIR, "tsconfig.json")], {
    cwd: REPO_ROOT,
    maxBuffer: 16 * 1024 * 1024,
  }).catch((err: { stdout?: string; stderr?: string }) => {
    throw new Error(`viewer type errors:\n${err.stdout ?? ""}${err.stderr ?? ""}`);
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: "string" },
      "no-minify": { type: "boolean", default: false },
      check: { type: "boolean", default: false },
    },
  });
  if (values.check) await typecheckViewer();
  const r = await buildViewer({
    ...(values.out !== undefined && { outDir: values.out }),
    minify: !values["no-minify"],
  });
  const where = relative(process.cwd(), r.outDir) || ".";
  console.log(
    `viewer built in ${r.ms.toFixed(0)} ms → ${where} (${r.files.length} files, entry ${(
      r.entryBytes / 1024
    ).toFixed(0)} KiB)`,
  );
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  });
}
