namespace AiRbac.Core.Tests;

public class ValueTests
{
    [Theory]
    [InlineData("2026-12-31T00:00:00Z", "2026-12-31T00:00:00Z")]
    [InlineData("2026-12-31T01:00:00+01:00", "2026-12-31T00:00:00Z")]
    [InlineData("2026-12-31T00:00:00.5Z", "2026-12-31T00:00:00.5000000Z")]
    [InlineData("2026-12-30T23:00:00-01:00", "2026-12-31T00:00:00Z")]
    [InlineData("2026-12-31t00:00:00z", "2026-12-31T00:00:00Z")] // lowercase: policy-language.md, choice 22
    [InlineData("0000-01-01T00:00:00Z", "0001-01-01T00:00:00Z")] // year 0000 and instants before .NET's range: choice 23
    [InlineData("0000-02-29T12:00:00+05:00", "0001-01-01T00:00:00Z")]
    [InlineData("0001-01-01T00:00:00+01:00", "0001-01-01T00:00:00Z")]
    [InlineData("9999-12-31T23:59:59-01:00", "9999-12-31T23:59:59.9999999Z")]
    public void Rfc3339_Valid_Parses(string text, string utc)
    {
        Rfc3339.TryParse(text, out var value).Should().BeTrue();
        Rfc3339.Format(value).Should().Be(utc);
    }

    [Theory]
    [InlineData("2026-12-31")]
    [InlineData("2026-12-31T00:00:00")]
    [InlineData("2026-12-31 00:00:00Z")]
    [InlineData("2026-02-30T00:00:00Z")]
    [InlineData("2026-12-31T24:00:00Z")]
    [InlineData("2026-12-31T00:00:00.Z")]
    [InlineData("2026-12-31T00:00:00+0100")]
    [InlineData("2026-12-31T23:59:60Z")] // leap second: policy-language.md, choice 22
    [InlineData("0000-02-30T00:00:00Z")]
    [InlineData("0000-13-01T00:00:00Z")]
    [InlineData("")]
    [InlineData(null)]
    public void Rfc3339_Invalid_Fails(string? text) => Rfc3339.TryParse(text, out _).Should().BeFalse();

    [Theory]
    [InlineData("acme", true)]
    [InlineData("acme/pd/prod", true)]
    [InlineData("", false)]
    [InlineData("/acme", false)]
    [InlineData("acme/", false)]
    [InlineData("acme//pd", false)]
    public void Scope_IsValid(string scope, bool valid) => Scope.IsValid(scope).Should().Be(valid);

    [Theory]
    [InlineData("acme/pd", "acme/pd", true)]
    [InlineData("acme/pd", "acme/pd/prod", true)]
    [InlineData("acme/pd", "acme/pd2", false)]
    [InlineData("acme/pd", "acme", false)]
    [InlineData("acme/pd", "Acme/pd", false)]
    public void Scope_Covers_SegmentWise(string binding, string resource, bool covers) => Scope.Covers(binding, resource).Should().Be(covers);
}
