using System.Globalization;
using System.Text;
using AiRbac.Requests;

namespace AiRbac.Cli;

/// <summary>A bad line of a request corpus: the command stops with exit status 2 and a message naming the line.</summary>
internal sealed class BadInputLineException(long lineNumber, string reason)
    : Exception(string.Create(CultureInfo.InvariantCulture, $"line {lineNumber}: {reason}"))
{
    /// <summary>The 1-based line number.</summary>
    public long LineNumber { get; } = lineNumber;
}

/// <summary>Streams the requests of a JSON Lines corpus (docs/request-lines.md), one at a time.</summary>
internal static class RequestCorpus
{
    /// <summary>Opens a corpus: a file path, or <c>-</c> for standard input.</summary>
    public static TextReader Open(string path, TextReader stdin)
    {
        if (path == "-")
        {
            return stdin;
        }

        PolicyFiles.RequireFile(path);
        return new StreamReader(path, new UTF8Encoding(false), detectEncodingFromByteOrderMarks: true, new FileStreamOptions { BufferSize = 1 << 16 });
    }

    /// <summary>Reads the requests one by one. Blank lines, over-long lines and lines that are not valid requests throw <see cref="BadInputLineException"/>.</summary>
    public static IEnumerable<(long Line, AuthorizationRequest Request)> Read(TextReader reader, int maxLineLength = BoundedLineReader.DefaultMaxLineLength)
    {
        var lines = new BoundedLineReader(reader, maxLineLength);
        while (true)
        {
            var status = lines.Read(out string text);
            if (status == LineStatus.End)
            {
                yield break;
            }

            yield return (lines.LineNumber, Parse(lines, status, text));
        }
    }

    private static AuthorizationRequest Parse(BoundedLineReader lines, LineStatus status, string text)
    {
        if (status == LineStatus.TooLong)
        {
            throw new BadInputLineException(lines.LineNumber, string.Create(CultureInfo.InvariantCulture, $"the line is longer than {lines.MaxLineLength} characters"));
        }

        if (string.IsNullOrWhiteSpace(text))
        {
            throw new BadInputLineException(lines.LineNumber, "blank line (each line must hold one request object)");
        }

        try
        {
            return RequestJson.ParseRequest(text);
        }
        catch (RequestFormatException e)
        {
            throw new BadInputLineException(lines.LineNumber, e.Message);
        }
    }
}
