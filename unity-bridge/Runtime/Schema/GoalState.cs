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
	public partial class GoalState : global::Colyseus.Schema.Schema {
#if UNITY_5_3_OR_NEWER
[Preserve]
#endif
public GoalState() { }
		[Type(0, "string")]
		public string kind = "";

		[Type(1, "array", typeof(ArraySchema<float>), "float32")]
		public ArraySchema<float> positions = new ArraySchema<float>();

		[Type(2, "ref", typeof(PoseState))]
		public PoseState pose = new PoseState();

		[Type(3, "boolean")]
		public bool valid = default(bool);

		[Type(4, "string")]
		public string reason = "";

		[Type(5, "string")]
		public string setBy = "";
	}
}
