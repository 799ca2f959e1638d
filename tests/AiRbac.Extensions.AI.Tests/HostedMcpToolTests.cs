using AiRbac.IntegrationTests;
using AiRbac.Yaml;
using Microsoft.Extensions.AI;
using Order = AiRbac.Extensions.AI.Tests.PostedHistoryTests.Order;

namespace AiRbac.Extensions.AI.Tests;

/// <summary>
/// Provider-hosted MCP servers (<see cref="HostedMcpServerTool"/>): the provider, not this process, calls the remote
/// tools, so AiRbac authorizes <c>tool:invoke</c> on <c>mcp:SERVER/TOOL</c> per call through the approval protocol.
/// </summary>
public sealed class HostedMcpToolTests
{
    // The github server is granted except its delete_* tools; gitlab only for list_* tools; jira not at all.
    private const string McpPolicy = """
        version: 1
        sensitivity: [public, internal, confidential, restricted]
        roles:
          developer:
            allow:
              - model:query on model:*
              - tool:invoke on tool:*
              - tool:invoke on mcp:github/*
              - tool:invoke on mcp:gitlab/list_*
            deny: [ "tool:invoke on mcp:github/delete_*", "tool:invoke on tool:delete_*" ]
            max_sensitivity: restricted
        """;

    private static readonly Subject Dev = Subject.WithRoles("dev", SubjectKind.User, "developer");

    private readonly Recorder decisions = new();

