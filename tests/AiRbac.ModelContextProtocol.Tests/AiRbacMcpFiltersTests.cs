using System.Security.Claims;
using AiRbac.IntegrationTests;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

using static AiRbac.IntegrationTests.TestPrincipals;

namespace AiRbac.ModelContextProtocol.Tests;

public sealed class AiRbacMcpFiltersTests
{
    private readonly List<string> ran = [];

    private async Task<McpPair> StartAsync(ClaimsPrincipal? user, AiRbacMcpOptions? options = null)
    {
        var serverOptions = McpPair.Options(ran, user);
        new AiRbacMcpFilters(TestPolicy.Authorizer(), options).AddTo(serverOptions);
        return await McpPair.StartAsync(serverOptions);
    }

    private static string Text(CallToolResult result) => result.Content.OfType<TextContentBlock>().Single().Text;

    [Fact]
    public async Task ListTools_User_SeesOnlyPermittedTools()
    {
        await using var pair = await StartAsync(User("alice", "analyst"));

        var tools = await pair.Client.ListToolsAsync();

        tools.Select(t => t.Name).Should().BeEquivalentTo("report_weekly", "search");
    }

    [Fact]
    public async Task CallTool_PromptInjectedForbiddenTool_NeverRunsAndReturnsTheReason()
    {
        await using var pair = await StartAsync(User("alice", "analyst"));

        var result = await pair.Client.CallToolAsync("delete_records", new Dictionary<string, object?>());

        ran.Should().BeEmpty();
        result.IsError.Should().BeTrue();
        Text(result).Should().Be("Tool 'delete_records' was not run: access denied (no_matching_grant).");
    }

    [Fact]
    public async Task CallTool_ExplicitlyDeniedTool_NamesNoRoleNorRule()
    {
        await using var pair = await StartAsync(User("alice", "analyst"));

        var result = await pair.Client.CallToolAsync("report_secret", new Dictionary<string, object?>());

        ran.Should().BeEmpty();
        Text(result).Should().Be("Tool 'report_secret' was not run: access denied (explicit_deny).");
        Text(result).Should().NotContainAny("analyst", "tool:invoke on", "integration-test.yaml");
    }

    [Fact]
    public async Task CallTool_PermittedTool_Runs()
    {
        await using var pair = await StartAsync(User("alice", "analyst"));

        var result = await pair.Client.CallToolAsync("report_weekly", new Dictionary<string, object?>());

        ran.Should().Equal("report_weekly");
        result.IsError.Should().NotBe(true);
        Text(result).Should().Contain("report_weekly done");
    }

    [Fact]
    public async Task ListToolsAndCallTool_AgentActingForUser_NeverExceedsTheUser()
    {
        await using var agentAlone = await StartAsync(new ClaimsPrincipal(Identity("support-bot", "agent", "support-agent")));
        (await agentAlone.Client.ListToolsAsync()).Select(t => t.Name).Should().BeEquivalentTo(McpPair.ToolNames);

        await using var pair = await StartAsync(BotForAlice());
        (await pair.Client.ListToolsAsync()).Select(t => t.Name).Should().BeEquivalentTo("report_weekly", "search");
        var result = await pair.Client.CallToolAsync("delete_records", new Dictionary<string, object?>());

        ran.Should().BeEmpty();
        Text(result).Should().Be("Tool 'delete_records' was not run: access denied (delegation_denied).");
    }

    [Fact]
    public async Task ListToolsAndCallTool_NoAuthenticatedUser_NothingListedAndCallsDenied()
    {
        await using var pair = await StartAsync(user: null);

        (await pair.Client.ListToolsAsync()).Should().BeEmpty();
        var result = await pair.Client.CallToolAsync("search", new Dictionary<string, object?>());

        ran.Should().BeEmpty();
        Text(result).Should().EndWith("(missing_identity).");
    }

    [Fact]
    public async Task ListTools_NoRoleClaims_PolicyBindingsApply()
    {
        await using var pair = await StartAsync(User("dave"));

        (await pair.Client.ListToolsAsync()).Select(t => t.Name).Should().BeEquivalentTo("report_weekly", "search");
    }

    [Fact]
    public async Task ListTools_UnknownKindClaim_FailsClosed()
    {
        await using var pair = await StartAsync(new ClaimsPrincipal(Identity("support-bot", "robot", "support-agent")));

        (await pair.Client.ListToolsAsync()).Should().BeEmpty();
    }

    [Fact]
    public async Task ListTools_CustomClaimTypes_AreRead()
    {
        var identity = new ClaimsIdentity([new Claim("sub", "alice"), new Claim("groups", "clinician")], "test");
        await using var pair = await StartAsync(new ClaimsPrincipal(identity), new AiRbacMcpOptions { NameClaimType = "sub", RoleClaimType = "groups" });

        (await pair.Client.ListToolsAsync()).Select(t => t.Name).Should().BeEquivalentTo("report_weekly", "report_secret", "search", "patient_lookup");
    }

    [Fact]
    public async Task CallTool_SubjectProvider_ReplacesTheClaimsMapping()
    {
        await using var pair = await StartAsync(User("alice", "analyst"), new AiRbacMcpOptions
        {
            SubjectProvider = context => TestPolicy.Bot.ActingFor(TestPolicy.Carol),
        });

        var result = await pair.Client.CallToolAsync("patient_lookup", new Dictionary<string, object?>());

        ran.Should().Equal("patient_lookup");
        result.IsError.Should().NotBe(true);
    }

    [Fact]
    public async Task WithAiRbac_DependencyInjection_TakesTheAuthorizerFromServices()
    {
        var services = new ServiceCollection();
        services.AddSingleton(TestPolicy.Authorizer());
        services.AddMcpServer().WithAiRbac();
        await using var provider = services.BuildServiceProvider();
        var options = provider.GetRequiredService<IOptions<McpServerOptions>>().Value;
        var configured = McpPair.Options(ran, User("alice", "analyst"));
        configured.Filters.Request.ListToolsFilters.Should().BeEmpty();
        foreach (var filter in options.Filters.Request.ListToolsFilters)
        {
            configured.Filters.Request.ListToolsFilters.Add(filter);
        }

        foreach (var filter in options.Filters.Request.CallToolFilters)
        {
            configured.Filters.Request.CallToolFilters.Add(filter);
        }

        await using var pair = await McpPair.StartAsync(configured, provider);

        (await pair.Client.ListToolsAsync()).Select(t => t.Name).Should().BeEquivalentTo("report_weekly", "search");
        (await pair.Client.CallToolAsync("delete_records", new Dictionary<string, object?>())).IsError.Should().BeTrue();
        ran.Should().BeEmpty();
    }

    [Fact]
    public void MapPrincipal_ActorChain_ActorActsForTheIdentity()
    {
        var subject = new AiRbacMcpOptions().MapPrincipal(BotForAlice());

        subject.Id.Should().Be("support-bot");
        subject.Kind.Should().Be(SubjectKind.Agent);
        subject.OnBehalfOf!.Id.Should().Be("alice");
        subject.OnBehalfOf.Kind.Should().BeNull("alice's token has no kind claim: the policy decides");
        subject.OnBehalfOf.Roles!.Select(r => r.Role).Should().Equal("analyst");
    }
}
