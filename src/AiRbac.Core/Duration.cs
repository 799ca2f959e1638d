using System.Globalization;

namespace AiRbac;

/// <summary>
/// Durations written as a count and a unit: <c>90d</c>, <c>2w</c>, <c>12h</c>, <c>30m</c>. The one syntax of the policy's
/// durations (<c>max_activation</c>, <c>valid_for</c>: docs/policy-language.md, sections 12 and 13) and of review windows
/// (<c>airbac review --since</c>). Linked into the review and the command line.
/// </summary>
internal static class Duration
{
    /// <summary>
    /// Parses a positive whole count followed by one unit: <c>m</c> (minutes), <c>h</c> (hours), <c>d</c> (days) or
    /// <c>w</c> (weeks), with no spaces, at most 100 years. Anything else fails.
    /// </summary>
    /// <param name="text">The text, for instance <c>90d</c>.</param>
    /// <param name="value">The duration when the text is valid.</param>
    /// <returns>Whether the text is a valid duration.</returns>
    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = default;
        if (text is null || text.Length < 2 || text.Length > 12)
        {
            return false;
        }

        var digits = text.AsSpan(0, text.Length - 1);
        foreach (char c in digits)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long count) || count <= 0)
        {
            return false;
        }

        long minutes = text[^1] switch
        {
            'm' => 1,
            'h' => 60,
            'd' => 60 * 24,
            'w' => 60 * 24 * 7,
            _ => 0,
        };
        const long MaxMinutes = 100L * 366 * 24 * 60;
        if (minutes == 0 || count > MaxMinutes / minutes)
        {
            return false;
        }

        value = TimeSpan.FromMinutes(count * minutes);
        return true;
    }

    /// <summary>Formats a duration in days, hours or minutes, the largest unit that divides it exactly (<c>90d</c>, <c>36h</c>, <c>5m</c>).</summary>
    /// <param name="value">The duration.</param>
    /// <returns>The text; durations that are not whole minutes are written in .NET's constant format.</returns>
    public static string Format(TimeSpan value)
    {
        if (value <= TimeSpan.Zero || value.Ticks % TimeSpan.TicksPerMinute != 0)
        {
            return value.ToString("c", CultureInfo.InvariantCulture);
        }

        long minutes = value.Ticks / TimeSpan.TicksPerMinute;
        const long Day = 60 * 24;
        return minutes % Day == 0 ? (minutes / Day).ToString(CultureInfo.InvariantCulture) + "d"
            : minutes % 60 == 0 ? (minutes / 60).ToString(CultureInfo.InvariantCulture) + "h"
            : minutes.ToString(CultureInfo.InvariantCulture) + "m";
    }
}
