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
	public partial class PlanState : global::Colyseus.Schema.Schema {
#if UNITY_5_3_OR_NEWER
[Preserve]
#endif
public PlanState() { }
		[Type(0, "string")]
		public string id = "";

		[Type(1, "string")]
		public string status = "";

		[Type(2, "string")]
		public string reason = "";

		[Type(3, "string")]
		public string requestedBy = "";

		[Type(4, "string")]
		public string approvedBy = "";

		[Type(5, "float64")]
		public double createdAt = default(double);

		[Type(6, "float32")]
		public float duration = default(float);

		[Type(7, "float32")]
		public float planningMs = default(float);

		[Type(8, "array", typeof(ArraySchema<float>), "float32")]
		public ArraySchema<float> preview = new ArraySchema<float>();

		[Type(9, "array", typeof(ArraySchema<float>), "float32")]
		public ArraySchema<float> previewTcp = new ArraySchema<float>();
	}
}
