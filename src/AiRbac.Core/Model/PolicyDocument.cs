namespace AiRbac.Model;

/// <summary>
/// A policy as written (docs/policy-language.md, section 2), before validation and compilation. Loaders (YAML, code)
/// build it; <see cref="PolicyCompiler"/> validates it and turns it into a <see cref="CompiledPolicy"/>.
/// Every element keeps its source location so that each problem can be reported where it was written.
/// </summary>
public sealed class PolicyDocument
{
    /// <summary>The source name (usually the file path) used in diagnostics.</summary>
    public string SourceName { get; init; } = string.Empty;

    /// <summary>
    /// The policy language version as written: <c>1</c> or <c>2</c>. Version 2 adds <see cref="Context"/>, role
    /// <see cref="RoleDefinition.Conditions"/> (docs/policy-language.md, section 11); a version 1 document may not use them.
    /// </summary>
    public LocatedString Version { get; init; } = LocatedString.FromCode("1");

    /// <summary>The sensitivity tiers, lowest first, or <see langword="null"/> for the default tiers.</summary>
    public IReadOnlyList<LocatedString>? Sensitivity { get; init; }

    /// <summary>Where the <c>sensitivity</c> list was written (an empty list is reported there), or <see cref="SourceLocation.None"/>.</summary>
    public SourceLocation SensitivityLocation { get; init; }

    /// <summary>The tier of unclassified resources, or <see langword="null"/> for the lowest tier.</summary>
    public LocatedString? DefaultSensitivity { get; init; }

    /// <summary>The roles, in file order (file order breaks ties between deciding roles).</summary>
    public IReadOnlyList<RoleDefinition> Roles { get; init; } = [];

    /// <summary>Where the <c>roles</c> mapping was written (an empty one is reported there), or <see cref="SourceLocation.None"/>.</summary>
    public SourceLocation RolesLocation { get; init; }

    /// <summary>The resource catalog, in file order; the first matching entry classifies a resource.</summary>
    public IReadOnlyList<ResourceClassification> Resources { get; init; } = [];

    /// <summary>Separation of duties, the two-person rule and holder counts.</summary>
    public PolicyConstraints Constraints { get; init; } = new();

    /// <summary>Static role assignments of groups and subjects.</summary>
    public PolicyBindings Bindings { get; init; } = new();

    /// <summary>
    /// Version 2: the request-context keys role conditions may read, each with its type (<c>bool</c>, <c>string</c> or
    /// <c>integer</c>), in file order; <see langword="null"/> when the section is absent.
    /// </summary>
    public IReadOnlyList<ContextKeyDefinition>? Context { get; init; }

    /// <summary>Where the <c>context</c> mapping was written, or <see cref="SourceLocation.None"/>.</summary>
    public SourceLocation ContextLocation { get; init; }

    /// <summary>
    /// Version 2: the approval rules (docs/policy-language.md, section 13), in file order: requests that need approvals by
    /// holders of given roles; <see langword="null"/> when the section is absent.
    /// </summary>
    public IReadOnlyList<ApprovalRuleDefinition>? Approvals { get; init; }

    /// <summary>Where the <c>approvals</c> mapping was written, or <see cref="SourceLocation.None"/>.</summary>
    public SourceLocation ApprovalsLocation { get; init; }
}

/// <summary>One rule of the <c>approvals</c> section (version 2).</summary>
public sealed class ApprovalRuleDefinition
{
    /// <summary>The rule's name: approvals name it.</summary>
    public required LocatedString Name { get; init; }

    /// <summary>The requests that need approval, each <c>ACTION_PATTERN on RESOURCE_PATTERN</c>.</summary>
    public IReadOnlyList<LocatedString> Match { get; init; } = [];

    /// <summary>Where the <c>match</c> list was written.</summary>
    public SourceLocation MatchLocation { get; init; }

    /// <summary>The roles (by name or id) whose holders may approve.</summary>
    public IReadOnlyList<LocatedString> Approvers { get; init; } = [];

    /// <summary>Where the <c>approvers</c> list was written.</summary>
    public SourceLocation ApproversLocation { get; init; }

    /// <summary>How many distinct approvers are needed, as written, or <see langword="null"/> for one.</summary>
    public LocatedString? Count { get; init; }

    /// <summary>How long an approval stays valid after it was given, as written (<c>4h</c>); required.</summary>
    public LocatedString? ValidFor { get; init; }

    /// <summary>Where the rule was written (its name).</summary>
    public SourceLocation Location { get; init; }
}

