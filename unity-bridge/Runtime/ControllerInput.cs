using System;
using System.Collections.Generic;
using AgentTwin.Schema;
using UnityEngine;
using UnityEngine.InputSystem;

namespace AgentTwin
{
    /// <summary>
    /// Turns the headset and its controllers into twin commands:
    /// <list type="bullet">
    /// <item><c>pose</c>: head and both hands in <c>world</c> at headset rate (capped by
    /// <see cref="poseRateHz"/>; both rooms);</item>
    /// <item><c>jog</c>: thumbsticks jog the tool (Cartesian, relative to where the user looks)
    /// or one joint, resent at <see cref="jogResendHz"/> while held, because the server stops
    /// a jog that is not renewed within its dead-man time; releasing the stick sends a zero jog
    /// so the arm halts at once;</item>
    /// <item><c>goal</c>: the trigger places the goal marker at <see cref="goalPoint"/>;</item>
    /// <item><c>grab</c> / <c>release</c>: the grip picks up the nearest virtual object within
    /// <see cref="grabRadiusM"/> of that hand and lets it go;</item>
    /// <item><c>stop</c>, <c>plan</c>, <c>approve</c> (the newest validated plan, on a held
    /// button), and <see cref="SendUtterance"/> for speech-to-text;</item>
    /// <item>an optional dead-man (<see cref="jogDeadman"/>): with one assigned, the sticks jog
    /// only while it is held.</item>
    /// </list>
    /// Poses come from Transforms (the XR rig's camera and controller objects, driven by the
    /// XR Interaction Toolkit or any tracked-pose driver), expressed relative to the client's
    /// world anchor and converted with <see cref="FrameConversion"/>. Buttons and sticks are
    /// Input System actions; XRI's "Default Input Actions" sample provides fitting ones
    /// (e.g. XRI RightHand Locomotion/Move for a stick, XRI RightHand Interaction/Activate for
    /// the trigger, .../Select for the grip). Motion commands are sent only in the
    /// <c>digital_twin</c> room and not by observers.
    /// </summary>
    [AddComponentMenu("AgentTwin/Controller Input")]
    public class ControllerInput : MonoBehaviour
    {
        public enum JogMode
        {
            /// <summary>Right stick: forward/back and left/right; left stick: up/down and yaw.</summary>
            Cartesian,
            /// <summary>Right stick x: velocity of <see cref="selectedJoint"/>.</summary>
            Joint,
        }

        [Tooltip("Defaults to the AgentTwinClient in the scene.")]
        public AgentTwinClient client;

        [Header("Tracked poses")]
        [Tooltip("The headset camera (defaults to Camera.main).")]
        public Transform head;
        public Transform leftHand;
        public Transform rightHand;
        [Tooltip("Where the trigger places the goal; a child of the right controller offset to the tool tip. Defaults to the right hand.")]
        public Transform goalPoint;
        [Tooltip("Most pose messages per second (0 = every frame). Keep pose + jog under the server's RATE_LIMIT_PER_S (120).")]
        [Range(0f, 120f)] public float poseRateHz = 72f;

        [Header("Input actions")]
        public InputActionProperty leftStick;
        public InputActionProperty rightStick;
        [Tooltip("Places the goal marker (e.g. right trigger).")]
        public InputActionProperty goalTrigger;
        public InputActionProperty leftGrip;
        public InputActionProperty rightGrip;
        [Tooltip("Switches between Cartesian and joint jog.")]
        public InputActionProperty jogModeToggle;
        public InputActionProperty nextJoint;
        public InputActionProperty previousJoint;
        [Tooltip("Plans to the goal marker (optional).")]
        public InputActionProperty planButton;
        [Tooltip("Stops all motion (optional, recommended).")]
        public InputActionProperty stopButton;
        [Tooltip("Dead-man for jog (e.g. right grip, optional): when set, the sticks jog only while it is held, and letting go sends a zero jog at once.")]
        public InputActionProperty jogDeadman;
        [Tooltip("Approves the newest validated plan when performed (optional); give it a Hold interaction so a brush does not approve.")]
        public InputActionProperty approveButton;

        [Header("Jog")]
        public JogMode jogMode = JogMode.Cartesian;
        [Tooltip("Joint jogged in Joint mode, group order (0 = first joint).")]
        public int selectedJoint = 0;
        [Range(0f, 0.9f)] public float stickDeadzone = 0.15f;
        [Tooltip("Tool speed at full deflection, m/s (the server caps it).")]
        public float linearSpeed = 0.1f;
        [Tooltip("Tool yaw rate at full deflection, rad/s.")]
        public float angularSpeed = 0.5f;
        [Tooltip("Joint speed at full deflection, rad/s.")]
        public float jointSpeed = 0.5f;
        [Tooltip("How often a held jog is renewed, Hz.")]
        [Range(2f, 30f)] public float jogResendHz = 10f;
        [Tooltip("How long the server keeps moving without a renewal, ms (> 2 resend periods).")]
        [Range(50, 2000)] public int jogDeadmanMs = 300;
        [Tooltip("Stick forward = away from the user (the head's heading), else world +x.")]
        public bool jogRelativeToHead = true;
        [Tooltip("Yaw of the arm's base_link in world, degrees (0 when base_link is parallel to world).")]
        public float baseYawDeg = 0f;

