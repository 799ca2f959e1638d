using AiRbac.Core.Tests;
using Microsoft.Extensions.DependencyInjection;

namespace AiRbac.Cli.Tests;

/// <summary>
/// <c>airbac diff OLD NEW --audit FILE</c> and <c>airbac review</c> on a log a service wrote for a version 2 policy
/// (docs/audit-log.md, "Replaying the log"): a record of a request that carried a context is never decided again without
/// it, records decided without one are replayed, and both readers accept every field the sink writes for such records.
/// </summary>
public class AuditReplayV2Tests
{
    private static readonly DateTimeOffset LoggedAt = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);

    private static string PolicyText => File.ReadAllText(Path.Combine(RepositoryRoot.Path, "src", "AiRbac.Cli", "Demo", "v2-policy.yaml"));

    private static RequestContext Context(params ContextAttribute[] pairs) => new() { Attributes = pairs };

    private static Approval Approved(string who, int minutesAgo) => new(who, "prod-deploy", LoggedAt.AddMinutes(-minutesAgo));

    /// <summary>Writes the log as a service does (AddAiRbac with the file sink), the version 2 example policy answering.</summary>
    private static string WriteLog(TempFiles files, string? shadow = null)
    {
        string path = files.PathOf("audit.jsonl");
        var clock = new FixedClock(LoggedAt);
        var services = new ServiceCollection().AddSingleton<TimeProvider>(clock).AddAiRbac(o =>
        {
            o.Source = AiRbacPolicySource.FromYaml(PolicyText, "v2-policy.yaml");
            o.CompilerOptions = new PolicyCompilerOptions { TimeProvider = clock };
            o.AuditLog.Path = path;
            o.AuditLog.CoalesceWindow = TimeSpan.Zero;
            o.WatchFile = false;
            if (shadow is not null)
            {
                o.Shadow.Source = AiRbacPolicySource.FromYaml(shadow, "candidate.yaml");
            }
        });
        using (var provider = services.BuildServiceProvider())
        {
            var authorizer = provider.GetRequiredService<PolicyAuthorizer>();
            var alice = new Subject("alice");
            var full = Context(new ContextAttribute("mfa", true), new ContextAttribute("network", "corp"), new ContextAttribute("sql.table", "sales_2026"), new ContextAttribute("risk_score", 10L));

            // 1: allowed only because of the context (context_omitted).
            authorizer.Authorize(alice, "tool:invoke", new ResourceRequest("tool:sql_query"), full).Reason.Should().Be(DecisionReason.Allowed);

            // 2: no context at all: condition_failed, replayable as it is.
            authorizer.Authorize(alice, "tool:invoke", "tool:sql_query").Reason.Should().Be(DecisionReason.ConditionFailed);

            // 3: condition_failed with a context that fails it (context_omitted, condition written).
            authorizer.Authorize(alice, "tool:invoke", new ResourceRequest("tool:sql_query"), Context(new ContextAttribute("mfa", false))).Reason.Should().Be(DecisionReason.ConditionFailed);

            // 4: a break-glass decision (its activation is in the context).
            var activation = new RequestContext { Activations = [new BreakGlassActivation("nina", "emergency-access", "cardiac arrest, bed 4", LoggedAt.AddHours(-2))] };
            authorizer.Authorize(new Subject("nina"), "data:read", new ResourceRequest("dataset:patients/icu/p-9"), activation).BreakGlass.Should().BeTrue();

            // 5: approval_required without approvals (replayable), 6: with one of two (context_omitted, approved_by).
            var erin = new Subject("erin");
            authorizer.Authorize(erin, "model:deploy", "model:prod-eu").Reason.Should().Be(DecisionReason.ApprovalRequired);
            authorizer.Authorize(erin, "model:deploy", new ResourceRequest("model:prod-eu"), new RequestContext { Approvals = [Approved("rita", 60)] })
                .Reason.Should().Be(DecisionReason.ApprovalRequired);

            // 7: allowed with two approvals.
            authorizer.Authorize(erin, "model:deploy", new ResourceRequest("model:prod-eu"), new RequestContext { Approvals = [Approved("rita", 60), Approved("sam", 30)] })
                .Reason.Should().Be(DecisionReason.Allowed);

            // 8: an agent acting for nina with nina's activation: the link is allowed through it.
            var agent = Subject.WithRoles("ward-bot", SubjectKind.Agent, "emergency-access").ActingFor(new Subject("nina"));
            authorizer.Authorize(agent, "data:read", new ResourceRequest("dataset:patients/icu/p-9"), activation).Reason.Should().Be(DecisionReason.BreakGlassNotActive);

            // 9: an empty context is no context: replayable.
            authorizer.Authorize(alice, "tool:invoke", new ResourceRequest("tool:sql_drop"), new RequestContext()).Reason.Should().Be(DecisionReason.ExplicitDeny);
        }

        return path;
    }

    [Fact]
    public void SinkLog_V2Fields_AreWrittenAsTheSchemaSays()
    {
        using var files = new TempFiles();
        string[] lines = File.ReadAllLines(WriteLog(files));

        lines.Should().HaveCount(9);
        lines[0].Should().Contain("\"context_omitted\":true").And.Contain("\"reason\":\"allowed\"");
        lines[1].Should().Contain("\"condition\":\"mfa: true\"").And.NotContain("context_omitted");
        lines[2].Should().Contain("\"condition\":\"mfa: true\"").And.Contain("\"context_omitted\":true");
        lines[3].Should().Contain("\"break_glass_role\":\"emergency-access\"").And.Contain("\"justification\":\"cardiac arrest, bed 4\"")
            .And.Contain("\"activated_by\":\"nina\"").And.Contain("\"activated_at\":\"2026-06-01T10:00:00Z\"").And.Contain("\"context_omitted\":true");
        lines[4].Should().Contain("\"approval_rule\":\"prod-deploy\"").And.NotContain("context_omitted");
        lines[5].Should().Contain("\"approval_rule\":\"prod-deploy\"").And.Contain("\"approved_by\":[\"rita\"]").And.Contain("\"context_omitted\":true");
        lines[6].Should().Contain("\"approved_by\":[\"rita\",\"sam\"]").And.Contain("\"reason\":\"allowed\"");
        lines[8].Should().NotContain("context_omitted");
    }

    [Fact]
    public void Replay_RecordsWithAContext_AreNeverDecidedAgainWithoutIt()
    {
        // OLD against itself: replaying a record whose context is not in the log would give a wrong answer (record 1 would
        // become condition_failed, record 4 break_glass_not_active, record 7 approval_required). They are counted, and
        // the replay is incomplete (status 2); the records decided without a context reproduce their logged reasons.
        using var files = new TempFiles();
        string policy = files.Write("v2.yaml", PolicyText);
        string log = WriteLog(files);

        var result = Cli.Run("diff", policy, policy, "--audit", log);

        result.ExitCode.Should().Be(2, result.Out + result.Error);
        result.Out.Should().Contain("  no decision changes")
            .And.Contain("audit: 3 decisions in 3 records replayed: 0 changed reason")
            .And.Contain("  not replayable: 6 records (of 9)")
            .And.Contain("    6 records (6 decisions), first line 1: the request carried a context");
        result.Out.Should().NotContain("warning").And.NotContain("skipped");
    }

    [Fact]
    public void Replay_ConditionsRemovedInNew_ContextRecordIsNotReportedAsAChange()
    {
        // NEW drops the analyst's conditions: the records without a context flip to allowed (a real change); the record
        // allowed with its context is not replayed, so it is never reported as a change it did not make.
        using var files = new TempFiles();
        string before = files.Write("v2.yaml", PolicyText);
        string after = files.Write("new.yaml", PolicyText.Replace("      mfa: true\n", "", StringComparison.Ordinal)
            .Replace("      network: [corp, vpn]\n      sql.table: \"sales_*\"\n      risk_score: { max: 50 }\n", "", StringComparison.Ordinal)
            .Replace("    conditions:\n    max_sensitivity: internal", "    max_sensitivity: internal", StringComparison.Ordinal));
        string log = WriteLog(files);

        var result = Cli.Run("diff", before, after, "--audit", log);

        result.Out.Should().Contain("  condition_failed -> allowed: 1 decision (1 record), 1 subject")
            .And.Contain("    line 2, 2026-06-01T12:00:00Z: alice tool:invoke tool:sql_query");
        result.Out.Should().NotContain("line 1,").And.NotContain("line 3,");
        result.ExitCode.Should().Be(2, "six records could not be replayed");
    }

    [Fact]
    public void Replay_BreakGlassOrApprovalRecordWithoutContextOmitted_IsNotReplayed()
    {
        // A log edited (or written by a sink that lost the flag): a break-glass decision and counted approvals come only
        // from a request with a context, so such a record without context_omitted is inconsistent and never replayed.
        using var files = new TempFiles();
        string policy = files.Write("v2.yaml", PolicyText);
        string[] lines = File.ReadAllLines(WriteLog(files));
        string tampered = files.Write("tampered.jsonl", string.Join('\n', lines.Select(l => l.Replace(",\"context_omitted\":true", "", StringComparison.Ordinal))) + "\n");

        var result = Cli.Run("diff", policy, policy, "--audit", tampered);

        result.Out.Should().Contain("not replayable: 3 records (of 9)")
            .And.Contain("a break-glass decision or counted approvals without 'context_omitted'");
        result.ExitCode.Should().Be(2);
    }

    [Fact]
    public void Replay_LoggedConditionOrApprovalRuleThatOldDoesNotGive_IsAMismatch()
    {
        // The reason alone is not the decision in version 2: a record edited to name another condition, or approval rule,
        // is caught when OLD decides it again.
        using var files = new TempFiles();
        string policy = files.Write("v2.yaml", PolicyText);
        string[] lines = File.ReadAllLines(WriteLog(files));
        lines[1] = lines[1].Replace("\"condition\":\"mfa: true\"", "\"condition\":\"network: [corp, vpn]\"", StringComparison.Ordinal);
        lines[4] = lines[4].Replace("\"approval_rule\":\"prod-deploy\"", "\"approval_rule\":\"other\"", StringComparison.Ordinal);
        string edited = files.Write("edited.jsonl", string.Join('\n', lines) + "\n");

        var result = Cli.Run("diff", policy, policy, "--audit", edited);

        result.Out.Should().Contain("warning: OLD does not give the logged reason for 2 records (2 decisions); 2 of them logged as decided by OLD's exact content")
            .And.Contain("    line 2: logged condition_failed (condition 'network: [corp, vpn]') by OLD, OLD gives condition_failed (condition 'mfa: true')")
            .And.Contain("    line 5: logged approval_required (approval rule 'other') by OLD, OLD gives approval_required (approval rule 'prod-deploy')");
    }

    [Fact]
    public void Review_ApprovedByWithoutApprovalRule_IsAMalformedLine()
    {
        using var files = new TempFiles();
        string policy = files.Write("v2.yaml", PolicyText);
        string[] lines = File.ReadAllLines(WriteLog(files));
        lines[6] = lines[6].Replace("\"approval_rule\":\"prod-deploy\",", "", StringComparison.Ordinal);
        string edited = files.Write("edited.jsonl", string.Join('\n', lines) + "\n");

        var result = Cli.Run("diff", policy, policy, "--audit", edited);

        result.Out.Should().Contain("  skipped: 1 line not valid audit records").And.Contain("line 7: 'approved_by' goes with 'approval_rule'");
    }

    [Fact]
    public void SinkLog_ShadowFieldsBesideV2Fields_AreReadByTheReviewAndTheReplay()
    {
        // A candidate policy without the emergency role's grant and the deploy grant disagrees on the break-glass and
        // approval records: the sink writes the shadow fields after the version 2 ones, and both readers take every line.
        using var files = new TempFiles();
        string policy = files.Write("v2.yaml", PolicyText);
        string candidate = PolicyText.Replace("allow: [ \"data:read on dataset:patients/**\" ]", "allow: [ \"data:read on dataset:none\" ]", StringComparison.Ordinal)
            .Replace("allow: [ \"model:deploy on model:*\" ]", "allow: [ \"model:deploy on model:dev-*\" ]", StringComparison.Ordinal);
        string[] lines = File.ReadAllLines(WriteLog(files, candidate));

        lines[3].Should().Contain("\"break_glass_role\":\"emergency-access\"").And.Contain("\"shadow\":\"disagreed\"");
        lines[6].Should().Contain("\"approved_by\":[\"rita\",\"sam\"]").And.Contain("\"shadow\":\"disagreed\"");
        string log = files.PathOf("audit.jsonl");

        var review = Cli.Run("review", policy, "--audit", log, "--now", "2026-06-02T00:00:00Z");
        var replay = Cli.Run("diff", policy, policy, "--audit", log);

        review.ExitCode.Should().Be(0, review.Out + review.Error);
        replay.Out.Should().NotContain("skipped").And.Contain("not replayable: 6 records (of 9)");
    }

    [Fact]
    public void Review_SinkLogWithV2Records_IsReadWhole_AndListsTheBreakGlassUse()
    {
        using var files = new TempFiles();
        string policy = files.Write("v2.yaml", PolicyText);
        string log = WriteLog(files);

        var result = Cli.Run("review", policy, "--audit", log, "--now", "2026-06-02T00:00:00Z", "--json");

        result.ExitCode.Should().Be(0, result.Out + result.Error);
        result.Out.Should().Contain("\"break_glass_use_count\": 1").And.Contain("\"justification\": \"cardiac arrest, bed 4\"")
            .And.Contain("\"activated_by\": \"nina\"");
    }
}
