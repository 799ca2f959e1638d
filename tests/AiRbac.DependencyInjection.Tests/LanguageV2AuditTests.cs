using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AiRbac.DependencyInjection.Tests;

/// <summary>
/// Every break-glass decision (docs/policy-language.md, section 12) is flagged in the audit record, counted by the
/// metric, logged as a warning and handed to <see cref="AiRbacOptions.OnBreakGlass"/>; other decisions are not. A
/// decision under an approval rule (section 13) names the rule and the approvers that counted.
/// </summary>
public sealed class LanguageV2AuditTests
{
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
            break_glass: { max_activation: 4h }
            allow: [ "data:read on dataset:patients/**" ]
            max_sensitivity: restricted
            clearances: [phi]
        """;

    private static readonly DateTimeOffset Now = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly Subject Nina = Subject.WithRoles("nina", SubjectKind.User, "nurse", "emergency-access");
    private static readonly RequestContext Activated = new()
    {
        Activations = [new BreakGlassActivation("nina", "emergency-access", "cardiac arrest, bed 4", Now.AddHours(-2))],
    };

    [Fact]
    public void BreakGlassDecision_IsInTheAuditLog_TheMetric_TheLogAndTheHandler()
    {
        using var temp = new TempDirectory();
        var logs = new CapturingLoggerProvider();
        var uses = new List<BreakGlassUse>();
        var clock = new ManualTimeProvider(Now);
        using var provider = new ServiceCollection()
            .AddSingleton<TimeProvider>(clock)
            .AddLogging(b => b.AddProvider(logs))
            .AddAiRbac(o =>
            {
                o.Source = AiRbacPolicySource.FromYaml(Policy, "p.yaml");
                o.CompilerOptions = new PolicyCompilerOptions { TimeProvider = clock };
                o.AuditLog.Path = temp.File("audit.jsonl");
                o.OnBreakGlass = uses.Add;
            })
            .BuildServiceProvider();
        var authorizer = provider.GetRequiredService<PolicyAuthorizer>();
        var runtime = provider.GetRequiredService<AiRbacRuntime>();
        using var recorder = new InstrumentRecorder(runtime.Instruments!.Meter);

        authorizer.Authorize(Nina, "data:read", "dataset:patients/icu/p-9", Activated).BreakGlass.Should().BeTrue();
        authorizer.Authorize(Nina, "data:read", "dataset:patients/icu/p-9", Activated).BreakGlass.Should().BeTrue();
        authorizer.Authorize(Nina, "data:read", "dataset:patients/ward-3/p-1", Activated).BreakGlass.Should().BeFalse();
        authorizer.Authorize(Nina, "data:read", "dataset:patients/icu/p-9").Reason.Should().Be(DecisionReason.BreakGlassNotActive);
        runtime.AuditSink!.Flush();

        // The audit log: the two uses each in a record of their own (never coalesced), with the activation.
        var records = Policies.ReadRecords(temp.File("audit.jsonl"));
        records.Should().HaveCount(4);
        foreach (var record in records.Take(2))
        {
            record.GetProperty("break_glass_role").GetString().Should().Be("emergency-access");
            record.GetProperty("justification").GetString().Should().Be("cardiac arrest, bed 4");
            record.GetProperty("activated_by").GetString().Should().Be("nina");
            record.GetProperty("activated_at").GetString().Should().Be("2026-06-01T10:00:00Z");
            record.TryGetProperty("count", out _).Should().BeFalse();
        }

        records[2].TryGetProperty("break_glass_role", out _).Should().BeFalse();
        records[3].GetProperty("reason").GetString().Should().Be("break_glass_not_active");
        records[3].TryGetProperty("break_glass_role", out _).Should().BeFalse();

        // The metric, the warning event and the handler: once per use.
        recorder.Get(AiRbacMetrics.BreakGlassDecisions + "|allowed|allowed").Should().Be(2);
        recorder.Get(AiRbacMetrics.Decisions + "|denied|break_glass_not_active").Should().Be(1);
        var warnings = logs.WithId(30).ToList();
        warnings.Should().HaveCount(2);
        warnings[0].Level.Should().Be(LogLevel.Warning);
        warnings[0].EventId.Name.Should().Be("BreakGlassDecision");
        warnings[0].Properties["Justification"].Should().Be("cardiac arrest, bed 4");
        warnings[0].Properties["BreakGlassRole"].Should().Be("emergency-access");
        uses.Should().HaveCount(2);
        var use = uses[0];
        (use.SubjectId, use.Action, use.Resource, use.Allowed, use.Reason, use.Role, use.BreakGlassRole, use.ActivatedBy, use.Justification, use.ActivatedAt, use.Time)
            .Should().Be(("nina", "data:read", "dataset:patients/icu/p-9", true, "allowed", "emergency-access", "emergency-access", "nina", "cardiac arrest, bed 4", Now.AddHours(-2), Now));
        use.PolicyVersion.Should().Be(authorizer.Version.ContentHash);
    }

    [Fact]
    public void ApprovalDecisions_NameTheRuleAndTheApproversThatCounted()
    {
        const string Approvals = """
            version: 2
            roles:
              ml-engineer:
                allow: [ "model:deploy on model:*" ]
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
                erin: { roles: [ml-engineer] }
                rita: { roles: [release-manager] }
                sam: { roles: [release-manager] }
            """;
        using var temp = new TempDirectory();
        var clock = new ManualTimeProvider(Now);
        using var provider = new ServiceCollection()
            .AddSingleton<TimeProvider>(clock)
            .AddAiRbac(o =>
            {
                o.Source = AiRbacPolicySource.FromYaml(Approvals, "p.yaml");
                o.CompilerOptions = new PolicyCompilerOptions { TimeProvider = clock };
                o.AuditLog.Path = temp.File("audit.jsonl");
            })
            .BuildServiceProvider();
        var authorizer = provider.GetRequiredService<PolicyAuthorizer>();
        var context = new RequestContext
        {
            Approvals = [new Approval("erin", "prod-deploy", Now), new Approval("rita", "prod-deploy", Now), new Approval("sam", "prod-deploy", Now.AddHours(1))],
        };
        var erin = new Subject("erin");

        authorizer.Authorize(erin, "model:deploy", "model:prod-eu", context).Reason.Should().Be(DecisionReason.ApprovalRequired);
        authorizer.Authorize(erin, "model:deploy", "model:prod-eu", context).Reason.Should().Be(DecisionReason.ApprovalRequired);
        var approved = new RequestContext { Approvals = [new Approval("sam", "prod-deploy", Now), new Approval("rita", "prod-deploy", Now)] };
        authorizer.Authorize(erin, "model:deploy", "model:prod-eu", approved).Allowed.Should().BeTrue();
        provider.GetRequiredService<AiRbacRuntime>().AuditSink!.Flush();

        var records = Policies.ReadRecords(temp.File("audit.jsonl"));
        records.Should().HaveCount(3, "a decision under an approval rule is never coalesced");
        records[0].GetProperty("reason").GetString().Should().Be("approval_required");
        records[0].GetProperty("approval_rule").GetString().Should().Be("prod-deploy");
        records[0].GetProperty("approved_by").EnumerateArray().Select(e => e.GetString()).Should().Equal("rita");
        records[2].GetProperty("approved_by").EnumerateArray().Select(e => e.GetString()).Should().Equal("sam", "rita");
    }

    [Fact]
    public void HandlerThatThrows_IsLogged_AndTheDecisionStands()
    {
        var logs = new CapturingLoggerProvider();
        using var provider = new ServiceCollection()
            .AddSingleton<TimeProvider>(new ManualTimeProvider(Now))
            .AddLogging(b => b.AddProvider(logs))
            .AddAiRbac(o =>
            {
                o.Source = AiRbacPolicySource.FromYaml(Policy, "p.yaml");
                o.CompilerOptions = new PolicyCompilerOptions { TimeProvider = new ManualTimeProvider(Now) };
                o.OnBreakGlass = _ => throw new InvalidOperationException("pager down");
            })
            .BuildServiceProvider();
        var authorizer = provider.GetRequiredService<PolicyAuthorizer>();

        authorizer.Authorize(Nina, "data:read", "dataset:patients/icu/p-9", Activated).Allowed.Should().BeTrue();

        var failed = logs.WithId(31).Should().ContainSingle().Subject;
        failed.Level.Should().Be(LogLevel.Error);
        failed.Exception!.Message.Should().Be("pager down");
    }

    [Fact]
    public void DecisionsThatAreNotBreakGlass_AllocateNothingInTheObservers()
    {
        using var temp = new TempDirectory();
        using var provider = new ServiceCollection()
            .AddSingleton<TimeProvider>(new ManualTimeProvider(Now))
            .AddAiRbac(o =>
            {
                o.Source = AiRbacPolicySource.FromYaml(Policy, "p.yaml");
                o.AuditLog.Path = temp.File("audit.jsonl");
                o.AuditLog.CoalesceWindow = TimeSpan.Zero;
                o.OnBreakGlass = _ => { };
            })
            .BuildServiceProvider();
        var authorizer = provider.GetRequiredService<PolicyAuthorizer>();
        const string Ward = "dataset:patients/ward-3/p-1";
        for (int i = 0; i < 100; i++)
        {
            authorizer.Authorize(Nina, "data:read", Ward, Activated);
        }

        long allocated = long.MaxValue;
        for (int attempt = 0; attempt < 3 && allocated != 0; attempt++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 1000; i++)
            {
                authorizer.Authorize(Nina, "data:read", Ward, Activated);
            }

            allocated = Math.Min(allocated, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        allocated.Should().Be(0);
    }
}
