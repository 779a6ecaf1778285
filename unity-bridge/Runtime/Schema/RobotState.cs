// 
// THIS FILE HAS BEEN GENERATED AUTOMATICALLY
// DO NOT CHANGE IT MANUALLY UNLESS YOU KNOW WHAT YOU'RE DOING
// 
// GENERATED USING @colyseus/schema 4.0.31
// Post-processed by scripts/codegen-unity.ts: base class qualified, field types = the
// Colyseus Unity SDK 0.17 decoder's, collections and children start empty, keywords escaped.
// 

using Colyseus.Schema;
#if UNITY_5_3_OR_NEWER
using UnityEngine.Scripting;
#endif

namespace AgentTwin.Schema {
	public partial class RobotState : global::Colyseus.Schema.Schema {
#if UNITY_5_3_OR_NEWER
[Preserve]
#endif
public RobotState() { }
		[Type(0, "array", typeof(ArraySchema<JointState>))]
		public ArraySchema<JointState> joints = new ArraySchema<JointState>();

		[Type(1, "float32")]
		public float gripper = default(float);

		[Type(2, "ref", typeof(PoseState))]
		public PoseState tcp = new PoseState();

		[Type(3, "string")]
		public string mode = "";

		[Type(4, "string")]
		public string link = "";

		[Type(5, "string")]
		public string activePlanId = "";

		[Type(6, "float32")]
		public float progress = default(float);

		[Type(7, "float64")]
		public double stamp = default(double);

		[Type(8, "string")]
		public string cell = "";

		[Type(9, "float32")]
		public float deviation = default(float);
	}
}
