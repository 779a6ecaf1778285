/**
 * Generates the Unity bridge's C# schema classes from the server's Colyseus schema, and keeps
 * the package's Unity `.meta` files complete.
 *
 *   npm run codegen:unity
 *
 * 1. Reads the schema classes the server encodes (`shared/schema/*-state.ts`, their runtime
 *    field metadata: the wire truth, whatever syntax the sources use), writes them as
 *    decorated classes (`@type("float32") x`) into a temporary file, and runs the official
 *    generator of the installed `@colyseus/schema` (`schema-codegen --csharp`) on it. The 4.x
 *    generator parses decorated classes; it misreads the `schema({...}, "Name")` builder.
 * 2. Post-processes its output so it compiles and decodes in the Colyseus Unity SDK 0.17:
 *    - the base class is written `global::Colyseus.Schema.Schema`, because inside
 *      `namespace AgentTwin.Schema` a bare `Schema` names that namespace;
 *    - every field's C# type is the type the SDK's decoder produces for its wire type
 *      (`DECODER_TYPES`, from `Colyseus.Schema.Utils.Decode.DecodePrimitiveType`): the SDK
 *      assigns decoded values with an unboxing cast, so `ArraySchema<double>` for a float32
 *      array throws InvalidCastException;
 *    - collections and child structures start as empty instances and strings as "" (the
 *      server's defaults), so code reading the state before the first patch sees no nulls.
 *    One file per class goes to `unity-bridge/Runtime/Schema`; stale classes are removed.
 * 3. Gives every asset of the package a `.meta` file and removes orphaned ones. Unity ignores
 *    assets without one in an immutable (git or registry) package, so they are committed.
 *    GUIDs are derived from the package name and the asset's path, so a re-run (or a run on
 *    another machine) produces the same ones; existing `.meta` files are never rewritten.
 *
 * The unit test `test/unit/unity-bridge.test.ts` regenerates the classes in memory and fails
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
 * C# type the Colyseus Unity SDK 0.17 decoder produces for each primitive wire type
 * (`Decode.DecodePrimitiveType`): what a generated field or collection element must be.
 */
export const DECODER_TYPES: Readonly<Record<string, string>> = {
  string: "string",
  number: "float",
  boolean: "bool",
  int8: "sbyte",
  uint8: "byte",
  int16: "short",
  uint16: "ushort",
  int32: "int",
  uint32: "uint",
  int64: "long",
  uint64: "ulong",
  float32: "float",
  float64: "double",
};

type SchemaClass = { name: string; [key: symbol]: unknown };
type FieldType = string | SchemaClass | { array: FieldType } | { map: FieldType };
type FieldMeta = { name: string; index: number; type: FieldType };

const isSchemaClass = (v: unknown): v is SchemaClass =>
  typeof v === "function" &&
  typeof (v as unknown as { [k: symbol]: unknown })[Symbol.metadata] === "object";

/** The schema classes the sources export, in source order. */
export async function schemaClasses(): Promise<SchemaClass[]> {
  const out: SchemaClass[] = [];
  for (const source of SCHEMA_SOURCES) {
    const mod = (await import(pathToFileURL(join(ROOT, source)).href)) as Record<string, unknown>;
    for (const value of Object.values(mod)) if (isSchemaClass(value)) out.push(value);
  }
  return out;
}

function fields(klass: SchemaClass): FieldMeta[] {
  const md = klass[Symbol.metadata] as Record<string, FieldMeta>;
  return Object.keys(md)
    .filter((k) => /^\d+$/.test(k))
    .map((k) => md[k] as FieldMeta)
    .sort((a, b) => a.index - b.index);
}

function decoratorArg(type: FieldType): string {
  if (typeof type === "string") return JSON.stringify(type);
  if (isSchemaClass(type)) return type.name;
  if ("array" in type) return `[${decoratorArg(type.array)}]`;
  return `{ map: ${decoratorArg(type.map)} }`;
}

/** The classes as decorated TypeScript, the input the 4.x generator parses. */
export function decoratedSource(classes: SchemaClass[]): string {
  const lines = [
    "// Written by scripts/codegen-unity.ts from the runtime schema; input of schema-codegen.",
    'import { Schema, type, ArraySchema, MapSchema } from "@colyseus/schema";',
  ];
  for (const klass of classes) {
    lines.push(`export class ${klass.name} extends Schema {`);
    for (const f of fields(klass)) lines.push(`  @type(${decoratorArg(f.type)}) ${f.name}: any;`);
    lines.push("}");
  }
  return `${lines.join("\n")}\n`;
}

/** C# keywords a schema field may be named after (escaped with `@`, which C# allows). */
const CSHARP_KEYWORDS = new Set(
  (
    "abstract as base bool break byte case catch char checked class const continue decimal " +
    "default delegate do double else enum event explicit extern false finally fixed float for " +
    "foreach goto if implicit in int interface internal is lock long namespace new null object " +
    "operator out override params private protected public readonly ref return sbyte sealed " +
    "short sizeof stackalloc static string struct switch this throw true try typeof uint ulong " +
    "unchecked unsafe ushort using virtual void volatile while"
  ).split(" "),
);

/**
 * Makes one generated class compile and decode in the Unity SDK (see the file comment).
 * @throws when a field's wire type is unknown to the decoder
 */
