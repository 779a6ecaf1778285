// COMPILE-ONLY STUBS of the Colyseus Unity SDK public API, for the CI compile check with mcs.
//
// Mirrors the public surface of io.colyseus.sdk 0.17.1 on the `upm` branch of
// github.com/colyseus/colyseus-unity-sdk (commit 4ce9225), which the released 0.17.2 (a patch
// release, the version package.json depends on) keeps unchanged. Sources read:
//   - Room.cs, ReconnectionOptions, ReconnectionToken, delegates: commit
//     4ce9225aa4e7c22efa823daf50001cf63d7166c2 (package.json "version": "0.17.1");
//   - Client.cs, MapSchema.cs: commit dc9ec3489ce94d84265f3e854257a206adaa253b (0.17.0),
//     unchanged in the members below at 4ce9225;
//   - ArraySchema.cs, Schema.cs (Type attribute), Utils/Exceptions.cs, HTTP.cs, CloseCode:
//     the stored versions of those files (same public members as 0.17.1).
// Written from the public signatures (names, parameter lists, events, enums); no SDK code is
// copied and bodies do only what a compile check or the mono checks need. Members are a
// subset of the real surface: everything here exists in the SDK with this signature, and
// nothing the SDK lacks is declared (ReconnectionOptions has no `Enabled` in 0.17.x).
// Not the SDK; never shipped (Unity's importer skips folders whose name ends in '~').
using System;
using System.Collections;
using System.Collections.Generic;
using System.Collections.Specialized;
using System.Threading.Tasks;

namespace Colyseus
{
    public delegate void NoArgsEventHandler();
    public delegate void CloseWithCodeEventHandler(int code);
    public delegate void ErrorEventHandler(int code, string message);

    /// <summary>WebSocket / room close codes (Protocol.cs).</summary>
    public enum CloseCode
    {
        NORMAL_CLOSURE = 1000,
        GOING_AWAY = 1001,
        NO_STATUS_RECEIVED = 1005,
        ABNORMAL_CLOSURE = 1006,
        CONSENTED = 4000,
        SERVER_SHUTDOWN = 4001,
        WITH_ERROR = 4002,
        FAILED_TO_RECONNECT = 4003,
        MAY_TRY_RECONNECT = 4010,
    }

    /// <summary>
    /// Client-side error codes. Room.cs (0.17.1) raises <c>OnError(ErrorCode.SCHEMA_MISMATCH, …)</c>
    /// when the join handshake cannot be decoded into the room's state type, which the matchmaker
    /// turns into <see cref="MatchMakeException"/>. The value is the one issue 10 observed
    /// (<c>MatchMakeException code=4300</c> on a handshake mismatch); the bridge compares with the
    /// symbol, never the number.
    /// </summary>
    public class ErrorCode
    {
        public static int SCHEMA_MISMATCH = 4300;
    }

    public interface IRoom
    {
        event CloseWithCodeEventHandler OnLeave;
        Task Connect();
        Task Leave(bool consented);
    }

    /// <summary>Thrown by Client when joining fails after the seat reservation (handshake, room error).</summary>
    public class MatchMakeException : Exception
    {
        public int Code;
        public MatchMakeException(int code, string message) : base(message) { Code = code; }
    }

    /// <summary>Thrown by HTTP (and so by every matchmaking call) on a non-2xx answer.</summary>
    public class HttpException : Exception
    {
        public int StatusCode;
        public HttpException(int statusCode, string message) : base(message) { StatusCode = statusCode; }
    }

    [Serializable]
    public class ReconnectionToken
    {
        public string RoomId;
        public string Token;
    }

    /// <summary>The SDK's own automatic reconnection (Room.Reconnection). Delays in ms.</summary>
    [Serializable]
    public class ReconnectionOptions
    {
        public int MaxRetries = 15;
        public int MinDelay = 100;
        public int MaxDelay = 5000;
        public int MinUptime = 5000;
        public int RetryCount = 0;
        public int Delay = 100;
        public bool IsReconnecting = false;
        public int MaxEnqueuedMessages = 10;
        public List<byte[]> EnqueuedMessages = new List<byte[]>();
        public Func<int, int, int> Backoff = ExponentialBackoff;

        public static int ExponentialBackoff(int attempt, int delay)
        {
            return (int)Math.Floor(Math.Pow(2, attempt) * delay);
        }
    }

    /// <summary>Server settings (a ScriptableObject in the SDK).</summary>
    public class Settings
    {
        public string colyseusServerAddress = "localhost";
        public string colyseusServerPort = "2567";
        public bool useSecureProtocol = false;
    }

    [Serializable]
    public class SeatReservation
    {
        public string name;
        public string roomId;
        public string processId;
        public string sessionId;
        public string reconnectionToken;
        public string publicAddress;
        public string protocol;
    }

