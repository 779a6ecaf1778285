using System.Collections.Generic;
using AgentTwin;
using AgentTwin.Schema;
using UnityEngine;

/// <summary>
/// PICO 4 Rig sample: shows what the <c>digital_twin</c> room holds besides the arm —
/// <list type="bullet">
/// <item>scene objects (<c>objects</c>: box, cylinder, sphere with their size, pose and colour;
/// virtual ones half-transparent if the material allows);</item>
/// <item>other operators (<c>operators</c>, everyone but this session): a head sphere, two
/// hand boxes and their name;</item>
/// <item>the newest plan: its tool path (<c>previewTcp</c>) as a line, and a preview arm that
/// plays its joint waypoints (<c>preview</c>, rows of the arm's joints) over the plan's
/// duration, looping, until the plan is executed or superseded.</item>
/// </list>
/// The arm itself and the goal ghost are <see cref="RobotBinding"/>s (the Editor's rig builder
/// makes both); the agents' panel is the <see cref="StatusPanel"/>. Reads the state on the main
/// thread at <see cref="refreshHz"/>; everything it shows sits under the client's world anchor.
/// </summary>
[AddComponentMenu("AgentTwin/Samples/Twin Scene View")]
public class TwinSceneView : MonoBehaviour
{
    public AgentTwinClient client;
    [Tooltip("Plays the newest plan's joint waypoints; e.g. a PrimitiveArm with Source = Manual. Built at start when empty.")]
    public RobotBinding previewArm;
    [Tooltip("Draws the newest plan's tool path.")]
    public LineRenderer toolPath;
    [Range(1f, 90f)] public float refreshHz = 30f;
    [Tooltip("Plan statuses whose preview is shown.")]
    public string[] previewStatuses = { "validated", "approved" };

    private readonly Dictionary<string, GameObject> _objects = new Dictionary<string, GameObject>();
    private readonly Dictionary<string, string> _objectShapes = new Dictionary<string, string>();
    private readonly Dictionary<string, OperatorAvatar> _operators = new Dictionary<string, OperatorAvatar>();
    private readonly HashSet<string> _seen = new HashSet<string>();
    private readonly List<string> _gone = new List<string>();
    private float _nextRefresh;

    private string _planId = "";
    private float[] _preview = new float[0];
    private float _planDurationS;
    private float _planShownAt;
    private int _jointCount = 7;

    private sealed class OperatorAvatar
    {
        public GameObject head;
        public GameObject left;
        public GameObject right;
        public TextMesh label;
        public string name;
        public string role;
    }

    private void OnEnable()
    {
        if (client == null) client = FindObjectOfType<AgentTwinClient>();
        if (previewArm == null && client != null)
        {
            Transform anchor = client.worldAnchor != null ? client.worldAnchor : transform;
            previewArm = PrimitiveArm.Build(anchor, "Plan Preview", ArmModel.Panda(), client, RobotBinding.Source.Manual, null);
            previewArm.gameObject.SetActive(false);
        }
    }

    private void Update()
    {
        if (client == null || Time.unscaledTime < _nextRefresh) return;
        _nextRefresh = Time.unscaledTime + 1f / refreshHz;
        TwinState state = client.TwinState;
        if (state == null) return;
        if (state.robot != null && state.robot.joints != null && state.robot.joints.Count > 0) _jointCount = state.robot.joints.Count;
        SyncObjects(state);
        SyncOperators(state);
        SyncPlan(state);
    }

    // ---------------------------------------------------------------------------------------
    // Scene objects

