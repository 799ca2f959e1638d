using System.Text.RegularExpressions;
using System.Xml;
using System.Xml.Linq;
using System.Xml.Schema;
using AiRbac.Cli.Testing;

namespace AiRbac.Cli.Tests;

/// <summary>
/// <c>airbac test</c> (docs/policy-testing.md): every exit status, the failure lines CI annotations read, rule coverage and
/// what "exercised" means, the JUnit report validated against the Ant/Jenkins schema, and test files as hostile input.
/// </summary>
public partial class TestCommandTests
{
    // The policy of most tests, with line numbers the assertions use.
    private const string Policy = """
        version: 1
        roles:
          analyst:
            allow:
              - model:query on model:gpt-4o
              - tool:invoke on tool:*
              - tool:invoke on tool:search
            deny:
              - tool:invoke on tool:shell_*
            max_sensitivity: confidential
          clinician:
            allow: [ "data:read on dataset:patients/**" ]
            max_sensitivity: restricted
            clearances: [phi]
          bot:
            kinds: [agent]
            allow: [ "data:read on dataset:**" ]
            max_sensitivity: restricted
            clearances: [phi]
          dev:
            allow: [ "config:write on config:*" ]
          approver:
            allow: [ "config:approve on config:*" ]
        resources:
          - match: dataset:patients/**
            sensitivity: restricted
            tags: [phi]
          - match: dataset:public/**
            sensitivity: public
        constraints:
          mutually_exclusive: [ [dev, approver] ]
          not_by_owner: [config:approve]
          min_holders: { approver: 1 }
        bindings:
          subjects:
            alice: { roles: [analyst] }
            carol: { roles: [clinician] }
            bob:   { roles: [approver] }
            erin:  { roles: [dev, approver] }
            kim:   { roles: [ { role: clinician, expires: "2026-07-01T00:00:00Z" } ] }
        """;

    private const string AnalystQueryLine = "policy.yaml:5:9"; // model:query on model:gpt-4o
    private const string AnalystShellDenyLine = "policy.yaml:9:9";

    // Cases that together exercise every item of Policy (12 items: 7 grants, 1 deny, 2 resources entries, 1 list, 1
    // not_by_owner) but one: the analyst's tool:search grant, which its own earlier tool:* grant always decides before.
    private const string FullCases = """
          - name: analyst queries gpt-4o
            request: { subject: alice, action: model:query, resource: model:gpt-4o }
            expect: { allowed: true, reason: allowed, role: analyst, rule: model:query on model:gpt-4o }
          - name: analyst runs a report
            request: { subject: alice, action: tool:invoke, resource: tool:report }
            expect: { allowed: true, rule: tool:invoke on tool:* }
          - name: tool:search is decided by the analyst's earlier tool:* grant
            request: { subject: x, roles: [analyst], action: tool:invoke, resource: tool:search }
            expect: { allowed: true, rule: tool:invoke on tool:* }
          - name: analyst may not run a shell
            request: { subject: alice, action: tool:invoke, resource: tool:shell_rm }
            expect: { allowed: false, reason: explicit_deny, role: analyst }
          - name: clinician reads a record
            request: { subject: carol, action: data:read, resource: dataset:patients/p1 }
            expect: { allowed: true, role: clinician }
          - name: the bot reads a record for the clinician
            request: { subject: bot-1, kind: agent, roles: [bot], action: data:read, resource: dataset:patients/p1, on_behalf_of: { subject: carol } }
            expect: { allowed: true, role: bot }
          - name: the bot reads a public dataset
            request: { subject: bot-1, kind: agent, roles: [bot], action: data:read, resource: dataset:public/x }
            expect: { allowed: true, role: bot }
          - name: dev writes config
            request: { subject: d, roles: [dev], action: config:write, resource: config:x }
            expect: { allowed: true, role: dev }
          - name: approver approves someone else's change
            request: { subject: bob, action: config:approve, resource: config:x, owner: d }
            expect: { allowed: true, role: approver }
          - name: approver may not approve their own
            request: { subject: bob, action: config:approve, resource: config:x, owner: bob }
            expect: { allowed: false, reason: owner_conflict }
          - name: dev and approver together
            request: { subject: erin, action: config:write, resource: config:x }
            expect: { allowed: false, reason: separation_of_duties }
        """;

    private static string TestFile(string cases, string extra = "") => $"""
        policy: policy.yaml
        now: "2026-06-01T12:00:00Z"
        {extra}
        cases:
        {cases}
        """;

