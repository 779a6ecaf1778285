r"""Bring up a Panda/FR3 cell for AgentTwin on ROS 2 (Humble or Jazzy).

What it starts (see ros/README.md, "Link a real ROS cell"):

* use_fake_hardware:=true (default): the MoveIt Panda demo cell from
  moveit_resources_panda_moveit_config with ros2_control mock components:
  robot_state_publisher, ros2_control_node with joint_state_broadcaster and
  panda_arm_controller (FollowJointTrajectory), and move_group built with
  MoveItConfigsBuilder("moveit_resources_panda").
* use_fake_hardware:=false: the real arm through franka_ros2. Its MoveIt launch file
  (franka_fr3_moveit_config/launch/moveit.launch.py by default) starts the franka
  hardware interface for robot_ip, robot_state_publisher, the arm controller and its own
  move_group for that robot.
* Always: rosbridge_server's rosbridge_websocket (+ rosapi), the websocket AgentTwin
  connects to (ROSBRIDGE_URL=ws://<this host>:<port>).
* use_servo:=true (mock Panda only): moveit_servo's servo_node, joint jog input on
  /servo_node/delta_joint_cmds (control_msgs/msg/JointJog, velocities in rad/s).

move_group serves what the twin calls: /plan_kinematic_path (moveit_msgs/srv/GetMotionPlan),
/compute_ik (moveit_msgs/srv/GetPositionIK) and the /execute_trajectory action
(moveit_msgs/action/ExecuteTrajectory). These are default move_group capabilities; they are
also named in the "capabilities" parameter so that the intent is explicit.

Examples:
  ros2 launch ros/launch/ros2/agenttwin_bridge.launch.py
  ros2 launch ros/launch/ros2/agenttwin_bridge.launch.py use_servo:=true
  ros2 launch ros/launch/ros2/agenttwin_bridge.launch.py use_fake_hardware:=false \
      robot_ip:=172.16.0.2
"""

import os

import yaml
from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import (
    DeclareLaunchArgument,
    IncludeLaunchDescription,
    LogInfo,
    OpaqueFunction,
)
from launch.conditions import IfCondition, UnlessCondition
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue
from launch_ros.substitutions import FindPackageShare

# The move_group capabilities the twin relies on (plugin names of moveit_ros_move_group).
TWIN_CAPABILITIES = " ".join(
    [
        "move_group/MoveGroupPlanService",  # /plan_kinematic_path
        "move_group/MoveGroupKinematicsService",  # /compute_ik (and /compute_fk)
        "move_group/MoveGroupExecuteTrajectoryAction",  # /execute_trajectory
    ]
)

# Humble ships the first moveit_servo (executable servo_node_main, started with the
# /servo_node/start_servo service) and a controller_manager that takes robot_description
# as a parameter; Jazzy and later ship the rewritten servo (executable servo_node) and a
# controller_manager that reads the /robot_description topic.
ROS_DISTRO = os.environ.get("ROS_DISTRO", "humble")
IS_HUMBLE = ROS_DISTRO == "humble"


def _is_true(context, name):
    return LaunchConfiguration(name).perform(context).strip().lower() in ("true", "1", "yes", "on")