        [Header("Grab")]
        [Tooltip("How close to an object's surface a hand must be to grab it, m.")]
        public float grabRadiusM = 0.08f;

        /// <summary>The object each hand asked to hold ("" when none).</summary>
        public string LeftHeld { get; private set; }
        public string RightHeld { get; private set; }

        private float _poseBudget = 1f;
        private bool _jogging;
        private float _nextJogAt;
        private readonly List<InputAction> _enabledByUs = new List<InputAction>();

        // ---------------------------------------------------------------------------------
        // Unity lifecycle

        protected virtual void OnEnable()
        {
            if (client == null) client = FindObjectOfType<AgentTwinClient>();
            if (head == null && Camera.main != null) head = Camera.main.transform;
            InputActionProperty[] all =
            {
                leftStick, rightStick, goalTrigger, leftGrip, rightGrip,
                jogModeToggle, nextJoint, previousJoint, planButton, stopButton,
                jogDeadman, approveButton,
            };
            for (int i = 0; i < all.Length; i++)
            {
                InputAction a = all[i].action;
                if (a != null && !a.enabled)
                {
                    a.Enable();
                    _enabledByUs.Add(a);
                }
            }
            LeftHeld = "";
            RightHeld = "";
        }

        protected virtual void OnDisable()
        {
            if (_jogging) SendJogZero();
            for (int i = 0; i < _enabledByUs.Count; i++) _enabledByUs[i].Disable();
            _enabledByUs.Clear();
        }

        protected virtual void Update()
        {
            if (client == null || !client.IsOpen) return;

            if (Pressed(stopButton)) Stop();
            if (!CanCommandMotion()) return;

            if (Pressed(jogModeToggle)) SetJogMode(jogMode == JogMode.Cartesian ? JogMode.Joint : JogMode.Cartesian);
            if (Pressed(nextJoint)) SelectJoint(selectedJoint + 1);
            if (Pressed(previousJoint)) SelectJoint(selectedJoint - 1);
            if (Pressed(goalTrigger)) SetGoalAtHand();
            if (Pressed(planButton)) RequestPlan();
            if (Performed(approveButton)) ApproveLatestValidated();
            HandleGrip(leftGrip, "left", leftHand);
            HandleGrip(rightGrip, "right", rightHand);
            UpdateJog();
        }

        protected virtual void LateUpdate()
        {
            if (client == null || !client.IsOpen || head == null) return;
            if (poseRateHz > 0f)
            {
                _poseBudget = Mathf.Min(1f, _poseBudget + Time.unscaledDeltaTime * poseRateHz);
                if (_poseBudget < 1f) return;
                _poseBudget -= 1f;
            }
            SendPose();
        }

        // ---------------------------------------------------------------------------------
        // Public commands (wire UI buttons or voice commands to these)

        /// <summary>Sends the current head and hand poses now.</summary>
        public void SendPose()
        {
            if (client == null || head == null) return;
            Transform anchor = client.worldAnchor;
            WorldPose headPose = WorldFrame.ToWorld(head, anchor);
            WorldPose? left = Tracked(leftHand) ? WorldFrame.ToWorld(leftHand, anchor) : (WorldPose?)null;
            WorldPose? right = Tracked(rightHand) ? WorldFrame.ToWorld(rightHand, anchor) : (WorldPose?)null;
            client.Send("pose", TwinMessages.PoseMessage(headPose, left, right), false);
        }

        /// <summary>Sends text for the agents (e.g. from a speech-to-text plugin).</summary>
        public string SendUtterance(string text)
        {
            return client != null ? client.SendUtterance(text) : null;
        }

        /// <summary>Places the goal marker at <see cref="goalPoint"/> (or the right hand).</summary>
        public string SetGoalAtHand()
        {
            Transform at = goalPoint != null ? goalPoint : rightHand;
            if (client == null || at == null) return null;
            return client.Send("goal", TwinMessages.GoalPose(WorldFrame.ToWorld(at, client.worldAnchor)));
        }

        public string ClearGoal()
        {
            return client != null ? client.Send("goal", TwinMessages.ClearGoal()) : null;
        }

        /// <summary>Asks for a plan to the goal marker; the ack's <c>id</c> is the plan id.</summary>
        public string RequestPlan()
        {
            return client != null ? client.Send("plan", TwinMessages.Plan()) : null;
        }

