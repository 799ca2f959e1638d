using System.Text.Json;
using AiRbac.IntegrationTests;
using Microsoft.Extensions.AI;

namespace AiRbac.Extensions.AI.Tests;

/// <summary>
/// Tool-call arguments as request context (docs/integrations.md, "Tool-call arguments as context"), in the recommended
/// pipeline <c>.UseAiRbac().UseFunctionInvocation()</c>. The policy (<see cref="AgentPolicyV2"/>) lets sql_query touch
/// only tables matching <c>sales_*</c> (a condition on <c>arg.table</c>) and wire_money run only with the host's
/// <c>mfa=true</c>. The attacker writes the arguments (prompt injection); the host writes the context.
/// </summary>
public sealed class ToolCallContextTests
{
    private readonly Tools tools = new();

    public static TheoryData<bool> Streaming() => new() { false, true };

    [Theory]
    [MemberData(nameof(Streaming))]
    public async Task SqlTool_OnATableTheConditionAllows_Runs(bool streaming)
    {
        // The operator's test.
        var (ran, _) = await Call("sql_query", Args(("table", "sales_2026")), streaming);

        ran.Should().Equal("sql_query");
    }

    [Theory]
    [MemberData(nameof(Streaming))]
    public async Task SqlTool_OnAnotherTable_NeverRuns_AndTheModelIsToldWhy(bool streaming)
    {
        // The attacker's test: an injected prompt makes the model read the salaries table.
        var (ran, result) = await Call("sql_query", Args(("table", "hr_salaries")), streaming);

        ran.Should().BeEmpty();
        result.Should().Be("Tool 'sql_query' was not run: access denied (condition_failed).");
    }

    [Fact]
    public async Task ConditionalTool_IsOfferedToTheModel_ThoughItsConditionReadsAnArgument()
    {
        var model = new ScriptedChatClient("gpt-4o", _ => ScriptedChatClient.Text("hi"));
        await Client(model).GetResponseAsync("hi", Options(new AiRbacChatContext(AgentPolicyV2.Alice), "sql_query", "wire_money", "report_weekly"));

        // wire_money's condition reads the host's mfa, which this context lacks: not offered.
        model.ToolNamesSeen().Should().Equal("sql_query", "report_weekly");
    }

    [Fact]
    public void ConditionalTool_IsOffered_ToAnAgentActingForAUser()
    {
        var gate = new AiRbacToolGate(AgentPolicyV2.Authorizer());
        var decision = gate.Authorize(new AiRbacChatContext(AgentPolicyV2.Bot), "sql_query");

        decision.ReasonName.Should().BeOneOf("condition_failed", "delegation_denied");
        decision.Condition.Should().StartWith("arg.table");
        gate.Offers(new AiRbacChatContext(AgentPolicyV2.Bot), "sql_query").Should().BeTrue();
        gate.Offers(new AiRbacChatContext(AgentPolicyV2.Bot), "wire_money").Should().BeFalse("its condition reads the host's mfa");
    }

    [Theory]
    [MemberData(nameof(Streaming))]
    public async Task ArgumentNamedLikeAHostAttribute_CannotSatisfyItsCondition(bool streaming)
    {
        // The host says mfa=false; the injected call passes mfa=true as an argument. It is arg.mfa, never mfa.
        var context = new AiRbacChatContext(AgentPolicyV2.Alice) { RequestContext = new RequestContext { Attributes = [new ContextAttribute("mfa", false)] } };
        var (ran, result) = await Call("wire_money", Args(("mfa", true), ("amount", 1_000_000)), streaming, context);

        ran.Should().BeEmpty();
        result.Should().Be("Error: Requested function \"wire_money\" not found.", "the tool was not even offered without mfa");
        new AiRbacToolGate(AgentPolicyV2.Authorizer()).Authorize(context, "wire_money", Args(("mfa", true)), "c1").ReasonName.Should().Be("condition_failed");
    }

    [Fact]
    public async Task HostAttribute_WithMfa_LetsTheConditionalToolRun()
    {
        var context = new AiRbacChatContext(AgentPolicyV2.Alice) { RequestContext = new RequestContext { Attributes = [new ContextAttribute("mfa", true)] } };
        var (ran, _) = await Call("wire_money", Args(("amount", 10)), streaming: false, context);

        ran.Should().Equal("wire_money");
    }