    [GeneratedRegex(@"^(?<file>[^\s:][^:]*):(?<line>\d+):(?<column>\d+): (?<severity>error|warning) (?<code>[a-z_]+): (?<message>.+)$")]
    private static partial Regex ProblemMatcher();

    private static List<Match> Problems(CliResult result)
        => [.. result.OutLines.Select(l => ProblemMatcher().Match(l)).Where(m => m.Success)];

    private static List<string> Failures(CliResult result)
        => [.. Problems(result).Where(m => m.Groups["code"].Value == "test_failed").Select(m => m.Groups["message"].Value)];

    [Fact]
    public void Test_EveryCasePasses_ExitsZero_AndReportsCoverage()
    {
        using var files = new TempFiles();
        files.Write("policy.yaml", Policy);
        string tests = files.Write("policy.test.yaml", TestFile(FullCases));

        var result = Cli.Run("test", tests);

        result.ExitCode.Should().Be(0, result.Out + result.Error);
        result.Out.Should().Contain("ok    ").And.Contain("11 of 11 cases passed");
        result.Out.Should().Contain($"coverage {files.PathOf("policy.yaml")}: 11 of 12 (91.6%): grants 6/7, denies 1/1, resources entries 2/2, mutually_exclusive lists 1/1, not_by_owner entries 1/1");
        result.Error.Should().Contain("11 passed, 0 failed");
    }

    [Fact]
    public void Test_ShadowedGrant_IsNotCovered_AndMinCoverageFailsTheRun()
    {
        using var files = new TempFiles();
        files.Write("policy.yaml", Policy);
        string tests = files.Write("policy.test.yaml", TestFile(FullCases));

        var result = Cli.Run("test", tests, "--min-coverage", "100");

        result.ExitCode.Should().Be(1, "every case passed, but one grant decided none of them");
        var problems = Problems(result);
        problems.Should().Contain(m => m.Groups["code"].Value == "not_covered" && m.Groups["severity"].Value == "warning"
            && m.Groups["line"].Value == "7" && m.Groups["column"].Value == "9" && m.Groups["message"].Value.Contains("grant 'tool:invoke on tool:search' of role 'analyst'"));
        problems.Should().ContainSingle(m => m.Groups["code"].Value == "not_covered");
        problems.Should().Contain(m => m.Groups["code"].Value == "coverage_below_minimum" && m.Groups["severity"].Value == "error"
            && m.Groups["message"].Value.Contains("91.6% (11 of 12) is below --min-coverage 100"));
        Cli.Run("test", tests, "--min-coverage", "91.6").ExitCode.Should().Be(0, "11 of 12 is 91.66...%, at least 91.6");
        Cli.Run("test", tests, "--min-coverage", "91.7").ExitCode.Should().Be(1);
        Cli.Run("test", tests).ExitCode.Should().Be(0, "without --min-coverage, coverage is reported, never enforced");
    }

    [Fact]
    public void Test_FailedCase_ExitsOne_WithOneAnnotationLineAtTheCase_NamingThePolicyLineThatDecided()
    {
        using var files = new TempFiles();
        files.Write("policy.yaml", Policy);
        string tests = files.Write("policy.test.yaml", TestFile("""
              - name: passes
                request: { subject: alice, action: model:query, resource: model:gpt-4o }
                expect: { allowed: true }
              - name: the analyst must not query gpt-4o
                request: { subject: alice, action: model:query, resource: model:gpt-4o }
                expect: { allowed: false, reason: no_matching_grant }
            """));

        var result = Cli.Run("test", tests);

        result.ExitCode.Should().Be(1);
        var failure = Problems(result).Should().ContainSingle(m => m.Groups["severity"].Value == "error").Subject;
        failure.Groups["file"].Value.Should().Be(tests);
        failure.Groups["code"].Value.Should().Be("test_failed");
        (failure.Groups["line"].Value, failure.Groups["column"].Value).Should().Be(("8", "5"), "the second case starts at line 8, column 5 of the test file");
        failure.Groups["message"].Value.Should().Contain("case 'the analyst must not query gpt-4o': expected denied, got allowed (allowed)")
            .And.Contain($"role 'analyst' grants 'model:query on model:gpt-4o' ({files.PathOf(AnalystQueryLine)})");
        result.Out.Should().Contain("    expected: {\"allowed\":false,\"reason\":\"no_matching_grant\"}")
            .And.Contain("    decision: {\"allowed\":true,\"reason\":\"allowed\",\"role\":\"analyst\",\"rule\":\"model:query on model:gpt-4o\"}");
        result.Out.Should().Contain("FAIL  ").And.Contain("1 of 2 cases passed");
    }

