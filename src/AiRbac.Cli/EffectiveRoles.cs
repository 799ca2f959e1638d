namespace AiRbac.Cli;

/// <summary>One grant or deny a role has, directly or through inheritance, with the declaring role's ceiling and clearances.</summary>
/// <param name="Role">The role that has the rule.</param>
/// <param name="Effect"><c>allow</c> or <c>deny</c>.</param>
/// <param name="Rule">The canonical rule text, <c>ACTION on RESOURCE</c>.</param>
/// <param name="Via">The role that declares it (the role itself, or an ancestor).</param>
/// <param name="MaxSensitivity">The declaring role's ceiling (an inherited grant is judged with its own role's ceiling).</param>
/// <param name="Clearances">The declaring role's clearances.</param>
internal sealed record EffectiveRule(string Role, string Effect, string Rule, string Via, string MaxSensitivity, IReadOnlyList<string> Clearances)
{
    /// <summary>The action pattern.</summary>
    public string Action => Rule[..Rule.IndexOf(" on ", StringComparison.Ordinal)];

    /// <summary>The resource pattern.</summary>
    public string Resource => Rule[(Rule.IndexOf(" on ", StringComparison.Ordinal) + 4)..];
}

/// <summary>Resolves inheritance for reports: a role's effective rules are its own plus its ancestors'.</summary>
internal static class EffectiveRoles
{
    /// <summary>The roles that contribute rules to <paramref name="role"/>: itself first, then its ancestors in declaration order.</summary>
    public static IEnumerable<RoleInfo> Contributors(CompiledPolicy policy, RoleInfo role)
    {
        yield return role;
        foreach (string ancestor in role.Ancestors)
        {
            if (policy.FindRole(ancestor) is { } info)
            {
                yield return info;
            }
        }
    }

    /// <summary>Every rule of <paramref name="role"/>, with inheritance resolved: grants first, then denies.</summary>
    public static IEnumerable<EffectiveRule> Rules(CompiledPolicy policy, RoleInfo role)
    {
        var contributors = Contributors(policy, role).ToList();
        foreach (var from in contributors)
        {
            foreach (string rule in from.Allow)
            {
                yield return new EffectiveRule(role.Name, "allow", rule, from.Name, from.MaxSensitivity, from.Clearances);
            }
        }

        foreach (var from in contributors)
        {
            foreach (string rule in from.Deny)
            {
                yield return new EffectiveRule(role.Name, "deny", rule, from.Name, from.MaxSensitivity, from.Clearances);
            }
        }
    }

    /// <summary>The kinds a role applies to, as text: <c>all</c> or a comma-separated list.</summary>
    public static string KindsText(RoleInfo role)
        => role.Kinds is null ? "all" : string.Join(", ", role.Kinds.Select(KindName));

    /// <summary>The lower-case name of a subject kind, as written in policies.</summary>
    public static string KindName(SubjectKind kind) => kind switch
    {
        SubjectKind.User => "user",
        SubjectKind.Service => "service",
        _ => "agent",
    };
}
