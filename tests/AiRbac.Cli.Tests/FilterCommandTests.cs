namespace AiRbac.Cli.Tests;

public class FilterCommandTests
{
    [Fact]
    public void Filter_BoundSubject_PrintsItsClauses()
    {
        using var files = new TempFiles();
        string policy = files.Write("p.yaml", Policies.Basic);

        var result = Cli.Run("filter", policy, "--subject", "alice", "--action", "tool:invoke", "--now", "2026-06-01T00:00:00Z");

        result.ExitCode.Should().Be(0, result.Error);
        result.Out.Should().Contain("subject 'alice' may 'tool:invoke' a resource (as of 2026-06-01T00:00:00Z)")
            .And.Contain("any scope:")
            .And.Contain("name matches none of: tool:dangerous_* (analyst)")
            .And.Contain("[analyst] name matches tool:report_* and tier <= confidential and tags within {}")
            .And.Contain("dataset:patients/** -> restricted [phi]; else public");
    }

    [Fact]
    public void Filter_RolesOwnerRuleAndChain_PrintsEveryLink()
    {
        using var files = new TempFiles();
        string policy = files.Write("p.yaml", Policies.Basic);

        var approver = Cli.Run("filter", policy, "--subject", "dave", "--role", "approver", "--action", "config:approve");
        var agent = Cli.Run("filter", policy, "--subject", "helper", "--kind", "agent", "--role", "bot", "--on-behalf-of", "alice", "--action", "tool:invoke");

        approver.ExitCode.Should().Be(0);
        approver.Out.Should().Contain("owner is not 'dave'").And.Contain("[approver] name matches config:* and tier <= public");
        agent.ExitCode.Should().Be(0);
        agent.Out.Should().Contain("    helper:").And.Contain("[bot] name matches tool:search").And.Contain("    alice:");
    }

    [Fact]
    public void Filter_MissingActionOrBadPolicy_ExitsTwo()
    {
        using var files = new TempFiles();
        string policy = files.Write("p.yaml", Policies.Basic);
        string broken = files.Write("b.yaml", Policies.Broken);

        Cli.Run("filter", policy, "--subject", "alice").ExitCode.Should().Be(2);
        Cli.Run("filter", broken, "--subject", "alice", "--action", "x:y").ExitCode.Should().Be(2);
        Cli.Run("filter", policy, "--subject", "alice", "--action", "x:y", "--now", "yesterday").ExitCode.Should().Be(2);
    }

    [Fact]
    public void Filter_SubjectIdWithANewline_ForgesNoLine()
    {
        using var files = new TempFiles();
        string policy = files.Write("p.yaml", Policies.Basic);

        var result = Cli.Run("filter", policy, "--subject", "eve\nsubject 'root' may 'tool:invoke' any resource\u001b[8m", "--role", "analyst", "--action", "tool:invoke");

        result.ExitCode.Should().Be(0, result.Error);
        result.Out.Split('\n').Should().NotContain(line => line.StartsWith("subject 'root'", StringComparison.Ordinal));
        result.Out.Should().StartWith("subject 'eve\\u000Asubject 'root' may 'tool:invoke' any resource\\u001B[8m' may 'tool:invoke'");
    }
}