        public string ApprovePlan(string planId)
        {
            if (client == null || string.IsNullOrEmpty(planId)) return null;
            return client.Send("approve", TwinMessages.Approve(planId));
        }

        /// <summary>Approves the newest plan whose status is <c>validated</c>, if any.</summary>
        public string ApproveLatestValidated()
        {
            PlanState best = TwinQueries.NewestPlan(client != null ? client.TwinState : null, Validated);
            return best != null ? ApprovePlan(best.id) : null;
        }

        private static readonly string[] Validated = { "validated" };

        /// <summary>Halts all motion (also aborts an executing plan). Allowed for everyone.</summary>
        public string Stop()
        {
            _jogging = false;
            return client != null ? client.Send("stop", TwinMessages.Stop()) : null;
        }

        public void SetJogMode(JogMode mode)
        {
            if (_jogging) SendJogZero();
            jogMode = mode;
        }

        /// <summary>Selects the joint for Joint jog, wrapping around the arm's joint count.</summary>
        public void SelectJoint(int index)
        {
            if (_jogging) SendJogZero();
            int n = JointCount();
            selectedJoint = ((index % n) + n) % n;
        }

        // ---------------------------------------------------------------------------------
        // Jog

        private void UpdateJog()
        {
            Vector2 rs = Deadzone(ReadStick(rightStick));
            Vector2 ls = Deadzone(ReadStick(leftStick));
            if (!DeadmanHeld())
            {
                // Not held: the sticks mean nothing, and a running jog stops now.
                rs = new Vector2(0f, 0f);
                ls = new Vector2(0f, 0f);
            }
            float jointVelocity = 0f;
            Vector3 linear = new Vector3(0f, 0f, 0f), angular = new Vector3(0f, 0f, 0f);
            bool active;
            if (jogMode == JogMode.Joint)
            {
                jointVelocity = rs.x * jointSpeed;
                active = jointVelocity != 0f;
            }
            else
            {
                CartesianTwist(rs, ls, out linear, out angular);
                active = linear.x != 0f || linear.y != 0f || linear.z != 0f || angular.z != 0f;
            }
            if (!active)
            {
                if (_jogging) SendJogZero();
                return;
            }
            float now = Time.unscaledTime;
            if (_jogging && now < _nextJogAt) return;

            // The body is built only when sent (at most jogResendHz), not every frame.
            Dictionary<string, object> body = jogMode == JogMode.Joint
                ? TwinMessages.JogJoint(selectedJoint, jointVelocity, jogDeadmanMs)
                : TwinMessages.JogCartesian(linear, angular, jogDeadmanMs);
            client.Send("jog", body, false);
            _jogging = true;
            _nextJogAt = now + 1f / Mathf.Max(1f, jogResendHz);
        }

        private void SendJogZero()
        {
            _jogging = false;
            if (client == null) return;
            Dictionary<string, object> body = jogMode == JogMode.Joint
                ? TwinMessages.JogJoint(selectedJoint, 0f, jogDeadmanMs)
                : TwinMessages.JogCartesian(new Vector3(0f, 0f, 0f), new Vector3(0f, 0f, 0f), jogDeadmanMs);
            client.Send("jog", body, false);
        }

        /// <summary>
        /// Stick deflections → tool twist in <c>base_link</c>: right stick moves in the horizontal
        /// plane (forward = the head's heading when <see cref="jogRelativeToHead"/>), left stick y
        /// moves up/down and left stick x turns the tool about the vertical (right = clockwise).
        /// </summary>
        private void CartesianTwist(Vector2 rs, Vector2 ls, out Vector3 linear, out Vector3 angular)
        {
            float fx = 1f, fy = 0f;
            if (jogRelativeToHead && head != null)
            {
                WorldPose hp = WorldFrame.ToWorld(head, client.worldAnchor);
                Vector3 f = FrameConversion.Rotate(hp.orientation, new Vector3(1f, 0f, 0f));
                float len = Mathf.Sqrt(f.x * f.x + f.y * f.y);
                if (len > 1e-3f)
                {
                    fx = f.x / len;
                    fy = f.y / len;
                }
            }
            // Right of heading f in a right-handed z-up frame: f × z = (f.y, -f.x).
            float rx = fy, ry = -fx;
            float wx = (fx * rs.y + rx * rs.x) * linearSpeed;
            float wy = (fy * rs.y + ry * rs.x) * linearSpeed;
            float wz = ls.y * linearSpeed;
            // world → base_link: undo the base's yaw.
            float yaw = -baseYawDeg * Mathf.Deg2Rad;
            float c = Mathf.Cos(yaw), s = Mathf.Sin(yaw);
            linear = new Vector3(c * wx - s * wy, s * wx + c * wy, wz);
            angular = new Vector3(0f, 0f, -ls.x * angularSpeed);
        }

