namespace AiRbac.Patterns;

/// <summary>Conservative pattern relations used by lint: they may miss a case, but never claim one that is false.</summary>
internal static class PatternCover
{
    /// <summary>Whether every string <paramref name="inner"/> matches is also matched by <paramref name="outer"/>.</summary>
    /// <param name="outer">The covering pattern.</param>
    /// <param name="inner">The covered pattern.</param>
    /// <returns>True only when coverage is certain.</returns>
    public static bool Covers(Pattern outer, Pattern inner)
    {
        if (outer.Shape == PatternShape.All || SameText(outer, inner))
        {
            return true;
        }

        if (inner.IsExact)
        {
            return MatchesName(outer, inner);
        }

        return outer.Shape switch
        {
            PatternShape.PrefixAny => inner.Literal.StartsWith(outer.Literal, StringComparison.Ordinal),
            PatternShape.PrefixNoSlash => inner.Shape == PatternShape.PrefixNoSlash
                && inner.Literal.StartsWith(outer.Literal, StringComparison.Ordinal)
                && inner.LastSlashInLiteral < outer.Literal.Length,
            _ => false,
        };
    }

    /// <summary>Whether some string may match both patterns (true when unsure).</summary>
    /// <param name="a">One pattern.</param>
    /// <param name="b">The other.</param>
    /// <returns>False only when the two certainly match nothing in common.</returns>
    public static bool Overlaps(Pattern a, Pattern b)
    {
        if (a.IsExact)
        {
            return MatchesName(b, a);
        }

        if (b.IsExact)
        {
            return MatchesName(a, b);
        }

        if (!a.Literal.StartsWith(b.Literal, StringComparison.Ordinal) && !b.Literal.StartsWith(a.Literal, StringComparison.Ordinal))
        {
            return false;
        }

        return !FewerSlashes(a, b) && !FewerSlashes(b, a);
    }

    /// <summary>
    /// Whether <paramref name="pattern"/> matches the name of the exact pattern <paramref name="name"/>: the same answer
    /// as <see cref="Pattern.IsMatch"/>, but every shape other than <see cref="PatternShape.General"/> costs at most one
    /// comparison of the shorter text (the <c>/</c> after a prefix is found from <see cref="Pattern.LastSlashInLiteral"/>).
    /// </summary>
    /// <param name="pattern">Any pattern.</param>
    /// <param name="name">An exact pattern.</param>
    /// <returns>Whether the pattern matches the name.</returns>
    public static bool MatchesName(Pattern pattern, Pattern name) => pattern.Shape switch
    {
        PatternShape.Exact => SameText(pattern, name),
        PatternShape.All => true,
        PatternShape.PrefixNoSlash => name.Text.StartsWith(pattern.Literal, StringComparison.Ordinal)
            && name.LastSlashInLiteral < pattern.Literal.Length,
        PatternShape.PrefixAny => name.Text.StartsWith(pattern.Literal, StringComparison.Ordinal),
        _ => pattern.MatchGeneral(name.Text),
    };

    /// <summary>
    /// Whether two patterns are written alike. Texts of different hashes are told apart without reading them, so two
    /// long texts sharing a long prefix cost one comparison of characters only when they are equal.
    /// </summary>
    private static bool SameText(Pattern a, Pattern b) =>
        a.TextHash == b.TextHash && string.Equals(a.Text, b.Text, StringComparison.Ordinal);

    /// <summary>
    /// Whether every text <paramref name="fixedCount"/> matches holds fewer <c>/</c> than every text <paramref name="other"/>
    /// matches. Only <c>**</c> matches a <c>/</c>, so a pattern without it matches texts with exactly the <c>/</c> of its
    /// literals, and any pattern's matches hold at least the <c>/</c> of its literals (<c>dataset:*</c> against
    /// <c>dataset:claims/**</c>). Both counts are kept by the pattern, so this is two field reads.
    /// </summary>
    private static bool FewerSlashes(Pattern fixedCount, Pattern other) =>
        !fixedCount.HasDoubleStar && other.LiteralSlashes > fixedCount.LiteralSlashes;
}
