using System;
using System.Collections.Generic;
using UnityEngine;
using UnityEngine.Scripting;

namespace AgentTwin
{
    /// <summary>Which room the client joins.</summary>
    public enum RoomKind
    {
        /// <summary>The robot cell's twin (<c>digital_twin</c>).</summary>
        DigitalTwin,
        /// <summary>The 360° scene (<c>metaverse</c>).</summary>
        Metaverse,
    }

    // The reply classes are filled by reflection (MessagePack, JSON): [Preserve] keeps IL2CPP's
    // managed code stripping from removing their constructors.

    /// <summary>Server → client <c>ack</c>: an accepted command.</summary>
    [Serializable, Preserve]
    public class AckMessage
    {
        [Preserve] public AckMessage() { }

        /// <summary>The message type acknowledged.</summary>
        public string type;
        /// <summary>The request id the command carried, if any.</summary>
        public string requestId;
        /// <summary>Id of what the command created (plan id, object id), if anything.</summary>
        public string id;
        /// <summary>What happened, for people (e.g. the agents' answer to an utterance).</summary>
        public string summary;
    }

    /// <summary>
    /// Server → client <c>error</c> (a refused command) or <c>notice</c> (an alert arising later:
    /// an aborted plan, a jog halted before a collision). Codes are stable strings:
    /// <c>invalid_message</c>, <c>unknown_type</c>, <c>rate_limited</c>, <c>forbidden</c>,
    /// <c>not_found</c>, <c>conflict</c>, <c>out_of_range</c>, <c>collision</c>,
    /// <c>plan_failed</c>, <c>link_down</c>, <c>internal</c>.
    /// </summary>
    [Serializable, Preserve]
    public class ErrorMessage
    {
        [Preserve] public ErrorMessage() { }

        public string code;
        /// <summary>Human-readable, safe to show an operator.</summary>
        public string message;
        /// <summary>The client message type that caused it, when known.</summary>
        public string type;
        public string requestId;
    }

    /// <summary>Response of <c>POST /api/dev/token</c> (development servers only).</summary>
    [Serializable, Preserve]
    public class DevTokenResponse
    {
        [Preserve] public DevTokenResponse() { }

        public string token;
        public string role;
        public double expiresInS;
    }

    /// <summary>
    /// Builds client → server message bodies exactly as the server's contracts
    /// (<c>shared/messages/twin.ts</c>, <c>shared/messages/metaverse.ts</c>) expect them:
    /// plain dictionaries (serialised with MessagePack by the Colyseus SDK), poses in the
    /// <c>world</c> frame, numbers clamped into the accepted ranges so a stray value is never
    /// refused. None of these adds a <c>requestId</c>; <see cref="AgentTwinClient.Send"/> does.
    /// </summary>
    public static class TwinMessages
    {
        /// <summary>Largest coordinate the server accepts, m.</summary>
        public const float MaxCoordM = 100f;
        /// <summary>Largest joint or Cartesian jog speed the server accepts (rad/s or m/s).</summary>
        public const float MaxJogSpeed = 10f;
        /// <summary>Longest utterance, characters.</summary>
        public const int MaxUtteranceChars = 500;

        public static Dictionary<string, object> Vec3(Vector3 v)
        {
            return new Dictionary<string, object>
            {
                { "x", Clamp(v.x, -MaxCoordM, MaxCoordM) },
                { "y", Clamp(v.y, -MaxCoordM, MaxCoordM) },
                { "z", Clamp(v.z, -MaxCoordM, MaxCoordM) },
            };
        }

        public static Dictionary<string, object> Quat(Quaternion q)
        {
            Quaternion n = FrameConversion.Normalized(q);
            return new Dictionary<string, object>
            {
                { "x", n.x }, { "y", n.y }, { "z", n.z }, { "w", n.w },
            };
        }

        public static Dictionary<string, object> Pose(WorldPose pose)
        {
            return new Dictionary<string, object>
            {
                { "position", Vec3(pose.position) },
                { "orientation", Quat(pose.orientation) },
            };
        }

        /// <summary><c>pose</c>: head and (when tracked) hand poses in <c>world</c>.</summary>
        public static Dictionary<string, object> PoseMessage(WorldPose head, WorldPose? left, WorldPose? right)
        {
            var body = new Dictionary<string, object> { { "head", Pose(head) } };
            if (left.HasValue) body["left"] = Pose(left.Value);
            if (right.HasValue) body["right"] = Pose(right.Value);
            return body;
        }

        /// <summary><c>jog</c> of one joint (index in group order), rad/s, held for <paramref name="deadmanMs"/>.</summary>
        public static Dictionary<string, object> JogJoint(int joint, float velocity, int deadmanMs)
        {
            return new Dictionary<string, object>
            {
                { "mode", "joint" },
                { "joint", Math.Max(0, Math.Min(15, joint)) },
                { "velocity", Clamp(velocity, -MaxJogSpeed, MaxJogSpeed) },
                { "deadmanMs", ClampDeadman(deadmanMs) },
            };
        }

