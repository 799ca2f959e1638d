using System.Collections.Frozen;
using System.Security.Claims;
using AiRbac.Benchmarks.Baselines;
using AiRbac.Core.Tests.Reference;
using BenchmarkDotNet.Attributes;

namespace AiRbac.Benchmarks.Scenarios;

/// <summary>
/// Scenario: the 10,000-request reference corpus at each scale, decided by AiRbac and by the baselines.
/// Figures are per decision (OperationsPerInvoke = corpus size). Every engine must first reproduce expected.jsonl.
/// </summary>
[MemoryDiagnoser]
[BenchmarkCategory("Corpus")]
public class CorpusBenchmarks
{
    private CompiledPolicy policy = null!;
    private PreparedRequest[] requests = [];
    private AspNetCoreBaseline? aspNet;
    private ClaimsPrincipal[] principals = [];
    private AiResource[] aspNetResources = [];
    private ReferenceEvaluator? reference;
    private PreparedRequest[] referenceRequests = [];
    private PreparedRequest[] floorRequests = [];
    private FrozenDictionary<string, int> floorActions = FrozenDictionary<string, int>.Empty;
    private FrozenDictionary<string, int> floorResources = FrozenDictionary<string, int>.Empty;

    // The corpus has no expiring bindings; the reference evaluator takes the instant explicitly.
    private static readonly DateTimeOffset Now = new(2026, 6, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>The scales.</summary>
    public static IEnumerable<string> Scales => BenchmarkSettings.Scales;

    /// <summary>The scale: <c>scale-0</c>, <c>scale-1000</c> or <c>scale-10000</c> extra roles.</summary>
    [ParamsSource(nameof(Scales))]
    public string Scale { get; set; } = "scale-0";

    /// <summary>Compiles the policy, parses the corpus, checks every decision and resolves every subject.</summary>
    [GlobalSetup(Target = nameof(AiRbacAuthorize))]
    public void SetupAiRbac()
    {
        (var scenario, policy) = BenchmarkSettings.Scenario(Scale);
        requests = [.. scenario.ParseRequests().Select(r => new PreparedRequest(r.Subject, r.Action, r.Resource))];
        // The check is also the warm-up that resolves each subject (its only allocation) before timing.
        scenario.Verify("AiRbac", i => ReferenceScenario.ToExpected(policy.Authorize(requests[i].Subject, requests[i].Action, in requests[i].Resource)));
    }

    /// <summary>Builds the role table, the service provider, a principal per request, and checks every decision.</summary>
    [GlobalSetup(Target = nameof(AspNetCoreAuthorizeAsync))]
    public void SetupAspNetCore()
    {
        (var scenario, policy) = BenchmarkSettings.Scenario(Scale);
        aspNet = new AspNetCoreBaseline(new RoleTable(policy, scenario.LoadDocument()));
        var parsed = scenario.ParseRequests();
        principals = [.. parsed.Select(r => AspNetCoreBaseline.ToPrincipal(r.Subject))];
        aspNetResources = [.. parsed.Select(r => new AiResource
        {
            Action = r.Action,
            Name = r.Resource.Name,
            Sensitivity = r.Resource.Sensitivity,
            Tags = r.Resource.Tags.ToArray(),
        })];
        scenario.Verify("ASP.NET Core baseline", i =>
        {
            bool allowed = aspNet.Authorize(principals[i], aspNetResources[i]);
            var recorded = aspNetResources[i].Decision!;
            return allowed == recorded.Allowed ? recorded : recorded with { Reason = "handler and AuthorizeAsync disagree" };
        });
    }

    /// <summary>Builds the naive reference evaluator of the differential tests on the policy document, and checks every decision.</summary>
    [GlobalSetup(Target = nameof(ReferenceEvaluatorDecide))]
    public void SetupReference()
    {
        var scenario = BenchmarkSettings.Scenario(Scale).Scenario;
        reference = new ReferenceEvaluator(scenario.LoadDocument());
        referenceRequests = [.. scenario.ParseRequests().Select(r => new PreparedRequest(r.Subject, r.Action, r.Resource))];
        scenario.Verify("reference evaluator", i =>
        {
            var d = reference.Decide(referenceRequests[i].Subject, referenceRequests[i].Action, referenceRequests[i].Resource, Now);
            return new ExpectedDecision(d.Allowed, DecisionReasons.ToName(d.Reason), d.Role, d.Rule);
        });
    }

    /// <summary>Builds the floor's two tables: the corpus's distinct actions and resources, each numbered.</summary>
    [GlobalSetup(Target = nameof(FloorTwoLookups))]
    public void SetupFloor()
    {
        var scenario = BenchmarkSettings.Scenario(Scale).Scenario;
        floorRequests = [.. scenario.ParseRequests().Select(r => new PreparedRequest(r.Subject, r.Action, r.Resource))];
        floorActions = Number(floorRequests.Select(r => r.Action));
        floorResources = Number(floorRequests.Select(r => r.Resource.Name));

        static FrozenDictionary<string, int> Number(IEnumerable<string> names)
            => names.Distinct(StringComparer.Ordinal).Select((name, i) => KeyValuePair.Create(name, i)).ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>Disposes the service provider.</summary>
    [GlobalCleanup(Target = nameof(AspNetCoreAuthorizeAsync))]
    public void CleanupAspNetCore() => aspNet?.Dispose();

    /// <summary>AiRbac: <c>CompiledPolicy.Authorize</c> over the corpus.</summary>
    /// <returns>The number allowed.</returns>
    [Benchmark(Description = "AiRbac Authorize", OperationsPerInvoke = ReferenceScenario.CorpusSize)]
    [BenchmarkCategory("Authorize")]
    public int AiRbacAuthorize() => PreparedRequest.AuthorizeAll(policy, requests);

    /// <summary>Baseline: ASP.NET Core <c>IAuthorizationService.AuthorizeAsync</c> with a role-table handler, over the corpus.</summary>
    /// <returns>The number allowed.</returns>
    [Benchmark(Description = "ASP.NET Core AuthorizeAsync", Baseline = true, OperationsPerInvoke = ReferenceScenario.CorpusSize)]
    public int AspNetCoreAuthorizeAsync()
    {
        int allowed = 0;
        for (int i = 0; i < principals.Length; i++)
        {
            if (aspNet!.Authorize(principals[i], aspNetResources[i]))
            {
                allowed++;
            }
        }

        return allowed;
    }

    /// <summary>
    /// The floor, measured on the same requests: per request, read the subject object, look the action
    /// and the resource up in two ordinal hash tables, and combine a few bits. Not an authorizer; it shows what touching a
    /// request's three objects costs on this machine.
    /// </summary>
    /// <returns>A value derived from every lookup, so the JIT cannot drop the work.</returns>
    [Benchmark(Description = "Floor: 2 hash lookups", OperationsPerInvoke = ReferenceScenario.CorpusSize)]
    public int FloorTwoLookups()
    {
        int bits = 0;
        foreach (ref readonly var request in new ReadOnlySpan<PreparedRequest>(floorRequests))
        {
            floorActions.TryGetValue(request.Action, out int action);
            floorResources.TryGetValue(request.Resource.Name, out int resource);
            bits += (action ^ resource ^ (int)request.Subject.Kind.GetValueOrDefault()) & 1;
        }

        return bits;
    }

    /// <summary>Baseline: the naive reference evaluator of the differential tests (re-parses rules, walks inheritance per request), over the corpus.</summary>
    /// <returns>The number allowed.</returns>
    [Benchmark(Description = "Reference evaluator", OperationsPerInvoke = ReferenceScenario.CorpusSize)]
    public int ReferenceEvaluatorDecide()
    {
        int allowed = 0;
        foreach (ref readonly var request in new ReadOnlySpan<PreparedRequest>(referenceRequests))
        {
            if (reference!.Decide(request.Subject, request.Action, request.Resource, Now).Allowed)
            {
                allowed++;
            }
        }

        return allowed;
    }
}
