// 
// THIS FILE HAS BEEN GENERATED AUTOMATICALLY
// DO NOT CHANGE IT MANUALLY UNLESS YOU KNOW WHAT YOU'RE DOING
// 
// GENERATED USING @colyseus/schema 5.0.34
// 

namespace AgentTwin.Schema {
	public partial class AllocationState : global::Colyseus.Schema.Schema {
#if UNITY_5_3_OR_NEWER
		[global::UnityEngine.Scripting.Preserve]
#endif
		public AllocationState() { }

		[global::Colyseus.Schema.Type(0, "string")]
		public string rung = "";

		[global::Colyseus.Schema.Type(1, "string")]
		public string bands = "";

		[global::Colyseus.Schema.Type(2, "float64")]
		public double reservedBps = 0;

		[global::Colyseus.Schema.Type(3, "float64")]
		public double capacityBps = 0;

		[global::Colyseus.Schema.Type(4, "float64")]
		public double demandBps = 0;
	}
}
