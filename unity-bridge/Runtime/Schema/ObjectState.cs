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
	public partial class ObjectState : global::Colyseus.Schema.Schema {
#if UNITY_5_3_OR_NEWER
[Preserve]
#endif
public ObjectState() { }
		[Type(0, "string")]
		public string id = "";

		[Type(1, "string")]
		public string shape = "";

		[Type(2, "ref", typeof(Vec3State))]
		public Vec3State size = new Vec3State();

		[Type(3, "ref", typeof(PoseState))]
		public PoseState pose = new PoseState();

		[Type(4, "boolean")]
		public bool dynamic = default(bool);

		[Type(5, "boolean")]
		public bool @virtual = default(bool);

		[Type(6, "string")]
		public string color = "";

		[Type(7, "string")]
		public string heldBy = "";
	}
}
