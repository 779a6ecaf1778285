using System;
using UnityEngine;
using UnityEngine.Video;

namespace AgentTwin
{
    /// <summary>
    /// A video player <see cref="MetaverseVideo"/> can drive. Implement it on a MonoBehaviour
    /// to plug in another player (e.g. AVPro Video, which plays HLS with adaptive buffering and
    /// reports buffer and bandwidth) without this package depending on it.
    /// </summary>
    public interface IVideoBackend
    {
        /// <summary>Starts playing <paramref name="url"/> (an HLS playlist), replacing what plays.</summary>
        void Open(string url);
        /// <summary>Stops and releases the stream.</summary>
        void Close();
        /// <summary>Whether playback has been started and not closed (stalled counts as playing).</summary>
        bool IsPlaying { get; }
        /// <summary>Playback position, s.</summary>
        double MediaTimeS { get; }
        /// <summary>Seconds buffered ahead of the playback position, or negative when unknown.</summary>
        float BufferedAheadS { get; }
        /// <summary>Measured download throughput, bit/s, or negative when unknown.</summary>
        double ThroughputBps { get; }
        /// <summary>The last playback error, or null.</summary>
        string LastError { get; }
    }

    /// <summary>
    /// <see cref="IVideoBackend"/> over Unity's <see cref="VideoPlayer"/> (URL source).
    ///
    /// Caveat: Unity documents no HLS support for VideoPlayer. On Android (PICO 4) it hands
    /// the URL to the platform's media stack, which in practice opens many HLS playlists, but
    /// without control over rendition switching and without buffer or bandwidth figures (both
    /// are reported unknown here); in the Editor on Windows and macOS HLS usually fails to
    /// open. For production, implement <see cref="IVideoBackend"/> over AVPro Video
    /// (RenderHeads) — see the package README.
    /// </summary>
    public sealed class UnityVideoPlayerBackend : IVideoBackend
    {
        private readonly VideoPlayer _player;
        private bool _open;
        private string _error;

        public UnityVideoPlayerBackend(VideoPlayer player)
        {
            _player = player;
            _player.playOnAwake = false;
            _player.isLooping = false;
            _player.skipOnDrop = true;
            _player.prepareCompleted += OnPrepared;
            _player.errorReceived += OnError;
        }

        public void Open(string url)
        {
            _error = null;
            _player.Stop();
            _player.source = VideoSource.Url;
            _player.url = url;
            _player.Prepare();
            _open = true;
        }

        public void Close()
        {
            _open = false;
            _player.Stop();
        }

        public bool IsPlaying { get { return _open; } }
        public double MediaTimeS { get { return _player.time; } }
        public float BufferedAheadS { get { return -1f; } }
        public double ThroughputBps { get { return -1.0; } }
        public string LastError { get { return _error; } }

        private void OnPrepared(VideoPlayer source)
        {
            if (_open) source.Play();
        }

        private void OnError(VideoPlayer source, string message)
        {
            _error = message;
        }
    }
}
