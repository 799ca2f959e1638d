namespace AiRbac.Cli.Tests;

public class MatrixCommandTests
{
    [Fact]
    public void Matrix_DefaultMarkdown_ListsRolesAndInheritedGrants()
    {
        using var files = new TempFiles();
        string policy = files.Write("p.yaml", Policies.Basic);
        var result = Cli.Run("matrix", policy);
        result.ExitCode.Should().Be(0);
        result.Out.Should().Contain("| `analyst` | `viewer` | `all` | `confidential` |  | 3 | 1 |  | `alice` |", "grants are counted own and inherited");
        result.Out.Should().Contain("| `analyst` | `allow` | `data:read` | `output:*` | `viewer` | `internal` |  | `all` |  |");
        result.Out.Should().Contain("| `analyst` | `deny` | `tool:invoke` | `tool:dangerous_*` |");
        result.Out.Should().Contain("| `clinician` | `allow` | `data:read` | `dataset:patients/**` |  | `restricted` | `phi` | `all` | `highest ceiling; clearance phi (PHI)` |");
    }

    [Fact]
    public void Matrix_Csv_HasHeaderAndOneRowPerRule()
    {
        using var files = new TempFiles();
        string policy = files.Write("p.yaml", Policies.Basic);
        var result = Cli.Run("matrix", policy, "--format", "csv");
        result.ExitCode.Should().Be(0);
        result.OutLines[0].Should().Be("role,effect,action,resource,via,max_sensitivity,clearances,kinds,risk");
        result.OutLines.Should().Contain("analyst,allow,data:read,output:*,viewer,internal,,all,");
        result.OutLines.Should().Contain("bot,allow,tool:invoke,tool:search,,public,,agent,");
        result.OutLines.Should().Contain("clinician,allow,data:read,dataset:patients/**,,restricted,phi,all,highest ceiling; clearance phi (PHI)");
    }

    [Fact]
    public void Matrix_AncestorWhoseKindsNoSubjectOfTheRoleHas_IsNotListedUnderTheRole()
    {
        // bot-tools applies to agents only; it inherits human-admin (users only), which no agent ever gets through it.
        using var files = new TempFiles();
        string policy = files.Write("p.yaml", """
            version: 1
            roles:
              human-admin: { kinds: [user], allow: [ "* on **" ] }
              bot-tools: { kinds: [agent], inherits: [human-admin], allow: [ "tool:invoke on tool:search" ] }
            """);
        var result = Cli.Run("matrix", policy, "--format", "csv");

        result.ExitCode.Should().Be(0);
        result.OutLines.Should().Contain("bot-tools,allow,tool:invoke,tool:search,,public,,agent,");
        result.OutLines.Should().NotContain(line => line.StartsWith("bot-tools,allow,*", StringComparison.Ordinal));
        result.OutLines.Should().Contain(line => line.StartsWith("human-admin,allow,*,**", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("a,b", "\"a,b\"")]
    [InlineData("say \"hi\"", "\"say \"\"hi\"\"\"")]
    [InlineData("=cmd()", "'=cmd()")]
    [InlineData("-x", "'-x")]
    public void CsvCell_QuotesAndDefusesFormulas(string value, string expected)
    {
        Commands.MatrixCommand.CsvCell(value).Should().Be(expected);
    }

    [Fact]
    public void Matrix_Html_IsOneEncodedPage()
    {
        using var files = new TempFiles();
        string policy = files.Write("p.yaml", "version: 1\nroles:\n  r:\n    allow: [\"tool:invoke on tool:<script>x\"]\n");
        var result = Cli.Run("matrix", policy, "--format", "html");
        result.ExitCode.Should().Be(0);
        result.Out.Should().StartWith("<!DOCTYPE html>").And.Contain("<style>").And.EndWith("</html>\n");
        result.Out.Should().Contain("tool:&lt;script&gt;x").And.NotContain("<script>");
        result.Out.Should().NotContain("http", "the page is self-contained");
    }

    [Fact]
    public void Matrix_UnknownFormat_IsUsageError()
    {
        using var files = new TempFiles();
        string policy = files.Write("p.yaml", Policies.Basic);
        Cli.Run("matrix", policy, "--format", "pdf").ExitCode.Should().Be(2);
    }

    [Fact]
    public void Matrix_BadOrMissingPolicy_IsStatusTwo()
    {
        using var files = new TempFiles();
        Cli.Run("matrix", files.Write("bad.yaml", Policies.Broken)).ExitCode.Should().Be(2);
        Cli.Run("matrix", files.PathOf("none.yaml")).ExitCode.Should().Be(2);
    }

    [Fact]
    public void Matrix_Markdown_ShowsProvenanceRiskCatalogHoldersAndConstraints()
    {
        using var files = new TempFiles();
        string policy = files.Write("p.yaml", Policies.Basic.Replace("alice: { kind: user, roles: [analyst] }",
            "alice: { kind: user, roles: [analyst] }\n    carol: { roles: [clinician], scope: acme/health, expires: \"2099-01-01T00:00:00Z\" }\n    b1: { kind: agent, roles: [bot] }", StringComparison.Ordinal));
        string sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(policy)));

        var result = Cli.Run("matrix", policy, "--now", "2026-06-01T12:00:00+02:00");

        result.ExitCode.Should().Be(0, result.Error);
        result.Out.Should().Contain($"Policy SHA-256: `{sha}`. Generated: `2026-06-01T10:00:00Z`.");
        result.Out.Should().Contain("| `clinician` | `highest ceiling (restricted)`, `clearance phi (PHI)` | `carol in scope acme/health until 2099-01-01T00:00:00Z` |");
        result.Out.Should().Contain("| `viewer` |  | `all` | `internal` |  | 1 | 0 |  | `alice (through analyst)` |");
        result.Out.Should().Contain("| `dataset:patients/**` | `restricted` | `phi` | `highest tier, phi (PHI)` |");
        result.Out.Should().Contain("| kinds | `bot: only agent` |").And.Contain("| not_by_owner | `config:approve` |")
            .And.Contain("| scope, expiry | `carol: clinician in scope acme/health until 2099-01-01T00:00:00Z` |");
        Cli.Run("matrix", policy, "--now", "2026-06-01T12:00:00+02:00").Out.Should().Be(result.Out, "the same policy and --now give the same report");
    }

