using System.Text.Json;
using AiRbac.Yaml;

namespace AiRbac.DependencyInjection.Tests;

public sealed class JsonLinesAuditSinkTests
{
    private static readonly DateTimeOffset Now = new DateTimeOffset(2026, 3, 1, 12, 30, 15, TimeSpan.Zero).AddTicks(1234567);

    private static PolicyAuthorizer Authorizer(IDecisionObserver sink, out PolicyVersion version)
    {
        var authorizer = new PolicyAuthorizer([sink]);
        version = new PolicyVersion(Policies.Hash(Policies.A), new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));
        authorizer.Update(YamlPolicy.Compile(Policies.A, "a.yaml").Policy!, version);
        return authorizer;
    }

    [Fact]
    public void OnDecision_FullRequest_WritesEveryField()
    {
        using var temp = new TempDirectory();
        string path = temp.File("audit.jsonl");
        using (var sink = new JsonLinesAuditSink(new AuditLogOptions { Path = path }, new FixedTimeProvider(Now)))
        {
            var authorizer = Authorizer(sink, out _);
            var carol = new Subject("carol", SubjectKind.User);
            var bob = new Subject("bob", null, null, carol);
            var agent = Subject.WithRoles("bot-7", SubjectKind.Agent, "analyst").ActingFor(bob);
            var resource = new ResourceRequest("tool:a_x") { Scope = "acme/pd", Sensitivity = "internal", Tags = new[] { "phi", "pii" } };
            authorizer.Authorize(agent, "tool:invoke", resource);
            authorizer.Authorize(Policies.Alice, "tool:invoke", "tool:a_report");
        }

        var records = Policies.ReadRecords(path);
        records.Should().HaveCount(2);
        var first = records[0];
        first.GetProperty("time").GetString().Should().Be("2026-03-01T12:30:15.1234567Z");
        first.GetProperty("policy_version").GetString().Should().Be(Policies.Hash(Policies.A));
        first.GetProperty("policy_loaded_at").GetString().Should().Be("2026-03-01T12:00:00Z");
        first.GetProperty("subject").GetString().Should().Be("bot-7");
        first.GetProperty("kind").GetString().Should().Be("agent");
        first.GetProperty("roles").EnumerateArray().Select(e => e.GetString()).Should().Equal("analyst");
        first.GetProperty("on_behalf_of").EnumerateArray().Select(e => e.GetString()).Should().Equal("bob", "carol");
        first.GetProperty("action").GetString().Should().Be("tool:invoke");
        first.GetProperty("resource").GetString().Should().Be("tool:a_x");
        first.GetProperty("scope").GetString().Should().Be("acme/pd");
        first.GetProperty("sensitivity").GetString().Should().Be("internal");
        first.GetProperty("tags").EnumerateArray().Select(e => e.GetString()).Should().Equal("phi", "pii");
        first.GetProperty("allowed").GetBoolean().Should().BeFalse();
        first.GetProperty("reason").GetString().Should().Be("missing_tag_clearance");
        first.GetProperty("role").GetString().Should().Be("analyst");
        first.GetProperty("rule").GetString().Should().Be("tool:invoke on tool:a_*");

        var second = records[1];
        second.GetProperty("allowed").GetBoolean().Should().BeTrue();
        second.GetProperty("reason").GetString().Should().Be("allowed");
        foreach (string absent in new[] { "on_behalf_of", "scope", "sensitivity", "tags" })
        {
            second.TryGetProperty(absent, out _).Should().BeFalse(absent + " is omitted when the request has none");
        }
    }

    [Fact]
    public void OnDecision_PolicyBoundSubjectWithoutKind_OmitsKindRolesRoleAndRule()
    {
        using var temp = new TempDirectory();
        string path = temp.File("audit.jsonl");
        using (var sink = new JsonLinesAuditSink(new AuditLogOptions { Path = path }))
        {
            Authorizer(sink, out _).Authorize(new Subject("dave"), "model:query", "model:gpt");
        }

        var record = Policies.ReadRecords(path).Should().ContainSingle().Subject;
        record.GetProperty("reason").GetString().Should().Be("missing_identity");
        foreach (string absent in new[] { "kind", "roles", "role", "rule" })
        {
            record.TryGetProperty(absent, out _).Should().BeFalse(absent + " is omitted");
        }
    }

    [Fact]
    public void OnDecision_ManyThreadsNotSaturated_EveryDecisionIsRecorded()
    {
        using var temp = new TempDirectory();
        string path = temp.File("audit.jsonl");
        const int Threads = 4;
        const int PerThread = 5_000;
        var sink = new JsonLinesAuditSink(new AuditLogOptions { Path = path, Capacity = Threads * PerThread });
        var authorizer = Authorizer(sink, out _);

        var workers = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            var subject = Subject.WithRoles("user-" + t, SubjectKind.Service, "analyst");
            for (int i = 0; i < PerThread; i++)
            {
                authorizer.Authorize(subject, "tool:invoke", i % 2 == 0 ? "tool:a_x" : "tool:b_x");
            }
        })).ToList();
        workers.ForEach(w => w.Start());
        workers.ForEach(w => w.Join());
        sink.Flush();

        sink.RecordsWritten.Should().Be(Threads * PerThread);
        sink.RecordsDropped.Should().Be(0);
        var records = Policies.ReadRecords(path);
        records.Should().HaveCount(Threads * PerThread);
        records.GroupBy(r => r.GetProperty("subject").GetString()).Should().HaveCount(Threads).And.AllSatisfy(g => g.Should().HaveCount(PerThread));
        records.Count(r => r.GetProperty("allowed").GetBoolean()).Should().Be(Threads * PerThread / 2);
        sink.Dispose();
    }

    [Fact]
    public void OnDecision_BufferFullDropNewest_DropsAreCountedAndTheRestWritten()
    {
        using var temp = new TempDirectory();
        string path = temp.File("audit.jsonl");
        var sink = new JsonLinesAuditSink(new AuditLogOptions { Path = path, Capacity = 64 }, null, startWriter: false);
        var authorizer = Authorizer(sink, out _);

        for (int i = 0; i < 100; i++)
        {
            authorizer.Authorize(Policies.Alice, "model:query", "model:gpt");
        }

        sink.RecordsDropped.Should().Be(36);
        sink.StartWriter();
        sink.Flush();
        sink.RecordsWritten.Should().Be(64);
        sink.Dispose();
        Policies.ReadRecords(path).Should().HaveCount(64);
    }

    [Fact]
    public void OnDecision_BufferFullBlock_WaitsAndLosesNothing()
    {
        using var temp = new TempDirectory();
        string path = temp.File("audit.jsonl");
        var sink = new JsonLinesAuditSink(new AuditLogOptions { Path = path, Capacity = 16, Overflow = AuditOverflow.Block }, null, startWriter: false);
        var authorizer = Authorizer(sink, out _);
        for (int i = 0; i < 16; i++)
        {
            authorizer.Authorize(Policies.Alice, "model:query", "model:gpt");
        }

        var blocked = new Thread(() =>
        {
            for (int i = 0; i < 100; i++)
            {
                authorizer.Authorize(Policies.Alice, "model:query", "model:gpt");
            }
        });
        blocked.Start();
        blocked.Join(TimeSpan.FromMilliseconds(200)).Should().BeFalse("the buffer is full and the writer is held back");

        sink.StartWriter();
        blocked.Join(TimeSpan.FromSeconds(10)).Should().BeTrue();
        sink.Dispose();

        sink.RecordsDropped.Should().Be(0);
        sink.RecordsWritten.Should().Be(116);
        Policies.ReadRecords(path).Should().HaveCount(116);
    }

    [Fact]
    public void Dispose_RecordsPending_WritesThemAllThenDropsLaterOnes()
    {
        using var temp = new TempDirectory();
        string path = temp.File("audit.jsonl");
        var sink = new JsonLinesAuditSink(new AuditLogOptions { Path = path, Capacity = 1024 }, null, startWriter: false);
        var authorizer = Authorizer(sink, out _);
        for (int i = 0; i < 500; i++)
        {
            authorizer.Authorize(Policies.Alice, "model:query", "model:gpt");
        }

        sink.Dispose();
        authorizer.Authorize(Policies.Alice, "model:query", "model:gpt");

        Policies.ReadRecords(path).Should().HaveCount(500);
        sink.RecordsDropped.Should().Be(1);
    }

    [Fact]
    public void Write_PastMaxFileBytes_RotatesAndKeepsNFiles()
    {
        using var temp = new TempDirectory();
        string path = temp.File("audit.jsonl");
        using (var sink = new JsonLinesAuditSink(new AuditLogOptions { Path = path, MaxFileBytes = 2048, FilesKept = 2 }))
        {
            var authorizer = Authorizer(sink, out _);
            for (int i = 0; i < 200; i++)
            {
                authorizer.Authorize(Policies.Alice, "model:query", "model:gpt");
                if (i % 50 == 0)
                {
                    sink.Flush();
                }
            }
        }

        File.Exists(path).Should().BeTrue();
        File.Exists(path + ".1").Should().BeTrue();
        File.Exists(path + ".2").Should().BeTrue();
        File.Exists(path + ".3").Should().BeFalse();
        foreach (string file in new[] { path, path + ".1", path + ".2" })
        {
            new FileInfo(file).Length.Should().BeLessThanOrEqualTo(2048);
            Policies.ReadRecords(file).Should().NotBeEmpty();
        }
    }

    [Fact]
    public void Constructor_NoPath_Throws()
    {
        var act = () => new JsonLinesAuditSink(new AuditLogOptions());

        act.Should().Throw<ArgumentException>().WithMessage("*Path*");
    }

    [Fact]
    public void OnDecision_RecordTime_MatchesRfc3339Format()
    {
        var whole = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);
        using var temp = new TempDirectory();
        string path = temp.File("audit.jsonl");
        using (var sink = new JsonLinesAuditSink(new AuditLogOptions { Path = path }, new FixedTimeProvider(whole)))
        {
            Authorizer(sink, out _).Authorize(Policies.Alice, "model:query", "model:gpt");
        }

        using var document = JsonDocument.Parse(File.ReadAllLines(path)[0]);
        document.RootElement.GetProperty("time").GetString().Should().Be(Rfc3339.Format(whole));
    }
}
