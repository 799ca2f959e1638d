namespace AiRbac.Cli.Tests;

public class DiffCommandTests
{
    [Fact]
    public void Diff_SamePolicyReformatted_IsNoChange()
    {
        using var files = new TempFiles();
        string before = files.Write("old.yaml", Policies.Basic);
        string after = files.Write("new.yaml", Policies.Basic.Replace("- model:query on model:gpt-4o", "-   model:query    on   model:gpt-4o", StringComparison.Ordinal) + "\n# a comment\n");
        var result = Cli.Run("diff", before, after);
        result.ExitCode.Should().Be(0);
        result.Out.Should().Contain("policy: no change");
    }

    [Fact]
    public void Diff_GrantChangeInParent_ShowsUnderParentAndChild()
    {
        using var files = new TempFiles();
        string before = files.Write("old.yaml", Policies.Basic);
        string after = files.Write("new.yaml", Policies.Basic.Replace("data:read on output:*", "data:read on output:public/*", StringComparison.Ordinal));
        var result = Cli.Run("diff", before, after);
        result.ExitCode.Should().Be(1);
        string[] lines = result.OutLines;
        lines.Should().ContainInOrder("role viewer:", "  + allow data:read on output:public/*", "  - allow data:read on output:*",
            "role analyst:", "  + allow data:read on output:public/*", "  - allow data:read on output:*");
    }

    [Fact]
    public void Diff_RolesCeilingsClearancesKindsAndDenies_AreReported()
    {
        using var files = new TempFiles();
        string before = files.Write("old.yaml", Policies.Basic);
        string after = files.Write("new.yaml", Policies.Basic
            .Replace("    max_sensitivity: confidential", "    max_sensitivity: restricted", StringComparison.Ordinal)
            .Replace("clearances: [phi]", "clearances: [phi, pii]", StringComparison.Ordinal)
            .Replace("kinds: [agent]", "kinds: [agent, service]", StringComparison.Ordinal)
            .Replace("tool:invoke on tool:dangerous_*", "tool:invoke on tool:danger*", StringComparison.Ordinal)
            .Replace("  approver:\n    allow: [ \"config:approve on config:*\" ]\n", "  reviewer:\n    allow: [ \"config:review on config:*\" ]\n", StringComparison.Ordinal)
            .Replace("not_by_owner: [config:approve]", "not_by_owner: [config:review]", StringComparison.Ordinal));
        var result = Cli.Run("diff", before, after);
        result.ExitCode.Should().Be(1);
        result.OutLines.Should().Contain([
            "roles added: reviewer", "roles removed: approver", "  max_sensitivity: confidential -> restricted",
            "  + clearance pii", "  kinds: agent -> service, agent", "  + deny tool:invoke on tool:danger*",
            "  - deny tool:invoke on tool:dangerous_*", "constraints:", "  + constraint not_by_owner config:review",
            "  - constraint not_by_owner config:approve",
        ]);
    }

    [Fact]
    public void Diff_CatalogAndBindings_AreReported()
    {
        using var files = new TempFiles();
        string before = files.Write("old.yaml", Policies.Basic);
        string after = files.Write("new.yaml", Policies.Basic
            .Replace("    sensitivity: restricted\n", "    sensitivity: confidential\n", StringComparison.Ordinal)
            .Replace("roles: [analyst] }", "roles: [viewer] }", StringComparison.Ordinal));
        var result = Cli.Run("diff", before, after);
        result.ExitCode.Should().Be(1);
        result.OutLines.Should().Contain([
            "catalog:", "  + resource dataset:patients/** sensitivity confidential tags [phi]",
            "  - resource dataset:patients/** sensitivity restricted tags [phi]", "bindings:",
        ]);
    }

    [Fact]
    public void Diff_WithRequests_ReportsEachChangedDecisionAndCountsByReason()
    {
        using var files = new TempFiles();
        string before = files.Write("old.yaml", Policies.Basic);
        string after = files.Write("new.yaml", Policies.Basic.Replace("- tool:invoke on tool:report_*", "- tool:invoke on tool:report_weekly", StringComparison.Ordinal));
        string corpus = files.Write("r.jsonl", string.Join('\n',
            "{\"subject\":\"alice\",\"action\":\"tool:invoke\",\"resource\":\"tool:report_daily\"}",
            "{\"subject\":\"alice\",\"action\":\"tool:invoke\",\"resource\":\"tool:report_weekly\"}",
            "{\"subject\":\"alice\",\"action\":\"tool:invoke\",\"resource\":\"tool:report_monthly\"}"));
        var result = Cli.Run("diff", before, after, "--requests", corpus);
        result.ExitCode.Should().Be(1);
        result.OutLines.Should().Contain([
            "  line 1: allowed (analyst: tool:invoke on tool:report_*) -> no_matching_grant",
            "  line 3: allowed (analyst: tool:invoke on tool:report_*) -> no_matching_grant",
            "decisions: 3 replayed, 2 changed reason, 2 flipped between allowed and denied",
            "  allowed -> no_matching_grant: 2",
        ]);
        result.Out.Should().NotContain("line 2:");
    }

    [Fact]
    public void Diff_WithRequestsAndNoChange_ExitsZero()
    {
        using var files = new TempFiles();
        string before = files.Write("old.yaml", Policies.Basic);
        var result = Cli.RunWithInput("{\"subject\":\"alice\",\"action\":\"x:y\",\"resource\":\"a:b\"}\n", "diff", before, before, "--requests", "-");
        result.ExitCode.Should().Be(0);
        result.Out.Should().Contain("decisions: 1 replayed, 0 changed reason");
    }

    [Fact]
    public void Diff_BadCorpusLine_IsStatusTwo()
    {
        using var files = new TempFiles();
        string before = files.Write("old.yaml", Policies.Basic);
        var result = Cli.RunWithInput("{\"subject\":\"alice\",\"action\":\"x:y\",\"resource\":\"a:b\"}\nnope\n", "diff", before, before, "--requests", "-");
        result.ExitCode.Should().Be(2);
        result.Error.Should().Contain("line 2:");
    }

    [Fact]
    public void Diff_And_Bench_LoneSurrogateLine_IsStatusTwoNamingTheLine()
    {
        using var files = new TempFiles();
        string policy = files.Write("old.yaml", Policies.Basic);
        const string Corpus = "{\"subject\":\"alice\",\"action\":\"x:y\",\"resource\":\"a:b\"}\n{\"subject\":\"\\ud800\",\"action\":\"x:y\",\"resource\":\"a:b\"}\n";

        var diff = Cli.RunWithInput(Corpus, "diff", policy, policy, "--requests", "-");
        var bench = Cli.RunWithInput(Corpus, "bench", policy, "--requests", "-", "--seconds", "0.01");

        diff.ExitCode.Should().Be(2);
        diff.Error.Should().Contain("line 2:").And.Contain("lone surrogate");
        bench.ExitCode.Should().Be(2);
        bench.Error.Should().Contain("line 2:").And.Contain("lone surrogate");
    }

    [Fact]
    public void Diff_BadOrMissingPolicy_IsStatusTwo()
    {
        using var files = new TempFiles();
        string good = files.Write("old.yaml", Policies.Basic);
        string bad = files.Write("bad.yaml", Policies.Broken);
        Cli.Run("diff", good, bad).ExitCode.Should().Be(2);
        Cli.Run("diff", files.PathOf("none.yaml"), good).ExitCode.Should().Be(2);
        Cli.Run("diff", good, good, "--requests", files.PathOf("none.jsonl")).ExitCode.Should().Be(2);
        Cli.Run("diff", good).ExitCode.Should().Be(2);
    }
}
