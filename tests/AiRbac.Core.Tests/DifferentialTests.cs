using System.Diagnostics;
using System.Globalization;
using System.Text;
using AiRbac.Core.Tests.Reference;
using AiRbac.Model;
using Xunit.Abstractions;

namespace AiRbac.Core.Tests;

/// <summary>
/// Compares the engine with the naive reference evaluator on random valid policies and random requests
/// (fixed seeds, so every failure is reproducible from the seed it reports). Each request is decided for a subject
/// built for it (never decided before), again for the same subject (reused), and by a copy of the policy whose
/// role-set cache holds two tables (so most requests evict or rebuild one): all must equal the reference.
/// </summary>
public sealed class DifferentialTests(ITestOutputHelper output)
{
    private const int Policies = 2000;
    private const int RequestsPerPolicy = 100;
    private const int MaxReportedMismatches = 10;

    [Fact]
    public void Authorize_RandomPoliciesAndRequests_MatchesReferenceEvaluator()
    {
        var clock = new FixedTimeProvider(RandomPolicyGenerator.Now);
        var reasons = new Dictionary<DecisionReason, int>();
        var allowedShapes = new Dictionary<string, int>();
        var mismatches = new List<string>();
        int mismatchCount = 0;
        int decisions = 0;
        int breakGlassDecisions = 0;
        int approvedDecisions = 0;
        var watch = Stopwatch.StartNew();

        for (int seed = 1; seed <= Policies; seed++)
        {
            var generator = new RandomPolicyGenerator(seed);
            PolicyDocument doc = generator.NextPolicy();
            PolicyCompilation compilation = PolicyCompiler.Compile(doc, new PolicyCompilerOptions { TimeProvider = clock });
            compilation.Succeeded.Should().BeTrue(
                "seed {0} generates a valid policy, but the compiler reported:\n{1}\n{2}",
                seed,
                string.Join("\n", compilation.Errors.Select(e => e.Code + ": " + e.Message)),
                RandomPolicyGenerator.ToYaml(doc));
            CompiledPolicy policy = compilation.Policy!;
            CompiledPolicy tinyCache = PolicyCompiler.Compile(doc, new PolicyCompilerOptions { TimeProvider = clock }).Policy!;
            tinyCache.MaxRoleSets = 2;
            var reference = new ReferenceEvaluator(doc);

            for (int i = 0; i < RequestsPerPolicy; i++)
            {
                GeneratedRequest request = generator.NextRequest(doc);
                Decision actual = policy.Authorize(request.Subject, request.Action, request.Resource, request.Context); // built per request
                Decision reused = policy.Authorize(request.Subject, request.Action, request.Resource, request.Context);
                Decision evicting = tinyCache.Authorize(request.Subject, request.Action, request.Resource, request.Context);
                ReferenceDecision expected = reference.Decide(request.Subject, request.Action, request.Resource, RandomPolicyGenerator.Now, request.Context);
                decisions++;
                Increment(reasons, actual.Reason);
                breakGlassDecisions += actual.BreakGlass && actual.Allowed ? 1 : 0;
                approvedDecisions += actual.Allowed && actual.ApprovalRule is not null ? 1 : 0;

                bool same = actual.Allowed == expected.Allowed && actual.Reason == expected.Reason
                    && actual.Role == expected.Role && actual.Rule == expected.Rule
                    && (actual.Reason != DecisionReason.DelegationDenied || actual.DelegatedReason == expected.DelegatedReason)
                    && actual.Condition == expected.Condition && actual.BreakGlassRole == expected.BreakGlassRole
                    && actual.ApprovalRule == expected.ApprovalRule
                    && Same(reused, actual) && Same(evicting, actual);
                if (!same)
                {
                    mismatchCount++;
                    if (mismatches.Count < MaxReportedMismatches)
                    {
                        mismatches.Add(Report(seed, i, doc, request, actual, reused, evicting, expected));
                    }
                }
                else if (actual.Allowed && actual.Rule is { } rule)
                {
                    Increment(allowedShapes, ShapeOf(rule.Split(' ')[2]));
                }
            }
        }

        watch.Stop();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{Policies} policies, {decisions} decisions, {mismatchCount} mismatches, {watch.Elapsed.TotalSeconds:F1} s"));
        output.WriteLine("reasons: " + Summary(reasons));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"allowed through break-glass: {breakGlassDecisions}; allowed with approvals: {approvedDecisions}"));
        output.WriteLine("allowed by resource-pattern shape: " + Summary(allowedShapes));
        mismatches.Should().BeEmpty(
            "the engine must agree with the reference evaluator ({0} of {1} decisions differ); first mismatches:\n{2}",
            mismatchCount,
            decisions,
            string.Join("\n", mismatches));

        foreach (DecisionReason reason in DecisionReasons.All)
        {
            reasons.Should().ContainKey(reason, "the generator must reach every step of docs/policy-language.md, section 4 ({0})", Summary(reasons));
        }

        foreach (string shape in new[] { "exact", "prefix", "prefix-any", "all", "general" })
        {
            allowedShapes.Should().ContainKey(shape, "every matcher shape must allow something ({0})", Summary(allowedShapes));
        }

        decisions.Should().BeGreaterThanOrEqualTo(50_000);
        breakGlassDecisions.Should().BeGreaterThan(30, "the generator must allow requests through break-glass activations");
        approvedDecisions.Should().BeGreaterThan(10, "the generator must allow requests with enough valid approvals");
    }

    [Fact]
    public void Authorize_Version2PoliciesOnly_ManyDraws_MatchesReferenceEvaluator()
    {
        // The test above spreads its draws over both versions and every step, so the version 2 outcomes are a small share
        // of them. Here only version 2 policies (1,000, from the same generator), 300 requests each, decided on a fresh
        // subject and again on the same one: enough conditions, activations and approvals at every edge to mean something.
        var clock = new FixedTimeProvider(RandomPolicyGenerator.Now);
        var reasons = new Dictionary<DecisionReason, int>();
        var mismatches = new List<string>();
        int mismatchCount = 0, breakGlass = 0, approved = 0, conditionHeld = 0, policies = 0;
        for (int seed = 1; policies < Version2Policies; seed++)
        {
            var generator = new RandomPolicyGenerator(seed);
            PolicyDocument doc = generator.NextPolicy();
            if (doc.Version.Value != "2")
            {
                continue;
            }

            policies++;
            CompiledPolicy policy = PolicyCompiler.Compile(doc, new PolicyCompilerOptions { TimeProvider = clock }).Policy!;
            var reference = new ReferenceEvaluator(doc);
            bool gated = doc.Roles.Any(r => r.Conditions.Count > 0);
            for (int i = 0; i < Version2Requests; i++)
            {
                GeneratedRequest request = generator.NextRequest(doc);
                Decision actual = policy.Authorize(request.Subject, request.Action, request.Resource, request.Context);
                Decision reused = policy.Authorize(request.Subject, request.Action, request.Resource, request.Context);
                ReferenceDecision expected = reference.Decide(request.Subject, request.Action, request.Resource, RandomPolicyGenerator.Now, request.Context);
                Increment(reasons, actual.Reason);
                breakGlass += actual.BreakGlass && actual.Allowed ? 1 : 0;
                approved += actual.Allowed && actual.ApprovalRule is not null ? 1 : 0;
                conditionHeld += actual.Allowed && gated && policy.FindRole(actual.Role!)!.Conditions.Count > 0 ? 1 : 0;
                bool same = actual.Allowed == expected.Allowed && actual.Reason == expected.Reason
                    && actual.Role == expected.Role && actual.Rule == expected.Rule
                    && (actual.Reason != DecisionReason.DelegationDenied || actual.DelegatedReason == expected.DelegatedReason)
                    && actual.Condition == expected.Condition && actual.BreakGlassRole == expected.BreakGlassRole
                    && actual.ApprovalRule == expected.ApprovalRule && Same(reused, actual);
                if (!same && ++mismatchCount <= MaxReportedMismatches)
                {
                    mismatches.Add(Report(seed, i, doc, request, actual, reused, reused, expected));
                }
            }
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{policies} version 2 policies, {policies * Version2Requests} decisions, {mismatchCount} mismatches; allowed through break-glass {breakGlass}, with approvals {approved}, by a role with conditions {conditionHeld}"));
        output.WriteLine("reasons: " + Summary(reasons));
        mismatches.Should().BeEmpty("the engine must agree with the reference on version 2 policies; first mismatches:\n{0}", string.Join("\n", mismatches));
        reasons[DecisionReason.ConditionFailed].Should().BeGreaterThan(1_000);
        reasons[DecisionReason.BreakGlassNotActive].Should().BeGreaterThan(1_000);
        reasons[DecisionReason.ApprovalRequired].Should().BeGreaterThan(200);
        breakGlass.Should().BeGreaterThan(100);
        approved.Should().BeGreaterThan(50);
        conditionHeld.Should().BeGreaterThan(100);
    }

    private const int Version2Policies = 1000;
    private const int Version2Requests = 300;

    [Fact]
    public void Authorize_DelegatedLinkBreaksSeparationOfDuties_ReportsRoleWithoutRule()
    {
        // Minimal repro found by the differential run: the denied link's own decision
        // (separation_of_duties) names a role and no rule, so delegation_denied must name no rule either.
        var doc = new PolicyDocument
        {
            Roles =
            [
                new RoleDefinition { Name = LocatedString.FromCode("a"), Allow = [LocatedString.FromCode("* on **")] },
                new RoleDefinition { Name = LocatedString.FromCode("b"), Allow = [LocatedString.FromCode("* on **")] },
            ],
            Constraints = new PolicyConstraints
            {
                MutuallyExclusive = [new ExclusiveRoleSet { Roles = [LocatedString.FromCode("a"), LocatedString.FromCode("b")] }],
            },
        };
        CompiledPolicy policy = PolicyCompiler.Compile(doc).Policy!;
        Subject subject = Subject.WithRoles("alice", SubjectKind.User, "a").ActingFor(Subject.WithRoles("bob", SubjectKind.User, "a", "b"));

        Decision decision = policy.Authorize(subject, "model:query", "model:gpt-4o");
        ReferenceDecision expected = new ReferenceEvaluator(doc).Decide(subject, "model:query", "model:gpt-4o", RandomPolicyGenerator.Now);

        expected.Should().Be(new ReferenceDecision(false, DecisionReason.DelegationDenied, "a", null, DecisionReason.SeparationOfDuties));
        decision.Reason.Should().Be(DecisionReason.DelegationDenied);
        decision.DelegatedReason.Should().Be(DecisionReason.SeparationOfDuties);
        decision.Role.Should().Be("a");
        decision.Rule.Should().BeNull("docs/policy-language.md, section 4: delegation_denied reports the role and rule of the denied link's own decision, if any");
    }

    [Theory]
    [InlineData("dataset:**", "dataset:a/b/c", true)]
    [InlineData("a/**/b", "a/x/y/b", true)]
    [InlineData("a/**/b", "a//b", true)]
    [InlineData("a/**/b", "a/b", false)]
    [InlineData("a/**", "a/b", true)]
    [InlineData("a**b", "a/b", true)]
    [InlineData("tool:report_*", "tool:report_", true)]
    [InlineData("tool:report_*", "tool:report_a/b", false)]
    [InlineData("*", "model:gpt-4o", true)]
    [InlineData("*", "a/b", false)]
    [InlineData("tool:?ql_*", "tool:sql_run", true)]
    [InlineData("tool:?ql_*", "tool:ql_", false)]
    [InlineData("a?b", "a/b", false)]
    [InlineData("tool:[a-c]*", "tool:cat", true)]
    [InlineData("tool:[a-c]*", "tool:dog", false)]
    [InlineData("tool:[!a-c]*", "tool:dog", true)]
    [InlineData("tool:[!a-c]*", "tool:cat", false)]
    [InlineData("a[!x]b", "a/b", false)]
    [InlineData("tool:[-x]*", "tool:-y", true)]
    [InlineData("tool:[x-]*", "tool:-y", true)]
    [InlineData("tool:[^x]", "tool:^", true)]
    [InlineData("model:{a,b}", "model:{a,b}", true)]
    [InlineData("model:{a,b}", "model:a", false)]
    [InlineData("Model:x", "model:x", false)]
    public void ReferenceGlob_SpecExamples_MatchAsSpecified(string pattern, string text, bool expected)
    {
        bool actual = ReferenceGlob.IsMatch(pattern, text);

        actual.Should().Be(expected);
    }

    private static bool Same(Decision a, Decision b) => a.ToString() == b.ToString() && a.DelegatedReason == b.DelegatedReason
        && a.Condition == b.Condition && a.BreakGlassRole == b.BreakGlassRole && a.ApprovalRule == b.ApprovalRule;

    private static string ShapeOf(string pattern)
    {
        foreach ((string p, string shape) in RandomPolicyGenerator.ResourcePatterns)
        {
            if (p == pattern)
            {
                return shape;
            }
        }

        return "unknown";
    }

    private static void Increment<T>(Dictionary<T, int> counts, T key)
        where T : notnull
        => counts[key] = counts.GetValueOrDefault(key) + 1;

    private static string Summary<T>(Dictionary<T, int> counts)
        where T : notnull
        => string.Join(", ", counts.Select(kv => kv.Key + "=" + kv.Value.ToString(CultureInfo.InvariantCulture)));

    private static string Report(int seed, int index, PolicyDocument doc, GeneratedRequest request, Decision actual, Decision reused, Decision evicting, ReferenceDecision expected)
    {
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"--- seed {seed}, request #{index}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"request:   {request}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"engine:    {(actual.Allowed ? "allowed" : "denied")} {actual.ReasonName} role={actual.Role ?? "-"} rule={actual.Rule ?? "-"} delegated={DecisionReasons.ToName(actual.DelegatedReason)} condition={actual.Condition ?? "-"} break_glass={actual.BreakGlassRole ?? "-"} approval={actual.ApprovalRule ?? "-"}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"reused:    {reused} delegated={DecisionReasons.ToName(reused.DelegatedReason)}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"evicting:  {evicting} delegated={DecisionReasons.ToName(evicting.DelegatedReason)}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"reference: {expected}");
        sb.Append(RandomPolicyGenerator.ToYaml(doc));
        return sb.ToString();
    }

    /// <summary>A clock that always answers the same instant.</summary>
    private sealed class FixedTimeProvider(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