    private void SyncObjects(TwinState state)
    {
        _seen.Clear();
        if (state.objects != null)
        {
            foreach (object key in state.objects.Keys)
            {
                string id = key as string;
                ObjectState o;
                if (id == null || !state.objects.TryGetValue(id, out o)) continue;
                if (o == null || o.pose == null || o.pose.position == null) continue;
                _seen.Add(id);
                GameObject go;
                string shape;
                if (!_objects.TryGetValue(id, out go) || !_objectShapes.TryGetValue(id, out shape) || shape != o.shape)
                {
                    if (go != null) Destroy(go);
                    go = PrimitiveArm.Part(PrimitiveFor(o.shape), Anchor(), new Vector3(0f, 0f, 0f), new Vector3(1f, 1f, 1f), null);
                    go.name = "Object " + o.id;
                    _objects[id] = go;
                    _objectShapes[id] = o.shape;
                    Tint(go, o.color, o.@virtual ? 0.5f : 1f);
                }
                go.transform.localPosition = FrameConversion.WorldToUnity(ToVector(o.pose.position));
                go.transform.localRotation = FrameConversion.WorldToUnity(ToQuaternion(o.pose.orientation));
                go.transform.localScale = ScaleFor(o.shape, o.size != null ? ToVector(o.size) : new Vector3(0.05f, 0.05f, 0.05f));
            }
        }
        RemoveUnseen(_objects);
    }

    private static PrimitiveType PrimitiveFor(string shape)
    {
        switch (shape)
        {
            case "sphere": return PrimitiveType.Sphere;
            case "cylinder": return PrimitiveType.Cylinder;
            default: return PrimitiveType.Cube;
        }
    }

    /// <summary>
    /// The object's <c>size</c> (see the schema) as the primitive's local scale. Unity's cylinder
    /// is 2 units tall along its y and 1 wide; the twin's cylinder axis is its z (Unity's y).
    /// </summary>
    public static Vector3 ScaleFor(string shape, Vector3 size)
    {
        switch (shape)
        {
            case "sphere": return new Vector3(2f * size.x, 2f * size.x, 2f * size.x);
            case "cylinder": return new Vector3(2f * size.x, 0.5f * size.z, 2f * size.x);
            default: return FrameConversion.WorldToUnityScale(size);
        }
    }

    // ---------------------------------------------------------------------------------------
    // Other operators

    private void SyncOperators(TwinState state)
    {
        _seen.Clear();
        string me = client.SessionId ?? "";
        if (state.operators != null)
        {
            foreach (object key in state.operators.Keys)
            {
                string id = key as string;
                OperatorState op;
                if (id == null || !state.operators.TryGetValue(id, out op)) continue;
                if (op == null || id == me || !op.connected) continue;
                _seen.Add(id);
                OperatorAvatar avatar;
                if (!_operators.TryGetValue(id, out avatar))
                {
                    avatar = NewAvatar(op.name);
                    _operators[id] = avatar;
                }
                Place(avatar.head, op.head);
                Place(avatar.left, op.left);
                Place(avatar.right, op.right);
                if (avatar.name != op.name || avatar.role != op.role)
                {
                    // Rebuilt on change only (refreshHz would build the string every refresh).
                    avatar.name = op.name;
                    avatar.role = op.role;
                    avatar.label.text = op.name + (op.role == "observer" ? " (observer)" : "");
                }
            }
        }
        _gone.Clear();
        foreach (string id in _operators.Keys) if (!_seen.Contains(id)) _gone.Add(id);
        foreach (string id in _gone)
        {
            Destroy(_operators[id].head.transform.parent.gameObject);
            _operators.Remove(id);
        }
    }

    private OperatorAvatar NewAvatar(string name)
    {
        var root = new GameObject("Operator " + name);
        root.transform.SetParent(Anchor(), false);
        var avatar = new OperatorAvatar
        {
            head = PrimitiveArm.Part(PrimitiveType.Sphere, root.transform, new Vector3(0f, 0f, 0f), new Vector3(0.2f, 0.24f, 0.22f), null),
            left = PrimitiveArm.Part(PrimitiveType.Cube, root.transform, new Vector3(0f, 0f, 0f), new Vector3(0.05f, 0.04f, 0.12f), null),
            right = PrimitiveArm.Part(PrimitiveType.Cube, root.transform, new Vector3(0f, 0f, 0f), new Vector3(0.05f, 0.04f, 0.12f), null),
        };
        var label = new GameObject("Name");
        label.transform.SetParent(avatar.head.transform, false);
        label.transform.localPosition = new Vector3(0f, 0.8f, 0f);
        avatar.label = label.AddComponent<TextMesh>();
        avatar.label.characterSize = 0.02f;
        avatar.label.anchor = TextAnchor.LowerCenter;
        return avatar;
    }

