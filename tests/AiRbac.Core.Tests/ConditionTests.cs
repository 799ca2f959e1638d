using System.Reflection;
using AiRbac.Diagnostics;

namespace AiRbac.Core.Tests;

/// <summary>
/// Context conditions (docs/policy-language.md, section 11) against each of the nine decision steps, inheritance, kinds,
/// delegation, the bounds of a request's context, filters, and the attacker's attempts to open access by degrading or
/// forging the context.
/// </summary>
public sealed class ConditionTests
{
    private static readonly RequestContext Mfa = Ctx(new ContextAttribute("mfa", true));
    private static readonly RequestContext NoMfa = Ctx(new ContextAttribute("mfa", false));

    private static RequestContext Ctx(params ContextAttribute[] pairs) => new() { Attributes = pairs };

    private static Subject User(string id, params string[] roles) => Subject.WithRoles(id, SubjectKind.User, roles);

    /// <summary>secure (mfa) grants tools and denies shell_*; dev grants every tool; base is inherited by secure.</summary>
    private static TestPolicy Document()
    {
        var p = new TestPolicy()
            .Context("mfa", "bool")
            .Role("base", allow: ["data:read on output:*"], max: "internal")
            .Role("secure", inherits: ["base"], allow: ["tool:invoke on tool:*", "model:query on model:x"], deny: ["tool:invoke on tool:shell_*"], max: "internal")
            .Role("dev", allow: ["tool:invoke on tool:*"], max: "internal")
            .Role("child", inherits: ["secure"], allow: ["model:deploy on model:*"], max: "internal")
            .Role("other", allow: ["x:y on **"], max: "internal");
        return p.Gate("secure", p.Cond("mfa", "true"));
    }

    private static CompiledPolicy Policy() => Document().Build();

    [Fact]
    public void Step1_MissingIdentity_BeatsConditions()
        => Policy().Authorize(User("", "secure"), "tool:invoke", "tool:x", NoMfa).Reason.Should().Be(DecisionReason.MissingIdentity);

    [Fact]
    public void Step2_InvalidContext_BeatsEverythingAfterIt()
    {
        // A subject that would be denied for separation of duties, or allowed outright, is invalid_request first.
        var policy = Document().MutuallyExclusive("dev", "other").Build();
        var bad = Ctx(new ContextAttribute("mfa", "yes"));

        policy.Authorize(User("a", "dev", "other"), "tool:invoke", "tool:x", bad).Reason.Should().Be(DecisionReason.InvalidRequest);
        policy.Authorize(User("a", "dev"), "tool:invoke", "tool:x", bad).Reason.Should().Be(DecisionReason.InvalidRequest);
    }

    [Fact]
    public void Step4_RoleWithFailingConditions_StillCountsForSeparationOfDuties()
    {
        // Counting the role can only deny: leaving MFA off must not dissolve a conflict.
        var policy = Document().MutuallyExclusive("secure", "dev").Build();
        var both = User("a", "secure", "dev");

        policy.Authorize(both, "tool:invoke", "tool:x", NoMfa).Reason.Should().Be(DecisionReason.SeparationOfDuties);
        policy.Authorize(both, "tool:invoke", "tool:x", Mfa).Reason.Should().Be(DecisionReason.SeparationOfDuties);
    }

    [Fact]
    public void Step5_NoBindingInEffect_IsNoActiveRole_NotConditionFailed()
    {
        var policy = Policy();
        var scoped = new Subject("a", SubjectKind.User, [new RoleBinding("secure", Scope: "acme")]);

        policy.Authorize(scoped, "tool:invoke", "tool:x", NoMfa).Reason.Should().Be(DecisionReason.NoActiveRole);
    }

    [Fact]
    public void Step6_DenyOfARoleWhoseConditionsFail_StillDenies()
    {
        var policy = Policy();
        var mallory = User("mallory", "secure", "dev");

        policy.Authorize(mallory, "tool:invoke", "tool:shell_exec", Mfa).Reason.Should().Be(DecisionReason.ExplicitDeny);
        var denied = policy.Authorize(mallory, "tool:invoke", "tool:shell_exec", NoMfa);
        denied.Reason.Should().Be(DecisionReason.ExplicitDeny, "degrading the context must not switch off a deny");
        denied.Role.Should().Be("secure");
        policy.Authorize(mallory, "tool:invoke", "tool:shell_exec").Reason.Should().Be(DecisionReason.ExplicitDeny);

        // The deny of a role reached only through a gated one applies too.
        var p = new TestPolicy().Context("mfa", "bool")
            .Role("base", deny: ["tool:invoke on tool:rm_*"])
            .Role("secure", inherits: ["base"], allow: ["tool:invoke on tool:*"])
            .Role("dev", allow: ["tool:invoke on tool:*"]);
        var inherited = p.Gate("secure", p.Cond("mfa", "true")).Build();
        var decision = inherited.Authorize(User("m", "secure", "dev"), "tool:invoke", "tool:rm_x", NoMfa);
        (decision.Reason, decision.Role).Should().Be((DecisionReason.ExplicitDeny, "base"));
    }

