using AiRbac.Model;

namespace AiRbac.Core.Tests;

/// <summary>
/// Red team of policy language version 2 (docs/policy-language.md, sections 11 to 13), from the requester's side: a
/// caller trying to escalate through the context, the activations or the approvals it sends, and clocks at the exact
/// edges of windows. Each test is the attacker's; the operator's counterpart (the same request done right) sits beside it.
/// </summary>
public sealed class LanguageV2RedTeamTests
{
    private static readonly DateTimeOffset Now = TestPolicy.Now; // 2026-06-01T12:00:00Z

    private static ConditionDefinition When(TestPolicy p, string key, params string[] values)
        => new() { Key = p.L(key), Values = p.Ls(values), IsList = values.Length > 1 };

    private static TestPolicy Document()
    {
        var p = new TestPolicy()
            .Context("mfa", "bool").Context("risk", "integer").Context("net", "string")
            .Role("analyst", allow: ["tool:invoke on tool:sql_query"])
            .Role("night", allow: ["tool:invoke on tool:report_*"])
            .Role("midnight", allow: ["tool:invoke on tool:batch_*"])
            .Role("emergency", allow: ["data:read on dataset:**"])
            .Role("deployer", allow: ["model:deploy on model:*"])
            .Role("approver", allow: ["model:query on model:*"])
            .BreakGlass("emergency", "1h")
            .Approval("prod", ["model:deploy on model:prod-*"], ["approver"], validFor: "1h")
            .Group("release-managers", "approver")
            .BoundSubject("rita", roles: ["approver"])
            .BoundSubject("gwen", groups: ["release-managers"])
            .BoundSubject("erin", roles: ["deployer"]);
        p.Gate("analyst", When(p, "mfa", "true"), When(p, "net", "corp"));
        p.Gate("night", When(p, "time_of_day", "22:00-06:00"));
        p.Gate("midnight", When(p, "time_of_day", "23:00-00:00"));
        return p;
    }

    private static CompiledPolicy Policy(FixedClock? clock = null) => Document().Build(clock);

    private static readonly Subject Alice = Subject.WithRoles("alice", SubjectKind.User, "analyst");

    private static RequestContext Pairs(params ContextAttribute[] pairs) => new() { Attributes = pairs };

    [Fact]
    public void Attacker_UndeclaredKeyOrAnotherCase_SatisfiesNothing()
    {
        var policy = Policy();

        // "MFA" and "mfa " are other keys: ignored, so the condition on mfa fails (never a default, never case-folded).
        foreach (var key in new[] { "MFA", "mfa ", "Mfa", "mfa\u200b" })
        {
            policy.Authorize(Alice, "tool:invoke", new ResourceRequest("tool:sql_query"), Pairs(new(key, true), new("net", "corp")))
                .Reason.Should().Be(DecisionReason.ConditionFailed, key);
        }

        // The operator's: the declared key, and any undeclared tool-call argument besides, allows.
        policy.Authorize(Alice, "tool:invoke", new ResourceRequest("tool:sql_query"), Pairs(new("mfa", true), new("net", "corp"), new("sql", "drop table")))
            .Reason.Should().Be(DecisionReason.Allowed);
    }

    [Fact]
    public void Attacker_TypeConfusion_IsInvalidRequest_NeverCoerced()
    {
        var policy = Policy();
        var sql = new ResourceRequest("tool:sql_query");

        policy.Authorize(Alice, "tool:invoke", sql, Pairs(new("mfa", "true"), new("net", "corp"))).Reason.Should().Be(DecisionReason.InvalidRequest);
        policy.Authorize(Alice, "tool:invoke", sql, Pairs(new("mfa", 1L), new("net", "corp"))).Reason.Should().Be(DecisionReason.InvalidRequest);
        policy.Authorize(Alice, "tool:invoke", sql, Pairs(new("mfa", true), new("net", 1L))).Reason.Should().Be(DecisionReason.InvalidRequest);
        policy.Authorize(Alice, "tool:invoke", sql, Pairs(new("mfa", true), new("net", "corp"), new("risk", "7"))).Reason
            .Should().Be(DecisionReason.InvalidRequest, "a declared key with another type is refused even when no condition reads it");
    }

