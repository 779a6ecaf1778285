using System;
using System.Threading.Tasks;
using AgentTwin;
using Colyseus;
using NUnit.Framework;

namespace AgentTwin.Tests
{
    /// <summary>
    /// Which join failures are final and which are retried. The exceptions are the ones the
    /// Colyseus Unity SDK 0.17 throws: HttpException for a refused matchmaking request (status =
    /// the server's code, body = {"code","error"}), MatchMakeException for a failed handshake.
    /// </summary>
    public class ConnectionFailureTests
    {
        [Test]
        public void RefusedTokenIsAuthAndNotRetried()
        {
            Assert.AreEqual(FailureKind.Auth, ConnectionFailure.Classify(new HttpException(401, "{\"code\":401,\"error\":\"invalid token\"}")));
            Assert.AreEqual(FailureKind.Auth, ConnectionFailure.Classify(new HttpException(403, "forbidden")));
            Assert.AreEqual(FailureKind.Auth, ConnectionFailure.Classify(new HttpException(525, "{\"code\":525,\"error\":\"onAuth failed\"}")));
            Assert.AreEqual(FailureKind.Auth, ConnectionFailure.Classify(new MatchMakeException(4215, "onAuth failed")));
            Assert.AreEqual(ConnectionState.AuthFailed, ConnectionFailure.StateFor(FailureKind.Auth));
        }

        [Test]
        public void MissingOrFullRoomIsFinal()
        {
            Assert.AreEqual(FailureKind.RoomNotFound, ConnectionFailure.Classify(new HttpException(520, "{\"code\":520,\"error\":\"provided room name \\\"x\\\" not defined\"}")));
            Assert.AreEqual(FailureKind.RoomNotFound, ConnectionFailure.Classify(new HttpException(522, "{\"code\":522,\"error\":\"room \\\"abc\\\" not found\"}")));
            Assert.AreEqual(FailureKind.RoomFull, ConnectionFailure.Classify(new HttpException(522, "{\"code\":522,\"error\":\"room \\\"abc\\\" is locked\"}")));
            Assert.AreEqual(FailureKind.RoomFull, ConnectionFailure.Classify(new HttpException(500, "{\"code\":521,\"error\":\"room is full\"}")));
            Assert.AreEqual(ConnectionState.RoomNotFound, ConnectionFailure.StateFor(FailureKind.RoomNotFound));
            Assert.AreEqual(ConnectionState.RoomFull, ConnectionFailure.StateFor(FailureKind.RoomFull));
            // On a resume they only mean the seat is gone: the client joins afresh.
            Assert.That(ConnectionFailure.SeatLost(FailureKind.RoomNotFound) && ConnectionFailure.SeatLost(FailureKind.RoomFull), "seat lost");
            Assert.That(!ConnectionFailure.SeatLost(FailureKind.Auth) && !ConnectionFailure.SeatLost(FailureKind.ProtocolMismatch), "auth and protocol stay final");
            Assert.That(!ConnectionFailure.SeatLost(FailureKind.Transport), "transport is retried");
        }

        [Test]
        public void HandshakeThatDoesNotDecodeIsProtocolMismatch()
        {
            Assert.AreEqual(FailureKind.ProtocolMismatch, ConnectionFailure.Classify(new MatchMakeException(ErrorCode.SCHEMA_MISMATCH, "Value was either too large or too small for an Int32.")));
            Assert.AreEqual(FailureKind.ProtocolMismatch, ConnectionFailure.Classify(new MatchMakeException(0, "@colyseus/schema: definition mismatch")));
            Assert.AreEqual(FailureKind.ProtocolMismatch, ConnectionFailure.Classify(new AggregateException(new InvalidCastException("float to double"))));
            Assert.AreEqual(ConnectionState.ProtocolMismatch, ConnectionFailure.StateFor(FailureKind.ProtocolMismatch));
        }

        [Test]
        public void TransportFailuresAreRetried()
        {
            Assert.AreEqual(FailureKind.Transport, ConnectionFailure.Classify(new System.Net.WebException("connection refused")));
            Assert.AreEqual(FailureKind.Transport, ConnectionFailure.Classify(new HttpException(0, "Cannot connect to destination host")));
            Assert.AreEqual(FailureKind.Transport, ConnectionFailure.Classify(new HttpException(502, "bad gateway")));
            Assert.AreEqual(FailureKind.Transport, ConnectionFailure.Classify(new MatchMakeException((int)CloseCode.ABNORMAL_CLOSURE, "Connection closed before joining room")));
            Assert.AreEqual(ConnectionState.Reconnecting, ConnectionFailure.StateFor(FailureKind.Transport));
        }

        [Test]
        public void AJoinWithoutAnswerTimesOutAsATransportFailure_ALateRoomIsHandedOver()
        {
            // The SDK's join task never completes when the socket closes before the handshake.
            var join = new TaskCompletionSource<string>();
            var late = new TaskCompletionSource<string>();
            Task<string> bounded = AgentTwinClient.WithinTimeout(join.Task, 20, room => late.TrySetResult(room));
            Exception failure = null;
            try { bounded.GetAwaiter().GetResult(); }
            catch (Exception e) { failure = e; }
            Assert.That(failure is TimeoutException, "timed out: " + failure);
            Assert.AreEqual(FailureKind.Transport, ConnectionFailure.Classify(failure));
            join.SetResult("room");
            Assert.That(late.Task.Wait(30000), "the late room is handed over (to be left)");
            Assert.AreEqual("room", late.Task.Result);
        }

        [Test]
        public void AJoinThatAnswersInTimeKeepsItsResultOrItsRefusal()
        {
            Assert.AreEqual("room", AgentTwinClient.WithinTimeout(Task.FromResult("room"), 60000, null).GetAwaiter().GetResult());
            var refused = new TaskCompletionSource<string>();
            refused.SetException(new HttpException(401, "invalid token"));
            Exception failure = null;
            try { AgentTwinClient.WithinTimeout(refused.Task, 60000, null).GetAwaiter().GetResult(); }
            catch (Exception e) { failure = e; }
            Assert.AreEqual(FailureKind.Auth, ConnectionFailure.Classify(failure));
        }

        [Test]
        public void BackoffDoublesUpToTheCapWithJitter()
        {
            // min 0.25 s, cap 8 s: steps 250, 500, 1000 … 8000 ms; jitter 50–100 % of the step.
            Assert.AreEqual(250, Backoff.DelayMs(1, 0.25f, 8f, 0.999999));
            Assert.AreEqual(500, Backoff.DelayMs(2, 0.25f, 8f, 0.999999), 1);
            Assert.AreEqual(4000, Backoff.DelayMs(20, 0.25f, 8f, 0.0));
            for (int attempt = 1; attempt < 40; attempt++)
            {
                for (double u = 0; u < 1; u += 0.125)
                {
                    int ms = Backoff.DelayMs(attempt, 0.25f, 8f, u);
                    Assert.That(ms >= 250 && ms <= 8000, "attempt " + attempt + ": " + ms + " ms");
                }
            }
        }
    }
}
