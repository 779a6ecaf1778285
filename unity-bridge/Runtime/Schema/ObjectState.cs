// 
// THIS FILE HAS BEEN GENERATED AUTOMATICALLY
// DO NOT CHANGE IT MANUALLY UNLESS YOU KNOW WHAT YOU'RE DOING
// 
// GENERATED USING @colyseus/schema 5.0.34
// 

namespace AgentTwin.Schema {
	public partial class ObjectState : global::Colyseus.Schema.Schema {
#if UNITY_5_3_OR_NEWER
		[global::UnityEngine.Scripting.Preserve]
#endif
		public ObjectState() { }

		[global::Colyseus.Schema.Type(0, "string")]
		public string id = "";

		[global::Colyseus.Schema.Type(1, "string")]
		public string shape = "";

		[global::Colyseus.Schema.Type(2, "ref", typeof(Vec3State))]
		public Vec3State size = null;

		[global::Colyseus.Schema.Type(3, "ref", typeof(PoseState))]
		public PoseState pose = null;

		[global::Colyseus.Schema.Type(4, "boolean")]
		public bool dynamic = false;

		[global::Colyseus.Schema.Type(5, "boolean")]
		public bool @virtual = false;

		[global::Colyseus.Schema.Type(6, "string")]
		public string color = "";

		[global::Colyseus.Schema.Type(7, "string")]
		public string heldBy = "";
	}
}
