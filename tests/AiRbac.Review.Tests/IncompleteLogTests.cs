using System.Text.Json;

namespace AiRbac.Review.Tests;

/// <summary>Loss markers, coalesced records and a torn final line (the audit sink's signs of an incomplete log).</summary>
public sealed class IncompleteLogTests
{
    // The fixture's window is 2026-03-03T00:00:00Z to 2026-06-01T00:00:00Z (90 days).
    private const string MarkerInWindow = """{"time":"2026-05-11T00:00:05Z","event":"records_lost","lost":120,"first_time":"2026-05-10T00:00:00Z","last_time":"2026-05-11T00:00:00Z"}""";
    private const string MarkerBeforeWindow = """{"time":"2026-02-01T00:00:05Z","event":"records_lost","lost":7,"first_time":"2026-01-31T00:00:00Z","last_time":"2026-02-01T00:00:00Z"}""";

    private static AccessReviewReport Review(string log) => ReviewFixture.Reviewer().Review(new StringReader(log), ReviewFixture.Now, AccessReviewer.DefaultWindow, "audit.jsonl");

    private static string FixtureLog(params string[] extra) => string.Join("\n", [.. ReviewFixture.Audit[..^1], .. extra]) + "\n";

    private static GrantUsage Grant(AccessReviewReport report, string role, string rule)
        => report.Roles.Single(r => r.Name == role).Grants.Single(g => g.Rule == rule);