def _mock_panda_cell(context):
    """The MoveIt Panda demo cell on ros2_control mock components (use_fake_hardware:=true)."""
    # Imported here so that the real-arm path does not need moveit_configs_utils.
    from moveit_configs_utils import MoveItConfigsBuilder

    moveit_config = (
        MoveItConfigsBuilder("moveit_resources_panda")
        .robot_description(file_path="config/panda.urdf.xacro")
        .robot_description_semantic(file_path="config/panda.srdf")
        .robot_description_kinematics(file_path="config/kinematics.yaml")
        .trajectory_execution(file_path="config/moveit_controllers.yaml")
        .planning_pipelines(default_planning_pipeline="ompl", pipelines=["ompl"])
        .to_moveit_configs()
    )
    panda_config_dir = get_package_share_directory("moveit_resources_panda_moveit_config")

    move_group = Node(
        package="moveit_ros_move_group",
        executable="move_group",
        output="screen",
        parameters=[
            moveit_config.to_dict(),
            {
                "capabilities": TWIN_CAPABILITIES,
                "disable_capabilities": "",
                "allow_trajectory_execution": True,
                "publish_robot_description_semantic": True,
            },
        ],
    )

    # world -> panda_link0 (the SRDF's virtual joint), as in MoveIt's Panda demo.
    static_tf = Node(
        package="tf2_ros",
        executable="static_transform_publisher",
        name="static_transform_publisher",
        output="log",
        arguments=[
            "--x", "0", "--y", "0", "--z", "0",
            "--roll", "0", "--pitch", "0", "--yaw", "0",
            "--frame-id", "world", "--child-frame-id", "panda_link0",
        ],
    )

    robot_state_publisher = Node(
        package="robot_state_publisher",
        executable="robot_state_publisher",
        name="robot_state_publisher",
        output="both",
        parameters=[moveit_config.robot_description],
    )

    # panda.urdf.xacro's <ros2_control> block uses mock_components/GenericSystem.
    controller_manager_parameters = [
        os.path.join(panda_config_dir, "config", "ros2_controllers.yaml")
    ]
    if IS_HUMBLE:
        controller_manager_parameters.insert(0, moveit_config.robot_description)
    ros2_control_node = Node(
        package="controller_manager",
        executable="ros2_control_node",
        parameters=controller_manager_parameters,
        remappings=[("/controller_manager/robot_description", "/robot_description")],
        output="screen",
    )

    spawners = [
        Node(
            package="controller_manager",
            executable="spawner",
            arguments=[controller, "--controller-manager", "/controller_manager"],
            output="screen",
        )
        # joint_state_broadcaster publishes /joint_states (every joint, fingers included);
        # panda_arm_controller serves /panda_arm_controller/follow_joint_trajectory
        # (ROS_EXECUTE=controller) and /panda_arm_controller/joint_trajectory (servo output).
        for controller in ("joint_state_broadcaster", "panda_arm_controller")
    ]

    rviz = Node(
        package="rviz2",
        executable="rviz2",
        name="rviz2",
        output="log",
        arguments=["-d", os.path.join(panda_config_dir, "launch", "moveit.rviz")],
        parameters=[
            moveit_config.robot_description,
            moveit_config.robot_description_semantic,
            moveit_config.planning_pipelines,
            moveit_config.robot_description_kinematics,
        ],
        condition=IfCondition(LaunchConfiguration("use_rviz")),
    )

    actions = [static_tf, robot_state_publisher, move_group, ros2_control_node, *spawners, rviz]

    # MoveIt Servo for live joint jogging. panda_simulated_config.yaml commands
    # panda_arm_controller through /panda_arm_controller/joint_trajectory.
    if _is_true(context, "use_servo"):
        servo_config = os.path.join(
            get_package_share_directory("moveit_servo"), "config", "panda_simulated_config.yaml"
        )
        with open(servo_config, "r", encoding="utf-8") as f:
            servo_yaml = yaml.safe_load(f)
        servo_yaml["joint_command_in_topic"] = "~/delta_joint_cmds"  # /servo_node/delta_joint_cmds
        servo_yaml["command_in_type"] = "speed_units"  # JointJog velocities in rad/s, not [-1, 1]
        actions.append(
            Node(
                package="moveit_servo",
                executable="servo_node_main" if IS_HUMBLE else "servo_node",
                name="servo_node",
                output="screen",
                parameters=[
                    {"moveit_servo": servo_yaml},
                    {"update_period": 0.01, "planning_group_name": "panda_arm"},
                    moveit_config.robot_description,
                    moveit_config.robot_description_semantic,
                    moveit_config.robot_description_kinematics,
                    moveit_config.joint_limits,
                ],
            )
        )
    return actions


