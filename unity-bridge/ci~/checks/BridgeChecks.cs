// Runnable checks of the bridge's Unity-free parts, built by CI with mcs against the
// compile-only stubs and run with mono (test/unit/unity-bridge.test.ts):
//   - FrameConversion: axis table, round trips, rotations commute with the conversion;
//   - JointInterpolator: clock offset, interpolation, extrapolation cap, resets;
//   - AgentTwinClient.ResolveHttpUrl;
//   - TwinMessages: prints every message body as "MSG <room> <type> <json>" so the TypeScript
//     test validates it against the server's zod contracts;
//   - ArmModel: prints the stand-in Panda's tool point for 20 joint vectors as "FK <q> <xyz>",
//     which the TypeScript test compares with the server's kinematics.
// Exit status 0 when every check passed. Not part of the Unity package (folder ends in '~').
using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using AgentTwin;
using UnityEngine;

public static class BridgeChecks
{
    private static int _passed;
    private static int _failed;

    public static int Main()
    {
        FrameAxes();
        FrameRoundTrips();
        FrameRotationsCommute();
        FrameRotationAxes();
        InterpolatorTracksLinearMotion();
        InterpolatorOffsetFollowsFastestPath();
        InterpolatorExtrapolatesThenHolds();
        InterpolatorIgnoresOldAndResetsOnClockJump();
        InterpolatorLinearWithoutVelocities();
        HttpUrls();
        Messages();
        ArmPoses();
        Console.WriteLine(_failed == 0 ? "checks passed: " + _passed : "checks FAILED: " + _failed + " of " + (_passed + _failed));
        return _failed == 0 ? 0 : 1;
    }

    // ---------------------------------------------------------------------------------------
    // FrameConversion

    private static void FrameAxes()
    {
        // Unity forward (+z) is world forward (+x); Unity right (+x) is world -y; up is up.
        Near("unity forward → world +x", FrameConversion.UnityToWorld(V(0, 0, 1)), V(1, 0, 0));
        Near("unity right → world -y", FrameConversion.UnityToWorld(V(1, 0, 0)), V(0, -1, 0));
        Near("unity up → world +z", FrameConversion.UnityToWorld(V(0, 1, 0)), V(0, 0, 1));
        Near("world left (+y) → unity -x", FrameConversion.WorldToUnity(V(0, 1, 0)), V(-1, 0, 0));
        Near("unity point", FrameConversion.UnityToWorld(V(1.5f, 0.8f, -2f)), V(-2f, -1.5f, 0.8f));
        // A quarter turn to the right about Unity's up (left-handed: +90° about +y turns +z to +x)
        // is a quarter turn clockwise seen from above in world: -90° about +z, so +x → -y.
        Quaternion turnRightU = AxisAngle(V(0, 1, 0), 90);
        Near("unity +90° about up turns forward to right", FrameConversion.Rotate(turnRightU, V(0, 0, 1)), V(1, 0, 0));
        Quaternion turnRightW = FrameConversion.UnityToWorld(turnRightU);
        Near("…which in world turns +x to -y", FrameConversion.Rotate(turnRightW, V(1, 0, 0)), V(0, -1, 0));
        NearQ("…and is -90° about world +z", turnRightW, AxisAngle(V(0, 0, 1), -90));
        NearQ("identity stays identity", FrameConversion.UnityToWorld(new Quaternion(0, 0, 0, 1)), new Quaternion(0, 0, 0, 1));
        NearQ("degenerate quaternion → identity", FrameConversion.Normalized(new Quaternion(0, 0, 0, 0)), new Quaternion(0, 0, 0, 1));
    }

    private static void FrameRoundTrips()
    {
        var rng = new System.Random(7);
        for (int i = 0; i < 100; i++)
        {
            Vector3 v = RandomVector(rng);
            Near("vector round trip " + i, FrameConversion.WorldToUnity(FrameConversion.UnityToWorld(v)), v);
            Near("axis round trip " + i, FrameConversion.WorldToUnityAxis(FrameConversion.UnityToWorldAxis(v)), v);
            Quaternion q = RandomRotation(rng);
            NearQ("rotation round trip " + i, FrameConversion.WorldToUnity(FrameConversion.UnityToWorld(q)), q);
        }
    }

