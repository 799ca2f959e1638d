// The user-facing compile limits (docs/policy-language.md, section 10). Their defaults live in src/Shared/Tuning.cs.

namespace AiRbac;

/// <summary>
/// Options for <see cref="PolicyCompiler.Compile"/>. The limits keep the cost of compiling any policy within the YAML
/// size limits near linear in its size: a policy over a limit is refused with a <c>limit_exceeded</c> error that names
/// the limit and the count, and is not loaded.
/// </summary>
public sealed class PolicyCompilerOptions
{
    /// <summary>The clock used for expiry checks and compile-time lint; <see cref="TimeProvider.System"/> by default.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>The longest chain of inheritance: how many <c>inherits</c> steps lead up from a role (32 by default).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not positive.</exception>
    public int MaxInheritanceDepth
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value);
            field = value;
        }
    } = Tuning.Compile.MaxInheritanceDepth;

    /// <summary>The inherited roles of all roles together: each role's direct and indirect ancestors, summed over roles (1,000,000 by default).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not positive.</exception>
    public int MaxInheritedRoles
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value);
            field = value;
        }
    } = Tuning.Compile.MaxInheritedRoles;

    /// <summary>The role bindings of all subjects in <c>bindings</c> together, each group's bindings counted once per subject naming it (1,000,000 by default).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not positive.</exception>
    public int MaxExpandedBindings
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value);
            field = value;
        }
    } = Tuning.Compile.MaxExpandedBindings;

    /// <summary>
    /// The rules of the policy (500,000 by default): every <c>allow</c> and <c>deny</c> entry of every role. Each rule
    /// costs memory while it is compiled (about 1.5 KB), so a 16 MiB file of a million one-line rules would come
    /// close to 1 GiB; the reference policy of 10,000 roles has about 51,500 rules.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not positive.</exception>
    public int MaxRules
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value);
            field = value;
        }
    } = Tuning.Compile.MaxRules;

    /// <summary>
    /// The role checks of the binding and separation-of-duties checks (20,000,000 by default): for every subject binding,
    /// the roles it makes effective (inherited ones included), each weighted by one plus the <c>mutually_exclusive</c> lists
    /// naming it, times the subject's distinct binding scopes plus one (its roles are checked in each); and for every <c>mutually_exclusive</c> list, its roles and the roles inheriting them.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not positive.</exception>
    public long MaxRoleChecks
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value);
            field = value;
        }
    } = Tuning.Compile.MaxRoleChecks;

    /// <summary>
    /// The pattern comparisons of the catalog and lint checks (20,000,000 by default): every grant and deny against
    /// every catalog entry, every grant of a role without <c>max_sensitivity</c> against every classified catalog entry,
    /// and every grant of a role against every deny of the same role.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not positive.</exception>
    public long MaxPatternPairs
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value);
            field = value;
        }
    } = Tuning.Compile.MaxPatternPairs;

    /// <summary>
    /// The steps of computing every role's inherited roles (20,000,000 by default): per role, each parent taken and each
    /// inherited role of that parent's that is not already known. Bounds policies whose roles share many overlapping
    /// ancestors, where the steps can far outnumber the inherited roles themselves.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not positive.</exception>
    public long MaxInheritanceSteps
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value);
            field = value;
        }
    } = Tuning.Compile.MaxInheritanceSteps;

    /// <summary>
    /// The matching work of the catalog and lint checks when a general glob (a wildcard other than one trailing <c>*</c>
    /// or <c>**</c>) is matched against an exact name (200,000,000 by default): for every such pair the checks compare,
    /// the glob's length plus its token count plus one, times the name's length plus one. Long patterns cost that much
    /// per comparison; short ones almost nothing. Every other comparison is a prefix check of at most the shorter
    /// literal prefix, counted as one cell per 16 of its characters plus one.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not positive.</exception>
    public long MaxPatternMatchCells
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value);
            field = value;
        }
    } = Tuning.Compile.MaxPatternMatchCells;
}