    [Fact]
    public void Attacker_DuplicateDeclaredKey_IsInvalidRequest_WhicheverValueComesFirst()
    {
        var policy = Policy();
        var sql = new ResourceRequest("tool:sql_query");

        policy.Authorize(Alice, "tool:invoke", sql, Pairs(new("mfa", false), new("mfa", true), new("net", "corp"))).Reason.Should().Be(DecisionReason.InvalidRequest);
        policy.Authorize(Alice, "tool:invoke", sql, Pairs(new("mfa", true), new("net", "corp"), new("mfa", false))).Reason.Should().Be(DecisionReason.InvalidRequest);
        policy.Authorize(Alice, "tool:invoke", sql, Pairs(new("mfa", true), new("mfa", true), new("net", "corp"))).Reason
            .Should().Be(DecisionReason.InvalidRequest, "even the same value twice: a reader taking the other one must not differ");

        // Undeclared keys may repeat (tool-call arguments are passed whole); they are ignored.
        policy.Authorize(Alice, "tool:invoke", sql, Pairs(new("mfa", true), new("net", "corp"), new("arg", "a"), new("arg", 2L))).Reason.Should().Be(DecisionReason.Allowed);
    }

    private static Approval Approved(string who, int minutesAgo = 10, string rule = "prod") => new(who, rule, Now.AddMinutes(-minutesAgo));

    [Fact]
    public void Attacker_ApprovalNamingAGroup_DoesNotCount_ItsMemberDoes()
    {
        var policy = Policy();
        var erin = new Subject("erin");

        policy.Authorize(erin, "model:deploy", new ResourceRequest("model:prod-1"), new RequestContext { Approvals = [Approved("release-managers")] })
            .Reason.Should().Be(DecisionReason.ApprovalRequired, "a group is not a subject: it cannot approve");
        policy.Authorize(erin, "model:deploy", new ResourceRequest("model:prod-1"), new RequestContext { Approvals = [Approved("gwen")] })
            .Reason.Should().Be(DecisionReason.Allowed, "gwen holds approver through the group's binding in the policy");
    }

    [Fact]
    public void Attacker_ApproverIdInAnotherCase_DoesNotCount()
    {
        var policy = Policy();

        policy.Authorize(new Subject("erin"), "model:deploy", new ResourceRequest("model:prod-1"), new RequestContext { Approvals = [Approved("Rita"), Approved("RITA")] })
            .Reason.Should().Be(DecisionReason.ApprovalRequired, "ids are ordinal: 'Rita' is not in the bindings");
    }

    [Fact]
    public void Attacker_ApproverAssertedWithRolesByTheCaller_DoesNotCount()
    {
        // The requester's roles may come from the caller (claims); an approver's never do. An agent holding approver by
        // its own (caller-given) binding, approving the user it acts for, counts for nothing twice over.
        var policy = Policy();
        var bot = Subject.WithRoles("bot", SubjectKind.Agent, "deployer", "approver").ActingFor(new Subject("erin"));

        policy.Authorize(bot, "model:deploy", new ResourceRequest("model:prod-1"), new RequestContext { Approvals = [Approved("bot"), Approved("erin")] })
            .Reason.Should().Be(DecisionReason.ApprovalRequired);
        policy.Authorize(bot, "model:deploy", new ResourceRequest("model:prod-1"), new RequestContext { Approvals = [Approved("rita")] })
            .Reason.Should().Be(DecisionReason.Allowed);
    }

    [Fact]
    public void Attacker_ApprovalAtTheEdges_ExactlyValidForAgoIsExpired_NowCounts()
    {
        var policy = Policy();
        var erin = new Subject("erin");
        Decision With(DateTimeOffset at) => policy.Authorize(erin, "model:deploy", new ResourceRequest("model:prod-1"),
            new RequestContext { Approvals = [new Approval("rita", "prod", at)] });

        With(Now.AddHours(-1)).Reason.Should().Be(DecisionReason.ApprovalRequired, "at + valid_for == now: expired");
        With(Now.AddHours(-1).AddTicks(1)).Reason.Should().Be(DecisionReason.Allowed);
        With(Now).Reason.Should().Be(DecisionReason.Allowed, "given now");
        With(Now.AddTicks(1)).Reason.Should().Be(DecisionReason.ApprovalRequired, "a tick in the future");
        With(new DateTimeOffset(2026, 6, 1, 13, 30, 0, TimeSpan.FromHours(2))).Reason.Should().Be(DecisionReason.Allowed, "11:30Z written with an offset");
        With(new DateTimeOffset(2026, 6, 1, 12, 30, 0, TimeSpan.FromHours(-1))).Reason.Should().Be(DecisionReason.ApprovalRequired, "13:30Z: the future, whatever the offset");
    }

