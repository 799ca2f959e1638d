using AiRbac.Diagnostics;

namespace AiRbac.Core.Tests;

/// <summary>
/// Approvals (docs/policy-language.md, section 13): step 10 after the nine steps, and the attacker's ways to forge an
/// approval (the requester itself, the agent's principal, an approver through an expired, scoped, break-glass or
/// conditional binding, the same approver twice, a timestamp from the future).
/// </summary>
public sealed class ApprovalTests
{
    private static readonly DateTimeOffset Now = TestPolicy.Now; // 2026-06-01T12:00:00Z

    private static TestPolicy Document() => new TestPolicy()
        .Role("ml-engineer", allow: ["model:deploy on model:*"], deny: ["model:deploy on model:prod-frozen"])
        .Role("release-manager", allow: ["model:query on model:*"])
        .Role("sre", inherits: ["release-manager"])
        .Role("agent", allow: ["model:deploy on model:*"])
        .Role("emergency-manager", inherits: ["release-manager"])
        .Role("mfa-manager", inherits: ["release-manager"])
        .Role("auditor", allow: ["data:read on **"])
        .Context("mfa", "bool")
        .BreakGlass("emergency-manager", "4h")
        .Approval("prod-deploy", ["model:deploy on model:prod-*"], ["release-manager"], count: "2")
        .BoundSubject("erin", roles: ["ml-engineer", "release-manager"])
        .BoundSubject("rita", roles: ["release-manager"])
        .BoundSubject("sam", roles: ["sre"])
        .BoundSubject("rick", roles: ["release-manager"], expires: "2026-05-01T00:00:00Z")
        .BoundSubject("sasha", roles: ["release-manager"], scope: "acme/eu")
        .BoundSubject("bree", roles: ["emergency-manager"])
        .BoundSubject("mia", roles: ["mfa-manager"])
        .BoundSubject("connie", roles: ["release-manager", "auditor"])
        .BoundSubject("botty", kind: "agent", roles: ["release-manager"]);

    private static CompiledPolicy Policy(Func<TestPolicy, TestPolicy>? change = null)
    {
        var p = Document();
        p = p.Gate("mfa-manager", p.Cond("mfa", "true"));
        return (change?.Invoke(p) ?? p).Build();
    }

    private static readonly Subject Erin = new("erin");

    private static RequestContext By(params (string Who, int MinutesAgo)[] approvals)
        => new() { Approvals = [.. approvals.Select(a => new Approval(a.Who, "prod-deploy", Now.AddMinutes(-a.MinutesAgo)))] };

    private static Decision Deploy(CompiledPolicy policy, RequestContext? context, Subject? subject = null, string model = "model:prod-eu")
        => policy.Authorize(subject ?? Erin, "model:deploy", model, context);

    [Fact]
    public void TwoValidApprovals_Allow_AndTheDecisionNamesTheRule()
    {
        var decision = Deploy(Policy(), By(("rita", 60), ("sam", 30)));

        (decision.Reason, decision.Role, decision.ApprovalRule).Should().Be((DecisionReason.Allowed, "ml-engineer", "prod-deploy"));
        decision.Explain().Should().Contain("approval rule 'prod-deploy'").And.Contain("is satisfied");
    }

    [Fact]
    public void NoApprovals_IsApprovalRequired_WithTheRoleAndGrantThatWouldAllow()
    {
        var decision = Deploy(Policy(), null);

        (decision.Reason, decision.Allowed, decision.Role, decision.Rule, decision.ApprovalRule)
            .Should().Be((DecisionReason.ApprovalRequired, false, "ml-engineer", "model:deploy on model:*", "prod-deploy"));
        decision.Explain().Should().StartWith("Denied (approval_required)").And.Contain("needs approvals by 2 distinct holders of release-manager");
    }

    [Fact]
    public void ARequestNoRuleMatches_IsAllowedWithoutApprovals()
    {
        var decision = Deploy(Policy(), null, model: "model:dev-eu");

        (decision.Reason, decision.ApprovalRule).Should().Be((DecisionReason.Allowed, null));
    }

