using AiRbac.Benchmarks.Scenarios;
using BenchmarkDotNet.Attributes;

namespace AiRbac.Benchmarks.Micro;

/// <summary>
/// Micro: how much of the corpus figure is memory traffic. The corpus benchmark gives every line its own
/// <see cref="Subject"/> (10,000 subjects, each with its own resolution), as a JSON-fed service would; an
/// application that keeps one subject per principal touches far fewer objects. Same requests, same decisions.
/// </summary>
[MemoryDiagnoser]
[BenchmarkCategory("Micro")]
public class SubjectReuseBenchmarks
{
    private CompiledPolicy policy = null!;
    private PreparedRequest[] perLine = [];
    private PreparedRequest[] perPrincipal = [];

    /// <summary>The scales.</summary>
    public static IEnumerable<string> Scales => BenchmarkSettings.Scales;

    /// <summary>The scale: <c>scale-0</c>, <c>scale-1000</c> or <c>scale-10000</c> extra roles.</summary>
    [ParamsSource(nameof(Scales))]
    public string Scale { get; set; } = "scale-0";

    /// <summary>Number of distinct principals in the corpus at this scale (printed by GlobalSetup).</summary>
    public int DistinctPrincipals { get; private set; }

    /// <summary>Prepares both forms of the corpus and checks both against expected.jsonl.</summary>
    [GlobalSetup]
    public void Setup()
    {
        (var scenario, policy) = BenchmarkSettings.Scenario(Scale);
        var parsed = scenario.ParseRequests();
        perLine = [.. parsed.Select(r => new PreparedRequest(r.Subject, r.Action, r.Resource))];
        var principals = new Dictionary<string, Subject>(StringComparer.Ordinal);
        perPrincipal = [.. parsed.Select(r =>
        {
            var s = r.Subject;
            string key = $"{s.Id}|{s.Kind}|{(s.Roles is null ? "null" : string.Join(",", s.Roles.Select(b => $"{b.Role}@{b.Scope}@{b.Expires:O}")))}|{s.OnBehalfOf is not null}";
            if (s.OnBehalfOf is not null || !principals.TryGetValue(key, out var shared))
            {
                shared = s;
                principals[key] = s;
            }

            return new PreparedRequest(shared, r.Action, r.Resource);
        })];
        DistinctPrincipals = principals.Count;
        Console.WriteLine($"// {Scale}: {DistinctPrincipals} distinct principals in {perLine.Length} requests");
        scenario.Verify("AiRbac (subject per line)", i => ReferenceScenario.ToExpected(policy.Authorize(perLine[i].Subject, perLine[i].Action, in perLine[i].Resource)));
        scenario.Verify("AiRbac (subject per principal)", i => ReferenceScenario.ToExpected(policy.Authorize(perPrincipal[i].Subject, perPrincipal[i].Action, in perPrincipal[i].Resource)));
    }

    /// <summary>One subject object per corpus line (what the corpus benchmark times).</summary>
    /// <returns>The number allowed.</returns>
    [Benchmark(Baseline = true, OperationsPerInvoke = ReferenceScenario.CorpusSize)]
    public int SubjectPerLine() => PreparedRequest.AuthorizeAll(policy, perLine);

    /// <summary>One subject object per distinct principal, reused across its requests.</summary>
    /// <returns>The number allowed.</returns>
    [Benchmark(OperationsPerInvoke = ReferenceScenario.CorpusSize)]
    public int SubjectPerPrincipal() => PreparedRequest.AuthorizeAll(policy, perPrincipal);
}
