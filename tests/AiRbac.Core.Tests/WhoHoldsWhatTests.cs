using AiRbac.Diagnostics;
using AiRbac.Model;

namespace AiRbac.Core.Tests;

/// <summary>
/// The core's one "who holds what" (<see cref="CompiledPolicy.EffectiveRoles(Subject, string?, DateTimeOffset?)"/>,
/// <see cref="CompiledPolicy.Holdings"/>, <see cref="CompiledPolicy.SeparationOfDutiesBreaches"/>), structured rules on
/// <see cref="RoleInfo"/>, the one kind-name mapping and the one compile result.
/// </summary>
public sealed class WhoHoldsWhatTests
{
    private static CompiledPolicy Policy() => new TestPolicy()
        .Role("viewer", allow: ["data:read on output:*"])
        .Role("analyst", allow: ["model:query on model:*"], inherits: ["viewer"])
        .Role("human-only", allow: ["config:write on config:*"], kinds: ["user"])
        .Role("lead", allow: ["team:manage on team:*"], inherits: ["human-only"])
        .Role("approver", allow: ["config:approve on config:*"])
        .MutuallyExclusive("human-only", "approver")
        .BoundSubject("ann", kind: "user", roles: ["lead"])
        .BoundSubject("bot", kind: "agent", roles: ["lead", "analyst"])
        .Build();

    [Fact]
    public void EffectiveRoles_Operator_SeesInheritanceWithKindsApplied()
    {
        var policy = Policy();

        policy.EffectiveRoles(new Subject("ann")).Select(r => r.Name).Should().Equal("human-only", "lead");
        policy.EffectiveRoles(new Subject("bot")).Select(r => r.Name).Should().Equal("viewer", "analyst", "lead");
        policy.EffectiveRoles(policy.FindRole("lead")!, SubjectKind.Agent).Select(r => r.Name).Should().Equal("lead");
        policy.EffectiveRoles(policy.FindRole("lead")!).Select(r => r.Name).Should().Equal("human-only", "lead");
        policy.BoundSubjects.Select(s => (s.Id, s.Kind)).Should().Equal(("ann", SubjectKind.User), ("bot", SubjectKind.Agent));
    }

    [Fact]
    public void EffectiveRoles_ScopesAndExpiry_AreAppliedAsStep3()
    {
        var policy = new TestPolicy()
            .Role("a", allow: ["x:y on r:s"])
            .Role("b", allow: ["x:y on r:s"])
            .Build(new FixedClock(TestPolicy.Now));
        var subject = new Subject("s", SubjectKind.User,
            [new RoleBinding("a", Scope: "acme"), new RoleBinding("b", Expires: TestPolicy.Now.AddHours(1))]);

        policy.EffectiveRoles(subject).Select(r => r.Name).Should().Equal("b");
        policy.EffectiveRoles(subject, "acme/pd").Select(r => r.Name).Should().Equal("a", "b");
        policy.EffectiveRoles(subject, "acme/pd", TestPolicy.Now.AddHours(1)).Select(r => r.Name).Should().Equal("a");
        policy.Holdings(subject).Select(h => h.ToString()).Should().Equal("a (in acme)", "b");
    }

    [Fact]
    public void Holdings_Attacker_ManyBindingsThatCannotApply_ChangeNothing()
    {
        // Expired, undeclared and never-applying bindings cannot make a scope set of their own or add a role to one; the
        // holdings and breaches of a subject carrying thousands of them are those of its live bindings alone.
        var policy = new TestPolicy()
            .Role("a", allow: ["x:y on r:s"])
            .Role("b", allow: ["x:z on r:s"])
            .MutuallyExclusive("a", "b")
            .Build(new FixedClock(TestPolicy.Now));
        RoleBinding[] live = [new("a", Scope: "acme"), new("b", Scope: "acme/pd"), new("b", Scope: "other")];
        var noise = Enumerable.Range(0, 5_000).Select(i => (i % 3) switch
        {
            0 => new RoleBinding("a", Scope: "t" + i, Expires: TestPolicy.Now.AddSeconds(-1)),
            1 => new RoleBinding("undeclared-" + i, Scope: "u" + i),
            _ => new RoleBinding("b", Scope: "v" + i, Expires: TestPolicy.Now),
        });
        var plain = new Subject("s", SubjectKind.User, live);
        var noisy = new Subject("s", SubjectKind.User, [.. noise.Take(2_500), .. live, .. noise.Skip(2_500)]);

        policy.Holdings(noisy).Select(h => h.ToString()).Should().Equal(policy.Holdings(plain).Select(h => h.ToString()));
        policy.SeparationOfDutiesBreaches(noisy).Select(b => b.ToString())
            .Should().Equal(policy.SeparationOfDutiesBreaches(plain).Select(b => b.ToString()))
            .And.ContainSingle("a and b are held together in acme/pd only");
    }

