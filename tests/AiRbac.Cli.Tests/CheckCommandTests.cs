using System.Text.Json.Nodes;

namespace AiRbac.Cli.Tests;

public class CheckCommandTests
{
    private static readonly string Scale0 = Path.Combine("TestData", "scale-0");

    [Fact]
    public void Check_ReferenceCorpus_ReproducesExpectedDecisions()
    {
        var result = Cli.Run("check", Path.Combine(Scale0, "policy.yaml"), "--requests", Path.Combine(Scale0, "requests.jsonl"));
        result.ExitCode.Should().Be(0);
        result.Error.Should().BeEmpty();
        string[] expected = File.ReadAllLines(Path.Combine(Scale0, "expected.jsonl"));
        string[] actual = result.OutLines;
        actual.Should().HaveCount(expected.Length);
        string[] added = ["invalid_fields", "denied_link", "denied_subject", "denied_reason", "undeclared_roles", "detail"];
        for (int i = 0; i < expected.Length; i++)
        {
            // The decision's own fields exactly; the explanation fields docs/request-lines.md adds come on top.
            var line = JsonNode.Parse(actual[i])!.AsObject();
            line.Select(p => p.Key).Should().BeSubsetOf(["allowed", "reason", "role", "rule", .. added], actual[i]);
            foreach (string field in added)
            {
                line.Remove(field);
            }

            JsonNode.DeepEquals(line, JsonNode.Parse(expected[i])).Should().BeTrue($"line {i + 1}: {actual[i]} vs {expected[i]}");
        }
    }

    [Fact]
    public void Check_StandardInput_WritesOneDecisionPerLine()
    {
        using var files = new TempFiles();
        string policy = files.Write("p.yaml", Policies.Basic);
        string corpus = "{\"subject\":\"alice\",\"action\":\"tool:invoke\",\"resource\":\"tool:report_weekly\"}\r\n"
            + "{\"subject\":\"bob\",\"roles\":[\"viewer\"],\"action\":\"tool:invoke\",\"resource\":\"tool:dangerous_x\"}";
        var result = Cli.RunWithInput(corpus, "check", policy, "--requests", "-");
        result.ExitCode.Should().Be(0);
        result.OutLines.Should().Equal(
            "{\"allowed\":true,\"reason\":\"allowed\",\"role\":\"analyst\",\"rule\":\"tool:invoke on tool:report_*\"}",
            "{\"allowed\":false,\"reason\":\"no_matching_grant\"}");
    }

    [Theory]
    [InlineData("not json", "not valid JSON")]
    [InlineData("[1,2]", "JSON object")]
    [InlineData("{\"subject\":\"a\",\"action\":\"x:y\"}", "missing 'resource'")]
    [InlineData("{\"subject\":\"a\",\"kind\":\"robot\",\"action\":\"x:y\",\"resource\":\"a:b\"}", "unknown kind")]
    [InlineData("{\"subject\":\"a\",\"sensitivty\":\"x\",\"action\":\"x:y\",\"resource\":\"a:b\"}", "unknown field")]
    [InlineData("", "blank line")]
    [InlineData("   ", "blank line")]
    [InlineData("{\"subject\":\"\\ud800\",\"action\":\"x:y\",\"resource\":\"a:b\"}", "lone surrogate")]
    public void Check_BadLine_StopsWithStatusTwoNamingTheLine(string badLine, string message)
    {
        using var files = new TempFiles();
        string policy = files.Write("p.yaml", Policies.Basic);
        string corpus = files.Write("r.jsonl", "{\"subject\":\"alice\",\"action\":\"x:y\",\"resource\":\"a:b\"}\n" + badLine + "\n{\"subject\":\"alice\",\"action\":\"x:y\",\"resource\":\"a:b\"}\n");
        var result = Cli.Run("check", policy, "--requests", corpus);
        result.ExitCode.Should().Be(2);
        result.Error.Should().Contain("line 2:").And.Contain(message);
        result.OutLines.Should().ContainSingle("the decision for line 1 was written before the bad line");
    }

    [Fact]
    public void Check_OverLongLine_IsABadLine()
    {
        using var files = new TempFiles();
        string policy = files.Write("p.yaml", Policies.Basic);
        string huge = "{\"subject\":\"" + new string('a', (1 << 20) + 10) + "\",\"action\":\"x:y\",\"resource\":\"a:b\"}";
        var result = Cli.RunWithInput(huge + "\n", "check", policy, "--requests", "-");
        result.ExitCode.Should().Be(2);
        result.Error.Should().Contain("line 1:").And.Contain("longer than 1048576 characters");
    }

    [Fact]
    public void Check_EmptyCorpus_WritesNothingAndSucceeds()
    {
        using var files = new TempFiles();
        string policy = files.Write("p.yaml", Policies.Basic);
        var result = Cli.RunWithInput(string.Empty, "check", policy, "--requests", "-");
        result.ExitCode.Should().Be(0);
        result.Out.Should().BeEmpty();
    }

    [Fact]
    public void Check_BadPolicy_IsStatusTwoWithDiagnostics()
    {
        using var files = new TempFiles();
        string policy = files.Write("bad.yaml", Policies.Broken);
        var result = Cli.RunWithInput("{\"action\":\"a:b\",\"resource\":\"c:d\"}\n", "check", policy, "--requests", "-");
        result.ExitCode.Should().Be(2);
        result.Error.Should().Contain($"{policy}:5:").And.Contain("has errors");
        result.Out.Should().BeEmpty();
    }