/// <summary>One entry of the <c>context</c> section (version 2): a request-context key and its type.</summary>
public sealed class ContextKeyDefinition
{
    /// <summary>The key, as requests name it (for example <c>mfa</c> or <c>sql.table</c>).</summary>
    public required LocatedString Name { get; init; }

    /// <summary>The type: <c>bool</c>, <c>string</c> or <c>integer</c>.</summary>
    public required LocatedString Type { get; init; }
}

/// <summary>
/// One condition of a role (version 2): a context key, or <c>time_of_day</c>, and what its value must be. A scalar is
/// one value, a list any of several values, a mapping <c>{min, max}</c> an integer range (docs/policy-language.md, section 11).
/// </summary>
public sealed class ConditionDefinition
{
    /// <summary>The context key the condition reads, or <c>time_of_day</c>.</summary>
    public required LocatedString Key { get; init; }

    /// <summary>The accepted values as written (a scalar is a list of one); empty for a range.</summary>
    public IReadOnlyList<LocatedString> Values { get; init; } = [];

    /// <summary>Whether the values were written as a list (<c>[a, b]</c>) rather than one scalar.</summary>
    public bool IsList { get; init; }

    /// <summary>The range's lower bound (inclusive), when the condition is a mapping <c>{min, max}</c>.</summary>
    public LocatedString? Min { get; init; }

    /// <summary>The range's upper bound (inclusive), when the condition is a mapping <c>{min, max}</c>.</summary>
    public LocatedString? Max { get; init; }

    /// <summary>Whether the condition was written as a mapping <c>{min, max}</c>.</summary>
    public bool IsRange { get; init; }

    /// <summary>Where the condition's value was written.</summary>
    public SourceLocation Location { get; init; }
}

/// <summary>A role: grants, denies, a sensitivity ceiling, tag clearances, parents and the subject kinds it applies to.</summary>
public sealed class RoleDefinition
{
    /// <summary>The role name (unique across names and ids).</summary>
    public required LocatedString Name { get; init; }

    /// <summary>The stable role id, or <see langword="null"/> when it defaults to the name.</summary>
    public LocatedString? Id { get; init; }

    /// <summary>A human description; not used by decisions.</summary>
    public string? Description { get; init; }

    /// <summary>The roles this role inherits, by name or id.</summary>
    public IReadOnlyList<LocatedString> Inherits { get; init; } = [];

    /// <summary>Grants, each <c>ACTION_PATTERN on RESOURCE_PATTERN</c>.</summary>
    public IReadOnlyList<LocatedString> Allow { get; init; } = [];

    /// <summary>Denies, each <c>ACTION_PATTERN on RESOURCE_PATTERN</c>.</summary>
    public IReadOnlyList<LocatedString> Deny { get; init; } = [];

    /// <summary>The highest tier this role's grants reach, or <see langword="null"/> for the lowest tier.</summary>
    public LocatedString? MaxSensitivity { get; init; }

    /// <summary>The tags this role's grants clear.</summary>
    public IReadOnlyList<LocatedString> Clearances { get; init; } = [];

    /// <summary>The subject kinds this role takes effect for, or <see langword="null"/> for every kind.</summary>
    public IReadOnlyList<LocatedString>? Kinds { get; init; }

    /// <summary>Where the <c>kinds</c> list was written (an empty list is reported there), or <see cref="SourceLocation.None"/>.</summary>
    public SourceLocation KindsLocation { get; init; }

    /// <summary>
    /// Version 2: conditions on the request context that must all hold for the role to grant (docs/policy-language.md,
    /// section 11); empty for none. Its denies apply whether they hold or not.
    /// </summary>
    public IReadOnlyList<ConditionDefinition> Conditions { get; init; } = [];

    /// <summary>Where the <c>conditions</c> mapping was written, or <see cref="SourceLocation.None"/> when absent.</summary>
    public SourceLocation ConditionsLocation { get; init; }

    /// <summary>
    /// Version 2: marks the role break-glass (docs/policy-language.md, section 12): a binding to it grants only for a
    /// request carrying an activation by the subject, with a justification, within the maximum activation time;
    /// <see langword="null"/> for an ordinary role.
    /// </summary>
    public BreakGlassDefinition? BreakGlass { get; init; }

    /// <summary>Where the role was declared (its name).</summary>
    public SourceLocation Location { get; init; }
}

/// <summary>A role's <c>break_glass</c> mapping (version 2).</summary>
public sealed class BreakGlassDefinition
{
    /// <summary>How long an activation lasts at most, as written (<c>30m</c>, <c>4h</c>, <c>1d</c>); required.</summary>
    public LocatedString? MaxActivation { get; init; }

