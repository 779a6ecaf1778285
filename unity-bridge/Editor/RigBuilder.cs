using UnityEditor;
using UnityEditor.SceneManagement;
using UnityEngine;
using UnityEngine.InputSystem;
using UnityEngine.InputSystem.XR;

namespace AgentTwin.Editor
{
    /// <summary>
    /// <c>AgentTwin → Build PICO 4 Rig In Open Scene</c>: adds, in one undoable step, everything a
    /// first join needs to the open scene —
    /// <list type="bullet">
    /// <item>an XR origin with the headset camera and both controllers, tracked by Input System
    /// <see cref="TrackedPoseDriver"/>s (OpenXR paths <c>&lt;XRHMD&gt;/centerEye…</c> and
    /// <c>&lt;XRController&gt;{Left|Right}Hand/device…</c>; no XR Interaction Toolkit needed);</item>
    /// <item><see cref="AgentTwinClient"/> for <c>ws://127.0.0.1:2567</c> with a development
    /// token requested, so Play joins an <c>npm start</c> server on the same machine at once
    /// (development tokens are for loopback clients only; a headset gets a minted token);</item>
    /// <item>the world anchor <c>Cell</c> 1.5 m in front, with the twin's arm and a goal ghost
    /// built from primitives (<see cref="PrimitiveArm"/>, both bound by <see cref="RobotBinding"/>);</item>
    /// <item><see cref="ControllerInput"/> with the PICO 4 controls as embedded actions (right grip
    /// = dead-man for jog, sticks jog, right trigger = goal, A = plan, B held 1 s = approve,
    /// left menu = STOP, left grip = grab, X = jog mode, Y = next joint);</item>
    /// <item>a <see cref="StatusPanel"/> on the left controller.</item>
    /// </list>
    /// Nothing existing is changed; run it in an empty scene (delete the default Main Camera).
    /// </summary>
    public static class RigBuilder
    {
        public const string MenuPath = "AgentTwin/Build PICO 4 Rig In Open Scene";

        [MenuItem(MenuPath, false, 10)]
        public static void BuildInOpenScene()
        {
            var scene = EditorSceneManager.GetActiveScene();
            if (!scene.IsValid())
            {
                EditorUtility.DisplayDialog("AgentTwin", "Open a scene first.", "OK");
                return;
            }
            Undo.IncrementCurrentGroup();
            int group = Undo.GetCurrentGroup();
            GameObject rig = Build();
            Undo.RegisterCreatedObjectUndo(rig, "Build PICO 4 Rig");
            Undo.CollapseUndoOperations(group);
            EditorSceneManager.MarkSceneDirty(scene);
            Selection.activeGameObject = rig;
            Debug.Log("[AgentTwin] PICO 4 rig built: Play joins an npm start server on this machine; for a headset set the client's Server Url and Token.", rig);
        }

        [MenuItem(MenuPath, true)]
        public static bool CanBuild()
        {
            return !EditorApplication.isPlaying;
        }

