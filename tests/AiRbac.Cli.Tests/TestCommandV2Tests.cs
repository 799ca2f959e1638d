using AiRbac.Core.Tests;

namespace AiRbac.Cli.Tests;

/// <summary>
/// <c>airbac test</c> on version 2 policies (docs/policy-testing.md, "Version 2: contexts, break-glass and approvals"): request contexts, break-glass
/// activations and approvals in cases, the expected condition, approval rule and break-glass role, and coverage of
/// conditions, break-glass roles and approval rules as gates seen both open and closed.
/// </summary>
public class TestCommandV2Tests
{
    private const string Policy = """
        version: 2
        context:
          mfa: bool
          risk_score: integer
          network: string
        roles:
          analyst:
            allow: [ "tool:invoke on tool:sql_query" ]
            conditions:
              mfa: true
              risk_score: { max: 50 }
          reporting:
            allow: [ "tool:invoke on tool:report_*" ]
          night-shift:
            inherits: [reporting]
            conditions:
              time_of_day: "22:00-06:00"
          emergency:
            break_glass: { max_activation: 1h }
            allow: [ "data:read on dataset:**" ]
          deployer:
            allow: [ "model:deploy on model:*" ]
          approver:
            allow: [ "model:query on model:*" ]
        approvals:
          prod:
            match: [ "model:deploy on model:prod-*" ]
            approvers: [approver]
            valid_for: 1h
        bindings:
          subjects:
            alice: { roles: [analyst] }
            olga:  { roles: [night-shift] }
            rex:   { roles: [night-shift, reporting] }
            nina:  { roles: [emergency] }
            erin:  { roles: [deployer] }
            rita:  { roles: [approver] }
        """;

    private static string Tests(string cases) => "policy: policy.yaml\nnow: \"2026-06-01T12:00:00Z\"\ncases:\n" + cases;

    private const string AliceAllowed = """
          - name: alice with MFA
            request: { subject: alice, action: tool:invoke, resource: tool:sql_query, context: { mfa: true, risk_score: 7 } }
            expect: { allowed: true, role: analyst, condition: '' }

        """;

    private static CliResult Run(TempFiles files, string cases, params string[] options)
    {
        files.Write("policy.yaml", Policy);
        return Cli.Run(["test", files.Write("policy.test.yaml", Tests(cases)), .. options]);
    }

    [Fact]
    public void V2Example_ShippedBesideTheDemo_PassesAtFullCoverage()
    {
        string tests = Path.Combine(RepositoryRoot.Path, "src", "AiRbac.Cli", "Demo", "v2-policy.test.yaml");

        var result = Cli.Run("test", tests, "--min-coverage", "100");

        result.ExitCode.Should().Be(0, result.Out + result.Error);
        result.Out.Should().Contain("26 of 26 cases passed")
            .And.Contain(": 16 of 16 (100.0%): grants 6/6, denies 2/2, resources entries 1/1, conditions 5/5, break-glass activations 1/1, approval rules 1/1");
    }

    [Fact]
    public void Context_PlainTrueAndWholeNumbers_AreTyped_QuotedIsAString()
    {
        using var files = new TempFiles();
        var result = Run(files, AliceAllowed + """
              - name: MFA as a quoted string is a string, refused by the engine
                request: { subject: alice, action: tool:invoke, resource: tool:sql_query, context: { mfa: "true", risk_score: 7 } }
                expect: { allowed: false, reason: invalid_request }
              - name: a risk score as a quoted string too
                request: { subject: alice, action: tool:invoke, resource: tool:sql_query, context: { mfa: true, risk_score: '7' } }
                expect: { allowed: false, reason: invalid_request }
              - name: an undeclared key of any type is ignored
                request: { subject: alice, action: tool:invoke, resource: tool:sql_query, context: { mfa: true, risk_score: -3, tool.arg: x } }
                expect: { allowed: true }
            """);

        result.ExitCode.Should().Be(0, result.Out);
        result.Out.Should().Contain("4 of 4 cases passed");
    }