    private static void FrameRotationsCommute()
    {
        // toWorld(q ⊗ v) == toWorld(q) ⊗ toWorld(v): the quaternion map matches the point map.
        var rng = new System.Random(11);
        for (int i = 0; i < 200; i++)
        {
            Quaternion q = RandomRotation(rng);
            Vector3 v = RandomVector(rng);
            Near("commutes " + i,
                FrameConversion.UnityToWorld(FrameConversion.Rotate(q, v)),
                FrameConversion.Rotate(FrameConversion.UnityToWorld(q), FrameConversion.UnityToWorld(v)));
            Quaternion w = RandomRotation(rng);
            Near("commutes back " + i,
                FrameConversion.WorldToUnity(FrameConversion.Rotate(w, v)),
                FrameConversion.Rotate(FrameConversion.WorldToUnity(w), FrameConversion.WorldToUnity(v)));
        }
    }

    private static void FrameRotationAxes()
    {
        // θ about a (Unity) is θ about UnityToWorldAxis(a) in world, and back for URDF axes.
        var rng = new System.Random(13);
        for (int i = 0; i < 50; i++)
        {
            Vector3 a = Normalize(RandomVector(rng));
            float deg = (float)(rng.NextDouble() * 340 - 170);
            NearQ("axis-angle unity→world " + i,
                FrameConversion.UnityToWorld(AxisAngle(a, deg)),
                AxisAngle(FrameConversion.UnityToWorldAxis(a), deg));
            NearQ("axis-angle world→unity " + i,
                FrameConversion.WorldToUnity(AxisAngle(a, deg)),
                AxisAngle(FrameConversion.WorldToUnityAxis(a), deg));
        }
        // A URDF joint about +z (world up) turning +30° is, in Unity, about -y (down): +30°
        // counter-clockwise seen from above in both.
        Near("urdf z axis in unity", FrameConversion.WorldToUnityAxis(V(0, 0, 1)), V(0, -1, 0));
    }

    // ---------------------------------------------------------------------------------------
    // JointInterpolator

    private static readonly string[] Names = { "j1", "j2" };

    private static void Push(JointInterpolator it, double stamp, double arrival, float p1, float p2, float v1, float v2)
    {
        it.Push(stamp, arrival, 2, Names, new[] { p1, p2 }, new[] { v1, v2 }, 0.04f);
    }

    private static void InterpolatorTracksLinearMotion()
    {
        foreach (bool hermite in new[] { false, true })
        {
            var it = new JointInterpolator { RenderDelayMs = 50, UseVelocities = hermite };
            // p1 = 0.5 rad/s, p2 = -1 rad/s; 60 Hz patches; cell clock 5 s behind the headset.
            double stamp = 1000;
            for (int k = 0; k < 30; k++, stamp += 1000.0 / 60)
            {
                float t = (float)((stamp - 1000) / 1000);
                Push(it, stamp, stamp + 5000, 0.5f * t, -t, 0.5f, -1f);
            }
            double last = stamp - 1000.0 / 60;
            float[] pos = null;
            float grip;
            for (int k = 0; k <= 10; k++)
            {
                double now = last + 5000 - 20 + k * 3.7; // render times around 50–70 ms behind
                int n = it.Sample(now, ref pos, out grip);
                double tr = (now - 50 - 5000 - 1000) / 1000;
                Check("sample count", n == 2);
                NearF("linear motion j1 (hermite " + hermite + ") " + k, pos[0], (float)(0.5 * tr), 1e-4f);
                NearF("linear motion j2 (hermite " + hermite + ") " + k, pos[1], (float)(-tr), 1e-4f);
                NearF("gripper", grip, 0.04f, 1e-6f);
            }
        }
    }

