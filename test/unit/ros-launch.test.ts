/**
 * The ROS side of the cell link (`ros/launch`, `ros/config`), checked without ROS: the ROS 1
 * launch file is well-formed XML that wires rosbridge and MoveIt together, the ROS 2 launch
 * file compiles and declares the documented arguments and nodes, and the environment example
 * uses only the variable names the server's ROS link reads.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { XMLParser, XMLValidator } from "fast-xml-parser";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const ROS1_LAUNCH = join(ROOT, "ros/launch/ros1/agenttwin_bridge.launch");
const ROS2_LAUNCH = join(ROOT, "ros/launch/ros2/agenttwin_bridge.launch.py");
const ENV_EXAMPLE = join(ROOT, "ros/config/agenttwin.env.example");
const ROS_README = join(ROOT, "ros/README.md");
const ROBOT_JSON = join(ROOT, "assets/robots/panda/robot.json");

/** The variables the server's ROS link reads; the documented set, names fixed. */
const ROS_LINK_VARIABLES = [
  "ROBOT_LINK",
  "ROSBRIDGE_URL",
  "ROS_VERSION",
  "MOVEIT_GROUP",
  "MOVEIT_PLANNER_ID",
  "ROS_EXECUTE",
  "ROS_CONTROLLER_ACTION",
  "JOINT_NAME_MAP",
  "JOINT_STATES_THROTTLE_MS",
  "ROS_COMPRESSION",
  "DEVIATION_TOLERANCE_RAD",
  "LINK_STALE_MS",
  "ROS_PING_MS",
  "ROS_ACTION_ACCEPT_TIMEOUT_MS",
] as const;
/** Documented too, but only as commented lines (no value fits every setup). */
const OPTIONAL_VARIABLES = ["ROS_AUTH_SECRET", "ROBOT_CELL_ID", "CELL_LEASE_TTL_MS"] as const;
const KNOWN = new Set<string>([...ROS_LINK_VARIABLES, ...OPTIONAL_VARIABLES]);

const read = (path: string) => readFileSync(path, "utf8");

// ---------------------------------------------------------------------------------------
// ROS 1 launch XML

type XmlElement = Record<string, unknown>;

/** Child elements named `tag` (the parser keeps these tags as arrays). */
function children(parent: XmlElement, tag: string): XmlElement[] {
  const value = parent[tag];
  return Array.isArray(value) ? (value as XmlElement[]) : [];
}

function attr(element: XmlElement, name: string): string | undefined {
  const value = element[`@_${name}`];
  return typeof value === "string" ? value : undefined;
}

interface Include {
  file: string;
  /** `if`/`unless` of the include itself or of its enclosing groups. */
  conditions: string[];
  passAllArgs: boolean;
  args: Map<string, string>;
}

/** Every `<include>` and `<node>` at any depth of `<group>`s, with the conditions on its way. */
function collect(
  element: XmlElement,
  conditions: string[] = [],
  out: { includes: Include[]; nodes: { element: XmlElement; conditions: string[] }[] } = {
    includes: [],
    nodes: [],
  },
) {
  const own = (e: XmlElement) => [
    ...conditions,
    ...(attr(e, "if") ? [`if ${attr(e, "if")}`] : []),
    ...(attr(e, "unless") ? [`unless ${attr(e, "unless")}`] : []),
  ];
  for (const include of children(element, "include")) {
    const args = new Map<string, string>();
    for (const arg of children(include, "arg"))
      args.set(attr(arg, "name") ?? "", attr(arg, "value") ?? "");
    out.includes.push({
      file: attr(include, "file") ?? "",
      conditions: own(include),
      passAllArgs: attr(include, "pass_all_args") === "true",
      args,
    });
  }
  for (const node of children(element, "node"))
    out.nodes.push({ element: node, conditions: own(node) });
  for (const group of children(element, "group")) collect(group, own(group), out);
  return out;
}

