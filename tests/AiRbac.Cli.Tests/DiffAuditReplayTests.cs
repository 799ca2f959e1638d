using System.Text;
using Microsoft.Extensions.DependencyInjection;

namespace AiRbac.Cli.Tests;

/// <summary><c>airbac diff OLD NEW --audit FILE</c>: the decisions of a real audit log decided again under both policies.</summary>
public class DiffAuditReplayTests
{
    private const string Old = """
        version: 1
        sensitivity: [public, internal, confidential, restricted]
        roles:
          analyst:
            allow:
              - model:query on model:gpt-4o
              - tool:invoke on tool:report_*
            max_sensitivity: confidential
          viewer:
            allow: [ "data:read on output:*" ]
            max_sensitivity: internal
          approver:
            allow: [ "config:approve on config:*" ]
          bot:
            kinds: [agent]
            allow: [ "tool:invoke on tool:report_*" ]
        constraints:
          not_by_owner: [config:approve]
        bindings:
          subjects:
            dana: { roles: [viewer] }
        """;

    // analyst keeps only tool:report_weekly; everything else is the same.
    private static readonly string New = Old.Replace("- tool:invoke on tool:report_*", "- tool:invoke on tool:report_weekly", StringComparison.Ordinal);

    // Long ago, so that the expiring binding below has expired by now: the replay must decide as of the logged time.
    private static readonly DateTimeOffset LoggedAt = new(2020, 1, 1, 9, 0, 0, TimeSpan.Zero);

    /// <summary>Writes an audit log the way a service does: AddAiRbac with the file sink, OLD answering.</summary>
    private static string WriteLog(TempFiles files, string policy, Action<PolicyAuthorizer> decide, string name = "audit.jsonl")
    {
        string path = files.PathOf(name);
        var clock = new StoppedClock(LoggedAt);
        var services = new ServiceCollection().AddSingleton<TimeProvider>(clock).AddAiRbac(o =>
        {
            o.Source = AiRbacPolicySource.FromYaml(policy, "old.yaml");
            o.CompilerOptions = new PolicyCompilerOptions { TimeProvider = clock };
            o.AuditLog.Path = path;
            o.AuditLog.CoalesceWindow = TimeSpan.Zero; // one line per decision, so the tests can count lines
            o.WatchFile = false;
        });
        using (var provider = services.BuildServiceProvider())
        {
            decide(provider.GetRequiredService<PolicyAuthorizer>());
        }

        return path;
    }

    private static void Production(PolicyAuthorizer authorizer)
    {
        var alice = Subject.WithRoles("alice", SubjectKind.User, "analyst");
        var bob = Subject.WithRoles("bob", SubjectKind.User, "analyst");
        for (int i = 0; i < 3; i++)
        {
            authorizer.Authorize(alice, "tool:invoke", "tool:report_daily").Allowed.Should().BeTrue();
        }

        authorizer.Authorize(bob, "tool:invoke", "tool:report_daily").Allowed.Should().BeTrue();
        authorizer.Authorize(alice, "tool:invoke", "tool:report_weekly").Allowed.Should().BeTrue();
        authorizer.Authorize(alice, "model:query", "model:gpt-4o").Allowed.Should().BeTrue();

        // An agent acting for a user whose binding is scoped: the chain, the scope and the bot's own kind must be replayed.
        var carol = new Subject("carol", SubjectKind.User, [new RoleBinding("analyst", Scope: "acme")]);
        var agent = Subject.WithRoles("bot-7", SubjectKind.Agent, "bot").ActingFor(carol);
        authorizer.Authorize(agent, "tool:invoke", new ResourceRequest("tool:report_q3") { Scope = "acme/pd" }).Allowed.Should().BeTrue();

        // A binding that expires a day after the decision (long expired now).
        var svc = new Subject("svc", SubjectKind.Service, [new RoleBinding("analyst", Expires: LoggedAt.AddDays(1))]);
        authorizer.Authorize(svc, "tool:invoke", "tool:report_ops").Allowed.Should().BeTrue();

        // The two-person rule (the owner must be replayed), a policy-bound subject, tags and a tier.
        var erin = Subject.WithRoles("erin", SubjectKind.User, "approver");
        authorizer.Authorize(erin, "config:approve", new ResourceRequest("config:x") { Owner = "erin" }).Reason.Should().Be(DecisionReason.OwnerConflict);
        authorizer.Authorize(new Subject("dana"), "data:read", "output:summary").Allowed.Should().BeTrue();
        authorizer.Authorize(alice, "model:query", new ResourceRequest("model:gpt-4o") { Sensitivity = "restricted", Tags = new[] { "pii" } }).Allowed.Should().BeFalse();
    }

