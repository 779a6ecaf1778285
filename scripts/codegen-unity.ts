/**
 * Generates the Unity bridge's C# schema classes from the server's Colyseus schema, and keeps
 * the package's Unity `.meta` files complete.
 *
 *   npm run codegen:unity
 *
 * 1. Runs `schema-codegen` (@colyseus/schema) over `shared/schema/*-state.ts` into
 *    `unity-bridge/Runtime/Schema` (namespace `AgentTwin.Schema`), one file per class; stale
 *    files of classes that no longer exist are removed. The generator reads the TypeScript
 *    sources directly (it understands the `schema()` builder), so nothing is transpiled first.
 * 2. Gives every asset of the package a `.meta` file and removes orphaned ones. Unity ignores
 *    assets without one in an immutable (git or registry) package, so they are committed.
 *    GUIDs are derived from the package name and the asset's path, so a re-run (or a run on
 *    another machine) produces the same ones; existing `.meta` files are never rewritten.
 *
 * The unit test `test/unit/unity-bridge.test.ts` regenerates into a temporary folder and fails
 * when the committed classes differ, so a schema change without a re-run is caught.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const ROOT = fileURLToPath(new URL("../", import.meta.url));
/** The UPM package folder. */
export const PACKAGE_DIR = join(ROOT, "unity-bridge");
/** UPM package name; also the salt of the derived `.meta` GUIDs. */
export const PACKAGE_NAME = "com.agenttwin.bridge";
/** Schema sources, relative to the repository root, in generation order. */
export const SCHEMA_SOURCES = ["shared/schema/twin-state.ts", "shared/schema/metaverse-state.ts"];
/** Where the generated classes are committed. */
export const SCHEMA_OUT = join(PACKAGE_DIR, "Runtime", "Schema");
export const SCHEMA_NAMESPACE = "AgentTwin.Schema";

const CODEGEN_CLI = join(ROOT, "node_modules", "@colyseus", "schema", "bin", "schema-codegen");

/**
 * Runs the Colyseus schema generator into `outDir` (created if missing).
 * @returns the generated file names, sorted
 * @throws when the generator fails or produces nothing
 */
export function generateSchema(outDir: string): string[] {
  mkdirSync(outDir, { recursive: true });
  const args = [
    CODEGEN_CLI,
    ...SCHEMA_SOURCES.map((s) => join(ROOT, s)),
    "--csharp",
    "--output",
    outDir,
    "--namespace",
    SCHEMA_NAMESPACE,
  ];
  const run = spawnSync(process.execPath, args, { cwd: ROOT, encoding: "utf8" });
  if (run.status !== 0) {
    throw new Error(`schema-codegen failed (${run.status}):\n${run.stdout}\n${run.stderr}`);
  }
  const files = readdirSync(outDir)
    .filter((f) => f.endsWith(".cs"))
    .sort();
  if (files.length === 0) throw new Error(`schema-codegen wrote no C# files:\n${run.stdout}`);
  return files;
}

/** Regenerates `SCHEMA_OUT`: writes changed classes, removes classes no longer generated. */
export function regenerateCommittedSchema(): { written: string[]; removed: string[] } {
  const tmp = mkdtempSync(join(tmpdir(), "agenttwin-codegen-"));
  try {
    const files = generateSchema(tmp);
    mkdirSync(SCHEMA_OUT, { recursive: true });
    const written: string[] = [];
    for (const f of files) {
      const text = readFileSync(join(tmp, f));
      const target = join(SCHEMA_OUT, f);
      if (!existsSync(target) || !readFileSync(target).equals(text)) {
        writeFileSync(target, text);
        written.push(f);
      }
    }
    const keep = new Set(files);
    const removed = readdirSync(SCHEMA_OUT).filter((f) => f.endsWith(".cs") && !keep.has(f));
    for (const f of removed) rmSync(join(SCHEMA_OUT, f));
    return { written, removed };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------
// Unity .meta files

/**
 * Whether Unity imports `name` inside a package: hidden (`.x`) and `x~` entries are skipped
 * by the importer (`Samples~`, the CI stubs in `ci~`), as are `.meta` files themselves.
 */
function imported(name: string): boolean {
  return !name.startsWith(".") && !name.endsWith("~") && !name.endsWith(".meta");
}

/** Every imported file and folder of the package, as paths relative to it (`/` separated). */
export function packageAssets(packageDir = PACKAGE_DIR): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      if (!imported(name)) continue;
      const path = join(dir, name);
      out.push(relative(packageDir, path).split(sep).join("/"));
      if (statSync(path).isDirectory()) walk(path);
    }
  };
  walk(packageDir);
  return out;
}

