using System.Text.Json;
using System.Text.RegularExpressions;

namespace AiRbac.Cli.Tests;

public partial class LintCommandTests
{
    [GeneratedRegex(@"^.+:\d+:\d+: (error|warning) [a-z_]+: .+$")]
    private static partial Regex DiagnosticLine();

    [Fact]
    public void Lint_CleanPolicy_ExitsZeroAndPrintsNothing()
    {
        using var files = new TempFiles();
        string path = files.Write("p.yaml", "version: 1\nroles:\n  viewer:\n    allow: [\"data:read on output:*\"]\n");
        var result = Cli.Run("lint", path);
        result.ExitCode.Should().Be(0);
        result.Out.Should().BeEmpty();
        result.Error.Should().Contain("0 errors, 0 warnings in 1 file");
    }

    [Fact]
    public void Lint_WarningsOnly_ExitsZeroAndPrintsThem()
    {
        using var files = new TempFiles();
        string path = files.Write("p.yaml", "version: 1\nroles:\n  root:\n    allow: [\"* on **\"]\n    max_sensitivity: public\n");
        var result = Cli.Run("lint", path);
        result.ExitCode.Should().Be(0);
        result.OutLines.Should().ContainSingle().Which.Should().Be($"{path}:4:13: warning grants_everything: role 'root' grants '* on **': every action on every resource");
    }

    [Fact]
    public void Lint_EscapeSequenceInARoleName_NeverReachesTheTerminalRaw()
    {
        // The attacker's policy: ESC[8m (conceal) in a role name would hide the rest of the warning.
        using var files = new TempFiles();
        string path = files.Write("p.yaml", "version: 1\nroles:\n  \"\\e[8mroot\":\n    allow: [\"* on **\"]\n  other:\n    inherits: [\"\\e[8mroot\", \"missing\\u202E\"]\n");

        var result = Cli.Run("lint", path);

        result.ExitCode.Should().Be(1);
        result.Out.Should().NotContainAny("\u001b", "\u202E");
        result.Error.Should().NotContainAny("\u001b", "\u202E");
        result.OutLines.Should().Contain(l => l.Contains("invalid_value", StringComparison.Ordinal) && l.Contains("\\u001B[8mroot", StringComparison.Ordinal));
    }

    [Fact]
    public void Lint_EscapeSequencesInTheFileName_NeverReachTheTerminalRaw()
    {
        // A contributor-named file in a globbed policies/ folder: ESC]0; would retitle the terminal, ESC[2J clear it.
        using var files = new TempFiles();
        string path = files.Write("p\u001b[2J\u001b]0;owned\u0007\u202E.yaml", "version: 1\nroles:\n  root:\n    allow: [\"* on **\"]\n    max_sensitivity: public\n");

        var result = Cli.Run("lint", path);

        result.ExitCode.Should().Be(0, result.Error);
        (result.Out + result.Error).Should().NotContainAny("\u001b", "\u0007", "\u202E");
        result.OutLines.Should().ContainSingle().Which.Should().Contain("\\u001B[2J").And.Contain("grants_everything");
    }

    [Fact]
    public void Check_EscapeSequenceInARequestLine_IsABadLineAndNotEchoedRaw()
    {
        using var files = new TempFiles();
        string policy = files.Write("p.yaml", "version: 1\nroles:\n  viewer:\n    allow: [\"data:read on output:*\"]\n");

        var result = Cli.RunWithInput("{\"subject\":\"u\",\"\\u001b[8m\":1,\"action\":\"x:y\",\"resource\":\"a:b\"}\n", "check", policy, "--requests", "-");

        result.ExitCode.Should().Be(2);
        result.Error.Should().Contain("line 1:").And.Contain("\\u001B[8m").And.NotContain("\u001b");
    }

    [Fact]
    public void Lint_Errors_ExitsOneAndPrintsEveryProblemInTheFormat()
    {
        using var files = new TempFiles();
        string path = files.Write("bad.yaml", Policies.Broken);
        var result = Cli.Run("lint", path);
        result.ExitCode.Should().Be(1);
        result.OutLines.Should().HaveCountGreaterThanOrEqualTo(2);
        result.OutLines.Should().AllSatisfy(l => DiagnosticLine().IsMatch(l).Should().BeTrue(l));
        result.Out.Should().Contain($"{path}:5:").And.Contain("error malformed_rule:");
        result.Out.Should().Contain("error undeclared_role:");
    }

    [Fact]
    public void Lint_SeveralFiles_ReportsAllOfThem()
    {
        using var files = new TempFiles();
        string good = files.Write("good.yaml", Policies.Basic);
        string bad = files.Write("bad.yaml", Policies.Broken);
        var result = Cli.Run("lint", good, bad);
        result.ExitCode.Should().Be(1);
        result.Out.Should().Contain(bad);
        result.Error.Should().Contain("in 2 files");
    }

    [Fact]
    public void Lint_Json_IsOneDocumentWithCountsAndLocations()
    {
        using var files = new TempFiles();
        string bad = files.Write("bad.yaml", Policies.Broken);
        var result = Cli.Run("lint", "--json", bad);
        result.ExitCode.Should().Be(1);
        using var json = JsonDocument.Parse(result.Out);
        var root = json.RootElement;
        root.GetProperty("errors").GetInt32().Should().BeGreaterThanOrEqualTo(2);
        var first = root.GetProperty("diagnostics")[0];
        first.GetProperty("file").GetString().Should().Be(bad);
        first.GetProperty("line").GetInt32().Should().BePositive();
        first.GetProperty("column").GetInt32().Should().BePositive();
        first.GetProperty("severity").GetString().Should().Be("error");
        first.GetProperty("code").GetString().Should().NotBeNullOrEmpty();
    }

    [Fact]
    public void Lint_MissingFile_IsUsageError()
    {
        var result = Cli.Run("lint", "/no/such/policy.yaml");
        result.ExitCode.Should().Be(2);
        result.Error.Should().Contain("file not found: /no/such/policy.yaml");
        result.Out.Should().BeEmpty();
    }

    [Fact]
    public void Lint_NoFile_IsUsageError()
    {
        Cli.Run("lint").ExitCode.Should().Be(2);
    }

    [Fact]
    public void Lint_ReferencePolicy_HasNoErrors()
    {
        Cli.Run("lint", Path.Combine("TestData", "scale-0", "policy.yaml")).ExitCode.Should().Be(0);
    }
}
