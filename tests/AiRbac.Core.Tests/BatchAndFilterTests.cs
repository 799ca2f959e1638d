namespace AiRbac.Core.Tests;

/// <summary>
/// <see cref="CompiledPolicy.AuthorizeMany"/> and <see cref="CompiledPolicy.FilterFor"/> as an attacker would use them:
/// mixed and invalid batches, huge batches, mismatched spans, long chains, hostile numbers of scoped bindings; and what
/// they allocate.
/// </summary>
public class BatchAndFilterTests
{
    private static readonly DateTimeOffset Now = TestPolicy.Now;

    private static TestPolicy RagPolicy() => new TestPolicy()
        .Role("viewer", allow: ["data:read on doc:public/**"], max: "internal")
        .Role("analyst", inherits: ["viewer"], allow: ["data:read on doc:**", "data:approve on doc:**"], deny: ["data:read on doc:secret/**"], max: "confidential", clearances: ["pii"])
        .Role("clinician", allow: ["data:read on doc:patients/**"], max: "restricted", clearances: ["phi"])
        .Role("assistant", kinds: ["agent"], allow: ["data:read on doc:**"], max: "restricted", clearances: ["phi", "pii"])
        .Role("a", allow: ["data:read on **"]).Role("b", allow: ["data:read on **"])
        .Catalog("doc:patients/**", "restricted", "phi")
        .Catalog("doc:hr/**", "confidential", "pii")
        .Catalog("doc:public/**", "public")
        .Catalog("doc:**", "internal")
        .MutuallyExclusive("a", "b")
        .Owner("data:approve");

    private static ResourceRequest[] MixedResources() =>
    [
        new("doc:public/faq"),
        new("doc:sales/q3"),
        new("doc:secret/plan"),
        new("doc:hr/salaries"),
        new("doc:patients/p-1") { Scope = "acme/health/ward-3" },
        new("doc:patients/p-2") { Scope = "acme/health", Sensitivity = "internal" },
        new("doc:sales/q4") { Sensitivity = "restricted" },
        new("doc:sales/q5") { Tags = new[] { "pii" } },
        new("doc:sales/q6") { Tags = new[] { "never-declared" } },
        new("doc:sales/q7") { Sensitivity = "top-secret" },
        new("doc:sales/q8") { Scope = "acme//bad" },
        new(string.Empty),
        default,
        new("doc:sales/q9") { Owner = "alice" },
        new("model:gpt-4o"),
        new("doc:patients/p-3") { Scope = "globex" },
    ];

    private static Subject[] Subjects() =>
    [
        Subject.WithRoles("alice", SubjectKind.User, "analyst"),
        new Subject("carol", SubjectKind.User, [new RoleBinding("clinician", Scope: "acme/health"), new RoleBinding("viewer", Expires: Now.AddDays(1))]),
        Subject.WithRoles("bot", SubjectKind.Agent, "assistant").ActingFor(new Subject("carol", SubjectKind.User, [new RoleBinding("clinician", Scope: "acme/health")])),
        Subject.WithRoles("bot", SubjectKind.Agent, "assistant").ActingFor(Subject.WithRoles("alice", SubjectKind.User, "analyst")),
        Subject.WithRoles("conflicted", SubjectKind.User, "a", "b"),
        Subject.WithRoles(string.Empty, SubjectKind.User, "analyst"),
        Subject.WithRoles("ghost", SubjectKind.User, "no-such-role"),
        new Subject("nobody", SubjectKind.User, []),
        new Subject("badscope", SubjectKind.User, [new RoleBinding("analyst", Scope: "/x")]),
        Subject.WithRoles("bot", SubjectKind.User, "assistant"),
    ];

    [Fact]
    public void AuthorizeMany_MixedBatch_EachItemIsWhatAuthorizeAnswers()
    {
        var policy = RagPolicy().Build();
        var resources = MixedResources();
        foreach (string action in new[] { "data:read", "data:approve", "model:query", string.Empty })
        {
            foreach (var subject in Subjects())
            {
                var decisions = new Decision[resources.Length];
                policy.AuthorizeMany(subject, action, resources, decisions);
                for (int i = 0; i < resources.Length; i++)
                {
                    decisions[i].Should().Be(policy.Authorize(subject, action, in resources[i]), "item {0} for {1} {2}", i, subject.Id, action);
                }
            }
        }

        // The batch mixes allowed and denied items.
        var alice = new Decision[resources.Length];
        policy.AuthorizeMany(Subjects()[0], "data:read", resources, alice);
        alice.Select(d => d.Reason).Should().Contain([DecisionReason.Allowed, DecisionReason.ExplicitDeny, DecisionReason.SensitivityCeiling,
            DecisionReason.MissingTagClearance, DecisionReason.InvalidRequest, DecisionReason.NoMatchingGrant]);
    }

