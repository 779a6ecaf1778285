using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using AgentTwin.Schema;
using Colyseus;
using UnityEngine;

namespace AgentTwin
{
    /// <summary>
    /// The headset's link to an AgentTwin server: joins the <c>digital_twin</c> or
    /// <c>metaverse</c> room with a token, exposes the room and its typed state, sends commands,
    /// raises <c>ack</c> / <c>error</c> / <c>notice</c> replies, and reconnects.
    ///
    /// Failures are sorted before anything is retried (<see cref="ConnectionFailure"/>): a
    /// refused token, a missing or full room and a protocol/schema mismatch end in a state of
    /// their own (<see cref="LinkState"/>, with <see cref="FailureReason"/> for the panel) and
    /// are never retried; only transport failures are. A join, resume or token request that
    /// gets no answer within <see cref="joinTimeoutS"/> is a transport failure too.
    ///
    /// Reconnection has two layers. A dropped socket is first resumed by the Colyseus SDK with
    /// the room's <c>ReconnectionToken</c> (exponential backoff from
    /// <see cref="reconnectMinDelayS"/> to <see cref="reconnectMaxDelayS"/>). If that gives up,
    /// or the drop came too soon after joining for the SDK to try, this component calls
    /// <c>Client.Reconnect(ReconnectionToken)</c> itself with the same backoff until
    /// <see cref="resumeWindowS"/> after the drop has passed (the server keeps a dropped seat for
    /// <c>RECONNECT_S</c>, default 20 s; once the SDK has spent the window, nothing is tried
    /// again) and then, if <see cref="rejoinWhenSeatLost"/>, joins afresh. Nothing is
    /// queued while the link is down: motion commands sent into a dead link are dropped, not
    /// replayed later (the same rule as the server's link to the robot cell).
    ///
    /// Lifecycle events and replies are raised on Unity's main thread. The state events
    /// (<see cref="TwinStatePatched"/>, <see cref="MetaverseStatePatched"/>) are raised right
    /// after each patch is applied, on the thread that decoded it: handlers copy what they keep.
    /// </summary>
    [DisallowMultipleComponent]
    [AddComponentMenu("AgentTwin/AgentTwin Client")]
    public class AgentTwinClient : MonoBehaviour
    {
        public const string DigitalTwinRoomName = "digital_twin";
        public const string MetaverseRoomName = "metaverse";

        [Header("Server")]
        [Tooltip("WebSocket endpoint of the server, e.g. ws://192.168.1.20:2567 (wss:// behind TLS).")]
        public string serverUrl = "ws://192.168.1.20:2567";
        [Tooltip("Which room to join.")]
        public RoomKind room = RoomKind.DigitalTwin;
        [Tooltip("Join this room id; empty = join (or create) any room of the kind.")]
        public string roomId = "";

        [Header("Token")]
        [Tooltip("JWT issued by the server's operator (role operator or observer).")]
        public string token = "";
        [Tooltip("Development servers only: with no token, ask POST /api/dev/token for one.")]
        public bool requestDevToken = false;
        public string devName = "pico-operator";
        [Tooltip("operator or observer")]
        public string devRole = "operator";

        [Header("Connection")]
        public bool connectOnStart = true;
        [Min(0.05f)] public float reconnectMinDelayS = 0.25f;
        [Min(0.1f)] public float reconnectMaxDelayS = 8f;
        [Tooltip("How long to try to resume the same seat; the server's RECONNECT_S.")]
        [Min(0f)] public float resumeWindowS = 20f;
        [Tooltip("Once the seat is lost, join afresh (a new session) and keep retrying.")]
        public bool rejoinWhenSeatLost = true;
        [Tooltip("Longest wait for one join, resume or dev-token request, s; then it is retried.")]
        [Min(1f)] public float joinTimeoutS = 15f;

        [Header("World")]
        [Tooltip("Transform standing for the server's world frame (the robot cell's origin); none = scene origin.")]
        public Transform worldAnchor;

        [Header("Diagnostics")]
        public bool logReplies = true;

