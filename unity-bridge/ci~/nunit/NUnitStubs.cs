// COMPILE-ONLY STUBS of the few NUnit members the EditMode tests in Tests/ use (Unity's Test
// Framework ships the real NUnit 3). Asserts throw AssertionException so ci~/nunit/TestRunner.cs
// can run the tests' pure logic with mono. Not shipped (folder ends in '~').
using System;

namespace NUnit.Framework
{
    [AttributeUsage(AttributeTargets.Method)]
    public sealed class TestAttribute : Attribute { }

    public sealed class AssertionException : Exception
    {
        public AssertionException(string message) : base(message) { }
    }

    public static class Assert
    {
        public static void AreEqual(object expected, object actual)
        {
            if (!Equals(expected, actual)) throw new AssertionException("expected " + expected + " but was " + actual);
        }

        public static void AreEqual(double expected, double actual, double delta)
        {
            if (Math.Abs(expected - actual) > delta) throw new AssertionException("expected " + expected + " ± " + delta + " but was " + actual);
        }

        public static void IsNotNull(object value)
        {
            if (value == null) throw new AssertionException("expected a value but was null");
        }

        public static void That(bool condition, string message)
        {
            if (!condition) throw new AssertionException(message);
        }
    }
}
