using System;
using UnityEngine;

namespace AgentTwin
{
    /// <summary>One joint of an arm's kinematic chain, as its URDF states it.</summary>
    public struct ArmJoint
    {
        /// <summary>Joint name in the twin (<c>robot.joints[i].name</c>).</summary>
        public string name;
        /// <summary>URDF <c>&lt;origin xyz&gt;</c>: where the joint sits in its parent link, m (right-handed, z up).</summary>
        public Vector3 originXyz;
        /// <summary>URDF <c>&lt;origin rpy&gt;</c>: fixed roll, pitch, yaw of the joint frame, rad.</summary>
        public Vector3 originRpy;
        /// <summary>URDF <c>&lt;axis xyz&gt;</c>, in the joint frame.</summary>
        public Vector3 axis;
        /// <summary>Prismatic (slides, m) rather than revolute (turns, rad).</summary>
        public bool prismatic;
        /// <summary>Fixed joint (no motion): a link offset such as the flange or the hand.</summary>
        public bool isFixed;

        public ArmJoint(string name, float x, float y, float z, float roll, float pitch, float yaw, bool isFixed = false)
        {
            this.name = name;
            originXyz = new Vector3(x, y, z);
            originRpy = new Vector3(roll, pitch, yaw);
            axis = new Vector3(0f, 0f, 1f);
            prismatic = false;
            this.isFixed = isFixed;
        }
    }

    /// <summary>
    /// Kinematic chains of the arms the server ships (<c>assets/robots/*/*.urdf</c>), for a
    /// stand-in model built from primitives (<see cref="PrimitiveArm"/>) until a URDF import
    /// replaces it. The numbers are the URDF's; a check in CI computes the Panda's tool point
    /// at the zero pose from them.
    /// </summary>
    public static class ArmModel
    {
        private const float HalfPi = 1.5707963267948966f;

        /// <summary>
        /// The Franka Emika Panda of <c>assets/robots/panda/panda.urdf</c>, base to flange:
        /// the seven revolute joints (axis z of each joint frame) and the fixed flange
        /// (<c>panda_joint8</c>) and hand (<c>panda_hand_joint</c>).
        /// </summary>
        public static ArmJoint[] Panda()
        {
            return new[]
            {
                new ArmJoint("panda_joint1", 0f, 0f, 0.333f, 0f, 0f, 0f),
                new ArmJoint("panda_joint2", 0f, 0f, 0f, -HalfPi, 0f, 0f),
                new ArmJoint("panda_joint3", 0f, -0.316f, 0f, HalfPi, 0f, 0f),
                new ArmJoint("panda_joint4", 0.0825f, 0f, 0f, HalfPi, 0f, 0f),
                new ArmJoint("panda_joint5", -0.0825f, 0.384f, 0f, -HalfPi, 0f, 0f),
                new ArmJoint("panda_joint6", 0f, 0f, 0f, HalfPi, 0f, 0f),
                new ArmJoint("panda_joint7", 0.088f, 0f, 0f, HalfPi, 0f, 0f),
                new ArmJoint("panda_joint8", 0f, 0f, 0.107f, 0f, 0f, 0f, isFixed: true),
                new ArmJoint("panda_hand_joint", 0f, 0f, 0f, 0f, 0f, -0.7853981633974483f, isFixed: true),
            };
        }

        /// <summary>Panda: the tool centre point below the hand (<c>panda_hand_tcp_joint</c>), m.</summary>
        public const float PandaTcpOffsetM = 0.1034f;

        /// <summary>Panda: finger joints' origin below the hand, m, and their URDF axes (±y).</summary>
        public const float PandaFingerOffsetM = 0.0584f;

        /// <summary>
        /// URDF roll-pitch-yaw (fixed axes x, then y, then z: R = Rz(yaw)·Ry(pitch)·Rx(roll)) as a
        /// quaternion in the same right-handed frame.
        /// </summary>
        public static Quaternion RpyToQuaternion(Vector3 rpy)
        {
            double hr = rpy.x * 0.5, hp = rpy.y * 0.5, hy = rpy.z * 0.5;
            double cr = Math.Cos(hr), sr = Math.Sin(hr);
            double cp = Math.Cos(hp), sp = Math.Sin(hp);
            double cy = Math.Cos(hy), sy = Math.Sin(hy);
            return new Quaternion(
                (float)(sr * cp * cy - cr * sp * sy),
                (float)(cr * sp * cy + sr * cp * sy),
                (float)(cr * cp * sy - sr * sp * cy),
                (float)(cr * cp * cy + sr * sp * sy));
        }

        /// <summary>
        /// Forward kinematics in the URDF frame: the pose of the last frame of
        /// <paramref name="chain"/> relative to the base, with <paramref name="positions"/> for the
        /// movable joints in order (missing ones are 0), plus <paramref name="toolOffsetZ"/> along
        /// the last frame's z.
        /// </summary>
        public static WorldPose Forward(ArmJoint[] chain, float[] positions, float toolOffsetZ)
        {
            Vector3 p = new Vector3(0f, 0f, 0f);
            Quaternion q = Quaternion.identity;
            int k = 0;
            for (int i = 0; i < chain.Length; i++)
            {
                ArmJoint j = chain[i];
                p = p + FrameConversion.Rotate(q, j.originXyz);
                q = Mul(q, RpyToQuaternion(j.originRpy));
                if (j.isFixed) continue;
                float v = positions != null && k < positions.Length ? positions[k] : 0f;
                k++;
                if (j.prismatic) p = p + FrameConversion.Rotate(q, j.axis * v);
                else q = Mul(q, AxisAngle(j.axis, v));
            }
            p = p + FrameConversion.Rotate(q, new Vector3(0f, 0f, toolOffsetZ));
            return new WorldPose(p, FrameConversion.Normalized(q));
        }

        private static Quaternion AxisAngle(Vector3 axis, float angle)
        {
            Vector3 n = axis.normalized;
            float s = (float)Math.Sin(angle * 0.5);
            return new Quaternion(n.x * s, n.y * s, n.z * s, (float)Math.Cos(angle * 0.5));
        }

        /// <summary>Hamilton product a·b (the stub-independent form, so checks run without Unity).</summary>
        private static Quaternion Mul(Quaternion a, Quaternion b)
        {
            return new Quaternion(
                a.w * b.x + a.x * b.w + a.y * b.z - a.z * b.y,
                a.w * b.y - a.x * b.z + a.y * b.w + a.z * b.x,
                a.w * b.z + a.x * b.y - a.y * b.x + a.z * b.w,
                a.w * b.w - a.x * b.x - a.y * b.y - a.z * b.z);
        }
    }
}
