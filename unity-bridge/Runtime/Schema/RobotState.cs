// 
// THIS FILE HAS BEEN GENERATED AUTOMATICALLY
// DO NOT CHANGE IT MANUALLY UNLESS YOU KNOW WHAT YOU'RE DOING
// 
// GENERATED USING @colyseus/schema 5.0.34
// 

namespace AgentTwin.Schema {
	public partial class RobotState : global::Colyseus.Schema.Schema {
#if UNITY_5_3_OR_NEWER
		[global::UnityEngine.Scripting.Preserve]
#endif
		public RobotState() { }

		[global::Colyseus.Schema.Type(0, "array", typeof(global::Colyseus.Schema.ArraySchema<JointState>))]
		public global::Colyseus.Schema.ArraySchema<JointState> joints = new global::Colyseus.Schema.ArraySchema<JointState>();

		[global::Colyseus.Schema.Type(1, "float32")]
		public double gripper = 0;

		[global::Colyseus.Schema.Type(2, "ref", typeof(PoseState))]
		public PoseState tcp = null;

		[global::Colyseus.Schema.Type(3, "string")]
		public string mode = "";

		[global::Colyseus.Schema.Type(4, "string")]
		public string link = "";

		[global::Colyseus.Schema.Type(5, "string")]
		public string activePlanId = "";

		[global::Colyseus.Schema.Type(6, "float32")]
		public double progress = 0;

		[global::Colyseus.Schema.Type(7, "float64")]
		public double stamp = 0;

		[global::Colyseus.Schema.Type(8, "string")]
		public string cell = "";

		[global::Colyseus.Schema.Type(9, "float32")]
		public double deviation = 0;
	}
}
