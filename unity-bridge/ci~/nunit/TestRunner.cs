// Runs every [Test] method of the Tests/ assembly with mono (no Unity, no NUnit runner):
// prints "TEST PASS <name>" / "TEST FAIL <name>: <why>" and exits 1 on any failure.
// Used by test/unit/unity-bridge.test.ts. Not shipped (folder ends in '~').
using System;
using System.Linq;
using System.Reflection;

public static class TestRunner
{
    public static int Main()
    {
        int failed = 0, passed = 0;
        var types = Assembly.GetExecutingAssembly().GetTypes().Where(t => t.Namespace == "AgentTwin.Tests").OrderBy(t => t.FullName);
        foreach (Type type in types)
        {
            foreach (MethodInfo m in type.GetMethods().Where(m => m.GetCustomAttributes(typeof(NUnit.Framework.TestAttribute), false).Length > 0))
            {
                string name = type.Name + "." + m.Name;
                try
                {
                    m.Invoke(Activator.CreateInstance(type), null);
                    passed++;
                    Console.WriteLine("TEST PASS " + name);
                }
                catch (TargetInvocationException e)
                {
                    failed++;
                    Console.WriteLine("TEST FAIL " + name + ": " + e.InnerException.Message);
                }
            }
        }
        Console.WriteLine("tests passed: " + passed + ", failed: " + failed);
        return failed == 0 ? 0 : 1;
    }
}
