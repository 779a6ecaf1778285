// 
// THIS FILE HAS BEEN GENERATED AUTOMATICALLY
// DO NOT CHANGE IT MANUALLY UNLESS YOU KNOW WHAT YOU'RE DOING
// 
// GENERATED USING @colyseus/schema 5.0.34
// 

namespace AgentTwin.Schema {
	public partial class ParticipantState : global::Colyseus.Schema.Schema {
#if UNITY_5_3_OR_NEWER
		[global::UnityEngine.Scripting.Preserve]
#endif
		public ParticipantState() { }

		[global::Colyseus.Schema.Type(0, "string")]
		public string name = "";

		[global::Colyseus.Schema.Type(1, "string")]
		public string role = "";

		[global::Colyseus.Schema.Type(2, "boolean")]
		public bool connected = false;

		[global::Colyseus.Schema.Type(3, "ref", typeof(PoseState))]
		public PoseState head = null;

		[global::Colyseus.Schema.Type(4, "ref", typeof(PoseState))]
		public PoseState left = null;

		[global::Colyseus.Schema.Type(5, "ref", typeof(PoseState))]
		public PoseState right = null;

		[global::Colyseus.Schema.Type(6, "ref", typeof(StreamState))]
		public StreamState stream = null;

		[global::Colyseus.Schema.Type(7, "ref", typeof(QoeState))]
		public QoeState qoe = null;
	}
}
