using System.Text.Json;

namespace AiRbac.Cli.Tests;

public sealed class ReviewCommandTests
{
    private const string Audit = """
        {"time":"2026-05-20T10:00:00Z","subject":"alice","kind":"user","action":"model:query","resource":"model:gpt-4o","allowed":true,"reason":"allowed","role":"analyst","rule":"model:query on model:gpt-4o","roles":["analyst"]}
        {"time":"2026-01-10T10:00:00Z","subject":"alice","action":"data:read","resource":"output:x","allowed":true,"reason":"allowed","role":"viewer","rule":"data:read on output:*","roles":["analyst"]}
        {"time":"2026-05-21T10:00:00Z","subject":"mallory","action":"data:read","resource":"dataset:patients/p1","allowed":false,"reason":"no_matching_grant","roles":["clinician"]}

        """;

    [Fact]
    public void Review_Markdown_ListsUnusedGrantsAndHighRiskHolders()
    {
        using var files = new TempFiles();
        string policy = files.Write("policy.yaml", Policies.Basic);
        string audit = files.Write("audit.jsonl", Audit);

        var result = Cli.Run("review", policy, "--audit", audit, "--now", "2026-06-01T00:00:00Z");

        result.ExitCode.Should().Be(0, result.Error);
        result.Out.Should().Contain("# Access review: ");
        result.Out.Should().Contain("window 90d: a grant not used since 2026-03-03T00:00:00Z is unused");
        result.Out.Should().Contain("| `analyst` | `model:query on model:gpt-4o` | 2026-05-20T10:00:00Z | 1 | used |");
        result.Out.Should().Contain("| `viewer` | `data:read on output:*` | 2026-01-10T10:00:00Z | 0 | **unused** |");
        result.Out.Should().Contain("| `clinician` | ceiling at the highest tier `restricted`; clearance `phi` | `mallory` (audit) |");
    }

    [Fact]
    public void Review_SinceAndJson_UseTheWindow()
    {
        using var files = new TempFiles();
        string policy = files.Write("policy.yaml", Policies.Basic);
        string audit = files.Write("audit.jsonl", Audit);

        var result = Cli.Run("review", policy, "--audit", audit, "--since", "365d", "--now", "2026-06-01T00:00:00Z", "--json");

        result.ExitCode.Should().Be(0, result.Error);
        using var json = JsonDocument.Parse(result.Out);
        json.RootElement.GetProperty("window").GetString().Should().Be("365d");
        var viewer = json.RootElement.GetProperty("roles").EnumerateArray().Single(r => r.GetProperty("role").GetString() == "viewer");
        viewer.GetProperty("grants")[0].GetProperty("unused").GetBoolean().Should().BeFalse();
    }

    [Fact]
    public void Review_StandardInput_IsRead()
    {
        using var files = new TempFiles();
        string policy = files.Write("policy.yaml", Policies.Basic);

        var result = Cli.RunWithInput(Audit, "review", policy, "--audit", "-", "--json");

        result.ExitCode.Should().Be(0, result.Error);
        JsonDocument.Parse(result.Out).RootElement.GetProperty("records").GetInt64().Should().Be(3);
    }

    [Fact]
    public void Review_MalformedAuditLine_Exit2NamingTheLine()
    {
        using var files = new TempFiles();
        string policy = files.Write("policy.yaml", Policies.Basic);
        string audit = files.Write("audit.jsonl", Audit.Replace("\"allowed\":false", "\"allowed\":0", StringComparison.Ordinal));

        var result = Cli.Run("review", policy, "--audit", audit);

        result.ExitCode.Should().Be(2);
        result.Error.Should().Contain($"error: {audit}: line 3: 'allowed' must be present and be true or false");
        result.Out.Should().BeEmpty();
    }

    [Fact]
    public void Review_EscapeSequenceInAnAuditedSubject_IsEscapedInTheReport()
    {
        // Subject ids in the audit log come from claims: a hostile one must not drive the reviewer's terminal.
        using var files = new TempFiles();
        string policy = files.Write("policy.yaml", Policies.Basic);
        string audit = files.Write("audit.jsonl", Audit.Replace("\"subject\":\"mallory", "\"subject\":\"\\u001b[8mmallory\\u202E", StringComparison.Ordinal));

        var result = Cli.Run("review", policy, "--audit", audit);

        result.ExitCode.Should().Be(0, result.Error);
        result.Out.Should().NotContainAny("\u001b", "\u202E");
    }