        /// <summary>
        /// Raised when <see cref="LinkState"/> changes, with <see cref="FailureReason"/>
        /// (null unless the state is a failure or a retry) — main thread.
        /// </summary>
        public event Action<ConnectionState, string> LinkStateChanged;
        /// <summary>Raised after every join or resume, with the session id (main thread).</summary>
        public event Action<string> Joined;
        /// <summary>Raised for each <c>ack</c> (main thread).</summary>
        public event Action<AckMessage> AckReceived;
        /// <summary>Raised for each <c>error</c> reply (main thread).</summary>
        public event Action<ErrorMessage> ErrorReceived;
        /// <summary>Raised for each <c>notice</c> (main thread).</summary>
        public event Action<ErrorMessage> NoticeReceived;
        /// <summary>Raised after each twin patch, on the decoding thread (copy what you keep).</summary>
        public event Action<TwinState> TwinStatePatched;
        /// <summary>Raised after each metaverse patch, on the decoding thread (copy what you keep).</summary>
        public event Action<MetaverseState> MetaverseStatePatched;

        /// <summary>The Colyseus client (null before <see cref="Connect"/>).</summary>
        public Client Client { get; private set; }
        /// <summary>The joined <c>digital_twin</c> room, or null.</summary>
        public Room<TwinState> TwinRoom { get; private set; }
        /// <summary>The joined <c>metaverse</c> room, or null.</summary>
        public Room<MetaverseState> MetaverseRoom { get; private set; }
        /// <summary>Where the link stands; failures other than transport ones stay until Connect().</summary>
        public ConnectionState LinkState { get; private set; }
        /// <summary>This client's session id in the room (stable across resumes).</summary>
        public string SessionId { get; private set; }
        /// <summary>Why the last attempt failed, a sentence for display; null when connected.</summary>
        public string FailureReason { get; private set; }
        /// <summary>The kind of the last failure (meaningful when <see cref="FailureReason"/> is set).</summary>
        public FailureKind LastFailureKind { get; private set; }

        /// <summary>
        /// The twin state, or null when not in a <c>digital_twin</c> room. It stays readable
        /// (and stale) while the link is being resumed; check <see cref="LinkState"/>.
        /// </summary>
        public TwinState TwinState
        {
            get { return TwinRoom != null ? TwinRoom.State : null; }
        }

        /// <summary>The metaverse state, or null when not in a <c>metaverse</c> room.</summary>
        public MetaverseState MetaverseState
        {
            get { return MetaverseRoom != null ? MetaverseRoom.State : null; }
        }

        /// <summary>Whether messages can be sent now.</summary>
        public bool IsOpen
        {
            get
            {
                if (LinkState != ConnectionState.Connected) return false;
                if (TwinRoom != null) return TwinRoom.Connection != null && TwinRoom.Connection.IsOpen;
                if (MetaverseRoom != null) return MetaverseRoom.Connection != null && MetaverseRoom.Connection.IsOpen;
                return false;
            }
        }

        private readonly ConcurrentQueue<Action> _mainQueue = new ConcurrentQueue<Action>();
        private readonly System.Random _jitter = new System.Random();
        private int _mainThreadId;
        private int _generation;      // bumped by Connect/Disconnect: stale loops stop
        private bool _leaving;
        private ReconnectionToken _resumeToken;
        private DateTime? _droppedAtUtc;  // when the live link last dropped; null while connected
        private long _requestCounter;

        // ---------------------------------------------------------------------------------
        // Unity lifecycle

        protected virtual void Awake()
        {
            _mainThreadId = Thread.CurrentThread.ManagedThreadId;
        }

        protected virtual void Start()
        {
            if (connectOnStart) Connect();
        }

        protected virtual void Update()
        {
            Action action;
            int budget = 256; // a flood of replies never stalls a frame
            while (budget-- > 0 && _mainQueue.TryDequeue(out action))
            {
                try { action(); }
                catch (Exception e) { Debug.LogException(e, this); }
            }
        }