    [Fact]
    public void Step7_OwnerConflict_BeatsConditionFailed()
    {
        var policy = Document().Owner("tool:invoke").Build();
        var owned = new ResourceRequest("tool:x") { Owner = "a" };

        policy.Authorize(User("a", "secure"), "tool:invoke", in owned, NoMfa).Reason.Should().Be(DecisionReason.OwnerConflict);
    }

    [Fact]
    public void Step8_ConditionFailed_OnlyWhenTheInactiveRoleWouldHaveAllowed()
    {
        var policy = Document().Catalog("tool:secret_*", "restricted").Build();
        var alice = User("alice", "secure");

        var failed = policy.Authorize(alice, "tool:invoke", "tool:x", NoMfa);
        (failed.Reason, failed.Role, failed.Rule, failed.Condition).Should().Be((DecisionReason.ConditionFailed, "secure", "tool:invoke on tool:*", "mfa: true"));

        // The role's ceiling (internal) is below the tier anyway: the condition made no difference.
        policy.Authorize(alice, "tool:invoke", "tool:secret_x", NoMfa).Reason.Should().Be(DecisionReason.NoMatchingGrant);
        policy.Authorize(alice, "tool:invoke", "tool:secret_x", Mfa).Reason.Should().Be(DecisionReason.SensitivityCeiling);

        // Nothing would grant: the version 1 reason.
        policy.Authorize(alice, "data:write", "tool:x", NoMfa).Reason.Should().Be(DecisionReason.NoMatchingGrant);
        policy.Authorize(alice, "tool:invoke", "tool:x", Mfa).Reason.Should().Be(DecisionReason.Allowed);
    }

    [Fact]
    public void Step8_AnActiveRoleThatAllows_Wins_OverAnInactiveOneDeclaredEarlier()
    {
        var policy = Policy();

        var decision = policy.Authorize(User("a", "secure", "dev"), "tool:invoke", "tool:x", NoMfa);

        (decision.Reason, decision.Role).Should().Be((DecisionReason.Allowed, "dev"));
        decision.Condition.Should().BeNull();
    }

    [Fact]
    public void Inheritance_RolesReachedOnlyThroughAGatedRole_AreInactive_AndTheGatedRoleIsNamed()
    {
        var policy = Policy();

        // base is inherited through secure: inactive without MFA. The decision names secure, whose condition failed.
        var decision = policy.Authorize(User("a", "secure"), "data:read", "output:x", NoMfa);
        (decision.Reason, decision.Role, decision.Rule, decision.Condition).Should().Be((DecisionReason.ConditionFailed, "secure", "data:read on output:*", "mfa: true"));

        // Bound directly too, base is active.
        policy.Authorize(User("a", "secure", "base"), "data:read", "output:x", NoMfa).Reason.Should().Be(DecisionReason.Allowed);

        // child inherits secure: child's own grants hold, secure's and base's need MFA.
        policy.Authorize(User("c", "child"), "model:deploy", "model:m", NoMfa).Reason.Should().Be(DecisionReason.Allowed);
        policy.Authorize(User("c", "child"), "model:query", "model:x", NoMfa).Reason.Should().Be(DecisionReason.ConditionFailed);
        policy.Authorize(User("c", "child"), "model:query", "model:x", Mfa).Reason.Should().Be(DecisionReason.Allowed);
    }

    [Fact]
    public void Kinds_StillApply_ToARoleWhoseConditionsHold()
    {
        var p = new TestPolicy().Context("mfa", "bool").Role("human-tools", kinds: ["user"], allow: ["tool:invoke on tool:*"]);
        var policy = p.Gate("human-tools", p.Cond("mfa", "true")).Build();

        policy.Authorize(Subject.WithRoles("bot", SubjectKind.Agent, "human-tools"), "tool:invoke", "tool:x", Mfa).Reason.Should().Be(DecisionReason.NoActiveRole);
        policy.Authorize(User("u", "human-tools"), "tool:invoke", "tool:x", Mfa).Reason.Should().Be(DecisionReason.Allowed);
    }