export function postProcess(text: string, file: string): string {
  let out = text.replace(
    /^(\s*public partial class \w+ : )Schema \{/m,
    "$1global::Colyseus.Schema.Schema {",
  );
  const decoded = (wire: string) => {
    const cs = DECODER_TYPES[wire];
    if (!cs) throw new Error(`${file}: wire type "${wire}" has no decoder type`);
    return cs;
  };
  // Primitive fields: `[Type(i, "float32")]\n public <T> name = default(<T>);`
  out = out.replace(
    /(\[Type\(\d+, "(\w+)"\)\]\s+public )(\S+) (\w+) = [^;]+;/g,
    (_m, head: string, wire: string, _cs: string, name: string) => {
      const cs = decoded(wire);
      const init = cs === "string" ? '""' : `default(${cs})`;
      return `${head}${cs} ${name} = ${init};`;
    },
  );
  // Collections: `[Type(i, "array", typeof(ArraySchema<T>), "prim"?)]\n public ArraySchema<T> name = null;`
  out = out.replace(
    /\[Type\((\d+), "(array|map)", typeof\((ArraySchema|MapSchema)<(\w+)>\)(?:, "(\w+)")?\)\]\s+public \S+ (\w+) = [^;]+;/g,
    (
      _m,
      index: string,
      kind: string,
      coll: string,
      elem: string,
      prim: string | undefined,
      name: string,
    ) => {
      const t = prim ? decoded(prim) : elem;
      const full = `${coll}<${t}>`;
      const primArg = prim ? `, "${prim}"` : "";
      return `[Type(${index}, "${kind}", typeof(${full})${primArg})]\n\t\tpublic ${full} ${name} = new ${full}();`;
    },
  );
  // Child structures: `[Type(i, "ref", typeof(X))]\n public X name = null;`
  out = out.replace(
    /(\[Type\(\d+, "ref", typeof\((\w+)\)\)\]\s+public )(\w+) (\w+) = null;/g,
    (_m, head: string, klass: string, _t: string, name: string) =>
      `${head}${klass} ${name} = new ${klass}();`,
  );
  // The generator writes field names verbatim; `virtual` (ObjectState) is a C# keyword.
  out = out.replace(
    /(\n\t\tpublic [^\n=]+ )(\w+)( = )/g,
    (m, head: string, name: string, eq: string) =>
      CSHARP_KEYWORDS.has(name) ? `${head}@${name}${eq}` : m,
  );
  return out.replace(
    "// \n\n",
    "// Post-processed by scripts/codegen-unity.ts: base class qualified, field types = the\n" +
      "// Colyseus Unity SDK 0.17 decoder's, collections and children start empty, keywords escaped.\n// \n\n",
  );
}

/**
 * Generates the classes with the installed generator (in a temporary folder, removed after).
 * @returns file name → post-processed C# text, in file-name order
 * @throws when the generator fails or produces nothing
 */
export async function generateSchema(): Promise<Map<string, string>> {
  const work = mkdtempSync(join(tmpdir(), "agenttwin-schema-src-"));
  try {
    const input = join(work, "agenttwin-state.ts");
    writeFileSync(input, decoratedSource(await schemaClasses()));
    const raw = join(work, "cs");
    mkdirSync(raw);
    const args = [CODEGEN_CLI, input, "--csharp", "--output", raw, "--namespace", SCHEMA_NAMESPACE];
    const run = spawnSync(process.execPath, args, { cwd: ROOT, encoding: "utf8" });
    if (run.status !== 0) {
      throw new Error(`schema-codegen failed (${run.status}):\n${run.stdout}\n${run.stderr}`);
    }
    const files = readdirSync(raw)
      .filter((f) => /^\w+\.cs$/.test(f))
      .sort();
    if (files.length === 0) throw new Error(`schema-codegen wrote no C# files:\n${run.stdout}`);
    return new Map(files.map((f) => [f, postProcess(readFileSync(join(raw, f), "utf8"), f)]));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Regenerates `SCHEMA_OUT`: writes changed classes, removes classes no longer generated. */
export async function regenerateCommittedSchema(): Promise<{
  written: string[];
  removed: string[];
}> {
  const generated = await generateSchema();
  mkdirSync(SCHEMA_OUT, { recursive: true });
  const written: string[] = [];
  for (const [f, text] of generated) {
    const target = join(SCHEMA_OUT, f);
    if (!existsSync(target) || readFileSync(target, "utf8") !== text) {
      writeFileSync(target, text);
      written.push(f);
    }
  }
  const removed = readdirSync(SCHEMA_OUT).filter((f) => f.endsWith(".cs") && !generated.has(f));
  for (const f of removed) rmSync(join(SCHEMA_OUT, f));
  return { written, removed };
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

async function main(): Promise<void> {
  const schema = await regenerateCommittedSchema();
  const metas = syncMetaFiles();
  const line = (label: string, items: string[]) =>
    console.log(`${label}: ${items.length ? items.join(", ") : "none"}`);
  console.log(`schema-codegen (${SCHEMA_SOURCES.join(" ")}) → ${relative(ROOT, SCHEMA_OUT)}`);
  line("classes written", schema.written);
  line("classes removed", schema.removed);
  line(".meta created", metas.created);
  line(".meta removed", metas.removed);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
