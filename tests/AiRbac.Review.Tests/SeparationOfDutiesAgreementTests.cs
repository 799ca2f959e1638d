using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using AiRbac.Diagnostics;
using AiRbac.Yaml;

namespace AiRbac.Review.Tests;

/// <summary>
/// Property: on random policies with bindings (kinds, scopes, expiry, inheritance, groups, mutually_exclusive lists),
/// the separation-of-duties breaches <c>airbac lint</c> reports (the compiler's <c>binding_breaks_exclusion</c>
/// warnings), those <c>airbac review</c> reports (with an empty audit log), and what <c>Authorize</c> answers
/// (<c>separation_of_duties</c> in some scope) all agree: the three ask the core's one "who holds what".
/// </summary>
public sealed partial class SeparationOfDutiesAgreementTests
{
    private static readonly DateTimeOffset Now = new(2026, 6, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly string[] Kinds = ["user", "service", "agent"];
    private static readonly string[] Scopes = ["acme", "acme/pd", "acme/pd/prod", "acme/hr", "beta"];

    // Every scope a request can usefully name: none, each binding scope, and ones below and beside them.
    private static readonly string?[] RequestScopes = [null, .. Scopes, "acme/pd/prod/eu", "acme/other", "gamma"];

    [Fact]
    public void RandomPolicies_LintReviewAndAuthorize_AgreeOnSeparationOfDuties()
    {
        var random = new Random(20260601);
        int compiled = 0, withBreaches = 0, scopedBreaches = 0;
        for (int i = 0; i < 400; i++)
        {
            string yaml = RandomPolicy(random);
            var compilation = Compile(yaml);
            if (compilation.Policy is not { } policy)
            {
                continue; // e.g. a mutually_exclusive list joined through inheritance is refused: nothing to compare
            }

            compiled++;
            var lint = LintBreaches(compilation.Diagnostics);
            var report = Review(compilation);
            var review = report.ExclusionBreaches.Select(b => (b.Subject, string.Join(",", b.HeldFromSet))).Order().ToList();

            lint.Should().Equal(review, because: "lint and review must report the same breaches for\n{0}", yaml);
            withBreaches += lint.Count > 0 ? 1 : 0;
            scopedBreaches += compilation.Diagnostics.Count(d => d.Code == DiagnosticCodes.BindingBreaksExclusion && d.Message.Contains(" in scope ", StringComparison.Ordinal));

            foreach (var subject in policy.BoundSubjects)
            {
                bool breaks = lint.Any(b => b.Subject == subject.Id);
                bool denied = RequestScopes.Any(scope =>
                    policy.Authorize(new Subject(subject.Id), "a:b", new ResourceRequest("c:d") { Scope = scope }).Reason == DecisionReason.SeparationOfDuties);
                denied.Should().Be(breaks, because: "Authorize must answer separation_of_duties exactly for the subjects lint and review name ({0}) in\n{1}", subject.Id, yaml);

                foreach (var breach in policy.SeparationOfDutiesBreaches(subject, Now))
                {
                    policy.Authorize(new Subject(subject.Id), "a:b", new ResourceRequest("c:d") { Scope = breach.Scope }).Reason
                        .Should().Be(DecisionReason.SeparationOfDuties, because: "the breach names the scope where it happens ({0})", breach);
                }
            }
        }

        // The generator must exercise the property, not vacuously pass it.
        compiled.Should().BeGreaterThan(200);
        withBreaches.Should().BeGreaterThan(40);
        scopedBreaches.Should().BeGreaterThan(10);
    }

    [Fact]
    public void DisjointScopes_AreNoBreach_ForLintReviewOrAuthorize()
    {
        // An operator splits duties by scope: writer in acme/hr, approver in beta. No request is in both, so nothing is breached.
        const string Yaml = """
            version: 1
            roles:
              writer: { allow: [ "a:b on c:d" ] }
              approver: { allow: [ "a:b on c:d" ] }
            constraints:
              mutually_exclusive: [ [writer, approver] ]
            bindings:
              subjects:
                zed: { roles: [ { role: writer, scope: acme/hr }, { role: approver, scope: beta } ] }
            """;
        var compilation = Compile(Yaml);

        compilation.Diagnostics.Should().NotContain(d => d.Code == DiagnosticCodes.BindingBreaksExclusion);
        Review(compilation).ExclusionBreaches.Should().BeEmpty();
        compilation.Policy!.Authorize(new Subject("zed"), "a:b", new ResourceRequest("c:d") { Scope = "beta" }).Allowed.Should().BeTrue();
    }

    [Fact]
    public void NestedScopes_AreABreach_NamedWithTheScope()
    {
        // An attacker holds writer everywhere in acme and approver in acme/pd: inside acme/pd both apply at once.
        const string Yaml = """
            version: 1
            roles:
              writer: { allow: [ "a:b on c:d" ] }
              approver: { allow: [ "a:b on c:d" ] }
            constraints:
              mutually_exclusive: [ [writer, approver] ]
            bindings:
              subjects:
                mallory: { roles: [ { role: writer, scope: acme }, { role: approver, scope: acme/pd } ] }
            """;
        var compilation = Compile(Yaml);

        compilation.Diagnostics.Should().ContainSingle(d => d.Code == DiagnosticCodes.BindingBreaksExclusion)
            .Which.Message.Should().Be("subject 'mallory' holds 'writer' and 'approver' in scope 'acme/pd', which are mutually exclusive");
        Review(compilation).ExclusionBreaches
            .Should().ContainSingle().Which.HeldFromSet.Should().Equal("writer", "approver");
        compilation.Policy!.Authorize(new Subject("mallory"), "a:b", new ResourceRequest("c:d") { Scope = "acme/pd/prod" }).Reason
            .Should().Be(DecisionReason.SeparationOfDuties);
    }

    [Fact]
    public void RoleKindsExcludingTheSubject_AreNoBreach_ForLintOrReview()
    {
        // approver applies to users only: an agent bound to it does not hold it (review used to walk inheritance without kinds).
        const string Yaml = """
            version: 1
            roles:
              writer: { allow: [ "a:b on c:d" ] }
              approver: { kinds: [user], allow: [ "a:b on c:d" ] }
              lead: { inherits: [approver], allow: [ "a:b on c:d" ] }
            constraints:
              mutually_exclusive: [ [writer, approver] ]
            bindings:
              subjects:
                bot: { kind: agent, roles: [writer, lead] }
                ann: { kind: user, roles: [writer, lead] }
            """;
        var compilation = Compile(Yaml);
        var review = Review(compilation);

        LintBreaches(compilation.Diagnostics).Should().Equal(("ann", "writer,approver"));
        review.ExclusionBreaches.Select(b => b.Subject).Should().Equal("ann");
    }

    private static PolicyCompilation Compile(string yaml)
        => YamlPolicy.Compile(yaml, "p.yaml", new PolicyCompilerOptions { TimeProvider = new FixedClock(Now) });

    private static AccessReviewReport Review(PolicyCompilation compilation)
        => new AccessReviewer(compilation.Policy!).Review(new StringReader(""), Now, AccessReviewer.DefaultWindow);

    private static List<(string Subject, string Held)> LintBreaches(IReadOnlyList<PolicyDiagnostic> diagnostics)
        => [.. diagnostics.Where(d => d.Code == DiagnosticCodes.BindingBreaksExclusion).Select(d =>
        {
            var match = LintMessage().Match(d.Message);
            match.Success.Should().BeTrue(because: d.Message);
            var held = QuotedName().Matches(match.Groups[2].Value).Select(m => m.Groups[1].Value);
            return (match.Groups[1].Value, string.Join(",", held));
        }).Order()];

    private static string RandomPolicy(Random random)
    {
        var text = new StringBuilder("version: 1\nroles:\n");
        int roles = random.Next(2, 7);
        for (int r = 0; r < roles; r++)
        {
            text.Append(CultureInfo.InvariantCulture, $"  r{r}:\n    allow: [ \"a:b on c:d\" ]\n");
            if (r > 0 && random.Next(3) == 0)
            {
                var parents = Enumerable.Range(0, r).Where(_ => random.Next(3) == 0).Select(p => $"r{p}").ToList();
                if (parents.Count > 0)
                {
                    text.Append("    inherits: [").Append(string.Join(", ", parents)).Append("]\n");
                }
            }

            if (random.Next(3) == 0)
            {
                var kinds = Kinds.Where(_ => random.Next(2) == 0).ToList();
                text.Append("    kinds: [").Append(string.Join(", ", kinds.Count == 0 ? [Kinds[random.Next(3)]] : kinds)).Append("]\n");
            }
        }

        text.Append("constraints:\n  mutually_exclusive:\n");
        for (int l = random.Next(1, 3); l > 0; l--)
        {
            var members = Enumerable.Range(0, roles).OrderBy(_ => random.Next()).Take(random.Next(2, Math.Min(3, roles) + 1)).Select(m => $"r{m}");
            text.Append("    - [").Append(string.Join(", ", members)).Append("]\n");
        }

        text.Append("bindings:\n  groups:\n    g0: [").Append(Binding(random, roles)).Append(", ").Append(Binding(random, roles)).Append("]\n  subjects:\n");
        for (int s = random.Next(1, 6); s > 0; s--)
        {
            text.Append(CultureInfo.InvariantCulture, $"    s{s}:\n");
            if (random.Next(2) == 0)
            {
                text.Append("      kind: ").Append(Kinds[random.Next(3)]).Append('\n');
            }

            text.Append("      roles: [");
            text.Append(string.Join(", ", Enumerable.Range(0, random.Next(1, 4)).Select(_ => Binding(random, roles))));
            text.Append("]\n");
            if (random.Next(4) == 0)
            {
                text.Append("      groups: [g0]\n");
            }

            if (random.Next(6) == 0)
            {
                text.Append("      scope: ").Append(Scopes[random.Next(Scopes.Length)]).Append('\n');
            }

            if (random.Next(8) == 0)
            {
                text.Append("      expires: ").Append(random.Next(2) == 0 ? "2020-01-01T00:00:00Z" : "2030-01-01T00:00:00Z").Append('\n');
            }
        }

        return text.ToString();
    }

    private static string Binding(Random random, int roles)
    {
        string role = $"r{random.Next(roles)}";
        if (random.Next(2) == 0)
        {
            return role;
        }

        var parts = new List<string> { $"role: {role}" };
        if (random.Next(2) == 0)
        {
            parts.Add($"scope: {Scopes[random.Next(Scopes.Length)]}");
        }

        if (random.Next(3) == 0)
        {
            parts.Add($"expires: {(random.Next(2) == 0 ? "2020-01-01T00:00:00Z" : "2030-01-01T00:00:00Z")}");
        }

        return "{ " + string.Join(", ", parts) + " }";
    }

    [GeneratedRegex("^subject '([^']*)' holds (.*?)(?: in scope '[^']*')?, which are mutually exclusive$")]
    private static partial Regex LintMessage();

    [GeneratedRegex("'([^']*)'")]
    private static partial Regex QuotedName();

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
