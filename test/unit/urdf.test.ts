/**
 * URDF parsing (server/sim/urdf.ts) and the robot.json cross-checks of buildRobotModel
 * (server/sim/robot-loader.ts). The shipped Panda must parse into 13 links and the 7
 * revolute arm joints with the limits written in the file, a mimicking second finger and
 * `panda_link0` as root. Broken documents must fail with a UrdfError whose `element` names
 * the offending element (malformed XML, no <robot>, two roots, a link with two parents, an
 * unknown parent, a revolute joint without <limit>, non-numeric attributes, mesh collision
 * geometry, lower > upper); broken robot.json contents must fail with a RobotConfigError
 * naming the file and the problem (unknown joints, a named pose out of limits, a missing
 * acceleration limit).
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { RobotConfigError, UrdfError } from "../../server/sim/errors.ts";
import { buildRobotModel, loadRobotModel } from "../../server/sim/robot-loader.ts";
import type { JointModel, UrdfRobot } from "../../server/sim/robot-model.ts";
import { parseUrdf } from "../../server/sim/urdf.ts";
import { PANDA, readPandaJson, readPandaUrdf } from "./support.ts";

/** Limits of the arm joints as written in assets/robots/panda/panda.urdf. */
const PANDA_LIMITS: Record<
  string,
  { lower: number; upper: number; velocity: number; effort: number }
> = {
  panda_joint1: { lower: -2.8973, upper: 2.8973, velocity: 2.175, effort: 87 },
  panda_joint2: { lower: -1.7628, upper: 1.7628, velocity: 2.175, effort: 87 },
  panda_joint3: { lower: -2.8973, upper: 2.8973, velocity: 2.175, effort: 87 },
  panda_joint4: { lower: -3.0718, upper: -0.0698, velocity: 2.175, effort: 87 },
  panda_joint5: { lower: -2.8973, upper: 2.8973, velocity: 2.61, effort: 12 },
  panda_joint6: { lower: -0.0175, upper: 3.7525, velocity: 2.61, effort: 12 },
  panda_joint7: { lower: -2.8973, upper: 2.8973, velocity: 2.61, effort: 12 },
};

/** A two-link robot whose one joint is `joint` (the inner XML of <joint name="j" ...>). */
function twoLinks(jointType: string, jointBody: string, extra = ""): string {
  return `<robot name="r">
    <link name="a"/>
    <link name="b"/>
    ${extra}
    <joint name="j" type="${jointType}">
      <parent link="a"/>
      <child link="b"/>
      ${jointBody}
    </joint>
  </robot>`;
}

const LIMIT = `<limit lower="-1" upper="1" velocity="1" effort="10"/>`;

/** Asserts that parsing `xml` throws a UrdfError on `element` with a message matching `msg`. */
function assertUrdfError(xml: string, element: string, msg: RegExp, source?: string): UrdfError {
  let caught: unknown;
  try {
    parseUrdf(xml, source);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof UrdfError, `expected a UrdfError, got ${String(caught)}`);
  assert.equal(caught.name, "UrdfError");
  assert.equal(caught.element, element);
  assert.match(caught.message, msg);
  assert.ok(caught.message.startsWith(`${element}: `), caught.message);
  return caught;
}

function joint(robot: UrdfRobot, name: string): JointModel {
  const j = robot.joints.find((x) => x.name === name);
  assert.ok(j, `joint ${name}`);
  return j;
}

