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
        if (outer.Shape == PatternShape.All || outer.Text == inner.Text)
        {
            return true;
        }

        if (inner.IsExact)
        {
            return outer.IsMatch(inner.Text);
        }

        return outer.Shape switch
        {
            PatternShape.PrefixAny => inner.Literal.StartsWith(outer.Literal, StringComparison.Ordinal),
            PatternShape.PrefixNoSlash => inner.Shape == PatternShape.PrefixNoSlash
                && inner.Literal.StartsWith(outer.Literal, StringComparison.Ordinal)
                && !inner.Literal.AsSpan(outer.Literal.Length).Contains('/'),
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
            return b.IsMatch(a.Text);
        }

        if (b.IsExact)
        {
            return a.IsMatch(b.Text);
        }

        if (!a.Literal.StartsWith(b.Literal, StringComparison.Ordinal) && !b.Literal.StartsWith(a.Literal, StringComparison.Ordinal))
        {
            return false;
        }

        return !FewerSlashes(a, b) && !FewerSlashes(b, a);
    }

    /// <summary>
    /// Whether every text <paramref name="fixedCount"/> matches holds fewer <c>/</c> than every text <paramref name="other"/>
    /// matches. Only <c>**</c> matches a <c>/</c>, so a pattern without it matches texts with exactly the <c>/</c> of its
    /// literals, and any pattern's matches hold at least the <c>/</c> of its literals (<c>dataset:*</c> against
    /// <c>dataset:claims/**</c>).
    /// </summary>
    private static bool FewerSlashes(Pattern fixedCount, Pattern other)
    {
        int fixedSlashes = 0, otherSlashes = 0;
        foreach (var token in fixedCount.Tokens)
        {
            if (token.Kind == PatternTokenKind.DoubleStar)
            {
                return false;
            }

            fixedSlashes += token.Kind == PatternTokenKind.Literal ? token.Literal!.AsSpan().Count('/') : 0;
        }

        foreach (var token in other.Tokens)
        {
            otherSlashes += token.Kind == PatternTokenKind.Literal ? token.Literal!.AsSpan().Count('/') : 0;
        }

        return otherSlashes > fixedSlashes;
    }
}
