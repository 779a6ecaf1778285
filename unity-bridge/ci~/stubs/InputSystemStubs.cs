// COMPILE-ONLY STUBS of the Unity Input System (com.unity.inputsystem 1.7) API that
// AgentTwin.Runtime uses, for the CI compile check with mcs. Not the real package; never
// shipped (Unity's importer skips folders whose name ends in '~').
namespace UnityEngine.InputSystem
{
    public sealed class InputAction
    {
        public bool enabled;
        public void Enable() { enabled = true; }
        public void Disable() { enabled = false; }
        public TValue ReadValue<TValue>() where TValue : struct { return default(TValue); }
        public bool WasPressedThisFrame() { return false; }
        public bool WasReleasedThisFrame() { return false; }
    }

    [System.Serializable]
    public struct InputActionProperty
    {
        public InputAction action { get { return null; } }
    }
}