describe("ROS 1 launch file (ros/launch/ros1/agenttwin_bridge.launch)", () => {
  const text = read(ROS1_LAUNCH);

  it("is well-formed XML", () => {
    const result = XMLValidator.validate(text);
    assert.equal(result, true, result === true ? "" : JSON.stringify(result.err));
  });

  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: "@_",
    ignoreDeclaration: true,
    parseAttributeValue: false,
    isArray: (tag) => ["arg", "include", "node", "group"].includes(tag),
  });
  const launch = (parser.parse(text) as { launch?: XmlElement }).launch ?? {};
  const declared = new Map(
    children(launch, "arg").map((a) => [attr(a, "name") ?? "", attr(a, "default")] as const),
  );
  /** An include argument's value with `$(arg NAME)` replaced by NAME's default. */
  const resolve = (value: string | undefined) =>
    value?.replace(/\$\(arg (\w+)\)/g, (_, name: string) => declared.get(name) ?? `<${name}?>`);
  const { includes, nodes } = collect(launch);
  const include = (suffix: string) => {
    const found = includes.filter((i) => i.file.endsWith(suffix));
    assert.equal(found.length, 1, `one include of ${suffix}, found ${found.length}`);
    return found[0]!;
  };

  it("declares the documented arguments", () => {
    assert.equal(declared.get("real"), "false");
    assert.equal(declared.get("port"), "9090");
    assert.equal(declared.get("address"), "0.0.0.0");
    assert.equal(declared.get("transmission"), "effort");
    assert.ok(declared.has("robot_ip"), "robot_ip is declared");
    assert.equal(
      declared.get("robot_ip"),
      undefined,
      "robot_ip has no default: real:=true needs it",
    );
    for (const name of ["load_gripper", "max_message_size", "unregister_timeout"])
      assert.ok(declared.get(name), `${name} has a default`);
  });

  it("starts rosbridge_websocket on port 9090 whatever the cell", () => {
    const rosbridge = include("$(find rosbridge_server)/launch/rosbridge_websocket.launch");
    assert.deepEqual(rosbridge.conditions, []);
    assert.equal(rosbridge.args.get("port"), "$(arg port)");
    assert.equal(resolve(rosbridge.args.get("port")), "9090");
    assert.equal(resolve(rosbridge.args.get("address")), "0.0.0.0");
    assert.ok(rosbridge.args.has("max_message_size"));
    assert.ok(rosbridge.args.has("unregister_timeout"));
  });

  it("runs panda_moveit_config's demo with fake execution unless real:=true", () => {
    const demo = include("$(find panda_moveit_config)/launch/demo.launch");
    assert.deepEqual(demo.conditions, ["unless $(arg real)"]);
    assert.equal(demo.args.get("moveit_controller_manager"), "fake");
    assert.ok(demo.passAllArgs, "load_gripper, transmission, pipeline reach the demo");
  });

  it("runs franka_control, a trajectory controller and move_group with real:=true", () => {
    const franka = include("$(find franka_control)/launch/franka_control.launch");
    assert.deepEqual(franka.conditions, ["if $(arg real)"]);
    assert.equal(franka.args.get("robot_ip"), "$(arg robot_ip)");
    // An include without pass_all_args may only set arguments the included file declares.
    assert.deepEqual([...franka.args.keys()].sort(), ["load_gripper", "robot_ip"]);

    const moveGroup = include("$(find panda_moveit_config)/launch/move_group.launch");
    assert.deepEqual(moveGroup.conditions, ["if $(arg real)"]);
    assert.equal(moveGroup.args.get("moveit_controller_manager"), "simple");
    assert.equal(moveGroup.args.get("load_robot_description"), "false");

    const spawners = nodes.filter(
      (n) =>
        attr(n.element, "pkg") === "controller_manager" && attr(n.element, "type") === "spawner",
    );
    assert.equal(spawners.length, 1);
    assert.deepEqual(spawners[0]!.conditions, ["if $(arg real)"]);
    const controller = resolve(attr(spawners[0]!.element, "args"));
    assert.equal(controller, "effort_joint_trajectory_controller");
    // The environment example names this controller's action for the ROS 1 real arm.
    assert.match(read(ENV_EXAMPLE), new RegExp(`/${controller}/follow_joint_trajectory`));
  });

  it("refers only to declared arguments", () => {
    for (const [, name] of text.matchAll(/\$\(arg (\w+)\)/g))
      assert.ok(declared.has(name!), `$(arg ${name}) is declared`);
  });
});

