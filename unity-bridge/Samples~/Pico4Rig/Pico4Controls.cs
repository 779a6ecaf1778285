using System.Collections.Generic;
using AgentTwin;
using UnityEngine;
using UnityEngine.InputSystem;
using UnityEngine.InputSystem.XR;

/// <summary>
/// PICO 4 Rig sample: wires the actions of <c>Pico4Controls.inputactions</c> (map
/// <c>AgentTwin</c>) into <see cref="ControllerInput"/>, and buzzes the controller when the
/// server refuses a command.
///
/// <list type="table">
/// <item><term>right grip (held)</term><description>dead-man: the sticks jog only while it is held</description></item>
/// <item><term>right stick / left stick</term><description>jog (Cartesian: move / up-down and yaw)</description></item>
/// <item><term>right trigger</term><description>place the goal at the goal point</description></item>
/// <item><term>A</term><description>plan to the goal</description></item>
/// <item><term>B held 1 s</term><description>approve the newest validated plan (Hold interaction)</description></item>
/// <item><term>left menu</term><description>STOP (also for observers)</description></item>
/// <item><term>left grip</term><description>grab / release with the left hand</description></item>
/// <item><term>X / Y</term><description>jog mode / next joint</description></item>
/// </list>
///
/// Haptics: every <c>error</c> reply (the server's refusal, which names the command's type)
/// gives a strong pulse on the hand whose control sends that command (<see cref="HandOf"/>:
/// the left one for grab, release and STOP, else the right); every <c>ack</c> except of
/// <c>pose</c> and <c>jog</c> gives a light tick on that hand. Uses the Input System's
/// <see cref="XRControllerWithRumble.SendImpulse"/>, which OpenXR controller layouts implement.
/// </summary>
[AddComponentMenu("AgentTwin/Samples/PICO 4 Controls")]
[DefaultExecutionOrder(-100)] // before ControllerInput enables its actions
public class Pico4Controls : MonoBehaviour
{
    public InputActionAsset actions;
    public ControllerInput input;
    public AgentTwinClient client;

    [Header("Haptics")]
    [Range(0f, 1f)] public float refusalAmplitude = 0.9f;
    [Range(0f, 1f)] public float refusalDurationS = 0.25f;
    [Range(0f, 1f)] public float ackAmplitude = 0.2f;
    [Range(0f, 1f)] public float ackDurationS = 0.04f;

    /// <summary>Map and action names in the asset.</summary>
    public const string Map = "AgentTwin";

    private AgentTwinClient _subscribed;

    private void Awake()
    {
        if (input == null) input = FindObjectOfType<ControllerInput>();
        if (client == null) client = FindObjectOfType<AgentTwinClient>();
        if (actions == null || input == null) return;
        input.jogDeadman = Find("Jog Deadman");
        input.leftStick = Find("Left Stick");
        input.rightStick = Find("Right Stick");
        input.goalTrigger = Find("Place Goal");
        input.planButton = Find("Plan");
        input.approveButton = Find("Approve");
        input.stopButton = Find("Stop");
        input.leftGrip = Find("Grab Left");
        input.rightGrip = new InputActionProperty();
        input.jogModeToggle = Find("Jog Mode");
        input.nextJoint = Find("Next Joint");
    }

    private InputActionProperty Find(string action)
    {
        return new InputActionProperty(actions.FindAction(Map + "/" + action, true));
    }

    private void OnEnable()
    {
        if (actions != null) actions.Enable();
        if (client == null) return;
        client.ErrorReceived += OnError;
        client.AckReceived += OnAck;
        _subscribed = client;
    }

    private void OnDisable()
    {
        if (_subscribed == null) return;
        _subscribed.ErrorReceived -= OnError;
        _subscribed.AckReceived -= OnAck;
        _subscribed = null;
    }

    private void OnError(ErrorMessage m)
    {
        Pulse(HandOf(m.type), refusalAmplitude, refusalDurationS);
    }

    private void OnAck(AckMessage m)
    {
        if (m.type == "pose" || m.type == "jog") return;
        Pulse(HandOf(m.type), ackAmplitude, ackDurationS);
    }

    /// <summary>Which controller sent a command of this type with these controls.</summary>
    public static string HandOf(string commandType)
    {
        return commandType == "grab" || commandType == "release" || commandType == "stop" ? "left" : "right";
    }

    /// <summary>Sends a haptic pulse to a controller, if it has a rumble motor.</summary>
    public static bool Pulse(string hand, float amplitude, float durationS)
    {
        var device = (hand == "left" ? XRController.leftHand : XRController.rightHand) as XRControllerWithRumble;
        if (device == null) return false;
        device.SendImpulse(amplitude, durationS);
        return true;
    }

    /// <summary>The action names this component looks up (checked in CI against the asset).</summary>
    public static readonly IList<string> ActionNames = new[]
    {
        "Jog Deadman", "Left Stick", "Right Stick", "Place Goal", "Plan", "Approve", "Stop",
        "Grab Left", "Jog Mode", "Next Joint",
    };
}
