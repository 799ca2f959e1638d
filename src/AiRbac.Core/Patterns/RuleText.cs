namespace AiRbac.Patterns;

/// <summary>Parses the rule syntax <c>ACTION_PATTERN on RESOURCE_PATTERN</c> (POLICY-SPEC §2).</summary>
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
        var tokens = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (tokens.Length != 3 || tokens[1] != "on")
        {
            return false;
        }

        action = tokens[0];
        resource = tokens[2];
        return true;
    }

    /// <summary>The canonical form: the two patterns joined by <c> on </c>.</summary>
    /// <param name="action">The action pattern.</param>
    /// <param name="resource">The resource pattern.</param>
    /// <returns>The canonical rule text.</returns>
    public static string Format(string action, string resource) => action + " on " + resource;
}
