// 
// THIS FILE HAS BEEN GENERATED AUTOMATICALLY
// DO NOT CHANGE IT MANUALLY UNLESS YOU KNOW WHAT YOU'RE DOING
// 
// GENERATED USING @colyseus/schema 5.0.34
// 

namespace AgentTwin.Schema {
	public partial class GoalState : global::Colyseus.Schema.Schema {
#if UNITY_5_3_OR_NEWER
		[global::UnityEngine.Scripting.Preserve]
#endif
		public GoalState() { }

		[global::Colyseus.Schema.Type(0, "string")]
		public string kind = "";

		[global::Colyseus.Schema.Type(1, "array", typeof(global::Colyseus.Schema.ArraySchema<double>), "float32")]
		public global::Colyseus.Schema.ArraySchema<double> positions = new global::Colyseus.Schema.ArraySchema<double>();

		[global::Colyseus.Schema.Type(2, "ref", typeof(PoseState))]
		public PoseState pose = null;

		[global::Colyseus.Schema.Type(3, "boolean")]
		public bool valid = false;

		[global::Colyseus.Schema.Type(4, "string")]
		public string reason = "";

		[global::Colyseus.Schema.Type(5, "string")]
		public string setBy = "";
	}
}
