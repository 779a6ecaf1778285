using System;
using System.Text.RegularExpressions;
using Colyseus;

namespace AgentTwin
{
    /// <summary>Where the client's link to the server stands; shown to the user as is.</summary>
    public enum ConnectionState
    {
        /// <summary>Not started (<see cref="AgentTwinClient.Connect"/> not called yet).</summary>
        Idle,
        /// <summary>First join in progress.</summary>
        Connecting,
        /// <summary>In the room; messages flow.</summary>
        Connected,
        /// <summary>The link dropped (a transport failure); retrying with capped backoff.</summary>
        Reconnecting,
        /// <summary>Left on purpose (<see cref="AgentTwinClient.Disconnect"/>) or removed by the server.</summary>
        Disconnected,
        /// <summary>The server refused the token (HTTP 401/403 or the SDK's auth code). No retry.</summary>
        AuthFailed,
        /// <summary>The room does not exist (wrong name or id, or it was disposed). No retry.</summary>
        RoomNotFound,
        /// <summary>The room is full or locked. No retry: ask the operator for a seat, then Connect().</summary>
        RoomFull,
        /// <summary>
        /// The server speaks another protocol or schema than this build (e.g. a Colyseus 0.18
        /// server, or state classes not regenerated). No retry: update the app or the server.
        /// </summary>
        ProtocolMismatch,
    }

    /// <summary>What kind of failure an exception from a join / reconnect is.</summary>
    public enum FailureKind
    {
        /// <summary>Network, timeout, server restarting: worth retrying.</summary>
        Transport,
        Auth,
        RoomNotFound,
        RoomFull,
        ProtocolMismatch,
    }

    /// <summary>
    /// Sorts join failures into the ones a retry can fix (transport) and the ones it cannot
    /// (auth, missing or full room, protocol mismatch), from the exceptions the Colyseus Unity
    /// SDK 0.17 throws. Pure, so the CI checks run it without Unity.
    /// </summary>
    public static class ConnectionFailure
    {
        // Colyseus 0.17 server matchmaking error codes (@colyseus/shared-types ErrorCode); the
        // matchmaking route answers with them as the HTTP status and as `code` in the JSON body.
        public const int MatchmakeNoHandler = 520;
        public const int MatchmakeInvalidCriteria = 521;
        public const int MatchmakeInvalidRoomId = 522;
        public const int MatchmakeUnhandled = 523;
        public const int MatchmakeExpired = 524;
        public const int AuthFailed = 525;
        /// <summary>Colyseus 0.15/0.16 servers used 42xx for the same codes; still recognised.</summary>
        public const int LegacyMatchmakeNoHandler = 4210;
        public const int LegacyMatchmakeInvalidCriteria = 4211;
        public const int LegacyMatchmakeInvalidRoomId = 4212;
        public const int LegacyAuthFailed = 4215;

        private static readonly Regex BodyCode = new Regex("\"code\"\\s*:\\s*(\\d+)");

        /// <summary>Classifies <paramref name="e"/> (unwrapping AggregateException / inner exceptions).</summary>
        public static FailureKind Classify(Exception e)
        {
            while (e is AggregateException && e.InnerException != null) e = e.InnerException;
            if (e == null) return FailureKind.Transport;

            var http = e as HttpException;
            if (http != null)
            {
                // The body may carry a more precise code than the status (e.g. status 500 from
                // an older HTTP layer with {"code":522}); prefer it when present.
                int code = CodeFromBody(http.Message);
                FailureKind fromBody = code > 0 ? FromCode(code, e.Message) : FailureKind.Transport;
                return fromBody != FailureKind.Transport ? fromBody : FromCode(http.StatusCode, e.Message);
            }

            var mm = e as MatchMakeException;
            if (mm != null)
            {
                FailureKind k = FromCode(mm.Code, e.Message);
                if (k != FailureKind.Transport) return k;
                // The SDK reports a handshake it could not decode through OnError before the
                // join completes; with some versions the code is 0 and only the text tells.
                return LooksLikeProtocolMismatch(e.Message) ? FailureKind.ProtocolMismatch : FailureKind.Transport;
            }

            // Decoding exceptions thrown straight out of the handshake.
            if (e is InvalidCastException || e is OverflowException) return FailureKind.ProtocolMismatch;
            if (LooksLikeProtocolMismatch(e.Message)) return FailureKind.ProtocolMismatch;
            return e.InnerException != null ? Classify(e.InnerException) : FailureKind.Transport;
        }

        /// <summary>The state a failure of <paramref name="kind"/> leaves the client in.</summary>
        public static ConnectionState StateFor(FailureKind kind)
        {
            switch (kind)
            {
                case FailureKind.Auth: return ConnectionState.AuthFailed;
                case FailureKind.RoomNotFound: return ConnectionState.RoomNotFound;
                case FailureKind.RoomFull: return ConnectionState.RoomFull;
                case FailureKind.ProtocolMismatch: return ConnectionState.ProtocolMismatch;
                default: return ConnectionState.Reconnecting;
            }
        }

