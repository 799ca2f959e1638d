using System.Reflection;

namespace AiRbac.Core.Tests;

/// <summary>
/// A subject kind outside the enum fails closed (docs/policy-language.md, choice 26): the constructors refuse it, and a
/// subject forged past them is <c>invalid_request</c> on every path, never another role's or kind's closure.
/// </summary>
public class UndefinedSubjectKindTests
{
    private static readonly SubjectKind Forged = (SubjectKind)3;

    private static CompiledPolicy ReaderAndAdmin()
        => new TestPolicy()
            .Role("reader", allow: ["tool:invoke on tool:public"])
            .Role("admin", allow: ["* on **"], max: "restricted")
            .Build();

    /// <summary>What an attacker gets past the constructor: write the kind's backing field (as Unsafe or a deserializer could).</summary>
    private static Subject Forge(Subject subject, SubjectKind kind)
    {
        var field = typeof(Subject).GetField("<Kind>k__BackingField", BindingFlags.Instance | BindingFlags.NonPublic)!;
        field.SetValue(subject, (SubjectKind?)kind);
        return subject;
    }

    [Theory]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(-1)]
    [InlineData(int.MaxValue)]
    public void Constructors_UndefinedKind_Throw(int kind)
    {
        var act1 = () => new Subject("mallory", (SubjectKind)kind, [new RoleBinding("reader")]);
        var act2 = () => Subject.WithRoles("mallory", (SubjectKind)kind, "reader");
        act1.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("kind");
        act2.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("kind");
    }

    [Fact]
    public void Constructors_DefinedKinds_Accepted()
    {
        foreach (var kind in Enum.GetValues<SubjectKind>())
        {
            Subject.WithRoles("u", kind, "reader").Kind.Should().Be(kind);
        }

        new Subject("u").Kind.Should().BeNull();
    }

    // The attacker's case: reader's closure slot + 3 is admin's; after admin's closure was computed (root authorized as
    // admin once), kind 3 with reader read it and was allowed admin:delete on db:prod.
    [Theory]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void Authorize_ForgedKind_MemoPath_InvalidRequestNotAdmin(int kind)
    {
        var policy = ReaderAndAdmin();
        policy.Authorize(Subject.WithRoles("root", SubjectKind.User, "admin"), "admin:delete", "db:prod").Allowed.Should().BeTrue();
        policy.Authorize(Subject.WithRoles("warm", SubjectKind.User, "reader"), "tool:invoke", "tool:public").Allowed.Should().BeTrue();

        var mallory = Forge(Subject.WithRoles("mallory", SubjectKind.User, "reader"), (SubjectKind)kind);
        var decision = policy.Authorize(mallory, "admin:delete", "db:prod");
        decision.Allowed.Should().BeFalse();
        decision.Reason.Should().Be(DecisionReason.InvalidRequest);
        policy.Authorize(mallory, "tool:invoke", "tool:public").Reason.Should().Be(DecisionReason.InvalidRequest, "fails closed, not just not-admin");
    }

    [Fact]
    public void Authorize_ForgedKind_GeneralPath_InvalidRequest()
    {
        var policy = ReaderAndAdmin();
        policy.Authorize(Subject.WithRoles("root", SubjectKind.User, "admin"), "admin:delete", "db:prod").Allowed.Should().BeTrue();

        // A scoped binding (and more than three bindings) skips the memo.
        var scoped = Forge(new Subject("mallory", SubjectKind.User, [new RoleBinding("reader", "acme")]), Forged);
        policy.Authorize(scoped, "admin:delete", new ResourceRequest("db:prod") { Scope = "acme/x" }).Reason.Should().Be(DecisionReason.InvalidRequest);
        var many = Forge(Subject.WithRoles("mallory", SubjectKind.User, "reader", "reader", "reader", "reader"), Forged);
        policy.Authorize(many, "admin:delete", "db:prod").Reason.Should().Be(DecisionReason.InvalidRequest);
    }

    [Fact]
    public void Authorize_ForgedKind_PolicyBindings_InvalidRequest()
    {
        var p = new TestPolicy().Role("reader", allow: ["tool:invoke on tool:public"]).Role("admin", allow: ["* on **"]);
        p.BoundSubject("mallory", roles: ["reader"]);
        var policy = p.Build();
        var mallory = Forge(new Subject("mallory", SubjectKind.User), Forged);
        policy.Authorize(mallory, "tool:invoke", "tool:public").Reason.Should().Be(DecisionReason.InvalidRequest);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(1000)]
    public void Authorize_ForgedKind_LastRole_DoesNotThrow(int kind)
    {
        var policy = new TestPolicy().Role("only", allow: ["* on **"]).Build();
        var mallory = Forge(Subject.WithRoles("mallory", SubjectKind.User, "only"), (SubjectKind)kind);
        var act = () => policy.Authorize(mallory, "a:b", "x:y");
        act.Should().NotThrow();
        act().Reason.Should().Be(DecisionReason.InvalidRequest);
        var scoped = Forge(new Subject("mallory", SubjectKind.User, [new RoleBinding("only", "acme")]), (SubjectKind)kind);
        policy.Authorize(scoped, "a:b", new ResourceRequest("x:y") { Scope = "acme" }).Reason.Should().Be(DecisionReason.InvalidRequest);
    }

    [Fact]
    public void Authorize_ForgedKindOnBehalfOfLink_DelegationDenied()
    {
        var policy = ReaderAndAdmin();
        var principal = Forge(Subject.WithRoles("mallory", SubjectKind.User, "admin"), Forged);
        var agent = Subject.WithRoles("bot", SubjectKind.Agent, "admin").ActingFor(principal);
        var decision = policy.Authorize(agent, "admin:delete", "db:prod");
        decision.Reason.Should().Be(DecisionReason.DelegationDenied);
        decision.DelegatedReason.Should().Be(DecisionReason.InvalidRequest);
    }

    [Fact]
    public void WhoHoldsWhat_ForgedKind_HoldsNothing()
    {
        var policy = ReaderAndAdmin();
        var mallory = Forge(Subject.WithRoles("mallory", SubjectKind.User, "reader"), Forged);
        policy.EffectiveRoles(mallory).Should().BeEmpty();
        policy.Holdings(mallory).Should().BeEmpty();
        policy.EffectiveRoles(policy.Roles[0], Forged).Should().BeEmpty();
    }

    // The operator's view: every defined kind still decides as before, a kind given by the policy included.
    [Fact]
    public void Authorize_DefinedKinds_Unchanged()
    {
        var p = new TestPolicy()
            .Role("reader", allow: ["tool:invoke on tool:public"])
            .Role("bot-only", allow: ["tool:invoke on tool:bot"], kinds: ["agent"]);
        p.BoundSubject("svc", kind: "service", roles: ["reader"]);
        var policy = p.Build();
        foreach (var kind in Enum.GetValues<SubjectKind>())
        {
            policy.Authorize(Subject.WithRoles("u", kind, "reader"), "tool:invoke", "tool:public").Allowed.Should().BeTrue();
            policy.Authorize(Subject.WithRoles("u", kind, "bot-only"), "tool:invoke", "tool:bot").Allowed.Should().Be(kind == SubjectKind.Agent);
        }

        policy.Authorize(new Subject("svc"), "tool:invoke", "tool:public").Allowed.Should().BeTrue();
    }
}