    [Fact]
    public void DiffAudit_RealLogFromTheSink_ReportsEveryChangeByReasonWithCountsAndSubjects()
    {
        using var files = new TempFiles();
        string before = files.Write("old.yaml", Old);
        string after = files.Write("new.yaml", New);
        string log = WriteLog(files, Old, Production);

        var result = Cli.Run("diff", before, after, "--audit", log);

        result.ExitCode.Should().Be(1, result.Error);
        string[] lines = result.OutLines;
        lines.Should().Contain($"decisions replayed from the audit log {log} (each as of its logged time):");
        lines.Should().ContainInOrder(
            "  allowed -> no_matching_grant: 5 decisions (5 records), 3 subjects",
            "    subjects: alice (3), bob (1), svc (1)",
            "    line 1, 2020-01-01T09:00:00Z: alice tool:invoke tool:report_daily: allowed (analyst: tool:invoke on tool:report_*) -> no_matching_grant",
            "    line 2, 2020-01-01T09:00:00Z: alice tool:invoke tool:report_daily: allowed (analyst: tool:invoke on tool:report_*) -> no_matching_grant",
            "    line 3, 2020-01-01T09:00:00Z: alice tool:invoke tool:report_daily: allowed (analyst: tool:invoke on tool:report_*) -> no_matching_grant",
            "  allowed -> delegation_denied: 1 decision (1 record), 1 subject",
            "    subjects: bot-7 for carol (1)",
            "    line 7, 2020-01-01T09:00:00Z: bot-7 for carol tool:invoke tool:report_q3: allowed (bot: tool:invoke on tool:report_*) -> delegation_denied",
            "audit: 11 decisions in 11 records replayed: 6 changed reason, 6 flipped between allowed and denied; 4 subjects affected");
        lines.Should().NotContain(l => l.Contains("line 8,", StringComparison.Ordinal), "the expiring binding was in effect at the logged time: svc is in the first group");
        result.Out.Should().NotContain("not replayable").And.NotContain("warning").And.NotContain("skipped");
    }

    [Fact]
    public void DiffAudit_SamePolicy_NoChangeAndEveryLoggedDecisionReproduced()
    {
        // The operator's check that the log holds what the decisions read: OLD against itself reproduces every logged
        // reason (no warning), for scoped, expiring, delegated, owned and policy-bound requests alike.
        using var files = new TempFiles();
        string before = files.Write("old.yaml", Old);
        string log = WriteLog(files, Old, Production);

        var result = Cli.Run("diff", before, before, "--audit", log);

        result.ExitCode.Should().Be(0, result.Out + result.Error);
        result.Out.Should().Contain("  no decision changes").And.Contain("audit: 11 decisions in 11 records replayed: 0 changed reason");
        result.Out.Should().NotContain("warning");
    }

    [Fact]
    public void DiffAudit_OldIsNotThePolicyThatDecided_Warns()
    {
        using var files = new TempFiles();
        string log = WriteLog(files, Old, Production);
        string other = files.Write("other.yaml", New);

        var result = Cli.Run("diff", other, other, "--audit", log);

        result.Out.Should().Contain("warning: OLD does not give the logged reason for 6 records (6 decisions); 0 of them logged as decided by OLD's exact content");
        result.Out.Should().Contain("    line 1: logged allowed, OLD gives no_matching_grant");

        // A record edited after the fact (or decided with inputs the log does not show) is caught when OLD is the very
        // policy the log names: OLD's exact content no longer gives the logged reason.
        string before = files.Write("old.yaml", Old);
        string[] lines = File.ReadAllLines(log);
        lines[0] = lines[0].Replace("\"allowed\":true,\"reason\":\"allowed\"", "\"allowed\":false,\"reason\":\"explicit_deny\"", StringComparison.Ordinal);
        string tampered = files.Write("tampered.jsonl", string.Join('\n', lines) + "\n");
        var byOld = Cli.Run("diff", before, before, "--audit", tampered);
        byOld.Out.Should().Contain("warning: OLD does not give the logged reason for 1 record (1 decision); 1 of them logged as decided by OLD's exact content");
        byOld.Out.Should().Contain("    line 1: logged explicit_deny by OLD, OLD gives allowed");
    }

