using AiRbac.Requests;

namespace AiRbac.Core.Tests;

public class BoundedLineReaderTests
{
    private static List<(LineStatus, string)> ReadAll(string input, int max)
    {
        var reader = new BoundedLineReader(new StringReader(input), max);
        var lines = new List<(LineStatus, string)>();
        while (true)
        {
            var status = reader.Read(out string text);
            if (status == LineStatus.End)
            {
                return lines;
            }

            lines.Add((status, text));
            if (status == LineStatus.TooLong)
            {
                return lines;
            }
        }
    }

    [Fact]
    public void Read_MixedTerminators_SplitsLikeJsonLines()
    {
        ReadAll("a\r\nbb\n\nccc", 10).Should().Equal((LineStatus.Line, "a"), (LineStatus.Line, "bb"), (LineStatus.Line, ""), (LineStatus.Line, "ccc"));
    }

    [Fact]
    public void Read_TrailingNewline_IsNotAnExtraLine()
    {
        ReadAll("a\n", 10).Should().Equal((LineStatus.Line, "a"));
        ReadAll(string.Empty, 10).Should().BeEmpty();
    }

    [Fact]
    public void Read_LineAtTheLimit_IsALine_OneMoreIsTooLong()
    {
        ReadAll("abcd\r\nx", 4).Should().Equal((LineStatus.Line, "abcd"), (LineStatus.Line, "x"));
        ReadAll("abcde\nx", 4).Should().Equal((LineStatus.TooLong, string.Empty));
    }

    [Fact]
    public void Read_HugeLineWithoutNewline_StopsAtTheLimitWithoutBufferingItAll()
    {
        var reader = new BoundedLineReader(new EndlessReader(), 1000);
        reader.Read(out _).Should().Be(LineStatus.TooLong);
        reader.LineNumber.Should().Be(1);
    }

    private sealed class EndlessReader : TextReader
    {
        public override int Read(char[] buffer, int index, int count)
        {
            Array.Fill(buffer, 'x', index, count);
            return count;
        }
    }
}
