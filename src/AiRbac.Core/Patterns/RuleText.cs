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

    /// <summary>
    /// Whether an action pattern matches every well-formed action (<c>namespace:verb</c>, which holds no <c>/</c>;
    /// docs/policy-language.md, section 3): stars only (<c>*</c>, <c>**</c>), or stars, <c>:</c>, stars (<c>*:*</c>).
    /// </summary>
    /// <param name="action">The action pattern.</param>
    /// <returns>Whether it reaches every action.</returns>
    public static bool IsEveryAction(string action)
    {
        int colon = action.IndexOf(':', StringComparison.Ordinal);
        return colon < 0 ? Stars(action) >= 1 : Stars(action.AsSpan(0, colon)) >= 1 && Stars(action.AsSpan(colon + 1)) >= 1;
    }

    /// <summary>
    /// Whether a resource pattern matches every well-formed resource (<c>type:name</c>, the name possibly with
    /// <c>/</c>): <c>**</c> (or more stars), or stars, <c>:</c>, <c>**</c> (<c>*:**</c>: any type, any name).
    /// </summary>
    /// <param name="resource">The resource pattern.</param>
    /// <returns>Whether it reaches every resource.</returns>
    public static bool IsEveryResource(string resource)
    {
        int colon = resource.IndexOf(':', StringComparison.Ordinal);
        return colon < 0 ? Stars(resource) >= 2 : Stars(resource.AsSpan(0, colon)) >= 1 && Stars(resource.AsSpan(colon + 1)) >= 2;
    }

    /// <summary>
    /// Whether a rule reaches every well-formed action on every well-formed resource (<c>* on **</c> and its
    /// equivalents: <c>** on **</c>, <c>*:* on *:**</c>, ...): the one definition of "grants everything" that the
    /// <c>grants_everything</c> lint warning, <see cref="RuleInfo.IsEverything"/>, <c>airbac matrix</c> and the access
    /// review's <c>all_access</c> flag use (docs/design.md, "One concept, one implementation"). It judges the form (stars
    /// and at most one <c>:</c>), so a pattern that reaches every action by other means (<c>*?</c>) is not flagged.
    /// </summary>
    /// <param name="action">The action pattern.</param>
    /// <param name="resource">The resource pattern.</param>
    /// <returns>Whether the rule names everything.</returns>
    public static bool IsEverything(string action, string resource) => IsEveryAction(action) && IsEveryResource(resource);

    // The length of a run made only of '*', or 0 when the text holds anything else (or is empty).
    private static int Stars(ReadOnlySpan<char> text) => text.IsEmpty || text.ContainsAnyExcept('*') ? 0 : text.Length;
}
