using System.Linq.Expressions;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.VectorData;

namespace AiRbac.Samples.RagRetrieval;

/// <summary>
/// A <see cref="VectorStoreCollection{TKey, TRecord}"/> held in memory, standing in for a vector database connector
/// (also linked into tests/AiRbac.Extensions.AI.Tests). A search embeds text with the given embedding generator (or
/// takes an embedding), keeps the records the filter passes, and ranks them by cosine similarity. The filter is
/// translated as a provider would: only the shapes <c>Microsoft.Extensions.VectorData</c> providers translate are
/// accepted (the record's fields, constants and captured values, <c>==</c>, <c>!=</c>, <c>&amp;&amp;</c>, <c>||</c>,
/// <c>!</c> and <c>Enumerable.Contains</c>); anything else is refused with <see cref="NotSupportedException"/>, then the
/// expression is compiled and run on every record.
/// </summary>
/// <typeparam name="TKey">The key type.</typeparam>
/// <typeparam name="TRecord">The record type.</typeparam>
/// <param name="name">The collection's name.</param>
/// <param name="keyOf">The key of a record.</param>
/// <param name="vectorOf">The embedding of a record.</param>
/// <param name="embedder">Embeds text search values; without it, only embeddings can be searched for.</param>
public sealed class InMemoryVectorCollection<TKey, TRecord>(
    string name,
    Func<TRecord, TKey> keyOf,
    Func<TRecord, ReadOnlyMemory<float>> vectorOf,
    IEmbeddingGenerator<string, Embedding<float>>? embedder = null) : VectorStoreCollection<TKey, TRecord>
    where TKey : notnull
    where TRecord : class
{
    private readonly Dictionary<TKey, TRecord> records = [];
    private readonly object gate = new();
    private bool exists = true;

    /// <inheritdoc/>
    public override string Name => name;

    /// <summary>The filter of the last search or filtered get, as the collection received it.</summary>
    public Expression<Func<TRecord, bool>>? LastFilter { get; private set; }

    /// <summary>How many searches ran.</summary>
    public int Searches { get; private set; }

    /// <inheritdoc/>
    public override Task<bool> CollectionExistsAsync(CancellationToken cancellationToken = default) => Task.FromResult(exists);

    /// <inheritdoc/>
    public override Task EnsureCollectionExistsAsync(CancellationToken cancellationToken = default)
    {
        exists = true;
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public override Task EnsureCollectionDeletedAsync(CancellationToken cancellationToken = default)
    {
        lock (gate)
        {
            records.Clear();
            exists = false;
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public override Task<TRecord?> GetAsync(TKey key, RecordRetrievalOptions? options = null, CancellationToken cancellationToken = default)
    {
        lock (gate)
        {
            return Task.FromResult(records.GetValueOrDefault(key));
        }
    }

    /// <inheritdoc/>
    public override async IAsyncEnumerable<TRecord> GetAsync(
        Expression<Func<TRecord, bool>> filter, int top, FilteredRecordRetrievalOptions<TRecord>? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentOutOfRangeException.ThrowIfLessThan(top, 1);
        if (options?.OrderBy is not null)
        {
            throw new NotSupportedException("This in-memory collection does not order filtered gets.");
        }

        LastFilter = filter;
        var passes = Translate(filter);
        foreach (var record in Snapshot().Where(passes).Skip(options?.Skip ?? 0).Take(top))
        {
            cancellationToken.ThrowIfCancellationRequested();
            await Task.Yield();
            yield return record;
        }
    }

    /// <inheritdoc/>
    public override Task DeleteAsync(TKey key, CancellationToken cancellationToken = default)
    {
        lock (gate)
        {
            records.Remove(key);
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public override Task UpsertAsync(TRecord record, CancellationToken cancellationToken = default) => UpsertAsync([record], cancellationToken);

    /// <inheritdoc/>
    public override Task UpsertAsync(IEnumerable<TRecord> records, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(records);
        lock (gate)
        {
            foreach (var record in records)
            {
                this.records[keyOf(record)] = record;
            }
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public override async IAsyncEnumerable<VectorSearchResult<TRecord>> SearchAsync<TInput>(
        TInput searchValue, int top, VectorSearchOptions<TRecord>? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(searchValue);
        ArgumentOutOfRangeException.ThrowIfLessThan(top, 1);
        options ??= new VectorSearchOptions<TRecord>();
        ArgumentOutOfRangeException.ThrowIfNegative(options.Skip);
        ReadOnlyMemory<float> query = searchValue switch
        {
            ReadOnlyMemory<float> vector => vector,
            float[] vector => vector,
            Embedding<float> embedding => embedding.Vector,
            string text when embedder is not null => (await embedder.GenerateAsync([text], cancellationToken: cancellationToken).ConfigureAwait(false))[0].Vector,
            _ => throw new NotSupportedException($"This collection searches for embeddings, or for text when it has an embedding generator; not for {searchValue.GetType().Name}."),
        };

        Searches++;
        LastFilter = options.Filter;
        var passes = options.Filter is null ? static _ => true : Translate(options.Filter);
        var ranked = Snapshot()
            .Where(passes)
            .Select(record => (Record: record, Score: Similarity(query.Span, vectorOf(record).Span)))
            .Where(hit => options.ScoreThreshold is not { } threshold || hit.Score >= threshold)
            .OrderByDescending(hit => hit.Score)
            .Skip(options.Skip)
            .Take(top);
        foreach (var (record, score) in ranked)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return new VectorSearchResult<TRecord>(record, score);
        }
    }

    /// <inheritdoc/>
    public override object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is not null ? null
            : serviceType == typeof(VectorStoreCollectionMetadata) ? new VectorStoreCollectionMetadata { VectorStoreSystemName = "in-memory", CollectionName = name }
            : serviceType.IsInstanceOfType(this) ? this
            : null;
    }

    private static double Similarity(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
        => a.Length != b.Length ? throw new InvalidOperationException("The query and the record have embeddings of different lengths.")
            : TensorPrimitives.CosineSimilarity(a, b);

    // What a provider does with a filter: refuse what it cannot translate, then evaluate the rest (here, by compiling it).
    private static Func<TRecord, bool> Translate(Expression<Func<TRecord, bool>> filter)
    {
        new TranslatableShapes(filter.Parameters[0]).Visit(filter.Body);
        return filter.Compile();
    }

    private TRecord[] Snapshot()
    {
        lock (gate)
        {
            return [.. records.Values];
        }
    }

    /// <summary>Throws on any node a VectorData provider would not translate.</summary>
    private sealed class TranslatableShapes(ParameterExpression record) : ExpressionVisitor
    {
        public override Expression? Visit(Expression? node)
        {
            switch (node)
            {
                case null:
                    return node;
                case BinaryExpression { NodeType: ExpressionType.AndAlso or ExpressionType.OrElse or ExpressionType.Equal or ExpressionType.NotEqual }:
                case UnaryExpression { NodeType: ExpressionType.Not or ExpressionType.Convert }:
                case ConstantExpression:
                    return base.Visit(node);
                case ParameterExpression parameter when parameter == record:
                    return node;
                case MemberExpression member when IsField(member) || IsCaptured(member):
                    return node;
                case MethodCallExpression { Method.Name: nameof(Enumerable.Contains), Arguments.Count: 2 } call when call.Method.DeclaringType == typeof(Enumerable):
                    return base.Visit(node);
                default:
                    throw new NotSupportedException($"The filter's {node.NodeType} node ({node}) cannot be translated by this collection.");
            }
        }

        // record.Field or record.Field.Field
        private bool IsField(MemberExpression member)
            => member.Expression switch
            {
                ParameterExpression parameter => parameter == record,
                MemberExpression inner => IsField(inner),
                _ => false,
            };

        // A value the lambda captured (a field of a closure object): evaluated once, as a constant.
        private static bool IsCaptured(MemberExpression member)
            => member.Expression switch
            {
                null => true, // a static field or property
                ConstantExpression => true,
                MemberExpression inner => IsCaptured(inner),
                _ => false,
            };
    }
}
