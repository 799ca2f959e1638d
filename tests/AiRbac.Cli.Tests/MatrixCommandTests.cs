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
        result.Out.Should().Contain("| `analyst` | `viewer` | `all` | `confidential` |  | 2 | 1 |");
        result.Out.Should().Contain("| `analyst` | `allow` | `data:read` | `output:*` | `viewer` | `internal` |  | `all` |");
        result.Out.Should().Contain("| `analyst` | `deny` | `tool:invoke` | `tool:dangerous_*` |");
        result.Out.Should().Contain("| `clinician` | `allow` | `data:read` | `dataset:patients/**` |  | `restricted` | `phi` | `all` |");
    }

    [Fact]
    public void Matrix_Csv_HasHeaderAndOneRowPerRule()
    {
        using var files = new TempFiles();
        string policy = files.Write("p.yaml", Policies.Basic);
        var result = Cli.Run("matrix", policy, "--format", "csv");
        result.ExitCode.Should().Be(0);
        result.OutLines[0].Should().Be("role,effect,action,resource,via,max_sensitivity,clearances,kinds");
        result.OutLines.Should().Contain("analyst,allow,data:read,output:*,viewer,internal,,all");
        result.OutLines.Should().Contain("bot,allow,tool:invoke,tool:search,,public,,agent");
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
        result.OutLines.Should().Contain("bot-tools,allow,tool:invoke,tool:search,,public,,agent");
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
}
