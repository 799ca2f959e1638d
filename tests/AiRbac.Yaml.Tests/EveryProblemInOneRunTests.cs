using System.Diagnostics;
using System.Text;
using AiRbac.Diagnostics;

namespace AiRbac.Yaml.Tests;

/// <summary>
/// One structural problem (an unknown key) must not hide the others: the parts that could be read are still checked,
/// every problem is reported at the node it concerns, and the policy is still refused as a whole.
/// </summary>
public sealed class EveryProblemInOneRunTests
{
    // An unknown key plus ten independent errors of the compiler's, on ten different lines.
    private const string ManyProblems =
        "version: 1\n" +                                                          // 1
        "sensitivity: [public, internal, secret]\n" +                            // 2
        "default_sensitivity: topsecret\n" +                                     // 3
        "roles:\n" +                                                             // 4
        "  viewer:\n" +                                                          // 5
        "    descripton: typo\n" +                                               // 6  unknown_key
        "    allow: [\"data:read on output:*\", \"model:query model:x\"]\n" +    // 7  malformed_rule
        "    max_sensitivity: restricted\n" +                                    // 8  unknown_tier
        "    kinds: []\n" +                                                      // 9  invalid_kind (empty)
        "  analyst:\n" +                                                         // 10
        "    inherits: [viewr]\n" +                                              // 11 undeclared_role
        "    allow: [\"tool:invoke on tool:[z-a]\"]\n" +                         // 12 invalid_pattern
        "    kinds: [robot]\n" +                                                 // 13 invalid_kind
        "constraints:\n" +                                                       // 14
        "  mutually_exclusive:\n" +                                              // 15
        "    - [viewer, viewer]\n" +                                             // 16 invalid_exclusive_set
        "bindings:\n" +                                                          // 17
        "  subjects:\n" +                                                        // 18
        "    alice: { roles: [viewer], expires: \"tomorrow\", scope: \"/bad/\" }\n"; // 19 invalid_timestamp, invalid_scope

    [Fact]
    public void Load_UnknownKeyAndTenOtherErrors_ReportsAllOfThemAtTheirNodes()
    {
        var result = LoadAssertions.Load(ManyProblems);

        result.Succeeded.Should().BeFalse();
        result.Document.Should().BeNull();
        result.Positions().Should().Equal(
            (DiagnosticCodes.UnknownTier, 3, 22),
            (DiagnosticCodes.UnknownKey, 6, 5),
            (DiagnosticCodes.MalformedRule, 7, 38),
            (DiagnosticCodes.UnknownTier, 8, 22),
            (DiagnosticCodes.InvalidKind, 9, 12),
            (DiagnosticCodes.UndeclaredRole, 11, 16),
            (DiagnosticCodes.InvalidPattern, 12, 13),
            (DiagnosticCodes.InvalidKind, 13, 13),
            (DiagnosticCodes.InvalidExclusiveSet, 16, 16),
            (DiagnosticCodes.InvalidTimestamp, 19, 40),
            (DiagnosticCodes.InvalidScope, 19, 59));
        result.Diagnostics.Should().OnlyContain(d => d.IsError);
    }

    [Fact]
    public void Load_UnknownKey_StillListsTheCompilersWarnings_AndRefusesThePolicy()
    {
        const string Yaml =
            "version: 1\n" +                        // 1
            "roles:\n" +                            // 2
            "  root:\n" +                           // 3
            "    descripton: typo\n" +              // 4 unknown_key
            "    allow: [\"* on **\"]\n";            // 5 grants_everything (a warning)

        var result = LoadAssertions.Load(Yaml);
        var compilation = YamlPolicy.Compile(Yaml, LoadAssertions.Source);

        result.Succeeded.Should().BeFalse();
        result.Positions().Select(p => (p.Code, p.Line)).Should().Equal((DiagnosticCodes.UnknownKey, 4), (DiagnosticCodes.GrantsEverything, 5));
        result.Diagnostics.Single(d => d.Code == DiagnosticCodes.GrantsEverything).IsError.Should().BeFalse();
        compilation.Policy.Should().BeNull("a structural error refuses the policy, warnings or not");
        compilation.Warnings.Should().ContainSingle(w => w.Code == DiagnosticCodes.GrantsEverything);
    }

