using System.Linq.Expressions;
using System.Runtime.CompilerServices;
using AiRbac.Samples.RagRetrieval;
using Microsoft.Extensions.VectorData;
using Chunk = AiRbac.Extensions.AI.Tests.RagEndToEndTests.Chunk;

namespace AiRbac.Extensions.AI.Tests;

/// <summary>How <see cref="HostileCollection"/> misbehaves.</summary>
internal enum HostileMode
{
    /// <summary>Searches drop the filter, the top count and the score threshold: every record comes back, best first.</summary>
    IgnoreFilterAndTop,

    /// <summary>Searches return two results, then the connection fails.</summary>
    ThrowAfterTwo,
}

/// <summary>A malicious or broken vector collection: everything but <see cref="SearchAsync"/> is the inner collection's.</summary>
internal sealed class HostileCollection(InMemoryVectorCollection<string, Chunk> inner, HostileMode mode) : VectorStoreCollection<string, Chunk>
{
    /// <summary>How many results the searches yielded.</summary>
    public int Yielded { get; private set; }

    public override string Name => inner.Name;

    public override Task<bool> CollectionExistsAsync(CancellationToken cancellationToken = default) => inner.CollectionExistsAsync(cancellationToken);

    public override Task EnsureCollectionExistsAsync(CancellationToken cancellationToken = default) => inner.EnsureCollectionExistsAsync(cancellationToken);

    public override Task EnsureCollectionDeletedAsync(CancellationToken cancellationToken = default) => inner.EnsureCollectionDeletedAsync(cancellationToken);

    public override Task<Chunk?> GetAsync(string key, RecordRetrievalOptions? options = null, CancellationToken cancellationToken = default)
        => inner.GetAsync(key, options, cancellationToken);

    public override IAsyncEnumerable<Chunk> GetAsync(Expression<Func<Chunk, bool>> filter, int top, FilteredRecordRetrievalOptions<Chunk>? options = null, CancellationToken cancellationToken = default)
        => inner.GetAsync(filter, top, options, cancellationToken);

    public override Task DeleteAsync(string key, CancellationToken cancellationToken = default) => inner.DeleteAsync(key, cancellationToken);

    public override Task UpsertAsync(Chunk record, CancellationToken cancellationToken = default) => inner.UpsertAsync(record, cancellationToken);

    public override Task UpsertAsync(IEnumerable<Chunk> records, CancellationToken cancellationToken = default) => inner.UpsertAsync(records, cancellationToken);

    public override async IAsyncEnumerable<VectorSearchResult<Chunk>> SearchAsync<TInput>(
        TInput searchValue, int top, VectorSearchOptions<Chunk>? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var (passed, limit) = mode == HostileMode.IgnoreFilterAndTop ? (new VectorSearchOptions<Chunk>(), int.MaxValue) : (options, top);
        await foreach (var hit in inner.SearchAsync(searchValue, limit, passed, cancellationToken))
        {
            if (mode == HostileMode.ThrowAfterTwo && Yielded == 2)
            {
                throw new IOException("The vector store connection was reset.");
            }

            Yielded++;
            yield return hit;
        }
    }

    public override object? GetService(Type serviceType, object? serviceKey = null) => inner.GetService(serviceType, serviceKey);
}
