namespace AiRbac.Cli;

/// <summary>One grant or deny a role brings, directly or through inheritance, with the declaring role's ceiling and clearances.</summary>
/// <param name="Role">The role that brings the rule.</param>
/// <param name="Effect"><c>allow</c> or <c>deny</c>.</param>
/// <param name="Info">The rule as the policy declares it (effect, patterns, declaring role, location).</param>
/// <param name="MaxSensitivity">The declaring role's ceiling (an inherited grant is judged with its own role's ceiling).</param>
/// <param name="Clearances">The declaring role's clearances.</param>
internal sealed record EffectiveRule(string Role, string Effect, RuleInfo Info, string MaxSensitivity, IReadOnlyList<string> Clearances)
{
    /// <summary>The canonical rule text, <c>ACTION on RESOURCE</c>.</summary>
    public string Rule => Info.Text;

    /// <summary>The role that declares it (the role itself, or an ancestor).</summary>
    public string Via => Info.Role;

    /// <summary>The action pattern.</summary>
    public string Action => Info.Action;

    /// <summary>The resource pattern.</summary>
    public string Resource => Info.Resource;
}

/// <summary>
/// What a role brings a subject, for reports: the core's <see cref="CompiledPolicy.EffectiveRoles(RoleInfo, SubjectKind?)"/>
/// (inheritance with role <c>kinds</c> applied, as decisions apply it) over the kinds the role applies to.
/// </summary>
internal static class EffectiveRoles
{
    /// <summary>
    /// The roles that contribute rules to <paramref name="role"/> for some subject kind it applies to: itself first,
    /// then the others in declaration order. An ancestor no kind reaches through this role is not listed.
    /// </summary>
    public static IEnumerable<RoleInfo> Contributors(CompiledPolicy policy, RoleInfo role)
    {
        yield return role;
        foreach (var info in policy.EffectiveRoles(role))
        {
            if (!ReferenceEquals(info, role))
            {
                yield return info;
            }
        }
    }

    /// <summary>Every rule <paramref name="role"/> brings, with inheritance resolved: grants first, then denies.</summary>
    public static IEnumerable<EffectiveRule> Rules(CompiledPolicy policy, RoleInfo role)
    {
        var contributors = Contributors(policy, role).ToList();
        foreach (var from in contributors)
        {
            foreach (var rule in from.Allow)
            {
                yield return new EffectiveRule(role.Name, "allow", rule, from.MaxSensitivity, from.Clearances);
            }
        }

        foreach (var from in contributors)
        {
            foreach (var rule in from.Deny)
            {
                yield return new EffectiveRule(role.Name, "deny", rule, from.MaxSensitivity, from.Clearances);
            }
        }
    }

    /// <summary>The kinds a role applies to, as text: <c>all</c> or a comma-separated list.</summary>
    public static string KindsText(RoleInfo role)
        => role.Kinds is null ? "all" : string.Join(", ", role.Kinds.Select(SubjectKinds.ToName));
}