        protected virtual void OnDestroy()
        {
            Disconnect();
        }

        protected virtual void OnApplicationQuit()
        {
            Disconnect();
        }

        // ---------------------------------------------------------------------------------
        // Connect / disconnect

        /// <summary>Connects (or reconnects from scratch) with the current settings.</summary>
        public void Connect()
        {
            int generation = ++_generation;
            LeaveRooms();
            _leaving = false;
            _droppedAtUtc = null;
            Observe(JoinLoop(generation));
        }

        /// <summary>Leaves the room (consented: the server frees the seat at once).</summary>
        public void Disconnect()
        {
            _generation++;
            _leaving = true;
            LeaveRooms();
            if (LinkState != ConnectionState.Idle) SetState(ConnectionState.Disconnected, null);
        }

        /// <summary>Leaves whatever room is joined; its late events belong to an old generation.</summary>
        private void LeaveRooms()
        {
            _resumeToken = null;
            var twin = TwinRoom;
            var meta = MetaverseRoom;
            TwinRoom = null;
            MetaverseRoom = null;
            if (twin != null) Observe(twin.Leave(true));
            if (meta != null) Observe(meta.Leave(true));
        }

        private async Task JoinLoop(int generation)
        {
            SetState(ConnectionState.Connecting, null);
            int attempt = 0;
            while (generation == _generation)
            {
                try
                {
                    if (Client == null || attempt == 0) Client = new Client(serverUrl);
                    if (string.IsNullOrEmpty(token) && requestDevToken) token = await FetchDevToken(Client);
                    // Http.AuthToken is sent as `Authorization: Bearer` on matchmaking and as
                    // `_authToken` on the room socket; the server's onAuth reads either.
                    Client.Http.AuthToken = token;
                    await JoinOnce(generation);
                    return;
                }
                catch (Exception e)
                {
                    if (generation != _generation) return;
                    if (!Fail(e, "join")) return;
                    attempt++;
                    int delayMs = BackoffMs(attempt);
                    Debug.LogWarning("[AgentTwin] join failed (" + e.Message + "); retrying in " + delayMs + " ms", this);
                    await Task.Delay(delayMs);
                }
            }
        }

        /// <summary>
        /// Records a failed join / resume. Returns true when it is a transport failure worth
        /// retrying (state Reconnecting); false when it is final (auth, room, protocol), in
        /// which case the state says which and nothing is retried until <see cref="Connect"/>.
        /// </summary>
        private bool Fail(Exception e, string what)
        {
            FailureKind kind = ConnectionFailure.Classify(e);
            string reason = ConnectionFailure.Describe(kind, e.Message);
            LastFailureKind = kind;
            if (kind == FailureKind.Transport)
            {
                SetState(ConnectionState.Reconnecting, reason);
                return true;
            }
            Debug.LogError("[AgentTwin] " + what + " refused: " + reason, this);
            SetState(ConnectionFailure.StateFor(kind), reason);
            return false;
        }

        private async Task JoinOnce(int generation)
        {
            if (room == RoomKind.DigitalTwin)
            {
                Room<TwinState> r = await Bounded(string.IsNullOrEmpty(roomId)
                    ? Client.JoinOrCreate<TwinState>(DigitalTwinRoomName)
                    : Client.JoinById<TwinState>(roomId));
                Adopt(r, generation);
            }
            else
            {
                Room<MetaverseState> r = await Bounded(string.IsNullOrEmpty(roomId)
                    ? Client.JoinOrCreate<MetaverseState>(MetaverseRoomName)
                    : Client.JoinById<MetaverseState>(roomId));
                Adopt(r, generation);
            }
        }

        /// <summary>
        /// A join or resume bounded by <see cref="joinTimeoutS"/>: the SDK's join task never
        /// completes when the socket closes before the handshake. A room that arrives after the
        /// timeout is left, so it cannot take a seat beside the retry's.
        /// </summary>
        private Task<Room<T>> Bounded<T>(Task<Room<T>> join) where T : Colyseus.Schema.Schema
        {
            return WithinTimeout(join, JoinTimeoutMs, late => OnMain(() => Observe(late.Leave(true))));
        }

