/**
 * The Rapier twin world (server/sim/world.ts, arm-collision.ts, shapes.ts) with the shipped
 * Panda in the default work cell: named poses are collision-free; a hand pushed into the
 * table hits object "table"; a folded arm hits itself (link vs link, never a disabled pair);
 * objects are added, moved and removed with ObjectError for duplicate and unknown ids, and
 * collision queries see every change at once, without stepping; checkObjectPlacement refuses
 * overlaps with arm links and with objects beyond 1 mm but accepts resting contact; a dynamic
 * sphere falls onto the table and rests there; a held object follows setObjectPose; and
 * snapshots round-trip while garbage is refused with SnapshotError.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import type { Pose } from "../../shared/geometry.ts";
import { ObjectError, SnapshotError } from "../../server/sim/errors.ts";
import type { ArmKinematics } from "../../server/sim/kinematics.ts";
import { lerpInto } from "../../server/sim/planner/joint-space.ts";
import type { SceneObjectSpec } from "../../server/sim/scene.ts";
import {
  ARM_REST_EPS,
  createTwinWorld,
  encodeSnapshot,
  type TwinWorld,
} from "../../server/sim/world.ts";
import type { RobotDescription } from "../../server/sim/robot-description.ts";
import { loadPanda, namedPose, TABLE_TOP_Z } from "./support.ts";

const IDENTITY = { x: 0, y: 0, z: 0, w: 1 };
const FINGERS_AND_HAND = ["panda_hand", "panda_leftfinger", "panda_rightfinger"];

function pose(x: number, y: number, z: number): Pose {
  return { position: { x, y, z }, orientation: { ...IDENTITY } };
}

function box(id: string, at: Pose, size: number, dynamic = false): SceneObjectSpec {
  return {
    id,
    shape: { kind: "box", size: { x: size, y: size, z: size } },
    pose: at,
    dynamic,
    mass: 0.5,
    virtual: true,
    color: null,
  };
}

function sphere(id: string, at: Pose, radius: number): SceneObjectSpec {
  return {
    id,
    shape: { kind: "sphere", radius },
    pose: at,
    dynamic: true,
    mass: 0.2,
    virtual: true,
    color: null,
  };
}

/** Physics part of a real snapshot. */
function physicsOf(snapshot: Uint8Array): Uint8Array {
  const len = new DataView(snapshot.buffer, snapshot.byteOffset).getUint32(4, true);
  return snapshot.slice(8 + len);
}