    [Fact]
    public void Attacker_TheRequesterApprovingItself_DoesNotCount()
    {
        // erin holds release-manager too: her own approval never counts.
        Deploy(Policy(), By(("rita", 10), ("erin", 10))).Reason.Should().Be(DecisionReason.ApprovalRequired);
    }

    [Fact]
    public void Attacker_ThePrincipalApprovingItsAgent_AndTheAgentItsPrincipal_DoNotCount()
    {
        var policy = Policy();
        var bot = Subject.WithRoles("bot", SubjectKind.Agent, "agent").ActingFor(new Subject("rita", roles: [new RoleBinding("ml-engineer")]));

        Deploy(policy, By(("rita", 10), ("sam", 10)), bot).Reason.Should().Be(DecisionReason.ApprovalRequired, "rita is down the chain");
        Deploy(policy, By(("connie", 10), ("sam", 10)), bot).Reason.Should().Be(DecisionReason.Allowed);

        var botty = Subject.WithRoles("botty", SubjectKind.Agent, "agent").ActingFor(Erin);
        Deploy(policy, By(("botty", 10), ("sam", 10)), Subject.WithRoles("x", SubjectKind.User, "ml-engineer").ActingFor(botty))
            .Reason.Should().Be(DecisionReason.ApprovalRequired, "botty is in the chain");
    }

    [Fact]
    public void Attacker_TheSameApproverTwice_CountsOnce()
        => Deploy(Policy(), By(("rita", 10), ("rita", 20))).Reason.Should().Be(DecisionReason.ApprovalRequired);

    [Theory]
    [InlineData(-1, false)]   // from the future
    [InlineData(0, true)]     // given now
    [InlineData(239, true)]
    [InlineData(240, false)]  // exactly valid_for ago: over
    public void Attacker_ApprovalTimes_AreAtMostValidForAgo_AndNotInTheFuture(int minutesAgo, bool allowed)
        => Deploy(Policy(), By(("rita", 10), ("sam", minutesAgo))).Allowed.Should().Be(allowed);

    [Fact]
    public void Attacker_ApproverThroughAnExpiredBinding_DoesNotCount()
        => Deploy(Policy(), By(("rita", 10), ("rick", 10))).Reason.Should().Be(DecisionReason.ApprovalRequired);

    [Fact]
    public void Attacker_ApproverThroughAScopedBinding_CountsOnlyInThatScope()
    {
        var policy = Policy();
        var inEu = new ResourceRequest("model:prod-eu") { Scope = "acme/eu/west" };
        var inUs = new ResourceRequest("model:prod-eu") { Scope = "acme/us" };

        policy.Authorize(Erin, "model:deploy", in inEu, By(("rita", 10), ("sasha", 10))).Allowed.Should().BeTrue();
        policy.Authorize(Erin, "model:deploy", in inUs, By(("rita", 10), ("sasha", 10))).Reason.Should().Be(DecisionReason.ApprovalRequired);
        Deploy(policy, By(("rita", 10), ("sasha", 10))).Reason.Should().Be(DecisionReason.ApprovalRequired, "an unscoped request is covered by unscoped bindings only");
    }

    [Fact]
    public void Attacker_ApproverThroughABreakGlassRole_DoesNotCount_EvenActivated()
    {
        var context = new RequestContext
        {
            Approvals = By(("rita", 10), ("bree", 10)).Approvals,
            Activations = [new BreakGlassActivation("bree", "emergency-manager", "approving in an outage", Now.AddMinutes(-5))],
        };

        Deploy(Policy(), context).Reason.Should().Be(DecisionReason.ApprovalRequired);
    }

    [Fact]
    public void Attacker_ApproverThroughARoleWithConditions_DoesNotCount_WhateverTheContext()
    {
        var context = new RequestContext { Approvals = By(("rita", 10), ("mia", 10)).Approvals, Attributes = [new ContextAttribute("mfa", true)] };

        Deploy(Policy(), context).Reason.Should().Be(DecisionReason.ApprovalRequired);
    }