    [Fact]
    public void AuthorizeMany_ReusedSubjects_EachItemIsWhatAuthorizeAnswers()
    {
        // Subjects decided before the batch kept their table: the batch resolves steps 1 to 5 and the run once, before the
        // first item, and decides every item in its per-item loop. Invalid items must stay invalid_request (step 2) even
        // for a subject whose set breaks separation of duties (step 4) or has no role in effect (step 5).
        var policy = RagPolicy().Build();
        var resources = MixedResources();
        var reasons = new HashSet<DecisionReason>();
        foreach (string action in new[] { "data:read", "data:approve", "model:query", string.Empty })
        {
            foreach (var subject in Subjects())
            {
                var singles = new Decision[resources.Length];
                for (int i = 0; i < resources.Length; i++)
                {
                    singles[i] = policy.Authorize(subject, action, in resources[i]);
                }

                var decisions = new Decision[resources.Length];
                policy.AuthorizeMany(subject, action, resources, decisions);
                decisions.Should().Equal(singles, "every item for {0} {1}", subject.Id, action);
                reasons.UnionWith(decisions.Select(d => d.Reason));
            }
        }

        reasons.Should().Contain([DecisionReason.Allowed, DecisionReason.InvalidRequest, DecisionReason.SeparationOfDuties, DecisionReason.NoActiveRole,
            DecisionReason.ExplicitDeny, DecisionReason.OwnerConflict, DecisionReason.NoMatchingGrant, DecisionReason.SensitivityCeiling,
            DecisionReason.MissingTagClearance, DecisionReason.DelegationDenied, DecisionReason.MissingIdentity]);

        var conflicted = new Decision[resources.Length];
        var ab = Subjects()[4];
        policy.AuthorizeMany(ab, "data:read", resources, conflicted);
        policy.AuthorizeMany(ab, "data:read", resources, conflicted); // the second time with its table kept
        conflicted.Select(d => d.Reason).Distinct().Should().BeEquivalentTo([DecisionReason.SeparationOfDuties, DecisionReason.InvalidRequest]);
    }

    [Fact]
    public void AuthorizeMany_SubjectDecidedByAnotherPolicy_AnswersWithThisPolicy()
    {
        // A policy reload: a subject that kept the old policy's table must be decided by the new one.
        var before = RagPolicy().Build();
        var after = new TestPolicy()
            .Role("analyst", allow: ["data:read on doc:public/**"], deny: ["data:read on doc:sales/**"], max: "internal")
            .Catalog("doc:**", "internal")
            .Build();
        var alice = Subjects()[0];
        var resources = MixedResources();
        var decisions = new Decision[resources.Length];
        before.AuthorizeMany(alice, "data:read", resources, decisions);
        decisions.Count(d => d.Allowed).Should().BeGreaterThan(1);

        after.AuthorizeMany(alice, "data:read", resources, decisions);
        for (int i = 0; i < resources.Length; i++)
        {
            decisions[i].Should().Be(after.Authorize(Subjects()[0], "data:read", in resources[i]), "item {0}", i);
        }

        decisions.Where(d => d.Allowed).Should().ContainSingle("only doc:public/faq is readable under the new policy");
        decisions[1].Reason.Should().Be(DecisionReason.ExplicitDeny);

        before.AuthorizeMany(alice, "data:read", resources, decisions); // and back
        for (int i = 0; i < resources.Length; i++)
        {
            decisions[i].Should().Be(before.Authorize(Subjects()[0], "data:read", in resources[i]), "item {0}", i);
        }
    }