    [Fact]
    public async Task ArgumentWithTheKeyOfAHostPair_NeverReplacesIt_TheCallIsInvalid()
    {
        // A host that sets arg.table itself: the argument does not overwrite it, and two values for a declared key are
        // invalid_request (the argument cannot win, whatever order it comes in).
        var context = new AiRbacChatContext(AgentPolicyV2.Alice) { RequestContext = new RequestContext { Attributes = [new ContextAttribute("arg.table", "sales_2026")] } };
        var (ran, result) = await Call("sql_query", Args(("table", "hr_salaries")), streaming: false, context);

        ran.Should().BeEmpty();
        result.Should().Contain("invalid_request");
    }

    public static TheoryData<string> Unmappable() => new()
    {
        """{"table":{"name":"sales_2026"}}""",          // nested object
        """{"table":["sales_2026","hr_salaries"]}""",  // array
        """{"table":12}""",                             // a number for a string key
        """{"table":"\ud800sales"}""",                  // a lone surrogate
        "{\"table\":\"sales_" + new string('x', 4_100) + "\"}", // over 4,096 characters
    };

    [Theory]
    [MemberData(nameof(Unmappable))]
    public async Task ArgumentThatMapsToNoContextValue_ForADeclaredKey_IsInvalidRequest_NeverAnException(string json)
    {
        var (ran, result) = await Call("sql_query", Parse(json), streaming: false);

        ran.Should().BeEmpty();
        result.Should().MatchRegex("invalid_request|condition_failed");
    }

    [Fact]
    public async Task ArgumentThatMapsToNoContextValue_ForAKeyNoPolicyReads_IsIgnored()
    {
        var (ran, _) = await Call("sql_query", Parse("""{"table":"sales_2026","options":{"limit":[1,2]},"ratio":0.5,"bad name!":{}}"""), streaming: false);

        ran.Should().Equal("sql_query");
    }

    [Fact]
    public async Task TooManyArguments_AreInvalidRequest()
    {
        var arguments = Args(("table", "sales_2026"));
        for (int i = 0; i < 70; i++)
        {
            arguments["a" + i] = i;
        }

        var (ran, result) = await Call("sql_query", arguments, streaming: false);

        ran.Should().BeEmpty();
        result.Should().Contain("invalid_request");
    }

    [Fact]
    public void Gate_MapsJsonAndClrValues_ToTypedPairs()
    {
        var gate = new AiRbacToolGate(AgentPolicyV2.Authorizer());
        var alice = new AiRbacChatContext(AgentPolicyV2.Alice);

        gate.Authorize(alice, "sql_query", Parse("""{"table":"sales_1"}"""), "c").Allowed.Should().BeTrue();
        gate.Authorize(alice, "sql_query", Args(("table", "sales_1")), "c").Allowed.Should().BeTrue();
        gate.Authorize(alice, "sql_query", Args(("table", null)), "c").ReasonName.Should().Be("condition_failed", "a null is an argument not given");
        gate.Authorize(alice, "sql_query", Args(("table", true)), "c").ReasonName.Should().Be("invalid_request", "a bool for a string key");
        gate.Authorize(alice, "sql_query", null, null).ReasonName.Should().Be("condition_failed");
    }

    private async Task<(List<string> Ran, string? Result)> Call(string tool, Dictionary<string, object?> arguments, bool streaming, AiRbacChatContext? context = null)
    {
        var model = new ScriptedChatClient(
            "gpt-4o",
            _ => new ChatResponse(new ChatMessage(ChatRole.Assistant, [new FunctionCallContent("c1", tool, arguments)])),
            _ => ScriptedChatClient.Text("done"));
        var client = Client(model);
        var options = Options(context ?? new AiRbacChatContext(AgentPolicyV2.Alice), tool);
        if (streaming)
        {
            await foreach (var update in client.GetStreamingResponseAsync("go", options))
            {
                _ = update;
            }
        }
        else
        {
            await client.GetResponseAsync("go", options);
        }

        var result = model.Requests.Count > 1
            ? model.Requests[1].Messages.SelectMany(m => m.Contents).OfType<FunctionResultContent>().Single().Result?.ToString()
            : null;
        return (tools.Ran, result);
    }

    private static IChatClient Client(IChatClient model) => model.AsBuilder().UseAiRbac(AgentPolicyV2.Authorizer()).UseFunctionInvocation().Build();

    private ChatOptions Options(AiRbacChatContext context, params string[] toolNames)
        => new ChatOptions { Tools = [.. toolNames.Select(tools.Make)] }.WithAiRbac(context);

    private static Dictionary<string, object?> Args(params (string Name, object? Value)[] arguments)
        => arguments.ToDictionary(a => a.Name, a => a.Value);

    private static Dictionary<string, object?> Parse(string json)
        => JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(json)!.ToDictionary(p => p.Key, p => (object?)p.Value);
}