        /// <summary>Builds the rig under a new root GameObject and returns the root.</summary>
        public static GameObject Build()
        {
            var root = new GameObject("AgentTwin Rig");

            var clientGo = Child(root.transform, "AgentTwin", new Vector3(0f, 0f, 0f));
            AgentTwinClient client = clientGo.AddComponent<AgentTwinClient>();
            // The Editor on the server's own machine: `npm start` listens on loopback and gives
            // development tokens to loopback clients only. A headset needs the server's address
            // and a minted token (package README, First join).
            client.serverUrl = "ws://127.0.0.1:2567";
            client.room = RoomKind.DigitalTwin;
            client.requestDevToken = true;
            client.devName = "pico-operator";
            client.devRole = "operator";

            // The cell stands 1.5 m in front of where the user starts, on the floor.
            var cell = Child(root.transform, "Cell (world anchor)", new Vector3(0f, 0f, 1.5f));
            client.worldAnchor = cell.transform;
            PrimitiveArm.Build(cell.transform, "Arm (twin)", ArmModel.Panda(), client, RobotBinding.Source.Measured, null);
            PrimitiveArm.Build(cell.transform, "Goal Ghost", ArmModel.Panda(), client, RobotBinding.Source.Goal, GhostMaterial());

            // XR origin: floor-level offset; the runtime's OpenXR tracking origin puts the head at its height.
            var origin = Child(root.transform, "XR Origin", new Vector3(0f, 0f, 0f));
            var offset = Child(origin.transform, "Camera Offset", new Vector3(0f, 0f, 0f));
            var head = Child(offset.transform, "Main Camera", new Vector3(0f, 1.6f, 0f));
            head.tag = "MainCamera";
            Camera camera = head.AddComponent<Camera>();
            camera.nearClipPlane = 0.01f;
            head.AddComponent<AudioListener>();
            Track(head, "<XRHMD>/centerEyePosition", "<XRHMD>/centerEyeRotation");

            var left = Child(offset.transform, "Left Controller", new Vector3(-0.2f, 1.2f, 0.3f));
            Track(left, "<XRController>{LeftHand}/devicePosition", "<XRController>{LeftHand}/deviceRotation");
            Marker(left.transform);
            var right = Child(offset.transform, "Right Controller", new Vector3(0.2f, 1.2f, 0.3f));
            Track(right, "<XRController>{RightHand}/devicePosition", "<XRController>{RightHand}/deviceRotation");
            Marker(right.transform);
            var goalPoint = Child(right.transform, "Goal Point", new Vector3(0f, 0f, 0.1f));

            ControllerInput input = origin.AddComponent<ControllerInput>();
            input.client = client;
            input.head = head.transform;
            input.leftHand = left.transform;
            input.rightHand = right.transform;
            input.goalPoint = goalPoint.transform;
            input.leftStick = Value("Left Stick", "<XRController>{LeftHand}/thumbstick", "<XRController>{LeftHand}/{Primary2DAxis}");
            input.rightStick = Value("Right Stick", "<XRController>{RightHand}/thumbstick", "<XRController>{RightHand}/{Primary2DAxis}");
            input.jogDeadman = Button("Jog Deadman", "<XRController>{RightHand}/gripPressed", null);
            input.goalTrigger = Button("Place Goal", "<XRController>{RightHand}/triggerPressed", null);
            input.planButton = Button("Plan", "<XRController>{RightHand}/primaryButton", null);
            input.approveButton = Button("Approve", "<XRController>{RightHand}/secondaryButton", "hold(duration=1)");
            input.stopButton = Button("Stop", "<XRController>{LeftHand}/menu", null);
            input.leftGrip = Button("Grab Left", "<XRController>{LeftHand}/gripPressed", null);
            input.jogModeToggle = Button("Jog Mode", "<XRController>{LeftHand}/primaryButton", null);
            input.nextJoint = Button("Next Joint", "<XRController>{LeftHand}/secondaryButton", null);

            var panel = Child(left.transform, "Status Panel", new Vector3(0f, 0.08f, 0.05f));
            TextMesh text = panel.AddComponent<TextMesh>();
            text.characterSize = 0.005f;
            text.fontSize = 48;
            text.anchor = TextAnchor.LowerCenter;
            text.text = "AgentTwin";
            StatusPanel status = panel.AddComponent<StatusPanel>();
            status.client = client;
            status.text = text;
            return root;
        }

        private static GameObject Child(Transform parent, string name, Vector3 localPosition)
        {
            var go = new GameObject(name);
            go.transform.SetParent(parent, false);
            go.transform.localPosition = localPosition;
            return go;
        }

        private static void Track(GameObject go, string position, string rotation)
        {
            TrackedPoseDriver driver = go.AddComponent<TrackedPoseDriver>();
            driver.trackingType = TrackedPoseDriver.TrackingType.RotationAndPosition;
            driver.updateType = TrackedPoseDriver.UpdateType.UpdateAndBeforeRender;
            driver.positionInput = new InputActionProperty(new InputAction(go.name + " Position", InputActionType.Value, position, null, null, "Vector3"));
            driver.rotationInput = new InputActionProperty(new InputAction(go.name + " Rotation", InputActionType.Value, rotation, null, null, "Quaternion"));
        }

        /// <summary>A small box so the controller can be seen in the Editor and the headset.</summary>
        private static void Marker(Transform hand)
        {
            PrimitiveArm.Part(PrimitiveType.Cube, hand, new Vector3(0f, 0f, 0f), new Vector3(0.04f, 0.03f, 0.1f), null).name = "Marker";
        }

        private static InputActionProperty Value(string name, string path, string alternative)
        {
            var action = new InputAction(name, InputActionType.Value, path, null, null, "Vector2");
            if (alternative != null) action.AddBinding(alternative);
            return new InputActionProperty(action);
        }

        private static InputActionProperty Button(string name, string path, string interactions)
        {
            return new InputActionProperty(new InputAction(name, InputActionType.Button, path, interactions, null, null));
        }

        /// <summary>The default primitive material, tinted: the render pipeline's own shader, whatever it is.</summary>
        private static Material GhostMaterial()
        {
            GameObject probe = GameObject.CreatePrimitive(PrimitiveType.Cube);
            Renderer renderer = probe.GetComponent<Renderer>();
            Material material = renderer != null && renderer.sharedMaterial != null
                ? new Material(renderer.sharedMaterial)
                : null;
            Object.DestroyImmediate(probe);
            if (material != null)
            {
                material.name = "AgentTwin Goal Ghost";
                material.color = new Color(0.3f, 0.8f, 1f, 0.4f);
            }
            return material;
        }
    }
}
