using System.Net;
using System.Security.Claims;
using System.Text.Encodings.Web;
using AiRbac.IntegrationTests;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

using static AiRbac.IntegrationTests.TestPrincipals;

namespace AiRbac.AspNetCore.Tests;

public sealed class AiRbacAuthorizationTests
{
    [Theory]
    [InlineData("alice", "/models/gpt-4o", HttpStatusCode.OK)]
    [InlineData("alice", "/models/claude-opus", HttpStatusCode.Forbidden)]
    [InlineData("carol", "/models/claude-opus", HttpStatusCode.OK)]
    [InlineData(null, "/models/gpt-4o", HttpStatusCode.Unauthorized)]
    [InlineData("bot-for-alice", "/tools/report_weekly/invoke", HttpStatusCode.OK)]
    [InlineData("bot-for-alice", "/tools/delete_records/invoke", HttpStatusCode.Forbidden)]
    [InlineData("bot", "/tools/delete_records/invoke", HttpStatusCode.OK)]
    public async Task Endpoint_RequireAiRbac_DecidesWithRouteValues(string? user, string path, HttpStatusCode expected)
    {
        var ran = new List<string>();
        await using var app = await StartAsync(ran);
        using var client = app.GetTestClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, path);
        if (user is not null)
        {
            request.Headers.Add(TestAuthentication.Header, user);
        }

        using var response = await client.SendAsync(request);