    [Fact]
    public void DiffAudit_CoalescedRecord_CountsEveryDecisionItStandsFor()
    {
        using var files = new TempFiles();
        string before = files.Write("old.yaml", Old);
        string after = files.Write("new.yaml", New);
        string[] lines = File.ReadAllLines(WriteLog(files, Old, Production));
        lines[0] = lines[0][..^1] + ",\"count\":40,\"last_time\":\"2020-01-01T09:00:00.9Z\"}"; // as the sink writes 40 identical decisions
        string log = files.Write("coalesced.jsonl", string.Join('\n', lines) + "\n");

        var result = Cli.Run("diff", before, after, "--audit", log);

        result.Out.Should().Contain("  allowed -> no_matching_grant: 44 decisions (5 records), 3 subjects");
        result.Out.Should().Contain("    subjects: alice (42), bob (1), svc (1)");
        result.Out.Should().Contain("-> no_matching_grant (x40)");
        result.Out.Should().Contain("audit: 50 decisions in 11 records replayed: 45 changed reason, 45 flipped");
    }

    [Fact]
    public void DiffAudit_TruncatedLastLineLossMarkerAndRetrievalRecord_AreCountedNotFailed()
    {
        using var files = new TempFiles();
        string before = files.Write("old.yaml", Old);
        string after = files.Write("new.yaml", New);
        string log = WriteLog(files, Old, Production);
        File.AppendAllText(log, "{\"time\":\"2020-01-01T09:00:00Z\",\"event\":\"retrieval\",\"policy_version\":\"x\",\"policy_loaded_at\":\"2020-01-01T00:00:00Z\",\"subject\":\"rag\",\"roles\":[{\"role\":\"analyst\",\"scope\":\"acme\"}],\"action\":\"data:read\",\"candidates\":2,\"removed\":1,\"returned\":1,\"filter\":\"f\"}\n");
        File.AppendAllText(log, "{\"time\":\"2020-01-01T09:00:01Z\",\"event\":\"records_lost\",\"lost\":4,\"first_time\":\"2020-01-01T09:00:00Z\",\"last_time\":\"2020-01-01T09:00:01Z\"}\n");
        File.AppendAllText(log, "{\"time\":\"2020-01-01T09:00:02Z\",\"schema\":2,\"policy_version\":\"ab"); // a crash mid-write

        var result = Cli.Run("diff", before, after, "--audit", log);

        result.ExitCode.Should().Be(1);
        result.Out.Should().Contain("  not in the log: 4 lost (records_lost markers), 1 torn last line");
        result.Out.Should().Contain("  not decisions: 1 retrieval query record (counted, not replayed)");
        result.Out.Should().Contain("audit: 11 decisions in 11 records replayed: 6 changed reason");
    }

    [Fact]
    public void DiffAudit_HostileLog_BadLinesCountedAndSkippedTheRestReplayedIncomplete()
    {
        using var files = new TempFiles();
        string before = files.Write("old.yaml", Old);
        string after = files.Write("new.yaml", New);
        string good = File.ReadAllText(WriteLog(files, Old, Production));
        string first = good[..(good.IndexOf('\n', StringComparison.Ordinal) + 1)];
        var hostile = new StringBuilder();
        hostile.Append(new string('x', 3 << 20)).Append('\n');                 // a 3 MiB line
        hostile.Append("{\"time\": not json}\n");                                // invalid JSON
        hostile.Append(new string('[', 100_000)).Append(new string(']', 100_000)).Append('\n'); // deep nesting
        hostile.Append(first);                                                   // a good record between bad ones
        hostile.Append("{\"time\":\"2020-01-01T09:00:00Z\",\"event\":\"rm -rf\"}\n"); // an event nobody knows
        hostile.Append(first.Replace("\"subject\":\"alice\"", "\"subject\":\"alice\",\"subject\":\"root\"", StringComparison.Ordinal)); // a repeated field
        hostile.Append(first.Replace("\"roles\":[\"analyst\"]", "\"roles\":[{\"role\":\"analyst\",\"scope\":\"acme\",\"sudo\":true}]", StringComparison.Ordinal));
        hostile.Append("\n\n").Append(good);
        string log = files.Write("hostile.jsonl", hostile.ToString());

        var result = Cli.Run("diff", before, after, "--audit", log);

        result.ExitCode.Should().Be(2, "a replay that skipped lines is incomplete");
        result.Error.Should().Contain("the replay is incomplete");
        result.Out.Should().Contain("  skipped: 6 lines not valid audit records");
        result.Out.Should().Contain("    line 1: the line is longer than 1048576 characters");
        result.Out.Should().Contain("    line 2: not valid JSON");
        result.Out.Should().Contain("    line 3: not valid JSON");
        result.Out.Should().NotContain("line 5: unknown 'event'", "only the first few bad lines are quoted");
        result.Out.Should().Contain("audit: 12 decisions in 12 records replayed: 7 changed reason");
        result.Out.Length.Should().BeLessThan(10_000, "no bad line is echoed whole");
    }

