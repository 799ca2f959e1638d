namespace AiRbac.Patterns;

/// <summary>Parses the rule syntax <c>ACTION_PATTERN on RESOURCE_PATTERN</c> (docs/policy-language.md, section 2).</summary>
internal static class RuleText
{
    /// <summary>Splits a rule into its two patterns: exactly three tokens separated by runs of spaces, the middle one <c>on</c>.</summary>
    /// <param name="text">The rule as written.</param>
    /// <param name="action">The action pattern.</param>
    /// <param name="resource">The resource pattern.</param>
    /// <returns>Whether the rule has the required form.</returns>
    public static bool TrySplit(string text, out string action, out string resource)
    {
        action = string.Empty;
        resource = string.Empty;
        Span<Range> tokens = stackalloc Range[4];
        var span = text.AsSpan();
        int count = span.Split(tokens, ' ', StringSplitOptions.RemoveEmptyEntries);
        if (count != 3 || !span[tokens[1]].SequenceEqual("on"))
        {
            return false;
        }

        action = text[tokens[0]];
        resource = text[tokens[2]];
        return true;
    }

    /// <summary>The canonical form of a rule, reusing <paramref name="written"/> when it already is canonical.</summary>
    /// <param name="written">The rule as written.</param>
    /// <param name="action">The action pattern.</param>
    /// <param name="resource">The resource pattern.</param>
    /// <returns>The canonical rule text.</returns>
    public static string Canonical(string written, string action, string resource)
        => written.Length == action.Length + 4 + resource.Length && written.StartsWith(action, StringComparison.Ordinal)
            && written.AsSpan(action.Length).StartsWith(" on ", StringComparison.Ordinal)
            ? written
            : Format(action, resource);

    /// <summary>The canonical form: the two patterns joined by <c> on </c>.</summary>
    /// <param name="action">The action pattern.</param>
    /// <param name="resource">The resource pattern.</param>
    /// <returns>The canonical rule text.</returns>
    public static string Format(string action, string resource) => action + " on " + resource;
}
