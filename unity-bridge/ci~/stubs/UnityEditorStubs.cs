// COMPILE-ONLY STUBS of the UnityEditor API that the package's Editor assembly
// (Editor/AgentTwin.Editor.asmdef) uses, for the CI compile check with mcs. Signatures follow
// Unity 2022.3; bodies do nothing. Compiled only with Editor/ (the runtime and sample compile
// without this file, so they cannot use UnityEditor by accident). Never shipped (Unity's
// importer skips folders whose name ends in '~'). Add a member only when Editor/ uses it.
using System;

namespace UnityEditor
{
    [AttributeUsage(AttributeTargets.Method, AllowMultiple = true)]
    public sealed class MenuItem : Attribute
    {
        public MenuItem(string itemName) { }
        public MenuItem(string itemName, bool isValidateFunction) { }
        public MenuItem(string itemName, bool isValidateFunction, int priority) { }
    }

    public static class Undo
    {
        public static void IncrementCurrentGroup() { }
        public static int GetCurrentGroup() { return 0; }
        public static void CollapseUndoOperations(int groupIndex) { }
        public static void RegisterCreatedObjectUndo(UnityEngine.Object objectToUndo, string name) { }
    }

    public static class Selection
    {
        public static UnityEngine.GameObject activeGameObject { get; set; }
    }

    public static class EditorApplication
    {
        public static bool isPlaying { get { return false; } }
    }

    public static class EditorUtility
    {
        public static bool DisplayDialog(string title, string message, string ok) { return true; }
    }
}

namespace UnityEditor.SceneManagement
{
    public sealed class EditorSceneManager : UnityEngine.SceneManagement.SceneManager
    {
        public static bool MarkSceneDirty(UnityEngine.SceneManagement.Scene scene) { return true; }
    }
}
