using System.Diagnostics;

namespace AiRbac.Core.Tests;

/// <summary><see cref="CompiledPolicy.SuggestRole"/>: the "did you mean" of a role reference that is not declared.</summary>
public sealed class SuggestRoleTests
{
    private static CompiledPolicy Policy() => new TestPolicy()
        .Role("data-scientist", allow: ["data:read on dataset:**"])
        .Role("viewer", allow: ["data:read on output:*"], id: "r-viewer")
        .Role("data-scientists", allow: ["data:read on dataset:x"])
        .Build();

    [Theory]
    [InlineData("Data-Scientist", "data-scientist")]
    [InlineData("data-scientis", "data-scientist")]
    [InlineData("r-viewr", "r-viewer")]
    [InlineData("veiwer", "viewer")]
    public void SuggestRole_Typo_GivesTheClosestNameOrId(string typed, string expected)
    {
        Policy().SuggestRole(typed).Should().Be(expected);
    }

    [Theory]
    [InlineData("viewer")]
    [InlineData("r-viewer")]
    [InlineData("root")]
    [InlineData("")]
    public void SuggestRole_DeclaredOrNothingClose_GivesNull(string typed)
    {
        Policy().SuggestRole(typed).Should().BeNull();
    }

    [Fact]
    public void SuggestRole_HostileLongNamesAndManyRoles_StaysBounded()
    {
        // 20,000 roles with 200-character names, asked about a 200-character name: the comparison budget ends it.
        var policy = new TestPolicy();
        for (int i = 0; i < 20_000; i++)
        {
            policy.Role(new string('r', 195) + i.ToString("D5", System.Globalization.CultureInfo.InvariantCulture), allow: ["a:b on c:d"]);
        }

        var compiled = policy.Build();
        var watch = Stopwatch.StartNew();
        _ = compiled.SuggestRole(new string('s', 200));
        watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(5));
    }
}
