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
    public void OnDecision_ScopedBindingsChainAndOwner_WritesEverythingAReplayNeeds()
    {
        using var temp = new TempDirectory();
        string path = temp.File("audit.jsonl");
        var expires = new DateTimeOffset(2026, 9, 30, 2, 0, 0, TimeSpan.FromHours(2));
        using (var sink = new JsonLinesAuditSink(new AuditLogOptions { Path = path }, new FixedTimeProvider(Now)))
        {
            var authorizer = Authorizer(sink, out _);
            var carol = new Subject("carol", SubjectKind.User, [new RoleBinding("viewer", Scope: "acme")]);
            var bob = new Subject("bob", null, null, carol);
            var agent = new Subject("bot-7", SubjectKind.Agent, [new RoleBinding("analyst"), new RoleBinding("ops", "acme/pd", expires)]).ActingFor(bob);
            authorizer.Authorize(agent, "tool:invoke", new ResourceRequest("tool:a_x") { Scope = "acme/pd/x", Owner = "dave" });
            authorizer.Authorize(new Subject("dave"), "model:query", "model:gpt");
        }

        var lines = File.ReadAllLines(path);
        lines[0].Should().StartWith("{\"time\":\"2026-03-01T12:30:15.1234567Z\",\"schema\":2,\"policy_version\":");
        var records = Policies.ReadRecords(path);
        var first = records[0];
        first.GetProperty("schema").GetInt32().Should().Be(2);
        var roles = first.GetProperty("roles").EnumerateArray().ToList();
        roles[0].GetString().Should().Be("analyst", "a plain binding stays a name, as before");
        roles[1].GetProperty("role").GetString().Should().Be("ops");
        roles[1].GetProperty("scope").GetString().Should().Be("acme/pd");
        roles[1].GetProperty("expires").GetString().Should().Be("2026-09-30T00:00:00Z", "in UTC, the same instant");
        first.GetProperty("on_behalf_of").EnumerateArray().Select(e => e.GetString()).Should().Equal("bob", "carol");
        var chain = first.GetProperty("chain").EnumerateArray().ToList();
        chain.Should().HaveCount(2);
        chain[0].EnumerateObject().Select(p => p.Name).Should().Equal(["subject"], "bob gave neither a kind nor roles: the policy's apply");
        chain[0].GetProperty("subject").GetString().Should().Be("bob");
        chain[1].GetProperty("subject").GetString().Should().Be("carol");
        chain[1].GetProperty("kind").GetString().Should().Be("user");
        chain[1].GetProperty("roles")[0].GetProperty("scope").GetString().Should().Be("acme");
        first.GetProperty("owner").GetString().Should().Be("dave");
        first.EnumerateObject().Select(p => p.Name).Should().Equal(
            "time", "schema", "policy_version", "policy_loaded_at", "subject", "kind", "roles", "on_behalf_of", "chain", "action", "resource", "scope",
            "owner", "allowed", "reason");

        var second = records[1];
        second.GetProperty("schema").GetInt32().Should().Be(2);
        foreach (string absent in new[] { "chain", "owner", "roles", "shadow" })
        {
            second.TryGetProperty(absent, out _).Should().BeFalse(absent + " is omitted when the request has none");
        }
    }

    [Fact]
    public void OnDecision_SameRoleOtherScopeExpiryOrOwner_IsNotCoalesced()
    {
        using var temp = new TempDirectory();
        string path = temp.File("audit.jsonl");
        using (var sink = new JsonLinesAuditSink(new AuditLogOptions { Path = path }, new FixedTimeProvider(Now), startWriter: false))
        {
            var authorizer = Authorizer(sink, out _);
            var expires = Now.AddDays(1);
            Subject[] subjects =
            [
                new Subject("svc", SubjectKind.Service, [new RoleBinding("analyst", "acme")]),
                new Subject("svc", SubjectKind.Service, [new RoleBinding("analyst", "acme/pd")]),
                new Subject("svc", SubjectKind.Service, [new RoleBinding("analyst", "acme", expires)]),
                new Subject("svc", SubjectKind.Service, [new RoleBinding("analyst", "acme", expires)]), // same as the one before: merged
            ];
            foreach (var subject in subjects)
            {
                authorizer.Authorize(subject, "tool:invoke", new ResourceRequest("tool:a_x") { Scope = "acme/pd" });
            }

            var plain = Subject.WithRoles("svc", SubjectKind.Service, "analyst");
            authorizer.Authorize(plain, "tool:invoke", new ResourceRequest("tool:a_x") { Owner = "a" });
            authorizer.Authorize(plain, "tool:invoke", new ResourceRequest("tool:a_x") { Owner = "b" });
        }

        var records = Policies.ReadRecords(path);
        records.Select(r => r.TryGetProperty("count", out var c) ? c.GetInt64() : 1).Should().Equal(1, 1, 2, 1, 1);
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
        var sink = new JsonLinesAuditSink(new AuditLogOptions { Path = path, Capacity = 64, CoalesceWindow = TimeSpan.Zero }, null, startWriter: false);
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
        var log = AuditLog.Read(path);
        log.Records.Should().HaveCount(64);
        log.Lost.Should().Be(36, "the drops are reported in the file by a marker");
    }

    [Fact]
    public void OnDecision_BufferFullBlock_WaitsAndLosesNothing()
    {
        using var temp = new TempDirectory();
        string path = temp.File("audit.jsonl");
        var sink = new JsonLinesAuditSink(new AuditLogOptions { Path = path, Capacity = 16, Overflow = AuditOverflow.Block, CoalesceWindow = TimeSpan.Zero }, null, startWriter: false);
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
        var sink = new JsonLinesAuditSink(new AuditLogOptions { Path = path, Capacity = 1024, CoalesceWindow = TimeSpan.Zero }, null, startWriter: false);
        var authorizer = Authorizer(sink, out _);
        for (int i = 0; i < 500; i++)
        {
            authorizer.Authorize(Policies.Alice, "model:query", "model:gpt");
        }

        sink.Dispose();
        authorizer.Authorize(Policies.Alice, "model:query", "model:gpt");

        AuditLog.Read(path).Records.Should().HaveCount(500);
        sink.RecordsDropped.Should().Be(1);
    }

    [Fact]
    public void Write_PastMaxFileBytes_RotatesAndKeepsNFiles()
    {
        using var temp = new TempDirectory();
        string path = temp.File("audit.jsonl");
        using (var sink = new JsonLinesAuditSink(new AuditLogOptions { Path = path, MaxFileBytes = 2048, FilesKept = 2, CoalesceWindow = TimeSpan.Zero }))
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
            AuditLog.Read(file).Records.Should().NotBeEmpty();
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

    private static Subject[] DistinctSubjects(int count) =>
        [.. Enumerable.Range(0, count).Select(i => Subject.WithRoles("user-" + i, SubjectKind.User, "analyst"))];

    [Fact]
    public void OnDecision_BurstOverflowsTheRing_DropsAreMarkedInTheFileAndEveryDecisionIsAccountedFor()
    {
        using var temp = new TempDirectory();
        string path = temp.File("audit.jsonl");
        const int Threads = 2;
        const int PerThread = 50_000;
        var sink = new JsonLinesAuditSink(new AuditLogOptions { Path = path, Capacity = 64 });
        var authorizer = Authorizer(sink, out _);
        var subjects = DistinctSubjects(97);

        var workers = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            for (int i = 0; i < PerThread; i++)
            {
                authorizer.Authorize(subjects[(i + (t * 13)) % subjects.Length], "model:query", "model:gpt");
            }
        })).ToList();
        workers.ForEach(w => w.Start());
        workers.ForEach(w => w.Join());
        sink.Dispose();

        var log = AuditLog.Read(path);
        sink.RecordsDropped.Should().BeGreaterThan(0, "a 64-slot ring cannot hold a burst of distinct decisions");
        log.Markers.Should().NotBeEmpty();
        log.Lost.Should().Be(sink.RecordsDropped, "every drop is reported by a records_lost line");
        log.Decisions.Should().Be(sink.RecordsWritten);
        (log.Decisions + log.Lost).Should().Be(Threads * PerThread);
        foreach (var marker in log.Markers)
        {
            marker.EnumerateObject().Select(p => p.Name).Should().Equal("time", "event", "lost", "first_time", "last_time");
            Rfc3339.TryParse(marker.GetProperty("time").GetString(), out _).Should().BeTrue();
            Rfc3339.TryParse(marker.GetProperty("first_time").GetString(), out var first).Should().BeTrue();
            Rfc3339.TryParse(marker.GetProperty("last_time").GetString(), out var last).Should().BeTrue();
            first.Should().BeOnOrBefore(last);
        }
    }

    [Fact]
    public void OnDecision_MarkerTimes_AreTheFirstAndLastLostDecisionTimesAndTheWriteTime()
    {
        using var temp = new TempDirectory();
        string path = temp.File("audit.jsonl");
        var clock = new ManualTimeProvider(Now);
        var sink = new JsonLinesAuditSink(new AuditLogOptions { Path = path, Capacity = 2 }, clock, startWriter: false);
        var authorizer = Authorizer(sink, out _);
        var subjects = DistinctSubjects(5);
        for (int i = 0; i < 5; i++)
        {
            authorizer.Authorize(subjects[i], "model:query", "model:gpt"); // 2 kept, 3 dropped
            clock.Advance(TimeSpan.FromSeconds(1));
        }

        sink.StartWriter();
        sink.Dispose();

        var marker = AuditLog.Read(path).Markers.Should().ContainSingle().Subject;
        File.ReadAllLines(path)[0].Should().Be(
            "{\"time\":\"2026-03-01T12:30:20.1234567Z\",\"event\":\"records_lost\",\"lost\":3,"
            + "\"first_time\":\"2026-03-01T12:30:17.1234567Z\",\"last_time\":\"2026-03-01T12:30:19.1234567Z\"}");
        marker.GetProperty("lost").GetInt64().Should().Be(3);
    }

    [Fact]
    public void OnDecision_HotLoopOfIdenticalDecisions_BecomesOneRecordWithCountAndNothingIsDropped()
    {
        using var temp = new TempDirectory();
        string path = temp.File("audit.jsonl");
        var clock = new ManualTimeProvider(Now);
        var sink = new JsonLinesAuditSink(new AuditLogOptions { Path = path, Capacity = 16 }, clock, startWriter: false);
        var authorizer = Authorizer(sink, out _);
        for (int i = 0; i < 10_000; i++)
        {
            authorizer.Authorize(Policies.Alice, "model:query", "model:gpt");
            clock.Advance(TimeSpan.FromTicks(10)); // 10,000 decisions within 0.1 s
        }

        sink.RecordsDropped.Should().Be(0, "identical decisions are counted into one slot, not queued");
        sink.StartWriter();
        sink.Dispose();

        var log = AuditLog.Read(path);
        var record = log.Records.Should().ContainSingle().Subject;
        record.GetProperty("count").GetInt64().Should().Be(10_000);
        record.GetProperty("time").GetString().Should().Be("2026-03-01T12:30:15.1234567Z");
        record.GetProperty("last_time").GetString().Should().Be(Rfc3339.Format(Now.AddTicks(10 * 9_999)));
        log.Markers.Should().BeEmpty();
        sink.RecordsWritten.Should().Be(10_000);
    }

    [Fact]
    public void OnDecision_IdenticalDecisionsOutsideTheWindowOrDifferent_AreSeparateRecordsWithoutCount()
    {
        using var temp = new TempDirectory();
        string path = temp.File("audit.jsonl");
        var clock = new ManualTimeProvider(Now);
        var sink = new JsonLinesAuditSink(new AuditLogOptions { Path = path, Capacity = 16, CoalesceWindow = TimeSpan.FromSeconds(1) }, clock, startWriter: false);
        var authorizer = Authorizer(sink, out _);
        var tagged = new ResourceRequest("tool:a_x") { Tags = new[] { "phi" } };
        var otherTag = new ResourceRequest("tool:a_x") { Tags = new[] { "pii" } };
        authorizer.Authorize(Policies.Alice, "model:query", "model:gpt");
        clock.Advance(TimeSpan.FromSeconds(2));
        authorizer.Authorize(Policies.Alice, "model:query", "model:gpt"); // outside the window
        authorizer.Authorize(Subject.WithRoles("alice", SubjectKind.User, "analyst"), "model:query", "model:gpt"); // same id, kind and roles: same decision
        authorizer.Authorize(Subject.WithRoles("alice", SubjectKind.Agent, "analyst"), "model:query", "model:gpt"); // another kind
        authorizer.Authorize(Policies.Alice, "tool:invoke", tagged);
        authorizer.Authorize(Policies.Alice, "tool:invoke", otherTag); // other tags
        sink.StartWriter();
        sink.Dispose();

        var records = AuditLog.Read(path).Records;
        records.Should().HaveCount(5);
        records.Select(r => r.TryGetProperty("count", out var c) ? c.GetInt64() : 1).Should().Equal(1, 2, 1, 1, 1);
        records[0].TryGetProperty("last_time", out _).Should().BeFalse("count and last_time appear only when count > 1");
    }

    [Fact]
    public void OnDecision_DistinctIdenticalAndDroppedDecisions_AllocatesNothing()
    {
        using var temp = new TempDirectory();
        var sink = new JsonLinesAuditSink(new AuditLogOptions { Path = temp.File("audit.jsonl"), Capacity = 64 }, null, startWriter: false);
        var authorizer = Authorizer(sink, out _);
        var subjects = DistinctSubjects(8);
        var tagged = new ResourceRequest("tool:a_x") { Tags = new[] { "phi", "pii" } };

        void Run(int rounds)
        {
            for (int i = 0; i < rounds; i++)
            {
                authorizer.Authorize(subjects[i % subjects.Length], "tool:invoke", tagged); // distinct: fills, then drops
                authorizer.Authorize(Policies.Alice, "model:query", "model:gpt");
                authorizer.Authorize(Policies.Alice, "model:query", "model:gpt"); // identical to the one before: coalesced
            }
        }

        Run(100); // warm up; fills the ring
        long allocated = long.MaxValue;
        for (int attempt = 0; attempt < 3 && allocated != 0; attempt++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            Run(2_000);
            allocated = Math.Min(allocated, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        allocated.Should().Be(0);
        sink.RecordsDropped.Should().BeGreaterThan(0, "the drop path was exercised");
        sink.Dispose();
    }

    [Fact]
    public void OnDecision_TagBufferReusedAfterHandOff_LogShowsTheTagsOfTheDecision()
    {
        using var temp = new TempDirectory();
        string path = temp.File("audit.jsonl");
        var sink = new JsonLinesAuditSink(new AuditLogOptions { Path = path, MaxTags = 3 }, null, startWriter: false);
        var authorizer = Authorizer(sink, out _);
        string[] pooled = ["phi", "pii"];
        authorizer.Authorize(Policies.Alice, "tool:invoke", new ResourceRequest("tool:a_x") { Tags = pooled });
        pooled[0] = "public"; // the caller returns its buffer to a pool and the next request fills it
        pooled[1] = "other";
        string[] many = ["t1", "t2", "t3", "t4", "t5"];
        authorizer.Authorize(Policies.Alice, "tool:invoke", new ResourceRequest("tool:a_x") { Tags = many });
        sink.StartWriter();
        sink.Dispose();

        var records = AuditLog.Read(path).Records;
        records[0].GetProperty("tags").EnumerateArray().Select(e => e.GetString()).Should().Equal("phi", "pii");
        records[0].TryGetProperty("tags_omitted", out _).Should().BeFalse();
        records[1].GetProperty("tags").EnumerateArray().Select(e => e.GetString()).Should().Equal("t1", "t2", "t3");
        records[1].GetProperty("tags_omitted").GetInt32().Should().Be(2);
    }

    [Fact]
    public void OnDecision_LoneSurrogatesInIds_AreEscapedSoDistinctSubjectsStayDistinct()
    {
        using var temp = new TempDirectory();
        string path = temp.File("audit.jsonl");
        using (var sink = new JsonLinesAuditSink(new AuditLogOptions { Path = path }))
        {
            var authorizer = Authorizer(sink, out _);
            foreach (string id in new[] { "u\uD800", "u\uDBFF", "u\uDC00x", "u\uFFFD", "u\uD83D\uDE00\"\n" })
            {
                authorizer.Authorize(new Subject(id), "model:query", "model:gpt");
            }
        }

        var raw = AuditLog.Read(path).Records.Select(r => r.GetProperty("subject").GetRawText()).ToList();
        raw.Should().Equal(
            "\"u\\uD800\"",
            "\"u\\uDBFF\"",
            "\"u\\uDC00x\"",
            "\"u\uFFFD\"",
            "\"u\uD83D\uDE00\\\"\\n\"");
        raw.Should().OnlyHaveUniqueItems();
        File.ReadAllBytes(path).AsSpan().IndexOf("u\U0001F600"u8).Should().BeGreaterThan(0, "a valid pair stays UTF-8");
    }

    [Fact]
    public void OnDecision_UnsafeCharactersInIds_AreEscapedNeverWrittenRaw()
    {
        // An id from a hostile claim: C1 controls (NEL, CSI), a bidi override and a line separator would reach the
        // terminal of whoever runs `tail` on the log.
        using var temp = new TempDirectory();
        string path = temp.File("audit.jsonl");
        const string Id = "eve\u202Egpj.exe\u2028\u0085\u009B31m\u2066x";
        using (var sink = new JsonLinesAuditSink(new AuditLogOptions { Path = path }))
        {
            Authorizer(sink, out _).Authorize(new Subject(Id), "model:query", "model:gpt\u200F");
        }

        string text = File.ReadAllText(path);
        text.Should().NotContainAny("\u202E", "\u2028", "\u0085", "\u009B", "\u2066", "\u200F");
        var record = AuditLog.Read(path).Records.Single();
        record.GetProperty("subject").GetString().Should().Be(Id, "the escapes decode to the id as given");
        record.GetProperty("resource").GetString().Should().Be("model:gpt\u200F");
    }

    [Fact]
    public void Write_FileTruncatedFromOutside_NextRecordsStartAtTheNewEndWithoutNulBytes()
    {
        // logrotate's copytruncate: the file is copied away and cut to 0 bytes under the open handle.
        using var temp = new TempDirectory();
        string path = temp.File("audit.jsonl");
        using (var sink = new JsonLinesAuditSink(new AuditLogOptions { Path = path, CoalesceWindow = TimeSpan.Zero }))
        {
            var authorizer = Authorizer(sink, out _);
            for (int i = 0; i < 50; i++)
            {
                authorizer.Authorize(new Subject("u" + i), "model:query", "model:gpt");
            }

            sink.Flush();
            using (var outside = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete))
            {
                outside.SetLength(0);
            }

            authorizer.Authorize(new Subject("after"), "model:query", "model:gpt");
            sink.Flush();
            sink.RecordsWritten.Should().Be(51);
        }

        File.ReadAllBytes(path).Should().NotContain(0, "no hole of NUL bytes before the next line");
        AuditLog.Read(path).Records.Select(r => r.GetProperty("subject").GetString()).Should().Equal("after");
    }

    [Fact]
    public void Write_FileDeletedUnderneath_ReopensAndLaterRecordsLandInTheNewFile()
    {
        using var temp = new TempDirectory();
        string path = temp.File("audit.jsonl");
        var sink = new JsonLinesAuditSink(new AuditLogOptions { Path = path, CoalesceWindow = TimeSpan.Zero });
        var authorizer = Authorizer(sink, out _);
        for (int i = 0; i < 100; i++)
        {
            authorizer.Authorize(Policies.Alice, "model:query", "model:gpt");
        }

        sink.Flush();
        File.Delete(path);
        for (int i = 0; i < 1_000; i++)
        {
            authorizer.Authorize(Policies.Alice, "model:query", "model:gpt");
            if (i % 100 == 0)
            {
                sink.Flush();
            }
        }

        sink.Dispose();

        var log = AuditLog.Read(path);
        File.Exists(path).Should().BeTrue("the sink opens a new file at the path");
        (log.Decisions + log.Lost).Should().Be(1_000, "every record after the deletion is in the new file or counted and marked there");
        log.Lost.Should().Be(sink.RecordsDropped);
        (sink.RecordsWritten + sink.RecordsDropped).Should().Be(1_100);
    }

    [Fact]
    public void Dispose_WhileProducersAreHandingOver_EveryDecisionIsWrittenOrCounted()
    {
        var subjects = DistinctSubjects(31);
        for (int round = 0; round < 150; round++)
        {
            using var temp = new TempDirectory();
            string path = temp.File("audit.jsonl");
            var sink = new JsonLinesAuditSink(new AuditLogOptions { Path = path, Capacity = 16 });
            var authorizer = Authorizer(sink, out _);
            long handed = 0;
            bool stop = false;
            var producers = Enumerable.Range(0, 2).Select(t => new Thread(() =>
            {
                int i = t;
                while (!Volatile.Read(ref stop))
                {
                    authorizer.Authorize(subjects[i++ % subjects.Length], "model:query", "model:gpt");
                    Interlocked.Increment(ref handed);
                }
            })).ToList();
            producers.ForEach(p => p.Start());
            while (Interlocked.Read(ref handed) < 500 + (round * 7 % 300))
            {
                Thread.Yield();
            }

            sink.Dispose(); // producers still running
            Volatile.Write(ref stop, true);
            producers.ForEach(p => p.Join());

            (sink.RecordsWritten + sink.RecordsDropped).Should().Be(Interlocked.Read(ref handed), $"round {round}");
            var log = AuditLog.Read(path);
            log.Decisions.Should().Be(sink.RecordsWritten, $"round {round}");
        }
    }
}