    [Fact]
    public void Attacker_AnApproverNotInTheBindings_OrOfAnotherRule_DoesNotCount()
    {
        var policy = Policy();

        Deploy(policy, By(("rita", 10), ("mallory", 10))).Reason.Should().Be(DecisionReason.ApprovalRequired);
        var otherRule = new RequestContext { Approvals = [new Approval("rita", "other", Now), new Approval("sam", "other", Now)] };
        Deploy(policy, otherRule).Reason.Should().Be(DecisionReason.ApprovalRequired);
        var wrongCase = new RequestContext { Approvals = [new Approval("Rita", "prod-deploy", Now), new Approval("sam", "Prod-Deploy", Now)] };
        Deploy(policy, wrongCase).Reason.Should().Be(DecisionReason.ApprovalRequired, "ids and rule names compare ordinally");
    }

    [Fact]
    public void AnApproverBreakingSeparationOfDuties_DoesNotCount()
    {
        var policy = Policy(p => p.MutuallyExclusive("release-manager", "auditor"));

        Deploy(policy, By(("rita", 10), ("connie", 10))).Reason.Should().Be(DecisionReason.ApprovalRequired);
        Deploy(policy, By(("rita", 10), ("sam", 10))).Reason.Should().Be(DecisionReason.Allowed);
    }

    [Fact]
    public void Precedence_EveryEarlierDenialStands_ApprovalsNeverOpenAccess()
    {
        var policy = Policy(p => p.Owner("model:deploy"));
        var approved = By(("rita", 10), ("sam", 10));

        Deploy(policy, approved, new Subject(string.Empty, roles: [new RoleBinding("ml-engineer")])).Reason.Should().Be(DecisionReason.MissingIdentity);
        Deploy(policy, approved, model: string.Empty).Reason.Should().Be(DecisionReason.InvalidRequest);
        Deploy(policy, approved, model: "model:prod-frozen").Reason.Should().Be(DecisionReason.ExplicitDeny);
        Deploy(policy, approved, Subject.WithRoles("x", SubjectKind.User, "auditor")).Reason.Should().Be(DecisionReason.NoMatchingGrant);
        policy.Authorize(Erin, "model:deploy", new ResourceRequest("model:prod-eu") { Owner = "erin" }, approved).Reason.Should().Be(DecisionReason.OwnerConflict);
        var agentForAuditor = Subject.WithRoles("bot", SubjectKind.Agent, "agent").ActingFor(Subject.WithRoles("aud", SubjectKind.User, "auditor"));
        var denied = Deploy(policy, approved, agentForAuditor);
        (denied.Reason, denied.DelegatedReason).Should().Be((DecisionReason.DelegationDenied, DecisionReason.NoMatchingGrant));
        denied.ApprovalRule.Should().BeNull("step 10 runs only for a request the chain allows");
    }

    [Fact]
    public void TwoRulesMatching_BothMustBeSatisfied_TheFirstUnsatisfiedIsNamed()
    {
        var policy = Policy(p => p.Approval("eu-data", ["model:deploy on model:*-eu"], ["auditor"]));

        Deploy(policy, By(("rita", 10), ("sam", 10))).ApprovalRule.Should().Be("eu-data");
        var both = new RequestContext { Approvals = [.. By(("rita", 10), ("sam", 10)).Approvals, new Approval("connie", "eu-data", Now)] };
        var allowed = Deploy(policy, both);
        (allowed.Reason, allowed.ApprovalRule).Should().Be((DecisionReason.Allowed, "prod-deploy"));
    }

    [Fact]
    public void BreakGlass_DoesNotBypassApprovals()
    {
        var policy = Policy(p => p.Role("deploy-glass", allow: ["model:deploy on model:*"]).BreakGlass("deploy-glass", "1h"));
        var glass = new Subject("g", roles: [new RoleBinding("deploy-glass")]);
        var activated = new RequestContext { Activations = [new BreakGlassActivation("g", "deploy-glass", "outage", Now.AddMinutes(-5))] };

        var decision = Deploy(policy, activated, glass);

        (decision.Reason, decision.BreakGlass).Should().Be((DecisionReason.ApprovalRequired, true));
    }

