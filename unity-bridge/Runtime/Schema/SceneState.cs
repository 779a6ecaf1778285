// 
// THIS FILE HAS BEEN GENERATED AUTOMATICALLY
// DO NOT CHANGE IT MANUALLY UNLESS YOU KNOW WHAT YOU'RE DOING
// 
// GENERATED USING @colyseus/schema 5.0.34
// 

namespace AgentTwin.Schema {
	public partial class SceneState : global::Colyseus.Schema.Schema {
#if UNITY_5_3_OR_NEWER
		[global::UnityEngine.Scripting.Preserve]
#endif
		public SceneState() { }

		[global::Colyseus.Schema.Type(0, "uint32")]
		public uint version = 0;

		[global::Colyseus.Schema.Type(1, "string")]
		public string assetUrl = "";

		[global::Colyseus.Schema.Type(2, "string")]
		public string streamUrl = "";

		[global::Colyseus.Schema.Type(3, "string")]
		public string renditions = "";

		[global::Colyseus.Schema.Type(4, "string")]
		public string status = "idle";

		[global::Colyseus.Schema.Type(5, "string")]
		public string error = "";
	}
}
