using System.Security.Claims;
using AiRbac.AspNetCore;
using AiRbac.Benchmarks.Baselines;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.DependencyInjection;

namespace AiRbac.Benchmarks.Scenarios;

/// <summary>
/// Scenario: the ASP.NET Core path end to end, per corpus request: a <see cref="ClaimsPrincipal"/> built for the
/// request (id, kind and role claims, an actor for a delegated request), then
/// <see cref="IAuthorizationService.AuthorizeAsync(ClaimsPrincipal, object, IEnumerable{IAuthorizationRequirement})"/>.
/// Three handlers behind the same call: the AiRbac handler (which maps the claims to a subject per request), the
/// hand-written role-table baseline (<see cref="AspNetCoreBaseline"/>), and a handler that only calls
/// <c>Succeed</c> — the framework's own floor. Figures are per request, principal construction included in all three.
/// </summary>
[MemoryDiagnoser]
[BenchmarkCategory("AspNetCore")]
public class AspNetCorePathBenchmarks
{
    /// <summary>The claim type of the subject kind in the principals the benchmarks build.</summary>
    internal const string KindClaim = "kind";

    private ServiceProvider? services;
    private IAuthorizationService authorization = null!;
    private AspNetCoreBaseline? baseline;
    private PrincipalInputs[] lines = [];
    private object[] resources = [];
    private IAuthorizationRequirement[][] requirements = [];
    private AiResource[] baselineResources = [];
    private IAuthorizationRequirement[] floorRequirement = [];

    /// <summary>The scales.</summary>
    public static IEnumerable<string> Scales => BenchmarkSettings.Scales;

    /// <summary>The scale: <c>scale-0</c>, <c>scale-1000</c> or <c>scale-10000</c> extra roles.</summary>
    [ParamsSource(nameof(Scales))]
    public string Scale { get; set; } = "scale-0";

    /// <summary>Builds the service providers and the per-line inputs, and checks AiRbac's answers against expected.jsonl.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var (scenario, policy) = BenchmarkSettings.Scenario(Scale);
        var authorizer = new PolicyAuthorizer();
        authorizer.Update(policy, new PolicyVersion("bench", DateTimeOffset.UnixEpoch));
        var collection = new ServiceCollection();
        collection.AddLogging();
        collection.AddSingleton(authorizer);
        collection.AddAiRbacAuthorization(o =>
        {
            o.NameClaimType = ClaimTypes.NameIdentifier;
            o.KindClaimType = KindClaim;
        });
        collection.AddSingleton<IAuthorizationHandler, SucceedHandler>();
        services = collection.BuildServiceProvider();
        authorization = services.GetRequiredService<IAuthorizationService>();
        floorRequirement = [new FloorRequirement()];

        var parsed = scenario.ParseRequests();
        lines = [.. parsed.Select(r => PrincipalInputs.Of(r.Subject))];
        resources = [.. parsed.Select(r => (object)r.Resource)];
        var byAction = new Dictionary<string, IAuthorizationRequirement[]>(StringComparer.Ordinal);
        requirements = [.. parsed.Select(r => byAction.TryGetValue(r.Action, out var req) ? req
            : byAction[r.Action] = [new AiRbac.AspNetCore.AiRbacRequirement(r.Action, "unused:{id}")])];
        scenario.Verify("ASP.NET Core + AiRbac handler", i =>
        {
            bool allowed = authorization.AuthorizeAsync(lines[i].Build(), resources[i], requirements[i]).GetAwaiter().GetResult().Succeeded;
            var expected = ReferenceScenario.ToExpected(policy.Authorize(parsed[i].Subject, parsed[i].Action, parsed[i].Resource));
            return allowed == expected.Allowed ? expected : expected with { Reason = "AuthorizeAsync disagrees" };
        });

        baseline = new AspNetCoreBaseline(new RoleTable(policy, scenario.LoadDocument()));
        baselineResources = [.. parsed.Select(r => new AiResource
        {
            Action = r.Action,
            Name = r.Resource.Name,
            Sensitivity = r.Resource.Sensitivity,
            Tags = r.Resource.Tags.ToArray(),
        })];
    }

    /// <summary>Disposes the service providers.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        services?.Dispose();
        baseline?.Dispose();
    }

    /// <summary>The framework's floor: a principal built per request and AuthorizeAsync with a handler that only calls Succeed.</summary>
    /// <returns>The number allowed.</returns>
    [Benchmark(Baseline = true, Description = "ASP.NET Core floor (Succeed only)", OperationsPerInvoke = ReferenceScenario.CorpusSize)]
    public int Floor()
    {
        int allowed = 0;
        for (int i = 0; i < lines.Length; i++)
        {
            allowed += authorization.AuthorizeAsync(lines[i].Build(), resources[i], floorRequirement).GetAwaiter().GetResult().Succeeded ? 1 : 0;
        }

        return allowed;
    }

    /// <summary>AiRbac: a principal built per request and AuthorizeAsync with <see cref="AiRbac.AspNetCore.AiRbacRequirement"/> (claims mapped to a subject per request).</summary>
    /// <returns>The number allowed.</returns>
    [Benchmark(Description = "ASP.NET Core + AiRbac handler", OperationsPerInvoke = ReferenceScenario.CorpusSize)]
    public int AiRbacHandler()
    {
        int allowed = 0;
        for (int i = 0; i < lines.Length; i++)
        {
            allowed += authorization.AuthorizeAsync(lines[i].Build(), resources[i], requirements[i]).GetAwaiter().GetResult().Succeeded ? 1 : 0;
        }

        return allowed;
    }

    /// <summary>The hand-written role-table baseline handler, with a principal built per request.</summary>
    /// <returns>The number allowed.</returns>
    [Benchmark(Description = "ASP.NET Core + baseline role-table handler", OperationsPerInvoke = ReferenceScenario.CorpusSize)]
    public int BaselineHandler()
    {
        int allowed = 0;
        for (int i = 0; i < lines.Length; i++)
        {
            allowed += baseline!.Authorize(lines[i].Build(), baselineResources[i]) ? 1 : 0;
        }

        return allowed;
    }

    /// <summary>The floor's requirement.</summary>
    public sealed class FloorRequirement : IAuthorizationRequirement;

    /// <summary>The floor's handler: succeeds, reads nothing.</summary>
    public sealed class SucceedHandler : AuthorizationHandler<FloorRequirement>
    {
        /// <inheritdoc/>
        protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, FloorRequirement requirement)
        {
            ArgumentNullException.ThrowIfNull(context);
            context.Succeed(requirement);
            return Task.CompletedTask;
        }
    }
}