    [Fact]
    public void Check_MissingCorpusFile_IsUsageError()
    {
        using var files = new TempFiles();
        string policy = files.Write("p.yaml", Policies.Basic);
        var result = Cli.Run("check", policy, "--requests", files.PathOf("none.jsonl"));
        result.ExitCode.Should().Be(2);
        result.Error.Should().Contain("file not found");
    }

    [Fact]
    public void Check_MissingPolicyFile_IsUsageError()
    {
        Cli.Run("check", "/no/such.yaml", "--subject", "a", "--action", "x:y", "--resource", "a:b").ExitCode.Should().Be(2);
    }

    [Fact]
    public void Check_SingleAllowed_ExitsZeroAndNamesRoleRuleAndLine()
    {
        using var files = new TempFiles();
        string policy = files.Write("p.yaml", Policies.Basic);
        var result = Cli.Run("check", policy, "--subject", "carol", "--role", "analyst", "--action", "data:read", "--resource", "output:summary");
        result.ExitCode.Should().Be(0);
        result.OutLines.Should().Equal(
            "{\"allowed\":true,\"reason\":\"allowed\",\"role\":\"viewer\",\"rule\":\"data:read on output:*\"}",
            $"Allowed: role 'viewer' grants 'data:read on output:*' ({policy}:5:9).");
    }

    [Fact]
    public void Check_SingleDenied_ExitsOneAndExplains()
    {
        using var files = new TempFiles();
        string policy = files.Write("p.yaml", Policies.Basic);
        var result = Cli.Run("check", policy, "--subject", "carol", "--role", "analyst", "--action", "tool:invoke", "--resource", "tool:dangerous_rm");
        result.ExitCode.Should().Be(1);
        result.OutLines[1].Should().Be(
            $"Denied (explicit_deny): role 'analyst' denies 'tool:invoke on tool:dangerous_*' ({policy}:{Policies.AnalystDenyLine}:9); deny beats allow.");
    }

    [Fact]
    public void Check_SingleWithoutRole_UsesPolicyBindings()
    {
        using var files = new TempFiles();
        string policy = files.Write("p.yaml", Policies.Basic);
        Cli.Run("check", policy, "--subject", "alice", "--action", "model:query", "--resource", "model:gpt-4o").ExitCode.Should().Be(0);
        var unknown = Cli.Run("check", policy, "--subject", "mallory", "--action", "model:query", "--resource", "model:gpt-4o");
        unknown.ExitCode.Should().Be(1);
        unknown.Out.Should().Contain("missing_identity");
    }

    [Fact]
    public void Check_SingleRepeatedRolesTagsAndSensitivity_ArePassedToTheEngine()
    {
        using var files = new TempFiles();
        string policy = files.Write("p.yaml", Policies.Basic);
        var ceiling = Cli.Run("check", policy, "--subject", "c", "--role", "viewer", "--role", "analyst",
            "--action", "data:read", "--resource", "output:x", "--sensitivity", "restricted");
        ceiling.ExitCode.Should().Be(1);
        ceiling.Out.Should().Contain("\"reason\":\"sensitivity_ceiling\"");
        var tags = Cli.Run("check", policy, "--subject", "c", "--role", "analyst", "--action", "data:read", "--resource", "output:x", "--tag", "phi");
        tags.Out.Should().Contain("missing_tag_clearance");
        var tier = Cli.Run("check", policy, "--subject", "c", "--role", "analyst", "--action", "data:read", "--resource", "output:x", "--sensitivity", "secret");
        tier.Out.Should().Contain("invalid_request");
    }

    [Fact]
    public void Check_SingleOwnerScopeAndKind_ArePassedToTheEngine()
    {
        using var files = new TempFiles();
        string policy = files.Write("p.yaml", Policies.Basic);
        var owner = Cli.Run("check", policy, "--subject", "dan", "--role", "approver", "--action", "config:approve", "--resource", "config:x", "--owner", "dan");
        owner.ExitCode.Should().Be(1);
        owner.Out.Should().Contain("owner_conflict");
        Cli.Run("check", policy, "--subject", "dan", "--role", "approver", "--action", "config:approve", "--resource", "config:x", "--owner", "eve")
            .ExitCode.Should().Be(0);
        Cli.Run("check", policy, "--subject", "b", "--kind", "agent", "--role", "bot", "--action", "tool:invoke", "--resource", "tool:search")
            .ExitCode.Should().Be(0);
        Cli.Run("check", policy, "--subject", "b", "--kind", "user", "--role", "bot", "--action", "tool:invoke", "--resource", "tool:search")
            .Out.Should().Contain("no_active_role");
        Cli.Run("check", policy, "--subject", "b", "--role", "viewer", "--action", "data:read", "--resource", "output:x", "--scope", "a//b")
            .Out.Should().Contain("invalid_request");
    }

    [Theory]
    [InlineData("--subject", "a", "--action", "x:y")]
    [InlineData("--action", "x:y", "--resource", "a:b")]
    [InlineData("--subject", "a", "--kind", "robot", "--action", "x:y", "--resource", "a:b")]
    [InlineData("--subject", "a", "--action", "x:y", "--resource", "a:b", "--requests", "-")]
    [InlineData]
    public void Check_BadUsage_IsStatusTwo(params string[] options)
    {
        using var files = new TempFiles();
        string policy = files.Write("p.yaml", Policies.Basic);
        var result = Cli.Run(["check", policy, .. options]);
        result.ExitCode.Should().Be(2);
        result.Error.Should().Contain("error:");
        result.Out.Should().BeEmpty();
    }
}