    [Theory]
    [InlineData("mfa: True", "")]
    [InlineData("mfa: yes", "")]
    [InlineData("mfa: ~", "")]
    [InlineData("risk_score: 1.5", "")]
    [InlineData("risk_score: 0x10", "")]
    [InlineData("risk_score: 99999999999999999999", "64-bit")]
    [InlineData("risk_score: !!str 5", "tag")]
    public void Context_AmbiguousYamlScalar_IsAnErrorAtItsLine(string pair, string mention)
    {
        using var files = new TempFiles();
        var result = Run(files, $$"""
              - name: ambiguous
                request: { subject: alice, action: tool:invoke, resource: tool:sql_query, context: { {{pair}} } }
                expect: { allowed: true }
            """);

        result.ExitCode.Should().Be(2, "the case does not say which type it means");
        result.Out.Should().MatchRegex(@"policy\.test\.yaml:5:\d+: error invalid_value: context value");
        if (mention.Length > 1)
        {
            result.Out.Should().Contain(mention);
        }
    }

    [Fact]
    public void Expect_ConditionApprovalRuleAndBreakGlassRole_AreCompared()
    {
        using var files = new TempFiles();
        var result = Run(files, """
              - name: wrong condition
                request: { subject: alice, action: tool:invoke, resource: tool:sql_query, context: { mfa: false } }
                expect: { allowed: false, reason: condition_failed, condition: 'risk_score: {max: 50}' }
              - name: not break-glass expected, but it is
                request: { subject: nina, action: data:read, resource: dataset:x,
                           break_glass: [ { role: emergency, justification: outage, start: "2026-06-01T11:30:00Z" } ] }
                expect: { allowed: true, break_glass_role: '' }
              - name: wrong approval rule
                request: { subject: erin, action: model:deploy, resource: model:prod-1 }
                expect: { allowed: false, reason: approval_required, approval_rule: staging }
              - name: right on every field
                request: { subject: erin, action: model:deploy, resource: model:prod-1,
                           approvals: [ { approver: rita, rule: prod, at: "2026-06-01T11:30:00Z" } ] }
                expect: { allowed: true, reason: allowed, role: deployer, approval_rule: prod, break_glass_role: '', condition: '' }
            """);

        result.ExitCode.Should().Be(1);
        result.Out.Should().Contain("case 'wrong condition': expected condition 'risk_score: {max: 50}', got 'mfa: true'")
            .And.Contain("case 'not break-glass expected, but it is': expected no break-glass decision, got break-glass role 'emergency'")
            .And.Contain("case 'wrong approval rule': expected approval rule 'staging', which the policy does not declare, got 'prod'")
            .And.Contain("expected: {\"allowed\":false,\"reason\":\"approval_required\",\"approval_rule\":\"staging\"}")
            .And.Contain("1 of 4 cases passed");
    }

    [Fact]
    public void Expect_ConditionWithAnotherReason_IsAnErrorOfTheTestFile()
    {
        using var files = new TempFiles();
        var result = Run(files, """
              - name: contradiction
                request: { subject: alice, action: tool:invoke, resource: tool:sql_query }
                expect: { allowed: false, reason: explicit_deny, condition: 'mfa: true' }
            """);

        result.ExitCode.Should().Be(2);
        result.Out.Should().MatchRegex(@"policy\.test\.yaml:6:\d+: error invalid_value: case 'contradiction': 'condition' is named only by condition_failed");
    }

    [Fact]
    public void Coverage_ConditionThatOnlyHeld_IsNotCovered_UntilACaseFailsIt()
    {
        // Deleting a condition that only ever held changes no decision: a gate is covered when cases saw it open and closed.
        using var files = new TempFiles();
        var held = Run(files, AliceAllowed, "--min-coverage", "100");

        held.ExitCode.Should().Be(1);
        held.Out.Should().Contain("warning not_covered: condition 'mfa: true' of role 'analyst' decided no passing case by failing (condition_failed)")
            .And.Contain("warning not_covered: condition 'time_of_day: 22:00-06:00' of role 'night-shift' decided no passing case, neither by holding");

        var both = Run(files, AliceAllowed + """
              - name: alice without MFA
                request: { subject: alice, action: tool:invoke, resource: tool:sql_query, context: { mfa: false, risk_score: 7 } }
                expect: { allowed: false, reason: condition_failed, condition: 'mfa: true' }
            """);
        both.Out.Should().NotContain("condition 'mfa: true' of role 'analyst'")
            .And.Contain("condition 'risk_score: {max: 50}' of role 'analyst' decided no passing case by failing");
    }