    public static TheoryData<Order, bool> Cases()
    {
        var data = new TheoryData<Order, bool>();
        foreach (var order in Enum.GetValues<Order>())
        {
            data.Add(order, false);
            data.Add(order, true);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task PostedApproval_ForADeniedMcpTool_NeverReachesTheProvider(Order order, bool streaming)
    {
        // The report: a clinician (tool:* allowed, tool:delete_* denied) posts an approval of the remote delete_repo.
        var model = new ScriptedChatClient("gpt-4o", _ => ScriptedChatClient.Text("ok"), _ => ScriptedChatClient.Text("ok"));
        var client = Build(model, order, TestPolicy.Authorizer());
        var approval = new ToolApprovalResponseContent("m0", true, new McpServerToolCallContent("m0", "delete_repo", "github"));
        List<ChatMessage> history = [new(ChatRole.User, "delete the repo"), new(ChatRole.User, [approval])];
        var options = new ChatOptions { Tools = [new HostedMcpServerTool("github", "https://mcp.example/github")] }
            .WithAiRbac(TestPolicy.Carol);

        await Send(client, history, options, streaming);

        var sent = model.Requests.SelectMany(r => r.Messages).SelectMany(m => m.Contents).OfType<ToolApprovalResponseContent>().ToList();
        sent.Should().NotContain(r => r.Approved, "tool:* does not cover a remote MCP tool, and no approval of a denied tool may reach the provider");
        sent.Should().ContainSingle().Which.Should().Match<ToolApprovalResponseContent>(r =>
            r.RequestId == "m0" && r.Reason == "Tool 'github/delete_repo' was not run: access denied (no_matching_grant).");
        history[1].Contents.Should().ContainSingle().Which.Should().BeSameAs(approval, "the caller's history is not changed");
        approval.Approved.Should().BeTrue();
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task PostedApproval_ForADeniedMcpTool_ExplicitDeny_IsRejected(Order order, bool streaming)
    {
        var model = new ScriptedChatClient("gpt-4o", _ => ScriptedChatClient.Text("ok"), _ => ScriptedChatClient.Text("ok"));
        var client = Build(model, order, Authorizer());
        List<ChatMessage> history =
        [
            new(ChatRole.User, "delete the repo"),
            new(ChatRole.User, [new ToolApprovalResponseContent("m0", true, new McpServerToolCallContent("m0", "delete_repo", "github"))]),
        ];

        await Send(client, history, Options(Github()), streaming);

        var sent = model.Requests.SelectMany(r => r.Messages).SelectMany(m => m.Contents).OfType<ToolApprovalResponseContent>().ToList();
        sent.Should().ContainSingle().Which.Should().Match<ToolApprovalResponseContent>(r =>
            !r.Approved && r.Reason == "Tool 'github/delete_repo' was not run: access denied (explicit_deny).");
        decisions.Resources.Should().Contain("mcp:github/delete_repo");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task PostedApproval_OfARequestAiRbacAlreadyRejected_IsDropped(Order order, bool streaming)
    {
        // The caller kept AiRbac's rejection in its history and approved the request anyway: one answer, the rejection.
        var model = new ScriptedChatClient("gpt-4o", _ => ScriptedChatClient.Text("ok"), _ => ScriptedChatClient.Text("ok"));
        var client = Build(model, order, Authorizer());
        var call = new McpServerToolCallContent("m1", "delete_repo", "github");
        var request = new ToolApprovalRequestContent("r1", call);
        List<ChatMessage> history =
        [
            new(ChatRole.User, "delete the repo"),
            new(ChatRole.Assistant, [request]),
            new(ChatRole.User, [request.CreateResponse(false, "Tool 'github/delete_repo' was not run: access denied (explicit_deny).")]),
            new(ChatRole.User, [request.CreateResponse(true)]),
        ];

        await Send(client, history, Options(Github()), streaming);

        model.Requests[0].Messages.SelectMany(m => m.Contents).OfType<ToolApprovalResponseContent>()
            .Should().ContainSingle().Which.Approved.Should().BeFalse();
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task PostedApproval_ForAPermittedMcpTool_ReachesTheProviderUnchanged(Order order, bool streaming)
    {
        // The provider asked first (only an approval of a request AiRbac saw the provider make is passed on).
        var request = new ToolApprovalRequestContent("r1", new McpServerToolCallContent("m1", "list_repos", "github"));
        var model = new ScriptedChatClient(
            "gpt-4o",
            _ => new ChatResponse(new ChatMessage(ChatRole.Assistant, [request])),
            _ => ScriptedChatClient.Text("ok"),
            _ => ScriptedChatClient.Text("ok"));
        var client = Build(model, order, Authorizer());
        await Send(client, [new(ChatRole.User, "list my repos")], Options(Github()), streaming);
        var approval = request.CreateResponse(true);
        List<ChatMessage> history = [new(ChatRole.User, "list my repos"), new(ChatRole.Assistant, [request]), new(ChatRole.User, [approval])];

        await Send(client, history, Options(Github()), streaming);

        model.Requests[1].Messages.SelectMany(m => m.Contents).OfType<ToolApprovalResponseContent>()
            .Should().ContainSingle().Which.Should().BeSameAs(approval);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task PostedApproval_OfAToolCallKindAiRbacCannotName_IsRejected(Order order, bool streaming)
    {
        // Fail closed: an approval of a hosted tool call AiRbac has no resource for never reaches the provider.
        var model = new ScriptedChatClient("gpt-4o", _ => ScriptedChatClient.Text("ok"), _ => ScriptedChatClient.Text("ok"));
        var client = Build(model, order, Authorizer());
        List<ChatMessage> history =
        [
            new(ChatRole.User, "run it"),
            new(ChatRole.User, [new ToolApprovalResponseContent("k1", true, new CodeInterpreterToolCallContent("k1"))]),
        ];

        await Send(client, history, Options(Github()), streaming);

        model.Requests[0].Messages.SelectMany(m => m.Contents).OfType<ToolApprovalResponseContent>()
            .Should().ContainSingle().Which.Approved.Should().BeFalse();
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task ModelApprovalRequest_ForADeniedMcpTool_IsRejectedAndTheModelIsTold(Order order, bool streaming)
    {
        var model = new ScriptedChatClient(
            "gpt-4o",
            _ => new ChatResponse(new ChatMessage(ChatRole.Assistant, [new ToolApprovalRequestContent("r1", new McpServerToolCallContent("m1", "delete_repo", "github"))])),
            _ => ScriptedChatClient.Text("I may not delete repositories."),
            _ => ScriptedChatClient.Text("extra"));
        var client = Build(model, order, Authorizer());

        var messages = await Send(client, [new(ChatRole.User, "delete the repo")], Options(Github()), streaming);

        decisions.Resources.Should().Contain("mcp:github/delete_repo");
        model.Requests.Should().HaveCount(2, "the rejection goes back to the provider at once");
        var rejection = model.Requests[1].Messages.SelectMany(m => m.Contents).OfType<ToolApprovalResponseContent>().Should().ContainSingle().Subject;
        rejection.RequestId.Should().Be("r1");
        rejection.Approved.Should().BeFalse();
        rejection.Reason.Should().Be("Tool 'github/delete_repo' was not run: access denied (explicit_deny).");
        var contents = messages.SelectMany(m => m.Contents).ToList();
        contents.OfType<ToolApprovalResponseContent>().Should().ContainSingle().Which.Approved.Should().BeFalse();
        messages.Last().Text.Should().Be("I may not delete repositories.");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task ModelApprovalRequest_ForAPermittedMcpTool_IsSurfacedToTheCaller(Order order, bool streaming)
    {
        var model = new ScriptedChatClient(
            "gpt-4o",
            _ => new ChatResponse(new ChatMessage(ChatRole.Assistant, [new ToolApprovalRequestContent("r2", new McpServerToolCallContent("m2", "list_repos", "github"))])),
            _ => ScriptedChatClient.Text("extra"));
        var client = Build(model, order, Authorizer());

        var messages = await Send(client, [new(ChatRole.User, "list my repos")], Options(Github()), streaming);

        model.Requests.Should().HaveCount(1);
        var contents = messages.SelectMany(m => m.Contents).ToList();
        contents.OfType<ToolApprovalRequestContent>().Should().ContainSingle().Which.RequestId.Should().Be("r2");
        contents.OfType<ToolApprovalResponseContent>().Should().BeEmpty("the caller decides whether to approve a permitted call");
    }

    [Fact]
    public async Task HostedMcpServers_AreOfferedByPolicy_WithApprovalAlwaysRequired()
    {
        var model = new ScriptedChatClient("gpt-4o", _ => ScriptedChatClient.Text("hi"));
        var client = new AiRbacChatClient(model, Authorizer());
        var github = Github();
        var gitlab = new HostedMcpServerTool("gitlab", "https://mcp.example/gitlab") { AllowedTools = ["list_mrs", "delete_branch"] };
        var gitlabAll = new HostedMcpServerTool("gitlab", "https://mcp.example/gitlab-all");
        var jira = new HostedMcpServerTool("jira", "https://mcp.example/jira");

        await client.GetResponseAsync("hello", Options(github, gitlab, gitlabAll, jira));

        var offered = model.Requests[0].Options!.Tools!.Cast<HostedMcpServerTool>().ToList();
        offered.Select(t => t.ServerAddress).Should().Equal("https://mcp.example/github", "https://mcp.example/gitlab");
        offered.Should().OnlyContain(t => t.ApprovalMode is HostedMcpServerToolAlwaysRequireApprovalMode, "only a call the provider asks about can be authorized");
        offered[0].Headers.Should().ContainKey("Authorization").WhoseValue.Should().Be("Bearer t");
        offered[0].ServerDescription.Should().Be("code");
        offered[1].AllowedTools.Should().Equal("list_mrs");
        github.ApprovalMode.Should().Be(HostedMcpServerToolApprovalMode.NeverRequire, "the caller's tool is not changed");
        gitlab.AllowedTools.Should().Equal("list_mrs", "delete_branch");
    }

    [Fact]
    public async Task HostedMcpServer_IsNotCoveredByAToolWildcard()
    {
        var model = new ScriptedChatClient("gpt-4o", _ => ScriptedChatClient.Text("hi"));
        var client = new AiRbacChatClient(model, TestPolicy.Authorizer());

        await client.GetResponseAsync("hello", new ChatOptions { Tools = [Github()] }.WithAiRbac(TestPolicy.Carol));

        model.ToolNamesSeen().Should().BeEmpty("tool:* grants function tools, not every tool of every remote MCP server");
    }

    private static HostedMcpServerTool Github() => new("github", "https://mcp.example/github")
    {
        ApprovalMode = HostedMcpServerToolApprovalMode.NeverRequire,
        ServerDescription = "code",
        Headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["Authorization"] = "Bearer t" },
    };

    private static ChatOptions Options(params AITool[] tools) => new ChatOptions { Tools = [.. tools] }.WithAiRbac(Dev);

    private static IChatClient Build(ScriptedChatClient model, Order order, PolicyAuthorizer authorizer)
        => order == Order.InvocationOutside
            ? model.AsBuilder().UseFunctionInvocation(configure: f => f.AuthorizeWithAiRbac(authorizer)).UseAiRbac(authorizer).Build()
            : model.AsBuilder().UseAiRbac(authorizer).UseFunctionInvocation().Build();

    private static async Task<IList<ChatMessage>> Send(IChatClient client, List<ChatMessage> history, ChatOptions options, bool streaming)
    {
        if (!streaming)
        {
            return (await client.GetResponseAsync(history, options)).Messages;
        }

        List<ChatResponseUpdate> updates = [];
        await foreach (var update in client.GetStreamingResponseAsync(history, options))
        {
            updates.Add(update);
        }

        return updates.ToChatResponse().Messages;
    }

    private PolicyAuthorizer Authorizer()
    {
        var compilation = YamlPolicy.Compile(McpPolicy, "mcp-test.yaml");
        compilation.Policy.Should().NotBeNull(string.Join(Environment.NewLine, compilation.Diagnostics));
        var authorizer = new PolicyAuthorizer([decisions]);
        authorizer.Update(compilation.Policy!, new PolicyVersion("mcp", DateTimeOffset.UnixEpoch));
        return authorizer;
    }

    private sealed class Recorder : IDecisionObserver
    {
        public List<string> Resources { get; } = [];

        public void OnDecision(in DecisionRecord record)
        {
            lock (Resources)
            {
                Resources.Add(record.Resource.Name);
            }
        }
    }
}
