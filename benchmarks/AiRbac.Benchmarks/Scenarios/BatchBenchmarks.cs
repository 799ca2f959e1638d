using System.Text;
using BenchmarkDotNet.Attributes;

namespace AiRbac.Benchmarks.Scenarios;

/// <summary>
/// Scenario: <see cref="CompiledPolicy.AuthorizeMany"/> against a loop of single <see cref="CompiledPolicy.Authorize(Subject, string, in ResourceRequest)"/>
/// calls over the same items. Two shapes: the 10,000-request reference corpus grouped by (subject, action), in corpus
/// order of each group's first request (groups are small: about 5,900 of them); and retrieval-shaped batches of 64
/// resources each (the corpus's resources for the group's action, taken in corpus order), one batch per group, for the
/// first 156 groups (9,984 items); and the same batches asked by an agent acting for the group's subject (an agent
/// with the subject's roles, so that the chain's second link is decided for every item the agent may read); the batches
/// of 64 with one resource name repeated (the group's first resource 64 times, as the chunks of one document); and the
/// batches of 64 with caller tiers and tags on every item (the policy's two lowest tiers, and no tag, pii or phi, in
/// turn, so that the request's part of step 2 looks each up, and step 8 judges ceilings and clearances). One subject object per group,
/// reused by every form. Figures are per item. Each shape has two loops of single calls: one that only
/// counts the allowed items (the cheapest consumer), and one that stores each decision in a span and then counts, as
/// <see cref="CompiledPolicy.AuthorizeMany"/> does (the same output).
/// </summary>
/// <remarks>
/// The grouped-corpus batch is also in the <c>Authorize</c> category, so that the CI allocation gate checks that
/// <see cref="CompiledPolicy.AuthorizeMany"/> allocates nothing on the reference corpus at scale-0 and scale-10000.
/// </remarks>
[MemoryDiagnoser]
public class BatchBenchmarks
{
    private const int RetrievalBatch = 64;
    private const int RetrievalGroups = 156;
    private const int RetrievalItems = RetrievalBatch * RetrievalGroups;

    private CompiledPolicy policy = null!;
    private Group[] corpus = [];
    private Group[] retrieval = [];
    private Group[] delegated = [];
    private Group[] repeated = [];
    private Group[] tiered = [];
    private Decision[] scratch = [];

    /// <summary>The scales.</summary>
    public static IEnumerable<string> Scales => BenchmarkSettings.Scales;

    /// <summary>The scale: <c>scale-0</c>, <c>scale-1000</c> or <c>scale-10000</c> extra roles.</summary>
    [ParamsSource(nameof(Scales))]
    public string Scale { get; set; } = "scale-0";

    /// <summary>Groups the corpus, checks every batch item against the expected decisions and single calls, and warms the tables.</summary>
    [GlobalSetup]
    public void Setup()
    {
        (var scenario, policy) = BenchmarkSettings.Scenario(Scale);
        var parsed = scenario.ParseRequests();
        var groups = new Dictionary<string, (Subject Subject, string Action, List<int> Lines)>(StringComparer.Ordinal);
        var order = new List<string>();
        for (int i = 0; i < parsed.Length; i++)
        {
            string key = KeyOf(parsed[i].Subject) + "\n" + parsed[i].Action;
            if (!groups.TryGetValue(key, out var group))
            {
                groups.Add(key, group = (parsed[i].Subject, parsed[i].Action, []));
                order.Add(key);
            }

            group.Lines.Add(i);
        }

        corpus = [.. order.Select(k => groups[k]).Select(g => new Group(g.Subject, g.Action, [.. g.Lines.Select(i => parsed[i].Resource)], [.. g.Lines]))];
        scratch = new Decision[Math.Max(RetrievalBatch, corpus.Max(g => g.Resources.Length))];

        // Every item of a batch must be the corpus's expected decision.
        var decided = new Decision[parsed.Length];
        foreach (var group in corpus)
        {
            var decisions = new Decision[group.Resources.Length];
            policy.AuthorizeMany(group.Subject, group.Action, group.Resources, decisions);
            for (int j = 0; j < decisions.Length; j++)
            {
                decided[group.Lines[j]] = decisions[j];
            }
        }

        scenario.Verify("AiRbac AuthorizeMany (corpus grouped by subject and action)", i => ReferenceScenario.ToExpected(decided[i]));

        var byAction = parsed.GroupBy(r => r.Action, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Select(r => r.Resource).ToArray(), StringComparer.Ordinal);
        retrieval = [.. corpus.Take(RetrievalGroups).Select(g =>
        {
            var pool = byAction[g.Action];
            return new Group(g.Subject, g.Action, [.. Enumerable.Range(0, RetrievalBatch).Select(j => pool[j % pool.Length])], []);
        })];
        delegated = [.. retrieval.Select((g, i) => g with
        {
            Subject = new Subject("rag-agent-" + i.ToString(System.Globalization.CultureInfo.InvariantCulture), SubjectKind.Agent, g.Subject.Roles, g.Subject),
        })];
        repeated = [.. retrieval.Select(g => g with { Resources = [.. Enumerable.Repeat(g.Resources[0], RetrievalBatch)] })];
        string[] tiers = [policy.Tiers[0], policy.Tiers[1]];
        string[][] tags = [[], ["pii"], [], ["phi"]];
        tiered = [.. retrieval.Select(g => g with
        {
            Resources = [.. g.Resources.Select((r, j) => r with { Sensitivity = tiers[j % tiers.Length], Tags = tags[j % tags.Length] })],
        })];
        int chainAllowed = 0, tieredAllowed = 0;
        foreach (var group in retrieval.Concat(delegated).Concat(repeated).Concat(tiered))
        {
            policy.AuthorizeMany(group.Subject, group.Action, group.Resources, scratch.AsSpan(0, group.Resources.Length));
            chainAllowed += group.Subject.OnBehalfOf is null ? 0 : scratch.AsSpan(0, group.Resources.Length).ToArray().Count(d => d.Allowed);
            tieredAllowed += group.Resources[0].Sensitivity is null ? 0 : scratch.AsSpan(0, group.Resources.Length).ToArray().Count(d => d.Allowed);
            for (int j = 0; j < group.Resources.Length; j++)
            {
                if (scratch[j] != policy.Authorize(group.Subject, group.Action, in group.Resources[j]))
                {
                    throw new InvalidOperationException($"AuthorizeMany and Authorize disagree on {group.Subject.Id} {group.Action} {group.Resources[j].Name}");
                }
            }
        }

        if (chainAllowed < RetrievalItems / 10)
        {
            throw new InvalidOperationException($"only {chainAllowed} delegated items allowed: the chain's second link is rarely decided");
        }

        if (tieredAllowed < RetrievalItems / 10)
        {
            throw new InvalidOperationException($"only {tieredAllowed} items with caller tiers and tags allowed: ceilings and clearances are rarely judged");
        }
    }

