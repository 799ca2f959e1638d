using System.Text.Json;

namespace AiRbac.Cli.Tests;

/// <summary>
/// <c>airbac lint</c>, <c>matrix</c>, <c>diff</c> and <c>review</c> on policy language version 2: conditions, break-glass
/// roles and approval rules are linted, shown and compared, and the review lists every break-glass use of the audit log.
/// </summary>
public sealed class LanguageV2ReportTests
{
    private const string Policy = """
        version: 2
        context:
          mfa: bool
        roles:
          nurse:
            allow: [ "data:read on dataset:patients/ward-3/**" ]
            conditions:
              mfa: true
          emergency-access:
            break_glass: { max_activation: 4h }
            allow: [ "data:read on dataset:patients/**" ]
          ml-engineer:
            allow: [ "model:deploy on model:*" ]
          release-manager:
            allow: [ "model:query on model:*" ]
        approvals:
          prod-deploy:
            match: [ "model:deploy on model:prod-*" ]
            approvers: [release-manager]
            count: 2
            valid_for: 4h
        bindings:
          subjects:
            nina: { roles: [nurse, emergency-access] }
            rita: { roles: [release-manager] }
            sam: { roles: [release-manager] }
        """;

    [Fact]
    public void Lint_ApprovalRuleNoOneCanApprove_AndFewerApproversThanNeeded_Warn()
    {
        using var files = new TempFiles();
        string yaml = Policy.Replace("count: 2", "count: 3", StringComparison.Ordinal).Replace("bindings:", """
              glass-approved:
                match: [ "x:y on **" ]
                approvers: [emergency-access]
                valid_for: 1h
            bindings:
            """, StringComparison.Ordinal);
        string path = files.Write("p.yaml", yaml);

        var result = Cli.Run("lint", path);

        result.ExitCode.Should().Be(0, result.Error);
        result.OutLines.Should().Contain(l => l.Contains("warning approvers_below_count: approval rule 'prod-deploy' needs 3 distinct approvers, but only 2", StringComparison.Ordinal));
        result.OutLines.Should().Contain(l => l.Contains("warning approval_unsatisfiable: approval rule 'glass-approved'", StringComparison.Ordinal));
    }

    [Fact]
    public void Lint_ErrorsInTheNewSections_HaveTheirLocation()
    {
        using var files = new TempFiles();
        string path = files.Write("p.yaml", Policy.Replace("mfa: true", "mfa: maybe", StringComparison.Ordinal).Replace("max_activation: 4h", "max_activation: forever", StringComparison.Ordinal));

        var result = Cli.Run("lint", path, "--json");

        result.ExitCode.Should().Be(1);
        using var json = JsonDocument.Parse(result.Out);
        var found = json.RootElement.GetProperty("diagnostics").EnumerateArray().Select(d => (d.GetProperty("code").GetString(), d.GetProperty("line").GetInt32())).ToList();
        found.Should().Equal(("invalid_condition", 8), ("invalid_value", 10));
    }

    [Fact]
    public void Matrix_ShowsContextConditionsBreakGlassAndApprovals()
    {
        using var files = new TempFiles();
        string path = files.Write("p.yaml", Policy);

        var result = Cli.Run("matrix", path, "--now", "2026-06-01T00:00:00Z");

        result.ExitCode.Should().Be(0, result.Error);
        result.Out.Should().Contain("| context | `mfa: bool` |");
        result.Out.Should().Contain("| conditions | `nurse: mfa: true (grants only while all hold; its denies always apply)` |");
        result.Out.Should().Contain("| break_glass | `emergency-access: grants only while activated, for at most 4h (can activate: nina)` |");
        result.Out.Should().Contain("| approval | `prod-deploy: model:deploy on model:prod-* needs 2 distinct approver(s) holding release-manager, valid for 4h (policy subjects who can approve: rita, sam)` |");
        result.Out.Should().Contain("`break-glass (max_activation 4h)`", "a break-glass role is a risk flag");
    }

    [Fact]
    public void Diff_ReportsConditionBreakGlassApprovalAndContextChanges()
    {
        using var files = new TempFiles();
        string before = files.Write("old.yaml", Policy);
        string after = files.Write("new.yaml", Policy
            .Replace("mfa: true", "mfa: false", StringComparison.Ordinal)
            .Replace("max_activation: 4h", "max_activation: 1h", StringComparison.Ordinal)
            .Replace("count: 2", "count: 1", StringComparison.Ordinal)
            .Replace("  mfa: bool\n", "  mfa: bool\n  network: string\n", StringComparison.Ordinal));

        var result = Cli.Run("diff", before, after);

        result.ExitCode.Should().Be(1, result.Error);
        result.OutLines.Should().ContainInOrder("role nurse:", "  + condition mfa: false", "  - condition mfa: true");
        result.OutLines.Should().ContainInOrder("role emergency-access:", "  break_glass: max_activation 4h -> max_activation 1h");
        result.OutLines.Should().ContainInOrder("context:", "  + key network: string");
        result.OutLines.Should().ContainInOrder("approvals:",
            "  + rule prod-deploy: [model:deploy on model:prod-*] needs 1 of [release-manager] within 4h",
            "  - rule prod-deploy: [model:deploy on model:prod-*] needs 2 of [release-manager] within 4h");
    }

