/**
 * The Unity bridge (`unity-bridge/`), checked without Unity: the committed C# schema classes
 * are what the Colyseus generator makes of the server's schema today; the UPM manifest,
 * assembly definition and `.meta` files are complete; the C# (runtime and sample) compiles with
 * Debian's mono compiler against the compile-only stubs in `unity-bridge/ci~/stubs`; and the
 * runnable checks (`ci~/checks/BridgeChecks.cs`, run with mono) pass — frame conversion, joint
 * interpolation, URL resolution — and every message body the bridge builds is accepted by the
 * server's zod contracts.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { after, describe, it } from "node:test";
import { loadRobotModel } from "../../server/sim/robot-loader.ts";
import { ArmKinematics } from "../../server/sim/kinematics.ts";
import {
  DECODER_TYPES,
  generateSchema,
  metaProblems,
  PACKAGE_DIR,
  PACKAGE_NAME,
  ROOT,
  SCHEMA_OUT,
} from "../../scripts/codegen-unity.ts";
import { MetaverseMessageSchemas } from "../../shared/messages/metaverse.ts";
import { TwinMessageSchemas } from "../../shared/messages/twin.ts";
import * as metaverseSchema from "../../shared/schema/metaverse-state.ts";
import * as twinSchema from "../../shared/schema/twin-state.ts";
import { skipUnlessTool } from "../support/tools.ts";

const TMP = mkdtempSync(join(tmpdir(), "agenttwin-unity-"));
after(() => rmSync(TMP, { recursive: true, force: true }));

const has = (cmd: string) => spawnSync(cmd, ["--version"], { stdio: "ignore" }).status === 0;
const MCS = has("mcs");
const MONO = has("mono");
/**
 * Skip reasons for the C# checks (false: run them). Under `CI=true` a missing mcs or mono
 * fails the file instead: `.ci/run` installs mono-mcs, which brings mono-runtime.
 */
const skipCompile = skipUnlessTool(MCS, "mcs not installed (Debian: apt-get install mono-mcs)");
const skipRun =
  skipCompile ||
  skipUnlessTool(MONO, "mono runtime not installed (Debian: apt-get install mono-runtime)");

const csFiles = (dir: string): string[] =>
  readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return csFiles(path);
      return name.endsWith(".cs") ? [path] : [];
    });

const STUBS = csFiles(join(PACKAGE_DIR, "ci~", "stubs"));
/** UnityEditor stand-ins: compiled with Editor/ only, so nothing else can use them. */
const EDITOR_STUBS = STUBS.filter((f) => f.endsWith("UnityEditorStubs.cs"));
const ENGINE_STUBS = STUBS.filter((f) => !EDITOR_STUBS.includes(f));
const SAMPLES = csFiles(join(PACKAGE_DIR, "Samples~"));
const EDITOR = csFiles(join(PACKAGE_DIR, "Editor"));
const CHECKS = csFiles(join(PACKAGE_DIR, "ci~", "checks"));
/** mcs expands the pattern itself, recursing into `Runtime/Schema`. */
const RUNTIME = `-recurse:${join(PACKAGE_DIR, "Runtime", "*.cs")}`;
/** As Unity compiles: generated classes take their `[Preserve]` branch. */
const MCS_COMMON = ["-langversion:7.2", "-define:UNITY_5_3_OR_NEWER", "-nologo"];

function mcs(args: string[]) {
  const run = spawnSync("mcs", [...MCS_COMMON, ...args], { encoding: "utf8" });
  const output = `${run.stdout}${run.stderr}`;
  const lines = output.split("\n").filter((l) => l.trim().length > 0);
  return {
    status: run.status,
    output,
    errors: lines.filter((l) => /error CS\d+/.test(l)),
    /** Warnings in hand-written code (the generated classes are the generator's business). */
    warnings: lines.filter((l) => /warning CS\d+/.test(l) && !l.includes("/Runtime/Schema/")),
  };
}

