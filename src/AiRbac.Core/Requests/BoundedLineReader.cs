using System.Text;

namespace AiRbac.Requests;

/// <summary>What <see cref="BoundedLineReader.Read"/> found.</summary>
internal enum LineStatus
{
    /// <summary>A line (without its line terminator).</summary>
    Line,

    /// <summary>The line is longer than the limit; reading stops there.</summary>
    TooLong,

    /// <summary>End of input.</summary>
    End,
}

/// <summary>
/// Reads lines of at most a fixed length, so that one huge line (or a file without newlines) cannot take
/// unbounded memory. Lines end at <c>\n</c>; a <c>\r</c> before it is dropped. A last line without a
/// terminator is still a line. After <see cref="LineStatus.TooLong"/>, the next <see cref="Read"/> skips the rest of that
/// line without keeping it and returns the line after it, for readers that count bad lines and go on. Used for request
/// corpora and audit logs (JSON Lines).
/// </summary>
/// <param name="reader">The text to read.</param>
/// <param name="maxLineLength">The longest line accepted, in UTF-16 code units.</param>
internal sealed class BoundedLineReader(TextReader reader, int maxLineLength)
{
    /// <summary>The default limit: 1 MiB of characters per line.</summary>
    public const int DefaultMaxLineLength = Tuning.Requests.MaxLineLength;

    private readonly char[] buffer = new char[1 << 16];
    private readonly StringBuilder line = new();
    private int position;
    private int length;
    private bool skipping; // the last line was too long and its rest has not been read yet

    /// <summary>The number of the line last returned (1-based).</summary>
    public long LineNumber { get; private set; }

    /// <summary>The length limit, in UTF-16 code units.</summary>
    public int MaxLineLength => maxLineLength;

    /// <summary>Reads the next line.</summary>
    /// <param name="text">The line when the status is <see cref="LineStatus.Line"/>.</param>
    /// <returns>Whether a line was read, was too long, or the input ended.</returns>
    public LineStatus Read(out string text)
    {
        text = string.Empty;
        line.Clear();
        if (skipping && !SkipRestOfLine())
        {
            return LineStatus.End;
        }

        bool started = false;
        while (true)
        {
            if (position == length)
            {
                length = reader.Read(buffer, 0, buffer.Length);
                position = 0;
                if (length == 0)
                {
                    if (!started)
                    {
                        return LineStatus.End;
                    }

                    LineNumber++;
                    text = Finish();
                    return LineStatus.Line;
                }
            }

            started = true;
            var rest = buffer.AsSpan(position, length - position);
            int newline = rest.IndexOf('\n');
            int take = newline < 0 ? rest.Length : newline;
            if (line.Length + take > maxLineLength + 1)
            {
                // One more than the limit is allowed here for a '\r' that Finish drops.
                LineNumber++;
                line.Clear();
                skipping = true;
                return LineStatus.TooLong;
            }

            line.Append(rest[..take]);
            position += newline < 0 ? take : take + 1;
            if (newline >= 0)
            {
                LineNumber++;
                text = Finish();
                if (text.Length > maxLineLength)
                {
                    text = string.Empty;
                    return LineStatus.TooLong;
                }

                return LineStatus.Line;
            }
        }
    }

    /// <summary>Whether the input has ended: nothing is left after the line last returned. Reads ahead, consumes nothing.</summary>
    /// <returns><see langword="true"/> when a <see cref="Read"/> now would return <see cref="LineStatus.End"/>.</returns>
    public bool AtEnd()
    {
        if (skipping || position < length)
        {
            return false;
        }

        length = reader.Read(buffer, 0, buffer.Length);
        position = 0;
        return length == 0;
    }

    // Reads past the end of a line that was too long, keeping nothing; false when the input ends first.
    private bool SkipRestOfLine()
    {
        while (true)
        {
            if (position == length)
            {
                length = reader.Read(buffer, 0, buffer.Length);
                position = 0;
                if (length == 0)
                {
                    skipping = false;
                    return false;
                }
            }

            int newline = buffer.AsSpan(position, length - position).IndexOf('\n');
            if (newline >= 0)
            {
                position += newline + 1;
                skipping = false;
                return true;
            }

            position = length;
        }
    }

    private string Finish()
    {
        if (line.Length > 0 && line[^1] == '\r')
        {
            line.Length--;
        }

        return line.ToString();
    }
}