/// <summary>
/// The audit log on a full file system. Needs root: each test mounts a 64 KiB tmpfs and unmounts it after; where
/// mounting is not possible the test is reported as skipped, with the reason.
/// </summary>
public sealed class JsonLinesAuditSinkDiskFullTests
{
    private static PolicyAuthorizer Authorizer(IDecisionObserver sink)
    {
        var authorizer = new PolicyAuthorizer([sink]);
        authorizer.Update(YamlPolicy.Compile(Policies.A, "a.yaml").Policy!, new PolicyVersion(Policies.Hash(Policies.A), DateTimeOffset.UnixEpoch));
        return authorizer;
    }

    private static (int ExitCode, string Output) Run(string file, params string[] arguments)
    {
        try
        {
            var start = new System.Diagnostics.ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (string argument in arguments)
            {
                start.ArgumentList.Add(argument);
            }

            using var process = System.Diagnostics.Process.Start(start)!;
            string output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, output);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, e.Message);
        }
    }

    [SkippableFact]
    public void Write_DiskFull_NoTornLineAndEveryDecisionIsWrittenOrCountedAndMarked()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "needs Linux tmpfs");
        using var temp = new TempDirectory();
        string mount = temp.File("small");
        Directory.CreateDirectory(mount);
        var (code, output) = Run("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", mount);
        Skip.If(code != 0, $"cannot mount a 64 KiB tmpfs (needs root; user {Environment.UserName}): {output.Trim()}");
        try
        {
            string filler = System.IO.Path.Combine(mount, "filler");
            File.WriteAllBytes(filler, new byte[16 * 1024]);
            string path = System.IO.Path.Combine(mount, "audit.jsonl");
            var sink = new JsonLinesAuditSink(new AuditLogOptions { Path = path, Overflow = AuditOverflow.Block, CoalesceWindow = TimeSpan.Zero });
            var authorizer = Authorizer(sink);
            var subjects = Enumerable.Range(0, 50).Select(i => Subject.WithRoles("user-" + i, SubjectKind.User, "analyst")).ToArray();
            for (int i = 0; i < 5_000; i++)
            {
                authorizer.Authorize(subjects[i % subjects.Length], "model:query", "model:gpt");
                if (i % 500 == 0)
                {
                    sink.Flush();
                }
            }

            sink.Flush();
            sink.RecordsDropped.Should().BeGreaterThan(0, "5,000 records do not fit in 48 KiB");
            var full = AuditLog.Read(path); // no torn line even while the disk is full
            full.Decisions.Should().Be(sink.RecordsWritten, "a record counts as written only when its write succeeded");

            File.Delete(filler); // space again: the marker goes in
            sink.Dispose();

            var log = AuditLog.Read(path);
            log.Decisions.Should().Be(sink.RecordsWritten);
            log.Lost.Should().Be(sink.RecordsDropped);
            (log.Decisions + log.Lost).Should().Be(5_000);
        }
        finally
        {
            Run("umount", mount);
        }
    }
}
