using AiRbac.Cli.Commands;

namespace AiRbac.Cli.Tests;

/// <summary>
/// Red team: the Markdown matrix replaced a backtick with an apostrophe, so roles <c>a`b</c> and <c>a'b</c> rendered the
/// same. Cells are now code spans with a fence longer than any backtick run inside (CommonMark), pipes still escaped.
/// </summary>
public class MatrixMarkdownCellTests
{
    /// <summary>Reads a cell back as a CommonMark/GFM renderer would: the code span's content, pipes unescaped.</summary>
    private static string Decode(string cell)
    {
        int fence = 0;
        while (fence < cell.Length && cell[fence] == '`')
        {
            fence++;
        }

        fence.Should().BeGreaterThan(0);
        cell.Should().EndWith(new string('`', fence));
        cell[^(fence + 1)].Should().NotBe('`', "the closing fence is exactly as long as the opening one");
        string content = cell[fence..^fence];
        content.Should().NotContain(new string('`', fence), "a run as long as the fence would close the span early");
        if (content.Length >= 2 && content[0] == ' ' && content[^1] == ' ' && content.AsSpan().ContainsAnyExcept(' '))
        {
            content = content[1..^1];
        }

        // Outside the escapes, no raw pipe may remain: it would split the table cell.
        content.Replace("\\|", "", StringComparison.Ordinal).Should().NotContain("|");
        return content.Replace("\\|", "|", StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a`b")]
    [InlineData("a'b")]
    [InlineData("`a")]
    [InlineData("a`")]
    [InlineData("``x```y`")]
    [InlineData("a|b`c")]
    [InlineData(" padded ")]
    [InlineData("tool:report_*")]
    [InlineData("`")]
    public void MarkdownCell_RoundTrips(string name)
    {
        Decode(MatrixCommand.MarkdownCell(name)).Should().Be(name);
    }

    [Fact]
    public void MarkdownCell_BacktickAndApostrophe_RenderDistinctly()
    {
        MatrixCommand.MarkdownCell("a`b").Should().Be("``a`b``");
        MatrixCommand.MarkdownCell("a'b").Should().Be("`a'b`");
        MatrixCommand.MarkdownCell("`a").Should().Be("`` `a ``");
        MatrixCommand.MarkdownCell("a|b").Should().Be("`a\\|b`", "pipes stay escaped");
        MatrixCommand.MarkdownCell("viewer").Should().Be("`viewer`", "plain names render as before");
    }

    [Fact]
    public void Matrix_RolesDifferingByBacktickAndApostrophe_AreTwoRows()
    {
        using var files = new TempFiles();
        string policy = files.Write("p.yaml", "version: 1\nroles:\n  \"a`b\": { allow: [\"tool:invoke on tool:x\"] }\n  \"a'b\": { allow: [\"tool:invoke on tool:y\"] }\n");
        var result = Cli.Run("matrix", policy);
        result.ExitCode.Should().Be(0, result.Error);
        result.Out.Should().Contain("| ``a`b`` | `allow` | `tool:invoke` | `tool:x` |");
        result.Out.Should().Contain("| `a'b` | `allow` | `tool:invoke` | `tool:y` |");
    }
}