        private int JoinTimeoutMs
        {
            get { return Mathf.RoundToInt(Mathf.Max(1f, joinTimeoutS) * 1000f); }
        }

        /// <summary>
        /// <paramref name="task"/>'s result when it completes within <paramref name="timeoutMs"/>
        /// (its exception when it fails); else a <see cref="TimeoutException"/> (a transport
        /// failure, so it is retried), and a result that still arrives later is handed to
        /// <paramref name="onLate"/> (may be null), on a worker thread. Pure, for tests.
        /// </summary>
        public static async Task<T> WithinTimeout<T>(Task<T> task, int timeoutMs, Action<T> onLate)
        {
            using (var timer = new CancellationTokenSource())
            {
                if (await Task.WhenAny(task, Task.Delay(timeoutMs, timer.Token)) == task)
                {
                    timer.Cancel();
                    return await task;
                }
            }
            _ = task.ContinueWith(t =>
            {
                if (t.Status == TaskStatus.RanToCompletion) onLate?.Invoke(t.Result);
                else _ = t.Exception; // observed: a late failure has nobody to tell
            }, TaskScheduler.Default);
            throw new TimeoutException("no answer within " + timeoutMs + " ms");
        }

        /// <summary>
        /// Resumes the dropped seat with its token until <see cref="resumeWindowS"/> after
        /// <paramref name="droppedAtUtc"/> (what the SDK's own retries left of it); then, if
        /// allowed, joins afresh.
        /// </summary>
        private async Task ResumeLoop(int generation, ReconnectionToken resumeToken, DateTime droppedAtUtc)
        {
            SetState(ConnectionState.Reconnecting, FailureReason);
            DateTime deadline = droppedAtUtc.AddSeconds(resumeWindowS);
            int attempt = 0;
            while (generation == _generation && resumeToken != null && DateTime.UtcNow < deadline)
            {
                attempt++;
                await Task.Delay(BackoffMs(attempt));
                if (generation != _generation) return;
                try
                {
                    if (room == RoomKind.DigitalTwin) Adopt(await Bounded(Client.Reconnect<TwinState>(resumeToken)), generation);
                    else Adopt(await Bounded(Client.Reconnect<MetaverseState>(resumeToken)), generation);
                    return;
                }
                catch (Exception e)
                {
                    if (generation != _generation) return;
                    // An expired or unknown seat is not the end: the room may still be there,
                    // so fall through to a fresh join below. Auth and protocol failures are.
                    if (ConnectionFailure.SeatLost(ConnectionFailure.Classify(e))) break;
                    if (!Fail(e, "resume")) return;
                    Debug.LogWarning("[AgentTwin] resume attempt " + attempt + " failed: " + e.Message, this);
                }
            }
            if (generation != _generation) return;
            if (rejoinWhenSeatLost)
            {
                Debug.LogWarning("[AgentTwin] seat lost; joining afresh", this);
                await JoinLoop(generation);
            }
            else
            {
                SetState(ConnectionState.Disconnected, "The seat was lost and rejoining is off");
            }
        }

        private void Adopt(Room<TwinState> r, int generation)
        {
            if (!IsCurrent(r, generation)) return;
            TwinRoom = r;
            MetaverseRoom = null;
            r.OnStateChange += (state, first) => RaisePatched(TwinStatePatched, state);
            Wire(r, generation);
        }

        private void Adopt(Room<MetaverseState> r, int generation)
        {
            if (!IsCurrent(r, generation)) return;
            MetaverseRoom = r;
            TwinRoom = null;
            r.OnStateChange += (state, first) => RaisePatched(MetaverseStatePatched, state);
            Wire(r, generation);
        }

        /// <summary>False (and the room is left) when a newer join superseded this one.</summary>
        private bool IsCurrent<T>(Room<T> r, int generation) where T : Colyseus.Schema.Schema
        {
            if (generation == _generation) return true;
            Observe(r.Leave(true));
            return false;
        }

