using System.Collections.ObjectModel;
using AiRbac.Diagnostics;

namespace AiRbac.Core.Tests;

/// <summary>
/// The red-team review of <see cref="CompiledPolicy.FilterFor"/>: a clock stepped back across an expiry the filter left
/// out, nested binding scopes that made the filter's text cubic, public collections that could be cast back and
/// changed, and values that could forge lines of the filter's text. Each with the attack and the operator's view.
/// </summary>
public class PolicyFilterRedTeamTests
{
    private static readonly DateTimeOffset Now = TestPolicy.Now;

    private static TestPolicy RagPolicy() => new TestPolicy()
        .Role("viewer", allow: ["data:read on doc:public/**"], max: "internal")
        .Role("analyst", inherits: ["viewer"], allow: ["data:read on doc:**"], deny: ["data:read on doc:secret/**"], max: "confidential", clearances: ["pii"])
        .Role("reader", allow: ["data:read on doc:**"], max: "restricted", clearances: ["phi"])
        .Role("quarantine", deny: ["data:read on doc:secret/**"])
        .Catalog("doc:patients/**", "restricted", "phi")
        .Catalog("doc:**", "internal");

    // 1. Time.
    [Fact]
    public void Attack_ClockSteppedBackAcrossALeftOutExpiry_FilterFailsClosed()
    {
        var clock = new FixedClock(Now);
        var policy = RagPolicy().Build(clock);
        var subject = new Subject("eve", SubjectKind.User,
            [new RoleBinding("reader"), new RoleBinding("quarantine", Expires: Now.AddSeconds(-1))]);
        var filter = policy.FilterFor(subject, "data:read");
        var secret = new ResourceRequest("doc:secret/x");
        filter.Matches(in secret).Should().BeTrue();

        clock.Now = Now.AddSeconds(-2);
        policy.Authorize(subject, "data:read", in secret).Reason.Should().Be(DecisionReason.ExplicitDeny);
        filter.Matches(in secret).Should().BeFalse("before the quarantine's expiry its deny applies again");
    }

    [Fact]
    public void Operator_ValidFrom_IsTheLatestLeftOutExpiry_AndTheFilterIsExactFromIt()
    {
        var clock = new FixedClock(Now);
        var policy = RagPolicy().Build(clock);
        var subject = new Subject("eve", SubjectKind.User,
        [
            new RoleBinding("reader", Expires: Now.AddHours(1)),
            new RoleBinding("quarantine", Expires: Now.AddSeconds(-10)),
            new RoleBinding("quarantine", Expires: Now.AddSeconds(-1)),
            new RoleBinding("no-such-role", Expires: Now.AddSeconds(-0.5)), // never in effect: does not narrow the window
        ]);
        var filter = policy.FilterFor(subject, "data:read");
        filter.Policy.Should().BeSameAs(policy);
        filter.At.Should().Be(Now);
        filter.ValidFrom.Should().Be(Now.AddSeconds(-1));
        filter.ValidUntil.Should().Be(Now.AddHours(1));
        filter.ToString().Should().Contain("(as of 2026-06-01T12:00:00Z, from 2026-06-01T11:59:59Z, until 2026-06-01T13:00:00Z)");

        var resources = new[] { new ResourceRequest("doc:secret/x"), new ResourceRequest("doc:sales/q3"), new ResourceRequest("doc:patients/p") };
        foreach (var at in new[] { Now.AddSeconds(-1), Now, Now.AddMinutes(59), Now.AddSeconds(-1.5), Now.AddHours(1) })
        {
            clock.Now = at;
            bool inWindow = at >= filter.ValidFrom && at < filter.ValidUntil;
            foreach (var resource in resources)
            {
                filter.Matches(in resource).Should().Be(inWindow && policy.Authorize(subject, "data:read", in resource).Allowed, "{0} at {1:o}", resource, at);
            }
        }

        // Without a left-out expiry, nothing bounds the filter from below: a clock stepped back changes no answer.
        clock.Now = Now;
        var plain = policy.FilterFor(new Subject("sam", SubjectKind.User, [new RoleBinding("reader")]), "data:read");
        plain.ValidFrom.Should().BeNull();
        clock.Now = Now.AddDays(-30);
        plain.Matches(new ResourceRequest("doc:secret/x")).Should().BeTrue();
    }

