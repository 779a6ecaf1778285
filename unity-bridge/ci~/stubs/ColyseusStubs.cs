// COMPILE-ONLY STUBS of the Colyseus Unity SDK (io.colyseus.sdk 0.18) API that
// AgentTwin.Runtime and the generated schema classes use, for the CI compile check with mcs.
// Names and signatures follow the SDK's Runtime/Colyseus sources (Client.cs, Room.cs,
// Auth.cs, HTTP.cs, Connection.cs, Protocol.cs, Serializer/Schema/*); bodies do nothing.
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

    public class MatchMakeException : Exception
    {
        public int Code;
        public MatchMakeException(int code, string message) : base(message) { Code = code; }
    }

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

    [Serializable]
    public class ReconnectionOptions
    {
        public bool Enabled = true;
        public int MaxRetries = 15;
        public int MinDelay = 100;
        public int MaxDelay = 5000;
        public int MinUptime = 5000;
        public int Delay = 100;
        public int MaxEnqueuedMessages = 10;
        public List<byte[]> EnqueuedMessages = new List<byte[]>();
    }

    public class Connection
    {
        public bool IsOpen;
    }

    public class HTTP
    {
        public string AuthToken;
        public Task<T> Post<T>(string uriPath, Dictionary<string, object> jsonBody = null, Dictionary<string, string> headers = null)
        {
            return Task.FromResult(default(T));
        }
    }

    public class Auth
    {
        public string Token { get; set; }
    }

    public class Client
    {
        public Auth Auth = new Auth();
        public HTTP Http = new HTTP();

        public Client(string endpoint) { }

        public Task<Room<T>> JoinOrCreate<T>(string roomName, Dictionary<string, object> options = null, Dictionary<string, string> headers = null) where T : Schema.Schema
        {
            return Task.FromResult(new Room<T>(roomName));
        }

        public Task<Room<T>> JoinById<T>(string roomId, Dictionary<string, object> options = null, Dictionary<string, string> headers = null) where T : Schema.Schema
        {
            return Task.FromResult(new Room<T>(roomId));
        }

        public Task<Room<T>> Reconnect<T>(ReconnectionToken reconnectionToken, Dictionary<string, string> headers = null) where T : Schema.Schema
        {
            return Task.FromResult(new Room<T>(reconnectionToken.RoomId));
        }
    }

    public class Room<T> where T : Schema.Schema
    {
        public delegate void StateChangeEventHandler(T state, bool isFirstState);

        public Connection Connection = new Connection();
        public string RoomId;
        public string Name;
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

        public Task Leave(bool consented = true)
        {
            if (OnLeave != null || OnDrop != null || OnReconnect != null || OnError != null || OnStateChange != null) { }
            return Task.FromResult(0);
        }

        public Task Send(string type, object message) { return Task.FromResult(0); }

        public void OnMessage<MessageType>(string type, Action<MessageType> handler) { }
    }
}

namespace Colyseus.Schema
{
    [AttributeUsage(AttributeTargets.Field)]
    public class Type : Attribute
    {
        public Type(int index, string type, System.Type childType = null, string childPrimitiveType = null) { }
    }

    public class Schema { }

    public class ArraySchema<T>
    {
        public List<T> items = new List<T>();
        public T this[int index] { get { return items[index]; } set { items[index] = value; } }
        public int Count { get { return items.Count; } }
    }

    public class MapSchema<T>
    {
        public OrderedDictionary items = new OrderedDictionary();
        public T this[string key] { get { T v; TryGetValue(key, out v); return v; } set { items[key] = value; } }
        public ICollection Keys { get { return items.Keys; } }
        public ICollection Values { get { return items.Values; } }
        public int Count { get { return items.Count; } }
        public bool ContainsKey(object key) { return items.Contains(key); }
        public bool TryGetValue(string key, out T value)
        {
            if (items.Contains(key)) { value = (T)items[key]; return true; }
            value = default(T);
            return false;
        }
    }
}