    [Fact]
    public void Delegation_TheRequestContextIsEveryLinks_AndALinkDeniedForAConditionSaysSo()
    {
        var policy = Policy();
        var agent = Subject.WithRoles("bot", SubjectKind.Agent, "dev").ActingFor(User("carol", "secure"));

        policy.Authorize(agent, "tool:invoke", "tool:x", Mfa).Reason.Should().Be(DecisionReason.Allowed);
        var denied = policy.Authorize(agent, "tool:invoke", "tool:x", NoMfa);
        (denied.Reason, denied.DelegatedReason, denied.Role, denied.Condition).Should().Be((DecisionReason.DelegationDenied, DecisionReason.ConditionFailed, "secure", "mfa: true"));
        denied.Explain().Should().Contain("condition_failed").And.Contain("mfa: true");

        // The actor's own failing condition is its own decision.
        var actorGated = User("carol", "secure").ActingFor(Subject.WithRoles("bot", SubjectKind.Agent, "dev"));
        policy.Authorize(actorGated, "tool:invoke", "tool:x", NoMfa).Reason.Should().Be(DecisionReason.ConditionFailed);
    }

    [Fact]
    public void ReusedSubject_IsDecidedAgainForEachContext()
    {
        // A gated set is never kept on the subject: the same object gets both answers, in either order.
        var policy = Policy();
        var alice = User("alice", "secure");
        for (int i = 0; i < 3; i++)
        {
            policy.Authorize(alice, "tool:invoke", "tool:x", Mfa).Allowed.Should().BeTrue();
            policy.Authorize(alice, "tool:invoke", "tool:x", NoMfa).Allowed.Should().BeFalse();
            policy.Authorize(alice, "tool:invoke", "tool:x").Allowed.Should().BeFalse();
        }
    }

    [Fact]
    public void PolicyBindings_GatedRole_UsesTheSameRules()
    {
        var policy = Document().BoundSubject("alice", roles: ["secure"]).Build();
        var alice = new Subject("alice");

        policy.Authorize(alice, "tool:invoke", "tool:x", Mfa).Allowed.Should().BeTrue();
        policy.Authorize(alice, "tool:invoke", "tool:x", NoMfa).Reason.Should().Be(DecisionReason.ConditionFailed);
        policy.EffectiveRoles(alice).Select(r => r.Name).Should().Equal(["base", "secure"], "a conditional role is held; whether it grants depends on the request");
        policy.FindRole("secure")!.Conditions.Should().Equal("mfa: true");
    }

    [Fact]
    public void RequestContext_Bounds_AreInvalidRequest()
    {
        var policy = Policy();
        var alice = User("alice", "dev");

        policy.Authorize(alice, "tool:invoke", "tool:x", Ctx([.. Enumerable.Range(0, 64).Select(i => new ContextAttribute("k" + i, i))])).Allowed.Should().BeTrue();
        policy.Authorize(alice, "tool:invoke", "tool:x", Ctx([.. Enumerable.Range(0, 65).Select(i => new ContextAttribute("k" + i, i))])).Reason.Should().Be(DecisionReason.InvalidRequest);
        policy.Authorize(alice, "tool:invoke", "tool:x", Ctx(new ContextAttribute("note", new string('x', 4096)))).Allowed.Should().BeTrue();
        policy.Authorize(alice, "tool:invoke", "tool:x", Ctx(new ContextAttribute("note", new string('x', 4097)))).Reason.Should().Be(DecisionReason.InvalidRequest);
        policy.Authorize(alice, "tool:invoke", "tool:x", Ctx(new ContextAttribute(null!, true))).Reason.Should().Be(DecisionReason.InvalidRequest);
        policy.Authorize(alice, "tool:invoke", "tool:x", Ctx(new ContextAttribute("note", (string)null!))).Reason.Should().Be(DecisionReason.InvalidRequest);
    }

    [Fact]
    public void RequestContext_ForgedValueType_IsInvalidRequest()
    {
        // A type outside the enum (written through Unsafe or a careless deserializer) fails closed, never throws.
        object boxed = new ContextAttribute("mfa", true);
        typeof(ContextAttribute).GetField("<Type>k__BackingField", BindingFlags.NonPublic | BindingFlags.Instance)!.SetValue(boxed, (ContextValueType)7);
        var forged = (ContextAttribute)boxed;
        forged.Type.Should().Be((ContextValueType)7);

        Policy().Authorize(User("a", "secure"), "tool:invoke", "tool:x", Ctx(forged)).Reason.Should().Be(DecisionReason.InvalidRequest);
    }