describe("parseUrdf: the shipped Panda", () => {
  let robot: UrdfRobot;
  before(async () => {
    robot = parseUrdf(await readPandaUrdf(), "panda.urdf");
  });

  it("has the robot name, 13 links in document order and panda_link0 as root", () => {
    assert.equal(robot.name, "panda");
    assert.equal(robot.links.length, 13);
    assert.deepEqual(
      robot.links.map((l) => l.name),
      [
        ...[0, 1, 2, 3, 4, 5, 6, 7, 8].map((i) => `panda_link${i}`),
        "panda_hand",
        "panda_leftfinger",
        "panda_rightfinger",
        "panda_hand_tcp",
      ],
    );
    assert.equal(robot.rootLink, "panda_link0");
    assert.equal(robot.joints.length, 12);
  });

  it("has the 7 revolute arm joints about z with the limits of the file", () => {
    const revolute = robot.joints.filter((j) => j.type === "revolute");
    assert.deepEqual(
      revolute.map((j) => j.name),
      Object.keys(PANDA_LIMITS),
    );
    for (const j of revolute) {
      assert.deepEqual(j.limit, PANDA_LIMITS[j.name], j.name);
      assert.deepEqual(j.axis, [0, 0, 1], j.name);
      assert.equal(j.mimic, null, j.name);
    }
    const j1 = joint(robot, "panda_joint1");
    assert.equal(j1.parent, "panda_link0");
    assert.equal(j1.child, "panda_link1");
    assert.deepEqual(j1.origin, { xyz: [0, 0, 0.333], rpy: [0, 0, 0] });
    assert.deepEqual(joint(robot, "panda_joint4").origin.xyz, [0.0825, 0, 0]);
  });

  it("makes the second finger mimic the first, moving the other way", () => {
    const f1 = joint(robot, "panda_finger_joint1");
    const f2 = joint(robot, "panda_finger_joint2");
    assert.equal(f1.type, "prismatic");
    assert.equal(f2.type, "prismatic");
    assert.deepEqual(f1.limit, { lower: 0, upper: 0.04, velocity: 0.2, effort: 20 });
    assert.equal(f1.mimic, null);
    assert.deepEqual(f2.mimic, { joint: "panda_finger_joint1", multiplier: 1, offset: 0 });
    assert.deepEqual(f1.axis, [0, 1, 0]);
    assert.deepEqual(f2.axis, [0, -1, 0]);
  });

  it("keeps fixed joints without limits and primitive collision shapes on every link", () => {
    const fixed = robot.joints.filter((j) => j.type === "fixed").map((j) => j.name);
    assert.deepEqual(fixed, ["panda_joint8", "panda_hand_joint", "panda_hand_tcp_joint"]);
    for (const name of fixed) assert.equal(joint(robot, name).limit, null);
    for (const l of robot.links) {
      for (const c of l.collisions) assert.notEqual(c.shape.kind as string, "mesh", l.name);
    }
    const link0 = robot.links[0];
    assert.ok(link0);
    assert.deepEqual(link0.collisions[0]?.shape, { kind: "cylinder", radius: 0.09, height: 0.16 });
    const hand = robot.links.find((l) => l.name === "panda_hand");
    assert.deepEqual(hand?.collisions[0]?.shape, {
      kind: "box",
      size: { x: 0.05, y: 0.2, z: 0.065 },
    });
    // Named top-level materials resolve to their colour.
    assert.deepEqual(link0.visuals[0]?.color, [0.92, 0.92, 0.92, 1]);
  });
});

