// 
// THIS FILE HAS BEEN GENERATED AUTOMATICALLY
// DO NOT CHANGE IT MANUALLY UNLESS YOU KNOW WHAT YOU'RE DOING
// 
// GENERATED USING @colyseus/schema 5.0.34
// 

namespace AgentTwin.Schema {
	public partial class QoeState : global::Colyseus.Schema.Schema {
#if UNITY_5_3_OR_NEWER
		[global::UnityEngine.Scripting.Preserve]
#endif
		public QoeState() { }

		[global::Colyseus.Schema.Type(0, "float32")]
		public double bufferS = 0;

		[global::Colyseus.Schema.Type(1, "float64")]
		public double throughputBps = 0;

		[global::Colyseus.Schema.Type(2, "uint32")]
		public uint stalls = 0;

		[global::Colyseus.Schema.Type(3, "float64")]
		public double atMs = 0;
	}
}