    private static void InterpolatorOffsetFollowsFastestPath()
    {
        var it = new JointInterpolator();
        var rng = new System.Random(3);
        double stamp = 0;
        for (int k = 0; k < 300; k++, stamp += 16.7)
        {
            double delay = 5 + rng.NextDouble() * 25; // 5–30 ms of network jitter
            Push(it, 1e12 + stamp, 2e6 + stamp + delay, 0, 0, 0, 0);
        }
        double offset = it.OffsetMs - (2e6 - 1e12);
        Check("offset tracks the fastest arrivals (got " + offset.ToString("F2") + " ms)", offset >= 5 && offset < 8);
    }

    private static void InterpolatorExtrapolatesThenHolds()
    {
        var it = new JointInterpolator { RenderDelayMs = 0, MaxExtrapolationMs = 100 };
        Push(it, 1000, 1000, 0f, 0f, 0f, 0f);
        Push(it, 1100, 1100, 0.1f, 0f, 1f, 0f);
        float[] pos = null;
        float grip;
        it.Sample(1150, ref pos, out grip);
        NearF("extrapolates with velocity", pos[0], 0.15f, 1e-5f);
        it.Sample(5000, ref pos, out grip);
        NearF("extrapolation capped", pos[0], 0.2f, 1e-5f);
        it.UseVelocities = false;
        it.Sample(1150, ref pos, out grip);
        NearF("holds without velocities", pos[0], 0.1f, 1e-6f);
        it.Sample(500, ref pos, out grip);
        NearF("older than the buffer: oldest", pos[0], 0f, 1e-6f);
    }

    private static void InterpolatorIgnoresOldAndResetsOnClockJump()
    {
        var it = new JointInterpolator();
        Push(it, 100000, 1000, 0, 0, 0, 0);
        Push(it, 100010, 1010, 0, 0, 0, 0);
        Push(it, 100005, 1020, 9, 9, 0, 0); // older stamp: a patch that changed something else
        Check("older stamp ignored", it.Count == 2);
        Push(it, 10, 1030, 1, 1, 0, 0);     // the cell restarted: its clock jumped back
        Check("clock jump resets history", it.Count == 1);
        NearF("offset re-estimated", (float)it.OffsetMs, 1020f, 1e-3f);
        int version = it.NamesVersion;
        it.Push(20, 1040, 1, new[] { "other" }, new[] { 0f }, null, 0f);
        Check("names version bumps on a new joint set", it.NamesVersion == version + 1);
        string[] names = null;
        Check("names copied", it.CopyNames(ref names) == 1 && names[0] == "other");
    }

    private static void InterpolatorLinearWithoutVelocities()
    {
        // Zero velocities while moving = "not reported": no ease-in/ease-out between samples.
        var it = new JointInterpolator { RenderDelayMs = 0, UseVelocities = true };
        Push(it, 1000, 1000, 0f, 0f, 0f, 0f);
        Push(it, 1100, 1100, 1f, 0f, 0f, 0f);
        Push(it, 1200, 1200, 2f, 0f, 0f, 0f);
        float[] pos = null;
        float grip;
        it.Sample(1125, ref pos, out grip);
        NearF("linear when velocities are missing", pos[0], 1.25f, 1e-5f);
    }

    // ---------------------------------------------------------------------------------------
    // ArmModel: tool points of the stand-in arm, compared in the TS test with the server's FK

    private static void ArmPoses()
    {
        var rng = new Random(7);
        ArmJoint[] chain = ArmModel.Panda();
        for (int k = 0; k < 20; k++)
        {
            var q = new float[7];
            for (int i = 0; i < 7; i++) q[i] = k == 0 ? 0f : (float)(rng.NextDouble() * 4.0 - 2.0);
            WorldPose tcp = ArmModel.Forward(chain, q, ArmModel.PandaTcpOffsetM);
            var inv = System.Globalization.CultureInfo.InvariantCulture;
            var parts = new string[7];
            for (int i = 0; i < 7; i++) parts[i] = q[i].ToString("R", inv);
            Console.WriteLine("FK " + string.Join(",", parts) + " " + tcp.position.x.ToString("R", inv) + "," +
                tcp.position.y.ToString("R", inv) + "," + tcp.position.z.ToString("R", inv));
        }
    }

    // ---------------------------------------------------------------------------------------
    // URLs and messages

