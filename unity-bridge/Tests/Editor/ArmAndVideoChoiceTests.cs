using AgentTwin;
using NUnit.Framework;
using UnityEngine;

namespace AgentTwin.Tests
{
    /// <summary>
    /// The stand-in arm's chain (<see cref="ArmModel"/>: the Panda's zero pose puts the flange at
    /// x 0.088 m, z 0.926 m and the tool point 0.1034 m below it) and which URL a video backend
    /// is given (<see cref="StreamChoice"/>: the progressive MP4 for a player without HLS).
    /// </summary>
    public class ArmAndVideoChoiceTests
    {
        private static void Near(Vector3 want, Vector3 got, float tol)
        {
            Assert.AreEqual(want.x, got.x, tol);
            Assert.AreEqual(want.y, got.y, tol);
            Assert.AreEqual(want.z, got.z, tol);
        }

        [Test]
        public void PandaZeroPose_FlangeAndToolPoint()
        {
            ArmJoint[] chain = ArmModel.Panda();
            Near(new Vector3(0.088f, 0f, 0.926f), ArmModel.Forward(chain, new float[7], 0f).position, 1e-4f);
            Near(new Vector3(0.088f, 0f, 0.8226f), ArmModel.Forward(chain, new float[7], ArmModel.PandaTcpOffsetM).position, 1e-4f);
        }

        [Test]
        public void PandaJoint1TurnsTheArmAboutWorldZ()
        {
            var q = new float[] { 1.5707963f, 0f, 0f, 0f, 0f, 0f, 0f };
            Near(new Vector3(0f, 0.088f, 0.8226f), ArmModel.Forward(ArmModel.Panda(), q, ArmModel.PandaTcpOffsetM).position, 1e-4f);
        }

        [Test]
        public void PandaJoint4BendsTheElbow()
        {
            // The Panda's usual ready pose: joint4 = -pi/2 brings the tool forward and down.
            var q = new float[] { 0f, 0f, 0f, -1.5707963f, 0f, 0f, 0f };
            WorldPose tcp = ArmModel.Forward(ArmModel.Panda(), q, ArmModel.PandaTcpOffsetM);
            Assert.That(tcp.position.x > 0.2f, "tool forward of the base: " + tcp.position.x);
            Assert.That(tcp.position.z < 0.8f, "tool lower than at zero: " + tcp.position.z);
        }

        [Test]
        public void RpyIsFixedAxesXyz()
        {
            Quaternion roll = ArmModel.RpyToQuaternion(new Vector3(1.5707963f, 0f, 0f));
            Near(new Vector3(0f, 0f, 1f), FrameConversion.Rotate(roll, new Vector3(0f, 1f, 0f)), 1e-6f);
            // yaw after roll: R = Rz·Rx, so x stays along z-rotated x.
            Quaternion q = ArmModel.RpyToQuaternion(new Vector3(1.5707963f, 0f, 1.5707963f));
            Near(new Vector3(0f, 1f, 0f), FrameConversion.Rotate(q, new Vector3(1f, 0f, 0f)), 1e-6f);
            Near(new Vector3(0f, 0f, 1f), FrameConversion.Rotate(q, new Vector3(0f, 1f, 0f)), 1e-6f);
        }

        [Test]
        public void ProgressiveUrlOfAVodRendition()
        {
            Assert.AreEqual("/media/video/abc_1/4k/progressive.mp4", StreamChoice.ProgressiveUrlFor("/media/video/abc_1/4k/index.m3u8"));
            Assert.AreEqual("http://h:2567/media/video/s/low/progressive.mp4?t=1",
                StreamChoice.ProgressiveUrlFor("http://h:2567/media/video/s/low/index.m3u8?t=1"));
            Assert.AreEqual("/api/media/video/s/hd/progressive.mp4", StreamChoice.ProgressiveUrlFor("/api/media/video/s/hd/index.m3u8"));
        }

        [Test]
        public void NoProgressiveUrlForLiveOrMasterPlaylists()
        {
            Assert.AreEqual("", StreamChoice.ProgressiveUrlFor("/media/live/s/low/index.m3u8"));
            Assert.AreEqual("", StreamChoice.ProgressiveUrlFor("/media/video/s/master.m3u8"));
            Assert.AreEqual("", StreamChoice.ProgressiveUrlFor(""));
            Assert.AreEqual("", StreamChoice.ProgressiveUrlFor(null));
        }

        [Test]
        public void VideoPlayerGetsTheMp4_HlsPlayerGetsThePlaylist()
        {
            const string vod = "/media/video/s/hd/index.m3u8";
            const string live = "/media/live/s/hd/index.m3u8";
            Assert.AreEqual("/media/video/s/hd/progressive.mp4", StreamChoice.Choose(vod, false, StreamChoice.Format.Auto));
            Assert.AreEqual(vod, StreamChoice.Choose(vod, true, StreamChoice.Format.Auto));
            Assert.AreEqual(vod, StreamChoice.Choose(vod, false, StreamChoice.Format.Hls));
            Assert.AreEqual("/media/video/s/hd/progressive.mp4", StreamChoice.Choose(vod, true, StreamChoice.Format.Progressive));
            // Live has no MP4: the playlist, whatever the player.
            Assert.AreEqual(live, StreamChoice.Choose(live, false, StreamChoice.Format.Auto));
            Assert.AreEqual("", StreamChoice.Choose("", false, StreamChoice.Format.Auto));
        }

        [Test]
        public void TheRoomsMp4UrlWinsOverTheDerivedOne()
        {
            const string vod = "/media/video/s/hd/index.m3u8";
            Assert.AreEqual("/x/hd.mp4", StreamChoice.Choose(vod, "/x/hd.mp4", false, StreamChoice.Format.Auto));
            Assert.AreEqual("/media/video/s/hd/progressive.mp4", StreamChoice.Choose(vod, "", false, StreamChoice.Format.Auto));
            Assert.AreEqual(vod, StreamChoice.Choose(vod, "/x/hd.mp4", true, StreamChoice.Format.Auto));
        }

        [Test]
        public void MediaUrlsCarryTheTokenAsAccessToken()
        {
            Assert.AreEqual("http://h:2567/media/video/s/hd/progressive.mp4?access_token=a.b.c",
                AgentTwinClient.WithAccessToken("http://h:2567/media/video/s/hd/progressive.mp4", "a.b.c"));
            Assert.AreEqual("http://h/x.mp4?t=1&access_token=a%2Bb%3D", AgentTwinClient.WithAccessToken("http://h/x.mp4?t=1", "a+b="));
            Assert.AreEqual("http://h/x.mp4?access_token=old", AgentTwinClient.WithAccessToken("http://h/x.mp4?access_token=old", "new"));
            Assert.AreEqual("http://h/x.mp4", AgentTwinClient.WithAccessToken("http://h/x.mp4", ""));
            Assert.AreEqual("", AgentTwinClient.WithAccessToken(null, "t"));
            Assert.AreEqual("http://h:2567/media/video/s/hd/index.m3u8?access_token=t",
                AgentTwinClient.WithAccessToken(AgentTwinClient.ResolveHttpUrl("ws://h:2567", "/media/video/s/hd/index.m3u8"), "t"));
        }

        [Test]
        public void UnityVideoPlayerDoesNotClaimHls()
        {
            var backend = new UnityVideoPlayerBackend(new UnityEngine.Video.VideoPlayer());
            Assert.AreEqual(false, backend.PlaysHls);
        }
    }
}
