using AiRbac.Diagnostics;

namespace AiRbac.Yaml.Tests;

/// <summary>
/// Context conditions as a policy author writes them (docs/policy-language.md, section 11): the version gate, the
/// <c>context</c> section, each condition form, and every error with its line and column.
/// </summary>
public sealed class ConditionPolicyTests
{
    private const string Policy = """
        version: 2
        context:
          mfa: bool
          network: string
          sql.table: string
          risk_score: integer
        roles:
          analyst:
            allow: [ "tool:invoke on tool:sql_query" ]
            deny: [ "tool:invoke on tool:sql_drop" ]
            conditions:
              mfa: true
              network: [corp, vpn]
              sql.table: "sales_*"
              risk_score: { max: 50 }
            max_sensitivity: internal
          office-hours:
            allow: [ "model:query on model:*" ]
            conditions:
              time_of_day: "08:00-18:00"
          viewer:
            allow: [ "model:query on model:gpt-4o" ]
        """;

    private static readonly DateTimeOffset Noon = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);

    private static CompiledPolicy Compile(string yaml, DateTimeOffset? now = null)
    {
        var result = YamlPolicy.Compile(yaml, "test.yaml", new PolicyCompilerOptions { TimeProvider = new Clock(now ?? Noon) });
        result.Errors.Should().BeEmpty();
        return result.Policy!;
    }

    private static RequestContext Context(params ContextAttribute[] pairs) => new() { Attributes = pairs };

    private static readonly RequestContext Good = Context(
        new ContextAttribute("mfa", true), new ContextAttribute("network", "corp"), new ContextAttribute("sql.table", "sales_2026"), new ContextAttribute("risk_score", 10));

    [Fact]
    public void Authorize_EveryConditionHolds_TheRoleGrants()
    {
        var policy = Compile(Policy);
        var alice = Subject.WithRoles("alice", SubjectKind.User, "analyst");

        var decision = policy.Authorize(alice, "tool:invoke", "tool:sql_query", Good);

        decision.Reason.Should().Be(DecisionReason.Allowed);
        decision.Role.Should().Be("analyst");
    }

    [Theory]
    [InlineData("mfa", "mfa: true")]
    [InlineData("network", "network: [corp, vpn]")]
    [InlineData("sql.table", "sql.table: sales_*")]
    [InlineData("risk_score", "risk_score: {max: 50}")]
    public void Authorize_OneConditionFails_ConditionFailedNamesIt(string failing, string text)
    {
        var policy = Compile(Policy);
        var alice = Subject.WithRoles("alice", SubjectKind.User, "analyst");
        ContextAttribute[] pairs = [.. Good.Attributes.Select(a => a.Key != failing ? a : a.Type switch
        {
            ContextValueType.Boolean => new ContextAttribute(a.Key, false),
            ContextValueType.Integer => new ContextAttribute(a.Key, 51),
            _ => new ContextAttribute(a.Key, "hr_salaries"),
        })];

        var decision = policy.Authorize(alice, "tool:invoke", "tool:sql_query", Context(pairs));

        decision.Reason.Should().Be(DecisionReason.ConditionFailed);
        decision.Allowed.Should().BeFalse();
        decision.Role.Should().Be("analyst");
        decision.Rule.Should().Be("tool:invoke on tool:sql_query");
        decision.Condition.Should().Be(text);
        decision.Explain().Should().Contain($"its condition '{text}' (test.yaml:");
    }

    [Fact]
    public void Authorize_NoContext_ConditionsFail_AndTheFirstFailingOneIsNamed()
    {
        var policy = Compile(Policy);
        var alice = Subject.WithRoles("alice", SubjectKind.User, "analyst");

        policy.Authorize(alice, "tool:invoke", "tool:sql_query").Condition.Should().Be("mfa: true");
        policy.Authorize(alice, "tool:invoke", "tool:sql_query", RequestContext.Empty).Reason.Should().Be(DecisionReason.ConditionFailed);
    }

    [Fact]
    public void Authorize_ConditionFails_TheRolesDenyStillApplies()
    {
        // The attacker's view: turning MFA off must not switch off a deny. dev grants every tool; analyst's deny of
        // sql_drop holds with or without analyst's conditions.
        var policy = Compile(Policy.Replace("  viewer:", "  dev:\n    allow: [ \"tool:invoke on tool:*\" ]\n  viewer:", StringComparison.Ordinal));
        var mallory = Subject.WithRoles("mallory", SubjectKind.User, "analyst", "dev");

        policy.Authorize(mallory, "tool:invoke", "tool:sql_drop", Good).Reason.Should().Be(DecisionReason.ExplicitDeny);
        policy.Authorize(mallory, "tool:invoke", "tool:sql_drop").Reason.Should().Be(DecisionReason.ExplicitDeny);
        policy.Authorize(mallory, "tool:invoke", "tool:sql_drop", Context(new ContextAttribute("mfa", false))).Reason.Should().Be(DecisionReason.ExplicitDeny);
    }

    [Theory]
    [InlineData(7, 59, false)]
    [InlineData(8, 0, true)]
    [InlineData(17, 59, true)]
    [InlineData(18, 0, false)]
    public void Authorize_TimeOfDay_WindowIsUtcStartInclusiveEndExclusive(int hour, int minute, bool allowed)
    {
        var policy = Compile(Policy, new DateTimeOffset(2026, 6, 1, hour, minute, 0, TimeSpan.Zero));
        var tom = Subject.WithRoles("tom", SubjectKind.User, "office-hours");

        var decision = policy.Authorize(tom, "model:query", "model:internal");

        decision.Allowed.Should().Be(allowed);
        if (!allowed)
        {
            decision.Reason.Should().Be(DecisionReason.ConditionFailed);
            decision.Condition.Should().Be("time_of_day: 08:00-18:00");
        }
    }

    [Fact]
    public void Authorize_TimeOfDayAcrossMidnight_Wraps()
    {
        string yaml = Policy.Replace("\"08:00-18:00\"", "\"22:00-06:00\"", StringComparison.Ordinal);
        var tom = Subject.WithRoles("tom", SubjectKind.User, "office-hours");

        Compile(yaml, new DateTimeOffset(2026, 6, 1, 23, 0, 0, TimeSpan.Zero)).Authorize(tom, "model:query", "model:x").Allowed.Should().BeTrue();
        Compile(yaml, new DateTimeOffset(2026, 6, 1, 5, 59, 0, TimeSpan.Zero)).Authorize(tom, "model:query", "model:x").Allowed.Should().BeTrue();
        Compile(yaml, new DateTimeOffset(2026, 6, 1, 6, 0, 0, TimeSpan.Zero)).Authorize(tom, "model:query", "model:x").Allowed.Should().BeFalse();
        Compile(yaml, new DateTimeOffset(2026, 6, 1, 12, 0, 0, TimeSpan.Zero)).Authorize(tom, "model:query", "model:x").Allowed.Should().BeFalse();
    }

    [Fact]
    public void Authorize_DeclaredKeyWithWrongType_IsInvalidRequest()
    {
        // An attacker (or a careless caller) passing "true" as a string must not satisfy, or confuse, a bool condition.
        var policy = Compile(Policy);
        var alice = Subject.WithRoles("alice", SubjectKind.User, "analyst");
        ContextAttribute[] pairs = [.. Good.Attributes.Where(a => a.Key != "mfa"), new ContextAttribute("mfa", "true")];

        policy.Authorize(alice, "tool:invoke", "tool:sql_query", Context(pairs)).Reason.Should().Be(DecisionReason.InvalidRequest);
        policy.Authorize(alice, "model:query", "model:gpt-4o", Context(new ContextAttribute("risk_score", "10"))).Reason
            .Should().Be(DecisionReason.InvalidRequest, "a wrong type is invalid whatever role the request reaches");
    }

    [Fact]
    public void Authorize_DeclaredKeyTwice_IsInvalidRequest()
    {
        var policy = Compile(Policy);
        var alice = Subject.WithRoles("alice", SubjectKind.User, "analyst");
        ContextAttribute[] pairs = [.. Good.Attributes, new ContextAttribute("mfa", false)];

        policy.Authorize(alice, "tool:invoke", "tool:sql_query", Context(pairs)).Reason.Should().Be(DecisionReason.InvalidRequest);
    }

    [Fact]
    public void Authorize_UndeclaredKeys_AreIgnored()
    {
        var policy = Compile(Policy);
        var alice = Subject.WithRoles("alice", SubjectKind.User, "analyst");
        ContextAttribute[] pairs = [.. Good.Attributes, new ContextAttribute("tool.args.limit", 5), new ContextAttribute("tool.args.limit", "5")];

        policy.Authorize(alice, "tool:invoke", "tool:sql_query", Context(pairs)).Allowed.Should().BeTrue();
    }

    [Fact]
    public void Compile_Version1WithConditions_IsUnknownKeyAtTheSection()
    {
        var result = YamlPolicy.Compile(Policy.Replace("version: 2", "version: 1", StringComparison.Ordinal), "test.yaml");

        result.Succeeded.Should().BeFalse();
        result.Errors.Select(e => (e.Code, e.Location.Line, e.Location.Column)).Should().Equal(
            (DiagnosticCodes.UnknownKey, 3, 3),
            (DiagnosticCodes.UnknownKey, 12, 7),
            (DiagnosticCodes.UnknownKey, 20, 7));
        result.Errors.First().Message.Should().Contain("version 2");
    }

    [Fact]
    public void Compile_Version3_IsUnsupported()
    {
        var result = YamlPolicy.Compile("version: 3\nroles:\n  a:\n    allow: [\"x:y on z:w\"]\n", "test.yaml");

        result.Errors.Should().ContainSingle().Which.Code.Should().Be(DiagnosticCodes.UnsupportedVersion);
    }

    [Fact]
    public void Compile_BadConditions_EachReportedWhereWritten()
    {
        const string Bad = """
            version: 2
            context:
              mfa: bool
              risk: integer
              bad key: string
              time_of_day: string
              level: float
            roles:
              a:
                allow: [ "x:y on z:w" ]
                conditions:
                  mfa: "yes"
                  risk: { min: 5, max: 1 }
                  unknown: x
                  time_of_day: "9-17"
                  level: 3
            """;

        var result = YamlPolicy.Compile(Bad, "test.yaml");

        result.Errors.Select(e => (e.Code, e.Location.Line)).Should().Equal(
            (DiagnosticCodes.InvalidCondition, 5),
            (DiagnosticCodes.InvalidCondition, 6),
            (DiagnosticCodes.InvalidCondition, 7),
            (DiagnosticCodes.InvalidCondition, 12),
            (DiagnosticCodes.InvalidCondition, 13),
            (DiagnosticCodes.UndeclaredContextKey, 14),
            (DiagnosticCodes.InvalidCondition, 15),
            (DiagnosticCodes.UndeclaredContextKey, 16));
    }

    [Fact]
    public void Compile_ControlCharacterInAConditionOrContextKey_IsInvalidValue()
    {
        // Choice 24 covers every text of the new sections: a condition's text is echoed by decisions and lint.
        const string Yaml = "version: 2\ncontext:\n  \"net\\e[8m\": string\n  network: string\nroles:\n  r:\n    allow: [ \"x:y on z:w\" ]\n    conditions:\n      network: \"corp\\u202E\"\n";

        var result = YamlPolicy.Compile(Yaml, "test.yaml");

        result.Errors.Where(e => e.Code == DiagnosticCodes.InvalidValue).Select(e => e.Location.Line).Should().Equal(3, 9);
        result.Diagnostics.Should().AllSatisfy(d => d.ToString().Should().NotContainAny("\u001b", "\u202E"));
    }

    [Fact]
    public void Authorize_TheDocumentedExamples_DecideAsSection11Says()
    {
        // docs/policy-language.md, section 11: the table of alice's requests.
        var policy = Compile(Policy);
        var alice = Subject.WithRoles("alice", SubjectKind.User, "analyst");
        RequestContext With(string key, ContextAttribute value) => Context([.. Good.Attributes.Where(a => a.Key != key), value]);

        policy.Authorize(alice, "tool:invoke", "tool:sql_query", Good).ToString().Should().Be("allowed allowed analyst tool:invoke on tool:sql_query");
        policy.Authorize(alice, "tool:invoke", "tool:sql_query", With("sql.table", new ContextAttribute("sql.table", "sales/x"))).Condition.Should().Be("sql.table: sales_*");
        policy.Authorize(alice, "tool:invoke", "tool:sql_query", With("network", new ContextAttribute("network", "home"))).Condition.Should().Be("network: [corp, vpn]");
        policy.Authorize(alice, "tool:invoke", "tool:sql_query", With("risk_score", new ContextAttribute("risk_score", 50))).Allowed.Should().BeTrue();
        policy.Authorize(alice, "tool:invoke", "tool:sql_drop", Good).Reason.Should().Be(DecisionReason.ExplicitDeny);
        policy.Authorize(alice, "tool:invoke", "tool:search", Good).Reason.Should().Be(DecisionReason.NoMatchingGrant);
        policy.Authorize(alice, "tool:invoke", "tool:search").Reason.Should().Be(DecisionReason.NoMatchingGrant);
    }

    private sealed class Clock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