        response.StatusCode.Should().Be(expected);
        ran.Should().HaveCount(expected == HttpStatusCode.OK ? 1 : 0, "a refused endpoint never runs");
    }

    [Fact]
    public async Task Handler_MissingRouteValue_Fails()
    {
        var (service, _) = Services();

        var result = await service.AuthorizeAsync(User("carol", "clinician"), new RouteValueDictionary(), new AiRbacRequirement("model:query", "model:{modelId}"));

        result.Succeeded.Should().BeFalse();
        result.Failure!.FailureReasons.Single().Message.Should().Contain("route value");
    }

    [Fact]
    public async Task Handler_Denied_FailureReasonNamesTheReasonNotTheRole()
    {
        var (service, _) = Services();

        var result = await service.AuthorizeAsync(User("alice", "analyst"), "tool:report_secret", new AiRbacRequirement("tool:invoke", "unused"));

        result.Succeeded.Should().BeFalse();
        var message = result.Failure!.FailureReasons.Single().Message;
        message.Should().Be("AiRbac denied tool:invoke on tool:report_secret (explicit_deny).");
    }

    [Fact]
    public async Task Handler_ResourceRequest_CarriesSensitivityAndTags()
    {
        var (service, _) = Services();
        var requirement = new AiRbacRequirement("model:query", "model:gpt-4o");
        var rag = new ResourceRequest("model:gpt-4o") { Sensitivity = "confidential" };

        (await service.AuthorizeAsync(User("alice", "analyst"), rag, requirement)).Succeeded.Should().BeFalse();
        (await service.AuthorizeAsync(User("alice", "analyst"), null, requirement)).Succeeded.Should().BeTrue();
    }

    [Fact]
    public async Task Handler_AgentActingForUser_NeverExceedsTheUser()
    {
        var (service, _) = Services();
        var requirement = new AiRbacRequirement("tool:invoke", "tool:{tool}");
        var values = new RouteValueDictionary { ["tool"] = "delete_records" };

        (await service.AuthorizeAsync(new ClaimsPrincipal(Identity("support-bot", "agent", "support-agent")), values, requirement)).Succeeded.Should().BeTrue();
        var asAlice = await service.AuthorizeAsync(BotForAlice(), values, requirement);
        asAlice.Succeeded.Should().BeFalse();
        asAlice.Failure!.FailureReasons.Single().Message.Should().EndWith("(delegation_denied).");
    }

    [Fact]
    public async Task Handler_NoRoleClaims_PolicyBindingsApply()
    {
        var (service, _) = Services();

        var result = await service.AuthorizeAsync(User("dave"), "model:gpt-4o", new AiRbacRequirement("model:query", "model:gpt-4o"));

        result.Succeeded.Should().BeTrue();
    }

    [Fact]
    public async Task Handler_CustomClaimTypes_AreRead()
    {
        var (service, _) = Services(o =>
        {
            o.NameClaimType = "sub";
            o.RoleClaimType = "groups";
        });
        var user = new ClaimsPrincipal(new ClaimsIdentity([new Claim("sub", "carol"), new Claim("groups", "clinician")], "test"));

        (await service.AuthorizeAsync(user, "model:claude-opus", new AiRbacRequirement("model:query", "x"))).Succeeded.Should().BeTrue();
    }

    [Fact]
    public async Task Handler_Unauthenticated_Fails()
    {
        var (service, _) = Services();

        var result = await service.AuthorizeAsync(new ClaimsPrincipal(new ClaimsIdentity()), "model:gpt-4o", new AiRbacRequirement("model:query", "x"));

        result.Succeeded.Should().BeFalse();
        result.Failure!.FailureReasons.Single().Message.Should().EndWith("(missing_identity).");
    }

    [Fact]
    public void AddAiRbacAuthorization_CalledTwice_RegistersTheHandlerOnce()
    {
        var (_, provider) = Services(register: services => services.AddAiRbacAuthorization());

        provider.GetServices<IAuthorizationHandler>().OfType<AiRbacAuthorizationHandler>().Should().ContainSingle();
    }

    [Theory]
    [InlineData("model:{modelId}", "model:gpt-4o")]
    [InlineData("dataset:{tenant}/{name}", "dataset:acme/claims")]
    [InlineData("model:fixed", "model:fixed")]
    public void TryFormatResource_FillsPlaceholders(string template, string expected)
    {
        var values = new Dictionary<string, string> { ["modelId"] = "gpt-4o", ["tenant"] = "acme", ["name"] = "claims" };

        new AiRbacRequirement("data:read", template).TryFormatResource(k => values.GetValueOrDefault(k), out var resource).Should().BeTrue();

        resource.Should().Be(expected);
    }

    [Theory]
    [InlineData("model:{}")]
    [InlineData("model:{modelId")]
    public void Constructor_MalformedTemplate_Throws(string template)
    {
        var act = () => new AiRbacRequirement("model:query", template);

        act.Should().Throw<ArgumentException>();
    }

    private static (IAuthorizationService Service, ServiceProvider Provider) Services(
        Action<AiRbacAuthorizationOptions>? configure = null, Action<IServiceCollection>? register = null)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(TestPolicy.Authorizer());
        services.AddAiRbacAuthorization(configure);
        register?.Invoke(services);
        var provider = services.BuildServiceProvider();
        return (provider.GetRequiredService<IAuthorizationService>(), provider);
    }

    private static async Task<WebApplication> StartAsync(List<string> ran)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseTestServer();
        builder.Services.AddSingleton(TestPolicy.Authorizer());
        builder.Services.AddAuthentication(TestAuthentication.SchemeName).AddScheme<AuthenticationSchemeOptions, TestAuthentication>(TestAuthentication.SchemeName, null);
        builder.Services.AddAuthorization();
        builder.Services.AddAiRbacAuthorization();
        var app = builder.Build();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapPost("/models/{modelId}", (string modelId) => { ran.Add(modelId); return "ok"; })
            .RequireAiRbac("model:query", "model:{modelId}");
        app.MapPost("/tools/{tool}/invoke", (string tool) => { ran.Add(tool); return "ok"; })
            .RequireAiRbac("tool:invoke", "tool:{tool}");
        await app.StartAsync();
        return app;
    }

    // Authenticates from a header naming a test user.
    private sealed class TestAuthentication(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        public const string SchemeName = "test";
        public const string Header = "X-Test-User";

        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            ClaimsPrincipal? user = Request.Headers[Header].ToString() switch
            {
                "alice" => User("alice", "analyst"),
                "carol" => User("carol", "clinician"),
                "bot" => new ClaimsPrincipal(Identity("support-bot", "agent", "support-agent")),
                "bot-for-alice" => BotForAlice(),
                _ => null,
            };
            return Task.FromResult(user is null ? AuthenticateResult.NoResult() : AuthenticateResult.Success(new AuthenticationTicket(user, SchemeName)));
        }
    }
}