    [Fact]
    public void Compile_UnknownKeyAndOtherErrors_IsRefusedWithEveryError()
    {
        var compilation = YamlPolicy.Compile(ManyProblems, LoadAssertions.Source);

        compilation.Policy.Should().BeNull();
        compilation.Succeeded.Should().BeFalse();
        compilation.Diagnostics.Should().HaveCount(11);
    }

    [Fact]
    public void Load_UnknownKeyInAnOtherwiseValidPolicy_IsRefusedWithThatErrorOnly()
    {
        // The rest compiles: the policy is still refused (a policy never half-loads); the warning about the grant read whole is listed too.
        var yaml = "version: 1\nroles:\n  root:\n    allow: [\"* on **\"]\n    max_sensitivty: restricted\n";

        var result = LoadAssertions.Load(yaml);

        result.Positions().Should().Equal((DiagnosticCodes.GrantsEverything, 4, 13), (DiagnosticCodes.UnknownKey, 5, 5));
        YamlPolicy.Compile(yaml, LoadAssertions.Source).Policy.Should().BeNull();
    }

    [Theory]
    [InlineData("version: 1\nsensitivity: []\nroles: {r: {}}\n", DiagnosticCodes.EmptyValue, 2, 14)]
    [InlineData("version: 1\nroles:\n  r:\n    kinds: []\n", DiagnosticCodes.InvalidKind, 4, 12)]
    [InlineData("version: 1\nroles:\n  r:\n    kinds:\n      []\n", DiagnosticCodes.InvalidKind, 5, 7)]
    [InlineData("version: 1\nroles: {}\n", DiagnosticCodes.EmptyValue, 2, 8)]
    [InlineData("version: 1\nsensitivity: &t []\nroles: {r: {}}\n", DiagnosticCodes.EmptyValue, 2, 14)]
    public void Load_EmptyList_IsReportedAtTheList(string yaml, string code, int line, int column)
    {
        // The structure is sound (the loader reads an empty list); the compiler reports it, at the list.
        var compilation = YamlPolicy.Compile(yaml, LoadAssertions.Source);

        compilation.Policy.Should().BeNull();
        compilation.Diagnostics.Should().ContainSingle().Which.ShouldBe(code, line, column);
    }

    [Fact]
    public void Load_EmptyListsNextToAnUnknownKey_AreAllReportedAtTheirLists()
    {
        var yaml = "version: 1\nsensitivity: []\nroles:\n  r:\n    kinds: []\n    alow: [\"a:b on c:d\"]\n";

        LoadAssertions.Load(yaml).Positions().Should().Equal(
            (DiagnosticCodes.EmptyValue, 2, 14),
            (DiagnosticCodes.InvalidKind, 5, 12),
            (DiagnosticCodes.UnknownKey, 6, 5));
    }

    [Theory]
    [InlineData("version: 1\nrole: {r: {}}\n", DiagnosticCodes.MissingKey, 1, 1)]
    [InlineData("version: 3\nroles: {r: {}}\n", DiagnosticCodes.UnsupportedVersion, 1, 10)]
    [InlineData("roles: {r: {}}\n", DiagnosticCodes.MissingKey, 1, 1)]
    [InlineData("version: 1\nroles: {r: {}}\nresources: [{sensitivity: public}]\n", DiagnosticCodes.MissingKey, 3, 13)]
    [InlineData("version: 1\nsensitivity: [low, [high]]\ndefault_sensitivity: high\nroles: {r: {max_sensitivity: high}}\n", DiagnosticCodes.WrongType, 2, 20)]
    [InlineData("version: 1\nroles: {r: {kinds: user}}\n", DiagnosticCodes.WrongType, 2, 20)]
    [InlineData("version: 1\nroles: {r: {kinds: [[user]]}}\n", DiagnosticCodes.WrongType, 2, 21)]
    public void Load_ProblemWithAStandIn_IsNotReportedAgainAsItsConsequence(string yaml, string code, int line, int column)
    {
        // A missing 'roles' is not also "roles is empty"; an unreadable tier list does not make every tier "undeclared".
        var result = LoadAssertions.Load(yaml);

        result.Diagnostics.Should().Contain(d => d.Code == code && d.Location.Line == line && d.Location.Column == column, string.Join(" | ", result.Diagnostics));
        result.Diagnostics.Select(d => d.Code).Should().NotContain(
            [DiagnosticCodes.EmptyValue, DiagnosticCodes.UnknownTier, DiagnosticCodes.InvalidKind, DiagnosticCodes.InvalidPattern],
            string.Join(" | ", result.Diagnostics));
    }

