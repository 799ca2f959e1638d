using AiRbac.Diagnostics;

namespace AiRbac.Yaml.Tests;

/// <summary>
/// Break-glass roles as written (docs/policy-language.md, section 12): the example and its table of decisions, and every
/// error with its line and column.
/// </summary>
public sealed class BreakGlassPolicyTests
{
    // docs/policy-language.md, section 12.
    private const string Policy = """
        version: 2
        resources:
          - { match: "dataset:patients/**", sensitivity: restricted, tags: [phi] }
        roles:
          nurse:
            allow: [ "data:read on dataset:patients/ward-3/**" ]
            max_sensitivity: restricted
            clearances: [phi]
          emergency-access:
            break_glass: { max_activation: 4h }   # required: how long an activation lasts
            allow: [ "data:read on dataset:patients/**" ]
            deny: [ "data:write on dataset:patients/**" ]
            max_sensitivity: restricted
            clearances: [phi]
        bindings:
          subjects:
            nina: { roles: [nurse, emergency-access] }
        """;

    private static readonly DateTimeOffset Noon = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);

    private static RequestContext Activation(string who = "nina", string justification = "cardiac arrest, bed 4", int hour = 10, int minute = 0)
        => new() { Activations = [new BreakGlassActivation(who, "emergency-access", justification, new DateTimeOffset(2026, 6, 1, hour, minute, 0, TimeSpan.Zero))] };

    [Fact]
    public void Authorize_TheDocumentedTable()
    {
        var compilation = YamlPolicy.Compile(Policy, "test.yaml", new PolicyCompilerOptions { TimeProvider = new Clock(Noon) });
        compilation.Errors.Should().BeEmpty();
        var policy = compilation.Policy!;
        var nina = new Subject("nina");
        const string Icu = "dataset:patients/icu/p-9";

        string Row(string action, string resource, RequestContext? context)
        {
            var d = policy.Authorize(nina, action, resource, context);
            return $"{d.ReasonName} {d.Role} {(d.BreakGlass ? "yes" : "no")}";
        }

        Row("data:read", "dataset:patients/ward-3/p-1", null).Should().Be("allowed nurse no");
        Row("data:read", Icu, null).Should().Be("break_glass_not_active emergency-access no");
        Row("data:read", Icu, Activation()).Should().Be("allowed emergency-access yes");
        Row("data:read", Icu, Activation(hour: 7, minute: 59)).Should().Be("break_glass_not_active emergency-access no");
        Row("data:read", Icu, Activation(hour: 12, minute: 5)).Should().Be("break_glass_not_active emergency-access no");
        Row("data:read", Icu, Activation(justification: "")).Should().Be("break_glass_not_active emergency-access no");
        Row("data:read", Icu, Activation(who: "omar")).Should().Be("break_glass_not_active emergency-access no");
        Row("data:read", "dataset:patients/ward-3/p-1", Activation()).Should().Be("allowed nurse no");
        Row("data:write", Icu, Activation()).Should().Be("explicit_deny emergency-access no");
    }

    [Fact]
    public void Compile_BreakGlassErrors_ReportedWhereWritten()
    {
        const string Bad = """
            version: 2
            roles:
              a:
                allow: [ "x:y on z:w" ]
                break_glass: {}
              b:
                allow: [ "x:y on z:w" ]
                break_glass: { max_activation: 8d }
              c:
                allow: [ "x:y on z:w" ]
                break_glass: { max_activation: "1 hour" }
              d:
                allow: [ "x:y on z:w" ]
                break_glass: { max_activation: 1h, justification: required }
            """;

        var result = YamlPolicy.Compile(Bad, "test.yaml");

        result.Errors.Select(e => (e.Code, e.Location.Line, e.Location.Column)).Should().Equal(
            (DiagnosticCodes.MissingKey, 5, 18),
            (DiagnosticCodes.InvalidValue, 8, 36),
            (DiagnosticCodes.InvalidValue, 11, 36),
            (DiagnosticCodes.UnknownKey, 14, 40));
    }

    [Fact]
    public void Compile_BreakGlassInVersion1_IsUnknownKey()
    {
        var result = YamlPolicy.Compile(Policy.Replace("version: 2", "version: 1", StringComparison.Ordinal), "test.yaml");

        result.Errors.Should().ContainSingle().Which.Message.Should().Contain("'break_glass' is part of policy language version 2");
    }

    private sealed class Clock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
