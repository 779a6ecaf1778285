// 
// THIS FILE HAS BEEN GENERATED AUTOMATICALLY
// DO NOT CHANGE IT MANUALLY UNLESS YOU KNOW WHAT YOU'RE DOING
// 
// GENERATED USING @colyseus/schema 5.0.34
// 

namespace AgentTwin.Schema {
	public partial class TwinState : global::Colyseus.Schema.Schema {
#if UNITY_5_3_OR_NEWER
		[global::UnityEngine.Scripting.Preserve]
#endif
		public TwinState() { }

		[global::Colyseus.Schema.Type(0, "ref", typeof(RobotState))]
		public RobotState robot = null;

		[global::Colyseus.Schema.Type(1, "map", typeof(global::Colyseus.Schema.MapSchema<ObjectState>))]
		public global::Colyseus.Schema.MapSchema<ObjectState> objects = new global::Colyseus.Schema.MapSchema<ObjectState>();

		[global::Colyseus.Schema.Type(2, "map", typeof(global::Colyseus.Schema.MapSchema<OperatorState>))]
		public global::Colyseus.Schema.MapSchema<OperatorState> operators = new global::Colyseus.Schema.MapSchema<OperatorState>();

		[global::Colyseus.Schema.Type(3, "map", typeof(global::Colyseus.Schema.MapSchema<PlanState>))]
		public global::Colyseus.Schema.MapSchema<PlanState> plans = new global::Colyseus.Schema.MapSchema<PlanState>();

		[global::Colyseus.Schema.Type(4, "ref", typeof(GoalState))]
		public GoalState goal = null;

		[global::Colyseus.Schema.Type(5, "ref", typeof(AgentPanelState))]
		public AgentPanelState agents = null;
	}
}
