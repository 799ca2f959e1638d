using DotNet.Globbing;

namespace AiRbac.Core.Tests;

/// <summary>
/// Why the core has its own matcher: a table of the cases where DotNet.Glob agrees with docs/policy-language.md, section 3 and where it does not.
/// If DotNet.Glob's semantics ever equal docs/policy-language.md, section 3, on every row, this test fails and the choice can be revisited.
/// </summary>
public class GlobLibraryComparisonTests
{
    public static TheoryData<string, string, bool> Agreeing => new()
    {
        { "model:gpt-4o", "model:gpt-4o", true },
        { "tool:report_*", "tool:report_weekly", true },
        { "tool:report_*", "tool:report_a/b", false },
        { "tool:?ql_x", "tool:sql_x", true },
        { "tool:[a-c]x", "tool:bx", true },
        { "tool:[!a-c]x", "tool:dx", true },
    };

    [Theory]
    [MemberData(nameof(Agreeing))]
    public void DotNetGlob_SimpleShapes_AgreesWithSpec(string pattern, string text, bool expected)
    {
        Glob.Parse(pattern).IsMatch(text).Should().Be(expected);
        Compile(pattern).IsMatch(text).Should().Be(expected);
    }

    [Fact]
    public void DotNetGlob_SpecCases_DisagreesSomewhere()
    {
        // docs/policy-language.md, section 3: '**' is not only a whole segment; 'a**b' matches across '/', 'a/**/b' matches 'a//b', '{a,b}' is literal.
        (string Pattern, string Text, bool Spec)[] cases =
        [
            ("a**b", "a/x/b", true),
            ("dataset:**", "dataset:a/b/c", true),
            ("a/**/b", "a//b", true),
            ("a/**/b", "a/b", false),
            ("{a,b}", "{a,b}", true),
            ("x[/]y", "x/y", false),
        ];
        var disagreements = cases.Where(c => SafeMatch(c.Pattern, c.Text) != c.Spec).Select(c => c.Pattern).ToList();
        disagreements.Should().NotBeEmpty("the core keeps its own matcher only while DotNet.Glob differs from docs/policy-language.md, section 3");
        foreach (var c in cases)
        {
            Compile(c.Pattern).IsMatch(c.Text).Should().Be(c.Spec, $"{c.Pattern} on {c.Text}");
        }
    }

    private static bool? SafeMatch(string pattern, string text)
    {
        try
        {
            return Glob.Parse(pattern).IsMatch(text);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    private static Patterns.Pattern Compile(string pattern)
    {
        Patterns.Pattern.TryParse(pattern, out var compiled, out _).Should().BeTrue();
        return compiled!;
    }
}
