using AiRbac.Store.Tests;
using BenchmarkDotNet.Attributes;
using Microsoft.EntityFrameworkCore;

namespace AiRbac.Benchmarks;

/// <summary>
/// Retrieval from PostgreSQL (docs/retrieval.md, "Store filters"): the filter pushed down into the SQL query and the rows
/// post-filtered, against fetching every row and deciding each with <see cref="CompiledPolicy.AuthorizeMany"/>. Both
/// end with exactly the allowed rows. 100,000 random documents of the store tests, in a server this benchmark starts
/// (initdb into a temporary folder; needs the PostgreSQL binaries). Not in the CI pass (category <c>Store</c>).
/// </summary>
[BenchmarkCategory("Store")]
[MemoryDiagnoser]
public class StoreFilterBenchmarks
{
    private DocumentStore? store;
    private StoreFilter<Document>? filter;

    /// <summary>The subject: an analyst (about a fifth of the rows allowed) or a clinician bound in one scope (about 2 %).</summary>
    [Params("alice", "carol")]
    public string Subject { get; set; } = "alice";

    [GlobalSetup]
    public void Setup()
    {
        store = new DocumentStore();
        if (store.Unavailable is not null)
        {
            throw new InvalidOperationException(store.Unavailable);
        }

        AiRbac.Subject subject = Subject == "alice"
            ? AiRbac.Subject.WithRoles("alice", SubjectKind.User, "analyst")
            : new AiRbac.Subject("carol", SubjectKind.User, [new RoleBinding("clinician", Scope: "acme/health"), new RoleBinding("viewer")]);
        filter = StoreScenario.Policy.FilterFor(subject, "data:read").ToStoreFilter(StoreScenario.Mapping, StoreScenario.Postgres);
        if (PushedDown() != FetchAllThenPostFilter())
        {
            throw new InvalidOperationException("the two ways disagree");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => store?.Dispose();

    [Benchmark(Baseline = true)]
    public int FetchAllThenPostFilter()
    {
        using var context = store!.NewContext();
        List<Document> rows = [.. context.Documents.AsNoTracking()];
        return filter!.PostFilter(rows).Count;
    }

    [Benchmark]
    public int PushedDown()
    {
        using var context = store!.NewContext();
        List<Document> rows = [.. filter!.Apply(context.Documents.AsNoTracking())];
        return filter.PostFilter(rows).Count;
    }
}