    [Fact]
    public void Coverage_ConditionFailedCase_DoesNotCoverTheGrantItNames()
    {
        using var files = new TempFiles();
        var result = Run(files, """
              - name: alice without MFA
                request: { subject: alice, action: tool:invoke, resource: tool:sql_query }
                expect: { allowed: false, reason: condition_failed, rule: tool:invoke on tool:sql_query }
            """);

        result.Out.Should().Contain("warning not_covered: grant 'tool:invoke on tool:sql_query' of role 'analyst' decided no passing case")
            .And.Contain("condition 'mfa: true' of role 'analyst' decided no passing case by holding");
    }

    [Fact]
    public void Coverage_RoleAlsoReachedWithoutTheCondition_DoesNotCountItAsHeld()
    {
        // rex holds reporting directly and through night-shift: at night the window held, but it decided nothing.
        using var files = new TempFiles();
        var result = Run(files, """
              - name: rex at night
                now: "2026-06-01T23:00:00Z"
                request: { subject: rex, action: tool:invoke, resource: tool:report_x }
                expect: { allowed: true, role: reporting }
              - name: olga in the day
                request: { subject: olga, action: tool:invoke, resource: tool:report_x }
                expect: { allowed: false, reason: condition_failed, condition: 'time_of_day: 22:00-06:00' }
            """);

        result.Out.Should().Contain("condition 'time_of_day: 22:00-06:00' of role 'night-shift' decided no passing case by holding");

        var olga = Run(files, """
              - name: olga at night
                now: "2026-06-01T23:00:00Z"
                request: { subject: olga, action: tool:invoke, resource: tool:report_x }
                expect: { allowed: true, role: reporting }
              - name: olga in the day
                request: { subject: olga, action: tool:invoke, resource: tool:report_x }
                expect: { allowed: false, reason: condition_failed }
            """);
        olga.Out.Should().NotContain("condition 'time_of_day");
    }

    [Fact]
    public void Coverage_BreakGlassAndApprovalRules_NeedBothSides()
    {
        using var files = new TempFiles();
        var open = Run(files, """
              - name: activated
                request: { subject: nina, action: data:read, resource: dataset:x,
                           break_glass: [ { role: emergency, justification: outage, start: "2026-06-01T11:30:00Z" } ] }
                expect: { allowed: true, break_glass_role: emergency }
              - name: approved
                request: { subject: erin, action: model:deploy, resource: model:prod-1,
                           approvals: [ { approver: rita, rule: prod, at: "2026-06-01T11:30:00Z" } ] }
                expect: { allowed: true, approval_rule: prod }
            """);
        open.Out.Should().Contain("break-glass activation of role 'emergency' decided no passing case without one (break_glass_not_active)")
            .And.Contain("approval rule 'prod' decided no passing case unsatisfied (approval_required)");

        var closed = Run(files, """
              - name: activation an hour old has ended
                request: { subject: nina, action: data:read, resource: dataset:x,
                           break_glass: [ { role: emergency, justification: outage, start: "2026-06-01T11:00:00Z" } ] }
                expect: { allowed: false, reason: break_glass_not_active }
              - name: approval an hour old has expired
                request: { subject: erin, action: model:deploy, resource: model:prod-1,
                           approvals: [ { approver: rita, rule: prod, at: "2026-06-01T11:00:00Z" } ] }
                expect: { allowed: false, reason: approval_required }
            """);
        closed.Out.Should().Contain("break-glass activation of role 'emergency' decided no passing case by an activation")
            .And.Contain("approval rule 'prod' decided no passing case satisfied (allowed)");
    }
}