    [Fact]
    public void Test_ReasonRoleAndRule_AreCompared_RoleByNameOrId()
    {
        using var files = new TempFiles();
        files.Write("policy.yaml", Policy.Replace("  clinician:\n", "  clinician:\n    id: CLN-1\n", StringComparison.Ordinal));
        string tests = files.Write("policy.test.yaml", TestFile("""
              - name: role by id
                request: { subject: carol, action: data:read, resource: dataset:patients/p1 }
                expect: { allowed: true, role: CLN-1 }
              - name: wrong reason
                request: { subject: alice, action: tool:invoke, resource: tool:shell_rm }
                expect: { allowed: false, reason: no_matching_grant }
              - name: wrong rule, extra spaces are canonical
                request: { subject: alice, action: tool:invoke, resource: tool:shell_rm }
                expect: { allowed: false, rule: "tool:invoke   on  tool:*" }
              - name: typo in the role
                request: { subject: alice, action: tool:invoke, resource: tool:shell_rm }
                expect: { allowed: false, role: Analyst }
            """));

        var result = Cli.Run("test", tests);

        result.ExitCode.Should().Be(1);
        var messages = Failures(result);
        messages.Should().HaveCount(3);
        messages[0].Should().Contain("expected reason no_matching_grant, got explicit_deny").And.Contain(files.PathOf(AnalystShellDenyLine));
        messages[1].Should().Contain("expected rule 'tool:invoke on tool:*', got 'tool:invoke on tool:shell_*'");
        messages[2].Should().Contain("expected role 'Analyst', which the policy does not declare; did you mean 'analyst'?");
    }

    [Fact]
    public void Test_NowPerFileAndPerCase_JudgesExpiringBindings_InEitherOrder()
    {
        using var files = new TempFiles();
        files.Write("policy.yaml", Policy);
        const string before = """
              - name: before expiry
                request: { subject: kim, action: data:read, resource: dataset:patients/p1 }
                expect: { allowed: true, role: clinician }
            """;
        const string after = """
              - name: at expiry
                now: "2026-07-01T00:00:00Z"
                request: { subject: kim, action: data:read, resource: dataset:patients/p1 }
                expect: { allowed: false, reason: no_active_role }
            """;

        // The engine caches per role set; the clock is read per decision, so the order of cases changes nothing.
        Cli.Run("test", files.Write("a.test.yaml", TestFile(before + "\n" + after))).ExitCode.Should().Be(0);
        Cli.Run("test", files.Write("b.test.yaml", TestFile(after + "\n" + before + "\n" + after.Replace("at expiry", "at expiry again", StringComparison.Ordinal)))).ExitCode.Should().Be(0);
        var noNow = Cli.Run("test", files.Write("c.test.yaml", "policy: policy.yaml\ncases:\n" + before));
        noNow.ExitCode.Should().Be(DateTimeOffset.UtcNow < new DateTimeOffset(2026, 7, 1, 0, 0, 0, TimeSpan.Zero) ? 0 : 1, "without now, cases are decided at the run's start");
    }