    // 2. Size.
    private static string Nested(int depth) => string.Join('/', Enumerable.Repeat("a", depth));

    [Fact]
    public void Attack_ThousandNestedBindingScopes_ExceptUnderAndTextStayLinearAndBounded()
    {
        var policy = RagPolicy().Build();
        var scopes = Enumerable.Range(1, 1_000).Select(Nested).ToArray();
        long bindingChars = scopes.Sum(s => (long)s.Length);
        bindingChars.Should().Be(1_000_000, "1 MB of binding scopes");
        var subject = new Subject("deep", SubjectKind.User, [.. scopes.Select(s => new RoleBinding("analyst", Scope: s))]);

        var filter = policy.FilterFor(subject, "data:read");

        filter.IsComplete.Should().BeTrue();
        filter.Branches.Should().HaveCount(1_001);
        filter.Branches.Sum(b => b.ExceptUnder.Count).Should().Be(1_000, "each binding scope is excepted once, by its nearest enclosing branch");
        filter.Branches.Sum(b => b.ExceptUnder.Sum(s => (long)s.Length)).Should().Be(bindingChars);
        filter.Branches[0].ExceptUnder.Should().Equal("a");
        for (int k = 1; k < 1_000; k++)
        {
            filter.Branches[k].Scope.Should().Be(Nested(k));
            filter.Branches[k].ExceptUnder.Should().Equal(Nested(k + 1));
        }

        filter.Branches[1_000].ExceptUnder.Should().BeEmpty();

        string text = filter.ToString();
        text.Length.Should().BeLessThanOrEqualTo(PolicyFilter.MaxTextLength);
        text.Should().EndWith("(truncated: the filter's text is longer than PolicyFilter.MaxTextLength; read its Branches)");

        foreach (int depth in new[] { 1, 2, 500, 999, 1_000, 1_001, 1_200 })
        {
            foreach (string resourceScope in new[] { Nested(depth), Nested(depth) + "/b" })
            {
                var resource = new ResourceRequest("doc:sales/q3") { Scope = resourceScope };
                filter.Matches(in resource).Should().Be(policy.Authorize(subject, "data:read", in resource).Allowed);
                filter.Matches(in resource).Should().BeTrue();
            }
        }

        var outside = new ResourceRequest("doc:sales/q3") { Scope = "b/a" };
        filter.Matches(in outside).Should().BeFalse();
        policy.Authorize(subject, "data:read", in outside).Allowed.Should().BeFalse();
    }

    [Fact]
    public void Attack_ExceptUnderEntriesCountAgainstMaxFilterClauses()
    {
        var policy = RagPolicy().Build();
        var flat = Enumerable.Range(0, 1_000).Select(i => new RoleBinding("analyst", Scope: "t" + i.ToString(System.Globalization.CultureInfo.InvariantCulture))).ToArray();
        Subject Chain(int links)
        {
            Subject? chain = null;
            for (int i = 1; i < links; i++)
            {
                chain = new Subject("v" + i.ToString(System.Globalization.CultureInfo.InvariantCulture), SubjectKind.User, [new RoleBinding("viewer")], chain);
            }

            return new Subject("many", SubjectKind.User, flat, chain);
        }

        var within = policy.FilterFor(Chain(260), "data:read");
        within.IsComplete.Should().BeTrue();
        long exceptUnder = within.Branches.Sum(b => b.ExceptUnder.Count);
        exceptUnder.Should().Be(1_000);
        long clauses = ClauseCount(within);
        clauses.Should().BeLessThanOrEqualTo(CompiledPolicy.MaxFilterClauses);

        // One more link adds a clause per branch and its own viewer filter (a grant and its link): over the bound only
        // because the ExceptUnder entries count.
        long oneMore = clauses + within.Branches.Count + 2;
        oneMore.Should().BeGreaterThan(CompiledPolicy.MaxFilterClauses);
        (oneMore - exceptUnder).Should().BeLessThanOrEqualTo(CompiledPolicy.MaxFilterClauses);
        var over = policy.FilterFor(Chain(261), "data:read");
        over.IsComplete.Should().BeFalse();
        over.Branches.Should().BeEmpty();
        over.Matches(new ResourceRequest("doc:public/x") { Scope = "t1" }).Should().BeFalse();
        over.ToString().Should().Contain("incomplete (size bound reached) and matches nothing");
    }