    /// <summary>Shows <paramref name="part"/> at the pose, or hides it while the pose is unset (all-zero quaternion).</summary>
    private static void Place(GameObject part, PoseState pose)
    {
        bool tracked = pose != null && pose.position != null && pose.orientation != null &&
            (pose.orientation.x != 0 || pose.orientation.y != 0 || pose.orientation.z != 0 || pose.orientation.w != 0);
        if (part.activeSelf != tracked) part.SetActive(tracked);
        if (!tracked) return;
        part.transform.localPosition = FrameConversion.WorldToUnity(ToVector(pose.position));
        part.transform.localRotation = FrameConversion.WorldToUnity(ToQuaternion(pose.orientation));
    }

    // ---------------------------------------------------------------------------------------
    // Plan preview

    private void SyncPlan(TwinState state)
    {
        PlanState newest = TwinQueries.NewestPlan(state, previewStatuses);
        bool executing = state.robot != null && !string.IsNullOrEmpty(state.robot.activePlanId);
        bool show = newest != null && !executing && newest.preview != null && newest.preview.Count >= _jointCount;
        if (previewArm != null && previewArm.gameObject.activeSelf != show) previewArm.gameObject.SetActive(show);
        if (toolPath != null) toolPath.enabled = show;
        if (!show)
        {
            _planId = "";
            return;
        }
        if (newest.id != _planId)
        {
            _planId = newest.id;
            _preview = Copy(newest.preview);
            _planDurationS = Mathf.Max(0.5f, newest.duration);
            _planShownAt = Time.unscaledTime;
            if (toolPath != null) DrawToolPath(Copy(newest.previewTcp));
        }
        int rows = _preview.Length / _jointCount;
        if (rows == 0 || previewArm == null) return;
        // Play the waypoints over the plan's duration, then hold the last one for a second, and loop.
        float t = (Time.unscaledTime - _planShownAt) % (_planDurationS + 1f);
        int row = Mathf.Min(rows - 1, (int)(t / _planDurationS * (rows - 1) + 0.5f));
        previewArm.ShowPositions(_preview, row * _jointCount, _jointCount);
    }

    private void DrawToolPath(float[] xyz)
    {
        int n = xyz.Length / 3;
        toolPath.useWorldSpace = true;
        toolPath.positionCount = n;
        for (int i = 0; i < n; i++)
        {
            var world = new Vector3(xyz[3 * i], xyz[3 * i + 1], xyz[3 * i + 2]);
            toolPath.SetPosition(i, WorldFrame.PointToUnity(world, client.worldAnchor));
        }
    }

    // ---------------------------------------------------------------------------------------
    // Helpers

    private Transform Anchor()
    {
        return client.worldAnchor != null ? client.worldAnchor : transform;
    }

    private void RemoveUnseen(Dictionary<string, GameObject> map)
    {
        _gone.Clear();
        foreach (string id in map.Keys) if (!_seen.Contains(id)) _gone.Add(id);
        foreach (string id in _gone)
        {
            Destroy(map[id]);
            map.Remove(id);
            _objectShapes.Remove(id);
        }
    }

    private static void Tint(GameObject go, string html, float alpha)
    {
        Color color;
        if (string.IsNullOrEmpty(html) || !ColorUtility.TryParseHtmlString(html, out color)) return;
        color.a = alpha;
        Renderer renderer = go.GetComponent<Renderer>();
        if (renderer != null) renderer.material.color = color;
    }

    private static float[] Copy(Colyseus.Schema.ArraySchema<float> values)
    {
        var copy = new float[values != null ? values.Count : 0];
        for (int i = 0; i < copy.Length; i++) copy[i] = values[i];
        return copy;
    }

    private static Vector3 ToVector(Vec3State v)
    {
        return new Vector3((float)v.x, (float)v.y, (float)v.z);
    }

    private static Quaternion ToQuaternion(QuatState q)
    {
        if (q == null || (q.x == 0 && q.y == 0 && q.z == 0 && q.w == 0)) return new Quaternion(0f, 0f, 0f, 1f);
        return new Quaternion((float)q.x, (float)q.y, (float)q.z, (float)q.w);
    }
}
