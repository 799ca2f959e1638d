using System.Text.Json;
using AiRbac.Yaml;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AiRbac.DependencyInjection.Tests;

/// <summary>
/// Retrieval records in the audit log (docs/audit-log.md, "Retrieval records"): one <c>"event":"retrieval"</c> line per
/// query recorded through <see cref="PolicyAuthorizer.RecordRetrieval"/>, written whole or counted as dropped like a
/// decision, never coalesced, with hostile text escaped and the filter's text capped.
/// </summary>
public sealed class RetrievalAuditTests
{
    private static readonly DateTimeOffset Now = new DateTimeOffset(2026, 3, 1, 12, 30, 15, TimeSpan.Zero).AddTicks(1234567);

    private static readonly string[] RecordFields =
    [
        "time", "event", "policy_version", "policy_loaded_at", "subject", "kind", "roles", "on_behalf_of", "chain", "action",
        "store", "candidates", "removed", "returned", "approximations", "filter",
    ];

    private static PolicyAuthorizer Authorizer(IDecisionObserver sink)
    {
        var authorizer = new PolicyAuthorizer([sink]);
        var version = new PolicyVersion(Policies.Hash(Policies.A), new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));
        authorizer.Update(YamlPolicy.Compile(Policies.A, "a.yaml").Policy!, version);
        return authorizer;
    }

    private static Subject Agent => Subject.WithRoles("bot-7", SubjectKind.Agent, "analyst")
        .ActingFor(new Subject("bob", null, null, new Subject("carol", SubjectKind.User)));

    [Fact]
    public void OnRetrieval_WritesEveryFieldInOrder()
    {
        using var temp = new TempDirectory();
        string path = temp.File("audit.jsonl");
        string filterText;
        using (var sink = new JsonLinesAuditSink(new AuditLogOptions { Path = path }, new FixedTimeProvider(Now)))
        {
            var authorizer = Authorizer(sink);
            var filter = authorizer.FilterFor(Agent, "tool:invoke");
            filterText = filter.ToString();
            authorizer.RecordRetrieval(filter, "chunks", StoreFilterApproximations.NamePatterns | StoreFilterApproximations.UnknownTags, candidates: 7, returned: 4, failed: false);
        }

        var log = AuditLog.Read(path);
        log.Records.Should().BeEmpty("a retrieval record is not a decision record");
        var record = log.Retrievals.Should().ContainSingle().Subject;
        record.EnumerateObject().Select(p => p.Name).Should().Equal(RecordFields);
        record.GetProperty("time").GetString().Should().Be("2026-03-01T12:30:15.1234567Z");
        record.GetProperty("policy_version").GetString().Should().Be(Policies.Hash(Policies.A));
        record.GetProperty("policy_loaded_at").GetString().Should().Be("2026-03-01T12:00:00Z");
        record.GetProperty("subject").GetString().Should().Be("bot-7");
        record.GetProperty("kind").GetString().Should().Be("agent");
        record.GetProperty("roles").EnumerateArray().Select(e => e.GetString()).Should().Equal("analyst");
        record.GetProperty("on_behalf_of").EnumerateArray().Select(e => e.GetString()).Should().Equal("bob", "carol");
        record.GetProperty("chain")[1].GetProperty("kind").GetString().Should().Be("user", "the subject is shown as a decision record shows it");
        record.TryGetProperty("schema", out _).Should().BeFalse("a retrieval record is not a decision to replay");
        record.GetProperty("action").GetString().Should().Be("tool:invoke");
        record.GetProperty("store").GetString().Should().Be("chunks");
        record.GetProperty("candidates").GetInt32().Should().Be(7);
        record.GetProperty("removed").GetInt32().Should().Be(3);
        record.GetProperty("returned").GetInt32().Should().Be(4);
        record.GetProperty("approximations").EnumerateArray().Select(e => e.GetString()).Should().Equal("name_patterns", "unknown_tags");
        record.GetProperty("filter").GetString().Should().Be(filterText).And.StartWith("subject 'bot-7' may 'tool:invoke'");
    }

    [Fact]
    public void OnRetrieval_FailedExactQueryWithoutStoreName_WritesFailedAndOmitsTheRest()
    {
        using var temp = new TempDirectory();
        string path = temp.File("audit.jsonl");
        using (var sink = new JsonLinesAuditSink(new AuditLogOptions { Path = path }))
        {
            var authorizer = Authorizer(sink);
            authorizer.RecordRetrieval(authorizer.FilterFor(new Subject("dave"), "model:query"), null, StoreFilterApproximations.None, 2, 0, failed: true);
        }

        var record = AuditLog.Read(path).Retrievals.Should().ContainSingle().Subject;
        record.EnumerateObject().Select(p => p.Name).Should().Equal(
            "time", "event", "policy_version", "policy_loaded_at", "subject", "action", "candidates", "removed", "returned", "failed", "filter");
        record.GetProperty("failed").GetBoolean().Should().BeTrue();
        record.GetProperty("removed").GetInt32().Should().Be(2);
    }

    [Fact]
    public void OnRetrieval_IsNeverCoalesced_NorIsADecisionCountedIntoIt()
    {
        using var temp = new TempDirectory();
        string path = temp.File("audit.jsonl");
        var sink = new JsonLinesAuditSink(new AuditLogOptions { Path = path, Capacity = 16 }, new FixedTimeProvider(Now), startWriter: false);
        var authorizer = Authorizer(sink);
        var filter = authorizer.FilterFor(Policies.Alice, "model:query");

        authorizer.Authorize(Policies.Alice, "model:query", "model:gpt");
        authorizer.RecordRetrieval(filter, "chunks", StoreFilterApproximations.None, 1, 1, failed: false);
        authorizer.RecordRetrieval(filter, "chunks", StoreFilterApproximations.None, 1, 1, failed: false); // identical: still its own line
        authorizer.Authorize(Policies.Alice, "model:query", "model:gpt"); // identical to the first decision, but a retrieval came between
        authorizer.Authorize(Policies.Alice, "model:query", "model:gpt"); // coalesced into the one before
        sink.StartWriter();
        sink.Dispose();

        var log = AuditLog.Read(path);
        log.Lines.Select(line => JsonDocument.Parse(line).RootElement.TryGetProperty("event", out _) ? "R" : "D").Should().Equal("D", "R", "R", "D");
        log.Records.Select(r => r.TryGetProperty("count", out var c) ? c.GetInt64() : 1).Should().Equal(1, 2);
        log.Retrievals.Select(r => r.TryGetProperty("count", out _)).Should().Equal(false, false);
        sink.RecordsWritten.Should().Be(5, "every record counts: three decisions and two queries");
    }

    [Fact]
    public void OnRetrieval_RingFull_IsDroppedCountedAndMarked()
    {
        using var temp = new TempDirectory();
        string path = temp.File("audit.jsonl");
        var sink = new JsonLinesAuditSink(new AuditLogOptions { Path = path, Capacity = 2 }, null, startWriter: false);
        var authorizer = Authorizer(sink);
        var filter = authorizer.FilterFor(Policies.Alice, "model:query");
        for (int i = 0; i < 3; i++)
        {
            authorizer.RecordRetrieval(filter, "chunks", StoreFilterApproximations.None, i, 0, failed: false);
        }

        sink.RecordsDropped.Should().Be(1);
        sink.StartWriter();
        sink.Dispose();

        var log = AuditLog.Read(path);
        log.Retrievals.Select(r => r.GetProperty("candidates").GetInt32()).Should().Equal(0, 1);
        log.Lost.Should().Be(1, "a lost retrieval record is reported by a records_lost marker like a lost decision");
        sink.RecordsWritten.Should().Be(2);
    }

    [Fact]
    public void OnRetrieval_HostileIdsAndAHugeFilter_StayOneEscapedLineWithTheFilterCapped()
    {
        // An id from a hostile claim tries to forge a line and hide text; a subject with thousands of scoped bindings
        // makes a filter text of megabytes. The record stays one line, escaped, with at most 4,096 characters of filter.
        using var temp = new TempDirectory();
        string path = temp.File("audit.jsonl");
        const string Id = "eve\n{\"event\":\"records_lost\",\"lost\":1}\u202E\u2028";
        var bindings = Enumerable.Range(0, 1_000).Select(i => new RoleBinding("analyst", $"tenant-{i:D4}/a/very/long/scope/path")).ToArray();
        using (var sink = new JsonLinesAuditSink(new AuditLogOptions { Path = path }))
        {
            var authorizer = Authorizer(sink);
            var filter = authorizer.FilterFor(new Subject(Id, SubjectKind.User, bindings), "model:query");
            filter.ToString().Length.Should().BeGreaterThan(100_000);
            authorizer.RecordRetrieval(filter, "chunks\u001B[8m", StoreFilterApproximations.ScopePaths, 10, 5, failed: false);
        }

        var log = AuditLog.Read(path);
        log.Lines.Should().ContainSingle();
        File.ReadAllText(path).Should().NotContainAny("\u202E", "\u2028", "\u001B");
        var record = log.Retrievals.Single();
        record.GetProperty("subject").GetString().Should().Be(Id);
        record.GetProperty("store").GetString().Should().Be("chunks\u001B[8m");
        string filterText = record.GetProperty("filter").GetString()!;
        filterText.Length.Should().BeLessThanOrEqualTo(RetrievalRecord.MaxFilterTextLength);
        filterText.Should().EndWith("(truncated: read the filter's Branches, or print it with airbac filter)");
    }

    [Fact]
    public void AddAiRbac_AuditLog_RecordsRetrievalsOfTheAuthorizerItRegisters()
    {
        // The operator's view: retrieval audit needs nothing beyond the audit log path.
        using var temp = new TempDirectory();
        string path = temp.File("audit.jsonl");
        using (var provider = new ServiceCollection()
            .AddAiRbac(o => { o.Source = AiRbacPolicySource.FromYaml(Policies.A, "a.yaml"); o.WatchFile = false; o.AuditLog.Path = path; })
            .BuildServiceProvider())
        {
            var authorizer = provider.GetRequiredService<PolicyAuthorizer>();
            authorizer.RecordRetrieval(authorizer.FilterFor(Policies.Alice, "tool:invoke"), "chunks", StoreFilterApproximations.NamePatterns, 3, 2, failed: false);
        }

        var record = AuditLog.Read(path).Retrievals.Should().ContainSingle().Subject;
        record.GetProperty("policy_version").GetString().Should().Be(Policies.Hash(Policies.A));
        record.GetProperty("subject").GetString().Should().Be("alice");
        record.GetProperty("returned").GetInt32().Should().Be(2);
    }

    [Fact]
    public void LogDecisions_WritesEachRetrievalAsEvent101()
    {
        var logs = new CapturingLoggerProvider();
        using var provider = new ServiceCollection()
            .AddLogging(b => b.AddProvider(logs))
            .AddAiRbac(o => { o.Source = AiRbacPolicySource.FromYaml(Policies.A, "a.yaml"); o.WatchFile = false; o.LogDecisions = true; })
            .BuildServiceProvider();
        var authorizer = provider.GetRequiredService<PolicyAuthorizer>();

        authorizer.RecordRetrieval(authorizer.FilterFor(Agent, "tool:invoke"), "chunks", StoreFilterApproximations.ScopePaths, 5, 1, failed: false);

        var entry = logs.WithId(101).Should().ContainSingle().Subject;
        entry.Category.Should().Be("AiRbac.Audit");
        entry.Level.Should().Be(LogLevel.Information);
        entry.Properties["subject"].Should().Be("bot-7");
        entry.Properties["action"].Should().Be("tool:invoke");
        entry.Properties["store"].Should().Be("chunks");
        entry.Properties["candidates"].Should().Be(5);
        entry.Properties["removed"].Should().Be(4);
        entry.Properties["returned"].Should().Be(1);
        entry.Properties["failed"].Should().Be(false);
        entry.Properties["policy_version"].Should().Be(Policies.Hash(Policies.A));
        ((string)entry.Properties["filter"]!).Should().StartWith("subject 'bot-7' may 'tool:invoke'");
    }
}
