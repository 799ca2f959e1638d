using AiRbac.Extensions.AI;
using AiRbac.IntegrationTests;
using Microsoft.Agents.AI;
using Microsoft.Extensions.AI;

namespace AiRbac.Agents.AI.Tests;

/// <summary>
/// Tool-call arguments as context and approvals in the Agent Framework (docs/integrations.md, "Tool-call arguments as
/// context" and "Tool-call approvals"): the same shared gate as an IChatClient pipeline. sql_query may touch sales_*
/// tables only; deploy_model needs a release-manager's approval, which only the host's approval store can attest.
/// </summary>
public sealed class AgentToolContextTests
{
    private readonly Tools tools = new();
    private readonly AgentPolicyV2.ApprovalStore store = new();

    public static TheoryData<bool> Streaming() => new() { false, true };

    [Theory]
    [MemberData(nameof(Streaming))]
    public async Task SqlTool_RunsOnASalesTable_AndNeverOnAnother(bool streaming)
    {
        var model = new ScriptedModel(
            _ => Call("c1", "sql_query", ("table", "sales_2026")),
            _ => Call("c2", "sql_query", ("table", "hr_salaries")),
            _ => ScriptedModel.Text("done"));
        var agent = Agent(model, "sql_query");

        await Run(agent, [new(ChatRole.User, "sales figures")], null, streaming);

        tools.Ran.Should().Equal("sql_query");
        model.ResultsSeen(2)["c2"].Should().Be("Tool 'sql_query' was not run: access denied (condition_failed).");
    }

    [Theory]
    [MemberData(nameof(Streaming))]
    public async Task CallNeedingApproval_IsAnApprovalRequest_AndRunsOnlyWithTheHostsApproval(bool streaming)
    {
        var model = new ScriptedModel(_ => Call("c1", "deploy_model", ("model", "prod-eu")), _ => ScriptedModel.Text("deployed"));
        var agent = Agent(model, "deploy_model");
        var session = await agent.CreateSessionAsync();

        var first = await Run(agent, [new(ChatRole.User, "deploy prod-eu")], session, streaming);
        var request = first.SelectMany(m => m.Contents).OfType<ToolApprovalRequestContent>().Should().ContainSingle().Subject;
        request.AdditionalProperties!["airbac.approval_rule"].Should().Be("prod-deploy");
        tools.Ran.Should().BeEmpty();

        // The attacker's turn: approving without the host's store attesting anything does not run it.
        await Run(agent, [new(ChatRole.User, [request.CreateResponse(approved: true)])], session, streaming);
        tools.Ran.Should().BeEmpty();
        store.Asked.Should().Contain("deploy_model");
    }

    [Fact]
    public async Task RealApproval_FromTheHostsStore_RunsTheCallOnce()
    {
        var model = new ScriptedModel(_ => Call("c1", "deploy_model", ("model", "prod-eu")), _ => ScriptedModel.Text("deployed"), _ => ScriptedModel.Text("ok"));
        var agent = Agent(model, "deploy_model");
        var session = await agent.CreateSessionAsync();
        var first = await Run(agent, [new(ChatRole.User, "deploy prod-eu")], session, streaming: false);
        var request = first.SelectMany(m => m.Contents).OfType<ToolApprovalRequestContent>().Single();
        store.Approve("c1", (string)request.AdditionalProperties!["airbac.fingerprint"]!, new Approval("rita", "prod-deploy", DateTimeOffset.UtcNow.AddMinutes(-5)));

        await Run(agent, [new(ChatRole.User, [request.CreateResponse(approved: true)])], session, streaming: false);
        await Run(agent, [new(ChatRole.User, "thanks")], session, streaming: false);

        tools.Ran.Should().Equal("deploy_model");
    }

    private static ChatResponse Call(string callId, string name, params (string Name, object? Value)[] arguments)
        => new(new ChatMessage(ChatRole.Assistant, [new FunctionCallContent(callId, name, arguments.ToDictionary(a => a.Name, a => a.Value))]));

    private AIAgent Agent(ScriptedModel model, params string[] toolNames)
        => new ChatClientAgent(model, tools: [.. toolNames.Select(tools.Make)]).AsBuilder().UseAiRbac(AgentPolicyV2.Authorizer()).Build();

    private async Task<List<ChatMessage>> Run(AIAgent agent, List<ChatMessage> messages, AgentSession? session, bool streaming)
    {
        var options = new ChatClientAgentRunOptions().WithAiRbac(new AiRbacChatContext(AgentPolicyV2.Bot) { ApprovalProvider = store.For });
        if (!streaming)
        {
            return [.. (await agent.RunAsync(messages, session, options)).Messages];
        }

        List<AgentResponseUpdate> updates = [];
        await foreach (var update in agent.RunStreamingAsync(messages, session, options))
        {
            updates.Add(update);
        }

        return [.. updates.ToAgentResponse().Messages];
    }
}
