using AgentTwin;
using NUnit.Framework;
using UnityEngine;

namespace AgentTwin.Tests
{
    /// <summary>
    /// Unity (left-handed, y up) ↔ server `world` (right-handed, z up, x forward): the axis
    /// table of the README and exact round trips.
    /// </summary>
    public class FrameConversionTests
    {
        private static void Near(Vector3 want, Vector3 got)
        {
            Assert.AreEqual(want.x, got.x, 1e-6f);
            Assert.AreEqual(want.y, got.y, 1e-6f);
            Assert.AreEqual(want.z, got.z, 1e-6f);
        }

        [Test]
        public void UnityForwardIsWorldX_UpIsZ_RightIsMinusY()
        {
            Near(new Vector3(1, 0, 0), FrameConversion.UnityToWorld(new Vector3(0, 0, 1)));
            Near(new Vector3(0, 0, 1), FrameConversion.UnityToWorld(new Vector3(0, 1, 0)));
            Near(new Vector3(0, -1, 0), FrameConversion.UnityToWorld(new Vector3(1, 0, 0)));
        }

        [Test]
        public void PositionsRoundTrip()
        {
            var v = new Vector3(0.3f, -1.25f, 2.5f);
            Near(v, FrameConversion.WorldToUnity(FrameConversion.UnityToWorld(v)));
            Near(v, FrameConversion.UnityToWorld(FrameConversion.WorldToUnity(v)));
        }

        [Test]
        public void RotationsRoundTrip()
        {
            Quaternion q = Quaternion.AngleAxis(37f, new Vector3(0.2f, 0.9f, -0.3f).normalized);
            Quaternion back = FrameConversion.WorldToUnity(FrameConversion.UnityToWorld(q));
            Assert.AreEqual(q.x, back.x, 1e-6f);
            Assert.AreEqual(q.y, back.y, 1e-6f);
            Assert.AreEqual(q.z, back.z, 1e-6f);
            Assert.AreEqual(q.w, back.w, 1e-6f);
        }
    }
}
