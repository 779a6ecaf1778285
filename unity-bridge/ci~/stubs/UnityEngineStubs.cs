// COMPILE-ONLY STUBS of the UnityEngine API that AgentTwin.Runtime uses, so CI can type-check
// the package with Debian's mono compiler (mcs) without Unity. Signatures follow Unity 2022.3;
// bodies are placeholders (simple struct maths where trivial, defaults elsewhere) and do NOT
// behave like Unity. Never shipped: Unity's importer skips folders whose name ends in '~'.
// Add a member here only when the runtime starts using it.
using System;
using System.Collections.Generic;

namespace UnityEngine
{
    public class Object
    {
        public string name = "";
        public static T FindObjectOfType<T>() where T : Object { return null; }
        public static void Destroy(Object obj) { }
        public static void DestroyImmediate(Object obj) { }
    }

    public class Component : Object
    {
        public GameObject gameObject;
        public Transform transform;
        public T GetComponent<T>() { return default(T); }
        public T[] GetComponentsInChildren<T>(bool includeInactive) { return new T[0]; }
    }

    public class Behaviour : Component
    {
        public bool enabled = true;
    }

    public class MonoBehaviour : Behaviour { }

    public enum PrimitiveType { Sphere = 0, Capsule = 1, Cylinder = 2, Cube = 3, Plane = 4, Quad = 5 }

    public sealed class GameObject : Object
    {
        public GameObject() { }
        public GameObject(string name) { this.name = name; transform = new Transform(); }
        public static GameObject CreatePrimitive(PrimitiveType type) { return new GameObject(type.ToString()); }
        public Transform transform;
        public string tag = "Untagged";
        public bool activeSelf;
        public bool activeInHierarchy;
        public void SetActive(bool value) { activeSelf = value; }
        public T AddComponent<T>() where T : Component { return null; }
        public T GetComponent<T>() { return default(T); }
    }

    public class Transform : Component
    {
        public Vector3 position;
        public Quaternion rotation = Quaternion.identity;
        public Vector3 localPosition;
        public Quaternion localRotation = Quaternion.identity;
        public Vector3 localScale = new Vector3(1f, 1f, 1f);
        public Transform parent { get { return null; } }
        public void SetParent(Transform p, bool worldPositionStays) { }
        public Vector3 InverseTransformPoint(Vector3 p) { return p; }
        public Vector3 TransformPoint(Vector3 p) { return p; }
    }

    public sealed class Camera : Behaviour
    {
        public static Camera main;
        public float nearClipPlane;
    }

    public sealed class AudioListener : Behaviour { }

    public class Collider : Component
    {
        public bool enabled = true;
    }

    public class Renderer : Component
    {
        public bool enabled = true;
        public Material sharedMaterial;
        public Material material;
    }

    public sealed class LineRenderer : Renderer
    {
        public bool useWorldSpace;
        public int positionCount;
        public void SetPosition(int index, Vector3 position) { }
    }

    public class Material : Object
    {
        public Material(Material source) { }
        public Color color;
    }

    public struct Color
    {
        public float r, g, b, a;
        public Color(float r, float g, float b, float a) { this.r = r; this.g = g; this.b = b; this.a = a; }
    }

    public static class ColorUtility
    {
        public static bool TryParseHtmlString(string htmlString, out Color color) { color = new Color(1f, 1f, 1f, 1f); return false; }
    }

    public enum TextAnchor { UpperLeft = 0, UpperCenter, UpperRight, MiddleLeft, MiddleCenter, MiddleRight, LowerLeft, LowerCenter, LowerRight }

    public struct Vector2
    {
        public float x, y;
        public Vector2(float x, float y) { this.x = x; this.y = y; }
    }

    public struct Vector3
    {
        public float x, y, z;
        public Vector3(float x, float y, float z) { this.x = x; this.y = y; this.z = z; }
        public float magnitude { get { return (float)Math.Sqrt(x * x + y * y + z * z); } }
        public Vector3 normalized { get { float m = magnitude; return m > 1e-5f ? this / m : new Vector3(0f, 0f, 0f); } }
        public static Vector3 operator +(Vector3 a, Vector3 b) { return new Vector3(a.x + b.x, a.y + b.y, a.z + b.z); }
        public static Vector3 operator -(Vector3 a, Vector3 b) { return new Vector3(a.x - b.x, a.y - b.y, a.z - b.z); }
        public static Vector3 operator -(Vector3 a) { return new Vector3(-a.x, -a.y, -a.z); }
        public static Vector3 operator *(Vector3 a, float d) { return new Vector3(a.x * d, a.y * d, a.z * d); }
        public static Vector3 operator /(Vector3 a, float d) { return new Vector3(a.x / d, a.y / d, a.z / d); }
        public static Vector3 up { get { return new Vector3(0f, 1f, 0f); } }
    }