    [Fact]
    public void Bounds_TooManyApprovalsOrAMissingField_AreInvalidRequest()
    {
        var policy = Policy();
        RequestContext Many(int n) => new() { Approvals = [.. Enumerable.Range(0, n).Select(i => new Approval(i % 2 == 0 ? "rita" : "sam", "prod-deploy", Now))] };

        Deploy(policy, Many(16)).Allowed.Should().BeTrue();
        Deploy(policy, Many(17)).Reason.Should().Be(DecisionReason.InvalidRequest);
        Deploy(policy, new RequestContext { Approvals = [new Approval(null!, "prod-deploy", Now)] }).Reason.Should().Be(DecisionReason.InvalidRequest);
        Deploy(policy, new RequestContext { Approvals = [new Approval("rita", null!, Now)] }).Reason.Should().Be(DecisionReason.InvalidRequest);
    }

    [Fact]
    public void DecisionRecord_SaysWhichApprovalsCounted()
    {
        var counted = new List<bool>();
        var authorizer = new PolicyAuthorizer([new Recorder(counted)]);
        authorizer.Update(Policy(), new PolicyVersion("v", Now));

        authorizer.Authorize(Erin, "model:deploy", "model:prod-eu", By(("erin", 5), ("rita", 10), ("rita", 20), ("sam", 30)));

        counted.Should().Equal(false, true, false, true);
    }

    [Fact]
    public void Filter_ForAnActionAnApprovalRuleMayMatch_IsIncomplete()
    {
        var policy = Policy();

        var filter = policy.FilterFor(Erin, "model:deploy");
        filter.IsComplete.Should().BeFalse();
        filter.Matches(new ResourceRequest("model:dev-eu")).Should().BeFalse();
        policy.FilterFor(Erin, "model:query").IsComplete.Should().BeTrue();
    }

    [Fact]
    public void Lint_NoOneCanApprove_OrFewerThanTheCount_Warns()
    {
        var p = Document()
            .Approval("glass-only", ["x:y on **"], ["emergency-manager"])
            .Approval("needs-seven", ["x:z on **"], ["release-manager"], count: "7");
        var warnings = p.Gate("mfa-manager", p.Cond("mfa", "true")).Compile().Warnings.ToList();

        warnings.Should().ContainSingle(w => w.Code == DiagnosticCodes.ApprovalUnsatisfiable).Which.Message.Should().Contain("glass-only");
        warnings.Should().ContainSingle(w => w.Code == DiagnosticCodes.ApproversBelowCount).Which.Message.Should().Contain("needs 7 distinct approvers, but only 6");
    }

    [Theory]
    [InlineData("0", DiagnosticCodes.InvalidValue)]
    [InlineData("11", DiagnosticCodes.InvalidValue)]
    [InlineData("two", DiagnosticCodes.InvalidValue)]
    public void Compile_BadCount_IsAnError(string count, string code)
        => Document().Approval("r", ["a:b on c:d"], ["sre"], count: count).Compile().Errors.Select(e => e.Code).Should().Equal(code);

    [Theory]
    [InlineData("31d")]
    [InlineData("5 weeks")]
    [InlineData("0m")]
    public void Compile_BadValidFor_IsAnError(string validFor)
        => Document().Approval("r", ["a:b on c:d"], ["sre"], validFor: validFor).Compile().Errors.Select(e => e.Code).Should().Equal(DiagnosticCodes.InvalidValue);

    [Fact]
    public void Compile_UndeclaredApproverOrMalformedMatch_IsAnError()
    {
        var errors = Document().Approval("r", ["a:b in c:d", "a:[ on c:d"], ["sres"]).Compile().Errors.Select(e => e.Code).ToList();

        errors.Should().BeEquivalentTo([DiagnosticCodes.MalformedRule, DiagnosticCodes.InvalidPattern, DiagnosticCodes.UndeclaredRole]);
    }

    private sealed class Recorder(List<bool> counted) : IDecisionObserver
    {
        public void OnDecision(in DecisionRecord record)
        {
            for (int i = 0; i < record.Context!.Approvals.Count; i++)
            {
                counted.Add(record.IsCountedApproval(i));
            }
        }
    }
}