    [Fact]
    public void AuthorizeMany_SubjectSharedWithAnotherPolicyOnAnotherThread_StaysExact()
    {
        // One subject object, two policies, two threads: the other thread keeps writing the tables the subject keeps, while
        // this one decides batches. Every batch must still be exactly this policy's answers.
        var mine = RagPolicy().Build();
        var other = new TestPolicy().Role("analyst", allow: ["data:read on **"], max: "restricted", clearances: ["phi", "pii"]).Build();
        var shared = Subject.WithRoles("alice", SubjectKind.User, "analyst").ActingFor(Subject.WithRoles("carol", SubjectKind.User, "analyst"));
        var resources = MixedResources();
        var expected = new Decision[resources.Length];
        mine.AuthorizeMany(Subject.WithRoles("alice", SubjectKind.User, "analyst").ActingFor(Subject.WithRoles("carol", SubjectKind.User, "analyst")), "data:read", resources, expected);
        expected.Should().Contain(d => d.Allowed).And.Contain(d => !d.Allowed);

        bool stop = false;
        int flips = 0;
        var flipper = new Thread(() =>
        {
            while (!Volatile.Read(ref stop))
            {
                other.Authorize(shared, "data:read", "doc:secret/plan");
                other.Authorize(shared.OnBehalfOf!, "data:read", "doc:secret/plan");
                Interlocked.Increment(ref flips);
            }
        });
        flipper.Start();
        var decisions = new Decision[resources.Length];
        int batches = 0;
        string? failure = null;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (failure is null && (batches < 2_000 || Volatile.Read(ref flips) < 1_000) && clock.ElapsedMilliseconds < 10_000)
        {
            mine.AuthorizeMany(shared, "data:read", resources, decisions);
            if (!decisions.AsSpan().SequenceEqual(expected))
            {
                failure = $"batch {batches}: [{string.Join(", ", decisions)}] instead of [{string.Join(", ", expected)}]";
            }

            batches++;
        }

        Volatile.Write(ref stop, true);
        flipper.Join();
        failure.Should().BeNull();
        Volatile.Read(ref flips).Should().BeGreaterThan(0, "the other thread must have run");
    }

    [Fact]
    public void AuthorizeMany_MismatchedSpans_ThrowsAndLeavesOnlyDenials()
    {
        var policy = RagPolicy().Build();
        var resources = MixedResources();
        var alice = Subjects()[0];
        var shorter = new Decision[resources.Length - 1];
        var longer = new Decision[resources.Length + 1];
        policy.AuthorizeMany(alice, "data:read", resources[..^1], shorter); // every item allowed or denied, some allowed
        shorter.Should().Contain(d => d.Allowed);

        var tooShort = () => policy.AuthorizeMany(alice, "data:read", resources, shorter);
        var tooLong = () => policy.AuthorizeMany(alice, "data:read", resources, longer);

        tooShort.Should().Throw<ArgumentException>().WithParameterName("decisions");
        tooLong.Should().Throw<ArgumentException>().WithParameterName("decisions");
        shorter.Should().OnlyContain(d => !d.Allowed, "no partial answer: a caller that swallows the exception sees denials");
        longer.Should().OnlyContain(d => !d.Allowed);
        policy.AuthorizeMany(alice, "data:read", [], []); // empty is fine
    }

    [Fact]
    public void AuthorizeMany_NullSubjectOrAction_DeniesEveryItem()
    {
        var policy = RagPolicy().Build();
        var resources = MixedResources();
        var decisions = new Decision[resources.Length];

        policy.AuthorizeMany(null!, "data:read", resources, decisions);
        decisions.Should().OnlyContain(d => d.Reason == DecisionReason.MissingIdentity);

        policy.AuthorizeMany(Subjects()[0], null!, resources, decisions);
        decisions.Should().OnlyContain(d => d.Reason == DecisionReason.InvalidRequest);
    }