describe("Unity bridge: generated C# schema", () => {
  let cache: Promise<Map<string, string>> | undefined;
  /** A fresh run of the generator (once per file): file name → C# text. */
  const fresh = () => (cache ??= generateSchema());

  it("matches a fresh run of schema-codegen (run `npm run codegen:unity` after a schema change)", async () => {
    const committed = readdirSync(SCHEMA_OUT)
      .filter((f) => f.endsWith(".cs"))
      .sort();
    const generated = await fresh();
    assert.deepEqual(committed, [...generated.keys()], "set of generated classes");
    for (const [file, text] of generated) {
      const got = readFileSync(join(SCHEMA_OUT, file));
      assert.ok(got.equals(Buffer.from(text)), `${file} is stale: run npm run codegen:unity`);
    }
  });

  it("has one class per schema of the twin and metaverse rooms, in namespace AgentTwin.Schema", async () => {
    const names = new Set(
      [...Object.entries(twinSchema), ...Object.entries(metaverseSchema)]
        .filter(([, value]) => typeof value === "function")
        .map(([name]) => name),
    );
    assert.ok(names.has("TwinState") && names.has("MetaverseState"), "schema modules exported");
    assert.deepEqual(
      [...(await fresh()).keys()],
      [...names].sort().map((n) => `${n}.cs`),
    );
    for (const name of names) {
      const text = readFileSync(join(SCHEMA_OUT, `${name}.cs`), "utf8");
      assert.match(text, /^namespace AgentTwin\.Schema \{$/m);
      assert.match(
        text,
        new RegExp(`public partial class ${name} : global::Colyseus\\.Schema\\.Schema`),
      );
    }
    const robot = readFileSync(join(SCHEMA_OUT, "RobotState.cs"), "utf8");
    assert.match(robot, /ArraySchema<JointState> joints/);
    assert.match(robot, /Type\(7, "float64"\)\]\s+public double stamp/);
  });

  it("declares every field as the type the Unity SDK 0.17 decoder produces for its wire type", () => {
    let checked = 0;
    for (const file of readdirSync(SCHEMA_OUT).filter((f) => f.endsWith(".cs"))) {
      const text = readFileSync(join(SCHEMA_OUT, file), "utf8");
      for (const m of text.matchAll(/\[Type\(\d+, "(\w+)"\)\]\s+public (\S+) /g)) {
        const [, wire, cs] = m as unknown as [string, string, string];
        assert.equal(cs, DECODER_TYPES[wire], `${file}: ${wire} field declared ${cs}`);
        checked++;
      }
      const coll =
        /\[Type\(\d+, "(?:array|map)", typeof\((?:Array|Map)Schema<(\w+)>\), "(\w+)"\)\]/g;
      for (const m of text.matchAll(coll)) {
        const [, elem, wire] = m as unknown as [string, string, string];
        assert.equal(
          elem,
          DECODER_TYPES[wire],
          `${file}: collection of ${wire} declared <${elem}>`,
        );
        checked++;
      }
    }
    assert.ok(checked > 50, `checked ${checked} fields`);
    const plan = readFileSync(join(SCHEMA_OUT, "PlanState.cs"), "utf8");
    assert.match(plan, /public ArraySchema<float> preview = /);
    assert.match(plan, /public ArraySchema<float> previewTcp = /);
    assert.match(
      readFileSync(join(SCHEMA_OUT, "GoalState.cs"), "utf8"),
      /ArraySchema<float> positions/,
    );
  });
});