    [Fact]
    public void Review_LoneSurrogateInAnAuditedSubject_IsKeptDistinctInEscapedForm()
    {
        // The sink writes a lone surrogate in an id as its escape, so two such subjects stay two; review keeps them so.
        using var files = new TempFiles();
        string policy = files.Write("policy.yaml", Policies.Basic);
        string audit = files.Write("audit.jsonl", Audit
            .Replace("\"subject\":\"mallory", "\"subject\":\"mallory\\ud800", StringComparison.Ordinal)
            + Audit.Split('\n')[2].Replace("\"subject\":\"mallory", "\"subject\":\"mallory\\udc00", StringComparison.Ordinal) + "\n");

        var result = Cli.Run("review", policy, "--audit", audit);

        result.ExitCode.Should().Be(0, result.Error);
        result.Out.Should().Contain("mallory\\ud800").And.Contain("mallory\\udc00");
    }

    [Fact]
    public void Review_LoneSurrogateInAFieldName_Exit2NamingTheLine()
    {
        using var files = new TempFiles();
        string policy = files.Write("policy.yaml", Policies.Basic);
        string audit = files.Write("audit.jsonl", Audit.Replace("\"kind\":", "\"\\ud800\":", StringComparison.Ordinal));

        var result = Cli.Run("review", policy, "--audit", audit);

        result.ExitCode.Should().Be(2);
        result.Error.Should().Contain($"error: {audit}: line 1: a field name holds an escape that is not valid UTF-16");
    }

    [Fact]
    public void Review_LossMarkerInWindow_ReportsTheGapAndNoUnusedGrant()
    {
        using var files = new TempFiles();
        string policy = files.Write("policy.yaml", Policies.Basic);
        string audit = files.Write("audit.jsonl", Audit + """
            {"time":"2026-05-11T00:00:05Z","event":"records_lost","lost":40,"first_time":"2026-05-10T00:00:00Z","last_time":"2026-05-11T00:00:00Z"}

            """);

        var result = Cli.Run("review", policy, "--audit", audit, "--now", "2026-06-01T00:00:00Z");

        result.ExitCode.Should().Be(0, result.Error);
        result.Out.Should().Contain("**The audit log is incomplete**: 40 records lost");
        result.Out.Should().Contain("40 records lost between 2026-05-10T00:00:00Z and 2026-05-11T00:00:00Z");
        result.Out.Should().Contain("| `viewer` | `data:read on output:*` | 2026-01-10T10:00:00Z | 0 | not seen, log incomplete |");
        result.Out.Should().NotContain("**unused**");
    }

    [Fact]
    public void Review_LossMarkerBeforeWindow_UnusedVerdictsStand()
    {
        using var files = new TempFiles();
        string policy = files.Write("policy.yaml", Policies.Basic);
        string audit = files.Write("audit.jsonl", Audit + """
            {"time":"2026-01-11T00:00:05Z","event":"records_lost","lost":3,"first_time":"2026-01-10T00:00:00Z","last_time":"2026-01-11T00:00:00Z"}

            """);

        var result = Cli.Run("review", policy, "--audit", audit, "--now", "2026-06-01T00:00:00Z", "--json");

        result.ExitCode.Should().Be(0, result.Error);
        using var json = JsonDocument.Parse(result.Out);
        json.RootElement.GetProperty("audit_log_complete").GetBoolean().Should().BeFalse();
        json.RootElement.GetProperty("losses").GetProperty("lost_records_in_window").GetInt64().Should().Be(0);
        var viewer = json.RootElement.GetProperty("roles").EnumerateArray().Single(r => r.GetProperty("role").GetString() == "viewer");
        viewer.GetProperty("grants")[0].GetProperty("status").GetString().Should().Be("unused");
        viewer.GetProperty("grants")[0].GetProperty("unused").GetBoolean().Should().BeTrue();
    }

