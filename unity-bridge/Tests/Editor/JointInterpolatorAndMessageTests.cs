using System.Collections.Generic;
using AgentTwin;
using NUnit.Framework;

namespace AgentTwin.Tests
{
    /// <summary>Interpolation between joint-state patches and the message bodies the bridge sends.</summary>
    public class JointInterpolatorAndMessageTests
    {
        private static readonly string[] Names = { "panda_joint1" };

        [Test]
        public void InterpolatesBetweenStampsRenderDelayBehind()
        {
            // Samples 100 ms apart, arriving on time; render 50 ms behind: halfway between them.
            var interp = new JointInterpolator { RenderDelayMs = 50, UseVelocities = false };
            interp.Push(1000, 1000, 1, Names, new[] { 0f }, null, 0f);
            interp.Push(1100, 1100, 1, Names, new[] { 1f }, null, 0.04f);
            float[] q = new float[0];
            float gripper;
            Assert.AreEqual(1, interp.Sample(1100, ref q, out gripper));
            Assert.AreEqual(0.5f, q[0], 1e-3f);
        }

        [Test]
        public void NothingBeforeTheFirstSample()
        {
            var interp = new JointInterpolator();
            float[] q = new float[0];
            float gripper;
            Assert.AreEqual(0, interp.Sample(0, ref q, out gripper));
        }

        [Test]
        public void JogCarriesTheDeadmanAndJoint()
        {
            Dictionary<string, object> jog = TwinMessages.JogJoint(3, 0.5f, 300);
            Assert.AreEqual("joint", jog["mode"]);
            Assert.AreEqual(300, jog["deadmanMs"]);
        }

        [Test]
        public void StopAndPlanAreBareCommands()
        {
            Assert.IsNotNull(TwinMessages.Stop());
            Assert.IsNotNull(TwinMessages.Plan());
            Assert.AreEqual("plan-1", TwinMessages.Approve("plan-1")["planId"]);
        }
    }
}
