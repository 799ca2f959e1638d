using System.Linq.Expressions;
using Microsoft.Extensions.VectorData;

namespace AiRbac.Extensions.AI;

/// <summary>
/// Permission-aware vector search over a <c>Microsoft.Extensions.VectorData</c> collection (docs/retrieval.md, "Audited
/// retrieval"): each search pushes the subject's policy filter into the store (<see cref="VectorSearchOptions{TRecord}.Filter"/>),
/// post-filters what the store returns with one batch decision, so the result is exactly what
/// <see cref="CompiledPolicy.Authorize(Subject, string, in ResourceRequest)"/> allows, and records the query in the
/// audit trail (<see cref="PolicyAuthorizer.RecordRetrieval"/>). Thread-safe; build one per collection and action.
/// </summary>
/// <typeparam name="TKey">The key type of the collection.</typeparam>
/// <typeparam name="TRecord">The record type of the collection.</typeparam>
/// <remarks>
/// Fails closed: when the store, the mapping, the policy or an audit observer throws, the search throws (after recording
/// the query as failed) and returns nothing; a store that ignores the filter, or returns more than it was asked for, is
/// cut at <c>top</c> results and post-filtered all the same.
/// </remarks>
public sealed class AiRbacRetriever<TKey, TRecord>
    where TKey : notnull
    where TRecord : class
{
    /// <summary>The most results one search may ask for.</summary>
    public const int MaxTop = Tuning.Adapters.MaxRetrievalTop;

    private readonly VectorStoreCollection<TKey, TRecord> collection;
    private readonly PolicyAuthorizer authorizer;
    private readonly RecordMapping<TRecord> mapping;
    private readonly string storeName;

    /// <summary>Creates a retriever.</summary>
    /// <param name="collection">The collection to search.</param>
    /// <param name="authorizer">The authorizer whose current policy filters every search, and whose observers audit it.</param>
    /// <param name="mapping">Which record fields hold the resource's name, scope, tier, tags and owner.</param>
    /// <param name="action">The action the results are for, such as <c>data:read</c>.</param>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="action"/> is empty.</exception>
    public AiRbacRetriever(VectorStoreCollection<TKey, TRecord> collection, PolicyAuthorizer authorizer, RecordMapping<TRecord> mapping, string action)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentNullException.ThrowIfNull(authorizer);
        ArgumentNullException.ThrowIfNull(mapping);
        ArgumentException.ThrowIfNullOrEmpty(action);
        this.collection = collection;
        this.authorizer = authorizer;
        this.mapping = mapping;
        Action = action;
        storeName = collection.Name;
    }

    /// <summary>The action the results are filtered for.</summary>
    public string Action { get; }

    /// <summary>
    /// Searches the collection for the records most similar to <paramref name="searchValue"/> that
    /// <paramref name="subject"/> may perform <see cref="Action"/> on: the store applies the policy filter (and the
    /// caller's <see cref="VectorSearchOptions{TRecord}.Filter"/>, if any, with a logical and), at most
    /// <paramref name="top"/> results are read, and each is decided again by the policy, now. The query is recorded in
    /// the audit trail with the counts of candidates, removed and returned records.
    /// </summary>
    /// <typeparam name="TInput">The search value's type, as the collection accepts it (an embedding, or text it embeds itself).</typeparam>
    /// <param name="subject">Who searches, with the subjects it acts on behalf of.</param>
    /// <param name="searchValue">The value to search for.</param>
    /// <param name="top">The most results to read from the store, 1 to <see cref="MaxTop"/>.</param>
    /// <param name="options">
    /// Search options: the filter (which can only narrow the policy's), the vector property, skip, score threshold and
    /// whether to include vectors are passed on; the options object itself is not changed.
    /// </param>
    /// <param name="cancellationToken">Cancels the search.</param>
    /// <returns>The allowed results, in the store's order, with their scores: at most <paramref name="top"/>, fewer when the post-filter removed some (ask for more, or page with <see cref="VectorSearchOptions{TRecord}.Skip"/>).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="subject"/> or <paramref name="searchValue"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="top"/> is below 1 or above <see cref="MaxTop"/>.</exception>
    public async Task<IReadOnlyList<VectorSearchResult<TRecord>>> SearchAsync<TInput>(
        Subject subject, TInput searchValue, int top, VectorSearchOptions<TRecord>? options = null, CancellationToken cancellationToken = default)
        where TInput : notnull
    {
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentNullException.ThrowIfNull(searchValue);
        ArgumentOutOfRangeException.ThrowIfLessThan(top, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(top, MaxTop);

        PolicyFilter filter = authorizer.FilterFor(subject, Action);
        var approximations = StoreFilterApproximations.None;
        var candidates = new List<VectorSearchResult<TRecord>>();
        IReadOnlyList<VectorSearchResult<TRecord>> allowed;
        try
        {
            StoreFilter<TRecord> store = filter.ToStoreFilter(mapping);
            approximations = store.Approximations;
            var search = new VectorSearchOptions<TRecord>
            {
                Filter = Narrowed(store.Predicate, options?.Filter),
                VectorProperty = options?.VectorProperty,
                Skip = options?.Skip ?? 0,
                ScoreThreshold = options?.ScoreThreshold,
                IncludeVectors = options?.IncludeVectors ?? false,
            };
            await foreach (var hit in collection.SearchAsync(searchValue, top, search, cancellationToken).ConfigureAwait(false))
            {
                candidates.Add(hit);
                if (candidates.Count == top)
                {
                    break; // a store that returns more than it was asked for is cut: the work stays bounded
                }
            }

            allowed = store.PostFilter(candidates, static hit => hit.Record);
        }
        catch (Exception)
        {
            authorizer.RecordRetrieval(filter, storeName, approximations, candidates.Count, 0, failed: true);
            throw;
        }

        authorizer.RecordRetrieval(filter, storeName, approximations, candidates.Count, allowed.Count, failed: false);
        return allowed;
    }

    /// <summary>The policy's predicate, and the caller's on the same record parameter when there is one.</summary>
    private static Expression<Func<TRecord, bool>> Narrowed(Expression<Func<TRecord, bool>> policy, Expression<Func<TRecord, bool>>? caller)
    {
        if (caller is null)
        {
            return policy;
        }

        var record = policy.Parameters[0];
        var callerBody = new ParameterReplacer(caller.Parameters[0], record).Visit(caller.Body);
        return Expression.Lambda<Func<TRecord, bool>>(Expression.AndAlso(policy.Body, callerBody), record);
    }
}