// ---------------------------------------------------------------------------------------
// ROS 2 launch file

const python = spawnSync("python3", ["--version"], { encoding: "utf8" });
const noPython = python.error
  ? `python3 is not available (${python.error.message}); the ROS 2 launch file was not compiled`
  : undefined;

/** Runs python3 with bytecode written to a temporary folder, not next to the sources. */
function runPython(args: string[]) {
  const cache = mkdtempSync(join(tmpdir(), "agenttwin-pycache-"));
  try {
    return spawnSync("python3", args, {
      encoding: "utf8",
      env: { ...process.env, PYTHONPYCACHEPREFIX: cache, PYTHONDONTWRITEBYTECODE: "1" },
    });
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
}

/** Declared launch arguments (name → default) and Node(...) calls, read with Python's ast. */
const INSPECT = `
import ast, json, sys
tree = ast.parse(open(sys.argv[1], encoding="utf-8").read(), sys.argv[1])
def name(f):
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
def text(n):
    return n.value if isinstance(n, ast.Constant) and isinstance(n.value, str) else None
arguments, nodes = {}, []
for n in ast.walk(tree):
    if not isinstance(n, ast.Call):
        continue
    kw = {k.arg: k.value for k in n.keywords if k.arg}
    if name(n.func) == "DeclareLaunchArgument" and n.args and text(n.args[0]):
        arguments[text(n.args[0])] = text(kw["default_value"]) if "default_value" in kw else None
    elif name(n.func) == "Node":
        nodes.append({k: text(kw.get(k)) for k in ("package", "executable", "name")})
print(json.dumps({"arguments": arguments, "nodes": nodes}))
`;

interface Ros2Inspection {
  arguments: Record<string, string | null>;
  nodes: { package: string | null; executable: string | null; name: string | null }[];
}

describe("ROS 2 launch file (ros/launch/ros2/agenttwin_bridge.launch.py)", () => {
  const text = read(ROS2_LAUNCH);

  it("is valid Python (python3 -m py_compile)", (t) => {
    if (noPython) return t.skip(noPython);
    const result = runPython(["-m", "py_compile", ROS2_LAUNCH]);
    assert.equal(result.status, 0, result.stderr);
  });

  it("declares the documented launch arguments", (t) => {
    if (noPython) return t.skip(noPython);
    const result = runPython(["-c", INSPECT, ROS2_LAUNCH]);
    assert.equal(result.status, 0, result.stderr);
    const { arguments: declared, nodes } = JSON.parse(result.stdout) as Ros2Inspection;
    assert.equal(declared.use_fake_hardware, "true");
    assert.equal(declared.use_servo, "false");
    assert.equal(declared.port, "9090");
    assert.equal(declared.address, "0.0.0.0");
    assert.equal(declared.robot_ip, "");
    for (const name of ["max_message_size", "unregister_timeout", "franka_moveit_package"])
      assert.ok(declared[name], `${name} has a default`);

    const started = nodes.map((n) => `${n.package}/${n.executable ?? "*"}`);
    for (const node of [
      "rosbridge_server/rosbridge_websocket",
      "rosapi/rosapi_node",
      "moveit_ros_move_group/move_group",
      "robot_state_publisher/robot_state_publisher",
      "controller_manager/ros2_control_node",
      "controller_manager/spawner",
      "moveit_servo/*", // servo_node_main on Humble, servo_node on Jazzy
    ])
      assert.ok(started.includes(node), `starts ${node}`);
    assert.ok(nodes.some((n) => n.package === "moveit_servo" && n.name === "servo_node"));
  });

  it("wires rosbridge, MoveIt and Servo as documented", () => {
    for (const needle of [
      "rosbridge_websocket",
      "move_group",
      "servo_node",
      'MoveItConfigsBuilder("moveit_resources_panda")',
      "robot_state_publisher",
      "IncludeLaunchDescription",
      "IfCondition",
      "~/delta_joint_cmds", // -> /servo_node/delta_joint_cmds
      "move_group/MoveGroupPlanService",
      "move_group/MoveGroupKinematicsService",
      "move_group/MoveGroupExecuteTrajectoryAction",
      '"max_message_size"',
      '"unregister_timeout"',
    ])
      assert.ok(text.includes(needle), `mentions ${needle}`);
  });
});

// ---------------------------------------------------------------------------------------
// Environment example

/** Values that need no quoting in a shell or a dotenv file. */
const PLAIN_VALUE = /^[\w.:/=,@%+-]*$/;

describe("environment example (ros/config/agenttwin.env.example)", () => {
  const lines = read(ENV_EXAMPLE).split("\n");
  const values = new Map<string, string>();

  it("has only comments and NAME=value lines with documented names", () => {
    lines.forEach((raw, i) => {
      const line = raw.trim();
      const where = `line ${i + 1}: ${raw}`;
      if (line === "") return;
      if (line.startsWith("#")) {
        // Commented alternatives must use documented names too.
        const commented = /^#\s*([A-Z][A-Z0-9_]*)=/.exec(line);
        if (commented) assert.ok(KNOWN.has(commented[1]!), `unknown variable, ${where}`);
        return;
      }
      const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(raw);
      assert.ok(match, `not NAME=value, ${where}`);
      const [, name, value] = match;
      assert.ok(KNOWN.has(name!), `unknown variable ${name}, ${where}`);
      assert.ok(!values.has(name!), `${name} set twice, ${where}`);
      assert.match(value!, PLAIN_VALUE, `value needs quoting, ${where}`);
      values.set(name!, value!);
    });
    assert.deepEqual([...values.keys()].sort(), [...ROS_LINK_VARIABLES].sort());
  });

  it("holds values the documented setups accept", () => {
    const robot = JSON.parse(read(ROBOT_JSON)) as { group: { name: string } };
    const twinJoints = new Set([
      ...Array.from({ length: 7 }, (_, i) => `panda_joint${i + 1}`),
      "panda_finger_joint1",
    ]);
    const v = (name: (typeof ROS_LINK_VARIABLES)[number]) => values.get(name) ?? "";

    assert.equal(v("ROBOT_LINK"), "ros");
    assert.match(v("ROSBRIDGE_URL"), /^wss?:\/\/[\w.-]+:9090$/);
    assert.match(v("ROS_VERSION"), /^[12]$/);
    assert.equal(v("MOVEIT_GROUP"), robot.group.name);
    assert.equal(v("MOVEIT_PLANNER_ID"), "RRTConnectkConfigDefault");
    assert.match(v("ROS_EXECUTE"), /^(moveit|controller)$/);
    assert.match(v("ROS_CONTROLLER_ACTION"), /^\/\w+\/follow_joint_trajectory$/);
    assert.match(v("JOINT_STATES_THROTTLE_MS"), /^\d+$/);
    assert.match(v("ROS_COMPRESSION"), /^(none|cbor)$/);
    for (const ms of ["LINK_STALE_MS", "ROS_PING_MS", "ROS_ACTION_ACCEPT_TIMEOUT_MS"] as const)
      assert.match(v(ms), /^\d+$/, ms);
    const tolerance = Number(v("DEVIATION_TOLERANCE_RAD"));
    assert.ok(Number.isFinite(tolerance) && tolerance > 0, "DEVIATION_TOLERANCE_RAD > 0");

    // JOINT_NAME_MAP, set and commented: twin=cell pairs naming the twin's joints.
    const maps = [
      v("JOINT_NAME_MAP"),
      ...lines.flatMap((l) => /^#\s*JOINT_NAME_MAP=(\S+)$/.exec(l.trim())?.slice(1) ?? []),
    ];
    assert.ok(maps.length >= 2, "an FR3 example is given");
    for (const map of maps.filter((m) => m !== "")) {
      for (const pair of map.split(",")) {
        const [twin, cell, extra] = pair.split("=");
        assert.ok(twin && cell && extra === undefined, `twin=cell pair: ${pair}`);
        assert.ok(twinJoints.has(twin), `${twin} is a twin joint`);
      }
    }
  });

  it("is described in ros/README.md, name by name", () => {
    const readme = read(ROS_README);
    for (const name of [...ROS_LINK_VARIABLES, ...OPTIONAL_VARIABLES])
      assert.ok(readme.includes(name), `README names ${name}`);
  });
});
