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
        /// <summary>
        /// Whether it plays HLS playlists (<c>.m3u8</c>). False: <see cref="MetaverseVideo"/>
        /// gives it the rendition's progressive MP4 instead (<see cref="StreamChoice"/>).
        /// </summary>
        bool PlaysHls { get; }
        /// <summary>
        /// Starts playing <paramref name="url"/> (an HLS playlist or an MP4), replacing what
        /// plays, from <paramref name="startAtS"/> seconds (0 = the start; used when a VOD
        /// rendition changes, so the picture continues where it was).
        /// </summary>
        void Open(string url, double startAtS);
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
    /// Unity documents VideoPlayer as reading "a file or HTTP URL" decoded with the platform's
    /// native libraries, recommends H.264 in MP4, and documents no HLS on any platform; so this
    /// backend says <see cref="PlaysHls"/> = false and is given the rendition's progressive
    /// MP4 (H.264, faststart; the server writes one per VOD rendition), which it plays over
    /// HTTP on Android (PICO 4) and in the Editor. It cannot measure buffer or bandwidth (both
    /// are reported unknown). Live streams have no MP4: for them, and for adaptive HLS, plug in
    /// an HLS-capable player (e.g. AVPro Video) — see the package README.
    /// </summary>
    public sealed class UnityVideoPlayerBackend : IVideoBackend
    {
        private readonly VideoPlayer _player;
        private bool _open;
        private string _error;
        private double _startAtS;

        public UnityVideoPlayerBackend(VideoPlayer player)
        {
            _player = player;
            _player.playOnAwake = false;
            _player.isLooping = false;
            _player.skipOnDrop = true;
            _player.prepareCompleted += OnPrepared;
            _player.errorReceived += OnError;
        }

        public bool PlaysHls { get { return false; } }

        public void Open(string url, double startAtS)
        {
            _error = null;
            _startAtS = startAtS > 0 ? startAtS : 0;
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
            if (!_open) return;
            // A progressive MP4 seeks with HTTP Range requests; a stream that cannot seek starts at 0.
            if (_startAtS > 0 && source.canSetTime) source.time = _startAtS;
            source.Play();
        }

        private void OnError(VideoPlayer source, string message)
        {
            _error = message;
        }
    }

    /// <summary>
    /// Which URL a player is given for a rendition: the HLS playlist the room assigns
    /// (<c>stream.playlistUrl</c>), or the same rendition as a progressive MP4
    /// (<c>stream.mp4Url</c>; for servers that do not fill it in, derived from the playlist:
    /// the server writes that MP4 beside every VOD rendition's playlist
    /// (<c>/media/video/&lt;stream&gt;/&lt;rung&gt;/index.m3u8</c> →
    /// <c>…/&lt;rung&gt;/progressive.mp4</c>, <c>server/media/video/progressive.ts</c>); live
    /// streams (<c>/media/live/…</c>) have none.
    /// </summary>
    public static class StreamChoice
    {
        /// <summary>What <see cref="MetaverseVideo"/> should open.</summary>
        public enum Format
        {
            /// <summary>HLS when the backend plays it, else the progressive MP4 when there is one.</summary>
            Auto,
            /// <summary>Always the HLS playlist.</summary>
            Hls,
            /// <summary>The progressive MP4 when there is one (else HLS).</summary>
            Progressive,
        }

        /// <summary>File name of a rendition's progressive MP4 on the server.</summary>
        public const string ProgressiveFile = "progressive.mp4";

        /// <summary>
        /// The progressive MP4 of a VOD rendition's media playlist URL (relative or absolute;
        /// a query is kept), or "" when the URL is not one (live, a master playlist, empty).
        /// </summary>
        public static string ProgressiveUrlFor(string playlistUrl)
        {
            if (string.IsNullOrEmpty(playlistUrl)) return "";
            int q = playlistUrl.IndexOf('?');
            string path = q >= 0 ? playlistUrl.Substring(0, q) : playlistUrl;
            string query = q >= 0 ? playlistUrl.Substring(q) : "";
            string[] parts = path.Split('/');
            int n = parts.Length;
            // …/media/video/<stream>/<rung>/index.m3u8
            if (n < 5 || parts[n - 1] != "index.m3u8" || parts[n - 4] != "video" || parts[n - 5] != "media") return "";
            if (parts[n - 2].Length == 0 || parts[n - 3].Length == 0) return "";
            return path.Substring(0, path.Length - "index.m3u8".Length) + ProgressiveFile + query;
        }

        /// <summary>
        /// The URL to open for <paramref name="playlistUrl"/>: the playlist itself when the
        /// backend plays HLS (and the preference allows), else its progressive MP4 if it has one,
        /// else the playlist (which such a backend may fail to play; its error is reported).
        /// </summary>
        public static string Choose(string playlistUrl, bool backendPlaysHls, Format preference)
        {
            return Choose(playlistUrl, null, backendPlaysHls, preference);
        }

        /// <summary>
        /// As <see cref="Choose(string, bool, Format)"/>, with the MP4 the room names for the
        /// rendition (<c>stream.mp4Url</c>); when that is empty, the one derived from the playlist.
        /// </summary>
        public static string Choose(string playlistUrl, string mp4Url, bool backendPlaysHls, Format preference)
        {
            if (string.IsNullOrEmpty(playlistUrl)) return "";
            string mp4 = string.IsNullOrEmpty(mp4Url) ? ProgressiveUrlFor(playlistUrl) : mp4Url;
            bool wantMp4 = preference == Format.Progressive || (preference == Format.Auto && !backendPlaysHls);
            return wantMp4 && mp4.Length > 0 ? mp4 : playlistUrl;
        }
    }
}
