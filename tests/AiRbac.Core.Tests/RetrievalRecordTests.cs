namespace AiRbac.Core.Tests;

/// <summary>
/// <see cref="PolicyAuthorizer.FilterFor"/> and <see cref="PolicyAuthorizer.RecordRetrieval"/> (docs/retrieval.md,
/// "Audited retrieval"): the record names the version of the policy that built the filter, its counts are checked, only
/// retrieval observers receive it, nothing is allocated when none listens, and the filter's text is capped.
/// </summary>
public sealed class RetrievalRecordTests
{
    private static TestPolicy RagPolicy() => new TestPolicy()
        .Role("analyst", allow: ["data:read on doc:**"], deny: ["data:read on doc:secret/**"], max: "confidential", clearances: ["pii"])
        .Catalog("doc:hr/**", "confidential", "pii")
        .Catalog("doc:**", "internal");

    private static readonly Subject Alice = Subject.WithRoles("alice", SubjectKind.User, "analyst");

    [Fact]
    public void RecordRetrieval_NamesTheVersionThatBuiltTheFilter_EvenAfterAReload()
    {
        var observer = new Recorder();
        var authorizer = new PolicyAuthorizer([observer]);
        var v1 = new PolicyVersion("v1", TestPolicy.Now);
        var v2 = new PolicyVersion("v2", TestPolicy.Now.AddMinutes(1));
        var first = RagPolicy().Build();
        authorizer.Update(first, v1);

        var filter = authorizer.FilterFor(Alice, "data:read");
        authorizer.Update(RagPolicy().Build(), v2); // a reload while the query runs
        authorizer.RecordRetrieval(filter, "chunks", StoreFilterApproximations.NamePatterns, 5, 3, failed: false);
        authorizer.RecordRetrieval(authorizer.Policy.FilterFor(Alice, "data:read"), null, StoreFilterApproximations.None, 0, 0, failed: false);
        authorizer.RecordRetrieval(first.FilterFor(Alice, "data:read"), null, StoreFilterApproximations.None, 0, 0, failed: false);

        filter.Policy.Should().BeSameAs(first);
        observer.Records.Select(r => r.Version).Should().Equal(v1, v2, PolicyVersion.None);
        var record = observer.Records[0];
        record.Subject.Should().BeSameAs(Alice);
        record.Action.Should().Be("data:read");
        record.Filter.Should().BeSameAs(filter);
        record.FilterText.Should().Be(filter.ToString());
        record.Store.Should().Be("chunks");
        record.Approximations.Should().Be(StoreFilterApproximations.NamePatterns);
        (record.Candidates, record.Removed, record.Returned, record.Failed).Should().Be((5, 2, 3, false));
    }

    [Fact]
    public void FilterFor_BeforeAnyPolicy_MatchesNothing_AndIsRecordedWithoutAVersion()
    {
        var observer = new Recorder();
        var authorizer = new PolicyAuthorizer([observer]);

        var filter = authorizer.FilterFor(Alice, "data:read");
        authorizer.RecordRetrieval(filter, "chunks", StoreFilterApproximations.None, 4, 0, failed: false);

        filter.Matches(new ResourceRequest("doc:sales/q3")).Should().BeFalse();
        observer.Records.Should().ContainSingle().Which.Version.Should().BeSameAs(PolicyVersion.None);
    }

    [Theory]
    [InlineData(-1, 0, false)]
    [InlineData(0, -1, false)]
    [InlineData(2, 3, false)]
    [InlineData(2, 1, true)]
    public void RecordRetrieval_CountsThatCannotBe_Throw_AndNothingIsObserved(int candidates, int returned, bool failed)
    {
        var observer = new Recorder();
        var authorizer = new PolicyAuthorizer([observer]);
        authorizer.Update(RagPolicy().Build(), new PolicyVersion("v1", TestPolicy.Now));
        var filter = authorizer.FilterFor(Alice, "data:read");

        var act = () => authorizer.RecordRetrieval(filter, null, StoreFilterApproximations.None, candidates, returned, failed);

        act.Should().Throw<ArgumentOutOfRangeException>();
        observer.Records.Should().BeEmpty();
        FluentActions.Invoking(() => authorizer.RecordRetrieval(null!, null, StoreFilterApproximations.None, 0, 0, false)).Should().Throw<ArgumentNullException>();
    }

