using AiRbac.Diagnostics;

namespace AiRbac.Core.Tests;

/// <summary>
/// Break-glass roles (docs/policy-language.md, section 12): what makes an activation valid, what is flagged, and the
/// attacker's attempts (no justification, too long, from the future, someone else's, the principal's for the agent).
/// </summary>
public sealed class BreakGlassTests
{
    private static readonly DateTimeOffset Now = TestPolicy.Now; // 2026-06-01T12:00:00Z

    private static TestPolicy Document() => new TestPolicy()
        .Catalog("dataset:patients/**", "restricted", "phi")
        .Role("nurse", allow: ["data:read on dataset:patients/ward-3/**"], max: "restricted", clearances: ["phi"])
        .Role("emergency", allow: ["data:read on dataset:patients/**"], deny: ["data:write on dataset:patients/**"], max: "restricted", clearances: ["phi"])
        .Role("reader", allow: ["data:read on dataset:**"], max: "internal")
        .Role("emergency-lite", inherits: ["reader"])
        .Role("agent-tools", allow: ["data:read on dataset:**"], max: "restricted", clearances: ["phi"])
        .BreakGlass("emergency", "4h")
        .BreakGlass("emergency-lite", "30m");

    private static CompiledPolicy Policy() => Document().Build();

    private static readonly Subject Nina = Subject.WithRoles("nina", SubjectKind.User, "nurse", "emergency");

    private static RequestContext Activation(string subject = "nina", string role = "emergency", string justification = "cardiac arrest, bed 4", int minutesAgo = 120)
        => new() { Activations = [new BreakGlassActivation(subject, role, justification, Now.AddMinutes(-minutesAgo))] };

    private const string Icu = "dataset:patients/icu/p-9";

    [Fact]
    public void Activated_Allows_AndIsFlagged()
    {
        var decision = Policy().Authorize(Nina, "data:read", Icu, Activation());

        (decision.Reason, decision.Role, decision.BreakGlass, decision.BreakGlassRole).Should().Be((DecisionReason.Allowed, "emergency", true, "emergency"));
        decision.Explain().Should().StartWith("Allowed through break-glass role 'emergency' (activated)");
    }

    [Fact]
    public void NotActivated_IsBreakGlassNotActive_NamingTheRoleAndGrant()
    {
        var decision = Policy().Authorize(Nina, "data:read", Icu);

        (decision.Reason, decision.Role, decision.Rule, decision.BreakGlass).Should().Be((DecisionReason.BreakGlassNotActive, "emergency", "data:read on dataset:patients/**", false));
        decision.Explain().Should().Contain("break-glass role 'emergency' would grant").And.Contain("at most 4h ago");
    }

