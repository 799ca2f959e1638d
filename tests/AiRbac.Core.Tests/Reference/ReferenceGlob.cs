namespace AiRbac.Core.Tests.Reference;

/// <summary>
/// A deliberately naive glob matcher written straight from docs/policy-language.md, section 3: a recursive backtracking
/// walk over the pattern text, re-reading the pattern on every call. Assumes the pattern is valid.
/// </summary>
internal static class ReferenceGlob
{
    /// <summary>Whether <paramref name="pattern"/> matches the whole of <paramref name="text"/>.</summary>
    public static bool IsMatch(string pattern, string text) => Match(pattern, 0, text, 0);

    /// <summary>Whether the pattern holds any wildcard (otherwise it is an exact name).</summary>
    public static bool HasWildcard(string pattern)
        => pattern.Contains('*', StringComparison.Ordinal) || pattern.Contains('?', StringComparison.Ordinal)
        || pattern.Contains('[', StringComparison.Ordinal);

    private static bool Match(string p, int pi, string s, int si)
    {
        if (pi == p.Length)
        {
            return si == s.Length;
        }

        char c = p[pi];
        if (c == '*')
        {
            if (pi + 1 < p.Length && p[pi + 1] == '*')
            {
                // `**`: any run, possibly empty, '/' included.
                for (int k = si; k <= s.Length; k++)
                {
                    if (Match(p, pi + 2, s, k))
                    {
                        return true;
                    }
                }

                return false;
            }

            // `*`: any run, possibly empty, of characters other than '/'.
            for (int k = si; k <= s.Length; k++)
            {
                if (Match(p, pi + 1, s, k))
                {
                    return true;
                }

                if (k < s.Length && s[k] == '/')
                {
                    return false;
                }
            }

            return false;
        }

        if (c == '?')
        {
            return si < s.Length && s[si] != '/' && Match(p, pi + 1, s, si + 1);
        }

        if (c == '[')
        {
            int j = pi + 1;
            bool negate = false;
            if (p[j] == '!')
            {
                negate = true;
                j++;
            }

            bool inClass = false;
            char ch = si < s.Length ? s[si] : '\0';

            // The class ends at the first ']' (a class holds at least one item, so `[]` is never written).
            while (p[j] != ']')
            {
                if (p[j + 1] == '-' && p[j + 2] != ']')
                {
                    if (ch >= p[j] && ch <= p[j + 2])
                    {
                        inClass = true;
                    }

                    j += 3;
                }
                else
                {
                    if (ch == p[j])
                    {
                        inClass = true;
                    }

                    j++;
                }
            }

            if (si >= s.Length || ch == '/' || inClass == negate)
            {
                return false;
            }

            return Match(p, j + 1, s, si + 1);
        }

        return si < s.Length && s[si] == c && Match(p, pi + 1, s, si + 1);
    }
}
