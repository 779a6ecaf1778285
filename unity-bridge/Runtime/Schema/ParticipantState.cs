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
	public partial class ParticipantState : global::Colyseus.Schema.Schema {
#if UNITY_5_3_OR_NEWER
[Preserve]
#endif
public ParticipantState() { }
		[Type(0, "string")]
		public string name = "";

		[Type(1, "string")]
		public string role = "";

		[Type(2, "boolean")]
		public bool connected = default(bool);

		[Type(3, "ref", typeof(PoseState))]
		public PoseState head = new PoseState();

		[Type(4, "ref", typeof(PoseState))]
		public PoseState left = new PoseState();

		[Type(5, "ref", typeof(PoseState))]
		public PoseState right = new PoseState();

		[Type(6, "ref", typeof(StreamState))]
		public StreamState stream = new StreamState();

		[Type(7, "ref", typeof(QoeState))]
		public QoeState qoe = new QoeState();
	}
}
