using System.Globalization;
using AiRbac.Core.Tests.Reference;
using AiRbac.Model;
using Xunit.Abstractions;

namespace AiRbac.Core.Tests;

/// <summary>
/// <see cref="CompiledPolicy.AuthorizeMany"/> and <see cref="CompiledPolicy.FilterFor"/> against <see cref="CompiledPolicy.Authorize(Subject, string, in ResourceRequest)"/>
/// and the naive reference evaluator, on random valid policies (the differential test's generator: inheritance, kinds,
/// scoped and expiring bindings, on-behalf-of chains, caller tiers, tags, scopes and owners, invalid items), with fixed seeds.
/// </summary>
public sealed class BatchAndFilterDifferentialTests(ITestOutputHelper output)
{
    private const int Policies = 1000;
    private const int BatchesPerPolicy = 8;
    private const int MaxBatch = 40;
    private const int FiltersPerPolicy = 8;
    private const int ResourcesPerFilter = 40;
    private const int MaxReportedMismatches = 10;

    [Fact]
    public void AuthorizeMany_RandomPoliciesAndBatches_EachItemIsWhatAuthorizeAndTheReferenceAnswer()
    {
        var clock = new FixedClock(RandomPolicyGenerator.Now);
        var mismatches = new List<string>();
        int mismatchCount = 0, items = 0, allowed = 0, delegated = 0, planned = 0;
        var reasons = new HashSet<DecisionReason>();
        for (int seed = 1; seed <= Policies; seed++)
        {
            var generator = new RandomPolicyGenerator(seed);
            PolicyDocument doc = generator.NextPolicy();
            CompiledPolicy policy = PolicyCompiler.Compile(doc, new PolicyCompilerOptions { TimeProvider = clock }).Policy!;
            CompiledPolicy tinyCache = PolicyCompiler.Compile(doc, new PolicyCompilerOptions { TimeProvider = clock }).Policy!;
            tinyCache.MaxRoleSets = 2;
            var reference = new ReferenceEvaluator(doc);
            var random = new Random(seed);
            for (int b = 0; b < BatchesPerPolicy; b++)
            {
                var (subject, action, resources) = NextBatch(generator, doc, policy, random, random.Next(0, MaxBatch + 1));
                var batch = new Decision[resources.Length];
                var evicting = new Decision[resources.Length];
                var reused = new Decision[resources.Length];
                var crossed = new Decision[resources.Length];
                var fresh = Fresh(subject);
                policy.AuthorizeMany(fresh, action, resources, batch); // a subject never decided before
                tinyCache.AuthorizeMany(Fresh(subject), action, resources, evicting);
                delegated += subject.OnBehalfOf is null ? 0 : 1;

                // The same subject again: when its set is fixed, it kept its table, and the batch starts in its per-item loop.
                policy.AuthorizeMany(fresh, action, resources, reused);
                planned += fresh.TableFor(policy) is not null && resources.Length > 1 ? 1 : 0;

                // A subject that kept another policy's table (the evicting one's), as after a reload: this policy's answers.
                var other = Fresh(subject);
                tinyCache.AuthorizeMany(other, action, resources, crossed);
                policy.AuthorizeMany(other, action, resources, crossed);
                for (int i = 0; i < resources.Length; i++)
                {
                    items++;
                    Decision single = policy.Authorize(subject, action, in resources[i]);
                    ReferenceDecision expected = reference.Decide(subject, action, resources[i], RandomPolicyGenerator.Now);
                    reasons.Add(batch[i].Reason);
                    allowed += batch[i].Allowed ? 1 : 0;
                    bool same = batch[i] == single && Same(evicting[i], single) && reused[i] == single && crossed[i] == single
                        && single.Allowed == expected.Allowed && single.Reason == expected.Reason && single.Role == expected.Role
                        && single.Rule == expected.Rule
                        && (single.Reason != DecisionReason.DelegationDenied || single.DelegatedReason == expected.DelegatedReason);
                    if (!same)
                    {
                        mismatchCount++;
                        if (mismatches.Count < MaxReportedMismatches)
                        {
                            mismatches.Add(string.Create(CultureInfo.InvariantCulture,
                                $"seed {seed} batch {b} item {i}: {new GeneratedRequest(subject, action, resources[i])}\n  batch {batch[i]} / evicting {evicting[i]} / reused {reused[i]} / crossed {crossed[i]} / single {single} / reference {expected}\n{RandomPolicyGenerator.ToYaml(doc)}"));
                        }
                    }
                }
            }
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{Policies} policies, {Policies * BatchesPerPolicy} batches ({delegated} delegated, {planned} with a fixed set), {items} items, {allowed} allowed, {mismatchCount} mismatches"));
        mismatches.Should().BeEmpty("every item of a batch must be what Authorize and the reference answer ({0} of {1} differ):\n{2}",
            mismatchCount, items, string.Join("\n", mismatches));
        items.Should().BeGreaterThan(100_000);
        reasons.Should().HaveCount(DecisionReasons.All.Count, "the batches must reach every reason");
        planned.Should().BeGreaterThan(Policies * BatchesPerPolicy / 4, "many batches must take the per-item loop of a subject whose set is fixed");
        planned.Should().BeLessThan(Policies * BatchesPerPolicy, "some subjects must have scoped or expiring bindings");
    }

    [Fact]
    public void FilterFor_RandomPoliciesAndResources_MatchesExactlyWhatAuthorizeAllows()
    {
        var clock = new FixedClock(RandomPolicyGenerator.Now);
        var mismatches = new List<string>();
        int mismatchCount = 0, checks = 0, passed = 0, filters = 0, branches = 0, delegated = 0, approvalFilters = 0;
        for (int seed = 1; seed <= Policies; seed++)
        {
            var generator = new RandomPolicyGenerator(seed);
            PolicyDocument doc = generator.NextPolicy();
            CompiledPolicy policy = PolicyCompiler.Compile(doc, new PolicyCompilerOptions { TimeProvider = clock }).Policy!;
            var reference = new ReferenceEvaluator(doc);
            var random = new Random(-seed);
            for (int f = 0; f < FiltersPerPolicy; f++)
            {
                var (subject, action, resources) = NextBatch(generator, doc, policy, random, ResourcesPerFilter);
                PolicyFilter filter = policy.FilterFor(Fresh(subject), action);
                if (!filter.IsComplete)
                {
                    // Only an approval rule that may match the action leaves a generated filter incomplete (section 13).
                    (doc.Approvals ?? []).Should().Contain(a => a.Match.Any(m => ReferenceGlob.IsMatch(m.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0], action)));
                    resources.Should().AllSatisfy(r => filter.Matches(in r).Should().BeFalse());
                    approvalFilters++;
                    continue;
                }

                filters++;
                branches += filter.Branches.Count;
                delegated += subject.OnBehalfOf is null ? 0 : 1;
                foreach (ResourceRequest resource in resources)
                {
                    checks++;
                    bool matches = filter.Matches(in resource);
                    bool allowed = policy.Authorize(subject, action, in resource).Allowed;
                    bool expected = reference.Decide(subject, action, resource, RandomPolicyGenerator.Now).Allowed;
                    passed += matches ? 1 : 0;
                    if (matches != allowed || allowed != expected)
                    {
                        mismatchCount++;
                        if (mismatches.Count < MaxReportedMismatches)
                        {
                            mismatches.Add(string.Create(CultureInfo.InvariantCulture,
                                $"seed {seed} filter {f}: {new GeneratedRequest(subject, action, resource)}\n  filter {matches} / Authorize {policy.Authorize(subject, action, in resource)} / reference {expected}\n{filter}\n{RandomPolicyGenerator.ToYaml(doc)}"));
                        }
                    }
                }
            }
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{Policies} policies, {filters} filters ({delegated} delegated, {branches} branches), {checks} resources, {passed} passed, {mismatchCount} mismatches; {approvalFilters} filters refused for an approval rule"));
        mismatches.Should().BeEmpty("a resource passes the filter if and only if Authorize allows it ({0} of {1} differ):\n{2}",
            mismatchCount, checks, string.Join("\n", mismatches));
        passed.Should().BeGreaterThan(checks / 50, "the filters must pass a fair share of resources, or the test proves little");
        branches.Should().BeGreaterThan(filters, "scoped bindings must make branches");
        approvalFilters.Should().BeGreaterThan(0, "actions that approval rules match must be tried");
    }

    /// <summary>
    /// A subject and action from the generator (half the time one that some generated request allows, so that batches
    /// allow often), and resources from its next requests: their names, scopes, tiers and tags, and an owner that is the
    /// batch's subject (or one of its chain) about a third of the time. Resources that the policy allows are kept
    /// preferentially (picked from four times as many candidates), so that allowed and denied items both abound; the
    /// policy only picks, the tests compare.
    /// </summary>
    internal static (Subject Subject, string Action, ResourceRequest[] Resources) NextBatch(
        RandomPolicyGenerator generator, PolicyDocument doc, CompiledPolicy policy, Random random, int count)
    {
        GeneratedRequest first = generator.NextRequest(doc);
        if (random.Next(2) == 0)
        {
            for (int tries = 0; tries < 30 && !policy.Authorize(first.Subject, first.Action, first.Resource).Allowed; tries++)
            {
                first = generator.NextRequest(doc);
            }
        }

        var chain = new List<string>();
        for (Subject? s = first.Subject; s is not null; s = s.OnBehalfOf)
        {
            chain.Add(s.Id);
        }

        var allowed = new List<ResourceRequest>();
        var denied = new List<ResourceRequest>();
        for (int i = 0; i < 4 * count; i++)
        {
            ResourceRequest r = i == 0 ? first.Resource : generator.NextRequest(doc).Resource;
            r = r.Owner is null ? r : r with { Owner = random.Next(3) == 0 ? chain[random.Next(chain.Count)] : r.Owner };
            (policy.Authorize(first.Subject, first.Action, r).Allowed ? allowed : denied).Add(r);
        }

        var resources = allowed.Take(count / 2).Concat(denied).Take(count).Concat(allowed.Skip(count / 2)).Take(count).ToArray();
        random.Shuffle(resources);
        return (first.Subject, first.Action, resources);
    }

    /// <summary>A copy of a subject and its chain that no policy has decided for (no table kept).</summary>
    internal static Subject Fresh(Subject subject)
        => new(subject.Id, subject.Kind, subject.Roles, subject.OnBehalfOf is { } principal ? Fresh(principal) : null);

    private static bool Same(Decision a, Decision b) => a.ToString() == b.ToString() && a.DelegatedReason == b.DelegatedReason;
}
