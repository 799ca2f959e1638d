namespace AiRbac.Cli.Tests;

public class DemoCommandTests
{
    [Fact]
    public void Demo_Runs_ShowsEveryReasonTheIssueAsksFor()
    {
        var result = Cli.Run("demo");
        result.ExitCode.Should().Be(0);
        result.Error.Should().BeEmpty();
        foreach (string reason in new[]
        {
            "allowed", "explicit_deny", "sensitivity_ceiling", "missing_tag_clearance", "no_matching_grant",
            "no_active_role", "delegation_denied", "owner_conflict", "separation_of_duties", "missing_identity",
        })
        {
            result.Out.Should().Contain("  " + reason + "\n", because: $"the table shows a {reason} decision");
        }
    }

    [Fact]
    public void Demo_Table_ExplainsWithRoleRuleAndPolicyLine()
    {
        var result = Cli.Run("demo");
        result.Out.Should().Contain("Denied (explicit_deny): role 'developer' denies 'tool:invoke on tool:shell_*' (demo-policy.yaml:");
        result.Out.Should().Contain("support-bot for ivan");
        result.Out.Should().Contain("ops-bot model:deploy");
    }

    [Fact]
    public void Demo_EmbeddedPolicy_LintsWithoutErrors()
    {
        using var files = new TempFiles();
        var printed = Cli.Run("demo", "--print-policy");
        printed.ExitCode.Should().Be(0);
        string path = files.Write("demo-policy.yaml", printed.Out);
        Cli.Run("lint", path).ExitCode.Should().Be(0);
    }

    [Fact]
    public void Demo_EmbeddedRequests_CheckLineByLine()
    {
        using var files = new TempFiles();
        string policy = files.Write("demo-policy.yaml", Cli.Run("demo", "--print-policy").Out);
        var requests = Cli.Run("demo", "--print-requests");
        requests.ExitCode.Should().Be(0);
        var checkedLines = Cli.RunWithInput(requests.Out, "check", policy, "--requests", "-");
        checkedLines.ExitCode.Should().Be(0);
        checkedLines.OutLines.Should().HaveCount(requests.OutLines.Length);
    }
}
