using BenchmarkDotNet.Attributes;

namespace AiRbac.Benchmarks.Scenarios;

/// <summary>
/// Scenario: the reference corpus in the shape services run it — a new <see cref="Subject"/> per request, built from
/// the request's id, kind and role names (and its on-behalf-of chain), as the adapters map claims. Figures are per
/// decision. <see cref="BuildOnly"/> and <see cref="BuildAndAuthorize"/> time building alone and building plus deciding;
/// their difference is the decision for a subject built per request (docs/benchmarks.md compares it with the reused
/// subjects of <see cref="CorpusBenchmarks"/>). <see cref="AuthorizeUnresolved"/> is the allocation-gated form.
/// </summary>
[MemoryDiagnoser]
public class SubjectPerRequestBenchmarks
{
    private CompiledPolicy policy = null!;
    private CompiledPolicy twin = null!;
    private Line[] lines = [];
    private PreparedRequest[] prepared = [];
    private Subject? last;

    /// <summary>The scales.</summary>
    public static IEnumerable<string> Scales => BenchmarkSettings.Scales;

    /// <summary>The scale: <c>scale-0</c>, <c>scale-1000</c> or <c>scale-10000</c> extra roles.</summary>
    [ParamsSource(nameof(Scales))]
    public string Scale { get; set; } = "scale-0";

    /// <summary>Reads the corpus into per-line subject inputs, checks every decision with subjects built per request, and warms the role-set tables.</summary>
    [GlobalSetup]
    public void Setup()
    {
        (var scenario, policy) = BenchmarkSettings.Scenario(Scale);
        var parsed = scenario.ParseRequests();
        lines = [.. parsed.Select(r => new Line(Inputs.Of(r.Subject), r.Action, r.Resource))];
        scenario.Verify("AiRbac (subject built per request)", i => ReferenceScenario.ToExpected(
            policy.Authorize(lines[i].Subject.Build(), lines[i].Action, in lines[i].Resource)));

        // The gated form: subjects built once, decided alternately by two compiled copies of the policy, so that each
        // decision finds the subject's cached table belonging to the other copy and resolves it from its role names,
        // exactly as for a subject built for this request (and with no construction inside the measured method).
        twin = scenario.CompilePolicy();
        prepared = [.. lines.Select(l => new PreparedRequest(l.Subject.Build(), l.Action, l.Resource))];
        scenario.Verify("AiRbac (subject resolved per request)", i => ReferenceScenario.ToExpected(
            (i % 2 == 0 ? twin : policy).Authorize(prepared[i].Subject, prepared[i].Action, in prepared[i].Resource)));
    }

    /// <summary>Builds each line's subject and nothing else: the cost a service pays before it asks.</summary>
    /// <returns>A value derived from every subject, so the JIT cannot drop the work.</returns>
    [Benchmark(Baseline = true, OperationsPerInvoke = ReferenceScenario.CorpusSize)]
    [BenchmarkCategory("PerRequest")]
    public int BuildOnly()
    {
        int sum = 0;
        foreach (ref readonly var line in lines.AsSpan())
        {
            var subject = line.Subject.Build();
            sum += subject.Id.Length;
            last = subject;
        }

        return sum;
    }

    /// <summary>Builds each line's subject and decides its request: what a service does per request.</summary>
    /// <returns>The number allowed.</returns>
    [Benchmark(OperationsPerInvoke = ReferenceScenario.CorpusSize)]
    [BenchmarkCategory("PerRequest")]
    public int BuildAndAuthorize()
    {
        int allowed = 0;
        foreach (ref readonly var line in lines.AsSpan())
        {
            if (policy.Authorize(line.Subject.Build(), line.Action, in line.Resource).Allowed)
            {
                allowed++;
            }
        }

        return allowed;
    }

    /// <summary>
    /// The decision for a subject that arrives unresolved (every request resolves its roles from names, finds its
    /// effective set's table and scans it), without the subject's construction: the form the allocation gate checks.
    /// </summary>
    /// <returns>The number allowed.</returns>
    [Benchmark(Description = "AiRbac Authorize, subject resolved per request", OperationsPerInvoke = 2 * ReferenceScenario.CorpusSize)]
    [BenchmarkCategory("Authorize")]
    public int AuthorizeUnresolved()
    {
        int allowed = PreparedRequest.AuthorizeAll(twin, prepared);
        allowed += PreparedRequest.AuthorizeAll(policy, prepared);
        return allowed / 2;
    }

    /// <summary>One corpus line: the subject's inputs and the request.</summary>
    private readonly struct Line(Inputs subject, string action, ResourceRequest resource)
    {
        public readonly Inputs Subject = subject;
        public readonly string Action = action;
        public readonly ResourceRequest Resource = resource;
    }

    /// <summary>What a request carries about its subject: id, kind, role bindings (names) and who it acts for.</summary>
    private sealed class Inputs(string id, SubjectKind? kind, RoleBinding[]? roles, Inputs? onBehalfOf)
    {
        public static Inputs Of(Subject s) => new(s.Id, s.Kind, s.Roles?.ToArray(), s.OnBehalfOf is null ? null : Of(s.OnBehalfOf));

        public Subject Build() => new(id, kind, roles, onBehalfOf?.Build());
    }
}