    [Fact]
    public void Review_ListsEveryBreakGlassUse_AndTheApprovalRules()
    {
        const string Audit = """
            {"time":"2026-05-20T10:00:00Z","subject":"nina","action":"data:read","resource":"dataset:patients/icu/p-9","allowed":true,"reason":"allowed","role":"emergency-access","rule":"data:read on dataset:patients/**","break_glass_role":"emergency-access","justification":"cardiac arrest, bed 4","activated_by":"nina","activated_at":"2026-05-20T09:30:00Z"}
            {"time":"2026-05-20T10:05:00Z","subject":"nina","action":"data:read","resource":"dataset:patients/icu/p-9","allowed":false,"reason":"break_glass_not_active","role":"emergency-access","rule":"data:read on dataset:patients/**"}
            {"time":"2026-01-02T10:00:00Z","subject":"bot","on_behalf_of":["nina"],"action":"data:read","resource":"dataset:patients/icu/p-1","allowed":true,"reason":"allowed","role":"emergency-access","rule":"data:read on dataset:patients/**","break_glass_role":"emergency-access","justification":"night shift \u001b[8m","activated_by":"nina","activated_at":"2026-01-02T09:00:00Z"}

            """;
        using var files = new TempFiles();
        string policy = files.Write("p.yaml", Policy);
        string audit = files.Write("audit.jsonl", Audit);

        var markdown = Cli.Run("review", policy, "--audit", audit, "--now", "2026-06-01T00:00:00Z");
        var json = Cli.Run("review", policy, "--audit", audit, "--now", "2026-06-01T00:00:00Z", "--json");

        markdown.ExitCode.Should().Be(0, markdown.Error);
        markdown.Out.Should().Contain("| break-glass uses in the log | 2 |");
        markdown.Out.Should().Contain("## Break-glass uses");
        markdown.Out.Should().Contain("- `emergency-access`: break-glass, activations up to `4h`; holders: `nina` (binding)");
        markdown.Out.Should().Contain("- `nurse`: grants only when `mfa: true`; holders: `nina` (binding)");
        markdown.Out.Should().Contain("| 2026-05-20T10:00:00Z | `nina` | `data:read` | `dataset:patients/icu/p-9` | allowed by `emergency-access` | `emergency-access` | `nina` | 2026-05-20T09:30:00Z | `cardiac arrest, bed 4` |");
        markdown.Out.Should().Contain("| 2026-01-02T10:00:00Z | `bot` for `nina` |", "every use is listed, inside the window or not");
        markdown.Out.Should().Contain("`night shift \\u001B[8m`", "a justification is escaped before it reaches a terminal");
        markdown.Out.Should().Contain("| `prod-deploy` | `model:deploy on model:prod-*` | 2 | `release-manager` | 4h | `rita`, `sam` |");

        using var report = JsonDocument.Parse(json.Out);
        report.RootElement.GetProperty("break_glass_use_count").GetInt64().Should().Be(2);
        var first = report.RootElement.GetProperty("break_glass_uses")[0];
        first.GetProperty("justification").GetString().Should().Be("cardiac arrest, bed 4");
        first.GetProperty("line").GetInt64().Should().Be(1);
        report.RootElement.GetProperty("approval_rules")[0].GetProperty("approvers").EnumerateArray().Select(e => e.GetString()).Should().Equal("rita", "sam");
        report.RootElement.GetProperty("roles").EnumerateArray().Single(r => r.GetProperty("role").GetString() == "nurse")
            .GetProperty("conditions")[0].GetString().Should().Be("mfa: true");
    }

    [Fact]
    public void Review_BreakGlassRecordWithoutItsActivation_IsAMalformedLine()
    {
        using var files = new TempFiles();
        string policy = files.Write("p.yaml", Policy);
        string audit = files.Write("audit.jsonl", """{"time":"2026-05-20T10:00:00Z","subject":"nina","action":"a:b","resource":"c:d","allowed":true,"reason":"allowed","break_glass_role":"emergency-access"}""" + "\n");

        var result = Cli.Run("review", policy, "--audit", audit);

        result.ExitCode.Should().Be(2);
        result.Error.Should().Contain("line 1").And.Contain("justification");
    }
}
