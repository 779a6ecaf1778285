// 
// THIS FILE HAS BEEN GENERATED AUTOMATICALLY
// DO NOT CHANGE IT MANUALLY UNLESS YOU KNOW WHAT YOU'RE DOING
// 
// GENERATED USING @colyseus/schema 5.0.34
// 

namespace AgentTwin.Schema {
	public partial class PoseState : global::Colyseus.Schema.Schema {
#if UNITY_5_3_OR_NEWER
		[global::UnityEngine.Scripting.Preserve]
#endif
		public PoseState() { }

		[global::Colyseus.Schema.Type(0, "ref", typeof(Vec3State))]
		public Vec3State position = null;

		[global::Colyseus.Schema.Type(1, "ref", typeof(QuatState))]
		public QuatState orientation = null;
	}
}