    [Fact]
    public void AuthorizeMany_HugeBatchAndLongChain_MatchAuthorize()
    {
        var policy = RagPolicy().Build();
        var mixed = MixedResources();
        var resources = new ResourceRequest[100_000];
        for (int i = 0; i < resources.Length; i++)
        {
            resources[i] = i % 3 == 0 ? mixed[i % mixed.Length] : new ResourceRequest("doc:n/" + (i % 977).ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        // Twenty links, past the eight a batch resolves once: the rest are resolved per item, by the same code.
        Subject chain = Subject.WithRoles("root", SubjectKind.User, "analyst");
        for (int i = 0; i < 20; i++)
        {
            chain = (i % 2 == 0 ? Subject.WithRoles("bot" + i, SubjectKind.Agent, "assistant") : Subject.WithRoles("u" + i, SubjectKind.User, "analyst")).ActingFor(chain);
        }

        foreach (var subject in new[] { chain, Subjects()[1], Subjects()[2] })
        {
            var decisions = new Decision[resources.Length];
            policy.AuthorizeMany(subject, "data:read", resources, decisions);
            int allowed = 0;
            for (int i = 0; i < resources.Length; i++)
            {
                if (decisions[i] != policy.Authorize(subject, "data:read", in resources[i]))
                {
                    Assert.Fail($"item {i} ({resources[i].Name}) for {subject.Id}: batch {decisions[i]}, single {policy.Authorize(subject, "data:read", in resources[i])}");
                }

                allowed += decisions[i].Allowed ? 1 : 0;
            }

            allowed.Should().BeGreaterThan(0);
        }
    }

    [Fact]
    public void AuthorizeMany_ExpiringBindingMidBatch_ReadsTheClockPerItemLikeAuthorize()
    {
        // carol's viewer binding expires while the batch runs: each item reads the clock as a single call would.
        var clock = new TickingClock(Now);
        var policy = RagPolicy().Build(clock);
        clock.Set(Now.AddDays(1).AddTicks(-3)); // compiling read the clock too
        var carol = new Subject("carol", SubjectKind.User, [new RoleBinding("viewer", Expires: Now.AddDays(1))]);
        var resources = Enumerable.Repeat(new ResourceRequest("doc:public/faq"), 6).ToArray();
        var decisions = new Decision[resources.Length];

        policy.AuthorizeMany(carol, "data:read", resources, decisions);

        decisions.Select(d => d.Reason).Should().Equal(DecisionReason.Allowed, DecisionReason.Allowed, DecisionReason.Allowed,
            DecisionReason.NoActiveRole, DecisionReason.NoActiveRole, DecisionReason.NoActiveRole);
    }

    [Fact]
    public void AuthorizeMany_ItemDifferingFromThePreviousInOneField_IsDecidedItself()
    {
        // An item equal to the one before it takes that decision; an attacker who repeats an allowed item with one field
        // changed (name, scope, tier, tags, owner) must not inherit the allowed decision.
        var policy = RagPolicy().Build();
        var alice = Subjects()[0];
        var allowed = new ResourceRequest("doc:sales/q3") { Tags = new[] { "pii" } };
        ResourceRequest[] variants =
        [
            allowed with { Name = "doc:secret/plan" },
            allowed with { Name = "doc:Sales/q3" },
            allowed with { Scope = "acme//bad" },
            allowed with { Sensitivity = "restricted" },
            allowed with { Sensitivity = "top-secret" },
            allowed with { Tags = new[] { "pii", "phi" } },
            allowed with { Tags = new[] { "phi" } },
            allowed with { Tags = new[] { "never-declared" } },
            allowed with { Name = string.Empty },
        ];
        var resources = variants.SelectMany(v => new[] { allowed, v, v, allowed }).ToArray();
        policy.Authorize(alice, "data:read", in allowed).Allowed.Should().BeTrue();
        alice.TableFor(policy).Should().NotBeNull("alice's set is fixed: the batch takes its per-item loop");

        var decisions = new Decision[resources.Length];
        policy.AuthorizeMany(alice, "data:read", resources, decisions);

        for (int i = 0; i < resources.Length; i++)
        {
            decisions[i].Should().Be(policy.Authorize(alice, "data:read", in resources[i]), "item {0}", i);
            decisions[i].Allowed.Should().Be(i % 4 is 0 or 3 || variants[i / 4].Name == "doc:Sales/q3", "item {0}", i);
        }

        // The owner rule: the same approval, owned by someone else and then by alice herself.
        var approval = new ResourceRequest("doc:sales/q3") { Owner = "bob" };
        ResourceRequest[] approvals = [approval, approval, approval with { Owner = "alice" }, approval with { Owner = "alice" }, approval];
        var approved = new Decision[approvals.Length];
        policy.AuthorizeMany(alice, "data:approve", approvals, approved);
        approved.Select(d => d.Reason).Should().Equal(DecisionReason.Allowed, DecisionReason.Allowed, DecisionReason.OwnerConflict,
            DecisionReason.OwnerConflict, DecisionReason.Allowed);
    }

    [Fact]
    public void AuthorizeMany_RepeatedItemsOfOneDocument_AnswerAsAuthorizeWithoutAllocating()
    {
        // The chunks of one retrieved document: the same name, scope and tags, as equal strings from different objects.
        var policy = RagPolicy().Build();
        var resources = Enumerable.Range(0, 64).Select(i => new ResourceRequest(new string("doc:hr/salaries".AsSpan()))
        {
            Scope = new string("acme/hr".AsSpan()),
            Tags = new[] { new string("pii".AsSpan()) },
        }).ToArray();
        foreach (var subject in Subjects())
        {
            var decisions = new Decision[resources.Length];
            policy.AuthorizeMany(subject, "data:read", resources, decisions);
            policy.AuthorizeMany(subject, "data:read", resources, decisions); // with the table kept
            decisions.Should().OnlyContain(d => d == policy.Authorize(subject, "data:read", in resources[0]), "for {0}", subject.Id);
        }

        var alice = Subjects()[0];
        var answers = new Decision[resources.Length];
        policy.AuthorizeMany(alice, "data:read", resources, answers);
        answers.Should().OnlyContain(d => d.Allowed);
        long allocated = long.MaxValue;
        for (int attempt = 0; attempt < 3 && allocated != 0; attempt++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int r = 0; r < 2_000; r++)
            {
                policy.AuthorizeMany(alice, "data:read", resources, answers);
            }

            allocated = Math.Min(allocated, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        allocated.Should().Be(0);
    }

    [Fact]
    public void AuthorizeMany_RepeatedItemsForAnAgentWhosePrincipalsBindingExpiresMidBatch_ReadTheClockPerItem()
    {
        // The agent kept its table, but the user it acts for has an expiring binding: identical items are not copied from
        // the one before, since each must read the clock as a single call would.
        var clock = new TickingClock(Now);
        var policy = RagPolicy().Build(clock);
        var bot = Subject.WithRoles("bot", SubjectKind.Agent, "assistant")
            .ActingFor(new Subject("carol", SubjectKind.User, [new RoleBinding("viewer", Expires: Now.AddDays(1))]));
        policy.Authorize(bot, "data:read", "doc:public/faq").Allowed.Should().BeTrue();
        bot.TableFor(policy).Should().NotBeNull();
        clock.Set(Now.AddDays(1).AddTicks(-3));
        var resources = Enumerable.Repeat(new ResourceRequest("doc:public/faq"), 6).ToArray();
        var decisions = new Decision[resources.Length];

        policy.AuthorizeMany(bot, "data:read", resources, decisions);

        decisions.Select(d => d.Reason).Should().Equal(DecisionReason.Allowed, DecisionReason.Allowed, DecisionReason.Allowed,
            DecisionReason.DelegationDenied, DecisionReason.DelegationDenied, DecisionReason.DelegationDenied);
    }

    [Fact]
    public void AuthorizeMany_SteadyState_AllocatesZeroBytes()
    {
        var policy = RagPolicy().Build();
        var resources = MixedResources();
        var subjects = Subjects();
        var decisions = new Decision[resources.Length];
        string[] actions = ["data:read", "data:approve", "model:query"];
        int Run(int rounds)
        {
            int allowed = 0;
            for (int r = 0; r < rounds; r++)
            {
                foreach (var subject in subjects)
                {
                    foreach (string action in actions)
                    {
                        policy.AuthorizeMany(subject, action, resources, decisions);
                        foreach (var d in decisions)
                        {
                            allowed += d.Allowed ? 1 : 0;
                        }
                    }
                }
            }

            return allowed;
        }

        Run(100); // warm up: every role set's table and run built, the JIT tiered
        long allocated = long.MaxValue;
        int allowedCount = 0;
        for (int attempt = 0; attempt < 3 && allocated != 0; attempt++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            allowedCount = Run(500); // 240,000 decisions
            allocated = Math.Min(allocated, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        allocated.Should().Be(0, "steady-state AuthorizeMany must not allocate");
        allowedCount.Should().BeGreaterThan(0);
    }

    [Fact]
    public void FilterFor_RagPolicy_DescribesAndMatchesWhatAuthorizeAllows()
    {
        var policy = RagPolicy().Build();
        var resources = MixedResources();
        foreach (string action in new[] { "data:read", "data:approve", "model:query", string.Empty })
        {
            foreach (var subject in Subjects())
            {
                var filter = policy.FilterFor(subject, action);
                filter.IsComplete.Should().BeTrue();
                foreach (var resource in resources)
                {
                    filter.Matches(in resource).Should().Be(policy.Authorize(subject, action, in resource).Allowed, "{0} {1} {2}\n{3}", subject.Id, action, resource, filter);
                }
            }
        }

        var agent = policy.FilterFor(Subjects()[2], "data:read");
        agent.Branches.Select(b => b.Scope).Should().Equal(null, "acme/health");
        agent.Branches[0].Links[1].DeniedBecause.Should().Be(DecisionReason.NoActiveRole, "carol's only binding is scoped");
        agent.Branches[1].Links.Select(l => l.SubjectId).Should().Equal("bot", "carol");
        agent.Branches[1].Links[1].Grants.Should().ContainSingle().Which.MaxSensitivity.Should().Be("restricted");
        agent.ValidUntil.Should().BeNull();
        string text = agent.ToString();
        text.Should().Contain("subject 'bot' may 'data:read'").And.Contain("scope under acme/health:")
            .And.Contain("[clinician] name matches doc:patients/** and tier <= restricted and tags within {phi}")
            .And.Contain("doc:patients/** -> restricted [phi]").And.Contain("carol: nothing (no_active_role)");

        var alice = policy.FilterFor(Subjects()[0], "data:approve");
        alice.Branches.Should().ContainSingle().Which.Links.Should().ContainSingle().Which.OwnerRule.Should().BeTrue();
        alice.Branches[0].Links[0].Denies.Should().BeEmpty();
        policy.FilterFor(Subjects()[0], "data:read").Branches[0].Links[0].Denies.Select(d => d.Text).Should().Equal("data:read on doc:secret/**");
        policy.FilterFor(Subjects()[4], "data:read").Branches[0].Links[0].DeniedBecause.Should().Be(DecisionReason.SeparationOfDuties);
    }

    [Fact]
    public void FilterFor_ExpiringBinding_MatchesNothingFromItsExpiry()
    {
        var clock = new FixedClock(Now);
        var policy = RagPolicy().Build(clock);
        var carol = new Subject("carol", SubjectKind.User, [new RoleBinding("viewer", Expires: Now.AddDays(1)), new RoleBinding("viewer", Expires: Now.AddDays(-1))]);
        var filter = policy.FilterFor(carol, "data:read");
        var faq = new ResourceRequest("doc:public/faq");

        filter.ValidUntil.Should().Be(Now.AddDays(1));
        filter.Matches(in faq).Should().BeTrue();
        clock.Now = Now.AddDays(1);
        policy.Authorize(carol, "data:read", in faq).Allowed.Should().BeFalse();
        filter.Matches(in faq).Should().BeFalse("past its validity a filter fails closed");
    }

    [Fact]
    public void FilterFor_HostileNumbersOfScopesAndLinks_IsIncompleteAndMatchesNothing()
    {
        var policy = RagPolicy().Build();
        var scoped = new Subject("many", SubjectKind.User,
            [.. Enumerable.Range(0, CompiledPolicy.MaxFilterBranches).Select(i => new RoleBinding("analyst", Scope: "t" + i.ToString(System.Globalization.CultureInfo.InvariantCulture)))]);
        Subject chain = Subject.WithRoles("root", SubjectKind.User, "analyst");
        for (int i = 0; i < CompiledPolicy.MaxFilterClauses; i++)
        {
            chain = Subject.WithRoles("u", SubjectKind.User, "analyst").ActingFor(chain);
        }

        foreach (var subject in new[] { scoped, chain })
        {
            var filter = policy.FilterFor(subject, "data:read");
            filter.IsComplete.Should().BeFalse();
            filter.Branches.Should().BeEmpty();
            filter.Matches(new ResourceRequest("doc:sales/q3") { Scope = "t1" }).Should().BeFalse();
            filter.ToString().Should().Contain("incomplete");
        }

        // One scope fewer is within the bound, and exact.
        var fewer = new Subject("fewer", SubjectKind.User, [.. scoped.Roles!.Skip(1)]);
        var within = policy.FilterFor(fewer, "data:read");
        within.IsComplete.Should().BeTrue();
        within.Branches.Should().HaveCount(CompiledPolicy.MaxFilterBranches);
        var inScope = new ResourceRequest("doc:sales/q3") { Scope = "t7/x" };
        within.Matches(in inScope).Should().BeTrue();
        policy.Authorize(fewer, "data:read", in inScope).Allowed.Should().BeTrue();
    }

    [Fact]
    public void FilterFor_NullSubject_Throws()
    {
        var policy = RagPolicy().Build();
        var act = () => policy.FilterFor(null!, "data:read");
        act.Should().Throw<ArgumentNullException>();
    }

    /// <summary>A clock that moves one tick forward each time it is read.</summary>
    private sealed class TickingClock(DateTimeOffset start) : TimeProvider
    {
        private long ticks = start.UtcTicks;

        public void Set(DateTimeOffset at) => Interlocked.Exchange(ref ticks, at.UtcTicks);

        public override DateTimeOffset GetUtcNow() => new(Interlocked.Increment(ref ticks) - 1, TimeSpan.Zero);
    }
}
