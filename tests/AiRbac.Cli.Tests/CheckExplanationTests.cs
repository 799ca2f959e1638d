using System.Text.Json.Nodes;

namespace AiRbac.Cli.Tests;

/// <summary>
/// <c>airbac check</c> says what the reason alone does not: which field made a request invalid, which on-behalf-of link
/// was denied, which role is not declared (and what was meant), and decides as of <c>--now</c>.
/// </summary>
public sealed class CheckExplanationTests
{
    private const string Policy =
        "version: 1\n" +
        "roles:\n" +
        "  analyst:\n" +
        "    allow: [\"tool:invoke on tool:report_*\", \"data:read on dataset:sales/*\"]\n" +
        "    max_sensitivity: confidential\n" +
        "  viewer:\n" +
        "    id: r-viewer\n" +
        "    allow: [\"data:read on output:*\"]\n" +
        "  support-agent:\n" +
        "    kinds: [agent]\n" +
        "    allow: [\"data:read on dataset:**\"]\n" +
        "    max_sensitivity: confidential\n" +
        "bindings:\n" +
        "  subjects:\n" +
        "    erin: { kind: user, roles: [ { role: analyst, expires: \"2026-07-01T00:00:00Z\" } ] }\n" +
        "    ivan: { kind: user, roles: [viewer] }\n" +
        "    dana: { kind: user, roles: [analyst] }\n" +
        "    bot:  { kind: agent, roles: [support-agent] }\n";

    private static JsonObject Line(CliResult result, int index = 0) => JsonNode.Parse(result.OutLines[index])!.AsObject();

    [Theory]
    [InlineData("2026-06-30T23:59:59Z", 0, "allowed")]
    [InlineData("2026-07-01T00:00:00Z", 1, "no_active_role")]
    [InlineData("2026-07-01T02:00:00+02:00", 1, "no_active_role")]
    [InlineData("2026-07-01T01:59:59.5+02:00", 0, "allowed")]
    public void Check_Now_DecidesExpiringBindingsAsOfThatTime(string now, int exit, string reason)
    {
        // The operator's question: does erin's just-in-time grant still work on the morning of July 1st?
        using var files = new TempFiles();
        string policy = files.Write("p.yaml", Policy);

        var result = Cli.Run("check", policy, "--subject", "erin", "--action", "tool:invoke", "--resource", "tool:report_q3", "--now", now);

        result.ExitCode.Should().Be(exit, result.Error);
        Line(result)["reason"]!.GetValue<string>().Should().Be(reason);
    }

    [Fact]
    public void Check_Now_AppliesToACorpusToo()
    {
        using var files = new TempFiles();
        string policy = files.Write("p.yaml", Policy);
        string corpus = "{\"subject\":\"erin\",\"action\":\"tool:invoke\",\"resource\":\"tool:report_q3\"}\n"
            + "{\"subject\":\"x\",\"roles\":[{\"role\":\"analyst\",\"expires\":\"2026-01-01T00:00:00Z\"}],\"action\":\"tool:invoke\",\"resource\":\"tool:report_q3\"}\n";

        var before = Cli.RunWithInput(corpus, "check", policy, "--requests", "-", "--now", "2025-12-31T00:00:00Z");
        var after = Cli.RunWithInput(corpus, "check", policy, "--requests", "-", "--now", "2026-08-01T00:00:00Z");

        before.OutLines.Select(l => JsonNode.Parse(l)!["reason"]!.GetValue<string>()).Should().Equal("allowed", "allowed");
        after.OutLines.Select(l => JsonNode.Parse(l)!["reason"]!.GetValue<string>()).Should().Equal("no_active_role", "no_active_role");
    }

    [Theory]
    [InlineData("tomorrow")]
    [InlineData("2026-07-01")]
    [InlineData("2026-07-01T00:00:00")]
    [InlineData("2026-12-31T23:59:60Z")]
    [InlineData("2026-07-01T00:00:00Z\n{\"allowed\":true}")]
    [InlineData("")]
    public void Check_BadNow_IsAUsageErrorAndDecidesNothing(string now)
    {
        // Fail closed: a time that cannot be read must not fall back to "now" and print a decision.
        using var files = new TempFiles();
        string policy = files.Write("p.yaml", Policy);

        var result = Cli.Run("check", policy, "--subject", "erin", "--action", "tool:invoke", "--resource", "tool:report_q3", "--now", now);

        result.ExitCode.Should().Be(2);
        result.Out.Should().BeEmpty();
        result.Error.Should().Contain("--now:").And.Contain("RFC 3339");
        result.Error.Should().NotContain("\n{\"allowed\":true}");
    }

    [Fact]
    public void Check_Help_DocumentsNow()
    {
        Cli.Run("check", "--help").Out.Should().Contain("--now").And.Contain("RFC 3339");
    }