    private static RequestContext Activation(string subject = "nina", string justification = "outage", DateTimeOffset? start = null)
        => new() { Activations = [new BreakGlassActivation(subject, "emergency", justification, start ?? Now.AddMinutes(-10))] };

    [Fact]
    public void Attacker_BreakGlassRoleClaimedByTheCaller_StillNeedsAnActivation()
    {
        // A role list from claims (caller-given bindings) naming the break-glass role grants nothing without an activation.
        var policy = Policy();
        var claimed = Subject.WithRoles("nina", SubjectKind.User, "emergency");

        policy.Authorize(claimed, "data:read", "dataset:x").Reason.Should().Be(DecisionReason.BreakGlassNotActive);
        policy.Authorize(claimed, "data:read", new ResourceRequest("dataset:x"), Activation()).Reason.Should().Be(DecisionReason.Allowed);
        policy.Authorize(claimed, "data:read", new ResourceRequest("dataset:x"), Activation(subject: "Nina")).Reason
            .Should().Be(DecisionReason.BreakGlassNotActive, "ids are ordinal: another case is another subject");
    }

    [Fact]
    public void Attacker_ActivationForAnotherSubject_IsNotTheirs()
    {
        // mallory sends nina's activation, and one naming herself for a role she is not bound to.
        var policy = Policy();
        var mallory = Subject.WithRoles("mallory", SubjectKind.User, "analyst");

        policy.Authorize(mallory, "data:read", new ResourceRequest("dataset:x"), Activation()).Reason.Should().Be(DecisionReason.NoMatchingGrant);
        policy.Authorize(mallory, "data:read", new ResourceRequest("dataset:x"), Activation(subject: "mallory")).Reason.Should().Be(DecisionReason.NoMatchingGrant);
    }

    [Theory]
    [InlineData("\u200b")]         // zero-width space
    [InlineData("\u200b\u200c\u200d\u2060\ufeff")]
    [InlineData("\u00a0\u3000")]   // no-break and ideographic spaces
    [InlineData("\u0000")]
    [InlineData("\u202e")]         // right-to-left override
    public void Attacker_InvisibleJustification_IsBlank(string justification)
    {
        var policy = Policy();
        var nina = Subject.WithRoles("nina", SubjectKind.User, "emergency");

        policy.Authorize(nina, "data:read", new ResourceRequest("dataset:x"), Activation(justification: justification)).Reason
            .Should().Be(DecisionReason.BreakGlassNotActive, "a justification nobody can read justifies nothing");
        policy.Authorize(nina, "data:read", new ResourceRequest("dataset:x"), Activation(justification: "\u200bpager 4711")).Reason
            .Should().Be(DecisionReason.Allowed, "visible text counts, whatever surrounds it");
    }

    [Fact]
    public void Attacker_ActivationAtTheEdges_StartPlusMaxIsOver()
    {
        var policy = Policy();
        var nina = Subject.WithRoles("nina", SubjectKind.User, "emergency");
        Decision From(DateTimeOffset start) => policy.Authorize(nina, "data:read", new ResourceRequest("dataset:x"), Activation(start: start));

        From(Now.AddHours(-1)).Reason.Should().Be(DecisionReason.BreakGlassNotActive, "start + max_activation == now: over");
        From(Now.AddHours(-1).AddTicks(1)).Reason.Should().Be(DecisionReason.Allowed);
        From(Now).Reason.Should().Be(DecisionReason.Allowed, "started now");
        From(Now.AddTicks(1)).Reason.Should().Be(DecisionReason.BreakGlassNotActive, "a tick in the future");
        From(new DateTimeOffset(2026, 6, 1, 13, 55, 0, TimeSpan.FromHours(2))).Reason.Should().Be(DecisionReason.Allowed, "11:55Z with an offset");
    }

