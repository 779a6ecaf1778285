using System;
using System.Collections.Generic;
using System.Diagnostics;
using AgentTwin.Schema;
using UnityEngine;

namespace AgentTwin
{
    /// <summary>
    /// Drives an arm model from the twin: maps <c>robot.joints</c> (or the goal marker's joint
    /// solution, for a ghost arm) onto the model's joints by name, and the gripper opening
    /// onto its fingers.
    ///
    /// Each joint drives either an <see cref="ArticulationBody"/> (as made by Unity's URDF
    /// Importer: the drive target, and optionally the joint position itself) or a plain
    /// <see cref="Transform"/> (its local rotation about an axis, or local position along it
    /// for prismatic joints, on top of the rest pose captured at enable).
    ///
    /// Measured joints are rendered <see cref="renderDelayMs"/> behind the cell's stamps and
    /// interpolated between patches (see <see cref="JointInterpolator"/>), so a 60 Hz patch
    /// stream looks smooth on a 72–120 Hz headset.
    /// </summary>
    [AddComponentMenu("AgentTwin/Robot Binding")]
    public class RobotBinding : MonoBehaviour
    {
        /// <summary>What the model shows.</summary>
        public enum Source
        {
            /// <summary>The arm as measured by the cell (<c>robot.joints</c>), interpolated.</summary>
            Measured,
            /// <summary>The goal marker's joint solution (<c>goal.positions</c>): a ghost arm.</summary>
            Goal,
            /// <summary>Whatever <see cref="ShowPositions"/> sets (e.g. a plan preview's waypoints).</summary>
            Manual,
        }

        /// <summary>The frame <see cref="Joint.axis"/> is given in.</summary>
        public enum AxisSpace
        {
            /// <summary>The URDF joint axis (right-handed, the link frame as imported).</summary>
            Urdf,
            /// <summary>An axis of the Transform's own local space (Unity, left-handed).</summary>
            UnityLocal,
        }

        [Serializable]
        public class Joint
        {
            [Tooltip("Joint name in the twin, e.g. panda_joint1.")]
            public string name = "";
            [Tooltip("Drive this ArticulationBody (URDF Importer output); else the Transform below.")]
            public ArticulationBody articulation;
            [Tooltip("Rotate (or slide) this Transform when there is no ArticulationBody.")]
            public Transform transform;
            public AxisSpace axisSpace = AxisSpace.Urdf;
            [Tooltip("Joint axis (Transform mode): the URDF <axis xyz>, or a Unity local axis.")]
            public Vector3 axis = new Vector3(0f, 0f, 1f);
            [Tooltip("Slide along the axis (metres) instead of rotating (radians).")]
            public bool prismatic;
            [Tooltip("Multiplies the value (use -1 to flip a joint).")]
            public float scale = 1f;
            [Tooltip("Added to the value, rad or m.")]
            public float offset = 0f;

            [NonSerialized] internal bool restCaptured;
            [NonSerialized] internal Quaternion restRotation;
            [NonSerialized] internal Vector3 restPosition;
            [NonSerialized] internal int index = -1;
        }

        [Tooltip("The client whose twin state drives this arm.")]
        public AgentTwinClient client;
        public Source source = Source.Measured;
        [Tooltip("The arm's joints, by name.")]
        public Joint[] joints = new Joint[0];
        [Tooltip("Finger joints: each moves half the gripper opening (prismatic, metres).")]
        public Joint[] fingers = new Joint[0];

        [Header("Interpolation (Measured)")]
        [Tooltip("Render this far behind the cell's stamps, ms (about one to three patch intervals).")]
        [Range(0f, 500f)] public float renderDelayMs = 50f;
        [Tooltip("Longest extrapolation with the joint velocities when patches are late, ms.")]
        [Range(0f, 500f)] public float maxExtrapolationMs = 100f;
        [Tooltip("Cubic Hermite with the joint velocities between patches (else linear).")]
        public bool useVelocities = true;

        [Header("Articulations")]
        [Tooltip("Also set ArticulationBody.jointPosition, so the model follows exactly instead of through its drives.")]
        public bool teleportArticulations = true;

        [Header("Goal ghost")]
        [Tooltip("Shown only while a reachable goal is set (Source = Goal); e.g. the ghost arm's root.")]
        public GameObject showWhileGoalValid;

        private readonly JointInterpolator _interp = new JointInterpolator();
        private static readonly Stopwatch Clock = Stopwatch.StartNew();

        // Patch-thread scratch (only the decoding thread writes these).
        private string[] _inNames = new string[0];
        private float[] _inPositions = new float[0];
        private float[] _inVelocities = new float[0];
        private double _lastStamp = -1;

