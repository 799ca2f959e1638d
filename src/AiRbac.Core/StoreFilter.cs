using System.Linq.Expressions;

namespace AiRbac;

/// <summary>How <see cref="PolicyFilter.ToStoreFilter{TRecord}"/> may translate the parts that plain comparisons cannot express.</summary>
public sealed class StoreFilterOptions
{
    /// <summary>
    /// A pattern test the store translates, such as EF Core's <c>(s, p) =&gt; EF.Functions.Like(s, p, "\\")</c>: it is called
    /// with a field and a <c>LIKE</c> pattern in which <c>%</c> matches any run, and <c>\</c> escapes <c>%</c>, <c>_</c> and
    /// <c>\</c> (the pattern never uses <c>_</c> as a wildcard). With it, name globs and scope paths are pushed into the
    /// store; without it (the default, for <c>Microsoft.Extensions.VectorData</c> providers), only exact names are, and
    /// the rest is post-filtered.
    /// </summary>
    public Expression<Func<string, string, bool>>? Like { get; init; }

    /// <summary>
    /// Whether the store translates <c>tags.All(t =&gt; allowed.Contains(t))</c> (Npgsql: <c>tags &lt;@ @Clearances</c>, which never counts a null tag as allowed):
    /// then a record with a tag the policy never names is excluded in the store. Without it (the default), such records
    /// are post-filtered.
    /// </summary>
    public bool TagSubset { get; init; }
}

/// <summary>Why a store filter may pass records that <see cref="CompiledPolicy.Authorize(Subject, string, in ResourceRequest)"/> denies (none: it is exact).</summary>
[Flags]
public enum StoreFilterApproximations
{
    /// <summary>Exact: the store passes exactly the records the subject may act on.</summary>
    None = 0,

    /// <summary>A name pattern other than an exact name or <c>**</c> (or, with <see cref="StoreFilterOptions.Like"/>, one with <c>*</c>, <c>?</c> or a class) is widened.</summary>
    NamePatterns = 1,

    /// <summary>Scope coverage or scope syntax is widened (a mapped scope without <see cref="StoreFilterOptions.Like"/>).</summary>
    ScopePaths = 2,

    /// <summary>A record tag the policy never names is not tested in the store (mapped tags without <see cref="StoreFilterOptions.TagSubset"/>).</summary>
    UnknownTags = 4,

    /// <summary>The policy filter is incomplete (a size bound was reached): the store filter passes every record.</summary>
    Incomplete = 8,
}

/// <summary>
/// A <see cref="PolicyFilter"/> translated for a store (docs/retrieval.md): a predicate over mapped records that passes
/// every record the subject may act on (and, when <see cref="IsExact"/>, only those), and the post-filter that makes the
/// final result exact.
/// </summary>
/// <typeparam name="TRecord">The record type of the store.</typeparam>
public sealed class StoreFilter<TRecord>
{
    internal StoreFilter(PolicyFilter filter, RecordMapping<TRecord> mapping, Expression<Func<TRecord, bool>> predicate, StoreFilterApproximations approximations)
    {
        Filter = filter;
        Mapping = mapping;
        Predicate = predicate;
        Approximations = approximations;
    }

    /// <summary>The policy filter translated.</summary>
    public PolicyFilter Filter { get; }

    /// <summary>The record mapping used.</summary>
    public RecordMapping<TRecord> Mapping { get; }

    /// <summary>
    /// The predicate for the store (<c>VectorSearchOptions&lt;TRecord&gt;.Filter</c>, an EF Core <c>Where</c>): equality,
    /// <c>&amp;&amp;</c>, <c>||</c>, <c>!</c>, constants, captured values (which EF Core sends as parameters: docs/retrieval.md,
    /// "Parameters"), the mapped fields and <c>Enumerable.Contains</c>, plus the
    /// <see cref="StoreFilterOptions"/> calls when given. It passes every record <see cref="Filter"/> passes.
    /// </summary>
    public Expression<Func<TRecord, bool>> Predicate { get; }

    /// <summary>What the predicate widens; <see cref="StoreFilterApproximations.None"/> when it is exact.</summary>
    public StoreFilterApproximations Approximations { get; }

    /// <summary>Whether the predicate passes exactly the records the subject may act on (while the policy's clock reads an instant from <see cref="PolicyFilter.ValidFrom"/> until <see cref="PolicyFilter.ValidUntil"/>).</summary>
    public bool IsExact => Approximations == StoreFilterApproximations.None;

    /// <summary>The query with the predicate applied (<c>source.Where(Predicate)</c>).</summary>
    /// <param name="source">The store's query.</param>
    /// <returns>The filtered query.</returns>
    public IQueryable<TRecord> Apply(IQueryable<TRecord> source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return source.Where(Predicate);
    }

    /// <summary>
    /// The records the subject may act on, in their order: each decided by <see cref="CompiledPolicy.AuthorizeMany"/>
    /// now, for the filter's subject and action. Applied to what the store returned, it makes the result exact.
    /// </summary>
    /// <param name="records">The records the store returned.</param>
    /// <returns>The allowed records.</returns>
    public IReadOnlyList<TRecord> PostFilter(IEnumerable<TRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        return PostFilter(records, static record => record);
    }

    /// <summary>
    /// The items whose record the subject may act on, in their order: as <see cref="PostFilter(IEnumerable{TRecord})"/>,
    /// for a store that returns its records wrapped (a vector search result with its score, a projection).
    /// </summary>
    /// <typeparam name="TItem">What the store returned for each record.</typeparam>
    /// <param name="items">The items the store returned.</param>
    /// <param name="recordOf">The record of an item, for example <c>hit =&gt; hit.Record</c>.</param>
    /// <returns>The items whose record is allowed.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <remarks>An exception thrown by <paramref name="recordOf"/> or by the mapping propagates: nothing is returned.</remarks>
    public IReadOnlyList<TItem> PostFilter<TItem>(IEnumerable<TItem> items, Func<TItem, TRecord> recordOf)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(recordOf);
        TItem[] candidates = [.. items];
        var resources = new ResourceRequest[candidates.Length];
        for (int i = 0; i < candidates.Length; i++)
        {
            resources[i] = Mapping.ToResource(recordOf(candidates[i]));
        }

        var decisions = new Decision[candidates.Length];
        Filter.Policy.AuthorizeMany(Filter.Subject, Filter.Action, resources, decisions);
        var allowed = new List<TItem>(candidates.Length);
        for (int i = 0; i < candidates.Length; i++)
        {
            if (decisions[i].Allowed)
            {
                allowed.Add(candidates[i]);
            }
        }

        return allowed;
    }
}
