// 
// THIS FILE HAS BEEN GENERATED AUTOMATICALLY
// DO NOT CHANGE IT MANUALLY UNLESS YOU KNOW WHAT YOU'RE DOING
// 
// GENERATED USING @colyseus/schema 5.0.34
// 

namespace AgentTwin.Schema {
	public partial class AgentPanelState : global::Colyseus.Schema.Schema {
#if UNITY_5_3_OR_NEWER
		[global::UnityEngine.Scripting.Preserve]
#endif
		public AgentPanelState() { }

		[global::Colyseus.Schema.Type(0, "string")]
		public string agents = "";

		[global::Colyseus.Schema.Type(1, "string")]
		public string wantedRung = "";

		[global::Colyseus.Schema.Type(2, "ref", typeof(AllocationState))]
		public AllocationState allocation = null;

		[global::Colyseus.Schema.Type(3, "array", typeof(global::Colyseus.Schema.ArraySchema<DecisionState>))]
		public global::Colyseus.Schema.ArraySchema<DecisionState> decisions = new global::Colyseus.Schema.ArraySchema<DecisionState>();
	}
}
