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
        /// <summary>Each of <paramref name="errors"/> is classified as <paramref name="want"/>.</summary>
        private static void Classified(FailureKind want, params Exception[] errors)
        {
            foreach (Exception e in errors)
            {
                FailureKind got = ConnectionFailure.Classify(e);
                Assert.That(got == want, e.GetType().Name + " \"" + e.Message + "\": expected " + want + " but was " + got);
            }
        }

        [Test]
        public void RefusedTokenIsAuthAndNotRetried()
        {
            Classified(FailureKind.Auth,
                new HttpException(401, "{\"code\":401,\"error\":\"invalid token\"}"),
                new HttpException(403, "forbidden"),
                new HttpException(525, "{\"code\":525,\"error\":\"onAuth failed\"}"),
                new MatchMakeException(4215, "onAuth failed"));
            Assert.AreEqual(ConnectionState.AuthFailed, ConnectionFailure.StateFor(FailureKind.Auth));
        }

        [Test]
        public void MissingOrFullRoomIsFinal()
        {
            Classified(FailureKind.RoomNotFound,
                new HttpException(520, "{\"code\":520,\"error\":\"provided room name \\\"x\\\" not defined\"}"),
                new HttpException(522, "{\"code\":522,\"error\":\"room \\\"abc\\\" not found\"}"));
            Classified(FailureKind.RoomFull,
                new HttpException(522, "{\"code\":522,\"error\":\"room \\\"abc\\\" is locked\"}"),
                new HttpException(500, "{\"code\":521,\"error\":\"room is full\"}"));
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
            Classified(FailureKind.ProtocolMismatch,
                new MatchMakeException(ErrorCode.SCHEMA_MISMATCH, "Value was either too large or too small for an Int32."),
                new MatchMakeException(0, "@colyseus/schema: definition mismatch"),
                new AggregateException(new InvalidCastException("float to double")));
            Assert.AreEqual(ConnectionState.ProtocolMismatch, ConnectionFailure.StateFor(FailureKind.ProtocolMismatch));
        }

        [Test]
        public void TransportFailuresAreRetried()
        {
            Classified(FailureKind.Transport,
                new System.Net.WebException("connection refused"),
                new HttpException(0, "Cannot connect to destination host"),
                new HttpException(502, "bad gateway"),
                new MatchMakeException((int)CloseCode.ABNORMAL_CLOSURE, "Connection closed before joining room"));
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