        /// <summary>
        /// <c>jog</c> of the tool: twist in the <c>base_link</c> frame, linear m/s and angular rad/s.
        /// </summary>
        public static Dictionary<string, object> JogCartesian(Vector3 linear, Vector3 angular, int deadmanMs)
        {
            return new Dictionary<string, object>
            {
                { "mode", "cartesian" },
                { "linear", ClampedVec3(linear, MaxJogSpeed) },
                { "angular", ClampedVec3(angular, MaxJogSpeed) },
                { "deadmanMs", ClampDeadman(deadmanMs) },
            };
        }

        /// <summary><c>goal</c>: a tool pose in <c>world</c> for the shared goal marker.</summary>
        public static Dictionary<string, object> GoalPose(WorldPose pose)
        {
            return new Dictionary<string, object>
            {
                { "goal", new Dictionary<string, object> { { "kind", "pose" }, { "pose", Pose(pose) } } },
            };
        }

        /// <summary><c>goal</c>: a named pose of the arm (e.g. <c>ready</c>).</summary>
        public static Dictionary<string, object> GoalNamed(string name)
        {
            return new Dictionary<string, object>
            {
                { "goal", new Dictionary<string, object> { { "kind", "named" }, { "name", name } } },
            };
        }

        /// <summary><c>goal</c> with <c>null</c>: clears the marker.</summary>
        public static Dictionary<string, object> ClearGoal()
        {
            return new Dictionary<string, object> { { "goal", null } };
        }

        /// <summary><c>plan</c> to the current goal marker.</summary>
        public static Dictionary<string, object> Plan()
        {
            return new Dictionary<string, object>();
        }

        /// <summary><c>approve</c> a validated plan.</summary>
        public static Dictionary<string, object> Approve(string planId)
        {
            return new Dictionary<string, object> { { "planId", planId } };
        }

        /// <summary><c>stop</c>: halt everything.</summary>
        public static Dictionary<string, object> Stop()
        {
            return new Dictionary<string, object>();
        }

        /// <summary><c>grab</c> a virtual object with a hand ("left" or "right").</summary>
        public static Dictionary<string, object> Grab(string objectId, string hand)
        {
            return new Dictionary<string, object> { { "objectId", objectId }, { "hand", hand } };
        }

        /// <summary><c>release</c> what a hand holds (both hands when <paramref name="hand"/> is null).</summary>
        public static Dictionary<string, object> Release(string hand)
        {
            var body = new Dictionary<string, object>();
            if (!string.IsNullOrEmpty(hand)) body["hand"] = hand;
            return body;
        }

        /// <summary>
        /// <c>utterance</c>: something said or typed, trimmed to 500 characters; null when
        /// nothing is left to send.
        /// </summary>
        public static Dictionary<string, object> Utterance(string text)
        {
            if (text == null) return null;
            string t = text.Trim();
            if (t.Length == 0) return null;
            if (t.Length > MaxUtteranceChars) t = t.Substring(0, MaxUtteranceChars);
            return new Dictionary<string, object> { { "text", t } };
        }

        /// <summary>
        /// <c>qoe</c> (metaverse room): buffer level (s), download throughput (bit/s), stalls
        /// since joining, the rendition playing, and optionally the viewing direction in <c>world</c>.
        /// </summary>
        public static Dictionary<string, object> Qoe(float bufferS, double throughputBps, int stalls, string rendition, Quaternion? viewport)
        {
            var body = new Dictionary<string, object>
            {
                { "bufferS", Clamp(bufferS, 0f, 600f) },
                { "throughputBps", Math.Max(0.0, Math.Min(10e9, double.IsNaN(throughputBps) ? 0.0 : throughputBps)) },
                { "stalls", Math.Max(0, Math.Min(1000000, stalls)) },
            };
            if (!string.IsNullOrEmpty(rendition) && rendition.Length <= 16) body["rendition"] = rendition;
            if (viewport.HasValue) body["viewport"] = Quat(viewport.Value);
            return body;
        }

        /// <summary><c>requestRendition</c> (metaverse room): ask for a rung, e.g. <c>4k</c>.</summary>
        public static Dictionary<string, object> RequestRendition(string rendition)
        {
            return new Dictionary<string, object> { { "rendition", rendition } };
        }

        private static Dictionary<string, object> ClampedVec3(Vector3 v, float limit)
        {
            return new Dictionary<string, object>
            {
                { "x", Clamp(v.x, -limit, limit) },
                { "y", Clamp(v.y, -limit, limit) },
                { "z", Clamp(v.z, -limit, limit) },
            };
        }

        private static int ClampDeadman(int ms)
        {
            return Math.Max(20, Math.Min(5000, ms));
        }

        /// <summary>Clamps into [lo, hi]; NaN becomes 0 (the server refuses non-finite numbers).</summary>
        private static float Clamp(float v, float lo, float hi)
        {
            if (float.IsNaN(v)) return 0f;
            return v < lo ? lo : (v > hi ? hi : v);
        }
    }
}