    private static void HttpUrls()
    {
        Eq("relative playlist", AgentTwinClient.ResolveHttpUrl("ws://10.0.0.5:2567", "/media/s1/720p.m3u8"), "http://10.0.0.5:2567/media/s1/720p.m3u8");
        Eq("tls and base path", AgentTwinClient.ResolveHttpUrl("wss://twin.example.com/at", "media/x.m3u8"), "https://twin.example.com/at/media/x.m3u8");
        Eq("absolute kept", AgentTwinClient.ResolveHttpUrl("ws://h:2567", "https://cdn.example.com/a.m3u8"), "https://cdn.example.com/a.m3u8");
        Eq("empty", AgentTwinClient.ResolveHttpUrl("ws://h:2567", ""), "");
    }

    private static int _requestId;

    private static void Emit(string room, string type, Dictionary<string, object> body, bool withRequestId)
    {
        if (body == null)
        {
            Fail(type + ": builder returned null");
            return;
        }
        if (withRequestId) body["requestId"] = "u" + (++_requestId);
        Console.WriteLine("MSG " + room + " " + type + " " + Json(body));
        _passed++;
    }

    private static void Messages()
    {
        var head = new WorldPose(V(0.1f, -0.2f, 1.6f), FrameConversion.UnityToWorld(AxisAngle(V(0, 1, 0), 30)));
        var hand = new WorldPose(V(0.5f, 0.1f, 1.1f), new Quaternion(0, 0, 0, 0));
        Emit("twin", "pose", TwinMessages.PoseMessage(head, hand, null), false);
        Emit("twin", "pose", TwinMessages.PoseMessage(head, hand, new WorldPose(V(500, 0, 0), new Quaternion(0, 0, 0, 2))), false);
        Emit("twin", "jog", TwinMessages.JogJoint(3, 0.4f, 300), false);
        Emit("twin", "jog", TwinMessages.JogJoint(40, 50f, 5), false);
        Emit("twin", "jog", TwinMessages.JogCartesian(V(0.1f, -0.05f, 0f), V(0, 0, -0.5f), 300), false);
        Emit("twin", "jog", TwinMessages.JogCartesian(V(0f, 0f, 0f), V(0f, 0f, 0f), 300), false);
        Emit("twin", "goal", TwinMessages.GoalPose(hand), true);
        Emit("twin", "goal", TwinMessages.GoalNamed("ready"), true);
        Emit("twin", "goal", TwinMessages.ClearGoal(), true);
        Emit("twin", "plan", TwinMessages.Plan(), true);
        Emit("twin", "approve", TwinMessages.Approve("plan-3"), true);
        Emit("twin", "stop", TwinMessages.Stop(), true);
        Emit("twin", "grab", TwinMessages.Grab("box-1", "left"), true);
        Emit("twin", "release", TwinMessages.Release("right"), true);
        Emit("twin", "release", TwinMessages.Release(null), true);
        Emit("twin", "utterance", TwinMessages.Utterance("  move the arm to the ready pose "), true);
        Emit("twin", "utterance", TwinMessages.Utterance(new string('a', 600)), true);
        Check("blank utterance is not sent", TwinMessages.Utterance("   ") == null);
        Emit("metaverse", "pose", TwinMessages.PoseMessage(head, null, hand), false);
        Emit("metaverse", "qoe", TwinMessages.Qoe(2f, 8e6, 1, "1080p", head.orientation), false);
        Emit("metaverse", "qoe", TwinMessages.Qoe(-1f, double.NaN, -3, "", null), false);
        Emit("metaverse", "requestRendition", TwinMessages.RequestRendition("4k"), true);
        Emit("metaverse", "utterance", TwinMessages.Utterance("lower the resolution"), true);
    }

    // ---------------------------------------------------------------------------------------
    // Helpers

    private static Vector3 V(float x, float y, float z) { return new Vector3(x, y, z); }

    private static Vector3 Normalize(Vector3 v)
    {
        float m = (float)Math.Sqrt(v.x * v.x + v.y * v.y + v.z * v.z);
        return m > 1e-6f ? V(v.x / m, v.y / m, v.z / m) : V(1, 0, 0);
    }

