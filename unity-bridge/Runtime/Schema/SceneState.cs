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
	public partial class SceneState : global::Colyseus.Schema.Schema {
#if UNITY_5_3_OR_NEWER
[Preserve]
#endif
public SceneState() { }
		[Type(0, "uint32")]
		public uint version = default(uint);

		[Type(1, "string")]
		public string assetUrl = "";

		[Type(2, "string")]
		public string streamUrl = "";

		[Type(3, "string")]
		public string renditions = "";

		[Type(4, "string")]
		public string status = "";

		[Type(5, "string")]
		public string error = "";

		[Type(6, "float32")]
		public float progress = default(float);

		[Type(7, "string")]
		public string detail = "";
	}
}
