using AiRbac.Patterns;

namespace AiRbac.Core.Tests;

public class PatternTests
{
    // The table of docs/policy-language.md, section 3: pattern, text, expected match.
    public static TheoryData<string, string, bool> Table => new()
    {
        { "model:gpt-4o", "model:gpt-4o", true },
        { "model:gpt-4o", "model:gpt-4O", false },
        { "model:gpt-4o", "model:gpt-4o2", false },
        { "tool:report_*", "tool:report_weekly", true },
        { "tool:report_*", "tool:report_", true },
        { "tool:report_*", "tool:report_a/b", false },
        { "tool:report_*", "tool:repor", false },
        { "*", "model:query", true },
        { "*", "a/b", false },
        { "**", "a/b/c", true },
        { "**", "", true },
        { "dataset:**", "dataset:a/b/c", true },
        { "dataset:**", "dataset:", true },
        { "a/**/b", "a/x/y/b", true },
        { "a/**/b", "a//b", true },
        { "a/**/b", "a/b", false },
        { "a/**", "a/b", true },
        { "a**b", "ab", true },
        { "a**b", "a/x/b", true },
        { "dataset:*/pii/**", "dataset:crm/pii/x/y", true },
        { "dataset:*/pii/**", "dataset:crm/eu/pii/x", false },
        { "tool:?ql_*", "tool:sql_admin", true },
        { "tool:?ql_*", "tool:/ql_admin", false },
        { "tool:?ql_*", "tool:ql_admin", false },
        { "tool:[a-c]*", "tool:bing", true },
        { "tool:[a-c]*", "tool:dig", false },
        { "tool:[!a-c]*", "tool:dig", true },
        { "tool:[!a-c]*", "tool:bing", false },
        { "x[/]y", "x/y", false },
        { "x[!a]y", "x/y", false },
        { "x[-a]y", "x-y", true },
        { "x[a-]y", "x-y", true },
        { "x[^a]y", "x^y", true },
        { "x[^a]y", "xby", false },
        { "{a,b}", "{a,b}", true },
        { "{a,b}", "a", false },
        { "a*b*c", "axxbyyc", true },
        { "a*b*c", "axx/byyc", false },
        { "*:*", "model:query", true },
        { "m**", "m", true },
        { "m*?", "m", false },
        { "***", "a/b", true },
    };

    [Theory]
    [MemberData(nameof(Table))]
    public void IsMatch_SpecTable_MatchesAsSpecified(string pattern, string text, bool expected)
    {
        Pattern.TryParse(pattern, out var compiled, out _).Should().BeTrue();
        compiled!.IsMatch(text).Should().Be(expected);
        // Every shape's fast matcher agrees with the general token program.
        compiled.MatchGeneral(text).Should().Be(expected);
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("[!]")]
    [InlineData("[z-a]")]
    [InlineData("tool:[abc")]
    [InlineData("")]
    public void TryParse_InvalidPattern_Fails(string pattern)
    {
        Pattern.TryParse(pattern, out _, out string? error).Should().BeFalse();
        error.Should().NotBeNullOrEmpty();
    }

    [Theory]
    [InlineData("model:gpt-4o", "Exact")]
    [InlineData("**", "All")]
    [InlineData("tool:report_*", "PrefixNoSlash")]
    [InlineData("dataset:research/**", "PrefixAny")]
    [InlineData("dataset:*/pii/**", "General")]
    [InlineData("{a,b}", "Exact")]
    public void TryParse_Shape_ChosenByForm(string pattern, string shape)
    {
        Pattern.TryParse(pattern, out var compiled, out _).Should().BeTrue();
        compiled!.Shape.ToString().Should().Be(shape);
    }

    [Fact]
    public void MatchGeneral_LongTextManyStars_FinishesAndMatches()
    {
        Pattern.TryParse("**a**a**a**a**a**a**b", out var compiled, out _);
        string text = new('a', 50_000);
        compiled!.IsMatch(text).Should().BeFalse();
        compiled.IsMatch(text + "b").Should().BeTrue();
    }

    [Theory]
    [InlineData("model:query on model:gpt-4o", "model:query", "model:gpt-4o")]
    [InlineData("  model:query   on  model:*  ", "model:query", "model:*")]
    public void RuleText_WellFormed_Splits(string text, string action, string resource)
    {
        RuleText.TrySplit(text, out string a, out string r).Should().BeTrue();
        (a, r).Should().Be((action, resource));
    }

