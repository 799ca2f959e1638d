using System.Globalization;

namespace AiRbac;

/// <summary>Strict RFC 3339 date-time parsing: <c>YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)</c>.</summary>
internal static class Rfc3339
{
    /// <summary>Parses an RFC 3339 date-time with <c>Z</c> or an offset; anything else fails.</summary>
    /// <param name="text">The text.</param>
    /// <param name="value">The parsed instant.</param>
    /// <returns>Whether the text is a valid RFC 3339 date-time.</returns>
    public static bool TryParse(string? text, out DateTimeOffset value)
    {
        value = default;
        if (text is null || text.Length < 20 || text.Length > 64)
        {
            return false;
        }

        ReadOnlySpan<char> s = text;
        if (!Digits(s, 0, 4, out int year) || s[4] != '-' || !Digits(s, 5, 2, out int month) || s[7] != '-'
            || !Digits(s, 8, 2, out int day) || (s[10] != 'T' && s[10] != 't')
            || !Digits(s, 11, 2, out int hour) || s[13] != ':' || !Digits(s, 14, 2, out int minute) || s[16] != ':'
            || !Digits(s, 17, 2, out int second))
        {
            return false;
        }

        int i = 19;
        long ticks = 0;
        if (s[i] == '.')
        {
            i++;
            int start = i;
            long scale = TimeSpan.TicksPerSecond;
            while (i < s.Length && char.IsAsciiDigit(s[i]))
            {
                scale /= 10;
                ticks += (s[i] - '0') * scale;
                i++;
            }

            if (i == start)
            {
                return false;
            }
        }

        if (i >= s.Length)
        {
            return false;
        }

        TimeSpan offset;
        if ((s[i] == 'Z' || s[i] == 'z') && i == s.Length - 1)
        {
            offset = TimeSpan.Zero;
        }
        else if ((s[i] == '+' || s[i] == '-') && s.Length - i == 6 && Digits(s, i + 1, 2, out int oh)
            && s[i + 3] == ':' && Digits(s, i + 4, 2, out int om) && oh <= 23 && om <= 59)
        {
            offset = new TimeSpan(oh, om, 0);
            if (s[i] == '-')
            {
                offset = -offset;
            }
        }
        else
        {
            return false;
        }

        // Year 0000 is valid RFC 3339 (and a leap year, as 2000 is) but has no DateTimeOffset.
        if (month < 1 || month > 12 || day < 1 || day > DateTime.DaysInMonth(year == 0 ? 2000 : year, month)
            || hour > 23 || minute > 59 || second > 59)
        {
            return false;
        }

        // An instant before or after what .NET represents (year 0000, or an offset across 0001-01-01 or
        // 9999-12-31) is read as the earliest or latest instant: every comparison with a representable time, which
        // is all the engine does with one (expiry), gives the answer the exact instant would.
        if (year == 0)
        {
            value = DateTimeOffset.MinValue;
            return true;
        }

        var local = new DateTime(year, month, day, hour, minute, second, DateTimeKind.Unspecified).AddTicks(ticks);
        long utcTicks = local.Ticks - offset.Ticks;
        value = utcTicks < DateTimeOffset.MinValue.UtcTicks ? DateTimeOffset.MinValue
            : utcTicks > DateTimeOffset.MaxValue.UtcTicks ? DateTimeOffset.MaxValue
            : new DateTimeOffset(utcTicks, TimeSpan.Zero).ToOffset(offset);
        return true;
    }

    /// <summary>Formats an instant as RFC 3339 in UTC.</summary>
    /// <param name="value">The instant.</param>
    /// <returns>The text, like <c>2026-12-31T00:00:00Z</c> (fractional seconds only when present).</returns>
    public static string Format(DateTimeOffset value)
    {
        var utc = value.ToUniversalTime();
        return utc.Ticks % TimeSpan.TicksPerSecond == 0
            ? utc.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)
            : utc.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);
    }

    private static bool Digits(ReadOnlySpan<char> s, int start, int count, out int value)
    {
        value = 0;
        if (start + count > s.Length)
        {
            return false;
        }

        for (int i = start; i < start + count; i++)
        {
            if (!char.IsAsciiDigit(s[i]))
            {
                return false;
            }

            value = (value * 10) + (s[i] - '0');
        }

        return true;
    }
}
