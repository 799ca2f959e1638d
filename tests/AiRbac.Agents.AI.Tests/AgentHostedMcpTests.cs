using AiRbac.Extensions.AI;
using AiRbac.Yaml;
using Microsoft.Agents.AI;
using Microsoft.Extensions.AI;

namespace AiRbac.Agents.AI.Tests;

/// <summary>
/// A provider-hosted MCP server (<see cref="HostedMcpServerTool"/>) offered to an agent: the provider calls its tools, so
/// only its approval requests can be screened per call. Without an <see cref="AiRbacChatClient"/> in the agent's chat
/// client nothing screens them, and a server without an <c>AllowedTools</c> list is removed; with one, the server is
/// offered (approval forced) and each approval request is decided as in an <c>IChatClient</c> pipeline.
/// </summary>
public sealed class AgentHostedMcpTests
{
    private const string Yaml = """
        version: 1
        roles:
          developer:
            allow: [ "model:query on model:*", "tool:invoke on mcp:github/*" ]
            deny: [ "tool:invoke on mcp:github/delete_*" ]
        """;

    private static readonly Subject Dev = Subject.WithRoles("dev", SubjectKind.User, "developer");

    public static TheoryData<bool> Streaming() => new() { false, true };

    [Theory]
    [MemberData(nameof(Streaming))]
    public async Task UnlistedServer_WithoutPerCallScreening_IsRemoved(bool streaming)
    {
        var model = new ScriptedModel(_ => ScriptedModel.Text("ok"));
        var agent = Agent(model, screenInside: false);

        await Run(agent, streaming);

        model.ToolNamesSeen(0).Should().BeEmpty();
    }

    [Theory]
    [MemberData(nameof(Streaming))]
    public async Task UnlistedServer_WithAnAiRbacChatClientInside_IsOffered_AndADeniedCallIsRejected(bool streaming)
    {
        // The provider asks to call list_repos and delete_repo on the github server: only list_repos reaches the caller as
        // something to approve; delete_repo is rejected with the reason.
        var model = new ScriptedModel(
            _ => new ChatResponse(new ChatMessage(ChatRole.Assistant,
            [
                new ToolApprovalRequestContent("m1", new McpServerToolCallContent("m1", "list_repos", "github")),
                new ToolApprovalRequestContent("m2", new McpServerToolCallContent("m2", "delete_repo", "github")),
            ])));
        var agent = Agent(model, screenInside: true);

        var contents = await Run(agent, streaming);

        var offered = model.Requests[0].Options!.Tools!.Should().ContainSingle().Which.Should().BeOfType<HostedMcpServerTool>().Subject;
        offered.ApprovalMode.Should().Be(HostedMcpServerToolApprovalMode.AlwaysRequire);
        contents.OfType<ToolApprovalRequestContent>().Select(r => r.RequestId).Should().Contain("m1");
        contents.OfType<ToolApprovalResponseContent>().Should().ContainSingle().Which.Should().Match<ToolApprovalResponseContent>(r =>
            r.RequestId == "m2" && !r.Approved && r.Reason == "Tool 'github/delete_repo' was not run: access denied (explicit_deny).");
    }

    [Fact]
    public async Task UnlistedServer_WithAnAiRbacChatClientOfAnotherPolicy_IsRemoved()
    {
        var model = new ScriptedModel(_ => ScriptedModel.Text("ok"));
        var other = Authorizer();
        var agent = new ChatClientAgent(model.AsBuilder().UseAiRbac(other).Build(), tools: [new HostedMcpServerTool("github", "https://mcp.example/github")])
            .AsBuilder().UseAiRbac(Authorizer()).Build();

        await Run(agent, streaming: false);

        model.ToolNamesSeen(0).Should().BeEmpty();
    }

    private static PolicyAuthorizer Authorizer()
    {
        var authorizer = new PolicyAuthorizer();
        authorizer.Update(YamlPolicy.Compile(Yaml, "mcp.yaml").Policy!, new PolicyVersion("test", DateTimeOffset.UnixEpoch));
        return authorizer;
    }

    private static AIAgent Agent(ScriptedModel model, bool screenInside)
    {
        var authorizer = Authorizer();
        IChatClient client = screenInside ? model.AsBuilder().UseAiRbac(authorizer).Build() : model;
        return new ChatClientAgent(client, tools: [new HostedMcpServerTool("github", "https://mcp.example/github")])
            .AsBuilder().UseAiRbac(authorizer).Build();
    }

    private static async Task<List<AIContent>> Run(AIAgent agent, bool streaming)
    {
        var options = new ChatClientAgentRunOptions().WithAiRbac(new AiRbacChatContext(Dev));
        if (!streaming)
        {
            return [.. (await agent.RunAsync("tidy the repos", null, options)).Messages.SelectMany(m => m.Contents)];
        }

        List<AIContent> contents = [];
        await foreach (var update in agent.RunStreamingAsync("tidy the repos", null, options))
        {
            contents.AddRange(update.Contents);
        }

        return contents;
    }
}