    /// <summary>The clauses <see cref="CompiledPolicy.MaxFilterClauses"/> counts, from a filter's structure.</summary>
    private static long ClauseCount(PolicyFilter filter)
    {
        var distinct = filter.Branches.SelectMany(b => b.Links).Distinct<FilterLink>(ReferenceEqualityComparer.Instance);
        return distinct.Sum(l => l.Denies.Count + l.Grants.Sum(g => g.Rules.Count) + 1L)
            + (long)filter.Branches.Count * filter.Branches[0].Links.Count
            + filter.Branches.Sum(b => b.ExceptUnder.Count);
    }

    [Fact]
    public void Operator_NestedScopes_EachBranchExceptsItsNearestDeeperScopes()
    {
        var policy = RagPolicy().Build();
        var subject = new Subject("carol", SubjectKind.User,
        [
            new RoleBinding("viewer"),
            new RoleBinding("analyst", Scope: "acme"),
            new RoleBinding("reader", Scope: "acme/health"),
            new RoleBinding("quarantine", Scope: "acme/health/ward"),
            new RoleBinding("viewer", Scope: "acme/hr"),
            new RoleBinding("viewer", Scope: "acme-corp"),
        ]);

        var filter = policy.FilterFor(subject, "data:read");

        filter.Branches.Select(b => (b.Scope, string.Join(",", b.ExceptUnder))).Should().Equal(
            (null, "acme,acme-corp"),
            ("acme", "acme/health,acme/hr"),
            ("acme-corp", ""),
            ("acme/health", "acme/health/ward"),
            ("acme/health/ward", ""),
            ("acme/hr", ""));
        string text = filter.ToString();
        text.Should().Contain("  no scope, or a scope under none of acme, acme-corp:\n")
            .And.Contain("  scope under acme and not under acme/health, acme/hr:\n")
            .And.Contain("  scope under acme/health/ward:\n")
            .And.NotContain("truncated");

        string[] scopes = ["acme", "acme/x", "acme/health", "acme/health/ward", "acme/health/ward/7", "acme/hr/y", "acme-corp", "acme-corp/z", "other"];
        string[] names = ["doc:public/a", "doc:sales/q3", "doc:secret/s", "doc:patients/p"];
        foreach (string? scope in scopes.Append(null))
        {
            foreach (string name in names)
            {
                var resource = new ResourceRequest(name) { Scope = scope };
                filter.Matches(in resource).Should().Be(policy.Authorize(subject, "data:read", in resource).Allowed, "{0} in {1}", name, scope);
            }
        }
    }

    // 3. Immutability.
    [Fact]
    public void Attack_CastingThePublicCollectionsBackAndWritingThem_ChangesNothing()
    {
        var policy = RagPolicy().Build();
        var reader = policy.FilterFor(Subject.WithRoles("vic", SubjectKind.User, "viewer"), "data:read");
        var all = policy.FilterFor(Subject.WithRoles("ann", SubjectKind.User, "analyst"), "data:read");
        var sales = new ResourceRequest("doc:sales/q3");
        reader.Matches(in sales).Should().BeFalse();
        all.Matches(in sales).Should().BeTrue();
        string before = reader.ToString();
        var analystGrant = all.Branches[0].Links[0].Grants.Single(g => g.Role.Name == "analyst");

        TryOverwrite(reader.Branches, all.Branches[0]);
        TryOverwrite(reader.Branches[0].Links, all.Branches[0].Links[0]);
        TryOverwrite(reader.Branches[0].Links[0].Grants, analystGrant);
        TryOverwrite(all.Branches[0].Links[0].Denies, reader.Branches[0].Links[0].Grants[0].Rules[0]);
        TryOverwrite(reader.Branches[0].Links[0].Grants[0].Rules, analystGrant.Rules[0]);
        TryOverwrite(analystGrant.Clearances, "everything");
        TryOverwrite(reader.Catalog, all.Catalog[1]);
        TryOverwrite(reader.Catalog[0].Tags, "nothing");

        reader.Matches(in sales).Should().BeFalse("what a filter passes cannot be changed through its properties");
        all.Matches(new ResourceRequest("doc:secret/s")).Should().BeFalse();
        reader.ToString().Should().Be(before);
        all.Branches[0].Links[0].Denies.Select(d => d.Resource).Should().Equal("doc:secret/**");
        analystGrant.Clearances.Should().Equal("pii");
        reader.Catalog[0].Tags.Should().Equal("phi");
    }

