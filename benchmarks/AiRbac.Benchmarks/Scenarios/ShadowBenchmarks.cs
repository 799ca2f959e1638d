using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;

namespace AiRbac.Benchmarks.Scenarios;

/// <summary>
/// Shadow mode's cost per decision (docs/dependency-injection.md, "Shadow mode"): the reference corpus decided through a
/// <see cref="PolicyAuthorizer"/> with one observer, without a shadow policy and with one, and through the authorizer
/// <c>AddAiRbac</c> builds (metrics on, no listener, no audit file), without and with <c>Shadow.Source</c>. The candidate
/// is the same policy file compiled a second time: a separate <see cref="CompiledPolicy"/> with its own role-set tables,
/// so every decision is made twice in full, and each reused <see cref="Subject"/>'s cached table alternates between the
/// two policies (the worst case for that cache). Every decision agrees, so the figures are of evaluating, not of writing
/// disagreements. Figures are per decision (OperationsPerInvoke = corpus size).
/// </summary>
[MemoryDiagnoser]
[BenchmarkCategory("Shadow")]
public class ShadowBenchmarks
{
    private PreparedRequest[] requests = [];
    private PolicyAuthorizer authorizer = null!;
    private CountingObserver observer = null!;
    private ServiceProvider? provider;

    /// <summary>The scales.</summary>
    public static IEnumerable<string> Scales => BenchmarkSettings.Scales;

    /// <summary>The scale: <c>scale-0</c>, <c>scale-1000</c> or <c>scale-10000</c> extra roles.</summary>
    [ParamsSource(nameof(Scales))]
    public string Scale { get; set; } = "scale-0";

    /// <summary>A core authorizer with one observer and no shadow policy.</summary>
    [GlobalSetup(Target = nameof(ShadowOff))]
    public void SetupOff() => Setup(shadow: false);

    /// <summary>A core authorizer with one observer and the policy compiled again as its shadow.</summary>
    [GlobalSetup(Target = nameof(ShadowOn))]
    public void SetupOn() => Setup(shadow: true);

    /// <summary>The authorizer of <c>AddAiRbac</c> (metrics on), without a shadow policy.</summary>
    [GlobalSetup(Target = nameof(AddAiRbacShadowOff))]
    public void SetupHostedOff() => SetupHosted(shadow: false);

    /// <summary>The authorizer of <c>AddAiRbac</c> (metrics on), with the policy file as its shadow too.</summary>
    [GlobalSetup(Target = nameof(AddAiRbacShadowOn))]
    public void SetupHostedOn() => SetupHosted(shadow: true);

    /// <summary>Disposes the service provider.</summary>
    [GlobalCleanup(Targets = [nameof(AddAiRbacShadowOff), nameof(AddAiRbacShadowOn)])]
    public void Cleanup() => provider?.Dispose();

    /// <summary><c>PolicyAuthorizer.Authorize</c> over the corpus, no shadow policy.</summary>
    /// <returns>The number allowed.</returns>
    [Benchmark(Description = "PolicyAuthorizer, shadow off", Baseline = true, OperationsPerInvoke = ReferenceScenario.CorpusSize)]
    [BenchmarkCategory("Authorize")]
    public int ShadowOff() => AuthorizeAll();

    /// <summary><c>PolicyAuthorizer.Authorize</c> over the corpus, the policy compiled again as the shadow policy.</summary>
    /// <returns>The number allowed.</returns>
    [Benchmark(Description = "PolicyAuthorizer, shadow on", OperationsPerInvoke = ReferenceScenario.CorpusSize)]
    [BenchmarkCategory("Authorize")]
    public int ShadowOn() => AuthorizeAll();

    /// <summary>The <c>AddAiRbac</c> authorizer over the corpus, no shadow policy.</summary>
    /// <returns>The number allowed.</returns>
    [Benchmark(Description = "AddAiRbac (metrics), shadow off", OperationsPerInvoke = ReferenceScenario.CorpusSize)]
    public int AddAiRbacShadowOff() => AuthorizeAll();

    /// <summary>The <c>AddAiRbac</c> authorizer over the corpus, with <c>Shadow.Source</c> set.</summary>
    /// <returns>The number allowed.</returns>
    [Benchmark(Description = "AddAiRbac (metrics), shadow on", OperationsPerInvoke = ReferenceScenario.CorpusSize)]
    public int AddAiRbacShadowOn() => AuthorizeAll();

    private int AuthorizeAll()
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

    private void Setup(bool shadow)
    {
        var (scenario, policy) = BenchmarkSettings.Scenario(Scale);
        requests = [.. scenario.ParseRequests().Select(r => new PreparedRequest(r.Subject, r.Action, r.Resource))];
        PolicyAuthorizer? candidate = null;
        if (shadow)
        {
            candidate = new PolicyAuthorizer();
            candidate.Update(scenario.CompilePolicy(), new PolicyVersion("candidate", DateTimeOffset.UnixEpoch));
        }

        observer = new CountingObserver();
        authorizer = new PolicyAuthorizer([observer], candidate);
        authorizer.Update(policy, new PolicyVersion("live", DateTimeOffset.UnixEpoch));
        Verify(scenario, shadow ? ShadowOutcome.Agreed : ShadowOutcome.None);
    }

    private void SetupHosted(bool shadow)
    {
        var scenario = BenchmarkSettings.Scenario(Scale).Scenario;
        requests = [.. scenario.ParseRequests().Select(r => new PreparedRequest(r.Subject, r.Action, r.Resource))];
        observer = new CountingObserver();
        provider = new ServiceCollection()
            .AddSingleton<IDecisionObserver>(observer)
            .AddAiRbac(o =>
            {
                o.Source = AiRbacPolicySource.FromFile(scenario.PolicyPath);
                o.WatchFile = false;
                if (shadow)
                {
                    o.Shadow.Source = AiRbacPolicySource.FromFile(scenario.PolicyPath);
                }
            })
            .BuildServiceProvider();
        authorizer = provider.GetRequiredService<PolicyAuthorizer>();
        if (shadow != authorizer.Shadow is { HasPolicy: true })
        {
            throw new InvalidOperationException("The shadow policy did not load as set up.");
        }

        Verify(scenario, shadow ? ShadowOutcome.Agreed : ShadowOutcome.None);
    }

    // Every decision must match expected.jsonl, and every one must have been compared as set up (the warm-up too).
    private void Verify(ReferenceScenario scenario, ShadowOutcome expected)
    {
        scenario.Verify("PolicyAuthorizer", i => ReferenceScenario.ToExpected(authorizer.Authorize(requests[i].Subject, requests[i].Action, in requests[i].Resource)));
        if (observer.Outcomes[(int)expected] != requests.Length || observer.Seen != requests.Length)
        {
            throw new InvalidOperationException($"Expected every decision to be {expected} in shadow; saw {string.Join(", ", observer.Outcomes)}.");
        }
    }

    /// <summary>Counts decisions by shadow outcome: the cheapest observer, so the rows show the authorizer's cost.</summary>
    private sealed class CountingObserver : IDecisionObserver
    {
        public long[] Outcomes { get; } = new long[5];

        public long Seen { get; private set; }

        public void OnDecision(in DecisionRecord record)
        {
            Seen++;
            Outcomes[(int)record.Shadow]++;
        }
    }
}
