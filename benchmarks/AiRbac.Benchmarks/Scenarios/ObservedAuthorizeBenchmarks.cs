using BenchmarkDotNet.Attributes;

namespace AiRbac.Benchmarks.Scenarios;

/// <summary>
/// <see cref="PolicyAuthorizer.Authorize(Subject, string, in ResourceRequest)"/> over the reference corpus with one
/// observer that counts decisions, and no shadow policy: the path shadow mode's check sits on. The class uses only API
/// that predates shadow mode, so the same file builds before it (copied in) to measure what the check costs with shadow
/// mode off (docs/benchmarks.md, "Shadow mode"). Per decision (OperationsPerInvoke = corpus size).
/// </summary>
[MemoryDiagnoser]
[BenchmarkCategory("Shadow")]
public class ObservedAuthorizeBenchmarks
{
    private PreparedRequest[] requests = [];
    private PolicyAuthorizer authorizer = null!;

    /// <summary>The scales.</summary>
    public static IEnumerable<string> Scales => BenchmarkSettings.Scales;

    /// <summary>The scale: <c>scale-0</c>, <c>scale-1000</c> or <c>scale-10000</c> extra roles.</summary>
    [ParamsSource(nameof(Scales))]
    public string Scale { get; set; } = "scale-0";

    /// <summary>Parses the corpus, builds the authorizer and checks every decision (which also resolves every subject).</summary>
    [GlobalSetup]
    public void Setup()
    {
        var (scenario, policy) = BenchmarkSettings.Scenario(Scale);
        requests = [.. scenario.ParseRequests().Select(r => new PreparedRequest(r.Subject, r.Action, r.Resource))];
        authorizer = new PolicyAuthorizer([new Counter()]);
        authorizer.Update(policy, new PolicyVersion("live", DateTimeOffset.UnixEpoch));
        scenario.Verify("PolicyAuthorizer", i => ReferenceScenario.ToExpected(authorizer.Authorize(requests[i].Subject, requests[i].Action, in requests[i].Resource)));
    }

    /// <summary>The corpus through the authorizer and its observer.</summary>
    /// <returns>The number allowed.</returns>
    [Benchmark(Description = "PolicyAuthorizer with one observer", OperationsPerInvoke = ReferenceScenario.CorpusSize)]
    public int Observed()
    {
        var decide = authorizer;
        int allowed = 0;
        foreach (ref readonly var request in requests.AsSpan())
        {
            if (decide.Authorize(request.Subject, request.Action, in request.Resource).Allowed)
            {
                allowed++;
            }
        }

        return allowed;
    }

    private sealed class Counter : IDecisionObserver
    {
        public long Seen { get; private set; }

        public void OnDecision(in DecisionRecord record) => Seen++;
    }
}