def _franka_cell(context):
    """The real arm through franka_ros2 (use_fake_hardware:=false)."""
    robot_ip = LaunchConfiguration("robot_ip").perform(context).strip()
    if not robot_ip:
        raise RuntimeError(
            "use_fake_hardware:=false needs robot_ip:=<the arm's FCI address>, "
            "e.g. robot_ip:=172.16.0.2"
        )
    actions = []
    if _is_true(context, "use_servo"):
        actions.append(
            LogInfo(
                msg="use_servo:=true is set up for the mock Panda only: servo_node is not started "
                "for the real arm (configure moveit_servo for its controller first)"
            )
        )
    franka_moveit = IncludeLaunchDescription(
        PythonLaunchDescriptionSource(
            PathJoinSubstitution(
                [
                    FindPackageShare(LaunchConfiguration("franka_moveit_package")),
                    "launch",
                    "moveit.launch.py",
                ]
            )
        ),
        launch_arguments={
            "robot_ip": robot_ip,
            "use_fake_hardware": "false",
            "fake_sensor_commands": "false",
            "load_gripper": LaunchConfiguration("load_gripper"),
            "use_rviz": LaunchConfiguration("use_rviz"),
        }.items(),
    )
    actions.append(franka_moveit)
    return actions


def generate_launch_description():
    arguments = [
        DeclareLaunchArgument(
            "use_fake_hardware",
            default_value="true",
            description="true: MoveIt's Panda demo on ros2_control mock components; "
            "false: the real arm through franka_ros2 (needs robot_ip)",
        ),
        DeclareLaunchArgument(
            "robot_ip",
            default_value="",
            description="FCI address of the arm's controller (use_fake_hardware:=false only)",
        ),
        DeclareLaunchArgument(
            "franka_moveit_package",
            default_value="franka_fr3_moveit_config",
            description="franka_ros2 MoveIt package whose launch/moveit.launch.py drives the "
            "real arm (franka_moveit_config in older franka_ros2 releases)",
        ),
        DeclareLaunchArgument(
            "load_gripper", default_value="true", description="real arm: start the Franka Hand too"
        ),
        DeclareLaunchArgument(
            "use_servo",
            default_value="false",
            description="start moveit_servo's servo_node (input /servo_node/delta_joint_cmds, "
            "control_msgs/msg/JointJog); mock Panda only",
        ),
        DeclareLaunchArgument("use_rviz", default_value="false", description="start RViz"),
        DeclareLaunchArgument("port", default_value="9090", description="rosbridge websocket port"),
        DeclareLaunchArgument(
            "address",
            default_value="0.0.0.0",
            description="address rosbridge listens on (0.0.0.0: every interface)",
        ),
        DeclareLaunchArgument(
            "max_message_size",
            default_value="10000000",
            description="largest websocket message rosbridge accepts, bytes "
            "(long trajectories need room)",
        ),
        DeclareLaunchArgument(
            "unregister_timeout",
            default_value="10.0",
            description="s rosbridge keeps a publisher after its client unadvertises "
            "or disconnects",
        ),
        DeclareLaunchArgument(
            "service_timeout",
            default_value="30.0",
            description="s rosbridge waits for a service reply when the client sets no timeout "
            "(newer rosbridge_suite releases; older ones ignore it)",
        ),
    ]

    use_fake_hardware = LaunchConfiguration("use_fake_hardware")

    rosbridge_websocket = Node(
        package="rosbridge_server",
        executable="rosbridge_websocket",
        name="rosbridge_websocket",
        output="screen",
        parameters=[
            {
                "port": ParameterValue(LaunchConfiguration("port"), value_type=int),
                "address": ParameterValue(LaunchConfiguration("address"), value_type=str),
                "max_message_size": ParameterValue(
                    LaunchConfiguration("max_message_size"), value_type=int
                ),
                "unregister_timeout": ParameterValue(
                    LaunchConfiguration("unregister_timeout"), value_type=float
                ),
                "default_call_service_timeout": ParameterValue(
                    LaunchConfiguration("service_timeout"), value_type=float
                ),
                # A long planning call or trajectory goal must not hold up /joint_states.
                "call_services_in_new_thread": True,
                "send_action_goals_in_new_thread": True,
            }
        ],
    )

    rosapi = Node(package="rosapi", executable="rosapi_node", name="rosapi", output="screen")

    return LaunchDescription(
        arguments
        + [
            OpaqueFunction(function=_mock_panda_cell, condition=IfCondition(use_fake_hardware)),
            OpaqueFunction(function=_franka_cell, condition=UnlessCondition(use_fake_hardware)),
            rosbridge_websocket,
            rosapi,
        ]
    )