    [Fact]
    public void RoleThatAllowsWithoutTheActivation_IsNotFlagged()
    {
        var decision = Policy().Authorize(Nina, "data:read", "dataset:patients/ward-3/p-1", Activation());

        (decision.Reason, decision.Role, decision.BreakGlass).Should().Be((DecisionReason.Allowed, "nurse", false));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public void Attacker_ActivationWithoutJustification_DoesNotCount(string justification)
        => Policy().Authorize(Nina, "data:read", Icu, Activation(justification: justification)).Reason.Should().Be(DecisionReason.BreakGlassNotActive);

    [Theory]
    [InlineData(240, false)] // exactly max_activation ago: over
    [InlineData(239, true)]
    [InlineData(0, true)]    // started now
    [InlineData(-1, false)]  // a start in the future (a forged or skewed timestamp)
    [InlineData(100_000, false)]
    public void Attacker_ActivationWindow_IsStartInclusiveEndExclusive(int minutesAgo, bool allowed)
        => Policy().Authorize(Nina, "data:read", Icu, Activation(minutesAgo: minutesAgo)).Allowed.Should().Be(allowed);

    [Fact]
    public void Attacker_SomeoneElsesActivation_DoesNotCount()
    {
        var policy = Policy();

        policy.Authorize(Nina, "data:read", Icu, Activation(subject: "omar")).Reason.Should().Be(DecisionReason.BreakGlassNotActive);
        policy.Authorize(Nina, "data:read", Icu, Activation(subject: "Nina")).Reason.Should().Be(DecisionReason.BreakGlassNotActive, "ids compare ordinally");
    }

    [Fact]
    public void Attacker_ActivationOfAnotherRole_DoesNotCount()
    {
        var policy = Policy();

        policy.Authorize(Nina, "data:read", Icu, Activation(role: "nurse")).Reason.Should().Be(DecisionReason.BreakGlassNotActive);
        policy.Authorize(Nina, "data:read", Icu, Activation(role: "emergency-lite")).Reason.Should().Be(DecisionReason.BreakGlassNotActive);
        policy.Authorize(Nina, "data:read", Icu, Activation(role: "ghost")).Reason.Should().Be(DecisionReason.BreakGlassNotActive);
    }

    [Fact]
    public void Attacker_ActivationWithoutABinding_GrantsNothing()
    {
        var omar = Subject.WithRoles("omar", SubjectKind.User, "nurse");

        Policy().Authorize(omar, "data:read", Icu, Activation(subject: "omar")).Reason.Should().Be(DecisionReason.NoMatchingGrant);
    }

    [Fact]
    public void Attacker_PrincipalsActivation_DoesNotActivateTheAgentsBinding()
    {
        // The agent holds a break-glass binding too; nina's activation is nina's alone (choice 42).
        var policy = Policy();
        var bot = Subject.WithRoles("bot", SubjectKind.Agent, "emergency").ActingFor(Nina);

        policy.Authorize(bot, "data:read", Icu, Activation()).Reason.Should().Be(DecisionReason.BreakGlassNotActive);
        var both = new RequestContext
        {
            Activations = [new BreakGlassActivation("nina", "emergency", "cardiac arrest", Now.AddMinutes(-5)), new BreakGlassActivation("bot", "emergency", "assisting nina", Now.AddMinutes(-5))],
        };
        var decision = policy.Authorize(bot, "data:read", Icu, both);
        (decision.Reason, decision.BreakGlassRole).Should().Be((DecisionReason.Allowed, "emergency"));
    }

    [Fact]
    public void Delegation_AnAgentForAnActivatedUser_IsFlagged()
    {
        var bot = Subject.WithRoles("bot", SubjectKind.Agent, "agent-tools").ActingFor(Nina);
        var policy = Policy();

        var allowed = policy.Authorize(bot, "data:read", Icu, Activation());
        (allowed.Reason, allowed.Role, allowed.BreakGlass, allowed.BreakGlassRole).Should().Be((DecisionReason.Allowed, "agent-tools", true, "emergency"));

        var denied = policy.Authorize(bot, "data:read", Icu);
        (denied.Reason, denied.DelegatedReason, denied.Role).Should().Be((DecisionReason.DelegationDenied, DecisionReason.BreakGlassNotActive, "emergency"));
        denied.Explain().Should().Contain("break_glass_not_active").And.Contain("would grant");
    }

    [Fact]
    public void InheritedThroughABreakGlassRole_IsFlaggedWithThatRole()
    {
        var lena = Subject.WithRoles("lena", SubjectKind.User, "emergency-lite");
        var policy = Policy();

        var decision = policy.Authorize(lena, "data:read", "dataset:sales/q3", Activation("lena", "emergency-lite", minutesAgo: 10));
        (decision.Reason, decision.Role, decision.BreakGlassRole).Should().Be((DecisionReason.Allowed, "reader", "emergency-lite"));

        policy.Authorize(lena, "data:read", "dataset:sales/q3", Activation("lena", "emergency-lite", minutesAgo: 31)).Reason.Should().Be(DecisionReason.BreakGlassNotActive);

        // The activated role's ceiling is too low for patient data: denied, but flagged (an operator should look).
        var ceiling = policy.Authorize(lena, "data:read", Icu, Activation("lena", "emergency-lite", minutesAgo: 10));
        (ceiling.Reason, ceiling.Role, ceiling.BreakGlassRole).Should().Be((DecisionReason.SensitivityCeiling, "reader", "emergency-lite"));
    }

    [Fact]
    public void DeniesOfABreakGlassRole_ApplyActivatedOrNot_AndAreNotFlagged()
    {
        var policy = Policy();
        var writer = Subject.WithRoles("nina", SubjectKind.User, "emergency", "agent-tools");

        foreach (var context in new[] { null, Activation() })
        {
            var decision = policy.Authorize(writer, "data:write", Icu, context);
            (decision.Reason, decision.Role, decision.BreakGlass).Should().Be((DecisionReason.ExplicitDeny, "emergency", false));
        }
    }

    [Fact]
    public void SeparationOfDuties_CountsABreakGlassBinding_WhetherActivatedOrNot()
    {
        var policy = Document().MutuallyExclusive("emergency", "agent-tools").Build();
        var both = Subject.WithRoles("nina", SubjectKind.User, "emergency", "agent-tools");

        policy.Authorize(both, "data:read", Icu).Reason.Should().Be(DecisionReason.SeparationOfDuties);
        policy.Authorize(both, "data:read", Icu, Activation()).Reason.Should().Be(DecisionReason.SeparationOfDuties);
    }

    [Fact]
    public void BreakGlassWithConditions_NeedsBoth()
    {
        var p = Document().Context("mfa", "bool");
        var policy = p.Gate("emergency", p.Cond("mfa", "true")).Build();
        var withMfa = new RequestContext { Attributes = [new ContextAttribute("mfa", true)], Activations = Activation().Activations };
        var withoutMfa = new RequestContext { Attributes = [new ContextAttribute("mfa", false)], Activations = Activation().Activations };

        policy.Authorize(Nina, "data:read", Icu, withMfa).Allowed.Should().BeTrue();
        policy.Authorize(Nina, "data:read", Icu, withoutMfa).Reason.Should().Be(DecisionReason.ConditionFailed);
        policy.Authorize(Nina, "data:read", Icu, new RequestContext { Attributes = [new ContextAttribute("mfa", true)] }).Reason.Should().Be(DecisionReason.BreakGlassNotActive);
    }

    [Fact]
    public void Bounds_TooManyActivationsOrAMissingFieldOrALongJustification_AreInvalidRequest()
    {
        var policy = Policy();
        RequestContext Many(int n) => new() { Activations = [.. Enumerable.Range(0, n).Select(i => new BreakGlassActivation("nina", "emergency", "x", Now))] };

        policy.Authorize(Nina, "data:read", Icu, Many(8)).Allowed.Should().BeTrue();
        policy.Authorize(Nina, "data:read", Icu, Many(9)).Reason.Should().Be(DecisionReason.InvalidRequest);
        policy.Authorize(Nina, "data:read", Icu, Activation(justification: new string('j', 1024))).Allowed.Should().BeTrue();
        policy.Authorize(Nina, "data:read", Icu, Activation(justification: new string('j', 1025))).Reason.Should().Be(DecisionReason.InvalidRequest);
        policy.Authorize(Nina, "data:read", Icu, Activation(justification: null!)).Reason.Should().Be(DecisionReason.InvalidRequest);
        policy.Authorize(Nina, "data:read", Icu, Activation(subject: null!)).Reason.Should().Be(DecisionReason.InvalidRequest);
        policy.Authorize(Nina, "data:read", Icu, Activation(role: null!)).Reason.Should().Be(DecisionReason.InvalidRequest);
    }

    [Fact]
    public void DecisionRecord_CarriesTheActivationThatCounted()
    {
        var seen = new List<(bool BreakGlass, BreakGlassActivation? Activation)>();
        var authorizer = new PolicyAuthorizer([new Recorder(seen)]);
        authorizer.Update(Policy(), new PolicyVersion("v1", Now));
        var context = new RequestContext
        {
            Activations = [new BreakGlassActivation("omar", "emergency", "not mine", Now), new BreakGlassActivation("nina", "emergency", "cardiac arrest", Now.AddMinutes(-1))],
        };

        authorizer.Authorize(Nina, "data:read", Icu, context).BreakGlass.Should().BeTrue();
        authorizer.Authorize(Nina, "data:read", "dataset:patients/ward-3/p", context).BreakGlass.Should().BeFalse();

        seen.Should().Equal((true, context.Activations[1]), (false, null));
    }

    [Fact]
    public void RoleInfo_ShowsBreakGlass()
    {
        var role = Policy().FindRole("emergency")!;

        (role.IsBreakGlass, role.MaxActivation).Should().Be((true, TimeSpan.FromHours(4)));
        Policy().FindRole("nurse")!.IsBreakGlass.Should().BeFalse();
    }

    [Theory]
    [InlineData(null, DiagnosticCodes.MissingKey)]
    [InlineData("4 hours", DiagnosticCodes.InvalidValue)]
    [InlineData("0h", DiagnosticCodes.InvalidValue)]
    [InlineData("8d", DiagnosticCodes.InvalidValue)]
    [InlineData("2w", DiagnosticCodes.InvalidValue)]
    public void Compile_BadMaxActivation_IsAnError(string? maxActivation, string code)
    {
        var p = new TestPolicy().Role("e", allow: ["a:b on c:d"]).BreakGlass("e", "1h");
        p.Roles[0] = new Model.RoleDefinition
        {
            Name = p.Roles[0].Name,
            Allow = p.Roles[0].Allow,
            BreakGlass = new Model.BreakGlassDefinition { MaxActivation = maxActivation is null ? null : p.L(maxActivation) },
        };

        p.Compile().Errors.Should().ContainSingle().Which.Code.Should().Be(code);
    }

    [Fact]
    public void Compile_SevenDays_IsTheLongestActivation()
        => new TestPolicy().Role("e", allow: ["a:b on c:d"]).BreakGlass("e", "7d").Compile().Errors.Should().BeEmpty();

    private sealed class Recorder(List<(bool, BreakGlassActivation?)> seen) : IDecisionObserver
    {
        public void OnDecision(in DecisionRecord record) => seen.Add((record.Decision.BreakGlass, record.BreakGlassActivation));
    }
}