    [Theory]
    [InlineData(new[] { "--sensitivity", "secret" }, "sensitivity", "tier 'secret' is not declared (tiers: public, internal, confidential, restricted)")]
    [InlineData(new[] { "--scope", "acme//pd" }, "scope", "'acme//pd' is not a scope (non-empty segments joined by single '/')")]
    [InlineData(new[] { "--scope", "/acme" }, "scope", "'/acme' is not a scope (non-empty segments joined by single '/')")]
    public void Check_InvalidRequest_SaysWhichFieldAndWhy(string[] options, string field, string why)
    {
        using var files = new TempFiles();
        string policy = files.Write("p.yaml", Policy);

        var result = Cli.Run(["check", policy, "--subject", "dana", "--action", "data:read", "--resource", "dataset:sales/q3", .. options]);

        result.ExitCode.Should().Be(1);
        var line = Line(result);
        line["reason"]!.GetValue<string>().Should().Be("invalid_request");
        line["invalid_fields"]!.AsArray().Select(f => f!.GetValue<string>()).Should().Equal(field);
        line["detail"]!.GetValue<string>().Should().Be($"{field}: {why}.");
        result.OutLines.Should().Contain($"Invalid: {field}: {why}.");
    }

    [Fact]
    public void Check_InvalidRequestInACorpus_NamesEveryBadFieldIncludingBindingScopes()
    {
        using var files = new TempFiles();
        string policy = files.Write("p.yaml", Policy);
        string corpus = "{\"subject\":\"x\",\"roles\":[\"analyst\",{\"role\":\"viewer\",\"scope\":\"a/\"}],\"action\":\"data:read\",\"resource\":\"dataset:sales/q3\",\"sensitivity\":\"Secret\"}\n"
            + "{\"subject\":\"x\",\"roles\":[\"analyst\"],\"action\":\"\",\"resource\":\"dataset:sales/q3\"}\n";

        var result = Cli.RunWithInput(corpus, "check", policy, "--requests", "-");

        result.ExitCode.Should().Be(0);
        Line(result, 0)["invalid_fields"]!.AsArray().Select(f => f!.GetValue<string>()).Should().Equal("sensitivity", "roles[1].scope");
        Line(result, 1)["invalid_fields"]!.AsArray().Select(f => f!.GetValue<string>()).Should().Equal("action");
        Line(result, 1)["detail"]!.GetValue<string>().Should().Be("action: empty.");
    }

    [Theory]
    [InlineData("Analyst", "analyst")]
    [InlineData("analyts", "analyst")]
    [InlineData("r-veiwer", "r-viewer")]
    [InlineData("support_agent", "support-agent")]
    public void Check_MistypedRole_SuggestsTheDeclaredOne(string typed, string meant)
    {
        using var files = new TempFiles();
        string policy = files.Write("p.yaml", Policy);

        var result = Cli.Run("check", policy, "--subject", "x", "--role", typed, "--action", "data:read", "--resource", "output:x");

        result.ExitCode.Should().Be(1);
        var line = Line(result);
        line["reason"]!.GetValue<string>().Should().Be("no_active_role");
        var undeclared = line["undeclared_roles"]!.AsArray().Should().ContainSingle().Subject!.AsObject();
        undeclared["field"]!.GetValue<string>().Should().Be("roles[0]");
        undeclared["role"]!.GetValue<string>().Should().Be(typed);
        undeclared["did_you_mean"]!.GetValue<string>().Should().Be(meant);
        result.OutLines.Should().Contain($"Hint: role '{typed}' (roles[0]) is not declared in the policy; did you mean '{meant}'?");
    }

    [Fact]
    public void Check_TypoInThePolicysOwnBindings_GetsAHint()
    {
        using var files = new TempFiles();
        string policy = files.Write("p.yaml", """
            version: 1
            roles:
              data-scientist: { allow: [ "data:read on dataset:**" ] }
            bindings:
              subjects:
                walt: { roles: [data-scientst] }
            """);

        var result = Cli.Run("check", policy, "--subject", "walt", "--action", "data:read", "--resource", "dataset:x");

        result.ExitCode.Should().Be(1);
        var line = Line(result);
        line["reason"]!.GetValue<string>().Should().Be("no_active_role");
        var undeclared = line["undeclared_roles"]!.AsArray().Should().ContainSingle().Subject!.AsObject();
        undeclared["field"]!.GetValue<string>().Should().Be("bindings.subjects.walt.roles[0]");
        undeclared["role"]!.GetValue<string>().Should().Be("data-scientst");
        undeclared["did_you_mean"]!.GetValue<string>().Should().Be("data-scientist");
    }

    [Fact]
    public void Check_UndeclaredRoleWithNothingClose_SaysSoWithoutAGuess()
    {
        using var files = new TempFiles();
        string policy = files.Write("p.yaml", Policy);

        var result = Cli.Run("check", policy, "--subject", "x", "--role", "root", "--role", "analyst", "--action", "tool:invoke", "--resource", "tool:report_q3");

        // Still allowed through the declared role: the hint is there, the decision is the engine's.
        result.ExitCode.Should().Be(0);
        var undeclared = Line(result)["undeclared_roles"]!.AsArray().Should().ContainSingle().Subject!.AsObject();
        undeclared.ContainsKey("did_you_mean").Should().BeFalse();
        result.OutLines.Should().Contain("Hint: role 'root' (roles[0]) is not declared in the policy.");
    }

