using AiRbac.Yaml;
using BenchmarkDotNet.Attributes;

namespace AiRbac.Benchmarks.Scenarios;

/// <summary>
/// Policy language version 2 on the request path (docs/policy-language.md, sections 11 to 13): the same grant decided
/// in a version 1 policy, in a version 2 policy for a subject without gated roles, through a role with conditions and
/// a context, through an activated break-glass role, and with two approvals to check. Subjects are reused and their
/// contexts built once, as a service reusing them would; each set is checked for its reason before it is timed, and
/// the CI gate (category Authorize) checks that none allocates. Figures are per decision.
/// </summary>
[MemoryDiagnoser]
[BenchmarkCategory("Authorize", "LanguageV2")]
public class LanguageV2Benchmarks
{
    private const string Version1 = """
        version: 1
        roles:
          analyst:
            allow: [ "tool:invoke on tool:sql_query", "model:deploy on model:*" ]
          release-manager:
            allow: [ "model:query on model:*" ]
        """;

    private const string Version2 = """
        version: 2
        context:
          mfa: bool
          sql.table: string
        roles:
          analyst:
            allow: [ "tool:invoke on tool:sql_query", "model:deploy on model:*" ]
          secure-analyst:
            allow: [ "tool:invoke on tool:sql_query" ]
            conditions:
              mfa: true
              sql.table: "sales_*"
          emergency:
            break_glass: { max_activation: 4h }
            allow: [ "tool:invoke on tool:sql_query" ]
          release-manager:
            allow: [ "model:query on model:*" ]
        approvals:
          prod-deploy:
            match: [ "model:deploy on model:prod-*" ]
            approvers: [release-manager]
            count: 2
            valid_for: 4h
        bindings:
          subjects:
            rita: { roles: [release-manager] }
            sam: { roles: [release-manager] }
        """;

    private static readonly DateTimeOffset Now = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);

    private CompiledPolicy v1 = null!;
    private CompiledPolicy v2 = null!;
    private Subject analyst = null!;
    private Subject secure = null!;
    private Subject medic = null!;
    private RequestContext context = null!;
    private RequestContext activation = null!;
    private RequestContext approvals = null!;

    /// <summary>Compiles both policies and checks every set's reason.</summary>
    [GlobalSetup]
    public void Setup()
    {
        var options = new PolicyCompilerOptions { TimeProvider = new FixedClock(Now) };
        v1 = YamlPolicy.Compile(Version1, "v1.yaml", options).Policy ?? throw new InvalidOperationException("v1 policy");
        v2 = YamlPolicy.Compile(Version2, "v2.yaml", options).Policy ?? throw new InvalidOperationException("v2 policy");
        analyst = Subject.WithRoles("alice", SubjectKind.User, "analyst");
        secure = Subject.WithRoles("sara", SubjectKind.User, "secure-analyst");
        medic = Subject.WithRoles("nina", SubjectKind.User, "emergency");
        context = new RequestContext { Attributes = [new ContextAttribute("mfa", true), new ContextAttribute("sql.table", "sales_2026")] };
        activation = new RequestContext { Activations = [new BreakGlassActivation("nina", "emergency", "outage INC-7", Now.AddMinutes(-30))] };
        approvals = new RequestContext { Approvals = [new Approval("rita", "prod-deploy", Now.AddMinutes(-20)), new Approval("sam", "prod-deploy", Now.AddMinutes(-10))] };
        Expect(Version1Grant(), DecisionReason.Allowed, "version 1");
        Expect(Version2Ungated(), DecisionReason.Allowed, "version 2, no gated role");
        Expect(ConditionsHold(), DecisionReason.Allowed, "conditions");
        Expect(BreakGlassActivated(), DecisionReason.Allowed, "break-glass");
        Expect(Approved(), DecisionReason.Allowed, "approvals");
        if (!v2.Authorize(medic, "tool:invoke", "tool:sql_query", activation).BreakGlass)
        {
            throw new InvalidOperationException("the break-glass set must be flagged");
        }
    }

    /// <summary>A version 1 policy, plain grant: the baseline.</summary>
    /// <returns>1 when allowed.</returns>
    [Benchmark(Baseline = true)]
    public int Version1Grant() => v1.Authorize(analyst, "tool:invoke", "tool:sql_query").Allowed ? 1 : 0;

    /// <summary>A version 2 policy (gated roles and approval rules exist) for a subject whose roles are not gated.</summary>
    /// <returns>1 when allowed.</returns>
    [Benchmark]
    public int Version2Ungated() => v2.Authorize(analyst, "tool:invoke", "tool:sql_query").Allowed ? 1 : 0;

    /// <summary>A role with two conditions (a bool and a string pattern), both holding for the request's context.</summary>
    /// <returns>1 when allowed.</returns>
    [Benchmark]
    public int ConditionsHold() => v2.Authorize(secure, "tool:invoke", "tool:sql_query", context).Allowed ? 1 : 0;

    /// <summary>A break-glass role with a valid activation (the decision is flagged).</summary>
    /// <returns>1 when allowed.</returns>
    [Benchmark]
    public int BreakGlassActivated() => v2.Authorize(medic, "tool:invoke", "tool:sql_query", activation).Allowed ? 1 : 0;

    /// <summary>A request an approval rule matches, carrying two valid approvals (each approver resolved from the bindings).</summary>
    /// <returns>1 when allowed.</returns>
    [Benchmark]
    public int Approved() => v2.Authorize(analyst, "model:deploy", "model:prod-eu", approvals).Allowed ? 1 : 0;

    private static void Expect(int allowed, DecisionReason reason, string what)
    {
        if ((allowed == 1) != (reason == DecisionReason.Allowed))
        {
            throw new InvalidOperationException($"{what}: expected {reason}");
        }
    }

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
