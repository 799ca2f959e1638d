using System.Globalization;

namespace AiRbac.Diagnostics;

/// <summary>
/// Quotes text a policy wrote (names, patterns, tiers) in diagnostic messages. A name may be 64 Ki characters long and
/// quoted once per problem; quoted whole, a few thousand problems would cost gigabytes.
/// </summary>
internal static class DiagnosticText
{
    /// <summary>The most characters of one quoted text kept in a message.</summary>
    public const int MaxQuotedCharacters = 100;

    /// <summary>
    /// <paramref name="value"/> itself when at most <see cref="MaxQuotedCharacters"/> long; otherwise its first
    /// characters followed by <c>…(N more characters)</c>.
    /// </summary>
    public static string Clip(string value)
    {
        if (value.Length <= MaxQuotedCharacters)
        {
            return value;
        }

        // Never split a surrogate pair.
        int keep = char.IsHighSurrogate(value[MaxQuotedCharacters - 1]) ? MaxQuotedCharacters - 1 : MaxQuotedCharacters;
        return string.Create(CultureInfo.InvariantCulture, $"{value.AsSpan(0, keep)}…({value.Length - keep} more characters)");
    }
}