        /// <summary>
        /// Whether a failed resume (<c>Client.Reconnect</c>) of <paramref name="kind"/> only says
        /// the seat is gone (expired, its room closed or full): a fresh join may still succeed.
        /// Auth and protocol failures stay final; transport failures are retried.
        /// </summary>
        public static bool SeatLost(FailureKind kind)
        {
            return kind == FailureKind.RoomNotFound || kind == FailureKind.RoomFull;
        }

        /// <summary>A sentence for the headset's panel: what happened and what the user can do.</summary>
        public static string Describe(FailureKind kind, string detail)
        {
            string tail = string.IsNullOrEmpty(detail) ? "" : " (" + detail + ")";
            switch (kind)
            {
                case FailureKind.Auth: return "The server refused the token; get a new one and connect again" + tail;
                case FailureKind.RoomNotFound: return "No such room on the server; check the room name or id" + tail;
                case FailureKind.RoomFull: return "The room is full or locked, or you hold too many rooms" + tail;
                case FailureKind.ProtocolMismatch: return "This app and the server speak different protocol versions; update one of them" + tail;
                default: return "Connection lost; retrying" + tail;
            }
        }

        /// <summary>
        /// The table: what a code (HTTP status, matchmaking code in the body, or the SDK's
        /// <see cref="MatchMakeException.Code"/>) means. Unknown codes are transport failures.
        /// </summary>
        private static FailureKind FromCode(int code, string message)
        {
            // The SDK's own code for a handshake it could not decode (a static, not a constant).
            if (code == ErrorCode.SCHEMA_MISMATCH) return FailureKind.ProtocolMismatch;
            switch (code)
            {
                case 401:
                case 403:
                case AuthFailed:
                case LegacyAuthFailed:
                    return FailureKind.Auth;
                case 404:
                case MatchmakeNoHandler:
                case LegacyMatchmakeNoHandler:
                    return FailureKind.RoomNotFound;
                case MatchmakeInvalidRoomId:
                case LegacyMatchmakeInvalidRoomId:
                case MatchmakeInvalidCriteria:
                case LegacyMatchmakeInvalidCriteria:
                    // The server says "room is locked" / "already full" for a full room.
                    return LooksLikeFull(message) ? FailureKind.RoomFull : FailureKind.RoomNotFound;
                case 429:
                    // MAX_ROOMS_PER_USER: this user holds too many rooms; retrying cannot help
                    // until one closes. (503, the process's room cap or a matchmaking outage,
                    // stays a transport failure: it comes with Retry-After.)
                    return FailureKind.RoomFull;
                default:
                    return FailureKind.Transport;
            }
        }

        private static int CodeFromBody(string body)
        {
            if (string.IsNullOrEmpty(body)) return 0;
            Match m = BodyCode.Match(body);
            int code;
            return m.Success && int.TryParse(m.Groups[1].Value, out code) ? code : 0;
        }

        private static bool LooksLikeFull(string message)
        {
            if (string.IsNullOrEmpty(message)) return false;
            string m = message.ToLowerInvariant();
            return m.Contains("full") || m.Contains("locked") || m.Contains("maxclients");
        }

        private static bool LooksLikeProtocolMismatch(string message)
        {
            if (string.IsNullOrEmpty(message)) return false;
            string m = message.ToLowerInvariant();
            return m.Contains("schema mismatch") || m.Contains("definition mismatch") ||
                   m.Contains("too large or too small") || m.Contains("not a constructor") ||
                   m.Contains("serializer");
        }
    }
}

namespace AgentTwin
{
    /// <summary>Capped exponential backoff with jitter for transport retries. Pure, for tests.</summary>
    public static class Backoff
    {
        /// <summary>
        /// Delay before retry number <paramref name="attempt"/> (1-based), ms: the step doubles
        /// from <paramref name="minS"/> up to the cap <paramref name="maxS"/> (seconds), and
        /// jitter takes 50–100 % of it (<paramref name="unitRandom"/> in [0, 1)) so headsets that
        /// dropped together do not retry together. Never below <paramref name="minS"/>, never
        /// above <paramref name="maxS"/>.
        /// </summary>
        public static int DelayMs(int attempt, float minS, float maxS, double unitRandom)
        {
            double min = Math.Max(0.05, minS) * 1000.0;
            double max = Math.Max(min, maxS * 1000.0);
            double step = Math.Min(max, min * Math.Pow(2, Math.Min(Math.Max(attempt, 1) - 1, 16)));
            double jitter = 0.5 + 0.5 * Math.Min(Math.Max(unitRandom, 0.0), 1.0);
            return (int)Math.Min(max, Math.Max(min, step * jitter));
        }
    }
}
