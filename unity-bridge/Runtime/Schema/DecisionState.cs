// 
// THIS FILE HAS BEEN GENERATED AUTOMATICALLY
// DO NOT CHANGE IT MANUALLY UNLESS YOU KNOW WHAT YOU'RE DOING
// 
// GENERATED USING @colyseus/schema 5.0.34
// 

namespace AgentTwin.Schema {
	public partial class DecisionState : global::Colyseus.Schema.Schema {
#if UNITY_5_3_OR_NEWER
		[global::UnityEngine.Scripting.Preserve]
#endif
		public DecisionState() { }

		[global::Colyseus.Schema.Type(0, "string")]
		public string id = "";

		[global::Colyseus.Schema.Type(1, "string")]
		public string task = "";

		[global::Colyseus.Schema.Type(2, "string")]
		public string trigger = "";

		[global::Colyseus.Schema.Type(3, "string")]
		public string summary = "";

		[global::Colyseus.Schema.Type(4, "string")]
		public string agents = "";

		[global::Colyseus.Schema.Type(5, "boolean")]
		public bool applied = false;

		[global::Colyseus.Schema.Type(6, "float32")]
		public double latencyMs = 0;

		[global::Colyseus.Schema.Type(7, "float64")]
		public double atMs = 0;
	}
}