    [Fact]
    public void Coverage_CountsWhatDecidedAPassingCase_NotWhatWasReachable()
    {
        using var files = new TempFiles();
        files.Write("policy.yaml", Policy);
        string tests = files.Write("policy.test.yaml", TestFile("""
              - name: a deny decides; the tool:* grant also matched but decided nothing
                request: { subject: alice, action: tool:invoke, resource: tool:shell_rm }
                expect: { allowed: false, reason: explicit_deny }
              - name: a failing case counts for nothing
                request: { subject: carol, action: data:read, resource: dataset:patients/p1 }
                expect: { allowed: false }
              - name: a ceiling denial pins the grant and the entry that classified the resource
                request: { subject: alice, roles: [analyst], action: model:query, resource: model:gpt-4o, sensitivity: restricted }
                expect: { allowed: false, reason: sensitivity_ceiling }
              - name: no grant judged, so no resources entry read
                request: { subject: alice, action: data:read, resource: dataset:public/x }
                expect: { allowed: false, reason: no_matching_grant }
              - name: a delegated request counts the link's deciding grant too
                request: { subject: bot-1, kind: agent, roles: [bot], action: data:read, resource: dataset:patients/p2, on_behalf_of: { subject: carol } }
                expect: { allowed: true }
            """));

        var result = Cli.Run("test", tests);

        result.ExitCode.Should().Be(1, "one case fails");
        var uncovered = Problems(result).Where(m => m.Groups["code"].Value == "not_covered").Select(m => m.Groups["message"].Value).ToList();
        uncovered.Should().Contain(m => m.Contains("grant 'tool:invoke on tool:*' of role 'analyst'"), "matched, but the deny decided");
        uncovered.Should().NotContain(m => m.Contains("deny 'tool:invoke on tool:shell_*'"));
        uncovered.Should().NotContain(m => m.Contains("grant 'model:query on model:gpt-4o'"), "a sensitivity_ceiling decision names the grant");
        uncovered.Should().NotContain(m => m.Contains("of role 'clinician'"), "the clinician's grant decided the delegated request's link");
        uncovered.Should().NotContain(m => m.Contains("of role 'bot'"));
        uncovered.Should().NotContain(m => m.Contains("resources entry 'dataset:patients/**'"));
        uncovered.Should().Contain(m => m.Contains("resources entry 'dataset:public/**'"), "a no_matching_grant decision reads no classification");
        uncovered.Should().Contain(m => m.Contains("mutually_exclusive list [dev, approver]"));
        uncovered.Should().Contain(m => m.Contains("not_by_owner entry 'config:approve'"));
        uncovered.Should().NotContain(m => m.Contains("min_holders"), "min_holders is lint's: no request exercises it");
        result.Out.Should().Contain("grants 3/7, denies 1/1, resources entries 1/2, mutually_exclusive lists 0/1, not_by_owner entries 0/1");
    }

    [Fact]
    public void Coverage_IsTheUnionOfEveryTestFileOfAPolicy()
    {
        using var files = new TempFiles();
        files.Write("policy.yaml", Policy);
        var cases = ("\n" + FullCases).Split("\n  - name: ", StringSplitOptions.RemoveEmptyEntries);
        cases.Should().HaveCount(11);
        files.Write("one.test.yaml", TestFile(string.Concat(cases.Take(5).Select(c => "  - name: " + c + "\n"))));
        files.Write("two.test.yaml", TestFile(string.Concat(cases.Skip(5).Select(c => "  - name: " + c + "\n"))));

        var result = Cli.Run("test", files.PathOf("*.test.yaml"));

        result.ExitCode.Should().Be(0, result.Out);
        result.Out.Should().Contain("11 of 12").And.Contain("ok    " + files.PathOf("one.test.yaml")).And.Contain("ok    " + files.PathOf("two.test.yaml"));
        Regex.Matches(result.Out, "^coverage ", RegexOptions.Multiline).Should().HaveCount(1, "one policy, one coverage line");
    }

    [Fact]
    public void Test_BadTestFile_ExitsTwo_ListsEveryProblemWithItsPlace_AndStillRunsTheOtherFiles()
    {
        using var files = new TempFiles();
        files.Write("policy.yaml", Policy);
        string good = files.Write("good.test.yaml", TestFile(FullCases));
        string bad = files.Write("bad.test.yaml", """
            policy: policy.yaml
            nwo: "2026-06-01T12:00:00Z"
            cases:
              - name: typo in a request field
                request: { subject: alice, action: data:read, resource: dataset:x, sensitivty: public }
                expect: { allowed: false }
              - name: typo in a request field
                request: { subject: alice, action: data:read, resource: dataset:x }
                expect: { allowed: maybe, reason: allowed }
              - name: nothing expected
                request: { subject: alice, action: data:read, resource: dataset:x }
              - name: contradiction
                request: { subject: alice, action: data:read, resource: dataset:x, subject: bob }
                expect: { allowed: false, reason: allowed, rule: "not a rule" }
              - name: null subject
                request: { subject: , action: data:read, resource: dataset:x }
                expect: { allowed: false, reason: no_such_reason }
            """);

        var result = Cli.Run("test", bad, good);

        result.ExitCode.Should().Be(2);
        var problems = Problems(result).Where(m => m.Groups["file"].Value == bad)
            .Select(m => (Line: int.Parse(m.Groups["line"].Value), Code: m.Groups["code"].Value, Message: m.Groups["message"].Value)).ToList();
        problems.Should().Contain((2, "unknown_key", "unknown key 'nwo' in a test file (expected policy, now, cases)"));
        problems.Should().Contain(p => p.Line == 5 && p.Code == "bad_request" && p.Message.Contains("unknown field 'sensitivty' in request"));
        problems.Should().Contain(p => p.Line == 7 && p.Code == "duplicate_key" && p.Message.Contains("(line 4)"));
        problems.Should().Contain(p => p.Line == 9 && p.Code == "invalid_value" && p.Message.Contains("'allowed' must be true or false"));
        problems.Should().Contain(p => p.Line == 10 && p.Code == "missing_key" && p.Message.Contains("case 'nothing expected' has no 'expect'"));
        problems.Should().Contain(p => p.Line == 13 && p.Code == "duplicate_key" && p.Message.Contains("'subject' is given twice"));
        problems.Should().Contain(p => p.Line == 14 && p.Code == "invalid_value" && p.Message.Contains("reason 'allowed' contradicts allowed: false"));
        problems.Should().Contain(p => p.Line == 14 && p.Code == "malformed_rule");
        problems.Should().Contain(p => p.Line == 16 && p.Code == "empty_value" && p.Message.Contains("write '' for the empty string"));
        problems.Should().Contain(p => p.Line == 17 && p.Code == "invalid_value" && p.Message.Contains("'no_such_reason' is not a decision reason"));
        result.Out.Should().Contain("ERROR " + bad + ": not run");
        result.Out.Should().Contain("ok    " + good + ": 11 of 11 cases passed", "one bad file does not hide the others' results");
        result.Error.Should().Contain("1 test file not run");
    }