    /// <summary>State type of rooms without a schema serializer.</summary>
    public class NoState : Schema.Schema { }

    public class Connection
    {
        public bool IsOpen;
        public Connection(string url, Dictionary<string, string> headers) { }
        public Task Connect() { return Task.FromResult(0); }
        public Task Send(byte[] data) { return Task.FromResult(0); }
        public Task Close() { IsOpen = false; return Task.FromResult(0); }
        public Task Reconnect(string reconnectionToken) { return Task.FromResult(0); }
    }

    public class HTTP
    {
        public string AuthToken;
        public HTTP(Settings settings) { }
        public Task<string> Get(string uriPath, Dictionary<string, string> headers = null) { return Unreachable<string>(); }
        public Task<T> Get<T>(string uriPath, Dictionary<string, string> headers = null) { return Unreachable<T>(); }
        public Task<string> Post(string uriPath, Dictionary<string, object> jsonBody = null, Dictionary<string, string> headers = null) { return Unreachable<string>(); }
        public Task<T> Post<T>(string uriPath, Dictionary<string, object> jsonBody = null, Dictionary<string, string> headers = null) { return Unreachable<T>(); }
        public Task<T> Request<T>(string uriMethod, string uriPath, Dictionary<string, object> jsonBody = null, Dictionary<string, string> headers = null) { return Unreachable<T>(); }
        public Task<string> Request(string uriMethod, string uriPath, Dictionary<string, object> jsonBody = null, Dictionary<string, string> headers = null) { return Unreachable<string>(); }

        // A stub has no server: calls fail like an unreachable host, so nothing pretends to succeed.
        private static Task<T> Unreachable<T>()
        {
            var tcs = new TaskCompletionSource<T>();
            tcs.SetException(new System.Net.WebException("compile-only stub: no server"));
            return tcs.Task;
        }
    }

    public class Auth
    {
        public Auth(Client client) { _client = client; }
        private readonly Client _client;
        public string Token
        {
            get { return _client.Http.AuthToken; }
            set { _client.Http.AuthToken = value; }
        }
    }

    public class Client
    {
        public Auth Auth;
        public HTTP Http;

        public Client(string endpoint)
        {
            Settings = new Settings();
            Auth = new Auth(this);
        }

        public Client(Settings settings)
        {
            Settings = settings;
            Auth = new Auth(this);
        }

        private Settings _settings;
        public Settings Settings
        {
            get { return _settings; }
            set { _settings = value; Http = new HTTP(value); }
        }

        public Task<Room<T>> JoinOrCreate<T>(string roomName, Dictionary<string, object> options = null, Dictionary<string, string> headers = null) where T : Schema.Schema { return Matchmake<T>(); }
        public Task<Room<T>> Create<T>(string roomName, Dictionary<string, object> options = null, Dictionary<string, string> headers = null) where T : Schema.Schema { return Matchmake<T>(); }
        public Task<Room<T>> Join<T>(string roomName, Dictionary<string, object> options = null, Dictionary<string, string> headers = null) where T : Schema.Schema { return Matchmake<T>(); }
        public Task<Room<T>> JoinById<T>(string roomId, Dictionary<string, object> options = null, Dictionary<string, string> headers = null) where T : Schema.Schema { return Matchmake<T>(); }
        public Task<Room<T>> Reconnect<T>(ReconnectionToken reconnectionToken, Dictionary<string, string> headers = null) where T : Schema.Schema { return Matchmake<T>(); }
        public Task<Room<T>> ConsumeSeatReservation<T>(SeatReservation response, Dictionary<string, string> headers = null) where T : Schema.Schema { return Matchmake<T>(); }

        private Task<Room<T>> Matchmake<T>() where T : Schema.Schema
        {
            var tcs = new TaskCompletionSource<Room<T>>();
            tcs.SetException(new System.Net.WebException("compile-only stub: no server"));
            return tcs.Task;
        }
    }

    public class Room<T> : IRoom where T : Schema.Schema
    {
        public delegate void StateChangeEventHandler(T state, bool isFirstState);

        public Connection Connection;
        public string RoomId;
        public string Name;
        public string SerializerId;
        public string SessionId;
        public ReconnectionToken ReconnectionToken;
        public ReconnectionOptions Reconnection = new ReconnectionOptions();

        public Room(string name) { Name = name; }

        public T State { get { return null; } }

        public event CloseWithCodeEventHandler OnLeave;
        public event CloseWithCodeEventHandler OnDrop;
        public event NoArgsEventHandler OnReconnect;
        public event ErrorEventHandler OnError;
        public event StateChangeEventHandler OnStateChange;

        public Task Connect() { return Task.FromResult(0); }