    [Fact]
    public void RequestContext_IsACopy_ChangingTheCallersArrayChangesNothing()
    {
        var pairs = new[] { new ContextAttribute("mfa", true) };
        var context = Ctx(pairs);
        pairs[0] = new ContextAttribute("mfa", false);

        Policy().Authorize(User("a", "secure"), "tool:invoke", "tool:x", context).Allowed.Should().BeTrue();
        context.Attributes.Should().ContainSingle().Which.BooleanValue.Should().BeTrue();
    }

    [Fact]
    public void Compile_TooManyConditionsOrKeys_LimitExceeded()
    {
        var p = new TestPolicy().Role("r", allow: ["a:b on c:d"]);
        for (int i = 0; i < 65; i++)
        {
            p.Context("k" + i, "integer");
        }

        p.Gate("r", [.. Enumerable.Range(0, 17).Select(i => p.Cond("k" + i, "1"))]);
        var errors = p.Compile().Errors.Select(e => e.Code).ToList();

        errors.Should().Contain(DiagnosticCodes.LimitExceeded);
        errors.Count(c => c == DiagnosticCodes.LimitExceeded).Should().Be(2);
    }

    [Fact]
    public void Compile_ConditionOnAnUndeclaredKey_IsAnError_WithTheKeysLocation()
    {
        var p = new TestPolicy().Context("mfa", "bool").Role("r", allow: ["a:b on c:d"]);
        var condition = p.Cond("mfaa", "true");
        var errors = p.Gate("r", condition).Compile().Errors.ToList();

        errors.Should().ContainSingle().Which.Code.Should().Be(DiagnosticCodes.UndeclaredContextKey);
        errors[0].Location.Should().Be(condition.Key.Location);
        errors[0].Message.Should().Contain("mfa");
    }

    [Fact]
    public void Compile_Version1DocumentWithConditions_IsRefused()
    {
        var p = Document();
        p.Version = "1";

        p.Compile().Errors.Select(e => e.Code).Should().Equal(DiagnosticCodes.UnknownKey, DiagnosticCodes.UnknownKey);
    }

    [Fact]
    public void FilterFor_WithoutContext_GatedRolesGrantNothing_ButTheirDeniesHold()
    {
        var policy = Policy();
        var filter = policy.FilterFor(User("m", "secure", "dev"), "tool:invoke");

        filter.Matches(new ResourceRequest("tool:x")).Should().BeTrue("dev grants it");
        filter.Matches(new ResourceRequest("tool:shell_x")).Should().BeFalse("secure's deny holds without MFA");
        policy.FilterFor(User("a", "secure"), "tool:invoke").Matches(new ResourceRequest("tool:x")).Should().BeFalse();
        filter.ValidUntil.Should().BeNull("no time_of_day window is in the policy");
    }

    [Fact]
    public void FilterFor_TimeOfDayRole_ValidOnlyUntilTheNextWindowBoundary()
    {
        var clock = new FixedClock(new DateTimeOffset(2026, 6, 1, 9, 30, 0, TimeSpan.Zero));
        var p = new TestPolicy().Role("office", allow: ["model:query on model:*"]);
        var policy = p.Gate("office", p.Cond("time_of_day", "08:00-18:00")).Build(clock);
        var tom = User("tom", "office");

        var filter = policy.FilterFor(tom, "model:query");

        filter.Matches(new ResourceRequest("model:x")).Should().BeTrue();
        filter.ValidFrom.Should().Be(new DateTimeOffset(2026, 6, 1, 8, 0, 0, TimeSpan.Zero));
        filter.ValidUntil.Should().Be(new DateTimeOffset(2026, 6, 1, 18, 0, 0, TimeSpan.Zero));
        clock.Now = new DateTimeOffset(2026, 6, 1, 18, 0, 0, TimeSpan.Zero);
        filter.Matches(new ResourceRequest("model:x")).Should().BeFalse("past the window the filter matches nothing");
        policy.Authorize(tom, "model:query", "model:x").Reason.Should().Be(DecisionReason.ConditionFailed);

        var evening = policy.FilterFor(tom, "model:query");
        evening.Matches(new ResourceRequest("model:x")).Should().BeFalse();
        (evening.ValidFrom, evening.ValidUntil).Should().Be((new DateTimeOffset(2026, 6, 1, 18, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 6, 2, 8, 0, 0, TimeSpan.Zero)));
    }
}