    [Fact]
    public void Test_PolicyWithErrors_OrMissing_ExitsTwo()
    {
        using var files = new TempFiles();
        files.Write("policy.yaml", Policies.Broken);
        string tests = files.Write("t.test.yaml", "policy: policy.yaml\ncases:\n  - name: x\n    request: { subject: a, action: a:b, resource: c:d }\n    expect: { allowed: false }\n");
        var broken = Cli.Run("test", tests);
        broken.ExitCode.Should().Be(2);
        broken.Out.Should().Contain("error malformed_rule").And.Contain("has errors and was not loaded; no case ran");

        string missing = files.Write("m.test.yaml", "policy: nowhere.yaml\ncases:\n  - name: x\n    request: { subject: a, action: a:b, resource: c:d }\n    expect: { allowed: false }\n");
        var none = Cli.Run("test", missing);
        none.ExitCode.Should().Be(2);
        Problems(none).Should().ContainSingle().Which.Groups["code"].Value.Should().Be("policy_not_found");
    }

    [Theory]
    [InlineData("no-such-file.test.yaml")]
    [InlineData("*.nothing.yaml")]
    [InlineData("no-such-folder/*.test.yaml")]
    public void Test_TestFilesThatDoNotExist_AreAUsageError(string pattern)
    {
        using var files = new TempFiles();
        var result = Cli.Run("test", files.PathOf(pattern));
        result.ExitCode.Should().Be(2, "a CI job must not pass because its tests went missing");
        result.Error.Should().Contain("error: ");
    }

    [Fact]
    public void Test_Globs_FindNestedFiles_InOrder_EachOnce()
    {
        using var files = new TempFiles();
        files.Write("policy.yaml", Policy);
        Directory.CreateDirectory(files.PathOf("b/deep"));
        Directory.CreateDirectory(files.PathOf("a"));
        string body = "policy: ../policy.yaml\ncases:\n  - name: x\n    request: { subject: alice, action: model:query, resource: model:gpt-4o }\n    expect: { allowed: true }\n";
        files.Write("a/one.test.yaml", body);
        files.Write("b/deep/two.test.yaml", body.Replace("../policy.yaml", "../../policy.yaml", StringComparison.Ordinal));
        files.Write("b/deep/not-a-test.yaml", "not: a test");

        var result = Cli.Run("test", files.PathOf("**/*.test.yaml"), files.PathOf("a/one.test.yaml"));

        result.ExitCode.Should().Be(0, result.Out);
        result.OutLines.Where(l => l.StartsWith("ok", StringComparison.Ordinal)).Should().Equal(
            $"ok    {files.PathOf("a/one.test.yaml")}: 1 of 1 cases passed ({files.PathOf("a/../policy.yaml")})",
            $"ok    {files.PathOf("b/deep/two.test.yaml")}: 1 of 1 cases passed ({files.PathOf("b/deep/../../policy.yaml")})");
        Regex.Matches(result.Out, "^coverage ", RegexOptions.Multiline).Should().HaveCount(1, "both name the same policy file");
    }

