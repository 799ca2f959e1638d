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
    private ServiceProvider? outcomeServices;
    private IAuthorizationService authorization = null!;
    private IAuthorizationService outcomeAuthorization = null!;
    private AspNetCoreBaseline? baseline;
    private PrincipalInputs[] lines = [];
    private object[] resources = [];
    private IAuthorizationRequirement[][] requirements = [];
    private AiResource[] baselineResources = [];
    private IAuthorizationRequirement[] floorRequirement = [];
    private IAuthorizationRequirement[][] outcomeRequirements = [];

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

        // The floor with outcomes gets a provider of its own, with as many handlers as the other (the AiRbac handler,
        // its own in place of SucceedHandler, and the framework's pass-through): each handler costs every call a little.
        var outcomeCollection = new ServiceCollection();
        outcomeCollection.AddLogging();
        outcomeCollection.AddSingleton(authorizer);
        outcomeCollection.AddAiRbacAuthorization(o =>
        {
            o.NameClaimType = ClaimTypes.NameIdentifier;
            o.KindClaimType = KindClaim;
        });
        outcomeCollection.AddSingleton<IAuthorizationHandler, OutcomeHandler>();
        outcomeServices = outcomeCollection.BuildServiceProvider();
        outcomeAuthorization = outcomeServices.GetRequiredService<IAuthorizationService>();
        IAuthorizationRequirement[] succeed = [new OutcomeRequirement(true)], fail = [new OutcomeRequirement(false)];
        outcomeRequirements = [.. scenario.Expected.Select(e => e.Allowed ? succeed : fail)];

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
        outcomeServices?.Dispose();
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

    /// <summary>
    /// The framework's floor with AiRbac's outcomes: a handler that reads nothing and calls <c>Succeed</c> where
    /// expected.jsonl allows the request and <c>Fail</c> with a reason made once where it denies it, so the
    /// framework's own cost of a failed authorization (failure reasons, result) is in it as in the AiRbac row.
    /// </summary>
    /// <returns>The number allowed.</returns>
    [Benchmark(Description = "ASP.NET Core floor (Succeed or Fail as expected)", OperationsPerInvoke = ReferenceScenario.CorpusSize)]
    public int FloorWithOutcomes()
    {
        int allowed = 0;
        for (int i = 0; i < lines.Length; i++)
        {
            allowed += outcomeAuthorization.AuthorizeAsync(lines[i].Build(), resources[i], outcomeRequirements[i]).GetAwaiter().GetResult().Succeeded ? 1 : 0;
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

    /// <summary>For the profiler only: principals built per request and mapped to subjects (no decision), or only built.</summary>
    /// <param name="map">Whether to map.</param>
    /// <returns>A checksum.</returns>
    internal int MapOnly(bool map)
    {
        var options = new AiRbacAuthorizationOptions { NameClaimType = ClaimTypes.NameIdentifier, KindClaimType = KindClaim };
        int sum = 0;
        for (int i = 0; i < lines.Length; i++)
        {
            var principal = lines[i].Build();
            sum += map ? options.MapPrincipal(principal).Id.Length : principal.Identities.Count();
        }

        return sum;
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

    /// <summary>The requirement of the floor with outcomes: whether its handler succeeds or fails.</summary>
    /// <param name="allow">Whether the handler succeeds.</param>
    public sealed class OutcomeRequirement(bool allow) : IAuthorizationRequirement
    {
        /// <summary>Whether the handler succeeds.</summary>
        public bool Allow { get; } = allow;
    }

    /// <summary>The handler of the floor with outcomes: succeeds or fails (with a reason made once) as its requirement says.</summary>
    public sealed class OutcomeHandler : AuthorizationHandler<OutcomeRequirement>
    {
        private readonly AuthorizationFailureReason denied;

        /// <summary>Creates the handler.</summary>
        public OutcomeHandler() => denied = new AuthorizationFailureReason(this, "denied");

        /// <inheritdoc/>
        protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, OutcomeRequirement requirement)
        {
            ArgumentNullException.ThrowIfNull(context);
            ArgumentNullException.ThrowIfNull(requirement);
            if (requirement.Allow)
            {
                context.Succeed(requirement);
            }
            else
            {
                context.Fail(denied);
            }

            return Task.CompletedTask;
        }
    }

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
