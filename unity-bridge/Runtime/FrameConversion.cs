using System;
using UnityEngine;

namespace AgentTwin
{
    /// <summary>
    /// A rigid pose in the server's <c>world</c> frame: position in metres, unit quaternion.
    /// </summary>
    [Serializable]
    public struct WorldPose
    {
        public Vector3 position;
        public Quaternion orientation;

        public WorldPose(Vector3 position, Quaternion orientation)
        {
            this.position = position;
            this.orientation = orientation;
        }
    }

    /// <summary>
    /// Converts between Unity's coordinates and the server's <c>world</c> frame.
    ///
    /// Unity is left-handed with y up (x right, y up, z forward). The server's <c>world</c> is
    /// right-handed with z up, the ROS convention of REP 103 (x forward, y left, z up). So:
    /// <code>
    ///   world(x, y, z) = ( unity.z, -unity.x, unity.y )
    ///   unity(x, y, z) = ( -world.y, world.z, world.x )
    /// </code>
    /// The change of basis has determinant -1 (it flips handedness), so a rotation keeps its
    /// angle while its axis maps with an extra sign. For a quaternion (x, y, z, w):
    /// <code>
    ///   world(q) = ( -q.z,  q.x, -q.y, q.w )
    ///   unity(q) = (  q.y, -q.z, -q.x, q.w )
    /// </code>
    /// which keeps <c>toWorld(q * v) == toWorld(q) * toWorld(v)</c> for every vector v. The
    /// same holds for angular velocities and rotation axes (pseudo-vectors): they map like
    /// positions and then change sign (<see cref="UnityToWorldAxis"/>).
    ///
    /// Everything here is pure arithmetic on the struct fields, so it runs (and is tested)
    /// outside Unity.
    /// </summary>
    public static class FrameConversion
    {
        /// <summary>A point or direction, Unity → <c>world</c>.</summary>
        public static Vector3 UnityToWorld(Vector3 u)
        {
            return new Vector3(u.z, -u.x, u.y);
        }

        /// <summary>A point or direction, <c>world</c> → Unity.</summary>
        public static Vector3 WorldToUnity(Vector3 w)
        {
            return new Vector3(-w.y, w.z, w.x);
        }

        /// <summary>An orientation, Unity → <c>world</c> (normalised).</summary>
        public static Quaternion UnityToWorld(Quaternion q)
        {
            return Normalized(new Quaternion(-q.z, q.x, -q.y, q.w));
        }

        /// <summary>An orientation, <c>world</c> → Unity (normalised).</summary>
        public static Quaternion WorldToUnity(Quaternion q)
        {
            return Normalized(new Quaternion(q.y, -q.z, -q.x, q.w));
        }

        /// <summary>
        /// A rotation axis or angular velocity, Unity → <c>world</c>: a rotation by θ about
        /// <paramref name="u"/> in Unity is a rotation by θ about the result in <c>world</c>.
        /// </summary>
        public static Vector3 UnityToWorldAxis(Vector3 u)
        {
            return new Vector3(-u.z, u.x, -u.y);
        }

        /// <summary>
        /// A rotation axis or angular velocity, <c>world</c> (or URDF link frame) → Unity: a
        /// rotation by θ about <paramref name="w"/> is a rotation by θ about the result in Unity
        /// (e.g. <c>Quaternion.AngleAxis(θ, WorldToUnityAxis(urdfAxis))</c>).
        /// </summary>
        public static Vector3 WorldToUnityAxis(Vector3 w)
        {
            return new Vector3(w.y, -w.z, -w.x);
        }

        /// <summary>
        /// Extents along the <c>world</c> axes (x, y, z sizes, m) as a Unity local scale: the
        /// same box seen in Unity's axes (sizes have no sign).
        /// </summary>
        public static Vector3 WorldToUnityScale(Vector3 w)
        {
            return new Vector3(Math.Abs(w.y), Math.Abs(w.z), Math.Abs(w.x));
        }

        /// <summary>A Unity-space pose → a <c>world</c> pose.</summary>
        public static WorldPose UnityToWorld(Vector3 position, Quaternion rotation)
        {
            return new WorldPose(UnityToWorld(position), UnityToWorld(rotation));
        }

        /// <summary>
        /// The unit quaternion nearest <paramref name="q"/>; identity when it is degenerate
        /// (zero or not finite), so a bad tracking sample never reaches the server.
        /// </summary>
        public static Quaternion Normalized(Quaternion q)
        {
            double n = Math.Sqrt((double)q.x * q.x + (double)q.y * q.y + (double)q.z * q.z + (double)q.w * q.w);
            if (!(n > 1e-9) || double.IsInfinity(n))
            {
                return new Quaternion(0f, 0f, 0f, 1f);
            }
            return new Quaternion((float)(q.x / n), (float)(q.y / n), (float)(q.z / n), (float)(q.w / n));
        }

        /// <summary>Rotates <paramref name="v"/> by unit quaternion <paramref name="q"/> (any frame).</summary>
        public static Vector3 Rotate(Quaternion q, Vector3 v)
        {
            // v' = v + 2w(u×v) + 2u×(u×v), u = (q.x, q.y, q.z)
            float cx = q.y * v.z - q.z * v.y;
            float cy = q.z * v.x - q.x * v.z;
            float cz = q.x * v.y - q.y * v.x;
            float ccx = q.y * cz - q.z * cy;
            float ccy = q.z * cx - q.x * cz;
            float ccz = q.x * cy - q.y * cx;
            return new Vector3(
                v.x + 2f * (q.w * cx + ccx),
                v.y + 2f * (q.w * cy + ccy),
                v.z + 2f * (q.w * cz + ccz));
        }

        /// <summary>Whether every component is a finite number.</summary>
        public static bool IsFinite(Vector3 v)
        {
            return Finite(v.x) && Finite(v.y) && Finite(v.z);
        }

        private static bool Finite(float f)
        {
            return !float.IsNaN(f) && !float.IsInfinity(f);
        }
    }
}