    [Fact]
    public void Matrix_MutuallyExclusiveRolesHeldTogether_AreNamed()
    {
        using var files = new TempFiles();
        string policy = files.Write("p.yaml", Policies.Basic.Replace("not_by_owner: [config:approve]", "not_by_owner: [config:approve]\n  mutually_exclusive:\n    - [analyst, approver]", StringComparison.Ordinal)
            .Replace("roles: [analyst] }", "roles: [analyst, approver] }", StringComparison.Ordinal));
        var result = Cli.Run("matrix", policy, "--now", "2026-06-01T00:00:00Z");
        result.ExitCode.Should().Be(0, result.Error);
        result.Out.Should().Contain("| mutually_exclusive | `analyst, approver (held together by: alice)` |");
    }

    [Theory]
    [InlineData("* on **")]
    [InlineData("** on **")]
    [InlineData("*:* on *:**")]
    [InlineData("* on *:**")]
    [InlineData("*:** on **:**")]
    public void Matrix_EverythingGrantsAndTheirEquivalents_AreFlagged_AlsoThroughInheritance(string rule)
    {
        using var files = new TempFiles();
        string policy = files.Write("p.yaml", $"version: 1\nroles:\n  ops:\n    allow: [\"{rule}\"]\n  helper:\n    inherits: [ops]\nbindings:\n  subjects:\n    mallory: {{ roles: [helper] }}\n");
        var result = Cli.Run("matrix", policy, "--now", "2026-06-01T00:00:00Z");
        result.ExitCode.Should().Be(0, result.Error);
        result.Out.Should().Contain($"| `ops` | `grants everything ({rule})` | `mallory (through helper)` |");
        result.Out.Should().Contain($"| `helper` | `grants everything ({rule}, via ops)` | `mallory` |");
    }

    [Theory]
    [InlineData("* on model:**")]
    [InlineData("model:* on **")]
    [InlineData("* on **:*")]
    [InlineData("*:*:* on **")]
    public void Matrix_NarrowerWildcards_AreNotFlaggedAsEverything(string rule)
    {
        using var files = new TempFiles();
        string policy = files.Write("p.yaml", $"version: 1\nroles:\n  ops:\n    allow: [\"{rule}\"]\n");
        var result = Cli.Run("matrix", policy, "--now", "2026-06-01T00:00:00Z");
        result.ExitCode.Should().Be(0, result.Error);
        result.Out.Should().NotContain("grants everything (");
        result.Out.Should().Contain(rule.StartsWith("* ", StringComparison.Ordinal) ? "grants every action (" : "No role grants everything");
    }

    [Fact]
    public void Matrix_HostileRoleAndSubjectNames_AreEscapedInHtml()
    {
        using var files = new TempFiles();
        string policy = files.Write("p.yaml", "version: 1\nroles:\n  \"<script>alert(1)</script>\":\n    allow: [\"* on **\"]\n"
            + "bindings:\n  subjects:\n    \"<img src=x onerror=alert(2)>\": { roles: [\"<script>alert(1)</script>\"] }\n");
        var result = Cli.Run("matrix", policy, "--format", "html", "--now", "2026-06-01T00:00:00Z");
        result.ExitCode.Should().Be(0, result.Error);
        result.Out.Should().NotContain("<script").And.NotContain("<img");
        result.Out.Should().Contain("<code>&lt;script&gt;alert(1)&lt;/script&gt;</code>").And.Contain("<code>&lt;img src=x onerror=alert(2)&gt;</code>");
        result.Out.Should().Contain("<span class=\"flag\">grants everything (* on **)</span>");
    }

    [Fact]
    public void Matrix_BadNow_IsUsageError()
    {
        using var files = new TempFiles();
        string policy = files.Write("p.yaml", Policies.Basic);
        var result = Cli.Run("matrix", policy, "--now", "yesterday");
        result.ExitCode.Should().Be(2);
        result.Error.Should().Contain("--now");
    }
}