    [Theory]
    [InlineData("101")]
    [InlineData("-1")]
    [InlineData("ninety")]
    [InlineData("1e2")]
    public void Test_BadMinCoverage_IsAUsageError(string value)
    {
        using var files = new TempFiles();
        files.Write("policy.yaml", Policy);
        var result = Cli.Run("test", files.Write("p.test.yaml", TestFile(FullCases)), "--min-coverage", value);
        result.ExitCode.Should().Be(2);
        result.Error.Should().Contain("--min-coverage");
        Cli.Run("test").ExitCode.Should().Be(2, "at least one test file is required");
    }

    // --- JUnit ---------------------------------------------------------------------------------------------------------

    private static XDocument ValidJUnit(string path)
    {
        var schemas = new XmlSchemaSet();
        schemas.Add(null, Path.Combine(AppContext.BaseDirectory, "TestData", "junit", "junit.xsd"));
        var errors = new List<string>();
        var settings = new XmlReaderSettings { ValidationType = ValidationType.Schema, Schemas = schemas, DtdProcessing = DtdProcessing.Prohibit };
        settings.ValidationEventHandler += (_, e) => errors.Add($"{e.Severity}: {e.Message} (line {e.Exception?.LineNumber})");
        using (var reader = XmlReader.Create(path, settings))
        {
            while (reader.Read())
            {
            }
        }

        errors.Should().BeEmpty("the report must be valid against the JUnit schema");
        var document = XDocument.Load(path);
        var root = document.Root!;
        root.Name.LocalName.Should().Be("testsuites");
        int.Parse(root.Attribute("tests")!.Value).Should().Be(root.Descendants("testcase").Count());
        int.Parse(root.Attribute("failures")!.Value).Should().Be(root.Descendants("failure").Count());
        int.Parse(root.Attribute("errors")!.Value).Should().Be(root.Descendants("error").Count());
        foreach (var suite in root.Elements("testsuite"))
        {
            int.Parse(suite.Attribute("tests")!.Value).Should().Be(suite.Elements("testcase").Count());
            int.Parse(suite.Attribute("failures")!.Value).Should().Be(suite.Descendants("failure").Count());
        }

        return document;
    }

    [Fact]
    public void JUnit_IsValidAgainstTheSchema_WithPassesFailuresErrorsAndCoverage()
    {
        using var files = new TempFiles();
        files.Write("policy.yaml", Policy);
        string good = files.Write("good.test.yaml", TestFile(FullCases + "\n" + """
              - name: fails
                request: { subject: alice, action: model:query, resource: model:gpt-4o }
                expect: { allowed: false }
            """));
        string bad = files.Write("bad.test.yaml", "policy: policy.yaml\ncases: []\n");
        string report = files.PathOf("report.xml");

        var result = Cli.Run("test", good, bad, "--min-coverage", "100", "--junit", report);

        result.ExitCode.Should().Be(2, "a test file could not be read");
        var document = ValidJUnit(report);
        var suites = document.Root!.Elements("testsuite").ToList();
        suites.Select(s => s.Attribute("name")!.Value).Should().Equal(good, bad, "airbac coverage");
        suites[0].Elements("testcase").Should().HaveCount(12);
        var failure = suites[0].Descendants("failure").Should().ContainSingle().Subject;
        failure.Attribute("type")!.Value.Should().Be("test_failed");
        failure.Attribute("message")!.Value.Should().Contain("case 'fails': expected denied, got allowed");
        failure.Value.Should().Contain("request: {\"subject\":\"alice\"").And.Contain("decision: {\"allowed\":true");
        suites[0].Element("properties")!.Element("property")!.Attribute("value")!.Value.Should().Be(files.PathOf("policy.yaml"));
        suites[1].Descendants("error").Should().ContainSingle().Which.Attribute("type")!.Value.Should().Be("empty_value");
        suites[2].Descendants("failure").Should().ContainSingle().Which.Attribute("type")!.Value.Should().Be("coverage_below_minimum");
    }

