using UnityEngine;

namespace AgentTwin
{
    /// <summary>
    /// Places the server's <c>world</c> frame in a Unity scene. The <em>anchor</em> is the
    /// Transform that stands for <c>world</c>'s origin (put the robot cell model under it and
    /// move the anchor to place the cell in the room); positions relative to it, in its units,
    /// are the server's metres. With no anchor the scene origin is used.
    /// </summary>
    public static class WorldFrame
    {
        /// <summary>The pose of <paramref name="t"/> in <c>world</c>.</summary>
        public static WorldPose ToWorld(Transform t, Transform anchor)
        {
            Vector3 p = anchor != null ? anchor.InverseTransformPoint(t.position) : t.position;
            Quaternion r = anchor != null ? Quaternion.Inverse(anchor.rotation) * t.rotation : t.rotation;
            return FrameConversion.UnityToWorld(p, r);
        }

        /// <summary>A <c>world</c> point as a Unity scene position.</summary>
        public static Vector3 PointToUnity(Vector3 world, Transform anchor)
        {
            Vector3 local = FrameConversion.WorldToUnity(world);
            return anchor != null ? anchor.TransformPoint(local) : local;
        }

        /// <summary>A <c>world</c> orientation as a Unity scene rotation.</summary>
        public static Quaternion RotationToUnity(Quaternion world, Transform anchor)
        {
            Quaternion local = FrameConversion.WorldToUnity(world);
            return anchor != null ? anchor.rotation * local : local;
        }
    }
}
