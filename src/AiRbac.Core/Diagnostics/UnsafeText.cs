using System.Globalization;
using System.Text;

namespace AiRbac.Diagnostics;

/// <summary>
/// Characters that must never reach an operator's terminal or log viewer raw: control characters (C0, DEL, C1: an
/// <c>ESC [ 8 m</c> hides the rest of a line, a newline forges another), bidirectional formatting characters (they
/// reorder what is shown, "Trojan Source"), and the Unicode line and paragraph separators.
/// </summary>
/// <remarks>
/// Hand-rolled because the rule is a short fixed list; the BCL has no "is safe to print" predicate
/// (<see cref="char.IsControl(char)"/> misses the bidirectional controls).
/// </remarks>
internal static class UnsafeText
{
    /// <summary>Whether <paramref name="c"/> is a control, bidirectional formatting or separator character.</summary>
    internal static bool IsUnsafe(char c)
        => char.IsControl(c) // U+0000–U+001F, U+007F–U+009F
            || c is '\u061C' or '\u200E' or '\u200F' or '\u2028' or '\u2029'
            || c is >= '\u202A' and <= '\u202E'
            || c is >= '\u2066' and <= '\u2069';

    /// <summary>The index of the first unsafe character, or -1.</summary>
    internal static int IndexOfUnsafe(ReadOnlySpan<char> text)
    {
        for (int i = 0; i < text.Length; i++)
        {
            if (IsUnsafe(text[i]))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>The text with every unsafe character written as <c>\uXXXX</c> (and every backslash before <c>u</c> left as is).</summary>
    internal static string Escape(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int first = IndexOfUnsafe(text);
        if (first < 0)
        {
            return text;
        }

        var builder = new StringBuilder(text.Length + 16).Append(text, 0, first);
        for (int i = first; i < text.Length; i++)
        {
            char c = text[i];
            if (IsUnsafe(c))
            {
                builder.Append("\\u").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }

    /// <summary>How a refusal names the offending character, for example <c>U+001B</c>.</summary>
    internal static string Describe(char c) => "U+" + ((int)c).ToString("X4", CultureInfo.InvariantCulture);
}
