using AgentTwin;
using AgentTwin.Schema;
using NUnit.Framework;

namespace AgentTwin.Tests
{
    /// <summary>The newest plan, as the status panel, the held approve and the plan preview pick it.</summary>
    public class TwinQueriesTests
    {
        private static TwinState WithPlans()
        {
            var state = new TwinState();
            state.plans.Add("p1", new PlanState { id = "p1", status = "validated", createdAt = 100 });
            state.plans.Add("p3", new PlanState { id = "p3", status = "executing", createdAt = 300 });
            state.plans.Add("p2", new PlanState { id = "p2", status = "approved", createdAt = 200 });
            return state;
        }

        [Test]
        public void NewestPlanOfAnyStatus()
        {
            Assert.AreEqual("p3", TwinQueries.NewestPlan(WithPlans(), null).id);
        }

        [Test]
        public void NewestPlanAmongTheGivenStatuses()
        {
            TwinState state = WithPlans();
            Assert.AreEqual("p1", TwinQueries.NewestPlan(state, new[] { "validated" }).id);
            Assert.AreEqual("p2", TwinQueries.NewestPlan(state, new[] { "validated", "approved" }).id);
            Assert.AreEqual(null, TwinQueries.NewestPlan(state, new[] { "rejected" }));
            Assert.AreEqual(null, TwinQueries.NewestPlan(null, null));
        }
    }
}
