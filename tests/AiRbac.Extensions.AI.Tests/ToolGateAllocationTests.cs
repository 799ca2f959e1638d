using AiRbac.IntegrationTests;
using Xunit.Abstractions;

namespace AiRbac.Extensions.AI.Tests;

/// <summary>
/// A tool call without arguments and without a host context takes the version 1 path: the gate passes no
/// <see cref="RequestContext"/> and the decision allocates nothing (docs/design.md, "Allocation-free hot path"). A call
/// with arguments builds one context per call (reported, not asserted).
/// </summary>
public sealed class ToolGateAllocationTests(ITestOutputHelper output)
{
    [Fact]
    public void CallWithoutArgumentsOrHostContext_AllocatesNothing()
    {
        var gate = new AiRbacToolGate(AgentPolicyV2.Authorizer());
        var context = new AiRbacChatContext(AgentPolicyV2.Bot);
        var none = new Dictionary<string, object?>();
        for (int i = 0; i < 100; i++)
        {
            gate.Authorize(context, "report_weekly", none, "c1");
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1_000; i++)
        {
            gate.Authorize(context, "report_weekly", none, "c1");
        }

        (GC.GetAllocatedBytesForCurrentThread() - before).Should().Be(0);
    }

    [Fact]
    public void CallWithArguments_AllocatesItsContext_Reported()
    {
        var gate = new AiRbacToolGate(AgentPolicyV2.Authorizer());
        var context = new AiRbacChatContext(AgentPolicyV2.Bot);
        var arguments = new Dictionary<string, object?> { ["table"] = "sales_2026", ["limit"] = 10L };
        for (int i = 0; i < 100; i++)
        {
            gate.Authorize(context, "sql_query", arguments, "c1").Allowed.Should().BeTrue();
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1_000; i++)
        {
            gate.Authorize(context, "sql_query", arguments, "c1");
        }

        long perCall = (GC.GetAllocatedBytesForCurrentThread() - before) / 1_000;
        output.WriteLine($"bytes per call with two arguments: {perCall}");
        perCall.Should().BeGreaterThan(0, "a call with arguments builds its RequestContext");
    }
}
