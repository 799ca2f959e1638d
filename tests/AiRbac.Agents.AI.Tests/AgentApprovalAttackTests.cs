using System.Text.Json;
using AiRbac.Extensions.AI;
using AiRbac.IntegrationTests;
using Microsoft.Agents.AI;
using Microsoft.Extensions.AI;

namespace AiRbac.Agents.AI.Tests;

/// <summary>
/// Red-team tests of tool-call arguments and approvals in the Agent Framework (docs/integrations.md, "Tool-call
/// approvals"): tools in the invoker's <see cref="FunctionInvokingChatClient.AdditionalTools"/>, and an approval response
/// the client posts again (as JSON, so new objects) in the same session or a new one.
/// </summary>
public sealed class AgentApprovalAttackTests
{
    private readonly Tools tools = new();
    private readonly AgentPolicyV2.ApprovalStore store = new();

    [Fact]
    public async Task ToolsInAdditionalTools_AreDecidedWithTheirArguments_AndNeedTheHostsApproval()
    {
        var model = new ScriptedModel(
            _ => new ChatResponse(new ChatMessage(ChatRole.Assistant, [
                new FunctionCallContent("c1", "sql_query", new Dictionary<string, object?> { ["table"] = "hr_salaries" }),
                new FunctionCallContent("c2", "deploy_model", new Dictionary<string, object?> { ["model"] = "prod-eu" }),
            ])),
            _ => ScriptedModel.Text("ok"),
            _ => ScriptedModel.Text("ok"));
        IChatClient client = model.AsBuilder()
            .UseFunctionInvocation(configure: f => f.AdditionalTools = [tools.Make("sql_query"), tools.Make("deploy_model")])
            .Build();
        var agent = new ChatClientAgent(client, tools: [tools.Make("report_weekly")]).AsBuilder().UseAiRbac(AgentPolicyV2.Authorizer()).Build();

        var messages = await Run(agent, [new(ChatRole.User, "go")], session: null);

        tools.Ran.Should().BeEmpty();
        var results = messages.SelectMany(m => m.Contents).OfType<FunctionResultContent>().ToDictionary(r => r.CallId, r => r.Result?.ToString());
        results["c1"].Should().Be("Tool 'sql_query' was not run: access denied (condition_failed).");
        results["c2"].Should().Be("Tool 'deploy_model' was not run: approval required by rule 'prod-deploy' (approval_required).");
        store.Asked.Should().Equal("deploy_model");
    }

    [Fact]
    public async Task ApprovedCall_ApprovalPostedAgainAsJson_InANewSession_DoesNotRunAgain()
    {
        var model = new ScriptedModel(
            _ => new ChatResponse(new ChatMessage(ChatRole.Assistant, [new FunctionCallContent("c1", "deploy_model", new Dictionary<string, object?> { ["model"] = "prod-eu" })])),
            _ => ScriptedModel.Text("deployed"),
            _ => ScriptedModel.Text("again"),
            _ => ScriptedModel.Text("again"),
            _ => ScriptedModel.Text("again"));
        var agent = new ChatClientAgent(model, tools: [tools.Make("deploy_model")]).AsBuilder().UseAiRbac(AgentPolicyV2.Authorizer()).Build();
        var session = await agent.CreateSessionAsync();
        var first = await Run(agent, [new(ChatRole.User, "deploy prod-eu")], session);
        var request = first.SelectMany(m => m.Contents).OfType<ToolApprovalRequestContent>().Single();
        store.Approve("c1", (string)request.AdditionalProperties!["airbac.fingerprint"]!, new Approval("rita", "prod-deploy", DateTimeOffset.UtcNow.AddMinutes(-5)));
        List<ChatMessage> approval = [new(ChatRole.User, [request.CreateResponse(approved: true)])];
        string posted = JsonSerializer.Serialize(approval, AIJsonUtilities.DefaultOptions);

        await Run(agent, approval, session);
        tools.Ran.Should().Equal("deploy_model");

        // The framework's approval binding may refuse a response it did not ask for in that session (it throws): either
        // way, nothing runs again.
        foreach (var target in new[] { session, await agent.CreateSessionAsync() })
        {
            try
            {
                await Run(agent, JsonSerializer.Deserialize<List<ChatMessage>>(posted, AIJsonUtilities.DefaultOptions)!, target);
            }
            catch (InvalidOperationException)
            {
            }
        }

        tools.Ran.Should().Equal("deploy_model");
    }

    private async Task<List<ChatMessage>> Run(AIAgent agent, List<ChatMessage> messages, AgentSession? session)
    {
        var options = new ChatClientAgentRunOptions().WithAiRbac(new AiRbacChatContext(AgentPolicyV2.Bot) { ApprovalProvider = store.For });
        return [.. (await agent.RunAsync(messages, session, options)).Messages];
    }
}
