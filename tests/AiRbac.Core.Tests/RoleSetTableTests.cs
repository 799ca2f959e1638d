using AiRbac.Core.Tests.Reference;

namespace AiRbac.Core.Tests;

/// <summary>
/// Every subject is decided from the table of its effective role set, shared through the policy's bounded cache:
/// these pin the sharing, the tables of large role sets (hashed exact names, many actions), and the bound.
/// </summary>
public sealed class RoleSetTableTests
{
    [Fact]
    public void Subjects_with_the_same_effective_roles_share_one_table_whether_reused_or_built_per_request()
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

        bob.Table.Should().BeSameAs(alice.Table, "analyst alone and viewer + analyst make the same roles effective");
        carol.Table.Should().NotBeSameAs(alice.Table);
        policy.RoleSetCount.Should().Be(2);
    }

    [Fact]
    public void Scoped_and_expiring_bindings_end_in_the_shared_table_of_the_set_in_effect_and_are_not_kept_on_the_subject()
    {
        var policy = new TestPolicy()
            .Role("viewer", allow: ["data:read on output:*"])
            .Role("analyst", allow: ["tool:invoke on tool:report_*"], inherits: ["viewer"])
            .Build(new FixedClock(TestPolicy.Now));
        var staticAnalyst = Subject.WithRoles("alice", SubjectKind.User, "analyst");
        var scoped = new Subject("svc", SubjectKind.Service, [new RoleBinding("analyst", Scope: "acme/pd")]);
        var expiring = new Subject("tmp", SubjectKind.User, [new RoleBinding("analyst", Expires: TestPolicy.Now.AddHours(1))]);

        policy.Authorize(staticAnalyst, "tool:invoke", "tool:report_x").Allowed.Should().BeTrue();
        policy.Authorize(scoped, "tool:invoke", new ResourceRequest("tool:report_x") { Scope = "acme/pd/prod" }).Allowed.Should().BeTrue();
        policy.Authorize(scoped, "tool:invoke", new ResourceRequest("tool:report_x") { Scope = "other" }).Reason.Should().Be(DecisionReason.NoActiveRole);
        policy.Authorize(expiring, "tool:invoke", "tool:report_x").Allowed.Should().BeTrue();

        scoped.Table.Should().BeNull("its effective roles depend on the request's scope");
        expiring.Table.Should().BeNull("its effective roles depend on the time");
        policy.RoleSetCount.Should().Be(2, "{analyst, viewer} and the empty set");
    }

    [Fact]
    public void Owner_rule_reads_the_asking_subject_not_the_shared_table()
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
        bob.Table.Should().BeSameAs(alice.Table);
    }

    [Fact]
    public void Large_role_sets_hash_their_exact_names_and_find_runs_among_many_actions()
    {
        // Many exact names for one action are hashed (merged with the scanned rules by position); many actions make
        // the run lookup a binary search.
        string[] manyModels = [.. Enumerable.Range(0, 20).Select(i => $"model:query on model:m{i}")];
        string[] manyActions = [.. Enumerable.Range(0, 40).Select(i => $"ns:verb{i} on thing:*")];
        var policy = new TestPolicy()
            .Role("catalog-user", allow: ["model:query on model:m1*", .. manyModels, "model:query on model:x-*"], deny: ["model:query on model:m7"])
            .Role("second", allow: ["model:query on model:m12", "model:query on model:*"])
            .Role("busy", allow: manyActions, deny: ["ns:verb3 on thing:secret"])
            .Role("plain", allow: ["model:query on model:m3"])
            .Build();
        var catalogUser = Subject.WithRoles("u1", SubjectKind.User, "catalog-user", "second");
        var busy = Subject.WithRoles("u2", SubjectKind.User, "busy");
        var plain = Subject.WithRoles("u3", SubjectKind.User, "plain");

        policy.Authorize(catalogUser, "model:query", "model:m12").Rule.Should().Be("model:query on model:m1*", "the prefix rule comes first in file order");
        policy.Authorize(catalogUser, "model:query", "model:m2").Rule.Should().Be("model:query on model:m2");
        policy.Authorize(catalogUser, "model:query", "model:x-1").Rule.Should().Be("model:query on model:x-*");
        policy.Authorize(catalogUser, "model:query", "model:m7").Reason.Should().Be(DecisionReason.ExplicitDeny);
        policy.Authorize(catalogUser, "model:query", "model:zz").Rule.Should().Be("model:query on model:*");
        policy.Authorize(busy, "ns:verb39", "thing:a").Rule.Should().Be("ns:verb39 on thing:*");
        policy.Authorize(busy, "ns:verb0", "thing:a").Rule.Should().Be("ns:verb0 on thing:*");
        policy.Authorize(busy, "ns:verb3", "thing:secret").Reason.Should().Be(DecisionReason.ExplicitDeny);
        policy.Authorize(busy, "ns:verbX", "thing:a").Reason.Should().Be(DecisionReason.NoMatchingGrant);
        policy.Authorize(plain, "model:query", "model:m3").Allowed.Should().BeTrue();

        catalogUser.Table!.Runs.Should().Contain(run => run != null && run.Index != null, "twenty exact names in one run are hashed");
        busy.Table!.Runs.Length.Should().Be(41);
        busy.Table!.Runs.Count(run => run != null).Should().Be(4, "a run is built when a request first asks for its action");
    }

    [Fact]
    public void A_never_seen_role_set_builds_only_the_run_of_the_requested_action_and_counts_only_built_runs_against_the_cap()
    {
        // A hostile request naming every role: its first decision builds one action's run, not one per action the roles name.
        var builder = new TestPolicy();
        for (int i = 0; i < 200; i++)
        {
            builder.Role($"r{i}", allow: [$"ns:verb{i % 40} on thing:t{i}_*", $"tool:invoke on tool:t{i}"], deny: [$"* on thing:t{i}_secret"]);
        }

        var policy = builder.Build();
        var everyone = Subject.WithRoles("attacker", SubjectKind.User, [.. Enumerable.Range(0, 200).Select(i => $"r{i}")]);

        policy.Authorize(everyone, "tool:invoke", "tool:t7").Rule.Should().Be("tool:invoke on tool:t7");
        var table = everyone.Table!;
        table.Runs.Length.Should().Be(42, "40 verbs, tool:invoke and the fallback run");
        table.Runs.Count(run => run != null).Should().Be(1);
        policy.RoleSetBytes.Should().Be(table.Bytes, "the cache is charged for the runs built, as they are built");
        long oneRun = table.Bytes;

        policy.Authorize(everyone, "ns:verb3", "thing:t43_secret").Reason.Should().Be(DecisionReason.ExplicitDeny);
        policy.Authorize(everyone, "ns:verb3", "thing:t43_x").Rule.Should().Be("ns:verb3 on thing:t43_*");
        policy.Authorize(everyone, "other:verb", "thing:t1_secret").Reason.Should().Be(DecisionReason.ExplicitDeny);
        table.Runs.Count(run => run != null).Should().Be(3);
        policy.RoleSetBytes.Should().Be(table.Bytes);
        table.Bytes.Should().BeGreaterThan(oneRun);
    }

    [Fact]
    public void Many_exact_actions_crossed_with_many_wildcard_denies_are_cached_run_by_run_allocation_free_and_exact()
    {
        // N actions named exactly and M wildcard-action denies: every run holds the M denies, so all runs together are
        // about N × M rules, past the 64 MiB cap. Charged run by run, the table stays cached.
        const int N = 1_500, M = 1_500;
        var builder = new TestPolicy();
        builder.Role("admin", allow: [.. Enumerable.Range(0, N).Select(i => $"ns:a{i} on r:x{i}")], deny: [.. Enumerable.Range(0, M).Select(j => $"* on s:y{j}")]);
        var doc = builder.Document();
        var policy = PolicyCompiler.Compile(doc).Policy!;
        var reference = new ReferenceEvaluator(doc);
        var subject = Subject.WithRoles("u", SubjectKind.User, "admin");

        policy.Authorize(subject, "ns:a1", "r:x1").Allowed.Should().BeTrue();
        policy.RoleSetCount.Should().Be(1, "the table is cached: only the requested run is charged");
        var table = subject.Table!;
        policy.RoleSetBytes.Should().Be(table.Bytes).And.BeLessThan(policy.MaxRunBytes);
        AllocatedDeciding(policy, subject, "ns:a1", "r:x1").Should().Be(0, "a cached run is decided from without allocating");

        long maxBytes = 0;
        var random = new Random(16);
        for (int i = 0; i < N; i++)
        {
            var fresh = Subject.WithRoles($"u{i}", SubjectKind.User, "admin");
            string action = $"ns:a{i}";
            string resource = random.Next(3) switch { 0 => $"r:x{i}", 1 => $"s:y{random.Next(M)}", _ => $"r:x{random.Next(N)}" };
            var actual = policy.Authorize(fresh, action, resource);
            maxBytes = Math.Max(maxBytes, policy.RoleSetBytes);
            if (i % 10 == 0)
            {
                var expected = reference.Decide(fresh, action, resource, RandomPolicyGenerator.Now);
                (actual.Allowed, actual.Reason, actual.Role, actual.Rule).Should().Be((expected.Allowed, expected.Reason, expected.Role, expected.Rule), "{0} on {1}", action, resource);
            }
        }

        maxBytes.Should().BeLessThanOrEqualTo(policy.MaxRoleSetBytes);
        maxBytes.Should().BeGreaterThan(policy.MaxRoleSetBytes / 2, "many runs were kept before the table dropped them");
        policy.RoleSetCount.Should().Be(1);
        policy.RoleSetBytes.Should().Be(subject.Table!.Bytes, "the one cached table is the subject's");

        foreach (var (action, resource) in new[] { ("other:x", "s:y7"), ("other:x", "r:x7"), ("ns:a7", "s:y1499"), ("ns:a7", "r:x8") })
        {
            var actual = policy.Authorize(subject, action, resource);
            var expected = reference.Decide(subject, action, resource, RandomPolicyGenerator.Now);
            (actual.Allowed, actual.Reason, actual.Role, actual.Rule).Should().Be((expected.Allowed, expected.Reason, expected.Role, expected.Rule), "{0} on {1}", action, resource);
        }

        policy.Authorize(subject, "ns:a7", "r:x7").Allowed.Should().BeTrue();
        AllocatedDeciding(policy, subject, "ns:a7", "r:x7").Should().Be(0, "after the sweep a run is kept again");
        AllocatedDeciding(policy, subject, "other:x", "s:y3").Should().Be(0, "the fallback run too");
    }

    [Fact]
    public void Runs_built_past_the_cap_evict_older_tables_first_in_first_out_and_a_run_too_large_is_not_kept()
    {
        var builder = new TestPolicy();
        builder.Role("small", allow: ["tool:invoke on tool:t"]);
        builder.Role("big", allow: [.. Enumerable.Range(0, 40).Select(i => $"ns:a{i} on r:x{i}")], deny: [.. Enumerable.Range(0, 200).Select(j => $"* on s:y{j}")]);
        var doc = builder.Document();
        var policy = PolicyCompiler.Compile(doc).Policy!;
        var reference = new ReferenceEvaluator(doc);
        var small = Subject.WithRoles("s", SubjectKind.User, "small");
        var big = Subject.WithRoles("b", SubjectKind.User, "big");

        policy.Authorize(small, "tool:invoke", "tool:t").Allowed.Should().BeTrue();
        policy.Authorize(big, "ns:a0", "r:x0").Allowed.Should().BeTrue();
        long run = big.Table!.Runs.Single(r => r != null)!.Bytes;
        policy.RoleSetCount.Should().Be(2);

        // Room for the big set with twenty runs and half the small set: its twentieth run evicts the small set (first
        // in), never the big set itself. (A run is kept only up to a sixteenth of the cap.)
        long smallBytes = policy.RoleSetBytes - big.Table.Bytes;
        policy.MaxRoleSetBytes = big.Table.Bytes + (19 * run) + (smallBytes / 2);
        for (int i = 1; i < 20; i++)
        {
            policy.Authorize(big, $"ns:a{i}", "r:x0").Reason.Should().Be(DecisionReason.NoMatchingGrant);
            policy.RoleSetBytes.Should().BeLessThanOrEqualTo(policy.MaxRoleSetBytes);
            policy.RoleSetCount.Should().Be(i < 19 ? 2 : 1);
        }

        big.Table.Runs.Count(r => r != null).Should().Be(20);
        policy.RoleSetBytes.Should().Be(big.Table.Bytes);
        policy.Authorize(small, "tool:invoke", "tool:t").Allowed.Should().BeTrue("an evicted set is rebuilt, exact");

        // A run larger than a sixteenth of the cap is decided from and not kept.
        policy.MaxRoleSetBytes = run * 8;
        long before = policy.RoleSetBytes;
        var actual = policy.Authorize(big, "ns:a9", "s:y9");
        var expected = reference.Decide(big, "ns:a9", "s:y9", RandomPolicyGenerator.Now);
        (actual.Allowed, actual.Reason, actual.Role, actual.Rule).Should().Be((expected.Allowed, expected.Reason, expected.Role, expected.Rule));
        actual.Reason.Should().Be(DecisionReason.ExplicitDeny);
        big.Table.Runs.Count(r => r != null).Should().Be(20);
        policy.RoleSetBytes.Should().Be(before);
    }

    private static long AllocatedDeciding(CompiledPolicy policy, Subject subject, string action, string resource)
    {
        long allocated = long.MaxValue;
        for (int attempt = 0; attempt < 3 && allocated != 0; attempt++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 1_000; i++)
            {
                policy.Authorize(subject, action, resource);
            }

            allocated = Math.Min(allocated, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        return allocated;
    }

    [Fact]
    public void A_stream_of_distinct_role_sets_keeps_the_cache_under_its_caps_and_every_decision_exact()
    {
        // An attacker controlling role claims: 200,000 distinct role sets of 20 roles, through a small cache.
        var builder = new TestPolicy();
        for (int i = 0; i < 20; i++)
        {
            builder.Role($"r{i}", allow: [$"tool:invoke on tool:t{i}_*"], deny: [$"tool:invoke on tool:t{i}_secret"], max: i % 3 == 0 ? "public" : "restricted");
        }

        builder.Catalog("tool:t*_pub", "public");
        var doc = builder.Document();
        var policy = PolicyCompiler.Compile(doc).Policy!;
        policy.MaxRoleSets = 500;
        policy.MaxRoleSetBytes = 1L << 20;
        var reference = new ReferenceEvaluator(doc);
        var random = new Random(12);
        long maxBytes = 0;
        int maxCount = 0;
        const int Sets = 200_000;
        var names = new string[20];
        for (int set = 1; set <= Sets; set++)
        {
            int bits = set % (1 << 20) == 0 ? 1 : set % (1 << 20);
            int n = 0;
            for (int i = 0; i < 20; i++)
            {
                if ((bits & (1 << i)) != 0)
                {
                    names[n++] = $"r{i}";
                }
            }

            var subject = Subject.WithRoles($"u{set}", SubjectKind.User, names[..n]);
            int target = random.Next(20);
            string resource = random.Next(4) switch { 0 => $"tool:t{target}_secret", 1 => $"tool:t{target}_pub", _ => $"tool:t{target}_x" };
            var actual = policy.Authorize(subject, "tool:invoke", resource);
            var expected = reference.Decide(subject, "tool:invoke", resource, RandomPolicyGenerator.Now);
            if ((actual.Allowed, actual.Reason, actual.Role, actual.Rule) != (expected.Allowed, expected.Reason, expected.Role, expected.Rule))
            {
                actual.Should().Be(expected, "set {0}, {1}", set, resource);
            }

            maxBytes = Math.Max(maxBytes, policy.RoleSetBytes);
            maxCount = Math.Max(maxCount, policy.RoleSetCount);
        }

        maxCount.Should().BeLessThanOrEqualTo(500);
        maxBytes.Should().BeLessThanOrEqualTo(1L << 20);
        policy.RoleSetCount.Should().BeGreaterThan(0);
    }

    [Fact]
    public void A_million_distinct_role_name_sequences_keep_the_cache_bounded_and_every_decision_exact()
    {
        // An attacker controlling role claims: a million distinct sequences of role names (declared names in varying
        // order mixed with invented ones), each in a subject built per request, and each decided again by a second
        // subject built from copies of the same names.
        var builder = new TestPolicy();
        for (int i = 0; i < 12; i++)
        {
            builder.Role($"r{i}", allow: [$"tool:invoke on tool:t{i}_*"], deny: [$"tool:invoke on tool:t{i}_secret"], inherits: i > 0 && i % 4 == 0 ? [$"r{i - 1}"] : null, kinds: i == 3 ? ["agent"] : null);
        }

        var doc = builder.Document();
        var policy = PolicyCompiler.Compile(doc).Policy!;
        policy.MaxRoleSets = 300;
        policy.MaxRoleSetBytes = 1L << 20;
        var reference = new ReferenceEvaluator(doc);
        var random = new Random(16);
        const int Sequences = 1_000_000;
        for (int n = 0; n < Sequences; n++)
        {
            int a = random.Next(12), b = random.Next(12);
            string[] names = (n % 3) switch
            {
                0 => [$"r{a}", $"x{n}"],
                1 => [$"x{n}", $"r{a}", $"r{b}"],
                _ => [$"r{a}", $"r{b}", $"y{n % 1000}", $"r{n % 12}"],
            };
            var kind = (SubjectKind)(n % 3);
            int target = random.Next(12);
            string resource = random.Next(3) == 0 ? $"tool:t{target}_secret" : $"tool:t{target}_x";
            var expected = reference.Decide(Subject.WithRoles("u", kind, names), "tool:invoke", resource, RandomPolicyGenerator.Now);
            for (int again = 0; again < 2; again++)
            {
                var subject = Subject.WithRoles("u", kind, [.. names.Select(x => new string(x.AsSpan()))]);
                var actual = policy.Authorize(subject, "tool:invoke", resource);
                if ((actual.Allowed, actual.Reason, actual.Role, actual.Rule) != (expected.Allowed, expected.Reason, expected.Role, expected.Rule))
                {
                    actual.Should().Be(expected, "sequence {0} ({1}), {2}", n, string.Join(", ", names), resource);
                }
            }

            if (policy.RoleSetCount > 300 || policy.RoleSetBytes > 1L << 20)
            {
                policy.RoleSetCount.Should().BeLessThanOrEqualTo(300);
                policy.RoleSetBytes.Should().BeLessThanOrEqualTo(1L << 20);
            }
        }

        policy.RoleSetCount.Should().BeGreaterThan(0);
    }

    [Fact]
    public void Plain_bindings_find_their_table_through_the_binding_memo_in_any_order_and_only_while_it_is_cached()
    {
        var policy = new TestPolicy()
            .Role("viewer", allow: ["data:read on output:*"])
            .Role("analyst", allow: ["tool:invoke on tool:report_*"], inherits: ["viewer"])
            .Role("dev", allow: ["tool:invoke on tool:sql_*"])
            .Role("bot", allow: ["tool:invoke on tool:chat"], kinds: ["agent"])
            .Build();

        policy.Authorize(Subject.WithRoles("a", SubjectKind.User, "dev", "analyst"), "tool:invoke", "tool:sql_x").Allowed.Should().BeTrue();
        var first = Subject.WithRoles("b", SubjectKind.User, "analyst", "dev");
        policy.Authorize(first, "tool:invoke", "tool:report_x").Allowed.Should().BeTrue();
        var table = first.Table!;
        table.MemoKey(0).Should().NotBe(0UL, "the first subject's bindings were memoized");
        table.MemoKey(1).Should().Be(0UL, "the same roles in another order have the same key");
        policy.MemoSlotsOf(table).Should().Be(1);

        // Other binding lists of the same set: more keys of the same table, up to its fields.
        foreach (string[] names in new[] { ["dev", "analyst", "viewer"], ["viewer", "dev", "analyst"], new[] { "analyst", "analyst", "dev" } })
        {
            var subject = Subject.WithRoles("c", SubjectKind.User, names);
            policy.Authorize(subject, "data:read", "output:x").Allowed.Should().BeTrue();
            subject.Table.Should().BeSameAs(table);
        }

        table.MemoKey(2).Should().NotBe(0UL);
        table.HasMemoKey(CompiledPolicy.BindingKey([2, 1, 0], SubjectKind.User)).Should().BeTrue("ids are sorted into the key");
        table.HasMemoKey(CompiledPolicy.BindingKey([2, 1, 0], SubjectKind.Service)).Should().BeFalse("the kind is part of the key");

        // The kind decides the closure: an agent-only role gives a user no role (its own table, the empty set).
        var user = Subject.WithRoles("d", SubjectKind.User, "bot");
        var agent = Subject.WithRoles("e", SubjectKind.Agent, "bot");
        policy.Authorize(user, "tool:invoke", "tool:chat").Reason.Should().Be(DecisionReason.NoActiveRole);
        policy.Authorize(agent, "tool:invoke", "tool:chat").Allowed.Should().BeTrue();
        policy.Authorize(Subject.WithRoles("d", SubjectKind.User, "bot"), "tool:invoke", "tool:chat").Reason.Should().Be(DecisionReason.NoActiveRole);

        // Evicted: the memo lets the table go, and the same bindings are decided exactly from a rebuilt table.
        policy.MaxRoleSets = 1;
        policy.Authorize(Subject.WithRoles("f", SubjectKind.Service, "viewer"), "data:read", "output:x").Allowed.Should().BeTrue();
        table.Cached.Should().BeFalse();
        policy.MemoSlotsOf(table).Should().Be(0, "an evicted table is in no memo slot");
        policy.MemoState().Should().Be((1, true));
        var again = Subject.WithRoles("g", SubjectKind.User, "dev", "analyst");
        policy.Authorize(again, "tool:invoke", "tool:report_x").Allowed.Should().BeTrue();
        again.Table.Should().NotBeSameAs(table);
        policy.MemoState().AllCached.Should().BeTrue();
    }

    [Fact]
    public void A_stream_of_plain_bindings_through_a_small_cache_keeps_the_memo_within_the_cache_and_every_decision_exact()
    {
        // An attacker (or a busy service) sending one to three plain bindings of 300 roles and three kinds, every subject
        // built per request, through a cache of 40 tables: the memo is hit, missed, overwritten and cleared by eviction.
        var builder = new TestPolicy();
        for (int i = 0; i < 300; i++)
        {
            builder.Role($"r{i}", allow: [$"tool:invoke on tool:t{i % 17}_*"], deny: [$"tool:invoke on tool:t{i % 13}_secret"],
                inherits: i > 0 && i % 5 == 0 ? [$"r{i - 1}"] : null, kinds: i % 7 == 3 ? ["agent"] : null, max: i % 3 == 0 ? "public" : "restricted");
        }

        builder.Catalog("tool:t*_pub", "public");
        builder.MutuallyExclusive("r1", "r2");
        var doc = builder.Document();
        var policy = PolicyCompiler.Compile(doc).Policy!;
        policy.MaxRoleSets = 40;
        policy.MaxRoleSetBytes = 256L << 10;
        var reference = new ReferenceEvaluator(doc);
        var random = new Random(20);
        const int Requests = 200_000;
        for (int n = 0; n < Requests; n++)
        {
            // A small hot set of roles most of the time, so that memo entries are hit; any role otherwise.
            int Pick() => random.Next(4) == 0 ? random.Next(300) : random.Next(8);
            string[] names = (n % 3) switch { 0 => [$"r{Pick()}"], 1 => [$"r{Pick()}", $"r{Pick()}"], _ => [$"r{Pick()}", $"r{Pick()}", $"r{Pick()}"] };
            var kind = (SubjectKind)random.Next(3);
            int target = random.Next(17);
            string resource = random.Next(3) switch { 0 => $"tool:t{target}_secret", 1 => $"tool:t{target}_pub", _ => $"tool:t{target}_x" };
            var expected = reference.Decide(Subject.WithRoles("u", kind, names), "tool:invoke", resource, RandomPolicyGenerator.Now);
            var actual = policy.Authorize(Subject.WithRoles("u", kind, names), "tool:invoke", resource);
            if ((actual.Allowed, actual.Reason, actual.Role, actual.Rule) != (expected.Allowed, expected.Reason, expected.Role, expected.Rule))
            {
                actual.Should().Be(expected, "request {0} ({1}, {2}), {3}", n, string.Join(", ", names), kind, resource);
            }

            if (n % 1_000 == 0)
            {
                policy.MemoState().AllCached.Should().BeTrue("request {0}", n);
                policy.RoleSetCount.Should().BeLessThanOrEqualTo(40);
                policy.RoleSetBytes.Should().BeLessThanOrEqualTo(256L << 10);
            }
        }

        var (used, allCached) = policy.MemoState();
        allCached.Should().BeTrue();
        used.Should().BeGreaterThan(0).And.BeLessThanOrEqualTo(40 * RoleSetTable.MemoKeys, "only cached tables, each under at most its keys");
    }
}