    [Fact]
    public void RecordRetrieval_GoesToRetrievalObserversOnly_AndAllocatesNothingWhenNoneListens()
    {
        var decisionsOnly = new DecisionCounter();
        var silent = new PolicyAuthorizer([decisionsOnly]);
        silent.Update(RagPolicy().Build(), new PolicyVersion("v1", TestPolicy.Now));
        var filter = silent.FilterFor(Alice, "data:read");

        silent.RecordRetrieval(filter, "chunks", StoreFilterApproximations.None, 3, 1, failed: false); // warm up
        long allocated = long.MaxValue;
        for (int attempt = 0; attempt < 3 && allocated != 0; attempt++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 100; i++)
            {
                silent.RecordRetrieval(filter, "chunks", StoreFilterApproximations.None, 3, 1, failed: false);
            }

            allocated = Math.Min(allocated, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        allocated.Should().Be(0, "no record and no filter text is built when no observer receives it");
        decisionsOnly.Count.Should().Be(0);

        var both = new Recorder();
        var listening = new PolicyAuthorizer([decisionsOnly, both]);
        listening.RecordRetrieval(listening.FilterFor(Alice, "data:read"), "chunks", StoreFilterApproximations.None, 0, 0, failed: false);
        both.Records.Should().ContainSingle();
    }

    [Fact]
    public void FilterText_OfAHugeFilter_IsCappedAndSaysSo_WhileTheFilterStaysWhole()
    {
        var observer = new Recorder();
        var authorizer = new PolicyAuthorizer([observer]);
        authorizer.Update(RagPolicy().Build(), new PolicyVersion("v1", TestPolicy.Now));
        var bindings = Enumerable.Range(0, 1_000).Select(i => new RoleBinding("analyst", $"tenant-{i:D4}/with/a/long/scope")).ToArray();
        var filter = authorizer.FilterFor(new Subject("many", SubjectKind.User, bindings), "data:read");

        authorizer.RecordRetrieval(filter, null, StoreFilterApproximations.ScopePaths, 1, 1, failed: false);

        filter.IsComplete.Should().BeTrue();
        filter.ToString().Length.Should().BeGreaterThan(RetrievalRecord.MaxFilterTextLength);
        string text = observer.Records.Single().FilterText;
        text.Length.Should().BeLessThanOrEqualTo(RetrievalRecord.MaxFilterTextLength);
        text.Should().StartWith(filter.ToString()[..1_000]).And.EndWith("\n... (truncated: read the filter's Branches, or print it with airbac filter)");
    }

    [Fact]
    public void PostFilter_OfWrappedItems_KeepsTheItemsWhoseRecordIsAllowed_InOrder()
    {
        var policy = RagPolicy().Build();
        var store = policy.FilterFor(Alice, "data:read").ToStoreFilter(StoreFilterTests.Full);
        var docs = new[] { "doc:sales/q3", "doc:secret/plan", "doc:hr/rota", "doc:sales/q3" }
            .Select((name, i) => (Doc: new StoreFilterTests.Doc { Name = name, Tier = i == 3 ? "restricted" : null }, Score: 1.0 - (i / 10.0)))
            .ToArray();

        var kept = store.PostFilter(docs, hit => hit.Doc);

        kept.Should().Equal(docs[0], docs[2]);
        kept.Select(k => k.Doc).Should().Equal(store.PostFilter(docs.Select(d => d.Doc)));
        FluentActions.Invoking(() => store.PostFilter(docs, _ => throw new InvalidDataException("corrupt"))).Should().Throw<InvalidDataException>();
    }

    private sealed class Recorder : IDecisionObserver, IRetrievalObserver
    {
        public List<RetrievalRecord> Records { get; } = [];

        public void OnDecision(in DecisionRecord record)
        {
        }

        public void OnRetrieval(RetrievalRecord record) => Records.Add(record);
    }

    private sealed class DecisionCounter : IDecisionObserver
    {
        public int Count { get; private set; }

        public void OnDecision(in DecisionRecord record) => Count++;
    }
}
