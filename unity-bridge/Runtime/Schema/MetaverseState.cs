// 
// THIS FILE HAS BEEN GENERATED AUTOMATICALLY
// DO NOT CHANGE IT MANUALLY UNLESS YOU KNOW WHAT YOU'RE DOING
// 
// GENERATED USING @colyseus/schema 5.0.34
// 

namespace AgentTwin.Schema {
	public partial class MetaverseState : global::Colyseus.Schema.Schema {
#if UNITY_5_3_OR_NEWER
		[global::UnityEngine.Scripting.Preserve]
#endif
		public MetaverseState() { }

		[global::Colyseus.Schema.Type(0, "ref", typeof(SceneState))]
		public SceneState scene = null;

		[global::Colyseus.Schema.Type(1, "map", typeof(global::Colyseus.Schema.MapSchema<ParticipantState>))]
		public global::Colyseus.Schema.MapSchema<ParticipantState> participants = new global::Colyseus.Schema.MapSchema<ParticipantState>();

		[global::Colyseus.Schema.Type(2, "ref", typeof(AgentPanelState))]
		public AgentPanelState agents = null;
	}
}
