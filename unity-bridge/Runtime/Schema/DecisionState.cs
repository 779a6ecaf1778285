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
	public partial class DecisionState : global::Colyseus.Schema.Schema {
#if UNITY_5_3_OR_NEWER
[Preserve]
#endif
public DecisionState() { }
		[Type(0, "string")]
		public string id = "";

		[Type(1, "string")]
		public string task = "";

		[Type(2, "string")]
		public string trigger = "";

		[Type(3, "string")]
		public string summary = "";

		[Type(4, "string")]
		public string agents = "";

		[Type(5, "boolean")]
		public bool applied = default(bool);

		[Type(6, "float32")]
		public float latencyMs = default(float);

		[Type(7, "float64")]
		public double atMs = default(double);
	}
}
