/**
 * shared/ros-schemas.ts, the one definition of the ROS messages: messages as a real
 * rosbridge sends them (every field of the ROS definition, some the twin never reads)
 * validate and come out with the ROS field names; a time in the other ROS version's
 * spelling is refused; messages built by the shared helpers validate unchanged.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { header, MoveItErrorCode, toRosTime } from "../../shared/ros-msgs.ts";
import { describeIssues } from "../../shared/messages/common.ts";
import { rosSchemas } from "../../shared/ros-schemas.ts";

/** A ROS 2 Humble MoveIt `plan_kinematic_path` response as rosbridge encodes it (trimmed). */
function humblePlanResponse() {
  const stamp = { sec: 1733440000, nanosec: 5 };
  const js = {
    header: { stamp, frame_id: "panda_link0" },
    name: ["panda_joint1", "panda_joint2"],
    position: [0.1, 0.2],
    velocity: [],
    effort: [],
  };
  return {
    motion_plan_response: {
      trajectory_start: {
        joint_state: js,
        multi_dof_joint_state: { header: js.header, joint_names: [], transforms: [], twist: [] },
        attached_collision_objects: [],
        is_diff: false,
      },
      group_name: "panda_arm",
      trajectory: {
        joint_trajectory: {
          header: js.header,
          joint_names: js.name,
          points: [
            {
              positions: [0.1, 0.2],
              velocities: [0, 0],
              accelerations: [0, 0],
              effort: [],
              time_from_start: { sec: 0, nanosec: 0 },
            },
            {
              positions: [0.3, 0.4],
              velocities: [0, 0],
              accelerations: [0, 0],
              effort: [],
              time_from_start: { sec: 1, nanosec: 500_000_000 },
            },
          ],
        },
        multi_dof_joint_trajectory: { header: js.header, joint_names: [], points: [] },
      },
      planning_time: 0.012,
      error_code: { val: 1, message: "", source: "" },
    },
  };
}

describe("shared ROS schemas", () => {
  it("read a real ROS 2 MoveIt response: ROS field names kept, extra fields dropped", () => {
    const parsed = rosSchemas(2).GetMotionPlanResponse.parse(humblePlanResponse());
    const r = parsed.motion_plan_response;
    assert.equal(r.error_code.val, MoveItErrorCode.SUCCESS);
    assert.equal(r.group_name, "panda_arm");
    assert.deepEqual(r.trajectory.joint_trajectory.points[1]?.time_from_start, {
      sec: 1,
      nanosec: 500_000_000,
    });
    assert.deepEqual(r.trajectory.joint_trajectory.points[1]?.positions, [0.3, 0.4]);
    assert.equal("multi_dof_joint_state" in r.trajectory_start, false);
  });

  it("refuse a ROS 1 time inside a ROS 2 message, naming the field", () => {
    const bad = humblePlanResponse();
    const point = bad.motion_plan_response.trajectory.joint_trajectory.points[1];
    (point as { time_from_start: unknown }).time_from_start = { secs: 1, nsecs: 0 };
    const parsed = rosSchemas(2).GetMotionPlanResponse.safeParse(bad);
    assert.equal(parsed.success, false);
    if (!parsed.success)
      assert.match(
        describeIssues(parsed.error),
        /motion_plan_response\.trajectory\.joint_trajectory\.points\.1\.time_from_start/,
      );
  });

  it("read ROS 1 actionlib status arrays and results with their own time spelling", () => {
    const s = rosSchemas(1);
    const status = s.GoalStatusArray.parse({
      header: { seq: 42, stamp: { secs: 10, nsecs: 1 }, frame_id: "" },
      status_list: [{ goal_id: { stamp: { secs: 9, nsecs: 0 }, id: "g-1" }, status: 3, text: "" }],
    });
    assert.equal(status.header.seq, 42);
    assert.equal(status.status_list[0]?.goal_id.id, "g-1");
    assert.equal(status.status_list[0]?.status, 3);
    const result = s.FollowJointTrajectoryResult.parse({ error_code: -4, error_string: "path" });
    assert.deepEqual(result, { error_code: -4, error_string: "path" });
    assert.equal(s.GoalStatus.safeParse({ goal_id: {}, status: 256 }).success, false);
  });

  it("fill ROS defaults for the fields a sender left out", () => {
    const fb = rosSchemas(2).FollowJointTrajectoryFeedback.parse({ joint_names: ["a"] });
    assert.deepEqual(fb.desired.positions, []);
    assert.deepEqual(fb.header.stamp, { sec: 0, nanosec: 0 });
    assert.deepEqual(rosSchemas(1).ExecuteTrajectoryResult.parse({}), {
      error_code: { val: 0 },
    });
  });

  it("accept what the shared helpers build, unchanged, in both versions", () => {
    for (const v of [1, 2] as const) {
      const s = rosSchemas(v);
      const jog = {
        header: header(12.25, v, "panda_link0"),
        joint_names: ["panda_joint1"],
        displacements: [],
        velocities: [0.4],
        duration: 0.3,
      };
      assert.deepEqual(s.JointJog.parse(jog), jog);
      const goal = {
        trajectory: {
          header: header(0, v),
          joint_names: ["panda_joint1"],
          points: [
            {
              positions: [1],
              velocities: [0],
              accelerations: [0],
              effort: [],
              time_from_start: toRosTime(0.5, v),
            },
          ],
        },
      };
      assert.deepEqual(s.FollowJointTrajectoryGoal.parse(goal), goal);
    }
  });
});