describe("parseUrdf: errors name the offending element", () => {
  it("rejects malformed XML with the source as element", () => {
    assertUrdfError(
      `<robot name="r"><link name="a"></robot>`,
      "my.urdf",
      /not well-formed XML/,
      "my.urdf",
    );
    assertUrdfError("", "urdf", /not well-formed XML/);
  });

  it("rejects a document without <robot>", () => {
    assertUrdfError(`<model name="r"><link name="a"/></model>`, "urdf", /no <robot> element/);
  });

  it("rejects a robot without links", () => {
    assertUrdfError(`<robot name="r"></robot>`, "urdf", /no links/);
  });

  it("rejects two root links, naming both", () => {
    const err = assertUrdfError(
      `<robot name="r"><link name="a"/><link name="b"/></robot>`,
      "urdf",
      /expected one root link, found 2/,
    );
    assert.match(err.message, /\(a, b\)/);
  });

  it("rejects a link with two parents", () => {
    const xml = `<robot name="r">
      <link name="a"/><link name="b"/><link name="c"/>
      <joint name="j1" type="fixed"><parent link="a"/><child link="b"/></joint>
      <joint name="j2" type="fixed"><parent link="a"/><child link="c"/></joint>
      <joint name="j3" type="fixed"><parent link="b"/><child link="c"/></joint>
    </robot>`;
    assertUrdfError(xml, 'joint "j3"', /link "c" has two parents/);
  });

  it("rejects an unknown parent or child link", () => {
    const parent = `<robot name="r"><link name="a"/><link name="b"/>
      <joint name="j" type="fixed"><parent link="nope"/><child link="b"/></joint></robot>`;
    assertUrdfError(parent, 'joint "j"', /unknown parent link "nope"/);
    const child = `<robot name="r"><link name="a"/>
      <joint name="j" type="fixed"><parent link="a"/><child link="ghost"/></joint></robot>`;
    assertUrdfError(child, 'joint "j"', /unknown child link "ghost"/);
  });

  it("rejects a revolute or prismatic joint without <limit>", () => {
    assertUrdfError(
      twoLinks("revolute", `<axis xyz="0 0 1"/>`),
      'joint "j"',
      /revolute joint needs <limit>/,
    );
    assertUrdfError(twoLinks("prismatic", ""), 'joint "j"', /prismatic joint needs <limit>/);
    // A continuous joint needs none.
    assert.equal(parseUrdf(twoLinks("continuous", "")).joints[0]?.limit, null);
  });

  it("rejects a limit without velocity, and a non-positive velocity", () => {
    assertUrdfError(
      twoLinks("revolute", `<limit lower="-1" upper="1" effort="1"/>`),
      'joint "j" > limit',
      /missing attribute "velocity"/,
    );
    assertUrdfError(
      twoLinks("revolute", `<limit lower="-1" upper="1" velocity="0" effort="1"/>`),
      'joint "j" > limit',
      /velocity must be positive/,
    );
  });

  it("rejects lower above upper", () => {
    assertUrdfError(
      twoLinks("revolute", `<limit lower="1" upper="-1" velocity="1" effort="1"/>`),
      'joint "j" > limit',
      /lower is above upper/,
    );
  });

  it("rejects non-numeric attributes", () => {
    assertUrdfError(
      twoLinks("revolute", `<limit lower="-1" upper="one" velocity="1" effort="1"/>`),
      'joint "j" > limit',
      /attribute "upper" is not a finite number: "one"/,
    );
    assertUrdfError(
      twoLinks("revolute", `<limit lower="-1" upper="Infinity" velocity="1" effort="1"/>`),
      'joint "j" > limit',
      /"upper" is not a finite number/,
    );
    assertUrdfError(
      twoLinks("revolute", `<origin xyz="0 zero 0"/>${LIMIT}`),
      'joint "j" > origin',
      /not a list of numbers: "0 zero 0"/,
    );
    assertUrdfError(
      twoLinks("revolute", `<origin xyz="0 0"/>${LIMIT}`),
      'joint "j" > origin',
      /expected three numbers/,
    );
    const sphere = `<robot name="r"><link name="a"><collision><geometry><sphere radius="big"/></geometry></collision></link></robot>`;
    assertUrdfError(
      sphere,
      'link "a" > collision[0] > geometry > sphere',
      /attribute "radius" is not a finite number/,
    );
  });

  it("rejects an empty numeric attribute instead of reading it as 0", () => {
    assertUrdfError(
      twoLinks("revolute", `<limit lower="" upper="1" velocity="1" effort="1"/>`),
      'joint "j" > limit',
      /attribute "lower" is not a finite number/,
    );
  });

  it("rejects mesh collision geometry but keeps mesh visuals", () => {
    const mesh = `<geometry><mesh filename="package://x/link.stl"/></geometry>`;
    assertUrdfError(
      `<robot name="r"><link name="a"><collision>${mesh}</collision></link></robot>`,
      'link "a" > collision[0]',
      /mesh collisions are not supported/,
    );
    const ok = parseUrdf(`<robot name="r"><link name="a"><visual>${mesh}</visual></link></robot>`);
    assert.deepEqual(ok.links[0]?.visuals[0]?.geometry, {
      kind: "mesh",
      filename: "package://x/link.stl",
      scale: [1, 1, 1],
    });
  });

  it("rejects unknown joint types, unknown mimic targets, zero axes and duplicate names", () => {
    assertUrdfError(twoLinks("floating", ""), 'joint "j"', /unsupported type "floating"/);
    assertUrdfError(
      twoLinks("revolute", `${LIMIT}<mimic joint="nobody"/>`),
      'joint "j" > mimic',
      /unknown joint "nobody"/,
    );
    assertUrdfError(
      twoLinks("revolute", `<axis xyz="0 0 0"/>${LIMIT}`),
      'joint "j" > axis',
      /non-zero/,
    );
    assertUrdfError(
      `<robot name="r"><link name="a"/><link name="a"/></robot>`,
      'link "a"',
      /defined twice/,
    );
  });

  it("normalises the axis and defaults a missing origin to identity", () => {
    const r = parseUrdf(twoLinks("revolute", `<axis xyz="0 3 4"/>${LIMIT}`));
    const j = r.joints[0];
    assert.ok(j);
    assert.deepEqual(j.axis, [0, 0.6, 0.8]);
    assert.deepEqual(j.origin, { xyz: [0, 0, 0], rpy: [0, 0, 0] });
    assert.equal(r.rootLink, "a");
  });
});

/** The parts of robot.json the tests edit. */
interface RobotJson {
  group: { name: string; base: string; tip: string };
  maxAcceleration: Record<string, number>;
  maxJerk: Record<string, number>;
  namedPoses: Record<string, Record<string, number>>;
  home: string;
  gripper: { joint: string; openingScale: number; touchLinks: string[] };
}

