namespace AiRbac.Cli.Commands;

/// <summary>
/// The text of a role's risk for the reports: the core's one definition (<see cref="CompiledPolicy.RiskOf(RoleInfo)"/>:
/// everything-grants, every-action grants, the highest ceiling, each clearance, an admin-like name), rendered.
/// </summary>
internal static class RoleRisk
{
    /// <summary>The risk flags of a role, inheritance resolved; an inherited flag names the ancestor (<c>via X</c>).</summary>
    public static IReadOnlyList<string> Flags(CompiledPolicy policy, RoleInfo role)
        => [.. policy.RiskOf(role).Select(r => Text(r, role)).Distinct(StringComparer.Ordinal)];

    /// <summary>A tag with its common name: <c>phi (PHI)</c>, <c>pii (PII)</c>, or the tag.</summary>
    public static string TagLabel(string tag)
        => tag.Equals("phi", StringComparison.OrdinalIgnoreCase) || tag.Equals("pii", StringComparison.OrdinalIgnoreCase)
            ? $"{tag} ({tag.ToUpperInvariant()})" : tag;

    private static string Text(RoleRiskReason reason, RoleInfo role)
    {
        string via = ReferenceEquals(reason.From, role) ? "" : $", via {reason.From.Name}";
        return reason.Code switch
        {
            RoleRiskReason.AllAccess => $"grants everything ({reason.Detail}{via})",
            RoleRiskReason.WildcardAction => $"grants every action ({reason.Detail}{via})",
            RoleRiskReason.HighestCeiling => $"highest ceiling ({reason.Detail}{via})",
            RoleRiskReason.Clearance => $"clearance {TagLabel(reason.Detail)}{via}",
            RoleRiskReason.BreakGlass => $"break-glass (max_activation {reason.Detail}{via})",
            _ => ReferenceEquals(reason.From, role) ? "admin-like name" : $"admin-like name (via {reason.From.Name})",
        };
    }
}