        // Goal snapshot, guarded by _goalLock.
        private readonly object _goalLock = new object();
        private string[] _goalNames = new string[0];
        private float[] _goalPositions = new float[0];
        private int _goalCount;
        private bool _goalValid;
        private int _goalVersion;

        // Render-thread state.
        private float[] _out = new float[0];
        private string[] _names = new string[0];
        private int _namesVersion = -1;
        private int _appliedGoalVersion = -1;
        private AgentTwinClient _subscribed;

        /// <summary>Local monotonic time, ms (any thread).</summary>
        public static double NowMs()
        {
            return Clock.Elapsed.TotalMilliseconds;
        }

        /// <summary>The interpolator behind the Measured view (for diagnostics).</summary>
        public JointInterpolator Interpolator { get { return _interp; } }

        protected virtual void OnEnable()
        {
            CaptureRest(joints);
            CaptureRest(fingers);
            Subscribe();
        }

        protected virtual void OnDisable()
        {
            Unsubscribe();
        }

        private void Subscribe()
        {
            if (client == null) client = FindObjectOfType<AgentTwinClient>();
            if (client == null || _subscribed == client) return;
            Unsubscribe();
            client.TwinStatePatched += OnPatch;
            client.Joined += OnJoined;
            _subscribed = client;
        }

        private void Unsubscribe()
        {
            if (_subscribed == null) return;
            _subscribed.TwinStatePatched -= OnPatch;
            _subscribed.Joined -= OnJoined;
            _subscribed = null;
        }

        private void OnJoined(string sessionId)
        {
            // A fresh session may come from another cell (another clock): start over.
            _interp.Clear();
            _lastStamp = -1;
        }

        /// <summary>Copies what this binding needs out of a patch (decoding thread).</summary>
        private void OnPatch(TwinState state)
        {
            RobotState robot = state.robot;
            if (robot == null || robot.joints == null) return;
            int n = robot.joints.Count;
            if (_inNames.Length < n)
            {
                _inNames = new string[n];
                _inPositions = new float[n];
                _inVelocities = new float[n];
            }
            for (int i = 0; i < n; i++)
            {
                JointState j = robot.joints[i];
                _inNames[i] = j != null ? j.name : "";
                _inPositions[i] = j != null ? (float)j.position : 0f;
                _inVelocities[i] = j != null ? (float)j.velocity : 0f;
            }

            if (source == Source.Measured)
            {
                if (robot.stamp == _lastStamp && robot.stamp > 0) return;
                _lastStamp = robot.stamp;
                _interp.Push(robot.stamp, NowMs(), n, _inNames, _inPositions, _inVelocities, (float)robot.gripper);
                return;
            }

            GoalState goal = state.goal;
            lock (_goalLock)
            {
                int count = goal != null && goal.positions != null ? Math.Min(goal.positions.Count, n) : 0;
                if (_goalNames.Length < count)
                {
                    _goalNames = new string[count];
                    _goalPositions = new float[count];
                }
                bool changed = count != _goalCount || (goal != null && goal.valid) != _goalValid;
                for (int i = 0; i < count; i++)
                {
                    float p = (float)goal.positions[i];
                    if (_goalPositions[i] != p || !string.Equals(_goalNames[i], _inNames[i], StringComparison.Ordinal)) changed = true;
                    _goalPositions[i] = p;
                    _goalNames[i] = _inNames[i];
                }
                _goalCount = count;
                _goalValid = goal != null && goal.valid && count > 0;
                if (changed) _goalVersion++;
            }
        }

        protected virtual void LateUpdate()
        {
            if (client != null && _subscribed != client) Subscribe();
            if (source == Source.Measured) ApplyMeasured();
            else if (source == Source.Goal) ApplyGoal();
        }

        /// <summary>
        /// Poses the model with <paramref name="count"/> joint values (rad, or m when prismatic) in
        /// the order of <see cref="joints"/>, e.g. one row of <c>PlanState.preview</c> (main thread;
        /// meant for <see cref="Source.Manual"/>, which the patches leave alone).
        /// </summary>
        public void ShowPositions(float[] values, int offset, int count)
        {
            if (values == null) return;
            int n = Math.Min(Math.Min(count, joints.Length), values.Length - offset);
            for (int i = 0; i < n; i++)
            {
                if (joints[i] != null) Drive(joints[i], values[offset + i]);
            }
        }

        private void ApplyMeasured()
        {
            _interp.RenderDelayMs = renderDelayMs;
            _interp.MaxExtrapolationMs = maxExtrapolationMs;
            _interp.UseVelocities = useVelocities;
            float gripper;
            int n = _interp.Sample(NowMs(), ref _out, out gripper);
            if (n == 0) return;
            int version = _interp.NamesVersion;
            if (version != _namesVersion)
            {
                _interp.CopyNames(ref _names);
                Resolve(joints, _names, n);
                _namesVersion = version;
            }
            Apply(joints, _out, n);
            ApplyFingers(gripper);
        }