    [Fact]
    public void EffectiveRoles_Attacker_MalformedScopeOrForeignRole_HoldsNothingOrThrows()
    {
        var policy = Policy();
        var forged = new Subject("eve", SubjectKind.User, [new RoleBinding("analyst", Scope: "acme//x")]);

        policy.EffectiveRoles(forged).Should().BeEmpty();          // Authorize answers invalid_request: nothing is held
        policy.Holdings(forged).Should().BeEmpty();
        policy.EffectiveRoles(new Subject("ann"), "/bad").Should().BeEmpty();
        policy.EffectiveRoles(new Subject("", SubjectKind.User, [new RoleBinding("analyst")])).Should().BeEmpty();
        var other = new TestPolicy().Role("lead", allow: ["a:b on c:d"]).Build();
        FluentActions.Invoking(() => policy.EffectiveRoles(other.FindRole("lead")!)).Should().Throw<ArgumentException>();
    }

    [Fact]
    public void SeparationOfDutiesBreaches_KindExcludedRole_IsNoBreach_AndMatchesAuthorize()
    {
        var policy = Policy();

        policy.SeparationOfDutiesBreaches(new Subject("bot")).Should().BeEmpty();
        var ann = new Subject("ann", SubjectKind.User, [new RoleBinding("lead"), new RoleBinding("approver")]);
        var breach = policy.SeparationOfDutiesBreaches(ann).Should().ContainSingle().Which;
        breach.Held.Select(r => r.Name).Should().Equal("human-only", "approver");
        breach.Scope.Should().BeNull();
        policy.Authorize(ann, "config:approve", "config:prod").Reason.Should().Be(DecisionReason.SeparationOfDuties);
    }

    [Fact]
    public void BindingsOf_PolicySubject_IsNarrowedAndExpanded_UnknownOrForgedGetsOnlyItsOwn()
    {
        var policy = new TestPolicy()
            .Role("a", allow: ["x:y on r:s"])
            .Role("b", allow: ["x:y on r:s"])
            .Group("g", "b")
            .BoundSubject("s", roles: ["a"], groups: ["g"], scope: "acme/pd", expires: "2030-01-01T00:00:00Z")
            .Build();
        var until = new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

        policy.BindingsOf(new Subject("s")).Should().Equal(new RoleBinding("a", "acme/pd", until), new RoleBinding("b", "acme/pd", until));
        policy.BindingsOf(new Subject("nobody")).Should().BeEmpty();
        var forged = new Subject("s", SubjectKind.User, [new RoleBinding("b")]);
        policy.BindingsOf(forged).Should().Equal(new RoleBinding("b")); // a subject's own bindings replace the policy's
    }

    [Fact]
    public void RoleInfo_Rules_AreStructured()
    {
        var policy = new TestPolicy().Role("r", allow: ["*   on  **", "tool:invoke on tool:report_*"], deny: ["tool:invoke on tool:shell_*"]).Build();
        var role = policy.FindRole("r")!;

        role.Allow.Select(r => (r.Text, r.Action, r.Resource, r.IsEverything)).Should().Equal(
            ("* on **", "*", "**", true), ("tool:invoke on tool:report_*", "tool:invoke", "tool:report_*", false));
        var deny = role.Deny.Should().ContainSingle().Which;
        (deny.Effect, deny.Role, deny.Location.Line > 0).Should().Be((RuleEffect.Deny, "r", true));
    }

    [Fact]
    public void SubjectKinds_NameAndParse_RoundTrip_AndRejectEverythingElse()
    {
        foreach (var kind in Enum.GetValues<SubjectKind>())
        {
            SubjectKinds.TryParse(SubjectKinds.ToName(kind), out var parsed).Should().BeTrue();
            parsed.Should().Be(kind);
        }

        SubjectKinds.AllNames.Should().Equal("user", "service", "agent");
        foreach (string? bad in new[] { null, "", "User", "agent ", "admin", "0" })
        {
            SubjectKinds.TryParse(bad, out _).Should().BeFalse();
        }

        SubjectKinds.ToName((SubjectKind)7).Should().Be("unknown");
    }

    [Fact]
    public void PolicyCompilation_CarriesTheDocument_AndFailedNeedsAnError()
    {
        var test = new TestPolicy().Role("r", allow: ["a:b on c:d"], inherits: ["ghost"]);
        var compilation = test.Compile();

        compilation.Succeeded.Should().BeFalse();
        compilation.Document.Should().NotBeNull("lint and diff read the document even when compiling found errors");
        FluentActions.Invoking(() => PolicyCompilation.Failed([PolicyDiagnostic.Warning("x", "only a warning", new SourceLocation("p", 1, 1))]))
            .Should().Throw<ArgumentException>();
        var failed = PolicyCompilation.Failed([PolicyDiagnostic.Error("x", "broken", new SourceLocation("p", 0, 0))]);
        (failed.Policy, failed.Document, failed.Succeeded).Should().Be((null, null, false));
    }
}