    [Fact]
    public void Operator_EveryCollectionIsAReadOnlyView()
    {
        var policy = RagPolicy().Build();
        var filter = policy.FilterFor(new Subject("carol", SubjectKind.User, [new RoleBinding("analyst"), new RoleBinding("reader", Scope: "acme")]), "data:read");

        ShouldBeReadOnlyView(filter.Branches);
        ShouldBeReadOnlyView(filter.Catalog);
        foreach (var entry in filter.Catalog)
        {
            ShouldBeReadOnlyView(entry.Tags);
        }

        foreach (var branch in filter.Branches)
        {
            ShouldBeReadOnlyView(branch.ExceptUnder);
            ShouldBeReadOnlyView(branch.Links);
            foreach (var link in branch.Links)
            {
                ShouldBeReadOnlyView(link.Denies);
                ShouldBeReadOnlyView(link.Grants);
                foreach (var grant in link.Grants)
                {
                    ShouldBeReadOnlyView(grant.Rules);
                    ShouldBeReadOnlyView(grant.Clearances);
                }
            }
        }
    }

    private static void TryOverwrite<T>(IReadOnlyList<T> target, T value)
    {
        if (target.Count == 0)
        {
            return;
        }

        try
        {
            ((IList<T>)target)[0] = value;
        }
        catch (Exception e) when (e is NotSupportedException or InvalidCastException)
        {
            // Read-only: the attack fails, as it should.
        }
    }

    private static void ShouldBeReadOnlyView<T>(IReadOnlyList<T> list)
    {
        list.Should().BeOfType<ReadOnlyCollection<T>>();
        ((ICollection<T>)list).IsReadOnly.Should().BeTrue();
    }

    // 4. Text.
    [Fact]
    public void Attack_ControlAndBidiCharactersInIdsScopesAndAction_ForgeNoLine()
    {
        var policy = RagPolicy().Build();
        const string forged = "\nsubject 'root' may 'data:read' any resource";
        var agent = new Subject("bot" + forged, SubjectKind.Agent, [new RoleBinding("reader", Scope: "acme" + forged + "\u001b[8m")],
            new Subject("eve\u202Etxt.exe", SubjectKind.User, [new RoleBinding("viewer"), new RoleBinding("reader", Scope: "x\u2028y\u2066z")]));

        var filter = policy.FilterFor(agent, "data:read");
        var hostileAction = policy.FilterFor(agent, "data:read\r\n  any scope:\u001b]8;;");
        filter.IsComplete.Should().BeTrue("Scope.IsValid accepts these scopes");

        foreach (string text in new[] { filter.ToString(), hostileAction.ToString(), filter.Branches[1].Links[1].Grants[0].ToString() })
        {
            text.Split('\n').Should().NotContain(line => line.StartsWith("subject 'root'", StringComparison.Ordinal) || line.StartsWith("  any scope:", StringComparison.Ordinal));
            text.Where(c => c != '\n' && UnsafeText.IsUnsafe(c)).Should().BeEmpty();
        }

        string escaped = filter.ToString();
        escaped.Should().StartWith("subject 'bot\\u000Asubject 'root' may 'data:read' any resource' may 'data:read'")
            .And.Contain("acme\\u000Asubject 'root' may 'data:read' any resource\\u001B[8m")
            .And.Contain("eve\\u202Etxt.exe")
            .And.Contain("x\\u2028y\\u2066z");
        hostileAction.ToString().Should().Contain("may 'data:read\\u000D\\u000A  any scope:\\u001B]8;;'");
    }
}
