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
	public partial class AgentPanelState : global::Colyseus.Schema.Schema {
#if UNITY_5_3_OR_NEWER
[Preserve]
#endif
public AgentPanelState() { }
		[Type(0, "string")]
		public string agents = "";

		[Type(1, "string")]
		public string wantedRung = "";

		[Type(2, "ref", typeof(AllocationState))]
		public AllocationState allocation = new AllocationState();

		[Type(3, "array", typeof(ArraySchema<DecisionState>))]
		public ArraySchema<DecisionState> decisions = new ArraySchema<DecisionState>();
	}
}
