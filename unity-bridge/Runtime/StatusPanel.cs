using System.Text;
using AgentTwin.Schema;
using UnityEngine;

namespace AgentTwin
{
    /// <summary>
    /// A text panel (legacy <see cref="TextMesh"/>, no TextMeshPro dependency) for the headset:
    /// the link (<see cref="AgentTwinClient.LinkState"/> and why it failed), the arm, the goal,
    /// the newest plan, the agents' panel (<c>agents</c>: allocation and latest decision), and
    /// the latest reply to a command. Put it on a child of the left controller or in the room.
    /// </summary>
    [AddComponentMenu("AgentTwin/Status Panel")]
    public class StatusPanel : MonoBehaviour
    {
        [Tooltip("Defaults to the AgentTwinClient in the scene.")]
        public AgentTwinClient client;
        [Tooltip("Defaults to a TextMesh on this GameObject.")]
        public TextMesh text;
        [Range(1f, 30f)] public float refreshHz = 5f;

        /// <summary>The latest reply (ack, refusal or notice), one line; "" when none.</summary>
        public string LastReply { get; private set; }

        private float _nextRefresh;
        private AgentTwinClient _subscribed;

        protected virtual void OnEnable()
        {
            if (client == null) client = FindObjectOfType<AgentTwinClient>();
            if (text == null) text = GetComponent<TextMesh>();
            LastReply = "";
            if (client == null) return;
            client.AckReceived += OnAck;
            client.ErrorReceived += OnError;
            client.NoticeReceived += OnNotice;
            _subscribed = client;
        }

        protected virtual void OnDisable()
        {
            if (_subscribed == null) return;
            _subscribed.AckReceived -= OnAck;
            _subscribed.ErrorReceived -= OnError;
            _subscribed.NoticeReceived -= OnNotice;
            _subscribed = null;
        }

        private void OnAck(AckMessage m) { LastReply = AckLine(m); }
        private void OnError(ErrorMessage m) { LastReply = RefusalLine(m); }
        private void OnNotice(ErrorMessage m) { LastReply = NoticeLine(m); }

        /// <summary>An <c>ack</c> as one line: <c>ok plan: …</c>.</summary>
        public static string AckLine(AckMessage m)
        {
            return "ok " + m.type + (string.IsNullOrEmpty(m.summary) ? "" : ": " + m.summary);
        }

        /// <summary>An <c>error</c> reply as one line: <c>refused jog (collision): …</c>.</summary>
        public static string RefusalLine(ErrorMessage m)
        {
            return "refused " + m.type + " (" + m.code + "): " + m.message;
        }

        /// <summary>A <c>notice</c> as one line: <c>notice (link_down): …</c>.</summary>
        public static string NoticeLine(ErrorMessage m)
        {
            return "notice (" + m.code + "): " + m.message;
        }

        protected virtual void Update()
        {
            if (text == null || client == null || Time.unscaledTime < _nextRefresh) return;
            _nextRefresh = Time.unscaledTime + 1f / refreshHz;
            text.text = Compose(client, LastReply);
        }

        /// <summary>The panel's text for the client's current state (pure; for tests and other panels).</summary>
        public static string Compose(AgentTwinClient client, string lastReply)
        {
            var sb = new StringBuilder();
            sb.Append("link: ").Append(client.LinkState);
            if (!string.IsNullOrEmpty(client.FailureReason)) sb.Append(" - ").Append(client.FailureReason);
            TwinState twin = client.TwinState;
            if (twin != null)
            {
                AppendTwin(sb, twin);
                AppendAgents(sb, twin.agents);
            }
            MetaverseState meta = client.MetaverseState;
            if (meta != null)
            {
                if (meta.scene != null) sb.Append("\nscene: ").Append(meta.scene.status).Append(' ').Append(meta.scene.renditions);
                AppendAgents(sb, meta.agents);
            }
            if (!string.IsNullOrEmpty(lastReply)) sb.Append('\n').Append(lastReply);
            return sb.ToString();
        }

        private static void AppendTwin(StringBuilder sb, TwinState twin)
        {
            RobotState r = twin.robot;
            if (r != null) sb.Append("\narm: ").Append(r.mode).Append(", cell ").Append(r.link);
            GoalState g = twin.goal;
            if (g != null && !string.IsNullOrEmpty(g.kind))
            {
                sb.Append("\ngoal: ").Append(g.valid ? "reachable" : "unreachable " + g.reason);
            }
            PlanState newest = TwinQueries.NewestPlan(twin, null);
            if (newest != null)
            {
                sb.Append("\nplan ").Append(newest.id).Append(": ").Append(newest.status);
                if (!string.IsNullOrEmpty(newest.reason)) sb.Append(" (").Append(newest.reason).Append(')');
                if (r != null && r.activePlanId == newest.id) sb.Append(' ').Append(Mathf.RoundToInt((float)r.progress * 100f)).Append('%');
            }
        }

        private static void AppendAgents(StringBuilder sb, AgentPanelState agents)
        {
            if (agents == null || string.IsNullOrEmpty(agents.agents)) return;
            AllocationState a = agents.allocation;
            if (a != null && !string.IsNullOrEmpty(a.rung))
            {
                sb.Append("\nvideo: ").Append(a.rung).Append(", ")
                  .Append(Mathf.RoundToInt((float)(a.reservedBps / 1e6))).Append(" Mbit/s on ").Append(a.bands);
            }
            int n = agents.decisions != null ? agents.decisions.Count : 0;
            if (n > 0)
            {
                DecisionState d = agents.decisions[n - 1];
                if (d != null) sb.Append("\nagents: ").Append(d.summary);
            }
        }
    }
}
