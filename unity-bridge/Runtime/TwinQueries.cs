using System;
using AgentTwin.Schema;

namespace AgentTwin
{
    /// <summary>Reads of the twin state that several components share (pure; no Unity calls).</summary>
    public static class TwinQueries
    {
        /// <summary>
        /// The most recently created plan (largest <c>createdAt</c>) whose status is one of
        /// <paramref name="statuses"/> (any status when null), or null when there is none.
        /// </summary>
        public static PlanState NewestPlan(TwinState state, string[] statuses)
        {
            if (state == null || state.plans == null) return null;
            PlanState newest = null;
            foreach (object value in state.plans.Values)
            {
                var plan = value as PlanState;
                if (plan == null || (statuses != null && Array.IndexOf(statuses, plan.status) < 0)) continue;
                if (newest == null || plan.createdAt > newest.createdAt) newest = plan;
            }
            return newest;
        }
    }
}
