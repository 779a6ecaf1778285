using System;
using AgentTwin.Schema;
using UnityEngine;
using UnityEngine.Video;

namespace AgentTwin
{
    /// <summary>
    /// Plays the 360° rendition the agents assigned to this headset and reports quality of
    /// experience.
    ///
    /// It follows <c>participants[mySessionId].stream.playlistUrl</c> (and <c>mp4Url</c>) in the <c>metaverse</c>
    /// room: when the agents change the rendition (or the scene's stream changes) the new
    /// rendition is opened at once. What is opened depends on the player
    /// (<see cref="StreamChoice"/>): a backend that plays HLS gets the playlist; Unity's
    /// VideoPlayer (no documented HLS, e.g. on PICO 4 / Android) gets the rendition's
    /// progressive MP4, and when the rendition changes it continues at the same media time.
    /// If the MP4 fails to open (an older stream without one) it falls back to the playlist. About once a second it sends <c>qoe</c>: buffer level,
    /// throughput, stalls since joining, the rendition playing and the viewing direction.
    ///
    /// Figures the player cannot measure are estimated and say so here: with Unity's
    /// VideoPlayer the buffer is reported as 0 while stalled or starting and
    /// <see cref="assumedBufferS"/> otherwise, and the throughput as the rendition's bitrate
    /// scaled by how much media time advanced per wall-clock second (a player that keeps up
    /// downloads at least the bitrate; one that stalls half the time, about half of it).
    /// A backend that knows better (AVPro) reports its own figures (<see cref="IVideoBackend"/>).
    /// A stall is counted when playback stops advancing for <see cref="stallThresholdS"/>.
    /// </summary>
    [AddComponentMenu("AgentTwin/Metaverse Video")]
    public class MetaverseVideo : MonoBehaviour
    {
        [Tooltip("Defaults to the AgentTwinClient in the scene (room = Metaverse).")]
        public AgentTwinClient client;
        [Tooltip("Unity's player (URL source; render it to a RenderTexture on a panoramic skybox). Used when no external backend is set.")]
        public VideoPlayer videoPlayer;
        [Tooltip("A MonoBehaviour implementing IVideoBackend (e.g. an AVPro adapter); overrides the VideoPlayer.")]
        public MonoBehaviour externalBackend;
        [Tooltip("The headset camera; its heading goes into qoe.viewport (optional).")]
        public Transform viewer;
        [Tooltip("Auto: HLS when the backend plays it, else the rendition's progressive MP4 (Unity's VideoPlayer).")]
        public StreamChoice.Format format = StreamChoice.Format.Auto;

        [Header("QoE")]
        [Range(0.25f, 5f)] public float qoeIntervalS = 1f;
        [Tooltip("Playback not advancing this long counts as a stall, s.")]
        [Range(0.1f, 3f)] public float stallThresholdS = 0.5f;
        [Tooltip("Buffer reported while playing smoothly when the backend cannot measure it, s.")]
        [Range(0f, 30f)] public float assumedBufferS = 2f;
        [Tooltip("Wait before reopening a stream that failed, s.")]
        [Range(0.5f, 30f)] public float retryAfterErrorS = 3f;

        /// <summary>Rendition playing now ("" when none).</summary>
        public string Rendition { get; private set; }
        /// <summary>Absolute URL of the assigned rendition's playlist ("" when none).</summary>
        public string PlaylistUrl { get; private set; }
        /// <summary>Absolute URL opened in the player: the playlist or its progressive MP4 ("" when none).</summary>
        public string OpenedUrl { get; private set; }
        /// <summary>Stalls since joining.</summary>
        public int Stalls { get; private set; }
        /// <summary>Whether playback is stalled now.</summary>
        public bool Stalled { get; private set; }

        private IVideoBackend _backend;
        private double _bitrateBps;
        private bool _started;          // media time has advanced since opening
        private double _lastMediaTime;
        private float _lastProgressAt;
        private float _nextQoeAt;
        private double _windowMediaS;
        private float _windowStartedAt;
        private float _errorAt = -1f;
        private string _openedRelative = "";
        private bool _mp4Failed;        // the MP4 of this rendition failed: use the playlist
        private string _mp4Url = "";    // absolute stream.mp4Url of the assigned rendition, or ""
        private AgentTwinClient _subscribed;

        protected virtual void OnEnable()
        {
            if (client == null) client = FindObjectOfType<AgentTwinClient>();
            if (viewer == null && Camera.main != null) viewer = Camera.main.transform;
            if (_backend == null) _backend = externalBackend as IVideoBackend;
            if (externalBackend != null && !(externalBackend is IVideoBackend))
            {
                Debug.LogError("[AgentTwin] " + externalBackend.GetType().Name + " does not implement IVideoBackend; using the VideoPlayer", this);
            }
            if (_backend == null)
            {
                // Created once: the backend subscribes to the player's events.
                if (videoPlayer == null) videoPlayer = GetComponent<VideoPlayer>();
                if (videoPlayer == null) videoPlayer = gameObject.AddComponent<VideoPlayer>();
                _backend = new UnityVideoPlayerBackend(videoPlayer);
            }
            if (client != null)
            {
                client.Joined += OnJoined;
                _subscribed = client;
            }
            Rendition = "";
            PlaylistUrl = "";
            OpenedUrl = "";
        }

        protected virtual void OnDisable()
        {
            // The client subscribed to, even if the field was reassigned since.
            if (_subscribed != null) _subscribed.Joined -= OnJoined;
            _subscribed = null;
            Close();
        }

