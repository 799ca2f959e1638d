namespace AiRbac;

/// <summary>
/// What makes a role risky to hold: the one definition <c>airbac matrix</c> and the access review render
/// (docs/design.md, "One concept, one implementation"). Cold path: allocates.
/// </summary>
public sealed partial class CompiledPolicy
{
    /// <summary>
    /// Why <paramref name="role"/> is risky to hold, inheritance resolved (the role itself first, then the ancestors
    /// some subject kind reaches through it, <see cref="EffectiveRoles(RoleInfo, SubjectKind?)"/>): a grant of every
    /// action on every resource (<see cref="RoleRiskReason.AllAccess"/>), a grant of every action on less
    /// (<see cref="RoleRiskReason.WildcardAction"/>), a ceiling at the highest of two or more tiers
    /// (<see cref="RoleRiskReason.HighestCeiling"/>), each tag clearance (<see cref="RoleRiskReason.Clearance"/>), a
    /// name containing "admin" (<see cref="RoleRiskReason.AdminName"/>), and break-glass (<see cref="RoleRiskReason.BreakGlass"/>,
    /// docs/policy-language.md, section 12: emergency access, even if gated by an activation). An ancestor's ceiling and clearances count only
    /// when it grants something (each grant is judged with its own role's ceiling and clearances).
    /// </summary>
    /// <param name="role">A role of this policy.</param>
    /// <returns>The reasons, the role's own first; empty when the role is not risky.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="role"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="role"/> is not a role of this policy.</exception>
    public IReadOnlyList<RoleRiskReason> RiskOf(RoleInfo role)
    {
        var contributors = EffectiveRoles(role).OrderBy(r => ReferenceEquals(r, role) ? 0 : 1).ToList();
        if (contributors.Count == 0 || !ReferenceEquals(contributors[0], role))
        {
            // A role whose kinds exclude every kind still names its own grants and ceiling.
            contributors.Insert(0, role);
        }

        string? highest = Tiers.Count > 1 ? Tiers[^1] : null;
        var reasons = new List<RoleRiskReason>();
        foreach (var from in contributors)
        {
            foreach (var rule in from.Allow)
            {
                if (rule.IsEveryAction)
                {
                    reasons.Add(new RoleRiskReason(rule.IsEverything ? RoleRiskReason.AllAccess : RoleRiskReason.WildcardAction, from, rule.Text));
                }
            }

            bool grants = ReferenceEquals(from, role) || from.Allow.Count > 0;
            if (grants && highest is not null && from.MaxSensitivity == highest)
            {
                reasons.Add(new RoleRiskReason(RoleRiskReason.HighestCeiling, from, highest));
            }

            if (grants)
            {
                foreach (string tag in from.Clearances)
                {
                    reasons.Add(new RoleRiskReason(RoleRiskReason.Clearance, from, tag));
                }
            }

            if (from.Name.Contains("admin", StringComparison.OrdinalIgnoreCase))
            {
                reasons.Add(new RoleRiskReason(RoleRiskReason.AdminName, from, from.Name));
            }

            if (from.MaxActivation is { } maxActivation)
            {
                reasons.Add(new RoleRiskReason(RoleRiskReason.BreakGlass, from, Duration.Format(maxActivation)));
            }
        }

        return reasons;
    }
}

/// <summary>One reason a role is risky to hold (<see cref="CompiledPolicy.RiskOf(RoleInfo)"/>).</summary>
public sealed class RoleRiskReason
{
    /// <summary>The code of a grant of every action on every resource (<see cref="RuleInfo.IsEverything"/>).</summary>
    public const string AllAccess = "all_access";

    /// <summary>The code of a grant of every action on less than every resource (<see cref="RuleInfo.IsEveryAction"/>).</summary>
    public const string WildcardAction = "wildcard_action";

    /// <summary>The code of a ceiling at the highest tier (when the policy has two or more tiers).</summary>
    public const string HighestCeiling = "highest_ceiling";

    /// <summary>The code of a tag clearance (PHI, PII or any other tag).</summary>
    public const string Clearance = "clearance";

    /// <summary>The code of a role name containing "admin".</summary>
    public const string AdminName = "admin_name";

    /// <summary>The code of a break-glass role (the detail is its <c>max_activation</c>).</summary>
    public const string BreakGlass = "break_glass";

    internal RoleRiskReason(string code, RoleInfo from, string detail)
    {
        Code = code;
        From = from;
        Detail = detail;
    }

    /// <summary>A stable snake_case code: <see cref="AllAccess"/>, <see cref="WildcardAction"/>, <see cref="HighestCeiling"/>, <see cref="Clearance"/>, <see cref="AdminName"/> or <see cref="BreakGlass"/>.</summary>
    public string Code { get; }

    /// <summary>The role that causes it: the role asked about, or an ancestor.</summary>
    public RoleInfo From { get; }

    /// <summary>The grant (<c>ACTION on RESOURCE</c>), tier, tag, name or maximum activation concerned.</summary>
    public string Detail { get; }

    /// <summary>The code, the detail and the causing role.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => $"{Code} {Detail} ({From.Name})";
}