        private void ApplyGoal()
        {
            bool valid;
            int n;
            lock (_goalLock)
            {
                if (_goalVersion == _appliedGoalVersion) return;
                _appliedGoalVersion = _goalVersion;
                n = _goalCount;
                valid = _goalValid;
                if (_out.Length < n) _out = new float[n];
                if (_names.Length < n) _names = new string[n];
                Array.Copy(_goalPositions, _out, n);
                Array.Copy(_goalNames, _names, n);
            }
            if (showWhileGoalValid != null && showWhileGoalValid.activeSelf != valid) showWhileGoalValid.SetActive(valid);
            if (!valid) return;
            Resolve(joints, _names, n);
            _namesVersion = -1;
            Apply(joints, _out, n);
        }

        private static void Resolve(Joint[] list, string[] names, int n)
        {
            for (int b = 0; b < list.Length; b++)
            {
                Joint j = list[b];
                if (j == null) continue;
                j.index = -1;
                for (int i = 0; i < n; i++)
                {
                    if (string.Equals(names[i], j.name, StringComparison.Ordinal))
                    {
                        j.index = i;
                        break;
                    }
                }
            }
        }

        private void Apply(Joint[] list, float[] values, int n)
        {
            for (int b = 0; b < list.Length; b++)
            {
                Joint j = list[b];
                if (j == null || j.index < 0 || j.index >= n) continue;
                Drive(j, values[j.index]);
            }
        }

        private void ApplyFingers(float gripper)
        {
            for (int b = 0; b < fingers.Length; b++)
            {
                if (fingers[b] != null) Drive(fingers[b], 0.5f * gripper);
            }
        }

        /// <summary>Sets one joint to <paramref name="raw"/> (rad, or m when prismatic).</summary>
        private void Drive(Joint j, float raw)
        {
            float value = raw * j.scale + j.offset;
            if (j.articulation != null)
            {
                ArticulationDrive drive = j.articulation.xDrive;
                drive.target = j.prismatic ? value : value * Mathf.Rad2Deg;
                j.articulation.xDrive = drive;
                if (teleportArticulations) j.articulation.jointPosition = new ArticulationReducedSpace(value);
                return;
            }
            Transform t = j.transform;
            if (t == null) return;
            if (!j.restCaptured) CaptureRest(j);
            if (j.prismatic)
            {
                Vector3 dir = j.axisSpace == AxisSpace.Urdf ? FrameConversion.WorldToUnity(j.axis) : j.axis;
                t.localPosition = j.restPosition + j.restRotation * (dir.normalized * value);
            }
            else
            {
                Vector3 axis = j.axisSpace == AxisSpace.Urdf ? FrameConversion.WorldToUnityAxis(j.axis) : j.axis;
                t.localRotation = j.restRotation * Quaternion.AngleAxis(value * Mathf.Rad2Deg, axis);
            }
        }

        private static void CaptureRest(Joint[] list)
        {
            if (list == null) return;
            for (int i = 0; i < list.Length; i++)
            {
                if (list[i] != null && list[i].transform != null && !list[i].restCaptured) CaptureRest(list[i]);
            }
        }

        private static void CaptureRest(Joint j)
        {
            if (j.transform == null) return;
            j.restRotation = j.transform.localRotation;
            j.restPosition = j.transform.localPosition;
            j.restCaptured = true;
        }

        /// <summary>
        /// Fills <see cref="joints"/> from the Transforms below this one named exactly like the
        /// twin's joints (while connected), taking their ArticulationBody when they have one. A
        /// URDF import names its objects after links, not joints: bind those by hand.
        /// </summary>
        [ContextMenu("Bind joints by name (children)")]
        public void BindChildrenByName()
        {
            TwinState state = client != null ? client.TwinState : null;
            if (state == null || state.robot == null || state.robot.joints == null) return;
            var found = new List<Joint>();
            Transform[] all = GetComponentsInChildren<Transform>(true);
            for (int i = 0; i < state.robot.joints.Count; i++)
            {
                JointState js = state.robot.joints[i];
                if (js == null) continue;
                for (int k = 0; k < all.Length; k++)
                {
                    if (all[k].name != js.name) continue;
                    var j = new Joint { name = js.name, transform = all[k], articulation = all[k].GetComponent<ArticulationBody>() };
                    found.Add(j);
                    break;
                }
            }
            joints = found.ToArray();
            CaptureRest(joints);
        }
    }
}
