namespace AiRbac.Cli.Commands;

/// <summary>
/// What makes a role risky to hold, for the reports: a grant of every action on every resource, a ceiling at the
/// highest tier, tag clearances (PHI, PII). Each is found on the role itself or on an ancestor whose grants it inherits.
/// </summary>
internal static class RoleRisk
{
    /// <summary>The risk flags of a role, inheritance resolved; an inherited flag names the ancestor (<c>via X</c>).</summary>
    public static IReadOnlyList<string> Flags(CompiledPolicy policy, RoleInfo role)
    {
        var flags = new List<string>();
        foreach (var rule in EffectiveRoles.Rules(policy, role))
        {
            if (rule.Effect == "allow" && rule.Info.IsEverything)
            {
                flags.Add($"grants everything ({rule.Rule}{Via(rule.Via, role)})");
            }
        }

        string highest = policy.Tiers[^1];
        foreach (var from in EffectiveRoles.Contributors(policy, role))
        {
            // An ancestor's ceiling matters only through its grants (each grant is judged with its own role's ceiling).
            if (from.MaxSensitivity == highest && (from == role || from.Allow.Count > 0))
            {
                flags.Add($"highest ceiling ({highest}{Via(from.Name, role)})");
            }

            foreach (string tag in from.Clearances)
            {
                if (from == role || from.Allow.Count > 0)
                {
                    flags.Add($"clearance {TagLabel(tag)}{Via(from.Name, role)}");
                }
            }
        }

        return [.. flags.Distinct(StringComparer.Ordinal)];
    }

    /// <summary>A tag with its common name: <c>phi (PHI)</c>, <c>pii (PII)</c>, or the tag.</summary>
    public static string TagLabel(string tag)
        => tag.Equals("phi", StringComparison.OrdinalIgnoreCase) || tag.Equals("pii", StringComparison.OrdinalIgnoreCase)
            ? $"{tag} ({tag.ToUpperInvariant()})" : tag;

    private static string Via(string via, RoleInfo role) => via == role.Name ? "" : $", via {via}";
}
