using System.Linq.Expressions;
using AiRbac.Store.Tests;
using BenchmarkDotNet.Attributes;
using Microsoft.EntityFrameworkCore;

namespace AiRbac.Benchmarks;

/// <summary>
/// Store filters with parameters (docs/retrieval.md, "Parameters"): a subject never seen before but with the roles of
/// subjects seen before (a clinician bound in a ward of her own, plus viewer), its filter as built (its scope a
/// parameter: EF Core reuses the compiled query) against the same filter with every value inlined as a literal (a new
/// SQL text: EF Core compiles the query again, what each new subject cost before parameters). Both select the same rows
/// from the store tests' 100,000 documents. Not in the CI pass (category <c>Store</c>).
/// </summary>
[BenchmarkCategory("Store")]
[MemoryDiagnoser]
public class StoreParameterBenchmarks
{
    private DocumentStore? store;
    private int next;

    [GlobalSetup]
    public void Setup()
    {
        store = new DocumentStore();
        if (store.Unavailable is not null)
        {
            throw new InvalidOperationException(store.Unavailable);
        }

        if (Parameters() != Inlined())
        {
            throw new InvalidOperationException("the two ways disagree");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => store?.Dispose();

    [Benchmark(Baseline = true)]
    public int Inlined()
    {
        var predicate = (Expression<Func<Document, bool>>)new InlineValues().Visit(NextFilter().Predicate);
        using var context = store!.NewContext();
        return context.Documents.AsNoTracking().Where(predicate).Select(d => d.Id).ToList().Count;
    }

    [Benchmark]
    public int Parameters()
    {
        var filter = NextFilter();
        using var context = store!.NewContext();
        return filter.Apply(context.Documents.AsNoTracking()).Select(d => d.Id).ToList().Count;
    }

    private StoreFilter<Document> NextFilter()
    {
        int n = Interlocked.Increment(ref next);
        var subject = new Subject("clinician-" + n, SubjectKind.User, [new RoleBinding("clinician", Scope: "acme/health/ward-" + n), new RoleBinding("viewer")]);
        return StoreScenario.Policy.FilterFor(subject, "data:read").ToStoreFilter(StoreScenario.Mapping, StoreScenario.Postgres);
    }

    /// <summary>Replaces each captured value (a member of a constant object) with a constant: the filter as it was before parameters.</summary>
    private sealed class InlineValues : ExpressionVisitor
    {
        protected override Expression VisitMember(MemberExpression node)
            => node.Expression is ConstantExpression { Value: { } holder } && node.Member is System.Reflection.PropertyInfo property
                ? Expression.Constant(property.GetValue(holder), node.Type)
                : base.VisitMember(node);
    }
}
