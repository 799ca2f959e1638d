using System.Text;
using AiRbac.Diagnostics;

namespace AiRbac.Yaml.Tests;

/// <summary>Hostile input is refused with limit_exceeded (or yaml_syntax), quickly and in bounded memory.</summary>
public sealed class YamlLoadLimitsTests
{
    [Fact]
    public void Default_Values_MatchTheSpec()
    {
        var limits = YamlLoadLimits.Default;

        limits.MaxFileBytes.Should().Be(16 * 1024 * 1024);
        limits.MaxDepth.Should().Be(64);
        limits.MaxScalarLength.Should().Be(64 * 1024);
        limits.MaxNodes.Should().Be(1_000_000);
        limits.MaxExpandedScalarCharacters.Should().Be(64L * 1024 * 1024);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void Init_NonPositiveLimit_Throws(int value)
    {
        FluentActions.Invoking(() => new YamlLoadLimits { MaxFileBytes = value }).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new YamlLoadLimits { MaxDepth = value }).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new YamlLoadLimits { MaxScalarLength = value }).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new YamlLoadLimits { MaxNodes = value }).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => new YamlLoadLimits { MaxExpandedScalarCharacters = value }).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void Load_BillionLaughs_ReportsLimitExceededAtTheAliasThatCrossesIt()
    {
        // a0 holds 10 scalars; each next level holds 10 aliases of the previous one: 10^10 nodes expanded.
        var yaml = new StringBuilder("version: 1\n");
        yaml.Append("a0: &a0 [").AppendJoin(", ", Enumerable.Repeat("lol", 10)).Append("]\n");
        for (var level = 1; level < 10; level++)
        {
            yaml.Append($"a{level}: &a{level} [").AppendJoin(", ", Enumerable.Repeat($"*a{level - 1}", 10)).Append("]\n");
        }

        yaml.Append("roles: {viewer: {allow: *a9}}\n");

        var error = LoadAssertions.Load(yaml.ToString()).SingleError();

        // Nodes before a5: 134,463; a5 adds its key, its list, then 111,111 per alias: the 8th alias crosses 1,000,000.
        error.ShouldBe(DiagnosticCodes.LimitExceeded, 7, 45);
        error.Message.Should().Contain("1000000 nodes");
    }

    [Fact]
    public void Load_AliasesOfALongScalar_AreRefusedAtTheAliasThatCrossesTheCharacterLimit()
    {
        // One 60,000-character rule and 900,000 aliases of it: 9.9 MB of YAML standing for 54 G characters of policy.
        var yaml = HostilePolicies.AliasedLongRules(900_000, 60_000);
        long before = GC.GetAllocatedBytesForCurrentThread();

        var result = YamlPolicyLoader.Load(yaml, LoadAssertions.Source);

        (GC.GetAllocatedBytesForCurrentThread() - before).Should().BeLessThan(64L << 20);
        result.Succeeded.Should().BeFalse();
        var error = result.Diagnostics.Should().ContainSingle().Subject;
        error.Code.Should().Be(DiagnosticCodes.LimitExceeded);
        error.Message.Should().Contain("more than 67108864 characters").And.Contain("MaxExpandedScalarCharacters");
        // The anchor is on line 5; 67,108,864 / 60,007 characters per use is 1,118.3, so use 1,119 (line 1,123) crosses it.
        (error.Location.Line, error.Location.Column).Should().Be((1_123, 9));
    }

    [Fact]
    public void Load_ExpandedScalarCharacters_CountKeysAndNestedAliasesAndRespectTheConfiguredLimit()
    {
        // Each use of *b stands for two scalars of 10 characters (the key and the value).
        var yaml = "version: 1\nx: &b {kkkkkkkkkk: vvvvvvvvvv}\ny: [*b, *b, *b]\n";
        // version(7) + 1 + x(1) + 20 + y(1) + 3 x 20 = 90 characters.
        YamlPolicyLoader.Load(yaml, LoadAssertions.Source, new YamlLoadLimits { MaxExpandedScalarCharacters = 90 })
            .Diagnostics.Should().NotContain(d => d.Code == DiagnosticCodes.LimitExceeded);

        var refused = YamlPolicyLoader.Load(yaml, LoadAssertions.Source, new YamlLoadLimits { MaxExpandedScalarCharacters = 89 });

        var error = refused.Diagnostics.Should().ContainSingle().Subject;
        error.Code.Should().Be(DiagnosticCodes.LimitExceeded);
        (error.Location.Line, error.Location.Column).Should().Be((3, 13));
    }

    [Fact]
    public void Load_AliasBombBehindTinyDocument_IsRefusedByNodeCount()
    {
        // A deep chain of 2-fold aliases: 2^60 nodes expanded from a few hundred bytes.
        var yaml = new StringBuilder("version: 1\nroles: {viewer: {}}\nx0: &x0 [a, a]\n");
        for (var level = 1; level <= 60; level++)
        {
            yaml.Append($"x{level}: &x{level} [*x{level - 1}, *x{level - 1}]\n");
        }

        LoadAssertions.Load(yaml.ToString()).SingleError().Code.Should().Be(DiagnosticCodes.LimitExceeded);
    }

    [Fact]
    public void Load_TenThousandNestedFlowLists_ReportsLimitExceededAtLevel65()
    {
        var yaml = new string('[', 10_000) + new string(']', 10_000);

        LoadAssertions.Load(yaml).SingleError().ShouldBe(DiagnosticCodes.LimitExceeded, 1, 65);
    }

    [Fact]
    public void Load_TenThousandUnclosedFlowMappings_ReportsLimitExceeded()
    {
        var yaml = string.Concat(Enumerable.Repeat("{a: ", 10_000));

        LoadAssertions.Load(yaml).SingleError().ShouldBe(DiagnosticCodes.LimitExceeded, 1, 257);
    }

    [Fact]
    public void Load_DeepBlockMappings_ReportsLimitExceeded()
    {
        var yaml = new StringBuilder();
        for (var level = 0; level < 100; level++)
        {
            yaml.Append(' ', 2 * level).Append("k:\n");
        }

        LoadAssertions.Load(yaml.ToString()).SingleError().ShouldBe(DiagnosticCodes.LimitExceeded, 65, 129);
    }

    [Fact]
    public void Load_DepthAtTheLimit_Loads()
    {
        var limits = new YamlLoadLimits { MaxDepth = 3 };

        LoadAssertions.Load(Policies.Minimal, limits).Succeeded.Should().BeTrue();
    }

    [Fact]
    public void Load_DepthOverTheLimit_ReportsLimitExceeded()
    {
        var limits = new YamlLoadLimits { MaxDepth = 2 };

        LoadAssertions.Load(Policies.Minimal, limits).SingleError().ShouldBe(DiagnosticCodes.LimitExceeded, 3, 11);
    }

    [Fact]
    public void Load_TwentyMegabyteString_IsRefusedBeforeParsing()
    {
        var yaml = "version: 1\nroles: {viewer: {}}\n#" + new string('x', 20 * 1024 * 1024);

        var error = LoadAssertions.Load(yaml).SingleError();

        error.ShouldBe(DiagnosticCodes.LimitExceeded, 0, 0);
        error.Message.Should().Be("the policy is larger than the limit of 16777216 bytes");
    }

    [Fact]
    public void Load_SizeCountsUtf8Bytes_NotCharacters()
    {
        var limits = new YamlLoadLimits { MaxFileBytes = 10 };

        LoadAssertions.Load(new string('é', 6), limits).SingleError().ShouldBe(DiagnosticCodes.LimitExceeded, 0, 0);
        LoadAssertions.Load(new string('é', 5), limits).Diagnostics.Should().NotContain(d => d.Code == DiagnosticCodes.LimitExceeded);
    }

    [Fact]
    public void Load_LoneSurrogateNearTheSizeLimit_DoesNotThrow()
    {
        var limits = new YamlLoadLimits { MaxFileBytes = 40 };
        var yaml = "version: 1\nroles: {\"\uD800\": {}}\n";

        FluentActions.Invoking(() => LoadAssertions.Load(yaml, limits)).Should().NotThrow();
    }

    [Fact]
    public void Load_FileExactlyAtSizeLimit_Loads()
    {
        var limits = new YamlLoadLimits { MaxFileBytes = Policies.Minimal.Length };

        LoadAssertions.Load(Policies.Minimal, limits).Succeeded.Should().BeTrue();
        LoadAssertions.Load(Policies.Minimal + " ", limits).SingleError().ShouldBe(DiagnosticCodes.LimitExceeded, 0, 0);
    }

    [Fact]
    public void Load_OneMegabyteScalar_ReportsLimitExceededAtTheScalar()
    {
        var yaml = "version: 1\nroles:\n  viewer:\n    description: " + new string('x', 1024 * 1024) + "\n";

        var error = LoadAssertions.Load(yaml).SingleError();

        error.ShouldBe(DiagnosticCodes.LimitExceeded, 4, 18);
        error.Message.Should().Be("a scalar of 1048576 characters exceeds the limit of 65536");
    }

    [Fact]
    public void Load_OneMegabyteQuotedKey_ReportsLimitExceeded()
    {
        var yaml = "version: 1\nroles:\n  \"" + new string('k', 1024 * 1024) + "\": {}\n";

        LoadAssertions.Load(yaml).SingleError().ShouldBe(DiagnosticCodes.LimitExceeded, 3, 3);
    }

    [Fact]
    public void Load_ScalarAtTheLengthLimit_Loads()
    {
        var yaml = "version: 1\nroles:\n  viewer:\n    description: " + new string('x', 64 * 1024) + "\n";

        LoadAssertions.Load(yaml).Succeeded.Should().BeTrue();
    }

    [Fact]
    public void Load_MoreNodesThanTheLimit_ReportsLimitExceeded()
    {
        var limits = new YamlLoadLimits { MaxNodes = 10 };
        const string yaml = "version: 1\nroles: {viewer: {allow: [a, b, c, d, e]}}\n";

        // root, version, 1, roles, {..}, viewer, {..}, allow, [..], a = 10 nodes; b is the 11th.
        LoadAssertions.Load(yaml, limits).SingleError().ShouldBe(DiagnosticCodes.LimitExceeded, 2, 29);
    }

    [Fact]
    public void Load_LongFlatListUnderTheNodeLimit_Loads()
    {
        var yaml = new StringBuilder("version: 1\nroles:\n  viewer:\n    allow:\n");
        for (var i = 0; i < 100_000; i++)
        {
            yaml.Append("      - data:read on output:").Append(i).Append('\n');
        }

        var result = LoadAssertions.Load(yaml.ToString());

        result.Succeeded.Should().BeTrue();
        result.Document!.Roles[0].Allow.Should().HaveCount(100_000);
    }

    [Fact]
    public void Load_MutatedSpecExample_NeverThrows()
    {
        // Truncations and random insertions of YAML indicators: every outcome must be a result, never an exception.
        var random = new Random(20260101);
        var source = Policies.SpecExample;
        const string indicators = "[]{},:-?&*!|>'\"%@`#\t\n ";
        var inputs = new List<string>();
        for (var cut = 0; cut < source.Length; cut += 7)
        {
            inputs.Add(source[..cut]);
        }

        for (var i = 0; i < 1500; i++)
        {
            var at = random.Next(source.Length);
            var insert = new string(indicators[random.Next(indicators.Length)], random.Next(1, 4));
            inputs.Add(source[..at] + insert + source[at..]);
        }

        foreach (var input in inputs)
        {
            var result = LoadAssertions.Load(input);

            (result.Succeeded == (result.Diagnostics.Count == 0)).Should().BeTrue();
            result.Diagnostics.Should().NotContain(d => d.Location.Source != LoadAssertions.Source);
            result.Diagnostics.Should().NotContain(d => !d.IsError && d.Code != DiagnosticCodes.GrantsEverything && d.Code != DiagnosticCodes.AllowShadowedByDeny,
                "with errors, only warnings about rules read whole are listed");
        }
    }

    [Fact]
    public void Load_RandomShortIndicatorStrings_NeverThrow()
    {
        // Short strings over YAML's indicators reach YamlDotNet's exception paths (ArgumentException, bare
        // InvalidOperationException); each must come back as a result.
        var random = new Random(7);
        const string alphabet = "[]{},:?-&*!|>'\"a b\n#%@";
        for (var i = 0; i < 20_000; i++)
        {
            var chars = new char[random.Next(1, 12)];
            for (var j = 0; j < chars.Length; j++)
            {
                chars[j] = alphabet[random.Next(alphabet.Length)];
            }

            var result = LoadAssertions.Load("version: 1\nroles: " + new string(chars));

            (result.Succeeded == (result.Diagnostics.Count == 0)).Should().BeTrue();
        }
    }
}