describe("TwinWorld", () => {
  let robot: RobotDescription;
  let kin: ArmKinematics;
  let world: TwinWorld;
  let ready: Float64Array;

  before(async () => {
    robot = await loadPanda();
    kin = robot.kinematics;
    ready = namedPose(robot, "ready");
  });
  beforeEach(async () => {
    world?.free();
    world = await createTwinWorld(kin, robot.scene, { timestep: 0.001 });
    world.setArmJoints(ready, kin.gripperRange.max);
    world.step(1);
  });
  after(() => {
    world?.free();
  });

  /** The tool position in `world` for arm joints q (the base stands at z = 0.8). */
  function toolInWorld(q: ArrayLike<number>): Pose {
    return robot.baseToWorld(kin.fk(q));
  }

  it("lists the layout's objects in file order, fixed and physical", () => {
    const objects = world.getObjects();
    assert.deepEqual(
      objects.map((o) => o.id),
      ["table", "fixture", "bin", "part-1", "column"],
    );
    for (const o of objects) {
      assert.equal(o.dynamic, false, o.id);
      assert.equal(o.virtual, false, o.id);
      assert.equal(o.held, false, o.id);
    }
    assert.deepEqual(world.basePose.position, { x: 0, y: 0, z: TABLE_TOP_Z });
  });

  it("rejects a timestep outside (0, 0.05] s", async () => {
    await assert.rejects(createTwinWorld(kin, robot.scene, { timestep: 0 }), RangeError);
    await assert.rejects(createTwinWorld(kin, robot.scene, { timestep: 0.1 }), RangeError);
  });

  describe("arm collision queries", () => {
    it("finds every named pose collision-free", () => {
      for (const [name, q] of robot.namedPoses) assert.equal(world.checkArm(q), null, name);
    });

    it("reports the table when the hand is pushed into it", () => {
      const down = kin.fk(ready).orientation;
      // TCP 3 cm below the table top (base_link z = 0 is the table top).
      const ik = kin.ik({ position: { x: 0.45, y: 0, z: -0.03 }, orientation: down }, ready);
      assert.ok(ik.ok, "IK for the pose in the table");
      const hit = world.checkArm(ik.q);
      assert.ok(hit, "a hit");
      assert.deepEqual(hit.other, { kind: "object", id: "table" });
      assert.ok(FINGERS_AND_HAND.includes(hit.link), hit.link);
      // 5 cm above the table the same approach is free.
      const above = kin.ik({ position: { x: 0.45, y: 0, z: 0.05 }, orientation: down }, ready);
      assert.ok(above.ok);
      assert.equal(world.checkArm(above.q), null);
    });

    it("reports a folded arm as a link-vs-link hit on a pair that is checked", () => {
      const folded = [0, 0, 0, -3, 0, 0, 0];
      const hit = world.checkArm(folded);
      assert.ok(hit, "a hit");
      assert.equal(hit.other.kind, "link");
      const other = hit.other.kind === "link" ? hit.other.name : "";
      assert.notEqual(hit.link, other);
      assert.ok(kin.linkNames.includes(hit.link) && kin.linkNames.includes(other));
      const disabled = robot.model.disabledCollisions.some(
        (p) =>
          (p.link1 === hit.link && p.link2 === other) ||
          (p.link2 === hit.link && p.link1 === other),
      );
      assert.equal(disabled, false, `${hit.link} / ${other} is a disabled pair`);
    });

    it("does not move the world's arm when checking hypothetical configurations", () => {
      world.checkArm([0, 0, 0, -3, 0, 0, 0]);
      assert.equal(world.checkArm(ready), null);
    });
  });

  describe("objects", () => {
    it("adds and removes objects, with ObjectError for duplicate and unknown ids", () => {
      world.addObject(box("crate", pose(0.1, -0.4, TABLE_TOP_Z + 0.05), 0.1));
      assert.ok(world.getObjects().some((o) => o.id === "crate" && o.virtual));
      assert.throws(
        () => world.addObject(box("crate", pose(0, 0.5, 1.5), 0.1)),
        (err: unknown) =>
          err instanceof ObjectError &&
          err.objectId === "crate" &&
          /already exists/.test(err.message),
      );
      assert.throws(
        () => world.addObject(box("table", pose(0, 0.5, 1.5), 0.1)),
        (err: unknown) => err instanceof ObjectError && err.objectId === "table",
      );
      world.removeObject("crate");
      assert.ok(!world.getObjects().some((o) => o.id === "crate"));
      for (const call of [
        () => world.removeObject("crate"),
        () => world.removeObject("ghost"),
        () => world.setObjectPose("ghost", pose(0, 0, 1)),
        () => world.setObjectHeld("ghost", true),
      ]) {
        assert.throws(
          call,
          (err: unknown) => err instanceof ObjectError && /no such object/.test(err.message),
        );
      }
    });

    it("sees an object added in the arm's path at once, without stepping, and its removal", () => {
      const mid = lerpInto(new Float64Array(kin.dof), ready, namedPose(robot, "left"), 0.5);
      assert.equal(world.checkArm(mid), null, "path free before");
      world.addObject(box("obstacle", toolInWorld(mid), 0.08));
      const hit = world.checkArm(mid);
      assert.ok(hit, "the new box is seen");
      assert.deepEqual(hit.other, { kind: "object", id: "obstacle" });
      assert.equal(world.checkArm(ready), null, "the start is still free");
      world.removeObject("obstacle");
      assert.equal(world.checkArm(mid), null, "free again after removal");
    });

    it("sees a fixed object moved into the arm at once", () => {
      world.addObject(box("mover", pose(0.1, -0.5, TABLE_TOP_Z + 0.05), 0.08));
      assert.equal(world.checkArm(ready), null);
      world.setObjectPose("mover", toolInWorld(ready));
      assert.deepEqual(world.checkArm(ready)?.other, { kind: "object", id: "mover" });
    });

    describe("checkObjectPlacement", () => {
      it("refuses a box overlapping an arm link", () => {
        const at = toolInWorld(ready).position;
        // Around the hand (5 cm above the TCP).
        const answer = world.checkObjectPlacement(
          box("b", pose(at.x, at.y, at.z + 0.05), 0.1),
          ready,
        );
        assert.ok(answer !== null && answer.startsWith("link "), String(answer));
        assert.ok(FINGERS_AND_HAND.includes(answer.slice("link ".length)), answer);
      });

      it("refuses a box overlapping the fixture by more than 1 mm, accepts 0.5 mm", () => {
        // Fixture: x in [0.49, 0.61], y in [-0.5, -0.2], z in [0.8, 1.1].
        const size = 0.1;
        const overlapping = (mm: number) =>
          box("b", pose(0.61 + size / 2 - mm / 1000, -0.35, 0.95), size);
        assert.equal(world.checkObjectPlacement(overlapping(2), ready), "object fixture");
        assert.equal(world.checkObjectPlacement(overlapping(0.5), ready), null);
      });

      it("accepts a box resting on the table top and refuses one sunk into it", () => {
        const size = 0.05;
        const resting = box("b", pose(0.15, -0.3, TABLE_TOP_Z + size / 2), size);
        assert.equal(world.checkObjectPlacement(resting, ready), null);
        const sunk = box("b", pose(0.15, -0.3, TABLE_TOP_Z + size / 2 - 0.002), size);
        assert.equal(world.checkObjectPlacement(sunk, ready), "object table");
      });

      it("checks against the arm at the given configuration, not the world's", () => {
        const at = toolInWorld(namedPose(robot, "left")).position;
        const spec = box("b", pose(at.x, at.y, at.z + 0.05), 0.1);
        assert.equal(world.checkObjectPlacement(spec, ready), null);
        assert.match(world.checkObjectPlacement(spec, namedPose(robot, "left")) ?? "", /^link /);
        // Checking adds nothing.
        assert.ok(!world.getObjects().some((o) => o.id === "b"));
      });
    });

    it("drops a dynamic sphere onto the table, where it comes to rest", () => {
      const radius = 0.03;
      world.addObject(sphere("ball", pose(0.1, -0.5, 1.0), radius));
      world.step(2000); // 2 s at 1 kHz
      const ball = world.getObjects().find((o) => o.id === "ball");
      assert.ok(ball);
      assert.equal(ball.dynamic, true);
      const z = ball.pose.position.z;
      assert.ok(Math.abs(z - (TABLE_TOP_Z + radius)) <= 0.005, `rest height ${z}`);
      assert.ok(
        Math.abs(ball.pose.position.x - 0.1) < 0.005 &&
          Math.abs(ball.pose.position.y + 0.5) < 0.005,
      );
      // At rest: another 0.1 s changes nothing measurable.
      world.step(100);
      const later = world.getObjects().find((o) => o.id === "ball");
      assert.ok(later && Math.abs(later.pose.position.z - z) < 1e-4);
    });

    describe("a world at rest costs no physics", () => {
      /** Steps 0.1 s at a time until Rapier has put every body to sleep (at most 20 s). */
      function settle(): void {
        for (let i = 0; i < 200 && world.skippedSteps === 0; i++) world.step(100);
        assert.ok(world.skippedSteps > 0, "the world came to rest");
      }

      it("skips steps while the arm rests and bodies sleep, poses unchanged", () => {
        world.addObject(sphere("ball", pose(0.1, -0.5, 1.0), 0.03));
        settle();
        const before = world.getObjects();
        const skipped = world.skippedSteps;
        const version = world.version;
        world.setArmJoints(ready, kin.gripperRange.max); // the same measurement again
        world.step(500);
        assert.equal(world.skippedSteps, skipped + 500);
        assert.deepEqual(world.getObjects(), before);
        assert.equal(world.version, version, "readers need not look again");
        world.setObjectPose("ball", pose(0.3, -0.5, 1.0));
        assert.notEqual(world.version, version, "a teleport is a new version");
      });

      it("treats encoder noise below ARM_REST_EPS as rest, and a real move as a change", () => {
        settle();
        const skipped = world.skippedSteps;
        const noisy = Float64Array.from(ready);
        noisy[0] = (noisy[0] as number) + ARM_REST_EPS / 2;
        world.setArmJoints(noisy, kin.gripperRange.max);
        world.step(10);
        assert.equal(world.skippedSteps, skipped + 10, "noise does not wake the physics");
        noisy[0] = (noisy[0] as number) + 0.05;
        world.setArmJoints(noisy, kin.gripperRange.max);
        world.step(10);
        assert.equal(world.skippedSteps, skipped + 10, "a move is stepped");
      });

      it("wakes for an object dropped into a resting world, which then falls", () => {
        settle();
        world.addObject(sphere("late", pose(0.1, -0.5, 1.2), 0.03));
        const skipped = world.skippedSteps;
        world.step(300);
        assert.equal(world.skippedSteps, skipped, "stepped while the ball falls");
        const z = world.getObjects().find((o) => o.id === "late")?.pose.position.z ?? 9;
        assert.ok(z < 1.2 - 0.1, `fell to ${z}`);
      });

      it("wakes for a released object, which falls", () => {
        world.addObject(box("held", pose(0.1, -0.5, TABLE_TOP_Z + 0.025), 0.05, true));
        world.setObjectHeld("held", true);
        world.setObjectPose("held", pose(0.2, -0.4, 1.2));
        settle();
        world.setObjectHeld("held", false);
        world.step(200);
        const z = world.getObjects().find((o) => o.id === "held")?.pose.position.z ?? 9;
        assert.ok(z < 1.1, `falls after release: ${z}`);
      });
    });

    it("sees where a dynamic object fell in collision queries after stepping", () => {
      world.setArmJoints(ready, 0); // fingers closed: they meet at the TCP
      const down = kin.fk(ready).orientation;
      const reach = (z: number) => {
        const r = kin.ik({ position: { x: 0.45, y: 0, z }, orientation: down }, ready);
        assert.ok(r.ok, `IK at base z ${z}`);
        return r.q;
      };
      const high = reach(0.2); // TCP where the ball starts (world z 1.0)
      const low = reach(0.06); // fingertips 2 cm into where the ball will rest
      const radius = 0.04;
      assert.equal(world.checkArm(high), null);
      world.addObject(sphere("ball", pose(0.45, 0, TABLE_TOP_Z + 0.2), radius));
      assert.deepEqual(world.checkArm(high)?.other, { kind: "object", id: "ball" });
      world.step(1000);
      const ball = world.getObjects().find((o) => o.id === "ball");
      assert.ok(ball && Math.abs(ball.pose.position.z - (TABLE_TOP_Z + radius)) < 0.005, "fell");
      assert.equal(world.checkArm(high), null, "gone from where it started");
      assert.deepEqual(world.checkArm(low)?.other, { kind: "object", id: "ball" });
    });

    it("makes a held object follow setObjectPose and fall again when released", () => {
      world.addObject(box("held", pose(0.1, -0.5, TABLE_TOP_Z + 0.025), 0.05, true));
      world.setObjectHeld("held", true);
      assert.equal(world.getObjects().find((o) => o.id === "held")?.held, true);
      const target = pose(0.2, -0.4, 1.2);
      world.setObjectPose("held", target);
      world.step(1);
      const moved = world.getObjects().find((o) => o.id === "held");
      assert.ok(moved);
      for (const axis of ["x", "y", "z"] as const) {
        assert.ok(Math.abs(moved.pose.position[axis] - target.position[axis]) < 1e-6, axis);
      }
      world.step(200); // held: gravity does not act
      const still = world.getObjects().find((o) => o.id === "held");
      assert.ok(still && Math.abs(still.pose.position.z - 1.2) < 1e-6);
      world.setObjectHeld("held", false);
      world.step(200);
      const released = world.getObjects().find((o) => o.id === "held");
      assert.ok(
        released && !released.held && released.pose.position.z < 1.1,
        "falls after release",
      );
    });
  });

  describe("snapshots", () => {
    it("round-trips: later objects are gone and poses are restored", () => {
      world.addObject(sphere("ball", pose(0.1, -0.5, 1.0), 0.03));
      world.step(50);
      const before = world.getObjects();
      const snapshot = world.takeSnapshot();
      assert.ok(snapshot instanceof Uint8Array && snapshot.length > 8);

      world.addObject(box("late", pose(0.2, 0.4, 1.2), 0.05));
      world.setObjectPose("ball", pose(-0.2, 0.3, 1.4));
      world.step(100);
      assert.notDeepEqual(world.getObjects(), before);

      world.restoreSnapshot(snapshot);
      assert.deepEqual(world.getObjects(), before);
      assert.ok(!world.getObjects().some((o) => o.id === "late"));
      // The id is free again, and queries see the restored objects.
      world.addObject(box("late", pose(0.2, 0.4, 1.2), 0.05));
      assert.equal(world.checkArm(ready), null);
    });

    it("continues the same motion after a restore (deterministic physics)", () => {
      world.addObject(sphere("ball", pose(0.1, -0.5, 1.0), 0.03));
      world.step(10);
      const snapshot = world.takeSnapshot();
      world.step(150);
      const first = world.getObjects();
      world.restoreSnapshot(snapshot);
      world.step(150);
      assert.deepEqual(world.getObjects(), first);
    });

    it("restores into another world of the same robot", async () => {
      world.addObject(box("extra", pose(0.1, -0.5, TABLE_TOP_Z + 0.05), 0.1));
      const snapshot = world.takeSnapshot();
      const other = await createTwinWorld(kin, robot.scene, { timestep: 0.001 });
      try {
        other.restoreSnapshot(snapshot);
        assert.deepEqual(other.getObjects(), world.getObjects());
        assert.throws(() => other.addObject(box("extra", pose(0, 0, 2), 0.1)), ObjectError);
      } finally {
        other.free();
      }
    });

    it("rejects garbage with SnapshotError and stays usable", () => {
      const real = world.takeSnapshot();
      const goodTable = JSON.stringify({ links: kin.linkNames, gripper: 0, objects: [] });
      const cases: [string, Uint8Array][] = [
        ["too short", new Uint8Array([1, 2, 3])],
        ["wrong magic", new Uint8Array(64)],
        ["truncated table", encodeSnapshot(goodTable).subarray(0, 20)],
        ["corrupt table", encodeSnapshot("{not json")],
        [
          "another robot",
          encodeSnapshot(
            JSON.stringify({ links: ["a", "b"], gripper: 0, objects: [] }),
            physicsOf(real),
          ),
        ],
        ["corrupt physics", encodeSnapshot(goodTable, new Uint8Array([9, 9, 9, 9, 9, 9, 9, 9]))],
        ["truncated physics", real.slice(0, real.length - 100)],
      ];
      for (const [what, bytes] of cases) {
        assert.throws(() => world.restoreSnapshot(bytes), SnapshotError, what);
      }
      // Nothing was replaced.
      assert.equal(world.getObjects().length, 5);
      assert.equal(world.checkArm(ready), null);
      assert.ok(world.checkArm([0, 0.5, 0, -3, 0, 3, 0]));
      world.step(10);
      world.restoreSnapshot(real);
      assert.equal(world.getObjects().length, 5);
    });

    it("rejects a snapshot whose object table is JSON null", () => {
      assert.throws(() => world.restoreSnapshot(encodeSnapshot("null")), SnapshotError);
    });

    it("rejects a snapshot whose object table lacks `objects`, leaving the world intact", () => {
      const physics = physicsOf(world.takeSnapshot());
      const bytes = encodeSnapshot(JSON.stringify({ links: kin.linkNames, gripper: 0 }), physics);
      assert.throws(() => world.restoreSnapshot(bytes), SnapshotError);
      assert.equal(world.getObjects().length, 5);
    });
  });
});
