// 
// THIS FILE HAS BEEN GENERATED AUTOMATICALLY
// DO NOT CHANGE IT MANUALLY UNLESS YOU KNOW WHAT YOU'RE DOING
// 
// GENERATED USING @colyseus/schema 5.0.34
// 

namespace AgentTwin.Schema {
	public partial class PlanState : global::Colyseus.Schema.Schema {
#if UNITY_5_3_OR_NEWER
		[global::UnityEngine.Scripting.Preserve]
#endif
		public PlanState() { }

		[global::Colyseus.Schema.Type(0, "string")]
		public string id = "";

		[global::Colyseus.Schema.Type(1, "string")]
		public string status = "";

		[global::Colyseus.Schema.Type(2, "string")]
		public string reason = "";

		[global::Colyseus.Schema.Type(3, "string")]
		public string requestedBy = "";

		[global::Colyseus.Schema.Type(4, "string")]
		public string approvedBy = "";

		[global::Colyseus.Schema.Type(5, "float64")]
		public double createdAt = 0;

		[global::Colyseus.Schema.Type(6, "float32")]
		public double duration = 0;

		[global::Colyseus.Schema.Type(7, "float32")]
		public double planningMs = 0;

		[global::Colyseus.Schema.Type(8, "array", typeof(global::Colyseus.Schema.ArraySchema<double>), "float32")]
		public global::Colyseus.Schema.ArraySchema<double> preview = new global::Colyseus.Schema.ArraySchema<double>();

		[global::Colyseus.Schema.Type(9, "array", typeof(global::Colyseus.Schema.ArraySchema<double>), "float32")]
		public global::Colyseus.Schema.ArraySchema<double> previewTcp = new global::Colyseus.Schema.ArraySchema<double>();
	}
}
