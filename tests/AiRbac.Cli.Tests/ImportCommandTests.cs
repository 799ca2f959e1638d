namespace AiRbac.Cli.Tests;

public class ImportCommandTests
{
    private const string Gateway = """
        gateway:
          port: 8080
        rbac:
          roles:
            analyst:
              allowed_tools: [search, "report_*"]
              denied_tools: ["dangerous_*"]
            engineer:
              allowed_tools: ["*", "bad tool"]
              denied_tools: ["shell exec", "rm[abc]", "x{a,b}"]
              rate_limit: 10
            "odd \"name\"":
              allowed_tools: [search]
          data_access:
            analyst:
              max_sensitivity: Confidential
            engineer:
              max_sensitivity: top-secret
          minimum_necessary:
            allowed_phi_roles: [clinician, analyst]
          deny_if_missing: true
        """;

    [Fact]
    public void Import_Keeptrusts_MapsToolsCeilingsAndPhi()
    {
        using var files = new TempFiles();
        var result = Cli.Run("import", "keeptrusts", files.Write("gw.yaml", Gateway));
        result.ExitCode.Should().Be(0);
        string policy = result.Out;
        policy.Should().Contain("version: 1\n");
        policy.Should().Contain("  \"analyst\":\n    allow:\n      - \"tool:invoke on tool:search\"\n      - \"tool:invoke on tool:report_*\"\n    deny:\n      - \"tool:invoke on tool:dangerous_*\"\n    max_sensitivity: confidential\n    clearances: [phi]\n");
        policy.Should().Contain("  \"clinician\":\n    clearances: [phi]\n");
        policy.Should().Contain("  \"odd \\\"name\\\"\":");
        policy.Should().Contain("# deny_if_missing: true -- nothing to map: AiRbac always denies by default");
        policy.Should().Contain("# not mapped: top-level key 'gateway'");
        policy.Should().Contain("# not mapped: rbac.roles.engineer.rate_limit");
        policy.Should().Contain("'top-secret' is not one of public, internal, confidential, restricted");
        result.Error.Should().Contain("warning: ").And.Contain("gw.yaml:11:7: rbac.roles.engineer.rate_limit");
    }

    [Fact]
    public void Import_UnmappableGlobs_DropAllowsAndWidenDenies()
    {
        using var files = new TempFiles();
        string policy = Cli.Run("import", "keeptrusts", files.Write("gw.yaml", Gateway)).Out;
        policy.Should().NotContain("tool:bad");
        policy.Should().Contain("- \"tool:invoke on tool:shell?exec\"");
        policy.Should().Contain("- \"tool:invoke on tool:rm**\"");
        policy.Should().Contain("- \"tool:invoke on tool:x**\"");
    }

    [Fact]
    public void Import_Output_LintsWithoutErrors()
    {
        using var files = new TempFiles();
        string policy = files.Write("imported.yaml", Cli.Run("import", "keeptrusts", files.Write("gw.yaml", Gateway)).Out);
        var lint = Cli.Run("lint", policy);
        lint.ExitCode.Should().Be(0, lint.Out);
        lint.Out.Should().NotContain("error");
    }

    [Fact]
    public void Import_ImportedPolicy_DecidesAsTheGatewayWould()
    {
        using var files = new TempFiles();
        string policy = files.Write("imported.yaml", Cli.Run("import", "keeptrusts", files.Write("gw.yaml", Gateway)).Out);
        Cli.Run("check", policy, "--subject", "a", "--role", "analyst", "--action", "tool:invoke", "--resource", "tool:report_q3").ExitCode.Should().Be(0);
        Cli.Run("check", policy, "--subject", "a", "--role", "analyst", "--action", "tool:invoke", "--resource", "tool:dangerous_rm").ExitCode.Should().Be(1);
        Cli.Run("check", policy, "--subject", "e", "--role", "engineer", "--action", "tool:invoke", "--resource", "tool:shell exec").ExitCode.Should().Be(1);
        Cli.Run("check", policy, "--subject", "e", "--role", "engineer", "--action", "tool:invoke", "--resource", "tool:rmb").ExitCode.Should().Be(1);
        Cli.Run("check", policy, "--subject", "e", "--role", "engineer", "--action", "tool:invoke", "--resource", "tool:git").ExitCode.Should().Be(0);
    }

    [Fact]
    public void Import_DenyIfMissingFalse_IsACommentNeverAnAllow()
    {
        var result = Cli.RunWithInput("rbac:\n  roles:\n    r:\n      allowed_tools: [a]\n  deny_if_missing: false\n", "import", "keeptrusts", "-");
        result.ExitCode.Should().Be(0);
        result.Out.Should().Contain("# deny_if_missing: false -- NOT mapped");
    }

    [Theory]
    [InlineData("rbac: [", "<stdin>:")]
    [InlineData("other: 1\n", "'rbac:'")]
    [InlineData("rbac:\n  deny_if_missing: true\n", "names no role")]
    [InlineData("rbac:\n  roles:\n    a: {}\n    a: {}\n", "Duplicate key")]
    [InlineData("a: 1\n---\nb: 2\n", "exactly one YAML document")]
    public void Import_BadInput_IsStatusTwo(string input, string message)
    {
        var result = Cli.RunWithInput(input, "import", "keeptrusts", "-");
        result.ExitCode.Should().Be(2);
        result.Error.Should().Contain(message);
        result.Out.Should().BeEmpty();
    }

    [Fact]
    public void Import_MissingFile_IsUsageError()
    {
        Cli.Run("import", "keeptrusts", "/no/such/gateway.yaml").ExitCode.Should().Be(2);
        Cli.Run("import", "keeptrusts").ExitCode.Should().Be(2);
        Cli.Run("import").ExitCode.Should().Be(2);
    }

    [Fact]
    public void Import_AliasFanOut_IsBounded()
    {
        var yaml = new System.Text.StringBuilder("rbac:\n  list: &l [");
        yaml.Append(string.Join(",", Enumerable.Repeat("t", 1000))).Append("]\n  roles:\n");
        for (int i = 0; i < 200; i++)
        {
            yaml.Append("    r").Append(i).Append(": { allowed_tools: *l }\n");
        }

        var result = Cli.RunWithInput(yaml.ToString(), "import", "keeptrusts", "-");
        result.ExitCode.Should().Be(2);
        result.Error.Should().Contain("more than 100000 list items");
    }

    [Theory]
    [InlineData("plain", "\"plain\"")]
    [InlineData("a\"b\\c", "\"a\\\"b\\\\c\"")]
    [InlineData("line\nbreak", "\"line\\u000abreak\"")]
    public void Quote_EscapesEverythingThatCouldBendTheScalar(string value, string expected)
    {
        Import.KeeptrustsImporter.Quote(value).Should().Be(expected);
    }
}