    [Fact]
    public void JUnit_HostileNames_StillGiveValidXml()
    {
        using var files = new TempFiles();
        // A role name with XML-special characters (the policy allows them), resources and a case name with XML-special,
        // control and bidirectional characters, and a test file whose own name holds them.
        files.Write("policy.yaml", """
            version: 1
            roles:
              "<r&'\"oot>":
                allow: [ "tool:invoke on tool:*" ]
            """);
        string hostileName = "t<&>'\"]]>.test.yaml";
        string tests = files.Write(hostileName, """
            policy: policy.yaml
            cases:
              - name: "</testcase><testcase name=\"forged\"/> \u0001\u001b[8m\u202e\uFFFE ]]> &amp; \U0001F600"
                request: { subject: "a<b>", roles: ["<r&'\"oot>"], action: tool:invoke, resource: "tool:<script>&amp;]]>" }
                expect: { allowed: false }
              - name: "passes <&>"
                request: { subject: x, roles: ["<r&'\"oot>"], action: tool:invoke, resource: "tool:\"'" }
                expect: { allowed: true, role: "<r&'\"oot>" }
            """);
        string report = files.PathOf("report.xml");

        var result = Cli.Run("test", tests, "--junit", report);

        result.ExitCode.Should().Be(1, result.Out);
        var document = ValidJUnit(report);
        var cases = document.Descendants("testcase").ToList();
        cases.Should().HaveCount(2, "a name cannot forge a test case");
        string name = cases[0].Attribute("name")!.Value;
        name.Should().Be("</testcase><testcase name=\"forged\"/> \\u0001\\u001B[8m\\u202E\\uFFFE ]]> &amp; \U0001F600", "markup stays text; characters XML cannot hold are escaped; a valid pair is kept");
        cases[0].Attribute("classname")!.Value.Should().Be(tests);
        cases[0].Element("failure")!.Value.Should().Contain("tool:<script>&amp;]]>").And.Contain("role '<r&'\"oot>' grants");
        result.Out.Should().NotContain("\u001b").And.NotContain("\u202e", "the terminal output escapes them too");
    }

    [Fact]
    public void CaseNamesAndExpectations_CannotForgeAnnotationLines()
    {
        using var files = new TempFiles();
        files.Write("policy.yaml", Policy);
        string tests = files.Write("f.test.yaml", TestFile("""
              - name: "x\nevil.yaml:1:1: error forged: pwned\r\n::error file=evil.yaml::forged"
                request: { subject: alice, action: model:query, resource: "model:gpt-4o" }
                expect: { allowed: false, role: "analyst\nevil.yaml:2:2: error forged: role", rule: "a:b on c:d\u2028" }
            """));

        var result = Cli.Run("test", tests);

        result.ExitCode.Should().Be(1);
        result.OutLines.Should().NotContain(l => l.StartsWith("evil.yaml", StringComparison.Ordinal) || l.StartsWith("::", StringComparison.Ordinal),
            "a name, a role or a rule from the test file never starts a line that an editor or CI would read as a finding");
        Failures(result).Should().ContainSingle().Which.Should().Contain("x\\u000Aevil.yaml:1:1: error forged: pwned\\u000D\\u000A::error");
    }

    [Fact]
    public void JUnitText_EscapesWhatXmlCannotHold_AndKeepsPairs()
    {
        JUnitReport.Safe("a\ud800b\udc00c\U0001F600\u0000\t\n").Should().Be("a\\uD800b\\uDC00c\U0001F600\\u0000\\u0009\\u000A");
        JUnitReport.Safe("x\ty\nz\u2066", multiline: true).Should().Be("x\ty\nz\\u2066");
        JUnitReport.Safe("plain <&> text").Should().BeSameAs("plain <&> text");

        // A lone surrogate cannot come from a YAML test file (the parser refuses it); it is refused there, not repaired.
        using var files = new TempFiles();
        files.Write("policy.yaml", Policy);
        var result = Cli.Run("test", files.Write("s.test.yaml", "policy: policy.yaml\ncases:\n  - name: \"\\ud800\"\n    request: { action: a:b, resource: c:d }\n    expect: { allowed: false }\n"));
        result.ExitCode.Should().Be(2);
        result.Out.Should().Contain("error yaml_syntax");
    }

    // --- Hostile test files --------------------------------------------------------------------------------------------

