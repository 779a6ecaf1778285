using System.Collections.Generic;
using UnityEngine;

namespace AgentTwin
{
    /// <summary>
    /// Builds a stand-in arm from Unity primitives along a URDF chain (<see cref="ArmModel"/>):
    /// one Transform per joint frame, at the URDF origin converted to Unity
    /// (<see cref="FrameConversion"/>), a sphere at each joint and a capsule along each link,
    /// two finger boxes, and a <see cref="RobotBinding"/> whose joints are those Transforms
    /// (axis space URDF). It moves exactly as the twin's joints say; the looks are only a
    /// sketch — import the URDF (Unity's URDF Importer) for the real meshes.
    /// Used by the Editor's rig builder and by the PICO 4 Rig sample (also for the goal ghost).
    /// </summary>
    public static class PrimitiveArm
    {
        /// <summary>
        /// Builds the arm as a child of <paramref name="parent"/> (the world anchor: its origin is
        /// the arm's base) and returns its binding.
        /// </summary>
        /// <param name="material">Material of every part (e.g. translucent for a ghost); null keeps the default.</param>
        public static RobotBinding Build(Transform parent, string name, ArmJoint[] chain,
            AgentTwinClient client, RobotBinding.Source source, Material material)
        {
            var root = new GameObject(name);
            root.transform.SetParent(parent, false);
            // The chain hangs under a child, so a ghost can hide it without disabling its binding.
            var model = new GameObject("Model");
            model.transform.SetParent(root.transform, false);
            var joints = new List<RobotBinding.Joint>();
            Transform current = model.transform;
            for (int i = 0; i < chain.Length; i++)
            {
                ArmJoint j = chain[i];
                var frame = new GameObject(j.name);
                frame.transform.SetParent(current, false);
                frame.transform.localPosition = FrameConversion.WorldToUnity(j.originXyz);
                frame.transform.localRotation = FrameConversion.WorldToUnity(ArmModel.RpyToQuaternion(j.originRpy));
                Link(current, frame.transform.localPosition, material);
                if (!j.isFixed)
                {
                    Part(PrimitiveType.Sphere, frame.transform, new Vector3(0f, 0f, 0f), new Vector3(0.11f, 0.11f, 0.11f), material);
                    joints.Add(new RobotBinding.Joint
                    {
                        name = j.name,
                        transform = frame.transform,
                        axisSpace = RobotBinding.AxisSpace.Urdf,
                        axis = j.axis,
                        prismatic = j.prismatic,
                    });
                }
                current = frame.transform;
            }

            // The gripper: a palm and two fingers sliding along the hand's ±y (URDF), each half the opening.
            Part(PrimitiveType.Cube, current, FrameConversion.WorldToUnity(new Vector3(0f, 0f, 0.03f)),
                FrameConversion.WorldToUnityScale(new Vector3(0.05f, 0.2f, 0.06f)), material);
            var fingers = new List<RobotBinding.Joint>();
            for (int side = 0; side < 2; side++)
            {
                float sign = side == 0 ? 1f : -1f;
                var finger = new GameObject(side == 0 ? "panda_finger_joint1" : "panda_finger_joint2");
                finger.transform.SetParent(current, false);
                finger.transform.localPosition = FrameConversion.WorldToUnity(new Vector3(0f, 0f, ArmModel.PandaFingerOffsetM));
                Part(PrimitiveType.Cube, finger.transform, FrameConversion.WorldToUnity(new Vector3(0f, 0.01f * sign, 0.025f)),
                    FrameConversion.WorldToUnityScale(new Vector3(0.02f, 0.015f, 0.05f)), material);
                fingers.Add(new RobotBinding.Joint
                {
                    name = finger.name,
                    transform = finger.transform,
                    axisSpace = RobotBinding.AxisSpace.Urdf,
                    axis = new Vector3(0f, sign, 0f),
                    prismatic = true,
                });
            }

            RobotBinding binding = root.AddComponent<RobotBinding>();
            binding.client = client;
            binding.source = source;
            binding.joints = joints.ToArray();
            binding.fingers = fingers.ToArray();
            if (source == RobotBinding.Source.Goal) binding.showWhileGoalValid = model;
            return binding;
        }

        /// <summary>A capsule from the frame's origin to <paramref name="to"/> (in that frame), if long enough to see.</summary>
        private static void Link(Transform frame, Vector3 to, Material material)
        {
            float length = to.magnitude;
            if (length < 0.02f) return;
            GameObject capsule = Part(PrimitiveType.Capsule, frame, to * 0.5f, new Vector3(0.08f, length * 0.5f, 0.08f), material);
            capsule.transform.localRotation = Quaternion.FromToRotation(Vector3.up, to);
        }

        /// <summary>
        /// A Unity primitive under <paramref name="parent"/> that is only looks: its collider is
        /// disabled (a ghost or a marker must not block anything) and, unless
        /// <paramref name="material"/> is null, it renders with that material. Also used for the
        /// rig's controller markers and the samples' scene objects and avatars.
        /// </summary>
        public static GameObject Part(PrimitiveType type, Transform parent, Vector3 localPosition, Vector3 localScale, Material material)
        {
            GameObject go = GameObject.CreatePrimitive(type);
            go.name = type.ToString();
            go.transform.SetParent(parent, false);
            go.transform.localPosition = localPosition;
            go.transform.localScale = localScale;
            Collider collider = go.GetComponent<Collider>();
            if (collider != null) collider.enabled = false;
            if (material != null)
            {
                Renderer renderer = go.GetComponent<Renderer>();
                if (renderer != null) renderer.sharedMaterial = material;
            }
            return go;
        }
    }
}