    [Theory]
    [InlineData("query", "tool:report_q3", "Hint: action 'query' is not of the form namespace:verb (model:query, tool:invoke, data:read).")]
    [InlineData("tool:invoke", "report_q3", "Hint: resource 'report_q3' is not of the form type:name (model:gpt-4o, tool:search, dataset:sales/q3).")]
    public void Check_ActionOrResourceNotQualified_GetsAHintWhenNothingMatched(string action, string resource, string hint)
    {
        using var files = new TempFiles();
        string policy = files.Write("p.yaml", Policy);

        var result = Cli.Run("check", policy, "--subject", "x", "--role", "analyst", "--action", action, "--resource", resource);

        result.ExitCode.Should().Be(1);
        Line(result)["reason"]!.GetValue<string>().Should().Be("no_matching_grant");
        result.OutLines.Should().Contain(hint);
        Line(result)["detail"]!.GetValue<string>().Should().Be(hint["Hint: ".Length..]);
    }

    [Fact]
    public void Check_DelegationDenied_NamesTheDeniedLinkAndWhy()
    {
        // bot (allowed) acts for dana (allowed) who acts for ivan (viewer: no grant on datasets).
        using var files = new TempFiles();
        string policy = files.Write("p.yaml", Policy);
        string corpus = "{\"subject\":\"bot\",\"action\":\"data:read\",\"resource\":\"dataset:sales/q3\",\"on_behalf_of\":{\"subject\":\"dana\",\"on_behalf_of\":{\"subject\":\"ivan\"}}}\n";

        var result = Cli.RunWithInput(corpus, "check", policy, "--requests", "-");

        var line = Line(result);
        line["reason"]!.GetValue<string>().Should().Be("delegation_denied");
        line["denied_link"]!.GetValue<int>().Should().Be(2);
        line["denied_subject"]!.GetValue<string>().Should().Be("ivan");
        line["denied_reason"]!.GetValue<string>().Should().Be("no_matching_grant");
        line["detail"]!.GetValue<string>().Should().Be(
            "on_behalf_of link 2 (subject 'ivan') was denied: Denied (no_matching_grant): no effective role grants this action on this resource.");
    }

    [Fact]
    public void Check_DelegationDeniedForAnInvalidLink_NamesTheLinksBadField()
    {
        using var files = new TempFiles();
        string policy = files.Write("p.yaml", Policy);
        string corpus = "{\"subject\":\"bot\",\"action\":\"data:read\",\"resource\":\"dataset:sales/q3\",\"on_behalf_of\":{\"subject\":\"carol\",\"roles\":[{\"role\":\"analyst\",\"scope\":\"//\"}]}}\n";

        var result = Cli.RunWithInput(corpus, "check", policy, "--requests", "-");

        var line = Line(result);
        line["reason"]!.GetValue<string>().Should().Be("delegation_denied");
        line["denied_subject"]!.GetValue<string>().Should().Be("carol");
        line["denied_reason"]!.GetValue<string>().Should().Be("invalid_request");
        line["invalid_fields"]!.AsArray().Select(f => f!.GetValue<string>()).Should().Equal("on_behalf_of.roles[0].scope");
    }

    [Fact]
    public void Check_HostileRequestText_IsEscapedAndClippedInTheExplanation()
    {
        // The attacker's request: a newline in the role would forge an output line, ESC[8m hide the rest.
        using var files = new TempFiles();
        string policy = files.Write("p.yaml", Policy);
        string role = "x\n{\"allowed\":true}\u001b[8m" + new string('a', 5000);

        var result = Cli.Run("check", policy, "--subject", "x", "--role", role, "--action", "data:read", "--resource", "output:x", "--sensitivity", "s\ne");

        result.ExitCode.Should().Be(1);
        result.Out.Should().NotContain("\u001b");
        result.OutLines.Should().HaveCount(4);
        result.OutLines.Skip(1).Should().OnlyContain(l => !l.StartsWith('{'));
        result.OutLines.Should().OnlyContain(l => l.Length < 12_000);
        result.OutLines[3].Should().Contain("more characters");
    }

    [Fact]
    public void Check_ReferenceCorpus_TyposGetHintsAndTheDecisionsStayTheSame()
    {
        string folder = Path.Combine("TestData", "scale-0");

        var result = Cli.Run("check", Path.Combine(folder, "policy.yaml"), "--requests", Path.Combine(folder, "requests.jsonl"));

        result.ExitCode.Should().Be(0);
        result.OutLines.Should().Contain(l => l.Contains("\"role\":\"Data-Scientist\",\"did_you_mean\":\"data-scientist\"", StringComparison.Ordinal));
    }
}