    /// <summary>Where the mapping was written.</summary>
    public SourceLocation Location { get; init; }
}

/// <summary>A resource catalog entry: resources matching <see cref="Match"/> get its tier and tags.</summary>
public sealed class ResourceClassification
{
    /// <summary>The resource pattern.</summary>
    public required LocatedString Match { get; init; }

    /// <summary>The tier, or <see langword="null"/> for the policy's default tier.</summary>
    public LocatedString? Sensitivity { get; init; }

    /// <summary>The tags of matching resources.</summary>
    public IReadOnlyList<LocatedString> Tags { get; init; } = [];

    /// <summary>Where the entry was written.</summary>
    public SourceLocation Location { get; init; }
}

/// <summary>The <c>constraints</c> section.</summary>
public sealed class PolicyConstraints
{
    /// <summary>Sets of roles no subject may hold two of at once (static separation of duties).</summary>
    public IReadOnlyList<ExclusiveRoleSet> MutuallyExclusive { get; init; } = [];

    /// <summary>Action patterns that the owner of a resource may not perform on it (two-person rule).</summary>
    public IReadOnlyList<LocatedString> NotByOwner { get; init; } = [];

    /// <summary>Minimum numbers of holders per role, checked by lint against the bindings.</summary>
    public IReadOnlyList<MinHoldersRequirement> MinHolders { get; init; } = [];
}

/// <summary>One <c>mutually_exclusive</c> list.</summary>
public sealed class ExclusiveRoleSet
{
    /// <summary>The roles of the list, by name or id, as listed.</summary>
    public IReadOnlyList<LocatedString> Roles { get; init; } = [];

    /// <summary>Where the list was written.</summary>
    public SourceLocation Location { get; init; }
}

/// <summary>One <c>min_holders</c> entry.</summary>
/// <param name="Role">The role, by name or id.</param>
/// <param name="Count">The minimum number of holders, as written.</param>
public sealed record MinHoldersRequirement(LocatedString Role, LocatedString Count);

/// <summary>The <c>bindings</c> section.</summary>
public sealed class PolicyBindings
{
    /// <summary>Groups and the roles their members get.</summary>
    public IReadOnlyList<GroupDefinition> Groups { get; init; } = [];

    /// <summary>Subjects and their roles and groups.</summary>
    public IReadOnlyList<SubjectDefinition> Subjects { get; init; } = [];
}

/// <summary>A group of <c>bindings.groups</c>.</summary>
public sealed class GroupDefinition
{
    /// <summary>The group name.</summary>
    public required LocatedString Name { get; init; }

    /// <summary>The roles members of the group get.</summary>
    public IReadOnlyList<RoleBindingDefinition> Roles { get; init; } = [];

    /// <summary>Where the group was declared.</summary>
    public SourceLocation Location { get; init; }
}

/// <summary>A subject of <c>bindings.subjects</c>.</summary>
public sealed class SubjectDefinition
{
    /// <summary>The subject id.</summary>
    public required LocatedString Id { get; init; }

    /// <summary>The subject kind (<c>user</c>, <c>service</c>, <c>agent</c>), or <see langword="null"/> for <c>user</c>.</summary>
    public LocatedString? Kind { get; init; }

    /// <summary>Roles bound directly.</summary>
    public IReadOnlyList<RoleBindingDefinition> Roles { get; init; } = [];

    /// <summary>Groups the subject belongs to.</summary>
    public IReadOnlyList<LocatedString> Groups { get; init; } = [];

    /// <summary>A scope applying to every role the subject gets.</summary>
    public LocatedString? Scope { get; init; }

    /// <summary>An RFC 3339 expiry applying to every role the subject gets.</summary>
    public LocatedString? Expires { get; init; }

    /// <summary>Where the subject was declared.</summary>
    public SourceLocation Location { get; init; }
}

/// <summary>A role binding as written: a role name, or an object <c>{role, scope, expires}</c>.</summary>
public sealed class RoleBindingDefinition
{
    /// <summary>The role, by name or id.</summary>
    public required LocatedString Role { get; init; }

    /// <summary>The scope the binding applies in, or <see langword="null"/> for everywhere.</summary>
    public LocatedString? Scope { get; init; }

    /// <summary>The RFC 3339 expiry, or <see langword="null"/> for none.</summary>
    public LocatedString? Expires { get; init; }

    /// <summary>Where the binding was written.</summary>
    public SourceLocation Location { get; init; }
}