    [Theory]
    [InlineData("model:query model:gpt-4o")]
    [InlineData("model:query ON model:gpt-4o")]
    [InlineData("model:query on model:gpt-4o extra")]
    [InlineData("on on")]
    [InlineData("")]
    public void RuleText_Malformed_Fails(string text) => RuleText.TrySplit(text, out _, out _).Should().BeFalse();

    [Fact]
    public void MatchGeneral_ShortAndLongTexts_AgreeWithReferenceGlob()
    {
        // Texts under 64 code units take the bit-parallel path; longer ones the array path. Both must agree with the reference.
        string[] patterns = ["a*b", "a**b", "*/x/**", "?*?", "[a-c]*/**/[!x]", "**a**b**", "a/**/b", "x*y*z", "*", "**"];
        var random = new Random(7);
        const string alphabet = "abxyz/";
        for (int i = 0; i < 4000; i++)
        {
            int length = random.Next(0, 2) == 0 ? random.Next(0, 70) : random.Next(60, 140);
            string text = new(Enumerable.Range(0, length).Select(_ => alphabet[random.Next(alphabet.Length)]).ToArray());
            foreach (string p in patterns)
            {
                Pattern.TryParse(p, out var compiled, out _);
                compiled!.MatchGeneral(text).Should().Be(Reference.ReferenceGlob.IsMatch(p, text), $"{p} on {text}");
            }
        }
    }

    // Patterns and texts chosen so that slashes, prefixes and wildcards meet in every combination.
    private static readonly string[] RelationPatterns =
    [
        "dataset:*", "dataset:**", "dataset:claims/**", "dataset:claims/*", "dataset:*/pii/**", "dataset:*/*", "dataset:a*b",
        "dataset:[a-c]*", "dataset:?/x", "dataset:claims", "dataset:claims/2024", "**", "*", "a/**/b", "a**b", "model:*",
        "model:clinical-*", "model:*-4o", "**/pii/**", "tool:report_*", "tool:*_weekly", "dataset:**/x/*",
    ];

    private static readonly string[] RelationTexts =
    [
        "dataset:", "dataset:claims", "dataset:claims/", "dataset:claims/2024", "dataset:claims/a/b", "dataset:x/pii/y",
        "dataset:x/pii/", "dataset:x/y/pii/z", "dataset:ab", "dataset:a/b", "dataset:b", "dataset:c/x", "dataset:a/x/b",
        "dataset:q/x", "dataset:q/x/y", "dataset:x/x/y", "a/b", "a//b", "a/x/b", "ab", "model:gpt-4o", "model:clinical-x",
        "model:clinical-x/4o", "x/pii/y", "tool:report_weekly", "tool:report_a/b_weekly", "", "/",
    ];

    [Fact]
    public void Overlaps_is_never_false_for_patterns_that_share_a_match_and_covers_never_claims_a_missing_one()
    {
        int overlapsRejected = 0;
        foreach (string a in RelationPatterns)
        {
            foreach (string b in RelationPatterns)
            {
                Pattern.TryParse(a, out var pa, out _).Should().BeTrue();
                Pattern.TryParse(b, out var pb, out _).Should().BeTrue();
                string? shared = RelationTexts.FirstOrDefault(t => Reference.ReferenceGlob.IsMatch(a, t) && Reference.ReferenceGlob.IsMatch(b, t));
                bool overlaps = PatternCover.Overlaps(pa!, pb!);
                if (shared is not null)
                {
                    overlaps.Should().BeTrue($"'{shared}' matches both '{a}' and '{b}'");
                }

                overlapsRejected += overlaps ? 0 : 1;
                if (PatternCover.Covers(pa!, pb!))
                {
                    RelationTexts.Where(t => Reference.ReferenceGlob.IsMatch(b, t) && !Reference.ReferenceGlob.IsMatch(a, t))
                        .Should().BeEmpty($"'{a}' is said to cover '{b}'");
                }
            }
        }

        // The relation must also say "disjoint" where it can, or it is useless for precomputing catalog entries.
        PatternCover.Overlaps(Parse("dataset:*"), Parse("dataset:claims/**")).Should().BeFalse();
        PatternCover.Overlaps(Parse("dataset:*"), Parse("dataset:*/pii/**")).Should().BeFalse();
        PatternCover.Overlaps(Parse("dataset:claims/*"), Parse("dataset:*/*/x")).Should().BeFalse();
        PatternCover.Overlaps(Parse("dataset:*"), Parse("dataset:**")).Should().BeTrue();
        overlapsRejected.Should().BeGreaterThan(0);
    }

    private static Pattern Parse(string text)
    {
        Pattern.TryParse(text, out var pattern, out _).Should().BeTrue();
        return pattern!;
    }
}