    /// <summary>The corpus grouped by (subject, action): one <see cref="CompiledPolicy.AuthorizeMany"/> per group.</summary>
    /// <returns>The number allowed.</returns>
    [Benchmark(Description = "Corpus groups: AuthorizeMany", OperationsPerInvoke = ReferenceScenario.CorpusSize)]
    [BenchmarkCategory("Batch", "Authorize")]
    public int CorpusAuthorizeMany() => Batch(corpus);

    /// <summary>The corpus grouped by (subject, action): a loop of single calls over the same items.</summary>
    /// <returns>The number allowed.</returns>
    [Benchmark(Description = "Corpus groups: loop of Authorize", Baseline = true, OperationsPerInvoke = ReferenceScenario.CorpusSize)]
    [BenchmarkCategory("Batch")]
    public int CorpusSingleCalls() => Single(corpus);

    /// <summary>The corpus grouped by (subject, action): a loop of single calls that stores each decision, as the batch does.</summary>
    /// <returns>The number allowed.</returns>
    [Benchmark(Description = "Corpus groups: loop of Authorize into a span", OperationsPerInvoke = ReferenceScenario.CorpusSize)]
    [BenchmarkCategory("Batch")]
    public int CorpusSingleCallsStored() => SingleStored(corpus);

    /// <summary>Retrieval-shaped batches of 64: one <see cref="CompiledPolicy.AuthorizeMany"/> per batch.</summary>
    /// <returns>The number allowed.</returns>
    [Benchmark(Description = "Batches of 64: AuthorizeMany", OperationsPerInvoke = RetrievalItems)]
    [BenchmarkCategory("Batch")]
    public int RetrievalAuthorizeMany() => Batch(retrieval);

    /// <summary>Retrieval-shaped batches of 64: a loop of single calls over the same items.</summary>
    /// <returns>The number allowed.</returns>
    [Benchmark(Description = "Batches of 64: loop of Authorize", OperationsPerInvoke = RetrievalItems)]
    [BenchmarkCategory("Batch")]
    public int RetrievalSingleCalls() => Single(retrieval);

    /// <summary>Retrieval-shaped batches of 64: a loop of single calls that stores each decision, as the batch does.</summary>
    /// <returns>The number allowed.</returns>
    [Benchmark(Description = "Batches of 64: loop of Authorize into a span", OperationsPerInvoke = RetrievalItems)]
    [BenchmarkCategory("Batch")]
    public int RetrievalSingleCallsStored() => SingleStored(retrieval);

    /// <summary>Batches of 64 asked by an agent acting for the group's subject: one <see cref="CompiledPolicy.AuthorizeMany"/> per batch.</summary>
    /// <returns>The number allowed.</returns>
    [Benchmark(Description = "Agent for user, batches of 64: AuthorizeMany", OperationsPerInvoke = RetrievalItems)]
    [BenchmarkCategory("Batch")]
    public int DelegatedAuthorizeMany() => Batch(delegated);

    /// <summary>Batches of 64 asked by an agent acting for the group's subject: a loop of single calls over the same items.</summary>
    /// <returns>The number allowed.</returns>
    [Benchmark(Description = "Agent for user, batches of 64: loop of Authorize", OperationsPerInvoke = RetrievalItems)]
    [BenchmarkCategory("Batch")]
    public int DelegatedSingleCalls() => Single(delegated);

