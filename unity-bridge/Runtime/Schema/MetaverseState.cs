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
	public partial class MetaverseState : global::Colyseus.Schema.Schema {
#if UNITY_5_3_OR_NEWER
[Preserve]
#endif
public MetaverseState() { }
		[Type(0, "ref", typeof(SceneState))]
		public SceneState scene = new SceneState();

		[Type(1, "map", typeof(MapSchema<ParticipantState>))]
		public MapSchema<ParticipantState> participants = new MapSchema<ParticipantState>();

		[Type(2, "ref", typeof(AgentPanelState))]
		public AgentPanelState agents = new AgentPanelState();
	}
}