    [Theory]
    [InlineData("2026-06-01T21:59:59.9999999Z", "night", false)]
    [InlineData("2026-06-01T22:00:00Z", "night", true)]
    [InlineData("2026-06-02T00:00:00Z", "night", true)]
    [InlineData("2026-06-02T05:59:59.9999999Z", "night", true)]
    [InlineData("2026-06-02T06:00:00Z", "night", false)]
    [InlineData("2026-06-01T22:59:59Z", "midnight", false)]
    [InlineData("2026-06-01T23:00:00Z", "midnight", true)]
    [InlineData("2026-06-01T23:59:59.9999999Z", "midnight", true)]
    [InlineData("2026-06-02T00:00:00Z", "midnight", false)]
    public void Clock_TimeOfDayWindows_StartInclusiveEndExclusive_AcrossMidnight(string at, string role, bool holds)
    {
        var clock = new FixedClock(DateTimeOffset.Parse(at, System.Globalization.CultureInfo.InvariantCulture));
        var policy = Policy(clock);
        string resource = role == "night" ? "tool:report_x" : "tool:batch_x";

        var decision = policy.Authorize(Subject.WithRoles("olga", SubjectKind.User, role), "tool:invoke", resource);

        decision.Reason.Should().Be(holds ? DecisionReason.Allowed : DecisionReason.ConditionFailed);
    }

    [Fact]
    public void Clock_TimeOfDay_ReadsThePolicysClock_NotAnythingTheCallerSends()
    {
        var policy = Policy(new FixedClock(Now)); // noon: the night window is closed
        var olga = Subject.WithRoles("olga", SubjectKind.User, "night");

        policy.Authorize(olga, "tool:invoke", new ResourceRequest("tool:report_x"), Pairs(new("time_of_day", "23:00"), new("time", "23:00")))
            .Reason.Should().Be(DecisionReason.ConditionFailed);
    }

    [Fact]
    public void Attacker_AnActivation_DoesNotBypassTheConditionsOfARoleTheBreakGlassRoleInherits()
    {
        // emergency-sql (break-glass) inherits analyst, whose conditions (mfa, corp network) still gate analyst's grants.
        var p = Document().Role("emergency-sql", inherits: ["analyst"], kinds: ["user"]).BreakGlass("emergency-sql", "1h");
        var policy = p.Build();
        var nina = Subject.WithRoles("nina", SubjectKind.User, "emergency-sql");
        var activated = new RequestContext
        {
            Activations = [new BreakGlassActivation("nina", "emergency-sql", "outage", Now.AddMinutes(-5))],
        };
        var activatedWithMfa = new RequestContext
        {
            Activations = [new BreakGlassActivation("nina", "emergency-sql", "outage", Now.AddMinutes(-5))],
            Attributes = [new ContextAttribute("mfa", true), new ContextAttribute("net", "corp")],
        };

        policy.Authorize(nina, "tool:invoke", new ResourceRequest("tool:sql_query"), activated).Reason.Should().Be(DecisionReason.ConditionFailed);
        var allowed = policy.Authorize(nina, "tool:invoke", new ResourceRequest("tool:sql_query"), activatedWithMfa);
        (allowed.Reason, allowed.Role, allowed.BreakGlassRole).Should().Be((DecisionReason.Allowed, "analyst", "emergency-sql"));

        // kinds apply to a break-glass role as to any: an agent bound to it, activating it, gets nothing from it.
        var agent = Subject.WithRoles("bot", SubjectKind.Agent, "emergency-sql");
        var agentActivation = new RequestContext
        {
            Activations = [new BreakGlassActivation("bot", "emergency-sql", "outage", Now.AddMinutes(-5))],
            Attributes = [new ContextAttribute("mfa", true), new ContextAttribute("net", "corp")],
        };
        policy.Authorize(agent, "tool:invoke", new ResourceRequest("tool:sql_query"), agentActivation).Reason.Should().Be(DecisionReason.NoActiveRole);
    }
}