        private void OnJoined(string sessionId)
        {
            // A fresh session starts its stall count afresh; a resumed one keeps playing.
            if (string.IsNullOrEmpty(PlaylistUrl)) Stalls = 0;
        }

        protected virtual void Update()
        {
            if (client == null || _backend == null) return;
            StreamState stream = MyStream();
            FollowAssignment(stream);
            TrackPlayback();
            if (Time.unscaledTime >= _nextQoeAt)
            {
                _nextQoeAt = Time.unscaledTime + qoeIntervalS;
                SendQoe();
            }
        }

        /// <summary>Asks the agents for a rendition (they grant it only when the link sustains it).</summary>
        public string RequestRendition(string rendition)
        {
            if (client == null || string.IsNullOrEmpty(rendition)) return null;
            return client.Send("requestRendition", TwinMessages.RequestRendition(rendition));
        }

        private StreamState MyStream()
        {
            MetaverseState state = client.MetaverseState;
            if (state == null || state.participants == null || string.IsNullOrEmpty(client.SessionId)) return null;
            ParticipantState me;
            return state.participants.TryGetValue(client.SessionId, out me) && me != null ? me.stream : null;
        }

        private void FollowAssignment(StreamState stream)
        {
            string relative = stream != null ? (stream.playlistUrl ?? "") : "";
            if (stream != null) _bitrateBps = stream.bitrateBps;
            if (relative != _openedRelative)
            {
                _openedRelative = relative;
                if (relative.Length == 0)
                {
                    Close();
                    return;
                }
                // Same clip, another rung: continue where the picture was (VOD timelines match).
                double resumeAt = _started ? _backend.MediaTimeS : 0;
                _mp4Failed = false;
                string mp4 = stream.mp4Url ?? "";
                _mp4Url = mp4.Length > 0 ? client.ResolveHttpUrl(mp4) : "";
                Open(client.ResolveHttpUrl(relative), stream.rendition ?? "", resumeAt);
                return;
            }
            if (_backend.LastError != null && PlaylistUrl.Length > 0)
            {
                if (_errorAt < 0f)
                {
                    _errorAt = Time.unscaledTime;
                    Debug.LogWarning("[AgentTwin] video error on " + OpenedUrl + ": " + _backend.LastError, this);
                    if (OpenedUrl != PlaylistUrl && !_mp4Failed)
                    {
                        // No MP4 for this rendition (an older stream): try the playlist at once.
                        _mp4Failed = true;
                        Open(PlaylistUrl, Rendition, 0);
                    }
                }
                else if (Time.unscaledTime - _errorAt >= retryAfterErrorS)
                {
                    Open(PlaylistUrl, Rendition, 0);
                }
            }
        }

        /// <summary>The URL to open for a playlist with this backend and <see cref="format"/>.</summary>
        public string UrlToOpen(string playlistUrl)
        {
            if (_mp4Failed) return playlistUrl;
            return StreamChoice.Choose(playlistUrl, _mp4Url, _backend != null && _backend.PlaysHls, format);
        }

        private void Open(string playlistUrl, string rendition, double startAtS)
        {
            string url = UrlToOpen(playlistUrl);
            Debug.Log("[AgentTwin] playing " + (rendition.Length > 0 ? rendition : "stream") + ": " + url, this);
            // The token rides along as access_token: media reads need it and VideoPlayer sends no headers.
            _backend.Open(AgentTwinClient.WithAccessToken(url, client.token), startAtS);
            PlaylistUrl = playlistUrl;
            OpenedUrl = url;
            Rendition = rendition;
            _errorAt = -1f;
            _started = false;
            Stalled = false;
            _lastMediaTime = 0;
            _lastProgressAt = Time.unscaledTime;
        }

        private void Close()
        {
            if (_backend != null && PlaylistUrl.Length > 0) _backend.Close();
            PlaylistUrl = "";
            OpenedUrl = "";
            Rendition = "";
            _openedRelative = "";
            _started = false;
            Stalled = false;
        }

        private void TrackPlayback()
        {
            float now = Time.unscaledTime;
            if (!_backend.IsPlaying || PlaylistUrl.Length == 0) return;
            double t = _backend.MediaTimeS;
            if (t > _lastMediaTime + 1e-4)
            {
                if (_started) _windowMediaS += t - _lastMediaTime;
                _started = true;
                Stalled = false;
                _lastProgressAt = now;
            }
            else if (_started && !Stalled && now - _lastProgressAt >= stallThresholdS)
            {
                Stalled = true;
                Stalls++;
            }
            _lastMediaTime = t;
        }

        private void SendQoe()
        {
            if (!client.IsOpen || client.room != RoomKind.Metaverse) return;
            float now = Time.unscaledTime;
            float wall = Mathf.Max(1e-3f, now - _windowStartedAt);
            bool smooth = _started && !Stalled;

            float buffer = _backend.BufferedAheadS;
            if (buffer < 0f) buffer = smooth ? assumedBufferS : 0f;
            double throughput = _backend.ThroughputBps;
            if (throughput < 0.0)
            {
                double pace = Math.Min(1.0, _windowMediaS / wall);
                throughput = _started ? _bitrateBps * pace : 0.0;
            }
            Quaternion? viewport = null;
            if (viewer != null) viewport = WorldFrame.ToWorld(viewer, client.worldAnchor).orientation;

            client.Send("qoe", TwinMessages.Qoe(buffer, throughput, Stalls, Rendition, viewport), false);
            _windowMediaS = 0;
            _windowStartedAt = now;
        }
    }
}
