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

    [Fact]
    public void Read_AfterTooLong_GoesOnWithTheNextLine()
    {
        // Readers that count bad lines and go on (airbac diff --audit) get the line after the long one, numbered on.
        string huge = new('x', 200_000); // longer than the read buffer, so the rest is skipped over several reads
        var reader = new BoundedLineReader(new StringReader($"a\n{huge}\nb\nabcdefgh\nc"), 5);
        var seen = new List<(LineStatus, string, long)>();
        while (reader.Read(out string text) is var status && status != LineStatus.End)
        {
            seen.Add((status, text, reader.LineNumber));
        }

        seen.Should().Equal((LineStatus.Line, "a", 1L), (LineStatus.TooLong, "", 2L), (LineStatus.Line, "b", 3L), (LineStatus.TooLong, "", 4L), (LineStatus.Line, "c", 5L));

        var last = new BoundedLineReader(new StringReader("a\n" + huge), 5);
        last.Read(out _).Should().Be(LineStatus.Line);
        last.Read(out _).Should().Be(LineStatus.TooLong);
        last.Read(out _).Should().Be(LineStatus.End, "the long line was the last");
    }

    [Fact]
    public void AtEnd_ReadsAheadWithoutConsuming()
    {
        var reader = new BoundedLineReader(new StringReader("a\nb"), 10);
        reader.Read(out _).Should().Be(LineStatus.Line);
        reader.AtEnd().Should().BeFalse();
        reader.AtEnd().Should().BeFalse();
        reader.Read(out string text).Should().Be(LineStatus.Line);
        text.Should().Be("b", "AtEnd consumed nothing");
        reader.AtEnd().Should().BeTrue();
        reader.Read(out _).Should().Be(LineStatus.End);
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
