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
	public partial class JointState : global::Colyseus.Schema.Schema {
#if UNITY_5_3_OR_NEWER
[Preserve]
#endif
public JointState() { }
		[Type(0, "string")]
		public string name = "";

		[Type(1, "float32")]
		public float position = default(float);

		[Type(2, "float32")]
		public float velocity = default(float);
	}
}