    [Fact]
    public void DiffAudit_RecordsWithoutEverythingADecisionRead_AreCountedAsNotReplayable()
    {
        using var files = new TempFiles();
        string before = files.Write("old.yaml", Old);
        string after = files.Write("new.yaml", New);
        string[] good = File.ReadAllLines(WriteLog(files, Old, Production));
        string older = good[0].Replace("\"schema\":2,", "", StringComparison.Ordinal); // as the sink wrote before the schema
        string newer = good[0].Replace("\"schema\":2,", "\"schema\":3,", StringComparison.Ordinal);
        string tagsCut = good[0].Replace("\"allowed\":true", "\"tags\":[\"phi\"],\"tags_omitted\":3,\"allowed\":true", StringComparison.Ordinal);
        string surrogate = good[0].Replace("\"subject\":\"alice\"", "\"subject\":\"alice\\ud800\"", StringComparison.Ordinal);
        string log = files.Write("mixed.jsonl", string.Join('\n', [older, older, newer, tagsCut, surrogate, .. good]) + "\n");

        var result = Cli.Run("diff", before, after, "--audit", log);

        result.ExitCode.Should().Be(2);
        result.Out.Should().Contain("  not replayable: 5 records (of 16)");
        result.Out.Should().Contain("    2 records (2 decisions), first line 1: written before the schema field (an older sink)");
        result.Out.Should().Contain("    1 record (1 decision), first line 3: schema 3 is not 2");
        result.Out.Should().Contain("    1 record (1 decision), first line 4: 3 tag(s) of the request are not in the record");
        result.Out.Should().Contain("    1 record (1 decision), first line 5: a string of the request holds a lone surrogate");
        result.Out.Should().Contain("audit: 11 decisions in 11 records replayed");
    }

    [Fact]
    public void DiffAudit_ManySubjectsAndForgedText_OutputIsBoundedAndEscaped()
    {
        using var files = new TempFiles();
        string before = files.Write("old.yaml", Old);
        string after = files.Write("new.yaml", New);
        string log = WriteLog(files, Old, authorizer =>
        {
            for (int i = 0; i < 25; i++)
            {
                authorizer.Authorize(Subject.WithRoles($"user-{i:D2}", SubjectKind.User, "analyst"), "tool:invoke", "tool:report_x");
            }

            var forged = Subject.WithRoles("eve\nallowed -> allowed: 0 decisions\u001b[8m", SubjectKind.User, "analyst");
            authorizer.Authorize(forged, "tool:invoke", "tool:report_x");
        });

        var result = Cli.Run("diff", before, after, "--audit", log);

        result.Out.Should().Contain("  allowed -> no_matching_grant: 26 decisions (26 records), 26 subjects");
        result.OutLines.Single(l => l.StartsWith("    subjects: ", StringComparison.Ordinal)).Should().EndWith(", and 16 more");
        result.OutLines.Where(l => l.StartsWith("    line ", StringComparison.Ordinal)).Should().HaveCount(3);
        result.OutLines.Should().NotContain(l => l.StartsWith("allowed -> allowed", StringComparison.Ordinal), "a subject id cannot forge a line");
        result.Out.Should().NotContain("\u001b");
    }

    [Fact]
    public void DiffAudit_WithRequestsOrMissingLog_IsAUsageError()
    {
        using var files = new TempFiles();
        string before = files.Write("old.yaml", Old);
        string corpus = files.Write("corpus.jsonl", "{\"subject\":\"alice\",\"action\":\"x:y\",\"resource\":\"a:b\"}\n");

        var both = Cli.Run("diff", before, before, "--requests", corpus, "--audit", corpus);
        both.ExitCode.Should().Be(2);
        both.Error.Should().Contain("give one of them");

        Cli.Run("diff", before, before, "--audit", files.PathOf("none.jsonl")).ExitCode.Should().Be(2);
    }

    [Fact]
    public void DiffAudit_FromStandardInput_IsReplayed()
    {
        using var files = new TempFiles();
        string before = files.Write("old.yaml", Old);
        string after = files.Write("new.yaml", New);
        string log = File.ReadAllText(WriteLog(files, Old, Production));

        var result = Cli.RunWithInput(log, "diff", before, after, "--audit", "-");

        result.ExitCode.Should().Be(1);
        result.Out.Should().Contain("decisions replayed from the audit log standard input").And.Contain("6 changed reason");
    }

    /// <summary>A clock that does not move: the decisions and the log's times are all at one instant.</summary>
    private sealed class StoppedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
