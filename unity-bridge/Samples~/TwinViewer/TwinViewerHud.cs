using AgentTwin;
using UnityEngine;

/// <summary>
/// Twin Viewer sample: a wrist (or world-space) text panel showing what the runtime's
/// <see cref="StatusPanel"/> composes (link, arm, goal, plan, agents), the jog mode and the
/// latest reply, plus methods to wire to UI buttons or voice commands (plan, approve, stop,
/// say). See README.md in this folder for assembling the scene.
/// </summary>
[AddComponentMenu("AgentTwin/Samples/Twin Viewer HUD")]
public class TwinViewerHud : MonoBehaviour
{
    public AgentTwinClient client;
    public ControllerInput input;
    [Tooltip("Legacy TextMesh for the panel (no TextMeshPro dependency).")]
    public TextMesh panel;
    [Range(1f, 30f)] public float refreshHz = 10f;

    private string _lastReply = "";
    private string _lastPlanId = "";
    private float _nextRefresh;

    private void OnEnable()
    {
        if (client == null) client = FindObjectOfType<AgentTwinClient>();
        if (input == null) input = FindObjectOfType<ControllerInput>();
        if (client == null) return;
        client.AckReceived += OnAck;
        client.ErrorReceived += OnError;
        client.NoticeReceived += OnNotice;
    }

    private void OnDisable()
    {
        if (client == null) return;
        client.AckReceived -= OnAck;
        client.ErrorReceived -= OnError;
        client.NoticeReceived -= OnNotice;
    }

    private void OnAck(AckMessage m)
    {
        if (m.type == "plan" && !string.IsNullOrEmpty(m.id)) _lastPlanId = m.id;
        _lastReply = StatusPanel.AckLine(m);
    }

    private void OnError(ErrorMessage m) { _lastReply = StatusPanel.RefusalLine(m); }
    private void OnNotice(ErrorMessage m) { _lastReply = StatusPanel.NoticeLine(m); }

    private void Update()
    {
        if (panel == null || client == null || Time.unscaledTime < _nextRefresh) return;
        _nextRefresh = Time.unscaledTime + 1f / refreshHz;
        string text = StatusPanel.Compose(client, null);
        if (input != null) text += "\njog: " + input.jogMode + (input.jogMode == ControllerInput.JogMode.Joint ? " #" + (input.selectedJoint + 1) : "");
        if (_lastReply.Length > 0) text += "\n" + _lastReply;
        panel.text = text;
    }

    // Wire these to UI buttons or voice commands.
    public void Plan() { if (input != null) input.RequestPlan(); }
    public void ApproveLastPlan() { if (input != null && _lastPlanId.Length > 0) input.ApprovePlan(_lastPlanId); }
    public void Stop() { if (input != null) input.Stop(); }
    public void Say(string text) { if (client != null) client.SendUtterance(text); }
}