/** The GUID Unity will know `asset` by: 32 hex digits from the package name and path. */
export function metaGuid(asset: string): string {
  return createHash("md5").update(`${PACKAGE_NAME}/${asset}`).digest("hex");
}

const META_TAIL =
  "  externalObjects: {}\n  userData: \n  assetBundleName: \n  assetBundleVariant: \n";

/** Text of a fresh `.meta` file for `asset` (the importer Unity would pick for it). */
export function metaText(asset: string, isDirectory: boolean): string {
  const head = `fileFormatVersion: 2\nguid: ${metaGuid(asset)}\n`;
  if (isDirectory) return `${head}folderAsset: yes\nDefaultImporter:\n${META_TAIL}`;
  if (asset.endsWith(".cs")) {
    return (
      `${head}MonoImporter:\n  externalObjects: {}\n  serializedVersion: 2\n` +
      "  defaultReferences: []\n  executionOrder: 0\n  icon: {instanceID: 0}\n" +
      "  userData: \n  assetBundleName: \n  assetBundleVariant: \n"
    );
  }
  if (asset.endsWith(".asmdef")) return `${head}AssemblyDefinitionImporter:\n${META_TAIL}`;
  if (asset === "package.json") return `${head}PackageManifestImporter:\n${META_TAIL}`;
  if (/\.(md|txt|json)$/.test(asset)) return `${head}TextScriptImporter:\n${META_TAIL}`;
  return `${head}DefaultImporter:\n${META_TAIL}`;
}

/** What is wrong with the package's `.meta` files (empty when nothing). */
export function metaProblems(packageDir = PACKAGE_DIR): string[] {
  const problems: string[] = [];
  const assets = new Set(packageAssets(packageDir));
  const guids = new Map<string, string>();
  for (const asset of assets) {
    const meta = join(packageDir, `${asset}.meta`);
    if (!existsSync(meta)) {
      problems.push(`missing ${asset}.meta`);
      continue;
    }
    const guid = /^guid: ([0-9a-f]{32})$/m.exec(readFileSync(meta, "utf8"))?.[1];
    if (!guid) problems.push(`${asset}.meta has no guid line`);
    else if (guids.has(guid)) problems.push(`${asset}.meta reuses the guid of ${guids.get(guid)}`);
    else guids.set(guid, asset);
  }
  for (const meta of orphanMetas(packageDir, assets)) problems.push(`orphan ${meta}`);
  return problems;
}

function orphanMetas(packageDir: string, assets: Set<string>): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      const rel = relative(packageDir, path).split(sep).join("/");
      if (name.endsWith(".meta")) {
        if (!assets.has(rel.slice(0, -".meta".length))) out.push(rel);
      } else if (imported(name) && statSync(path).isDirectory()) {
        walk(path);
      }
    }
  };
  walk(packageDir);
  return out.sort();
}

/** Creates missing `.meta` files and removes orphaned ones; never rewrites existing ones. */
export function syncMetaFiles(packageDir = PACKAGE_DIR): { created: string[]; removed: string[] } {
  const assets = new Set(packageAssets(packageDir));
  const created: string[] = [];
  for (const asset of assets) {
    const meta = join(packageDir, `${asset}.meta`);
    if (existsSync(meta)) continue;
    writeFileSync(meta, metaText(asset, statSync(join(packageDir, asset)).isDirectory()));
    created.push(`${asset}.meta`);
  }
  const removed = orphanMetas(packageDir, assets);
  for (const meta of removed) rmSync(join(packageDir, meta));
  return { created, removed };
}

function main(): void {
  const schema = regenerateCommittedSchema();
  const metas = syncMetaFiles();
  const line = (label: string, items: string[]) =>
    console.log(`${label}: ${items.length ? items.join(", ") : "none"}`);
  console.log(`schema-codegen ${SCHEMA_SOURCES.join(" ")} → ${relative(ROOT, SCHEMA_OUT)}`);
  line("classes written", schema.written);
  line("classes removed", schema.removed);
  line(".meta created", metas.created);
  line(".meta removed", metas.removed);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