    public struct Quaternion
    {
        public float x, y, z, w;
        public Quaternion(float x, float y, float z, float w) { this.x = x; this.y = y; this.z = z; this.w = w; }
        public static Quaternion identity { get { return new Quaternion(0f, 0f, 0f, 1f); } }
        public static Quaternion Inverse(Quaternion q) { return new Quaternion(-q.x, -q.y, -q.z, q.w); }
        public static Quaternion FromToRotation(Vector3 fromDirection, Vector3 toDirection) { return identity; }
        public static Quaternion AngleAxis(float angleDeg, Vector3 axis)
        {
            Vector3 n = axis.normalized;
            double h = angleDeg * Math.PI / 360.0;
            float s = (float)Math.Sin(h);
            return new Quaternion(n.x * s, n.y * s, n.z * s, (float)Math.Cos(h));
        }
        public static Quaternion operator *(Quaternion a, Quaternion b)
        {
            return new Quaternion(
                a.w * b.x + a.x * b.w + a.y * b.z - a.z * b.y,
                a.w * b.y - a.x * b.z + a.y * b.w + a.z * b.x,
                a.w * b.z + a.x * b.y - a.y * b.x + a.z * b.w,
                a.w * b.w - a.x * b.x - a.y * b.y - a.z * b.z);
        }
        public static Vector3 operator *(Quaternion q, Vector3 v) { return v; }
    }

    public static class Mathf
    {
        public const float Deg2Rad = (float)(Math.PI / 180.0);
        public const float Rad2Deg = (float)(180.0 / Math.PI);
        public static float Sqrt(float f) { return (float)Math.Sqrt(f); }
        public static float Sin(float f) { return (float)Math.Sin(f); }
        public static float Cos(float f) { return (float)Math.Cos(f); }
        public static float Min(float a, float b) { return a < b ? a : b; }
        public static int Min(int a, int b) { return a < b ? a : b; }
        public static float Max(float a, float b) { return a > b ? a : b; }
        public static int RoundToInt(float f) { return (int)Math.Round(f); }
        public static int CeilToInt(float f) { return (int)Math.Ceiling(f); }
    }

    public static class Time
    {
        public static float unscaledTime;
        public static float unscaledDeltaTime;
    }

    public static class Debug
    {
        public static void Log(object message) { }
        public static void Log(object message, Object context) { }
        public static void LogWarning(object message, Object context) { }
        public static void LogError(object message, Object context) { }
        public static void LogException(Exception exception, Object context) { }
    }

    public struct ArticulationDrive
    {
        public float target;
    }

    public struct ArticulationReducedSpace
    {
        public ArticulationReducedSpace(float a) { }
    }

    public class ArticulationBody : Behaviour
    {
        public ArticulationDrive xDrive;
        public ArticulationReducedSpace jointPosition;
    }

    [AttributeUsage(AttributeTargets.Field)]
    public sealed class HeaderAttribute : Attribute { public HeaderAttribute(string header) { } }

    [AttributeUsage(AttributeTargets.Field)]
    public sealed class TooltipAttribute : Attribute { public TooltipAttribute(string tooltip) { } }

    [AttributeUsage(AttributeTargets.Field)]
    public sealed class RangeAttribute : Attribute { public RangeAttribute(float min, float max) { } }

    [AttributeUsage(AttributeTargets.Field)]
    public sealed class MinAttribute : Attribute { public MinAttribute(float min) { } }

    [AttributeUsage(AttributeTargets.Class)]
    public sealed class DisallowMultipleComponent : Attribute { }

    [AttributeUsage(AttributeTargets.Class)]
    public sealed class AddComponentMenu : Attribute { public AddComponentMenu(string menuName) { } }

    [AttributeUsage(AttributeTargets.Method)]
    public sealed class ContextMenu : Attribute { public ContextMenu(string itemName) { } }

    [AttributeUsage(AttributeTargets.Class)]
    public sealed class DefaultExecutionOrder : Attribute { public DefaultExecutionOrder(int order) { } }
}

namespace UnityEngine.Scripting
{
    [AttributeUsage(AttributeTargets.All)]
    public sealed class PreserveAttribute : Attribute { }
}

namespace UnityEngine.Video
{
    public enum VideoSource { VideoClip = 0, Url = 1 }

    public sealed class VideoPlayer : Behaviour
    {
        public delegate void EventHandler(VideoPlayer source);
        public delegate void ErrorEventHandler(VideoPlayer source, string message);

        public VideoSource source;
        public string url;
        public bool playOnAwake;
        public bool isLooping;
        public bool skipOnDrop;
        public double time;
        public bool canSetTime;
        public event EventHandler prepareCompleted;
        public event ErrorEventHandler errorReceived;
        public void Prepare() { if (prepareCompleted != null && errorReceived != null) { } }
        public void Play() { }
        public void Stop() { }
    }
}

namespace UnityEngine
{
    public sealed class TextMesh : Component
    {
        public string text;
        public float characterSize = 1f;
        public int fontSize;
        public TextAnchor anchor;
    }
}

namespace UnityEngine.SceneManagement
{
    public struct Scene
    {
        public bool IsValid() { return true; }
    }

    public class SceneManager
    {
        public static Scene GetActiveScene() { return new Scene(); }
    }
}
