using AiRbac.Diagnostics;

namespace AiRbac.Yaml.Tests;

/// <summary>Approval rules as written (docs/policy-language.md, section 13): the example and its table, and every error where it was written.</summary>
public sealed class ApprovalPolicyTests
{
    // docs/policy-language.md, section 13.
    private const string Policy = """
        version: 2
        roles:
          ml-engineer:
            allow: [ "model:deploy on model:*" ]
          release-manager:
            allow: [ "model:query on model:*" ]
          sre:
            inherits: [release-manager]
        approvals:
          prod-deploy:
            match: [ "model:deploy on model:prod-*" ]    # ACTION_PATTERN on RESOURCE_PATTERN, as grants are written
            approvers: [release-manager]                 # roles (name or id) whose holders may approve
            count: 2                                     # distinct approvers needed; default 1, at most 10
            valid_for: 4h                                # how long an approval counts after it was given; required
        bindings:
          subjects:
            erin:  { roles: [ml-engineer] }
            rita:  { roles: [release-manager] }
            sam:   { roles: [sre] }
            rick:  { roles: [release-manager], expires: "2026-05-01T00:00:00Z" }
        """;

    private static RequestContext Approvals(params (string Who, int Hour, int Minute)[] approvals)
        => new() { Approvals = [.. approvals.Select(a => new Approval(a.Who, "prod-deploy", new DateTimeOffset(2026, 6, 1, a.Hour, a.Minute, 0, TimeSpan.Zero)))] };

    [Fact]
    public void Authorize_TheDocumentedTable()
    {
        var compilation = YamlPolicy.Compile(Policy, "test.yaml", new PolicyCompilerOptions { TimeProvider = new Clock(new DateTimeOffset(2026, 6, 1, 12, 0, 0, TimeSpan.Zero)) });
        compilation.Errors.Should().BeEmpty();
        var policy = compilation.Policy!;
        var erin = new Subject("erin");

        string Row(RequestContext? context, string model = "model:prod-eu")
        {
            var d = policy.Authorize(erin, "model:deploy", model, context);
            return $"{d.ReasonName} {d.Role} {d.ApprovalRule}";
        }

        Row(null).Should().Be("approval_required ml-engineer prod-deploy");
        Row(Approvals(("rita", 11, 0))).Should().Be("approval_required ml-engineer prod-deploy");
        Row(Approvals(("rita", 11, 0), ("sam", 11, 30))).Should().Be("allowed ml-engineer prod-deploy");
        Row(Approvals(("rita", 11, 0), ("rita", 11, 30))).Should().Be("approval_required ml-engineer prod-deploy");
        Row(Approvals(("rita", 7, 59), ("sam", 11, 30))).Should().Be("approval_required ml-engineer prod-deploy");
        Row(Approvals(("rita", 11, 0), ("sam", 12, 5))).Should().Be("approval_required ml-engineer prod-deploy");
        Row(Approvals(("rita", 11, 0), ("rick", 11, 0))).Should().Be("approval_required ml-engineer prod-deploy");
        Row(Approvals(("rita", 11, 0), ("erin", 11, 0))).Should().Be("approval_required ml-engineer prod-deploy");
        Row(Approvals(("rita", 11, 0), ("mallory", 11, 0))).Should().Be("approval_required ml-engineer prod-deploy");
        var other = new RequestContext { Approvals = [.. Approvals(("rita", 11, 0), ("sam", 11, 30)).Approvals.Select(a => a with { Rule = "other" })] };
        Row(other).Should().Be("approval_required ml-engineer prod-deploy");
        Row(null, "model:dev-eu").Should().Be("allowed ml-engineer ");
    }

    [Fact]
    public void Compile_ApprovalErrors_ReportedWhereWritten()
    {
        const string Bad = """
            version: 2
            roles:
              a:
                allow: [ "x:y on z:w" ]
            approvals:
              no-match:
                approvers: [a]
                valid_for: 1h
              bad:
                match: [ "x:y onto z:w" ]
                approvers: [b]
                count: 0
                valid_for: 1 hour
              no-validity:
                match: [ "x:y on z:w" ]
                approvers: [a]
                expires: 1h
            """;

        var result = YamlPolicy.Compile(Bad, "test.yaml");

        result.Errors.Select(e => (e.Code, e.Location.Line)).Should().Equal(
            (DiagnosticCodes.EmptyValue, 6),
            (DiagnosticCodes.MalformedRule, 10),
            (DiagnosticCodes.UndeclaredRole, 11),
            (DiagnosticCodes.InvalidValue, 12),
            (DiagnosticCodes.InvalidValue, 13),
            (DiagnosticCodes.MissingKey, 14),
            (DiagnosticCodes.UnknownKey, 17));
    }

    [Fact]
    public void Compile_ApprovalsInVersion1_IsUnknownKey()
    {
        var result = YamlPolicy.Compile(Policy.Replace("version: 2", "version: 1", StringComparison.Ordinal), "test.yaml");

        result.Errors.Should().ContainSingle().Which.Message.Should().Contain("'approvals' is part of policy language version 2");
    }

    private sealed class Clock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