describe("Unity bridge: UPM package", () => {
  const manifest = JSON.parse(readFileSync(join(PACKAGE_DIR, "package.json"), "utf8")) as {
    name: string;
    version: string;
    unity: string;
    dependencies: Record<string, string>;
    samples: { path: string }[];
    documentationUrl?: string;
    changelogUrl?: string;
    licensesUrl?: string;
  };

  it("manifest names the package, Unity 2022.3 and its dependencies", () => {
    assert.equal(manifest.name, PACKAGE_NAME);
    assert.match(manifest.version, /^\d+\.\d+\.\d+$/);
    assert.equal(manifest.unity, "2022.3");
    // Every declared dependency is referenced by an asmdef (packages) or used by the
    // runtime code (engine modules: ArticulationBody, VideoPlayer); nothing else is declared.
    assert.deepEqual(Object.keys(manifest.dependencies).sort(), [
      "com.unity.inputsystem",
      "com.unity.modules.physics",
      "com.unity.modules.video",
      "com.unity.test-framework",
      "io.colyseus.sdk",
    ]);
    // The Colyseus Unity SDK release the stubs in ci~/stubs mirror (0.17.x).
    assert.match(manifest.dependencies["io.colyseus.sdk"] ?? "", /^0\.17\.\d+$/);
    // The released SDK the bridge is built for: 0.17.2 (0.17.1's public API, which the stubs mirror).
    assert.equal(manifest.dependencies["io.colyseus.sdk"], "0.17.2");
    // No links that lead nowhere: the repository has no public address, so the docs, changelog
    // and license ship in the package; a URL, once set, must be absolute (UPM) and not a placeholder.
    for (const url of [manifest.documentationUrl, manifest.changelogUrl, manifest.licensesUrl]) {
      if (url === undefined) continue;
      assert.match(url, /^https:\/\//);
      assert.doesNotMatch(url, /agenttwin\/agenttwin|<you>/, "placeholder URL");
    }
    for (const file of ["CHANGELOG.md", "LICENSE.md", "Documentation~/index.md"]) {
      assert.ok(existsSync(join(PACKAGE_DIR, file)), file);
    }
    for (const sample of manifest.samples) {
      assert.ok(existsSync(join(PACKAGE_DIR, sample.path)), `sample ${sample.path}`);
      assert.ok(sample.path.includes("~"), "samples live in a ~ folder (not imported)");
    }
  });

  it("runtime assembly references the Colyseus SDK and the Input System", () => {
    const asmdef = JSON.parse(
      readFileSync(join(PACKAGE_DIR, "Runtime", "AgentTwin.Runtime.asmdef"), "utf8"),
    ) as { name: string; references: string[] };
    assert.equal(asmdef.name, "AgentTwin.Runtime");
    assert.deepEqual([...asmdef.references].sort(), ["ColyseusSDK", "Unity.InputSystem"]);
  });

  it("Editor assembly is Editor-only, references the runtime, and has the rig menu", () => {
    const asmdef = JSON.parse(
      readFileSync(join(PACKAGE_DIR, "Editor", "AgentTwin.Editor.asmdef"), "utf8"),
    ) as { name: string; references: string[]; includePlatforms: string[] };
    assert.equal(asmdef.name, "AgentTwin.Editor");
    assert.deepEqual(asmdef.includePlatforms, ["Editor"]);
    assert.deepEqual([...asmdef.references].sort(), ["AgentTwin.Runtime", "Unity.InputSystem"]);
    const source = EDITOR.map((f) => readFileSync(f, "utf8")).join("\n");
    assert.match(source, /\[MenuItem\(MenuPath, false, \d+\)\]/);
    assert.match(source, /MenuPath = "AgentTwin\/Build PICO 4 Rig In Open Scene"/);
    // The runtime and the samples never touch UnityEditor (they would not build for Android).
    for (const file of [...csFiles(join(PACKAGE_DIR, "Runtime")), ...SAMPLES]) {
      assert.doesNotMatch(readFileSync(file, "utf8"), /using UnityEditor|UnityEditor\./, file);
    }
  });

  it("PICO 4 controls: a valid Input System asset with the bindings the sample wires", () => {
    const sample = manifest.samples.find((x) => x.path === "Samples~/Pico4Rig");
    assert.ok(sample, "package.json lists the PICO 4 Rig sample");
    const dir = join(PACKAGE_DIR, "Samples~", "Pico4Rig");
    const asset = JSON.parse(readFileSync(join(dir, "Pico4Controls.inputactions"), "utf8")) as {
      name: string;
      maps: {
        name: string;
        id: string;
        actions: {
          name: string;
          type: string;
          id: string;
          expectedControlType: string;
          interactions: string;
        }[];
        bindings: { id: string; path: string; action: string; interactions: string }[];
      }[];
      controlSchemes: unknown[];
    };
    assert.equal(asset.name, "Pico4Controls");
    assert.ok(Array.isArray(asset.controlSchemes));
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    const [map] = asset.maps;
    assert.ok(map && asset.maps.length === 1);
    assert.equal(map.name, "AgentTwin");
    const ids = [map.id, ...map.actions.map((a) => a.id), ...map.bindings.map((b) => b.id)];
    for (const id of ids) assert.match(id, uuid);
    assert.equal(new Set(ids).size, ids.length, "ids are unique");
    const actions = new Map(map.actions.map((a) => [a.name, a]));
    for (const a of map.actions) {
      assert.ok(["Button", "Value", "PassThrough"].includes(a.type), `${a.name}: ${a.type}`);
    }
    for (const b of map.bindings) {
      assert.ok(actions.has(b.action), `binding ${b.path} names action ${b.action}`);
      assert.match(b.path, /^<XRController>\{(Left|Right)Hand\}\/[{\w}]+$/);
    }
    const paths = (name: string) =>
      map.bindings.filter((b) => b.action === name).map((b) => b.path);
    assert.deepEqual(paths("Jog Deadman"), ["<XRController>{RightHand}/gripPressed"]);
    assert.deepEqual(paths("Place Goal"), ["<XRController>{RightHand}/triggerPressed"]);
    assert.deepEqual(paths("Plan"), ["<XRController>{RightHand}/primaryButton"]);
    assert.deepEqual(paths("Approve"), ["<XRController>{RightHand}/secondaryButton"]);
    assert.match(actions.get("Approve")?.interactions ?? "", /^Hold\(duration=\d+(\.\d+)?\)$/);
    assert.ok(paths("Stop").includes("<XRController>{LeftHand}/menu"));
    assert.equal(actions.get("Right Stick")?.expectedControlType, "Vector2");
    // Every action the sample looks up exists (FindAction(..., throwIfNotFound: true)).
    const wiring = readFileSync(join(dir, "Pico4Controls.cs"), "utf8");
    const listed = /ActionNames = new\[\]\s*\{([^}]*)\}/.exec(wiring)?.[1] ?? "";
    const looked = [...wiring.matchAll(/Find\("([^"]+)"\)/g)].map((m) => m[1]);
    assert.ok(looked.length >= 10);
    for (const name of [...looked, ...[...listed.matchAll(/"([^"]+)"/g)].map((m) => m[1])]) {
      assert.ok(name && actions.has(name), `action ${name} in the asset`);
    }
  });

  it("every imported asset has a .meta with a unique GUID (Unity ignores assets without one)", () => {
    assert.deepEqual(metaProblems(), [], "run npm run codegen:unity to add missing .meta files");
  });

  it("CI stubs stay out of Unity projects and say they are compile-only", () => {
    assert.ok(STUBS.length >= 3, "stub files");
    for (const file of STUBS) {
      assert.ok(relative(PACKAGE_DIR, file).startsWith("ci~"), `${file} in ci~`);
      assert.match(readFileSync(file, "utf8"), /^\/\/ COMPILE-ONLY STUBS/, file);
    }
  });
});

describe("Unity bridge: C# compiled with mono", () => {
  it(
    "Runtime/, Editor/ and the samples compile as separate assemblies, as in Unity",
    { skip: skipCompile },
    () => {
      // As Unity builds them: AgentTwin.Runtime; AgentTwin.Editor (Editor only) referencing it;
      // the imported samples in the project's own assembly. So `internal` members of the
      // runtime are out of the others' reach here too, and only Editor/ sees UnityEditor.
      const lib = (name: string, sources: string[], refs: string[]) => {
        const out = join(TMP, name);
        const r = mcs([
          "-target:library",
          `-out:${out}`,
          ...refs.map((f) => `-r:${f}`),
          ...sources,
        ]);
        assert.deepEqual(r.errors, [], `${name}:\n${r.output}`);
        assert.equal(r.status, 0, r.output);
        assert.deepEqual(r.warnings, [], `${name}: no warnings in hand-written code`);
        assert.ok(existsSync(out));
        return out;
      };
      const engine = lib("UnityStubs.dll", ENGINE_STUBS, []);
      const editorStubs = lib("UnityEditorStubs.dll", EDITOR_STUBS, [engine]);
      const runtime = lib("AgentTwin.Runtime.dll", [RUNTIME], [engine]);
      assert.ok(EDITOR.length > 0 && SAMPLES.length > 0, "Editor/ and Samples~/ have C#");
      lib("AgentTwin.Editor.dll", EDITOR, [engine, editorStubs, runtime]);
      lib("Assembly-CSharp.dll", SAMPLES, [engine, runtime]);
    },
  );

  let checks: { status: number | null; stdout: string } | undefined;
  const runChecks = () => {
    if (checks) return checks;
    const exe = join(TMP, "BridgeChecks.exe");
    const r = mcs(["-target:exe", `-out:${exe}`, RUNTIME, ...STUBS, ...CHECKS]);
    assert.equal(r.status, 0, r.output);
    const run = spawnSync("mono", [exe], { encoding: "utf8" });
    checks = { status: run.status, stdout: `${run.stdout}${run.stderr}` };
    return checks;
  };

  it(
    "the EditMode tests in Tests/ compile against NUnit stubs and pass under mono",
    { skip: skipRun },
    () => {
      const exe = join(TMP, "EditModeTests.exe");
      const tests = csFiles(join(PACKAGE_DIR, "Tests"));
      const nunit = csFiles(join(PACKAGE_DIR, "ci~", "nunit"));
      const r = mcs(["-target:exe", `-out:${exe}`, RUNTIME, ...STUBS, ...nunit, ...tests]);
      assert.deepEqual(r.errors, [], r.output);
      assert.deepEqual(r.warnings, [], "no warnings in tests");
      const run = spawnSync("mono", [exe], { encoding: "utf8" });
      const out = `${run.stdout}${run.stderr}`;
      assert.equal(run.status, 0, out);
      const passed = out.split("\n").filter((l) => l.startsWith("TEST PASS")).length;
      assert.ok(passed >= 10, `ran ${passed} tests:\n${out}`);
    },
  );

  it("frame conversion, interpolator and URL checks pass", { skip: skipRun }, () => {
    const { status, stdout } = runChecks();
    const failures = stdout.split("\n").filter((l) => l.startsWith("FAIL"));
    assert.deepEqual(failures, []);
    assert.equal(status, 0, stdout);
    const passed = Number(/checks passed: (\d+)/.exec(stdout)?.[1] ?? 0);
    assert.ok(passed > 500, `ran ${passed} checks`);
  });

  it(
    "the stand-in arm's chain puts the tool where the server's kinematics does",
    { skip: skipRun },
    async () => {
      const { stdout } = runChecks();
      const kin = new ArmKinematics(await loadRobotModel(join(ROOT, "assets", "robots", "panda")));
      let compared = 0;
      for (const line of stdout.split("\n")) {
        const m = /^FK (\S+) (\S+)$/.exec(line);
        if (!m) continue;
        const q = (m[1] ?? "").split(",").map(Number);
        const [x, y, z] = (m[2] ?? "").split(",").map(Number);
        const want = kin.fk(q).position;
        const err = Math.hypot((x ?? 0) - want.x, (y ?? 0) - want.y, (z ?? 0) - want.z);
        assert.ok(err < 1e-4, `q=${m[1]}: C# ${m[2]} vs server ${JSON.stringify(want)}`);
        compared++;
      }
      assert.equal(compared, 20);
    },
  );

  it("every message body the bridge builds is accepted by the server", { skip: skipRun }, () => {
    const { stdout } = runChecks();
    const seen = { twin: new Set<string>(), metaverse: new Set<string>() };
    for (const line of stdout.split("\n")) {
      const m = /^MSG (twin|metaverse) (\w+) (.*)$/.exec(line);
      if (!m) continue;
      const [, room, type, json] = m as unknown as [string, "twin" | "metaverse", string, string];
      const schemas: Record<
        string,
        { safeParse(v: unknown): { success: boolean; error?: unknown } }
      > = room === "twin" ? TwinMessageSchemas : MetaverseMessageSchemas;
      const schema = schemas[type];
      assert.ok(schema, `${room} has message type ${type}`);
      const parsed = schema.safeParse(JSON.parse(json));
      assert.ok(parsed.success, `${room} ${type} ${json}: ${String(parsed.error)}`);
      seen[room].add(type);
    }
    assert.deepEqual([...seen.twin].sort(), [
      "approve",
      "goal",
      "grab",
      "jog",
      "plan",
      "pose",
      "release",
      "stop",
      "utterance",
    ]);
    assert.deepEqual([...seen.metaverse].sort(), ["pose", "qoe", "requestRendition", "utterance"]);
  });
});