    private static Quaternion AxisAngle(Vector3 axis, float deg)
    {
        Vector3 a = Normalize(axis);
        double h = deg * Math.PI / 360;
        float s = (float)Math.Sin(h);
        return new Quaternion(a.x * s, a.y * s, a.z * s, (float)Math.Cos(h));
    }

    private static Vector3 RandomVector(System.Random rng)
    {
        return V((float)(rng.NextDouble() * 4 - 2), (float)(rng.NextDouble() * 4 - 2), (float)(rng.NextDouble() * 4 - 2));
    }

    private static Quaternion RandomRotation(System.Random rng)
    {
        return FrameConversion.Normalized(new Quaternion(
            (float)(rng.NextDouble() * 2 - 1), (float)(rng.NextDouble() * 2 - 1),
            (float)(rng.NextDouble() * 2 - 1), (float)(rng.NextDouble() * 2 - 1)));
    }

    private static void Check(string what, bool ok)
    {
        if (ok) _passed++;
        else Fail(what);
    }

    private static void Fail(string what)
    {
        _failed++;
        Console.WriteLine("FAIL " + what);
    }

    private static void Near(string what, Vector3 got, Vector3 want)
    {
        bool ok = Math.Abs(got.x - want.x) < 1e-4 && Math.Abs(got.y - want.y) < 1e-4 && Math.Abs(got.z - want.z) < 1e-4;
        Check(what + ": got (" + got.x + ", " + got.y + ", " + got.z + ") want (" + want.x + ", " + want.y + ", " + want.z + ")", ok);
    }

    private static void NearQ(string what, Quaternion got, Quaternion want)
    {
        // q and -q are the same rotation.
        double dot = got.x * want.x + got.y * want.y + got.z * want.z + got.w * want.w;
        Check(what + ": got (" + got.x + ", " + got.y + ", " + got.z + ", " + got.w + ")", Math.Abs(Math.Abs(dot) - 1) < 1e-5);
    }

    private static void NearF(string what, float got, float want, float tol)
    {
        Check(what + ": got " + got + " want " + want, Math.Abs(got - want) <= tol);
    }

    private static void Eq(string what, string got, string want)
    {
        Check(what + ": got " + got + " want " + want, got == want);
    }

    private static string Json(object value)
    {
        var sb = new StringBuilder();
        WriteJson(sb, value);
        return sb.ToString();
    }

    private static void WriteJson(StringBuilder sb, object value)
    {
        if (value == null) { sb.Append("null"); return; }
        if (value is string) { WriteString(sb, (string)value); return; }
        if (value is bool) { sb.Append((bool)value ? "true" : "false"); return; }
        if (value is float) { sb.Append(((float)value).ToString("R", CultureInfo.InvariantCulture)); return; }
        if (value is double) { sb.Append(((double)value).ToString("R", CultureInfo.InvariantCulture)); return; }
        if (value is int || value is long) { sb.Append(Convert.ToString(value, CultureInfo.InvariantCulture)); return; }
        var dict = value as IDictionary;
        if (dict != null)
        {
            sb.Append('{');
            bool first = true;
            foreach (DictionaryEntry e in dict)
            {
                if (!first) sb.Append(',');
                first = false;
                WriteString(sb, (string)e.Key);
                sb.Append(':');
                WriteJson(sb, e.Value);
            }
            sb.Append('}');
            return;
        }
        var list = value as IList;
        if (list != null)
        {
            sb.Append('[');
            for (int i = 0; i < list.Count; i++)
            {
                if (i > 0) sb.Append(',');
                WriteJson(sb, list[i]);
            }
            sb.Append(']');
            return;
        }
        throw new ArgumentException("cannot serialise " + value.GetType());
    }

    private static void WriteString(StringBuilder sb, string s)
    {
        sb.Append('"');
        foreach (char c in s)
        {
            if (c == '"' || c == '\\') sb.Append('\\').Append(c);
            else if (c < ' ') sb.Append("\\u").Append(((int)c).ToString("x4"));
            else sb.Append(c);
        }
        sb.Append('"');
    }
}
