using System.Buffers;
using System.Text;
using AiRbac.Diagnostics;

namespace AiRbac.Cli;

/// <summary>
/// Everything the tool prints goes through this writer: a character unsafe to print (a control character other than
/// newline, carriage return and tab, a bidirectional formatting character, a line or paragraph separator) is written
/// as <c>\uXXXX</c>. Policies, request lines and audit logs are refused or escaped where they are read; this is the
/// last line for what they do not cover (a file name with <c>ESC]0;</c> in it, a message of the runtime).
/// </summary>
internal sealed class TerminalSafeWriter(TextWriter inner) : TextWriter
{
    private static readonly SearchValues<char> Unsafe = SearchValues.Create(UnsafeCharacters());

    /// <inheritdoc/>
    public override Encoding Encoding => inner.Encoding;

    /// <inheritdoc/>
    public override IFormatProvider FormatProvider => inner.FormatProvider;

    /// <inheritdoc/>
    [System.Diagnostics.CodeAnalysis.AllowNull]
    public override string NewLine
    {
        get => inner.NewLine;
        set => inner.NewLine = value;
    }

    /// <inheritdoc/>
    public override void Write(char value)
    {
        if (Unsafe.Contains(value))
        {
            inner.Write(UnsafeText.Escape(value.ToString()));
        }
        else
        {
            inner.Write(value);
        }
    }

    /// <inheritdoc/>
    public override void Write(string? value) => Write(value.AsSpan());

    /// <inheritdoc/>
    public override void Write(char[] buffer, int index, int count) => Write(buffer.AsSpan(index, count));

    /// <inheritdoc/>
    public override void Write(ReadOnlySpan<char> buffer)
    {
        while (!buffer.IsEmpty)
        {
            int at = buffer.IndexOfAny(Unsafe);
            if (at < 0)
            {
                inner.Write(buffer);
                return;
            }

            inner.Write(buffer[..at]);
            Write(buffer[at]);
            buffer = buffer[(at + 1)..];
        }
    }

    /// <inheritdoc/>
    public override void WriteLine(string? value)
    {
        Write(value);
        inner.WriteLine();
    }

    /// <inheritdoc/>
    public override void Flush() => inner.Flush();

    // The core's rule, less the three characters that lay out text.
    private static string UnsafeCharacters()
    {
        var characters = new StringBuilder();
        for (int c = 0; c <= char.MaxValue; c++)
        {
            if (UnsafeText.IsUnsafe((char)c) && c is not ('\n' or '\r' or '\t'))
            {
                characters.Append((char)c);
            }
        }

        return characters.ToString();
    }
}