function poseIn(j: RobotJson, name: string): Record<string, number> {
  const pose = j.namedPoses[name];
  assert.ok(pose, `robot.json has no named pose ${name}`);
  return pose;
}

describe("buildRobotModel: robot.json against the URDF", () => {
  let urdf: UrdfRobot;
  let json: Record<string, unknown>;
  before(async () => {
    urdf = parseUrdf(await readPandaUrdf(), "panda.urdf");
    json = await readPandaJson();
  });

  /** A deep copy of the shipped robot.json, edited by `edit`. */
  function edited(edit: (j: RobotJson) => void): unknown {
    const copy = structuredClone(json) as unknown as RobotJson;
    edit(copy);
    return copy;
  }

  function assertConfigError(value: unknown, msg: RegExp): RobotConfigError {
    let caught: unknown;
    try {
      buildRobotModel(urdf, value, "panda.urdf", "robot.json");
    } catch (err) {
      caught = err;
    }
    assert.ok(
      caught instanceof RobotConfigError,
      `expected a RobotConfigError, got ${String(caught)}`,
    );
    assert.equal(caught.file, "robot.json");
    assert.match(caught.message, msg);
    assert.ok(caught.message.startsWith("robot.json: "), caught.message);
    return caught;
  }

  it("accepts the shipped robot.json", () => {
    const model = buildRobotModel(urdf, json, "panda.urdf");
    assert.equal(model.home, "ready");
    assert.deepEqual(model.group, {
      name: "panda_arm",
      base: "panda_link0",
      tip: "panda_hand_tcp",
    });
    assert.equal(model.maxAcceleration.panda_joint2, 7.5);
    assert.equal(model.gripper?.joint, "panda_finger_joint1");
    assert.deepEqual(Object.keys(model.namedPoses).sort(), ["extended", "left", "ready", "right"]);
  });

  it("loads the shipped folder with loadRobotModel", async () => {
    const model = await loadRobotModel(PANDA.dir);
    assert.match(model.source, /panda\.urdf$/);
    assert.equal(model.links.length, 13);
  });

  it("rejects an acceleration or jerk limit for an unknown joint", () => {
    assertConfigError(
      edited((j) => {
        j.maxAcceleration.panda_joint9 = 10;
      }),
      /unknown joint "panda_joint9"/,
    );
    assertConfigError(
      edited((j) => {
        j.maxJerk.elbow = 10;
      }),
      /unknown joint "elbow"/,
    );
  });

  it("rejects unknown links in the group, the gripper and the disabled pairs", () => {
    assertConfigError(
      edited((j) => {
        j.group.tip = "panda_tool";
      }),
      /group: unknown link "panda_tool"/,
    );
    assertConfigError(
      edited((j) => {
        j.gripper.touchLinks.push("panda_thumb");
      }),
      /gripper\.touchLinks: unknown link "panda_thumb"/,
    );
    assertConfigError(
      edited((j) => {
        j.gripper.joint = "panda_joint7";
      }),
      /gripper: "panda_joint7" is not a prismatic joint/,
    );
  });

  it("rejects a named pose outside the joint limits", () => {
    const err = assertConfigError(
      edited((j) => {
        poseIn(j, "ready").panda_joint4 = 0.5;
      }),
      /namedPoses\.ready: panda_joint4 = 0\.5 outside \[-3\.0718, -0\.0698\]/,
    );
    assert.equal(err.name, "RobotConfigError");
  });

  it("rejects a named pose missing a group joint, and a home pose that does not exist", () => {
    assertConfigError(
      edited((j) => {
        delete poseIn(j, "left").panda_joint3;
      }),
      /namedPoses\.left: missing "panda_joint3"/,
    );
    assertConfigError(
      edited((j) => {
        j.home = "sleep";
      }),
      /home: no named pose "sleep"/,
    );
  });

  it("rejects a named pose that names a joint the URDF lacks", () => {
    assertConfigError(
      edited((j) => {
        poseIn(j, "ready").panda_joint9 = 0;
      }),
      /panda_joint9/,
    );
  });

  it("rejects a group joint without an acceleration limit", () => {
    assertConfigError(
      edited((j) => {
        delete j.maxAcceleration.panda_joint5;
      }),
      /maxAcceleration: no limit for "panda_joint5"/,
    );
  });

  it("rejects a schema violation with the path of the field", () => {
    assertConfigError(
      edited((j) => {
        j.maxAcceleration.panda_joint1 = -1;
      }),
      /maxAcceleration\.panda_joint1/,
    );
    assertConfigError(null, /invalid|expected/i);
  });
});