        private Vector2 Deadzone(Vector2 v)
        {
            float m = Mathf.Sqrt(v.x * v.x + v.y * v.y);
            if (m <= stickDeadzone || m < 1e-6f) return new Vector2(0f, 0f);
            float scaled = Mathf.Min(1f, (m - stickDeadzone) / Mathf.Max(1e-3f, 1f - stickDeadzone));
            return new Vector2(v.x / m * scaled, v.y / m * scaled);
        }

        // ---------------------------------------------------------------------------------
        // Grab

        private void HandleGrip(InputActionProperty grip, string hand, Transform handTransform)
        {
            if (Pressed(grip) && handTransform != null)
            {
                string id = NearestGrabbable(WorldFrame.ToWorld(handTransform, client.worldAnchor).position);
                if (id != null && client.Send("grab", TwinMessages.Grab(id, hand)) != null) SetHeld(hand, id);
            }
            else if (Released(grip) && !string.IsNullOrEmpty(Held(hand)))
            {
                client.Send("release", TwinMessages.Release(hand));
                SetHeld(hand, "");
            }
        }

        /// <summary>
        /// Id of the virtual object nearest <paramref name="handWorld"/> (distance to its
        /// bounding sphere) within <see cref="grabRadiusM"/>, not held by someone else; or null.
        /// </summary>
        public string NearestGrabbable(Vector3 handWorld)
        {
            TwinState state = client != null ? client.TwinState : null;
            if (state == null || state.objects == null) return null;
            string best = null;
            float bestGap = grabRadiusM;
            string me = client.SessionId ?? "";
            foreach (object value in state.objects.Values)
            {
                var o = value as ObjectState;
                if (o == null || !o.@virtual || o.pose == null || o.pose.position == null) continue;
                if (!string.IsNullOrEmpty(o.heldBy) && !o.heldBy.StartsWith(me + ":", StringComparison.Ordinal)) continue;
                float dx = (float)o.pose.position.x - handWorld.x;
                float dy = (float)o.pose.position.y - handWorld.y;
                float dz = (float)o.pose.position.z - handWorld.z;
                float gap = Mathf.Sqrt(dx * dx + dy * dy + dz * dz) - BoundingRadius(o);
                if (gap <= bestGap)
                {
                    bestGap = gap;
                    best = o.id;
                }
            }
            return best;
        }

        private static float BoundingRadius(ObjectState o)
        {
            if (o.size == null) return 0f;
            float x = (float)o.size.x, y = (float)o.size.y, z = (float)o.size.z;
            switch (o.shape)
            {
                case "sphere": return x;
                case "cylinder": return Mathf.Sqrt(x * x + 0.25f * z * z);
                default: return 0.5f * Mathf.Sqrt(x * x + y * y + z * z);
            }
        }

        private string Held(string hand)
        {
            return hand == "left" ? LeftHeld : RightHeld;
        }

        private void SetHeld(string hand, string id)
        {
            if (hand == "left") LeftHeld = id;
            else RightHeld = id;
        }

        // ---------------------------------------------------------------------------------
        // Helpers

        private bool CanCommandMotion()
        {
            if (client.room != RoomKind.DigitalTwin) return false;
            TwinState state = client.TwinState;
            if (state == null || state.operators == null || string.IsNullOrEmpty(client.SessionId)) return false;
            OperatorState me;
            // Observers may only stop and talk; the server would refuse the rest.
            return state.operators.TryGetValue(client.SessionId, out me) && me != null && me.role != "observer";
        }

        private int JointCount()
        {
            TwinState state = client != null ? client.TwinState : null;
            int n = state != null && state.robot != null && state.robot.joints != null ? state.robot.joints.Count : 0;
            return n > 0 ? n : 7;
        }

        private static bool Tracked(Transform t)
        {
            return t != null && t.gameObject.activeInHierarchy;
        }

        private static Vector2 ReadStick(InputActionProperty p)
        {
            InputAction a = p.action;
            return a != null && a.enabled ? a.ReadValue<Vector2>() : new Vector2(0f, 0f);
        }

        private static bool Pressed(InputActionProperty p)
        {
            InputAction a = p.action;
            return a != null && a.enabled && a.WasPressedThisFrame();
        }

        /// <summary>True when no dead-man is assigned, or it is held now.</summary>
        public bool DeadmanHeld()
        {
            InputAction a = jogDeadman.action;
            return a == null || (a.enabled && a.IsPressed());
        }

        private static bool Performed(InputActionProperty p)
        {
            InputAction a = p.action;
            return a != null && a.enabled && a.WasPerformedThisFrame();
        }

        private static bool Released(InputActionProperty p)
        {
            InputAction a = p.action;
            return a != null && a.enabled && a.WasReleasedThisFrame();
        }
    }
}
