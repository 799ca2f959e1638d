namespace AiRbac.Review.Tests;

public sealed class DurationTests
{
    [Theory]
    [InlineData("90d", 90 * 24 * 60)]
    [InlineData("12h", 12 * 60)]
    [InlineData("30m", 30)]
    [InlineData("2w", 14 * 24 * 60)]
    [InlineData("1d", 24 * 60)]
    public void TryParse_Valid_ReturnsMinutes(string text, long minutes)
    {
        Duration.TryParse(text, out var value).Should().BeTrue();
        value.Should().Be(TimeSpan.FromMinutes(minutes));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("d")]
    [InlineData("0d")]
    [InlineData("-1d")]
    [InlineData("+1d")]
    [InlineData("1y")]
    [InlineData("1.5d")]
    [InlineData(" 1d")]
    [InlineData("1D")]
    [InlineData("90")]
    [InlineData("99999999999w")]
    public void TryParse_Invalid_ReturnsFalse(string? text)
        => Duration.TryParse(text, out _).Should().BeFalse();

    [Theory]
    [InlineData("90d", "90d")]
    [InlineData("2w", "14d")]
    [InlineData("36h", "36h")]
    [InlineData("48h", "2d")]
    [InlineData("90m", "90m")]
    public void Format_RoundTrips(string text, string expected)
    {
        Duration.TryParse(text, out var value).Should().BeTrue();
        Duration.Format(value).Should().Be(expected);
    }
}