        public Task Leave(bool consented = true)
        {
            // Touch the events so mcs does not warn that they are never used.
            if (OnLeave != null) OnLeave((int)CloseCode.CONSENTED);
            if (OnDrop == null && OnReconnect == null && OnError == null && OnStateChange == null) { }
            return Task.FromResult(0);
        }

        public void SetConnection(Connection connection) { Connection = connection; }
        public void SetState(byte[] encodedState, int offset) { }
        public Task Send(byte type) { return Task.FromResult(0); }
        public Task Send(byte type, object message) { return Task.FromResult(0); }
        public Task Send(string type) { return Task.FromResult(0); }
        public Task Send(string type, object message) { return Task.FromResult(0); }
        public Task SendBytes(byte type, byte[] bytes) { return Task.FromResult(0); }
        public Task SendBytes(string type, byte[] bytes) { return Task.FromResult(0); }
        public void Ping(Action<int> callback) { }
        public void OnMessage<MessageType>(string type, Action<MessageType> handler) { }
        public void OnMessage<MessageType>(byte type, Action<MessageType> handler) { }
    }
}

namespace Colyseus.Schema
{
    /// <summary>Field attribute of generated schema classes; the decoder reads its public fields.</summary>
    [AttributeUsage(AttributeTargets.Field)]
    public class Type : Attribute
    {
        public string ChildPrimitiveType;
        public System.Type ChildType;
        public string FieldType;
        public int Index;

        public Type(int index, string type, System.Type childType = null, string childPrimitiveType = null)
        {
            Index = index;
            FieldType = type;
            ChildType = childType;
            ChildPrimitiveType = childPrimitiveType;
        }
    }

    /// <summary>Array operations the decoder passes to SetByIndex (subset).</summary>
    public enum OPERATION : byte
    {
        ADD = 128,
        REPLACE = 0,
        DELETE = 64,
    }

    public class Schema
    {
        public int __refId { get; set; }

        public object this[string propertyName]
        {
            get { return GetType().GetField(propertyName).GetValue(this); }
            set { GetType().GetField(propertyName).SetValue(this, value); }
        }
    }

    /// <summary>
    /// Behaves like the SDK's where the mono checks rely on it: <see cref="SetByIndex"/> casts
    /// the decoded (boxed) value to <typeparamref name="T"/>, so a generated
    /// <c>ArraySchema&lt;double&gt;</c> fed a decoded float32 throws InvalidCastException here
    /// exactly as in the SDK.
    /// </summary>
    public class ArraySchema<T>
    {
        public List<T> items;

        public ArraySchema() { items = new List<T>(); }
        public ArraySchema(List<T> items = null) { this.items = items ?? new List<T>(); }

        public T this[int index]
        {
            get { return items[index]; }
            set { items[index] = value; }
        }

        public int __refId { get; set; }
        public int Count { get { return items.Count; } }
        public string ChildPrimitiveType { get; set; }

        public void SetByIndex(int index, object value, byte operation)
        {
            for (int i = items.Count; i <= index; i++) items.Add(default(T));
            items[index] = (T)value;
        }

        public object GetByIndex(int index) { return index >= 0 && index < items.Count ? (object)items[index] : null; }
        public System.Type GetChildType() { return typeof(T); }
        public object GetTypeDefaultValue() { return default(T); }
        public IEnumerable GetItems() { return items; }
        public int IndexOf(T value) { return items.IndexOf(value); }
        public void ForEach(Action<int, T> action) { for (int i = 0; i < items.Count; i++) action(i, items[i]); }
    }

    public class MapSchema<T>
    {
        public OrderedDictionary items = new OrderedDictionary();

        public MapSchema() { }
        public MapSchema(OrderedDictionary items = null) { this.items = items ?? new OrderedDictionary(); }

        public T this[string key]
        {
            get { T v; TryGetValue(key, out v); return v; }
            set { items[key] = value; }
        }

        public ICollection Keys { get { return items.Keys; } }
        public ICollection Values { get { return items.Values; } }
        public int __refId { get; set; }
        public int Count { get { return items.Count; } }
        public string ChildPrimitiveType { get; set; }

        public void SetByIndex(int index, object dynamicIndex, object value) { items[dynamicIndex] = (T)value; }
        public System.Type GetChildType() { return typeof(T); }
        public object GetTypeDefaultValue() { return default(T); }
        public IEnumerable GetItems() { return items; }
        public bool ContainsKey(object key) { return items.Contains(key); }
        public void Add(string key, T value) { items.Add(key, value); }
        public bool Remove(string key) { bool had = items.Contains(key); if (had) items.Remove(key); return had; }

        public bool TryGetValue(string key, out T value)
        {
            if (items.Contains(key)) { value = (T)items[key]; return true; }
            value = default(T);
            return false;
        }

        public void ForEach(Action<string, T> action)
        {
            foreach (DictionaryEntry e in items) action((string)e.Key, (T)e.Value);
        }
    }
}
