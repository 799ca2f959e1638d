using System.Globalization;
using System.Text;
using AiRbac.Cli.Commands;
using AiRbac.Review;
using AiRbac.Yaml;

namespace AiRbac.Cli.Tests;

/// <summary>
/// Property: on random policies (inheritance, kinds, everything-grants, every-action grants, ceilings, clearances,
/// admin-like names, bindings), <c>airbac matrix</c> and <c>airbac review</c> (with an empty audit log) flag the same
/// roles for the same number of reasons, since both render the core's one definition (<see cref="CompiledPolicy.RiskOf"/>).
/// </summary>
public sealed class ReviewMatrixAgreementTests
{
    private static readonly DateTimeOffset Now = new(2026, 6, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly string[] Kinds = ["user", "service", "agent"];
    private static readonly string[] Grants = ["a:b on c:d", "* on **", "*:* on *:**", "* on tool:*", "model:* on **"];
    private static readonly string[] Tiers = ["public", "internal", "confidential", "restricted"];
    private static readonly string[] Names = ["r", "admin", "SysAdmin", "ops"];

    [Fact]
    public void RandomPolicies_MatrixAndReview_FlagTheSameRisk()
    {
        var random = new Random(20261201);
        int compared = 0, risky = 0;
        for (int i = 0; i < 300; i++)
        {
            string yaml = RandomPolicy(random, out _);
            var policy = Compile(yaml);
            if (policy is null)
            {
                continue;
            }

            compared++;
            var report = Review(policy);
            var review = report.HighRiskRoles.ToDictionary(r => r.Role, r => r.Reasons.Select(x => (x.Code, x.Via, x.Detail)).Distinct().Count());
            var matrix = policy.Roles.Select(r => (r.Name, Flags: RoleRisk.Flags(policy, r))).Where(r => r.Flags.Count > 0)
                .ToDictionary(r => r.Name, r => r.Flags.Count);

            matrix.Should().BeEquivalentTo(review, because: "matrix and review must flag the same roles for the same reasons in\n{0}", yaml);
            risky += review.Count;
        }

        compared.Should().BeGreaterThan(250);
        risky.Should().BeGreaterThan(300);
    }

    [Fact]
    public void RandomPolicies_MatrixAndReview_NameTheSameHolders()
    {
        var random = new Random(20261202);
        int compared = 0, inherited = 0;
        for (int i = 0; i < 300; i++)
        {
            string yaml = RandomPolicy(random, out _);
            var policy = Compile(yaml);
            if (policy is null)
            {
                continue;
            }

            compared++;
            var matrix = HeldRoles.Of(policy, Now)
                .SelectMany(s => s.Roles.Select(h => (h.Role, s.Id, Through: h.Through == h.Role ? "" : h.Through)))
                .Distinct().ToList();
            foreach (var role in Review(policy).Roles)
            {
                var review = role.Holders.Select(h => (h.Subject, string.Join(", ", h.Through))).Order().ToList();
                matrix.Where(m => m.Role == role.Name).Select(m => (m.Id, m.Through)).Order().Should()
                    .Equal(review, because: "matrix and review must name the same holders of {0} in\n{1}", role.Name, yaml);
                inherited += review.Count(h => h.Item2.Length > 0);
            }
        }

        compared.Should().BeGreaterThan(250);
        inherited.Should().BeGreaterThan(100);
    }

    [Fact]
    public void InheritedRole_IsHeldThroughTheBoundRole_InMatrixAndReview()
    {
        var policy = Compile("""
            version: 1
            roles:
              top: { allow: [ "* on **" ] }
              child: { inherits: [top], allow: [ "a:b on c:d" ] }
            bindings:
              subjects:
                kid: { roles: [child] }
            """)!;

        var top = Review(policy).HighRiskRoles.Single(r => r.Role == "top");
        top.Holders.Should().ContainSingle().Which.Through.Should().Equal("child");
        Review(policy).ToMarkdown().Should().Contain("| `top` | grants every action on every resource: `* on **` | `kid` (binding, through `child`) |");
        RoleRisk.Flags(policy, policy.Roles[1]).Should().Equal("grants everything (* on **, via top)");
        HeldRoles.Of(policy).Single().Roles.Select(h => (h.Role, h.Through)).Should().Equal(("top", "child"), ("child", "child"));
    }

    [Fact]
    public void Clearance_IsFlaggedByBoth()
    {
        var policy = Compile("""
            version: 1
            roles:
              nurse: { clearances: [phi], allow: [ "read:* on ehr:*" ] }
            """)!;

        RoleRisk.Flags(policy, policy.Roles[0]).Should().Equal("clearance phi (PHI)");
        Review(policy).HighRiskRoles.Should().ContainSingle().Which.Reasons.Should().ContainSingle()
            .Which.Code.Should().Be("clearance");
    }

    internal static CompiledPolicy? Compile(string yaml)
        => YamlPolicy.Compile(yaml, "p.yaml", new PolicyCompilerOptions { TimeProvider = new FixedClock(Now) }).Policy;

    internal static AccessReviewReport Review(CompiledPolicy policy)
        => new AccessReviewer(policy).Review(new StringReader(""), Now, TimeSpan.FromDays(90));

    internal static string RandomPolicy(Random random, out int roles)
    {
        var text = new StringBuilder("version: 1\nroles:\n");
        int count = random.Next(2, 7);
        roles = count;
        var name = Enumerable.Range(0, count).Select(r => Names[random.Next(Names.Length)] + r.ToString(CultureInfo.InvariantCulture)).ToArray();
        for (int r = 0; r < count; r++)
        {
            text.Append(CultureInfo.InvariantCulture, $"  {name[r]}:\n");
            var grants = Enumerable.Range(0, random.Next(0, 3)).Select(_ => '"' + Grants[random.Next(Grants.Length)] + '"').Distinct().ToList();
            text.Append("    allow: [").Append(string.Join(", ", grants)).Append("]\n");
            text.Append("    max_sensitivity: ").Append(Tiers[random.Next(Tiers.Length)]).Append('\n');
            if (random.Next(3) == 0)
            {
                text.Append("    clearances: [").Append(random.Next(2) == 0 ? "phi" : "pii").Append("]\n");
            }

            if (r > 0 && random.Next(2) == 0)
            {
                var parents = Enumerable.Range(0, r).Where(_ => random.Next(2) == 0).Select(p => name[p]).ToList();
                if (parents.Count > 0)
                {
                    text.Append("    inherits: [").Append(string.Join(", ", parents)).Append("]\n");
                }
            }

            if (random.Next(4) == 0)
            {
                text.Append("    kinds: [").Append(Kinds[random.Next(3)]).Append("]\n");
            }
        }

        text.Append("resources:\n  - { match: \"ehr:**\", sensitivity: restricted, tags: [phi, pii] }\n");
        text.Append("bindings:\n  groups:\n    g0: [").Append(name[random.Next(count)]).Append("]\n  subjects:\n");
        for (int s = random.Next(1, 6); s > 0; s--)
        {
            text.Append(CultureInfo.InvariantCulture, $"    s{s}:\n");
            if (random.Next(2) == 0)
            {
                text.Append("      kind: ").Append(Kinds[random.Next(3)]).Append('\n');
            }

            var bound = Enumerable.Range(0, random.Next(1, 3)).Select(_ => name[random.Next(count)]).Distinct().ToList();
            text.Append("      roles: [").Append(string.Join(", ", bound.Select(b => random.Next(3) == 0 ? $"{{ role: {b}, scope: acme }}" : b))).Append("]\n");
            if (random.Next(4) == 0)
            {
                text.Append("      groups: [g0]\n");
            }

            if (random.Next(6) == 0)
            {
                text.Append("      expires: ").Append(random.Next(2) == 0 ? "2020-01-01T00:00:00Z" : "2030-01-01T00:00:00Z").Append('\n');
            }
        }

        return text.ToString();
    }
}
