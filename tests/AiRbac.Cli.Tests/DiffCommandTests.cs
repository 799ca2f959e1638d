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
            "roles added: reviewer", "roles removed: approver", "role reviewer (added):", "  + allow config:review on config:* (max_sensitivity public)",
            "role approver (removed):", "  - allow config:approve on config:* (max_sensitivity public)", "  max_sensitivity: confidential -> restricted",
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

    private const string Bound = """
        version: 1
        roles:
          viewer:
            allow: [ "data:read on output:*" ]
            max_sensitivity: internal
          analyst:
            inherits: [viewer]
            allow: [ "tool:invoke on tool:report_*" ]
            max_sensitivity: confidential
          approver:
            id: ops-approver
            allow: [ "config:approve on config:*" ]
        bindings:
          groups:
            oncall: [ops]
          subjects:
            alice: { kind: user, roles: [analyst] }
            bob: { groups: [oncall] }
            bot: { kind: agent, roles: [ops-approver] }
        """;

    [Fact]
    public void Diff_UndeclaredBoundRoleNowDeclared_ShowsTheRoleWholeAndEverySubjectThatGainsIt()
    {
        // The bindings are byte for byte the same: only the new role behind the old reference 'ops' changes what bob gets.
        using var files = new TempFiles();
        string before = files.Write("old.yaml", Bound);
        const string Ops = "  ops:\n    inherits: [viewer]\n    allow: [ \"* on **\" ]\n    deny: [ \"tool:invoke on tool:shell_*\" ]\n    max_sensitivity: restricted\n    clearances: [phi]\n";
        string after = files.Write("new.yaml", Bound.Replace("bindings:\n", Ops + "bindings:\n", StringComparison.Ordinal));

        var result = Cli.Run("diff", before, after);

        result.ExitCode.Should().Be(1, result.Error);
        result.OutLines.Should().ContainInOrder(
            "roles added: ops", "role ops (added):", "  + kinds all", "  + max_sensitivity restricted (the highest tier)", "  + clearance phi",
            "  + inherits viewer", "  + allow * on ** (max_sensitivity restricted; clearances phi)",
            "  + allow data:read on output:* (via viewer; max_sensitivity internal)", "  + deny tool:invoke on tool:shell_*", "  + held by bob (user)",
            "binding targets (the same reference, another role):", "  ops: undeclared -> role ops",
            "subjects whose effective roles or access change:", "  bob (user):", "    + role viewer (through ops)", "    + role ops",
            "    + allow * on ** (ops, max_sensitivity restricted, clearances phi)");
        result.Out.Should().NotContain("alice (user):", "alice's roles and access are the same");
    }

    [Fact]
    public void Diff_IdRepointedToAnotherRole_ShowsTheBindingAndTheSubjectsItMoves()
    {
        using var files = new TempFiles();
        string before = files.Write("old.yaml", Bound);
        string after = files.Write("new.yaml", Bound.Replace("    id: ops-approver\n", "", StringComparison.Ordinal)
            .Replace("  viewer:\n", "  viewer:\n    id: ops-approver\n", StringComparison.Ordinal));

        var result = Cli.Run("diff", before, after);

        result.ExitCode.Should().Be(1, result.Error);
        result.OutLines.Should().ContainInOrder(
            "  ops-approver: role approver -> role viewer",
            "  bot (agent):", "    + role viewer", "    - role approver",
            "    + allow data:read on output:* (viewer, max_sensitivity internal)",
            "    - allow config:approve on config:* (approver, max_sensitivity public)");
    }

    [Fact]
    public void Diff_ParentExcludedByKind_DoesNotReachTheAgent_OnlyTheUser()
    {
        // Exact impact: a grant added to a user-only parent reaches the user holding the child, not the agent holding it.
        const string Policy = """
            version: 1
            roles:
              admin:
                kinds: [user]
                allow: [ "config:read on config:*" ]
              helper:
                inherits: [admin]
                allow: [ "tool:invoke on tool:search" ]
            bindings:
              subjects:
                alice: { kind: user, roles: [helper] }
                bot: { kind: agent, roles: [helper] }
            """;
        using var files = new TempFiles();
        string before = files.Write("old.yaml", Policy);
        string after = files.Write("new.yaml", Policy.Replace("config:read on config:*", "* on **", StringComparison.Ordinal));

        var result = Cli.Run("diff", before, after);

        result.ExitCode.Should().Be(1, result.Error);
        result.OutLines.Should().ContainInOrder("  alice (user):", "    + allow * on ** (admin, max_sensitivity public)", "    - allow config:read on config:* (admin, max_sensitivity public)");
        result.Out.Should().NotContain("bot (agent):");
    }

    [Fact]
    public void Diff_ScopedAndExpiringBindings_KeepTheirConditions()
    {
        using var files = new TempFiles();
        string before = files.Write("old.yaml", Bound);
        string after = files.Write("new.yaml", Bound.Replace("alice: { kind: user, roles: [analyst] }",
            "alice: { kind: user, roles: [ { role: analyst, scope: acme/eu, expires: \"2030-01-01T00:00:00Z\" } ] }", StringComparison.Ordinal));

        var result = Cli.Run("diff", before, after);

        result.ExitCode.Should().Be(1, result.Error);
        result.OutLines.Should().ContainInOrder("  alice (user):",
            "    + role viewer in scope acme/eu until 2030-01-01T00:00:00Z (through analyst)",
            "    + role analyst in scope acme/eu until 2030-01-01T00:00:00Z",
            "    - role viewer (through analyst)", "    - role analyst");
    }

    [Fact]
    public void Diff_RemovedRole_ShowsWhatItsHoldersLose()
    {
        using var files = new TempFiles();
        string before = files.Write("old.yaml", Bound);
        string after = files.Write("new.yaml", Bound.Replace("  approver:\n    id: ops-approver\n    allow: [ \"config:approve on config:*\" ]\n", "", StringComparison.Ordinal));

        var result = Cli.Run("diff", before, after);

        result.ExitCode.Should().Be(1, result.Error);
        result.OutLines.Should().ContainInOrder("roles removed: approver", "role approver (removed):", "  - id ops-approver",
            "  - allow config:approve on config:* (max_sensitivity public)", "  - held by bot (agent)",
            "  ops-approver: role approver -> undeclared", "  bot (agent):", "    - role approver");
    }
}
