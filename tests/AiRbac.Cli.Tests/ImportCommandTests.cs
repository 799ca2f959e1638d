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
    [InlineData("[1, 2]\n", "'rbac:'")]
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

    // Red team: PyYAML applies '<<: *base', so the gateway gives analyst the merged denied_tools. The importer used to
    // read '<<' as an unknown field and drop those denies while keeping analyst's '*' allow (exit 0).
    [Theory]
    [InlineData("rbac:\n  roles:\n    base: &base\n      denied_tools: [\"shell_*\", \"delete_*\"]\n    analyst:\n      <<: *base\n      allowed_tools: [\"*\"]\n", "6:7")]
    [InlineData("rbac:\n  roles:\n    analyst:\n      \"<<\": {denied_tools: [x]}\n      allowed_tools: [\"*\"]\n", "4:7")]
    [InlineData("base: &b\n  roles:\n    analyst: {denied_tools: [x]}\nrbac:\n  <<: *b\n", "5:3")]
    [InlineData("rbac:\n  roles:\n    a: {allowed_tools: [x]}\n    b:\n      - {<<: {denied_tools: [y]}}\n", "5:10")]
    public void Import_MergeKey_IsRefused(string input, string at)
    {
        var result = Cli.RunWithInput(input, "import", "keeptrusts", "-");
        result.ExitCode.Should().Be(2);
        result.Out.Should().BeEmpty();
        result.Error.Should().Contain("<stdin>:" + at + ": YAML merge key '<<' is not supported");
    }

    // Red team: an unreadable deny was noted and dropped while the allows were kept. A deny is never dropped.
    [Theory]
    [InlineData("denied_tools: {shell: true}", "5:21", "rbac.roles.analyst.denied_tools is a mapping")]
    [InlineData("denied_tools: [shell_*, [rm_*]]", "5:31", "an entry of rbac.roles.analyst.denied_tools is empty or not a string")]
    [InlineData("denied_tools: [shell_*, {rm: 1}]", "5:31", "an entry of rbac.roles.analyst.denied_tools is empty or not a string")]
    [InlineData("denied_tools: [shell_*, ~]", "5:31", "an entry of rbac.roles.analyst.denied_tools is empty or not a string")]
    [InlineData("denied_tools: [shell_*, \"\"]", "5:31", "an entry of rbac.roles.analyst.denied_tools is empty or not a string")]
    public void Import_UnreadableDeny_IsRefused(string deny, string at, string message)
    {
        string input = "rbac:\n  roles:\n    analyst:\n      allowed_tools: [\"*\"]\n      " + deny + "\n";
        var result = Cli.RunWithInput(input, "import", "keeptrusts", "-");
        result.ExitCode.Should().Be(2);
        result.Out.Should().BeEmpty();
        result.Error.Should().Contain("<stdin>:" + at + ": " + message).And.Contain("a deny is never dropped");
    }

    // The operator's side: an unreadable grant still narrows (noted, dropped), and a plain deny list still converts.
    [Fact]
    public void Import_UnreadableAllow_IsDroppedWithANote_DeniesStillConvert()
    {
        string input = "rbac:\n  roles:\n    analyst:\n      allowed_tools: [search, [x], {y: 1}]\n      denied_tools: [\"shell_*\"]\n    b:\n      allowed_tools: {z: 1}\n";
        var result = Cli.RunWithInput(input, "import", "keeptrusts", "-");
        result.ExitCode.Should().Be(0, result.Error);
        result.Out.Should().Contain("      - \"tool:invoke on tool:search\"\n    deny:\n      - \"tool:invoke on tool:shell_*\"\n");
        result.Error.Should().Contain("an entry of rbac.roles.analyst.allowed_tools is empty or not a string and was not mapped")
            .And.Contain("rbac.roles.b.allowed_tools is a mapping, not a list, and was not mapped");
    }

    // Red team: names were trimmed and merged, so 'viewer' got the grants of 'viewer ' (and a ceiling named for one could
    // raise the other's). Two names that trimming makes one are refused.
    [Theory]
    [InlineData("roles:\n    \"viewer\": {allowed_tools: [search]}\n    \"viewer \": {allowed_tools: [\"*\"]}\n", "4:5")]
    [InlineData("roles:\n    viewer: {allowed_tools: [search]}\n  data_access:\n    \"viewer\": {max_sensitivity: public}\n    \" viewer\": {max_sensitivity: restricted}\n", "6:5")]
    [InlineData("roles:\n    viewer: {allowed_tools: [search]}\n  minimum_necessary:\n    allowed_phi_roles: [\"viewer \"]\n", "5:25")]
    public void Import_NamesThatTrimToOne_AreRefused(string block, string at)
    {
        var result = Cli.RunWithInput("rbac:\n  " + block, "import", "keeptrusts", "-");
        result.ExitCode.Should().Be(2);
        result.Out.Should().BeEmpty();
        result.Error.Should().Contain("<stdin>:" + at + ": role name ").And.Contain("are the same role after trimming spaces");
    }

    // The operator's side: one name written the same way in roles, data_access and allowed_phi_roles is one role, and a
    // name with spaces around it (written the same way everywhere) is still trimmed.
    [Fact]
    public void Import_SameNameInEverySection_IsOneRole()
    {
        string input = "rbac:\n  roles:\n    \" viewer \": {allowed_tools: [search]}\n  data_access:\n    \" viewer \": {max_sensitivity: internal}\n  minimum_necessary:\n    allowed_phi_roles: [\" viewer \"]\n";
        var result = Cli.RunWithInput(input, "import", "keeptrusts", "-");
        result.ExitCode.Should().Be(0, result.Error);
        result.Out.Should().Contain("  \"viewer\":\n    allow:\n      - \"tool:invoke on tool:search\"\n    max_sensitivity: internal\n    clearances: [phi]\n");
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

    private static readonly string RuntimeConfig = Path.Combine("TestData", "keeptrusts", "gateway-runtime.yaml");

    [Fact]
    public void Import_GatewayRuntimeConfig_ReadsPolicyRbacBesideTheChain()
    {
        // The operator's file: the deployed configuration, RBAC under policy.rbac, run by policy.policies.chain.
        var result = Cli.Run("import", "keeptrusts", RuntimeConfig);

        result.ExitCode.Should().Be(0, result.Error);
        result.Out.Should().Contain("  \"analyst\":\n    allow:\n      - \"tool:invoke on tool:web_search\"\n      - \"tool:invoke on tool:report_*\"\n      - \"tool:invoke on tool:sql_readonly\"\n    deny:\n      - \"tool:invoke on tool:sql_admin_*\"\n      - \"tool:invoke on tool:shell_*\"\n    max_sensitivity: confidential\n");
        result.Out.Should().Contain("  \"clinician\":\n    allow:\n      - \"tool:invoke on tool:ehr_lookup\"\n      - \"tool:invoke on tool:note_*\"\n    max_sensitivity: restricted\n    clearances: [phi]\n");
        result.Out.Should().Contain("# deny_if_missing: [x-user-id, x-user-roles] -- the gateway denies a request that lacks");
        result.Out.Should().NotContain("requires the headers", "the header comment explains deny_if_missing once");
        result.Out.Should().Contain("# not mapped: policy.policies.chain also runs [pii_redaction, audit]");
        result.Out.Should().Contain("# not mapped: top-level key 'providers' is outside the rbac block and was ignored");
        result.Error.Should().Contain($"warning: {RuntimeConfig}:25:22: rbac.deny_if_missing requires the headers [x-user-id, x-user-roles]");
        result.Error.Should().NotContain("not a scalar").And.NotContain("is not true or false");
    }

    [Fact]
    public void Import_GatewayRuntimeConfig_SaysThatNoRoleGrantsModelQuery()
    {
        using var files = new TempFiles();
        var result = Cli.Run("import", "keeptrusts", RuntimeConfig);
        string policy = files.Write("imported.yaml", result.Out);

        result.Error.Should().Contain($"warning: {RuntimeConfig}: not granted: no role grants model:query: behind the chat gate");
        result.Out.Should().Contain("# not granted: no role grants model:query");

        // What the warning says is what the policy does: every role is denied a chat request, and tools still work.
        foreach (string role in new[] { "analyst", "engineer", "clinician", "support-bot" })
        {
            var chat = Cli.Run("check", policy, "--subject", "u", "--role", role, "--action", "model:query", "--resource", "model:gpt-4o");
            chat.ExitCode.Should().Be(1);
            chat.OutLines[0].Should().Be("{\"allowed\":false,\"reason\":\"no_matching_grant\"}");
        }

        Cli.Run("check", policy, "--subject", "u", "--role", "analyst", "--action", "tool:invoke", "--resource", "tool:report_q3").ExitCode.Should().Be(0);
        Cli.Run("check", policy, "--subject", "u", "--role", "engineer", "--action", "tool:invoke", "--resource", "tool:shell_rm").ExitCode.Should().Be(1);
        Cli.Run("check", policy, "--subject", "u", "--role", "support-bot", "--action", "tool:invoke", "--resource", "tool:ehr_lookup").ExitCode.Should().Be(1);
        var lint = Cli.Run("lint", policy);
        lint.ExitCode.Should().Be(0, lint.Out);
    }

    [Fact]
    public void Import_EveryRoleWithoutTools_SaysNoToolAndNoChatIsGranted()
    {
        var result = Cli.RunWithInput("rbac:\n  roles:\n    a: {allowed_tools: [\"bad tool\"]}\n  minimum_necessary: {allowed_phi_roles: [b]}\n", "import", "keeptrusts", "-");

        result.ExitCode.Should().Be(0, result.Error);
        result.Error.Should().Contain("not granted: no role grants model:query").And.Contain("not granted: no role grants tool:invoke");
    }

    [Fact]
    public void Import_SomeRolesWithoutTools_AreNamed()
    {
        var result = Cli.RunWithInput("rbac:\n  roles:\n    a: {allowed_tools: [x]}\n  minimum_necessary: {allowed_phi_roles: [nurse]}\n", "import", "keeptrusts", "-");

        result.Error.Should().Contain("not granted: roles that grant nothing (their holders are denied every request, whatever their ceiling or clearances): nurse");
    }

    [Theory]
    [InlineData("deny_if_missing: [x-user-id]", "# deny_if_missing: [x-user-id] -- the gateway denies a request that lacks")]
    [InlineData("deny_if_missing: [x-user-id, X-User-Id, \"\", x-tenant]", "# deny_if_missing: [x-user-id, x-tenant] -- the gateway denies")]
    [InlineData("deny_if_missing: []", "# deny_if_missing: [] (no header required) -- NOT mapped")]
    [InlineData("deny_if_missing: true", "# deny_if_missing: true -- nothing to map")]
    [InlineData("deny_if_missing: \"off\"", "# deny_if_missing: false -- NOT mapped")]
    public void Import_DenyIfMissing_ListOfHeadersOrBoolean(string line, string comment)
    {
        var result = Cli.RunWithInput($"policy:\n  rbac:\n    roles: {{r: {{allowed_tools: [a]}}}}\n    {line}\n", "import", "keeptrusts", "-");

        result.ExitCode.Should().Be(0, result.Error);
        result.Out.Should().Contain(comment);
        result.Out.Should().NotContain("allow: [\"**\"").And.NotContain("* on **");
    }

    [Theory]
    [InlineData("deny_if_missing: {header: x-user-id}")]
    [InlineData("deny_if_missing: maybe")]
    public void Import_DenyIfMissingOfAnotherShape_IsANoteAndStillDeniesByDefault(string line)
    {
        var result = Cli.RunWithInput($"rbac:\n  roles: {{r: {{allowed_tools: [a]}}}}\n  {line}\n", "import", "keeptrusts", "-");

        result.ExitCode.Should().Be(0);
        result.Error.Should().Contain("is not true, false or a list of header names");
    }

    [Fact]
    public void Import_HostileHeaderNames_CannotBendTheOutput()
    {
        // The attacker's config: header names that would end the comment and add a role granting everything.
        string yaml = "policy:\n  rbac:\n    roles: {r: {allowed_tools: [a]}}\n    deny_if_missing: [\"x\\nroles:\\n  root:\\n    allow: ['* on **']\", \"\\u2028evil\", \"\\e[8m\"]\n";

        var result = Cli.RunWithInput(yaml, "import", "keeptrusts", "-");

        result.ExitCode.Should().Be(0, result.Error);
        result.Out.Should().NotContain("\n  root:").And.NotContain("\u2028").And.NotContain("\u001b");
        using var files = new TempFiles();
        string policy = files.Write("p.yaml", result.Out);
        Cli.Run("check", policy, "--subject", "u", "--role", "root", "--action", "tool:invoke", "--resource", "tool:x").ExitCode.Should().Be(1);
        Cli.Run("lint", policy).ExitCode.Should().Be(0);
    }

    [Fact]
    public void Import_DenyIfMissingAliasFanOut_IsBounded()
    {
        var yaml = new System.Text.StringBuilder("x: &h [");
        yaml.Append(string.Join(",", Enumerable.Repeat("h", 1000))).Append("]\npolicy:\n  rbac:\n    roles: {r: {allowed_tools: [a]}}\n    deny_if_missing: [");
        yaml.Append(string.Join(",", Enumerable.Repeat("*h", 200))).Append("]\n");

        var result = Cli.RunWithInput(yaml.ToString(), "import", "keeptrusts", "-");

        // A list of lists is not a list of header names, but it is still counted, item by item.
        result.ExitCode.Should().Be(0);
        result.Out.Length.Should().BeLessThan(64 * 1024);
    }

    [Fact]
    public void Import_TwoRbacBlocks_IsRefused()
    {
        // Which one the gateway runs is not for the converter to guess: granting from the wrong one could open access.
        var result = Cli.RunWithInput("rbac:\n  roles: {a: {allowed_tools: [\"*\"]}}\npolicy:\n  rbac:\n    roles: {b: {allowed_tools: [x]}}\n", "import", "keeptrusts", "-");

        result.ExitCode.Should().Be(2);
        result.Out.Should().BeEmpty();
        result.Error.Should().Contain("two rbac blocks, at the top level (line 1) and under policy: (line 4)");
    }

    [Fact]
    public void Import_ChainThatDoesNotRunRbac_IsSaidLoudly()
    {
        var result = Cli.RunWithInput("policy:\n  policies:\n    chain: [audit]\n  rbac:\n    roles: {a: {allowed_tools: [x]}}\n", "import", "keeptrusts", "-");

        result.ExitCode.Should().Be(0);
        result.Out.Should().StartWith("# AiRbac policy").And.Contain("# WARNING: the gateway's policy.policies.chain [audit] does not run rbac");
        result.Error.Should().Contain("does not run rbac");
    }

    [Theory]
    [InlineData("policy:\n  rbac: [a]\n")]
    [InlineData("policy:\n  policies: {chain: [rbac]}\n")]
    [InlineData("policy: rbac\n")]
    public void Import_PolicyWithoutAnRbacMapping_IsStatusTwo(string input)
    {
        var result = Cli.RunWithInput(input, "import", "keeptrusts", "-");

        result.ExitCode.Should().Be(2);
        result.Error.Should().Contain("expected an 'rbac:' mapping, at the top level or under 'policy:' (policy.rbac)");
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