    [Fact]
    public void Review_CoalescedRecord_CountsWithItsLastTime()
    {
        using var files = new TempFiles();
        string policy = files.Write("policy.yaml", Policies.Basic);
        string audit = files.Write("audit.jsonl", Audit + """
            {"time":"2026-01-05T00:00:00Z","subject":"alice","action":"data:read","resource":"output:y","allowed":true,"reason":"allowed","role":"viewer","rule":"data:read on output:*","count":4,"last_time":"2026-05-25T00:00:00Z"}

            """);

        var result = Cli.Run("review", policy, "--audit", audit, "--now", "2026-06-01T00:00:00Z");

        result.ExitCode.Should().Be(0, result.Error);
        result.Out.Should().Contain("| `viewer` | `data:read on output:*` | 2026-05-25T00:00:00Z | 4 | used |");
    }

    [Fact]
    public void Review_TornFinalLine_SucceedsReportingTheIncompleteLog()
    {
        using var files = new TempFiles();
        string policy = files.Write("policy.yaml", Policies.Basic);
        string audit = files.Write("audit.jsonl", Audit + "{\"time\":\"2026-05-31T00:00:00Z\",\"subj");

        var result = Cli.Run("review", policy, "--audit", audit, "--now", "2026-06-01T00:00:00Z");

        result.ExitCode.Should().Be(0, result.Error);
        result.Out.Should().Contain("line 4 is a torn final line");
        result.Out.Should().Contain("| `viewer` | `data:read on output:*` | 2026-01-10T10:00:00Z | 0 | not seen, log incomplete |");
        result.Out.Should().NotContain("**unused**");
    }

    [Fact]
    public void Review_MalformedLastLineWithNewline_Exit2NamingTheLine()
    {
        using var files = new TempFiles();
        string policy = files.Write("policy.yaml", Policies.Basic);
        string audit = files.Write("audit.jsonl", Audit + "{\"time\":\"2026-05-31T00:00:00Z\",\"subj\n");

        var result = Cli.Run("review", policy, "--audit", audit);

        result.ExitCode.Should().Be(2);
        result.Error.Should().Contain($"error: {audit}: line 4: not valid JSON");
        result.Out.Should().BeEmpty();
    }

    [Fact]
    public void Review_UnknownEvent_Exit2NamingTheLine()
    {
        using var files = new TempFiles();
        string policy = files.Write("policy.yaml", Policies.Basic);
        string audit = files.Write("audit.jsonl", Audit + """
            {"time":"2026-05-11T00:00:05Z","event":"policy_reloaded"}

            """);

        var result = Cli.Run("review", policy, "--audit", audit);

        result.ExitCode.Should().Be(2);
        result.Error.Should().Contain($"error: {audit}: line 4: unknown 'event': 'policy_reloaded'");
        result.Out.Should().BeEmpty();
    }

    [Theory]
    [InlineData("--since", "90")]
    [InlineData("--since", "3y")]
    [InlineData("--now", "yesterday")]
    public void Review_BadOption_Exit2(string option, string value)
    {
        using var files = new TempFiles();
        string policy = files.Write("policy.yaml", Policies.Basic);
        string audit = files.Write("audit.jsonl", Audit);

        var result = Cli.Run("review", policy, "--audit", audit, option, value);

        result.ExitCode.Should().Be(2);
        result.Error.Should().Contain(option);
    }

    [Fact]
    public void Review_MissingAuditOption_Exit2()
    {
        using var files = new TempFiles();
        string policy = files.Write("policy.yaml", Policies.Basic);

        Cli.Run("review", policy).ExitCode.Should().Be(2);
    }

    [Fact]
    public void Review_MissingAuditFile_Exit2()
    {
        using var files = new TempFiles();
        string policy = files.Write("policy.yaml", Policies.Basic);

        var result = Cli.Run("review", policy, "--audit", files.PathOf("none.jsonl"));

        result.ExitCode.Should().Be(2);
        result.Error.Should().Contain("file not found");
    }

    [Fact]
    public void Review_BrokenPolicy_Exit2WithErrors()
    {
        using var files = new TempFiles();
        string policy = files.Write("policy.yaml", Policies.Broken);
        string audit = files.Write("audit.jsonl", Audit);

        var result = Cli.Run("review", policy, "--audit", audit);

        result.ExitCode.Should().Be(2);
        result.Error.Should().Contain("error malformed_rule");
    }
}
