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
	public partial class TwinState : global::Colyseus.Schema.Schema {
#if UNITY_5_3_OR_NEWER
[Preserve]
#endif
public TwinState() { }
		[Type(0, "ref", typeof(RobotState))]
		public RobotState robot = new RobotState();

		[Type(1, "map", typeof(MapSchema<ObjectState>))]
		public MapSchema<ObjectState> objects = new MapSchema<ObjectState>();

		[Type(2, "map", typeof(MapSchema<OperatorState>))]
		public MapSchema<OperatorState> operators = new MapSchema<OperatorState>();

		[Type(3, "map", typeof(MapSchema<PlanState>))]
		public MapSchema<PlanState> plans = new MapSchema<PlanState>();

		[Type(4, "ref", typeof(GoalState))]
		public GoalState goal = new GoalState();

		[Type(5, "ref", typeof(AgentPanelState))]
		public AgentPanelState agents = new AgentPanelState();
	}
}
