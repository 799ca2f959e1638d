using System.Globalization;
using AiRbac.Model;

namespace AiRbac;

/// <summary>Why a decision came out as it did (docs/policy-language.md, section 4), in the order of the decision steps.</summary>
/// <remarks>The zero value is <see cref="MissingIdentity"/>, so a default <see cref="Decision"/> denies.</remarks>
public enum DecisionReason : byte
{
    /// <summary><c>missing_identity</c>: no subject id, or no role bindings at all.</summary>
    MissingIdentity = 0,

    /// <summary><c>invalid_request</c>: an undeclared tier, a malformed scope, a subject kind outside the enum, or an empty action or resource.</summary>
    InvalidRequest = 1,

    /// <summary><c>separation_of_duties</c>: two effective roles of one <c>mutually_exclusive</c> list.</summary>
    SeparationOfDuties = 2,

    /// <summary><c>no_active_role</c>: no effective role remains.</summary>
    NoActiveRole = 3,

    /// <summary><c>explicit_deny</c>: a deny of an effective role matches.</summary>
    ExplicitDeny = 4,

    /// <summary><c>owner_conflict</c>: the two-person rule forbids the owner this action.</summary>
    OwnerConflict = 5,

    /// <summary><c>no_matching_grant</c>: no effective role grants the action on the resource.</summary>
    NoMatchingGrant = 6,

    /// <summary><c>sensitivity_ceiling</c>: every matching role's ceiling is below the resource's tier.</summary>
    SensitivityCeiling = 7,

    /// <summary><c>missing_tag_clearance</c>: no matching role within its ceiling clears every tag.</summary>
    MissingTagClearance = 8,

    /// <summary>
    /// <c>condition_failed</c>: no effective role allows the request, but a role whose conditions do not hold for this
    /// request (docs/policy-language.md, section 11) would have: <see cref="Decision.Role"/> is that role,
    /// <see cref="Decision.Condition"/> the first of its conditions that fails.
    /// </summary>
    ConditionFailed = 9,

    /// <summary>
    /// <c>break_glass_not_active</c>: no effective role allows the request, but a break-glass role (docs/policy-language.md,
    /// section 12) would have, had the request carried a valid activation of it by the subject: <see cref="Decision.Role"/>
    /// is that role.
    /// </summary>
    BreakGlassNotActive = 10,

    /// <summary><c>delegation_denied</c>: a subject acted for, down the on-behalf-of chain, was denied.</summary>
    DelegationDenied = 11,

    /// <summary>
    /// <c>approval_required</c>: the request would be allowed (<see cref="Decision.Role"/> and <see cref="Decision.Rule"/>
    /// say by what), but an approval rule matches it (<see cref="Decision.ApprovalRule"/>) and the request carries fewer
    /// valid approvals than it needs (docs/policy-language.md, section 13): start the approval workflow.
    /// </summary>
    ApprovalRequired = 12,

    /// <summary><c>allowed</c>.</summary>
    Allowed = 13,
}

/// <summary>Stable snake_case names of <see cref="DecisionReason"/> values, as used in audit records, the CLI and metrics.</summary>
public static class DecisionReasons
{
    private static readonly string[] Names =
    [
        "missing_identity", "invalid_request", "separation_of_duties", "no_active_role", "explicit_deny",
        "owner_conflict", "no_matching_grant", "sensitivity_ceiling", "missing_tag_clearance", "condition_failed",
        "break_glass_not_active", "delegation_denied", "approval_required", "allowed",
    ];

    /// <summary>Every reason, in step order.</summary>
    public static IReadOnlyList<DecisionReason> All { get; } = Enum.GetValues<DecisionReason>();

    /// <summary>The stable name of a reason (no allocation).</summary>
    /// <param name="reason">The reason.</param>
    /// <returns>The snake_case name.</returns>
    public static string ToName(DecisionReason reason)
        => (uint)reason < (uint)Names.Length ? Names[(int)reason] : "unknown";

    /// <summary>Parses a stable name.</summary>
    /// <param name="name">The snake_case name.</param>
    /// <param name="reason">The reason.</param>
    /// <returns>Whether the name is known.</returns>
    public static bool TryParse(string name, out DecisionReason reason)
    {
        int index = Array.IndexOf(Names, name);
        reason = index < 0 ? default : (DecisionReason)index;
        return index >= 0;
    }
}