    [Fact]
    public void MarkerInWindow_UnseenGrantsAreNotCalledUnused_AndTheGapIsReported()
    {
        var report = Review(FixtureLog(MarkerInWindow));

        report.AuditLogComplete.Should().BeFalse();
        report.AuditLogIncompleteOverWindow.Should().BeTrue();
        report.LostRecords.Should().Be(120);
        report.LostRecordsInWindow.Should().Be(120);
        report.LostInWindowFrom.Should().Be(new DateTimeOffset(2026, 5, 10, 0, 0, 0, TimeSpan.Zero));
        report.LostInWindowTo.Should().Be(new DateTimeOffset(2026, 5, 11, 0, 0, 0, TimeSpan.Zero));
        report.Gaps.Select(g => (g.LineNumber, g.Lost, g.InWindow)).Should().Equal((8L, 120L, true));
        report.AuditRecords.Should().Be(7); // the marker is not a decision record

        report.UnusedGrantCount.Should().Be(0);
        var never = Grant(report, "clinician", "data:read on dataset:patients/**");
        never.Status.Should().Be(GrantStatus.NotSeenLogIncomplete);
        never.Unused.Should().BeFalse();
        var old = Grant(report, "viewer", "data:read on output:*"); // last used before the window
        old.Status.Should().Be(GrantStatus.NotSeenLogIncomplete);
        old.LastUsed.Should().Be(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var used = Grant(report, "analyst", "model:query on model:gpt-4o");
        used.Status.Should().Be(GrantStatus.Used);
        used.LastUsed.Should().Be(new DateTimeOffset(2026, 5, 20, 10, 0, 0, TimeSpan.Zero));
        report.Subjects.SelectMany(s => s.Grants).Should().NotContain(g => g.Unused);

        string text = report.ToMarkdown();
        text.Should().Contain("**The audit log is incomplete**: 120 records lost (1 loss marker).");
        text.Should().Contain("120 records lost between 2026-05-10T00:00:00Z and 2026-05-11T00:00:00Z");
        text.Should().Contain("| 8 | 120 | 2026-05-10T00:00:00Z | 2026-05-11T00:00:00Z | yes |");
        text.Should().Contain("| `clinician` | `data:read on dataset:patients/**` | never | 0 | not seen, log incomplete |");
        text.Should().NotContain("**unused**");
        text.Should().Contain("| grants unused in the window | 0 (0 never used) |");
        text.Should().Contain("| grants not seen in the window, log incomplete (not called unused) | 5 |");
    }

    [Fact]
    public void MarkerInWindow_Json_HasLossesAndGrantStatus()
    {
        using var json = JsonDocument.Parse(Review(FixtureLog(MarkerBeforeWindow, MarkerInWindow)).ToJson());
        var root = json.RootElement;

        root.GetProperty("audit_log_complete").GetBoolean().Should().BeFalse();
        root.GetProperty("unused_grants").GetInt32().Should().Be(0);
        root.GetProperty("not_seen_log_incomplete_grants").GetInt32().Should().BeGreaterThan(0);
        var losses = root.GetProperty("losses");
        losses.GetProperty("lost_records").GetInt64().Should().Be(127);
        losses.GetProperty("loss_markers").GetInt64().Should().Be(2);
        losses.GetProperty("lost_records_in_window").GetInt64().Should().Be(120);
        losses.GetProperty("lost_in_window_from").GetString().Should().Be("2026-05-10T00:00:00Z");
        losses.GetProperty("lost_in_window_to").GetString().Should().Be("2026-05-11T00:00:00Z");
        losses.GetProperty("torn_line").ValueKind.Should().Be(JsonValueKind.Null);
        losses.GetProperty("gaps").EnumerateArray().Select(g => (g.GetProperty("lost").GetInt64(), g.GetProperty("in_window").GetBoolean()))
            .Should().Equal((7L, false), (120L, true));
        var clinician = root.GetProperty("roles").EnumerateArray().Single(r => r.GetProperty("role").GetString() == "clinician");
        clinician.GetProperty("grants")[0].GetProperty("unused").GetBoolean().Should().BeFalse();
        clinician.GetProperty("grants")[0].GetProperty("status").GetString().Should().Be("not_seen_log_incomplete");
    }

    [Fact]
    public void MarkerBeforeWindow_UnusedVerdictsStand()
    {
        var report = Review(FixtureLog(MarkerBeforeWindow));

        report.AuditLogComplete.Should().BeFalse();
        report.AuditLogIncompleteOverWindow.Should().BeFalse();
        report.LostRecords.Should().Be(7);
        report.LostRecordsInWindow.Should().Be(0);
        Grant(report, "clinician", "data:read on dataset:patients/**").Status.Should().Be(GrantStatus.Unused);
        Grant(report, "viewer", "data:read on output:*").Unused.Should().BeTrue();
        report.UnusedGrantCount.Should().Be(ReviewFixture.Review().UnusedGrantCount);
        report.ToMarkdown().Should().Contain("All of them were lost before 2026-03-03T00:00:00Z, outside the window: the unused verdicts stand.");
    }

    [Fact]
    public void MarkerEndingAtWindowStart_OverlapsTheWindow()
    {
        string marker = MarkerBeforeWindow.Replace("\"last_time\":\"2026-02-01T00:00:00Z\"", "\"last_time\":\"2026-03-03T00:00:00Z\"", StringComparison.Ordinal);

        Review(FixtureLog(marker)).AuditLogIncompleteOverWindow.Should().BeTrue();
    }

    [Fact]
    public void CoalescedRecord_CountsItsUsesWithItsLastTime()
    {
        // 5 identical decisions, the first before the window, the last in it.
        const string Coalesced = """{"time":"2026-01-05T00:00:00Z","subject":"frank","action":"data:read","resource":"dataset:patients/p1","allowed":true,"reason":"allowed","role":"clinician","rule":"data:read on dataset:patients/**","roles":["clinician"],"count":5,"last_time":"2026-05-25T00:00:00Z"}""";

        var report = Review(FixtureLog(Coalesced));

        var grant = Grant(report, "clinician", "data:read on dataset:patients/**");
        grant.LastUsed.Should().Be(new DateTimeOffset(2026, 5, 25, 0, 0, 0, TimeSpan.Zero));
        grant.UsesInWindow.Should().Be(5);
        grant.Status.Should().Be(GrantStatus.Used);
        report.AuditRecords.Should().Be(7 + 5);
        report.AllowedRecords.Should().Be(6 + 5);
        report.LastRecord.Should().Be(new DateTimeOffset(2026, 5, 30, 12, 0, 0, TimeSpan.Zero));
        report.Subjects.Single(s => s.Id == "frank").LastSeen.Should().Be(new DateTimeOffset(2026, 5, 25, 0, 0, 0, TimeSpan.Zero));
        report.AuditLogComplete.Should().BeTrue();
    }

    [Fact]
    public void TornFinalLine_IsOneLostRecordOfUnknownTime_AndNoGrantIsUnused()
    {
        string log = FixtureLog() + """{"time":"2026-05-31T00:00:00Z","subject":"al""";

        var report = Review(log);

        report.AuditRecords.Should().Be(7);
        report.TornLine.Should().Be(8);
        report.LostRecords.Should().Be(1);
        report.AuditLogIncompleteOverWindow.Should().BeTrue();
        report.UnusedGrantCount.Should().Be(0);
        Grant(report, "clinician", "data:read on dataset:patients/**").Status.Should().Be(GrantStatus.NotSeenLogIncomplete);
        string text = report.ToMarkdown();
        text.Should().Contain("line 8 is a torn final line");
        text.Should().Contain("1 record of unknown time (the torn final line)");
        text.Should().Contain("| 8 | 1 (torn final line) | unknown | unknown | assumed |");
    }

    [Fact]
    public void MalformedLastLineFollowedByNewline_StillThrowsNamingTheLine()
    {
        string log = FixtureLog() + "{\"time\":\"2026-05-31T00:00:00Z\",\"subject\":\"al\n";

        var act = () => Review(log);

        var e = act.Should().Throw<AuditLogFormatException>().Which;
        e.LineNumber.Should().Be(8);
        e.Reason.Should().Contain("not valid JSON");
    }

    [Fact]
    public void MalformedLineFollowedByBlankLines_StillThrows()
    {
        string log = FixtureLog() + "{\"time\":\"2026-05-31T00:00:00Z\",\"subject\":\"al\n\n  ";

        var act = () => Review(log);

        act.Should().Throw<AuditLogFormatException>().Which.LineNumber.Should().Be(8);
    }

    [Fact]
    public void UnterminatedLastLine_ThatIsValidJsonButNotARecord_StillThrows()
    {
        // Only a write cut off (invalid JSON) is torn; a complete object with a bad field is a format error.
        string log = FixtureLog() + """{"time":"2026-05-31T00:00:00Z","subject":"al"}""";

        var act = () => Review(log);

        act.Should().Throw<AuditLogFormatException>().Which.Reason.Should().Contain("'action' is missing");
    }

    [Theory]
    [InlineData("""{"time":"2026-05-11T00:00:05Z","event":"records_found","lost":1}""", "unknown 'event': 'records_found'")]
    [InlineData("""{"time":"2026-05-11T00:00:05Z","event":7}""", "'event' must be a string")]
    [InlineData("""{"time":"2026-05-11T00:00:05Z","event":"records_lost","lost":0,"first_time":"2026-05-10T00:00:00Z","last_time":"2026-05-11T00:00:00Z"}""", "'lost' must be present and be a positive integer")]
    [InlineData("""{"time":"2026-05-11T00:00:05Z","event":"records_lost","lost":2.5,"first_time":"2026-05-10T00:00:00Z","last_time":"2026-05-11T00:00:00Z"}""", "'lost' must be present and be a positive integer")]
    [InlineData("""{"time":"2026-05-11T00:00:05Z","event":"records_lost","lost":3,"last_time":"2026-05-11T00:00:00Z"}""", "'first_time' is missing")]
    [InlineData("""{"time":"2026-05-11T00:00:05Z","event":"records_lost","lost":3,"first_time":"2026-05-12T00:00:00Z","last_time":"2026-05-11T00:00:00Z"}""", "'last_time' is before 'first_time'")]
    [InlineData("""{"time":"2026-05-20T10:00:00Z","subject":"a","action":"x:y","resource":"a:b","allowed":true,"reason":"allowed","count":1,"last_time":"2026-05-21T00:00:00Z"}""", "'count' must be an integer of at least 2")]
    [InlineData("""{"time":"2026-05-20T10:00:00Z","subject":"a","action":"x:y","resource":"a:b","allowed":true,"reason":"allowed","count":3}""", "'count' and 'last_time' go together")]
    [InlineData("""{"time":"2026-05-20T10:00:00Z","subject":"a","action":"x:y","resource":"a:b","allowed":true,"reason":"allowed","count":3,"last_time":"2026-05-19T00:00:00Z"}""", "'last_time' is before 'time'")]
    public void BadMarkerOrCoalescedRecord_ThrowsNamingTheLine(string badLine, string why)
    {
        string log = ReviewFixture.Audit[0] + "\n" + badLine + "\n" + ReviewFixture.Audit[1] + "\n";

        var act = () => Review(log);

        var e = act.Should().Throw<AuditLogFormatException>().Which;
        e.LineNumber.Should().Be(2);
        e.Reason.Should().Contain(why);
    }

    [Fact]
    public void ManyMarkers_AreCountedButListedUpToALimit()
    {
        var markers = Enumerable.Range(0, 50).Select(_ => MarkerBeforeWindow).ToArray();

        var report = Review(FixtureLog(markers));

        report.LossMarkers.Should().Be(50);
        report.LostRecords.Should().Be(350);
        report.Gaps.Should().HaveCount(20);
        report.ToMarkdown().Should().Contain("30 more loss markers are not listed");
    }
}
