namespace AiRbac.Core.Tests;

/// <summary>
/// A <see cref="SubjectKind"/> outside the enum (a cast integer from a caller's claim mapping) makes no role effective:
/// it must never index another role's or another kind's closure, nor another kind's binding memo key (both once granted
/// such a subject the roles of a different binding).
/// </summary>
public class OutOfRangeKindTests
{
    [Theory]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(255)]
    [InlineData(-1)]
    public void Authorize_KindOutsideTheEnum_NoActiveRole(int kind)
    {
        var policy = new TestPolicy().Role("low", allow: ["x:y on a:b"]).Role("high", allow: ["* on **"]).Role("third", allow: ["* on **"]).Build();
        foreach (var valid in Enum.GetValues<SubjectKind>())
        {
            // Every closure and memo entry of the other roles and kinds exists before the bogus kind asks.
            policy.Authorize(Subject.WithRoles("s", valid, "high"), "model:query", "model:x").Allowed.Should().BeTrue();
            policy.Authorize(Subject.WithRoles("s", valid, "third"), "model:query", "model:x").Allowed.Should().BeTrue();
            policy.Authorize(Subject.WithRoles("s", valid, "low"), "model:query", "model:x").Allowed.Should().BeFalse();
        }

        var plain = new Subject("evil", (SubjectKind)kind, [new RoleBinding("low")]);
        var scoped = new Subject("evil", (SubjectKind)kind, [new RoleBinding("low", Scope: "acme")]);
        var inAcme = new ResourceRequest("model:x") { Scope = "acme" };

        policy.Authorize(plain, "model:query", "model:x").Reason.Should().Be(DecisionReason.NoActiveRole);
        policy.Authorize(plain, "x:y", "a:b").Reason.Should().Be(DecisionReason.NoActiveRole);
        policy.Authorize(scoped, "model:query", in inAcme).Reason.Should().Be(DecisionReason.NoActiveRole);
        var decisions = new Decision[1];
        policy.AuthorizeMany(plain, "model:query", [new ResourceRequest("model:x")], decisions);
        decisions[0].Reason.Should().Be(DecisionReason.NoActiveRole);
        policy.EffectiveRoles(plain).Should().BeEmpty();
        var filter = policy.FilterFor(plain, "x:y");
        filter.Matches(new ResourceRequest("a:b")).Should().BeFalse();
        filter.Branches[0].Links[0].DeniedBecause.Should().Be(DecisionReason.NoActiveRole);
    }
}
