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
    public void Lint_UnknownKeyAndSixOtherErrors_ReportsAllSevenInOneRun()
    {
        // The reviewer's file: fixing the typo must not reveal six more errors one run later.
        using var files = new TempFiles();
        string path = files.Write("p.yaml",
            "version: 1\n" +
            "roles:\n" +
            "  analyst:\n" +
            "    descripton: reads reports\n" +
            "    inherits: [viewr]\n" +
            "    allow: [\"tool:invoke tool:report_*\"]\n" +
            "    max_sensitivity: secret\n" +
            "    kinds: []\n" +
            "resources:\n" +
            "  - { match: \"dataset:[z-a]\" }\n" +
            "bindings:\n" +
            "  subjects:\n" +
            "    carol: { roles: [analyst], expires: 2026-13-01 }\n");

        var result = Cli.Run("lint", path);

        result.ExitCode.Should().Be(1);
        result.OutLines.Should().Equal(
            $"{path}:4:5: error unknown_key: unknown key 'descripton' in roles.analyst; did you mean 'description'?",
            $"{path}:5:16: error undeclared_role: role 'analyst' inherits names role 'viewr', which is not declared",
            $"{path}:6:13: error malformed_rule: role 'analyst' allow: 'tool:invoke tool:report_*' is not 'ACTION_PATTERN on RESOURCE_PATTERN'",
            $"{path}:7:22: error unknown_tier: role 'analyst' max_sensitivity: tier 'secret' is not declared (tiers: public, internal, confidential, restricted)",
            $"{path}:8:12: error invalid_kind: role 'analyst': 'kinds' cannot be empty (omit it to apply to every kind)",
            $"{path}:10:14: error invalid_pattern: resources: match pattern 'dataset:[z-a]' is invalid: the range 'z-a' does not ascend",
            $"{path}:13:41: error invalid_timestamp: subject 'carol': expires '2026-13-01' is not an RFC 3339 date-time with Z or an offset");
        result.Error.Should().Contain("7 errors, 0 warnings in 1 file");
    }

    [Fact]
    public void Lint_Json_UnknownKeyNextToOtherErrors_ListsThemAllWithPositions()
    {
        using var files = new TempFiles();
        string path = files.Write("p.yaml", "version: 1\nsensitivity: []\nroles:\n  r:\n    kinds: []\n    alow: [x]\n");

        var result = Cli.Run("lint", "--json", path);

        result.ExitCode.Should().Be(1);
        using var json = JsonDocument.Parse(result.Out);
        json.RootElement.GetProperty("errors").GetInt32().Should().Be(3);
        json.RootElement.GetProperty("diagnostics").EnumerateArray()
            .Select(d => (d.GetProperty("code").GetString(), d.GetProperty("line").GetInt32(), d.GetProperty("column").GetInt32()))
            .Should().Equal(("empty_value", 2, 14), ("invalid_kind", 5, 12), ("unknown_key", 6, 5));
    }

    [Fact]
    public void Lint_AliasBombBehindAnUnknownKey_StopsAtTheLimit()
    {
        // The attacker's file: the limit stops reading at once, whatever else the file holds.
        using var files = new TempFiles();
        var yaml = new System.Text.StringBuilder("version: 1\nbogus: 1\nroles: {r: {allow: [bad]}}\na: &a [x, x, x, x, x, x, x, x, x, x]\n");
        char previous = 'a';
        for (char c = 'b'; c <= 'k'; c++)
        {
            yaml.Append(System.Globalization.CultureInfo.InvariantCulture, $"{c}: &{c} [*{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}]\n");
            previous = c;
        }

        string path = files.Write("bomb.yaml", yaml.ToString());

        var result = Cli.Run("lint", path);

        result.ExitCode.Should().Be(1);
        result.OutLines.Should().ContainSingle().Which.Should().Contain("error limit_exceeded:");
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