    [Fact]
    public void HostileTestFiles_AreRefusedWithinTheLimits()
    {
        using var files = new TempFiles();
        files.Write("policy.yaml", Policy);
        const string head = "policy: policy.yaml\n";
        const string oneCase = "{ name: c, request: { subject: alice, action: a:b, resource: c:d }, expect: { allowed: false } }";

        // Aliases: more cases than the bound, from a few lines of YAML.
        var aliased = new System.Text.StringBuilder(head).Append("cases: [ &c ").Append(oneCase);
        for (int i = 0; i < 10_000; i++)
        {
            aliased.Append(", *c");
        }

        var many = Cli.Run("test", files.Write("many.test.yaml", aliased.Append(" ]\n").ToString()));
        many.ExitCode.Should().Be(2);
        Problems(many).Should().ContainSingle().Which.Groups["message"].Value.Should().Contain("the test file has 10001 cases; at most 10000 are read");

        // An alias bomb: the YAML limits of a policy apply.
        var bomb = new System.Text.StringBuilder(head).Append("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for (int i = 1; i < 9; i++)
        {
            bomb.Append($"a{i}: &a{i} [").Append(string.Join(", ", Enumerable.Repeat($"*a{i - 1}", 10))).Append("]\n");
        }

        var exploded = Cli.Run("test", files.Write("bomb.test.yaml", bomb.ToString()));
        exploded.ExitCode.Should().Be(2);
        Problems(exploded).Should().ContainSingle().Which.Groups["code"].Value.Should().Be("limit_exceeded");

        // Deep nesting inside a request.
        string deep = head + "cases:\n  - name: deep\n    request: { subject: a, action: a:b, resource: c:d, on_behalf_of: " + string.Concat(Enumerable.Repeat("{ subject: a, on_behalf_of: ", 80)) + "{ subject: z }" + new string('}', 81) + "\n    expect: { allowed: false }\n";
        var nested = Cli.Run("test", files.Write("deep.test.yaml", deep));
        nested.ExitCode.Should().Be(2);
        Problems(nested).Should().ContainSingle().Which.Groups["message"].Value.Should().Contain("nesting deeper than the limit of 64");

        // A file over the size limit is refused before it is read.
        string big = files.PathOf("big.test.yaml");
        using (var stream = File.Create(big))
        {
            stream.SetLength((16 << 20) + 1);
        }

        var large = Cli.Run("test", big);
        large.ExitCode.Should().Be(2);
        large.Out.Should().Contain("the test file is larger than the limit of 16777216 bytes");

        // Errors are bounded: a file of 2,000 bad cases lists 1,000 and says the rest are not reported.
        var bad = new System.Text.StringBuilder(head).Append("cases:\n");
        for (int i = 0; i < 2000; i++)
        {
            bad.Append($"  - {{ name: c{i}, request: {{ action: a:b, resource: c:d, color: red }}, expect: {{ allowed: false }} }}\n");
        }

        var bounded = Cli.Run("test", files.Write("bad.test.yaml", bad.ToString()));
        bounded.ExitCode.Should().Be(2);
        Problems(bounded).Should().HaveCount(1001);
        bounded.Out.Should().Contain("more than 1000 errors; the rest are not reported");
    }

    [Fact]
    public void HostileRequests_AreRefusedAsRequestLinesAre()
    {
        using var files = new TempFiles();
        files.Write("policy.yaml", Policy);
        string tests = files.Write("h.test.yaml", """
            policy: policy.yaml
            cases:
              - name: control character
                request: { subject: "alice\u001b[2J", action: model:query, resource: model:gpt-4o }
                expect: { allowed: false }
              - name: bidirectional override
                request: { subject: "alice\u202e", action: model:query, resource: model:gpt-4o }
                expect: { allowed: false }
              - name: unknown kind
                request: { subject: alice, kind: robot, action: model:query, resource: model:gpt-4o }
                expect: { allowed: false }
              - name: roles not a list
                request: { subject: alice, roles: analyst, action: model:query, resource: model:gpt-4o }
                expect: { allowed: false }
            """);

        var result = Cli.Run("test", tests);

        result.ExitCode.Should().Be(2);
        var messages = Problems(result).Select(m => (Code: m.Groups["code"].Value, Message: m.Groups["message"].Value)).ToList();
        messages.Should().HaveCount(4).And.OnlyContain(m => m.Code == "bad_request");
        messages[0].Message.Should().Contain("control or bidirectional formatting character");
        messages[1].Message.Should().Contain("U+202E");
        messages[2].Message.Should().Contain("unknown kind 'robot'");
        messages[3].Message.Should().Contain("'roles' must be an array");
        result.Out.Should().NotContain("\u001b");
    }

    [Fact]
    public void CorpusLines_PasteIntoACase_AsTheyAre()
    {
        using var files = new TempFiles();
        files.Write("policy.yaml", Policy);
        string tests = files.Write("j.test.yaml", """
            policy: policy.yaml
            now: "2026-06-01T12:00:00Z"
            cases:
              - name: a request line, verbatim
                request: {"subject":"bot-1","kind":"agent","roles":[{"role":"bot","scope":"acme"}],"action":"data:read","resource":"dataset:patients/p1","scope":"acme/ward","tags":["phi"],"on_behalf_of":{"subject":"carol"}}
                expect: {"allowed":true,"reason":"allowed","role":"bot","rule":"data:read on dataset:**"}
            """);

        Cli.Run("test", tests).ExitCode.Should().Be(0);
    }
}