        /// <summary>What both rooms share: reconnection, lifecycle and the reply messages.</summary>
        private void Wire<T>(Room<T> r, int generation) where T : Colyseus.Schema.Schema
        {
            ConfigureReconnection(r.Reconnection);
            r.OnDrop += code => OnMain(() => HandleDrop(generation, code));
            r.OnReconnect += () => OnMain(() => HandleSdkResumed(generation, r.ReconnectionToken));
            r.OnLeave += code => OnMain(() => HandleLeave(generation, code, r.ReconnectionToken));
            r.OnError += (code, message) => OnMain(() => Debug.LogWarning("[AgentTwin] room error " + code + ": " + message, this));
            r.OnMessage<AckMessage>("ack", m => OnMain(() => RaiseAck(m)));
            r.OnMessage<ErrorMessage>("error", m => OnMain(() => RaiseError(m)));
            r.OnMessage<ErrorMessage>("notice", m => OnMain(() => RaiseNotice(m)));
            OnJoined(r.SessionId, r.ReconnectionToken);
        }

        private void OnJoined(string sessionId, ReconnectionToken resumeToken)
        {
            OnMain(() =>
            {
                SessionId = sessionId;
                _resumeToken = resumeToken;
                _droppedAtUtc = null;
                SetState(ConnectionState.Connected, null);
                Joined?.Invoke(sessionId);
            });
        }

        private void ConfigureReconnection(ReconnectionOptions options)
        {
            // The SDK resumes a dropped socket itself (there is no switch to turn that off in
            // 0.17); these settings only shape its backoff and its send buffer.
            if (options == null) return;
            options.MinDelay = Mathf.RoundToInt(reconnectMinDelayS * 1000f);
            options.MaxDelay = Mathf.RoundToInt(Mathf.Max(reconnectMinDelayS, reconnectMaxDelayS) * 1000f);
            options.Delay = options.MinDelay;
            // Enough tries to span the resume window at the longest delay, and at least a few.
            options.MaxRetries = Math.Max(3, Mathf.CeilToInt(resumeWindowS / Mathf.Max(0.1f, reconnectMaxDelayS)) + 4);
            // Never replay stale commands (a jog, a goal) after the link comes back.
            options.MaxEnqueuedMessages = 0;
            options.EnqueuedMessages.Clear();
        }

        private void HandleDrop(int generation, int code)
        {
            if (generation != _generation) return;
            Debug.LogWarning("[AgentTwin] link dropped (" + code + "); resuming", this);
            _droppedAtUtc = DateTime.UtcNow;
            LastFailureKind = FailureKind.Transport;
            SetState(ConnectionState.Reconnecting, ConnectionFailure.Describe(FailureKind.Transport, "close code " + code));
        }

        private void HandleSdkResumed(int generation, ReconnectionToken resumeToken)
        {
            if (generation != _generation) return;
            _resumeToken = resumeToken;
            _droppedAtUtc = null;
            SetState(ConnectionState.Connected, null);
            Joined?.Invoke(SessionId);
        }

        private void HandleLeave(int generation, int code, ReconnectionToken resumeToken)
        {
            if (generation != _generation || _leaving) return;
            TwinRoom = null;
            MetaverseRoom = null;
            if (code == (int)CloseCode.CONSENTED)
            {
                // The server removed us on purpose (kicked, room disposed): do not fight it.
                SetState(ConnectionState.Disconnected, "The server closed the session");
                return;
            }
            ReconnectionToken t = resumeToken ?? _resumeToken;
            bool seatKept = code != (int)CloseCode.SERVER_SHUTDOWN && t != null;
            Debug.LogWarning("[AgentTwin] left the room (" + code + ")" + (seatKept ? "; resuming the seat" : "; joining afresh"), this);
            // The window runs from the drop the SDK reported (its retries used part of it), or
            // from now when the socket closed without one.
            DateTime droppedAt = _droppedAtUtc ?? DateTime.UtcNow;
            if (seatKept) Observe(ResumeLoop(generation, t, droppedAt));
            else if (rejoinWhenSeatLost) Observe(JoinLoop(generation));
            else SetState(ConnectionState.Disconnected, "The link dropped and rejoining is off");
        }