    /// <summary>Batches of 64 asked by an agent acting for the group's subject: a loop of single calls that stores each decision.</summary>
    /// <returns>The number allowed.</returns>
    [Benchmark(Description = "Agent for user, batches of 64: loop of Authorize into a span", OperationsPerInvoke = RetrievalItems)]
    [BenchmarkCategory("Batch")]
    public int DelegatedSingleCallsStored() => SingleStored(delegated);

    /// <summary>Batches of 64 of one resource name repeated: one <see cref="CompiledPolicy.AuthorizeMany"/> per batch.</summary>
    /// <returns>The number allowed.</returns>
    [Benchmark(Description = "One name repeated, batches of 64: AuthorizeMany", OperationsPerInvoke = RetrievalItems)]
    [BenchmarkCategory("Batch")]
    public int RepeatedAuthorizeMany() => Batch(repeated);

    /// <summary>Batches of 64 of one resource name repeated: a loop of single calls over the same items.</summary>
    /// <returns>The number allowed.</returns>
    [Benchmark(Description = "One name repeated, batches of 64: loop of Authorize", OperationsPerInvoke = RetrievalItems)]
    [BenchmarkCategory("Batch")]
    public int RepeatedSingleCalls() => Single(repeated);

    /// <summary>Batches of 64 of one resource name repeated: a loop of single calls that stores each decision.</summary>
    /// <returns>The number allowed.</returns>
    [Benchmark(Description = "One name repeated, batches of 64: loop of Authorize into a span", OperationsPerInvoke = RetrievalItems)]
    [BenchmarkCategory("Batch")]
    public int RepeatedSingleCallsStored() => SingleStored(repeated);

    /// <summary>Batches of 64 with caller tiers and tags on every item: one <see cref="CompiledPolicy.AuthorizeMany"/> per batch.</summary>
    /// <returns>The number allowed.</returns>
    [Benchmark(Description = "Tiers and tags, batches of 64: AuthorizeMany", OperationsPerInvoke = RetrievalItems)]
    [BenchmarkCategory("Batch")]
    public int TieredAuthorizeMany() => Batch(tiered);

    /// <summary>Batches of 64 with caller tiers and tags on every item: a loop of single calls over the same items.</summary>
    /// <returns>The number allowed.</returns>
    [Benchmark(Description = "Tiers and tags, batches of 64: loop of Authorize", OperationsPerInvoke = RetrievalItems)]
    [BenchmarkCategory("Batch")]
    public int TieredSingleCalls() => Single(tiered);

    /// <summary>Batches of 64 with caller tiers and tags on every item: a loop of single calls that stores each decision.</summary>
    /// <returns>The number allowed.</returns>
    [Benchmark(Description = "Tiers and tags, batches of 64: loop of Authorize into a span", OperationsPerInvoke = RetrievalItems)]
    [BenchmarkCategory("Batch")]
    public int TieredSingleCallsStored() => SingleStored(tiered);

    private int Batch(Group[] groups)
    {
        int allowed = 0;
        foreach (var group in groups)
        {
            var decisions = scratch.AsSpan(0, group.Resources.Length);
            policy.AuthorizeMany(group.Subject, group.Action, group.Resources, decisions);
            foreach (ref readonly var decision in decisions)
            {
                allowed += decision.Allowed ? 1 : 0;
            }
        }

        return allowed;
    }

    private int Single(Group[] groups)
    {
        int allowed = 0;
        foreach (var group in groups)
        {
            foreach (ref readonly var resource in group.Resources.AsSpan())
            {
                allowed += policy.Authorize(group.Subject, group.Action, in resource).Allowed ? 1 : 0;
            }
        }

        return allowed;
    }

    private int SingleStored(Group[] groups)
    {
        int allowed = 0;
        foreach (var group in groups)
        {
            var decisions = scratch.AsSpan(0, group.Resources.Length);
            for (int i = 0; i < decisions.Length; i++)
            {
                decisions[i] = policy.Authorize(group.Subject, group.Action, in group.Resources[i]);
            }

            foreach (ref readonly var decision in decisions)
            {
                allowed += decision.Allowed ? 1 : 0;
            }
        }

        return allowed;
    }

    /// <summary>A subject's identity as the corpus writes it: id, kind, bindings, and its chain.</summary>
    private static string KeyOf(Subject subject)
    {
        var sb = new StringBuilder();
        for (Subject? s = subject; s is not null; s = s.OnBehalfOf)
        {
            sb.Append(s.Id).Append('|').Append(s.Kind?.ToString() ?? "-").Append('|');
            if (s.Roles is { } roles)
            {
                foreach (var binding in roles)
                {
                    sb.Append(binding.Role).Append('@').Append(binding.Scope).Append('@').Append(binding.Expires?.UtcTicks).Append(',');
                }
            }
            else
            {
                sb.Append("(policy)");
            }

            sb.Append('>');
        }

        return sb.ToString();
    }

    private sealed record Group(Subject Subject, string Action, ResourceRequest[] Resources, int[] Lines);
}