/// <summary>
/// The answer to an authorization request: allowed or denied, the reason, and the deciding role and rule.
/// A small value; names and texts are looked up only when read, and <see cref="Explain"/> is the only member that allocates.
/// </summary>
public readonly struct Decision : IEquatable<Decision>
{
    private readonly CompiledPolicy? policy;
    private readonly int role;
    private readonly int rule;
    private readonly int tier;

    // The failed condition's index among its role's conditions (condition_failed), or the approval rule's index (allowed and
    // approval_required), plus one, in the low 16 bits; for an approval rule, the request's approvals that counted (a bit
    // each) in the high 16 bits; 0 for none.
    private readonly int detail;

    // When a break-glass activation decided: the break-glass role plus one (low bits) and the index of the request's
    // activation that made it count (high bits); 0 for none.
    private readonly int breakGlass;
    private readonly DecisionReason delegatedReason;

    private const int ActivationShift = 27;

    internal Decision(CompiledPolicy policy, DecisionReason reason, int role = -1, int rule = -1, int tier = -1,
        DecisionReason delegatedReason = DecisionReason.Allowed, int detail = -1, int breakGlass = 0)
    {
        this.policy = policy;
        Reason = reason;
        this.role = role;
        this.rule = rule;
        this.tier = tier;
        this.delegatedReason = delegatedReason;
        this.detail = detail + 1;
        this.breakGlass = breakGlass;
    }

    /// <summary>The packed break-glass part of a decision: role <paramref name="role"/> activated by activation <paramref name="activation"/>.</summary>
    internal static int PackBreakGlass(int role, int activation) => (role + 1) | (activation << ActivationShift);

    /// <summary>This decision with the break-glass part <paramref name="packed"/> (from <see cref="PackBreakGlass"/>, or another decision's).</summary>
    internal Decision WithBreakGlass(int packed) => new(policy!, Reason, role, rule, tier, delegatedReason, detail - 1, packed);

    /// <summary>The packed break-glass part, 0 for none.</summary>
    internal int BreakGlassPacked => breakGlass;

    /// <summary>This decision with reason <paramref name="reason"/> and approval rule <paramref name="rule"/>, with the approvals that counted for it (<paramref name="mask"/>).</summary>
    internal Decision WithApproval(DecisionReason reason, int rule, int mask)
        => new(policy!, reason, role, this.rule, tier, delegatedReason, rule | (mask << DetailShift), breakGlass);

    /// <summary>For an approval rule, the bits of the request's approvals that counted.</summary>
    internal int ApprovalMask => Reason is DecisionReason.Allowed or DecisionReason.ApprovalRequired ? detail >>> DetailShift : 0;

    private const int DetailShift = 16;

    internal int RoleIndex => role;

    internal int RuleIndex => rule;

    internal int TierIndex => tier;

    /// <summary>The failed condition's index among its role's conditions, or the approval rule's index, or -1.</summary>
    internal int DetailIndex => (detail & ((1 << DetailShift) - 1)) - 1;

    /// <summary>Whether the request is allowed. Only the grant step sets this.</summary>
    public bool Allowed => Reason == DecisionReason.Allowed;

    /// <summary>Why.</summary>
    public DecisionReason Reason { get; }

    /// <summary>The stable snake_case name of <see cref="Reason"/>.</summary>
    public string ReasonName => DecisionReasons.ToName(Reason);

    /// <summary>The deciding role's name, or <see langword="null"/> when the reason names none.</summary>
    public string? Role => policy is not null && role >= 0 ? policy.RoleName(role) : null;

    /// <summary>The deciding rule as <c>ACTION on RESOURCE</c>, or <see langword="null"/> when the reason names none.</summary>
    public string? Rule => policy is not null && rule >= 0 && Reason != DecisionReason.SeparationOfDuties ? policy.RuleText(rule) : null;

    /// <summary>Where the deciding rule (or, for separation of duties, the broken list) was written.</summary>
    public SourceLocation? RuleLocation => policy is null || rule < 0 ? null
        : Reason == DecisionReason.SeparationOfDuties ? policy.ExclusiveSetLocation(rule) : policy.RuleLocation(rule);

    /// <summary>For <see cref="DecisionReason.DelegationDenied"/>, the reason the denied link got; otherwise <see cref="DecisionReason.Allowed"/>.</summary>
    public DecisionReason DelegatedReason => delegatedReason;

    /// <summary>
    /// For <see cref="DecisionReason.ConditionFailed"/> (or <see cref="DecisionReason.DelegationDenied"/> of a link that got
    /// it), the first condition of <see cref="Role"/> that does not hold, as written (<c>mfa: true</c>); otherwise
    /// <see langword="null"/>.
    /// </summary>
    public string? Condition => policy is not null && detail > 0 && role >= 0
        && (Reason == DecisionReason.ConditionFailed || (Reason == DecisionReason.DelegationDenied && delegatedReason == DecisionReason.ConditionFailed))
        ? policy.ConditionText(role, DetailIndex) : null;

    /// <summary>
    /// For <see cref="DecisionReason.ApprovalRequired"/>, the name of the approval rule that needs more approvals; for an
    /// allowed request that an approval rule matched (and its approvals satisfied), the first such rule's name; otherwise
    /// <see langword="null"/> (docs/policy-language.md, section 13).
    /// </summary>
    public string? ApprovalRule => policy is not null && detail > 0 && Reason is DecisionReason.Allowed or DecisionReason.ApprovalRequired
        ? policy.ApprovalRuleAt(DetailIndex)?.Name : null;

    /// <summary>
    /// Whether a break-glass activation decided (docs/policy-language.md, section 12): the deciding role (for an allowed
    /// request, the role that allowed it, of the actor or of any subject down its chain) was effective only through an
    /// activated break-glass role. Every such decision is flagged in audit records, metrics and the break-glass event.
    /// </summary>
    public bool BreakGlass => breakGlass != 0;

    /// <summary>When <see cref="BreakGlass"/>, the break-glass role whose activation decided; otherwise <see langword="null"/>.</summary>
    public string? BreakGlassRole => policy is not null && breakGlass != 0 ? policy.RoleName((breakGlass & ((1 << ActivationShift) - 1)) - 1) : null;

    /// <summary>When <see cref="BreakGlass"/>, the index in the request's <see cref="RequestContext.Activations"/> of the activation that decided; else -1.</summary>
    internal int ActivationIndex => breakGlass == 0 ? -1 : breakGlass >>> ActivationShift;

    /// <summary>One sentence that says what was decided and why, naming the role, rule and where it was written.</summary>
    /// <returns>The explanation.</returns>
    public string Explain() => policy is null
        ? "Denied (missing_identity): no policy answered this request."
        : policy.Explain(Reason, role, rule, tier, delegatedReason, DetailIndex, breakGlass == 0 ? -1 : (breakGlass & ((1 << ActivationShift) - 1)) - 1);

    /// <summary>Formats the decision as <c>allowed|denied reason [role] [rule]</c>.</summary>
    /// <returns>The text.</returns>
    public override string ToString()
        => string.Create(CultureInfo.InvariantCulture, $"{(Allowed ? "allowed" : "denied")} {ReasonName} {Role} {Rule}").TrimEnd();

    /// <inheritdoc/>
    public bool Equals(Decision other) => ReferenceEquals(policy, other.policy) && Reason == other.Reason
        && role == other.role && rule == other.rule && tier == other.tier && delegatedReason == other.delegatedReason
        && detail == other.detail && breakGlass == other.breakGlass;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Decision other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Reason, role, rule, tier, delegatedReason, detail, breakGlass);

    /// <summary>Compares two decisions.</summary>
    /// <param name="left">The left decision.</param>
    /// <param name="right">The right decision.</param>
    /// <returns>Whether they are equal.</returns>
    public static bool operator ==(Decision left, Decision right) => left.Equals(right);

    /// <summary>Compares two decisions.</summary>
    /// <param name="left">The left decision.</param>
    /// <param name="right">The right decision.</param>
    /// <returns>Whether they differ.</returns>
    public static bool operator !=(Decision left, Decision right) => !left.Equals(right);
}
