using System.Linq.Expressions;
using System.Runtime.CompilerServices;
using AiRbac.Extensions.AI;
using AiRbac.Yaml;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.VectorData;

namespace AiRbac.Benchmarks.Scenarios;

/// <summary>
/// Scenario: what <see cref="AiRbacRetriever{TKey, TRecord}"/> adds to one vector search (docs/retrieval.md, "Audited
/// retrieval"). The collection is a stub that returns the same 20 hits at once, whatever the filter, so the figures are
/// AiRbac's own per-query work: the subject's filter from the current policy, its VectorData translation, the
/// post-filter (one <c>AuthorizeMany</c> of 20, half of them denied) and, with the audit log, the retrieval record (the
/// filter's text) handed to a <see cref="JsonLinesAuditSink"/>. A real store's search (milliseconds) comes on top.
/// </summary>
[MemoryDiagnoser]
[BenchmarkCategory("Retrieval")]
public class RetrievalBenchmarks : IDisposable
{
    private const string Policy = """
        version: 1
        sensitivity: [public, internal, confidential, restricted]
        roles:
          analyst:
            allow: [ "data:read on doc:**" ]
            deny: [ "data:read on doc:secret/**" ]
            max_sensitivity: confidential
            clearances: [pii]
          clinician:
            allow: [ "data:read on doc:patients/**", "data:read on doc:reports/**", "data:read on doc:guides/**" ]
            max_sensitivity: restricted
            clearances: [phi]
          assistant:
            kinds: [agent]
            allow: [ "data:read on doc:**" ]
            deny: [ "data:read on doc:secret/**" ]
            max_sensitivity: restricted
            clearances: [phi, pii]
        resources:
          - { match: "doc:patients/**", sensitivity: restricted, tags: [phi] }
          - { match: "doc:hr/**", sensitivity: confidential, tags: [pii] }
          - { match: "doc:**", sensitivity: internal }
        """;

    private static readonly RecordMapping<Chunk> Mapping = new(c => c.Name) { Scope = c => c.Scope, Tier = c => c.Tier, Tags = c => c.Tags };

    private readonly string directory = Directory.CreateTempSubdirectory("airbac-bench-rag-").FullName;
    private FixedHits collection = null!;
    private AiRbacRetriever<string, Chunk> plain = null!;
    private AiRbacRetriever<string, Chunk> audited = null!;
    private JsonLinesAuditSink? sink;
    private Subject subject = null!;

    /// <summary>Who searches.</summary>
    [Params("analyst", "agent-for-clinician")]
    public string Who { get; set; } = "analyst";

    /// <summary>Builds the stub collection, the two retrievers and the subject, and checks that half the hits are removed.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var policy = YamlPolicy.Compile(Policy, "bench-rag.yaml").Policy ?? throw new InvalidOperationException("the policy does not compile");
        var version = new PolicyVersion("bench", DateTimeOffset.UnixEpoch);
        string[] allowed = ["doc:reports/r{0}", "doc:guides/g{0}"];
        string[] denied = ["doc:secret/s{0}", "doc:patients/p{0}"];
        var hits = Enumerable.Range(0, 20)
            .Select(i => new Chunk(string.Format(System.Globalization.CultureInfo.InvariantCulture, (i % 2 == 0 ? allowed : denied)[i / 2 % 2], i), "acme/health", i % 4 == 1 ? "restricted" : null, i % 5 == 0 ? ["pii"] : []))
            .Select((c, i) => new VectorSearchResult<Chunk>(c, 1.0 - (i / 100.0)))
            .ToArray();
        collection = new FixedHits(hits);
        var bare = new PolicyAuthorizer();
        bare.Update(policy, version);
        sink = new JsonLinesAuditSink(new AuditLogOptions { Path = Path.Combine(directory, "audit.jsonl") });
        var withAudit = new PolicyAuthorizer([sink]);
        withAudit.Update(policy, version);
        plain = new AiRbacRetriever<string, Chunk>(collection, bare, Mapping, "data:read");
        audited = new AiRbacRetriever<string, Chunk>(collection, withAudit, Mapping, "data:read");
        subject = Who == "analyst"
            ? Subject.WithRoles("alice", SubjectKind.User, "analyst")
            : Subject.WithRoles("rag-bot", SubjectKind.Agent, "assistant").ActingFor(new Subject("carol", SubjectKind.User, [new RoleBinding("clinician", "acme/health")]));
        int kept = Retriever().GetAwaiter().GetResult();
        if (kept == 0 || kept == hits.Length)
        {
            throw new InvalidOperationException($"The post-filter should remove some hits and keep some; it kept {kept} of {hits.Length}.");
        }
    }

    /// <summary>The floor: the stub's 20 hits read into a list, no AiRbac.</summary>
    /// <returns>The number of hits.</returns>
    [Benchmark(Baseline = true)]
    public async Task<int> SearchOnly()
    {
        var list = new List<VectorSearchResult<Chunk>>();
        await foreach (var hit in collection.SearchAsync("q", 20))
        {
            list.Add(hit);
        }

        return list.Count;
    }

    /// <summary>The retriever, no audit observer.</summary>
    /// <returns>The number of allowed hits.</returns>
    [Benchmark]
    public async Task<int> Retriever() => (await plain.SearchAsync(subject, "q", 20)).Count;

    /// <summary>The retriever, with the JSON Lines audit log.</summary>
    /// <returns>The number of allowed hits.</returns>
    [Benchmark]
    public async Task<int> RetrieverAudited() => (await audited.SearchAsync(subject, "q", 20)).Count;

    /// <summary>Closes the audit log and deletes it.</summary>
    [GlobalCleanup]
    public void Dispose()
    {
        sink?.Dispose();
        collection?.Dispose();
        Directory.Delete(directory, recursive: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>A chunk as a vector store would hold it (the vector is not needed here).</summary>
    /// <param name="Name">The resource name.</param>
    /// <param name="Scope">Its scope.</param>
    /// <param name="Tier">Its asserted tier.</param>
    /// <param name="Tags">Its tags.</param>
    public sealed record Chunk(string Name, string? Scope, string? Tier, string[] Tags);

    /// <summary>A collection whose every search returns the same hits at once, ignoring the filter.</summary>
    private sealed class FixedHits(VectorSearchResult<Chunk>[] hits) : VectorStoreCollection<string, Chunk>
    {
        public override string Name => "bench";

        public override Task<bool> CollectionExistsAsync(CancellationToken cancellationToken = default) => Task.FromResult(true);

        public override Task EnsureCollectionExistsAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

        public override Task EnsureCollectionDeletedAsync(CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public override Task<Chunk?> GetAsync(string key, RecordRetrievalOptions? options = null, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public override IAsyncEnumerable<Chunk> GetAsync(Expression<Func<Chunk, bool>> filter, int top, FilteredRecordRetrievalOptions<Chunk>? options = null, CancellationToken cancellationToken = default)
            => throw new NotSupportedException();

        public override Task DeleteAsync(string key, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public override Task UpsertAsync(Chunk record, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public override Task UpsertAsync(IEnumerable<Chunk> records, CancellationToken cancellationToken = default) => throw new NotSupportedException();

#pragma warning disable CS1998 // Reason: a stub that answers at once, as an async iterator.
        public override async IAsyncEnumerable<VectorSearchResult<Chunk>> SearchAsync<TInput>(
            TInput searchValue, int top, VectorSearchOptions<Chunk>? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
#pragma warning restore CS1998
        {
            foreach (var hit in hits.Take(top))
            {
                yield return hit;
            }
        }

        public override object? GetService(Type serviceType, object? serviceKey = null) => null;
    }
}
