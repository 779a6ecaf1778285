// COMPILE-ONLY STUBS of the Unity Input System (com.unity.inputsystem 1.7) API that the
// package (Runtime/, Editor/) and its samples use, for the CI compile check with mcs. Not the real package; never
// shipped (Unity's importer skips folders whose name ends in '~').
namespace UnityEngine.InputSystem
{
    public enum InputActionType { Value = 0, Button = 1, PassThrough = 2 }

    public sealed class InputAction
    {
        public InputAction(string name = null, InputActionType type = default(InputActionType), string binding = null,
            string interactions = null, string processors = null, string expectedControlType = null) { }
        public bool enabled;
        public BindingSyntax AddBinding(string path, string interactions = null, string processors = null, string groups = null) { return new BindingSyntax(); }
        public bool IsPressed() { return false; }
        public bool WasPerformedThisFrame() { return false; }
        public void Enable() { enabled = true; }
        public void Disable() { enabled = false; }
        public TValue ReadValue<TValue>() where TValue : struct { return default(TValue); }
        public bool WasPressedThisFrame() { return false; }
        public bool WasReleasedThisFrame() { return false; }
    }

    public struct BindingSyntax { }

    [System.Serializable]
    public struct InputActionProperty
    {
        public InputActionProperty(InputAction action) { }
        public InputAction action { get { return null; } }
    }

    public class InputActionAsset : UnityEngine.Object
    {
        public InputAction FindAction(string actionNameOrId, bool throwIfNotFound = false) { return null; }
        public void Enable() { }
    }

    public class InputDevice { }
}

namespace UnityEngine.InputSystem.XR
{
    public class XRController : InputDevice
    {
        public static XRController leftHand { get { return null; } }
        public static XRController rightHand { get { return null; } }
    }

    public class XRControllerWithRumble : XRController
    {
        public void SendImpulse(float amplitude, float duration) { }
    }

    public class TrackedPoseDriver : UnityEngine.MonoBehaviour
    {
        public enum TrackingType { RotationAndPosition = 0, RotationOnly = 1, PositionOnly = 2 }
        public enum UpdateType { UpdateAndBeforeRender = 0, Update = 1, BeforeRender = 2 }
        public TrackingType trackingType { get; set; }
        public UpdateType updateType { get; set; }
        public InputActionProperty positionInput { get; set; }
        public InputActionProperty rotationInput { get; set; }
    }
}