    [Fact]
    public void Load_HostileFileWithAnUnknownKey_StillStopsAtTheLimit()
    {
        // An unknown key, a compiler error and an alias bomb: the limit stops reading; nothing else is checked.
        var yaml = new StringBuilder("version: 1\nbogus: 1\nroles:\n  r:\n    allow: [\"bad\"]\n    inherits: &a [x, x, x, x, x, x, x, x, x, x]\n");
        yaml.Append("x1: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n");
        char previous = 'b';
        for (char c = 'c'; c <= 'k'; c++)
        {
            yaml.Append(CultureInfoFree($"x{c}: &{c} [*{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}]\n"));
            previous = c;
        }

        var watch = Stopwatch.StartNew();
        var result = LoadAssertions.Load(yaml.ToString());

        watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(5));
        result.SingleError().Code.Should().Be(DiagnosticCodes.LimitExceeded);
    }

    [Fact]
    public void Load_SyntaxErrorAfterAnUnknownKey_ReportsTheSyntaxErrorOnly()
    {
        LoadAssertions.Load("version: 1\nbogus: 1\nroles:\n  r: {allow: [\"bad\"]\n")
            .SingleError().Code.Should().Be(DiagnosticCodes.YamlSyntax);
    }

    [Fact]
    public void Load_ThousandsOfErrorsInBothPasses_KeepsTheErrorBound()
    {
        // 600 unknown keys and 600 malformed rules: at most 1,000 errors, then one limit_exceeded, in file order.
        var yaml = new StringBuilder("version: 1\nroles:\n");
        for (int i = 0; i < 600; i++)
        {
            yaml.Append(CultureInfoFree($"  r{i}:\n    bogus: 1\n    allow: [\"bad{i}\"]\n"));
        }

        var result = LoadAssertions.Load(yaml.ToString());

        result.Diagnostics.Should().HaveCount(1001);
        result.Diagnostics.Take(1000).Should().OnlyContain(d => d.Code == DiagnosticCodes.UnknownKey || d.Code == DiagnosticCodes.MalformedRule);
        result.Diagnostics[^1].Code.Should().Be(DiagnosticCodes.LimitExceeded);
        result.Diagnostics[^1].Message.Should().Be("more than 1000 errors; the rest are not reported");
        result.Diagnostics.Select(d => d.Location.Line).Should().BeInAscendingOrder();
    }

    [Fact]
    public void Load_MoreUnknownKeysThanTheErrorBound_DoesNotCompileAndKeepsTheReadersBound()
    {
        var yaml = new StringBuilder("version: 1\nroles:\n  r:\n    allow: [\"bad\"]\n");
        for (int i = 0; i < 1100; i++)
        {
            yaml.Append(CultureInfoFree($"k{i}: 1\n"));
        }

        var result = LoadAssertions.Load(yaml.ToString());

        result.Diagnostics.Should().HaveCount(1001);
        result.Diagnostics.Select(d => d.Code).Should().NotContain(DiagnosticCodes.MalformedRule);
    }

    private static string CultureInfoFree(FormattableString text) => FormattableString.Invariant(text);
}