        // ---------------------------------------------------------------------------------
        // Sending

        /// <summary>
        /// Sends <paramref name="body"/> as message <paramref name="type"/>. With
        /// <paramref name="withRequestId"/> a fresh <c>requestId</c> is added and returned, so
        /// the matching <c>ack</c> / <c>error</c> can be recognised.
        /// </summary>
        /// <returns>The request id (or "" without one); null when nothing was sent (link down).</returns>
        public string Send(string type, Dictionary<string, object> body, bool withRequestId = true)
        {
            if (body == null || !IsOpen) return null;
            string requestId = "";
            if (withRequestId)
            {
                requestId = "u" + Interlocked.Increment(ref _requestCounter);
                body["requestId"] = requestId;
            }
            try
            {
                if (TwinRoom != null) Observe(TwinRoom.Send(type, body));
                else if (MetaverseRoom != null) Observe(MetaverseRoom.Send(type, body));
                else return null;
            }
            catch (Exception e)
            {
                Debug.LogWarning("[AgentTwin] send " + type + " failed: " + e.Message, this);
                return null;
            }
            return requestId;
        }

        /// <summary>Sends an utterance for the agents (e.g. from a speech-to-text plugin).</summary>
        public string SendUtterance(string text)
        {
            return Send("utterance", TwinMessages.Utterance(text));
        }

        /// <summary>
        /// A URL the server gave relative to itself (a playlist, an asset) as an absolute
        /// http(s) URL: <c>ws://host:2567</c> + <c>/media/x.m3u8</c> → <c>http://host:2567/media/x.m3u8</c>.
        /// </summary>
        public string ResolveHttpUrl(string relativeOrAbsolute)
        {
            return ResolveHttpUrl(serverUrl, relativeOrAbsolute);
        }

        /// <summary>
        /// A media URL of this server (a playlist, an MP4) as a player fetches it: absolute, with
        /// the token as RFC 6750's <c>access_token</c> query parameter. The server needs the token
        /// on every <c>/media</c> read, and Unity's VideoPlayer cannot send an
        /// <c>Authorization</c> header; a player that can (an HLS plug-in, which also fetches
        /// segments the playlist names without the query) should send the header as well.
        /// </summary>
        public string AuthorizedMediaUrl(string relativeOrAbsolute)
        {
            return WithAccessToken(ResolveHttpUrl(relativeOrAbsolute), token);
        }

        /// <summary>
        /// <paramref name="url"/> with <c>access_token=&lt;token&gt;</c> added to its query (escaped);
        /// unchanged when either is empty or the URL already has one. Pure, for tests.
        /// </summary>
        public static string WithAccessToken(string url, string accessToken)
        {
            if (string.IsNullOrEmpty(url) || string.IsNullOrEmpty(accessToken)) return url ?? "";
            int hash = url.IndexOf('#');
            string fragment = hash >= 0 ? url.Substring(hash) : "";
            string head = hash >= 0 ? url.Substring(0, hash) : url;
            int q = head.IndexOf('?');
            if (q >= 0 && ("&" + head.Substring(q + 1)).Contains("&access_token=")) return url;
            string sep = q < 0 ? "?" : (head.EndsWith("?") || head.EndsWith("&") ? "" : "&");
            return head + sep + "access_token=" + Uri.EscapeDataString(accessToken) + fragment;
        }

        /// <summary>See <see cref="ResolveHttpUrl(string)"/>; pure, for tests.</summary>
        public static string ResolveHttpUrl(string server, string relativeOrAbsolute)
        {
            if (string.IsNullOrEmpty(relativeOrAbsolute)) return "";
            Uri absolute;
            if (Uri.TryCreate(relativeOrAbsolute, UriKind.Absolute, out absolute) &&
                (absolute.Scheme == "http" || absolute.Scheme == "https"))
            {
                return absolute.ToString();
            }
            var b = new UriBuilder(server);
            if (b.Scheme == "ws") b.Scheme = "http";
            else if (b.Scheme == "wss") b.Scheme = "https";
            if (!b.Path.EndsWith("/")) b.Path += "/";
            return new Uri(b.Uri, relativeOrAbsolute).ToString();
        }

