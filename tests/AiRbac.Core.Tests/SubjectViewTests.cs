namespace AiRbac.Core.Tests;

/// <summary>
/// Static subjects are decided from a view shared by their effective role set; role sets beyond the view bounds are
/// decided role by role. Both must give the same decisions (the differential test compares them on random policies;
/// these pin the sharing and the bounds).
/// </summary>
public sealed class SubjectViewTests
{
    [Fact]
    public void Subjects_with_the_same_effective_roles_share_one_resolution_with_a_view()
    {
        var policy = new TestPolicy()
            .Role("viewer", allow: ["data:read on output:*"])
            .Role("analyst", allow: ["tool:invoke on tool:report_*"], inherits: ["viewer"])
            .Build();
        var alice = Subject.WithRoles("alice", SubjectKind.User, "analyst");
        var bob = Subject.WithRoles("bob", SubjectKind.User, "viewer", "analyst");
        var carol = Subject.WithRoles("carol", SubjectKind.User, "viewer");

        policy.Authorize(alice, "tool:invoke", "tool:report_weekly").Allowed.Should().BeTrue();
        policy.Authorize(bob, "data:read", "output:summary").Allowed.Should().BeTrue();
        policy.Authorize(carol, "tool:invoke", "tool:report_weekly").Reason.Should().Be(DecisionReason.NoMatchingGrant);

        alice.Resolved!.View.Runs.Should().NotBeNull();
        bob.Resolved.Should().BeSameAs(alice.Resolved, "analyst alone and viewer + analyst make the same roles effective");
        carol.Resolved.Should().NotBeSameAs(alice.Resolved);
    }

    [Fact]
    public void Owner_rule_reads_the_asking_subject_not_the_shared_resolution()
    {
        var policy = new TestPolicy()
            .Role("approver", allow: ["config:approve on config:*"])
            .Owner("config:approve")
            .Build();
        var alice = Subject.WithRoles("alice", SubjectKind.User, "approver");
        var bob = Subject.WithRoles("bob", SubjectKind.User, "approver");
        var ownedByAlice = new ResourceRequest("config:prod") { Owner = "alice" };

        policy.Authorize(alice, "config:approve", ownedByAlice).Reason.Should().Be(DecisionReason.OwnerConflict);
        policy.Authorize(bob, "config:approve", ownedByAlice).Allowed.Should().BeTrue();
        bob.Resolved.Should().BeSameAs(alice.Resolved);
    }

    [Fact]
    public void Role_sets_beyond_the_view_bounds_are_decided_role_by_role_with_the_same_answers()
    {
        // Many exact names for one action are hashed; many actions exceed the run bound.
        string[] manyModels = [.. Enumerable.Range(0, 20).Select(i => $"model:query on model:m{i}")];
        string[] manyActions = [.. Enumerable.Range(0, SubjectView.MaxRuns + 1).Select(i => $"ns:verb{i} on thing:*")];
        var policy = new TestPolicy()
            .Role("catalog-user", allow: [.. manyModels, "model:query on model:x-*"], deny: ["model:query on model:m7"])
            .Role("busy", allow: manyActions, deny: ["ns:verb3 on thing:secret"])
            .Role("plain", allow: ["model:query on model:m3"])
            .Build();
        var catalogUser = Subject.WithRoles("u1", SubjectKind.User, "catalog-user");
        var busy = Subject.WithRoles("u2", SubjectKind.User, "busy");
        var plain = Subject.WithRoles("u3", SubjectKind.User, "plain");

        policy.Authorize(catalogUser, "model:query", "model:m12").Rule.Should().Be("model:query on model:m12");
        policy.Authorize(catalogUser, "model:query", "model:x-1").Rule.Should().Be("model:query on model:x-*");
        policy.Authorize(catalogUser, "model:query", "model:m7").Reason.Should().Be(DecisionReason.ExplicitDeny);
        policy.Authorize(catalogUser, "model:query", "model:m20").Reason.Should().Be(DecisionReason.NoMatchingGrant);
        policy.Authorize(busy, $"ns:verb{SubjectView.MaxRuns}", "thing:a").Rule.Should().Be($"ns:verb{SubjectView.MaxRuns} on thing:*");
        policy.Authorize(busy, "ns:verb3", "thing:secret").Reason.Should().Be(DecisionReason.ExplicitDeny);
        policy.Authorize(busy, "ns:verbX", "thing:a").Reason.Should().Be(DecisionReason.NoMatchingGrant);
        policy.Authorize(plain, "model:query", "model:m3").Allowed.Should().BeTrue();

        catalogUser.Resolved!.View.Runs.Should().BeNull("a hashed run of exact names stays with the role-by-role path");
        busy.Resolved!.View.Runs.Should().BeNull("more actions than a view holds");
        plain.Resolved!.View.Runs.Should().NotBeNull();
    }

    [Fact]
    public void Shared_resolutions_are_bounded_and_subjects_past_the_bound_still_get_the_same_decisions()
    {
        // 20 roles give far more distinct role sets than the bound on shared resolutions.
        var builder = new TestPolicy();
        for (int i = 0; i < 20; i++)
        {
            builder.Role($"r{i}", allow: [$"tool:invoke on tool:t{i}_*"]);
        }

        var policy = builder.Build();
        int sets = 17_000;
        for (int set = 1; set <= sets; set++)
        {
            var roles = Enumerable.Range(0, 20).Where(i => (set & (1 << i)) != 0).Select(i => $"r{i}").ToArray();
            var subject = Subject.WithRoles($"u{set}", SubjectKind.User, roles);
            int granting = Enumerable.Range(0, 20).First(i => (set & (1 << i)) != 0);
            policy.Authorize(subject, "tool:invoke", $"tool:t{granting}_x").Rule.Should().Be($"tool:invoke on tool:t{granting}_*");
            policy.Authorize(subject, "tool:invoke", "tool:none").Reason.Should().Be(DecisionReason.NoMatchingGrant);
        }

        policy.SharedResolutionCount.Should().BeLessThan(sets).And.BeGreaterThan(0);
    }
}
