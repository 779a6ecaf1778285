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
	public partial class StreamState : global::Colyseus.Schema.Schema {
#if UNITY_5_3_OR_NEWER
[Preserve]
#endif
public StreamState() { }
		[Type(0, "string")]
		public string rendition = "";

		[Type(1, "string")]
		public string playlistUrl = "";

		[Type(2, "float64")]
		public double bitrateBps = default(double);

		[Type(3, "string")]
		public string bands = "";

		[Type(4, "float64")]
		public double reservedBps = default(double);

		[Type(5, "string")]
		public string wantedRendition = "";

		[Type(6, "string")]
		public string reason = "";

		[Type(7, "string")]
		public string mp4Url = "";
	}
}