        // ---------------------------------------------------------------------------------
        // Helpers

        private async Task<string> FetchDevToken(Client client)
        {
            var body = new Dictionary<string, object> { { "name", devName }, { "role", devRole } };
            DevTokenResponse response;
            try
            {
                response = await WithinTimeout(client.Http.Post<DevTokenResponse>("api/dev/token", body), JoinTimeoutMs, null);
            }
            catch (HttpException e) when (e.StatusCode == 404 || e.StatusCode == 400)
            {
                // Disabled on this server (AUTH_DEV_TOKENS) or a bad role: retrying will not help.
                throw new HttpException(403, "POST /api/dev/token: " + e.Message);
            }
            if (response == null || string.IsNullOrEmpty(response.token))
            {
                throw new Exception("POST /api/dev/token returned no token (are development tokens enabled?)");
            }
            Debug.Log("[AgentTwin] development token for " + devName + " (" + response.role + ")", this);
            return response.token;
        }

        /// <summary>Capped exponential backoff with jitter, ms (see <see cref="Backoff"/>).</summary>
        private int BackoffMs(int attempt)
        {
            double unit;
            lock (_jitter) unit = _jitter.NextDouble();
            return Backoff.DelayMs(attempt, reconnectMinDelayS, reconnectMaxDelayS, unit);
        }

        private void SetState(ConnectionState state, string reason)
        {
            if (!IsMainThread())
            {
                OnMain(() => SetState(state, reason));
                return;
            }
            if (LinkState == state && FailureReason == reason) return;
            LinkState = state;
            FailureReason = reason;
            LinkStateChanged?.Invoke(state, reason);
        }

        /// <summary>Raises a state event on the decoding thread; a handler's exception is logged, not thrown into the SDK.</summary>
        private void RaisePatched<T>(Action<T> handler, T state) where T : class
        {
            if (handler == null || state == null) return;
            try { handler(state); }
            catch (Exception e) { Debug.LogException(e, this); }
        }

        private void RaiseAck(AckMessage m)
        {
            if (m == null) return;
            if (logReplies && !string.IsNullOrEmpty(m.summary)) Debug.Log("[AgentTwin] " + m.type + ": " + m.summary, this);
            AckReceived?.Invoke(m);
        }

        private void RaiseError(ErrorMessage m)
        {
            if (m == null) return;
            if (logReplies) Debug.LogWarning("[AgentTwin] refused " + m.type + " (" + m.code + "): " + m.message, this);
            ErrorReceived?.Invoke(m);
        }

        private void RaiseNotice(ErrorMessage m)
        {
            if (m == null) return;
            if (logReplies) Debug.LogWarning("[AgentTwin] notice (" + m.code + "): " + m.message, this);
            NoticeReceived?.Invoke(m);
        }

        private bool IsMainThread()
        {
            return _mainThreadId == 0 || Thread.CurrentThread.ManagedThreadId == _mainThreadId;
        }

        /// <summary>Runs <paramref name="action"/> on the main thread (now, if already on it).</summary>
        private void OnMain(Action action)
        {
            if (IsMainThread()) action();
            else _mainQueue.Enqueue(action);
        }

        /// <summary>Logs a background task's failure instead of losing it.</summary>
        private void Observe(Task task)
        {
            if (task == null) return;
            task.ContinueWith(t =>
            {
                Exception e = t.Exception != null ? t.Exception.GetBaseException() : null;
                if (e != null) OnMain(() => Debug.LogWarning("[AgentTwin] " + e.Message, this));
            }, TaskContinuationOptions.OnlyOnFaulted);
        }
    }
}
