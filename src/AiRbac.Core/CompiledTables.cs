using AiRbac.Model;
using AiRbac.Patterns;

namespace AiRbac;

/// <summary>One role in the decision table; indexed by declaration order.</summary>
internal struct RoleData
{
    public string Name;
    public int Ceiling;
    public ulong Clearances;
    public byte KindMask;
    public int[] Parents;

    // This role's action slots: Slots[SlotStart .. SlotStart + SlotCount), one per action its rules name exactly.
    public int SlotStart;
    public int SlotCount;

    // Its rules whose action pattern is a wildcard.
    public RuleBucket AnyAllow;
    public RuleBucket AnyDeny;

    // Version 2 (docs/policy-language.md, section 11): conditions that must all hold for the role to grant; a gated role
    // has some, and a request that reaches it evaluates them.
    public CompiledCondition[] Conditions;
    public bool Gated;

    // Section 12: a break-glass role's longest activation, in ticks (0 for an ordinary role); such a role is gated.
    public long BreakGlassTicks;
}

/// <summary>What the version 2 sections compile to: the declared context keys, each role's conditions and break-glass activation time.</summary>
internal sealed record GateTables(Dictionary<string, int> ContextKeys, ContextValueType[] ContextTypes, CompiledCondition[][] Conditions, long[] BreakGlass,
    CompiledApproval[] Approvals)
{
    /// <summary>No version 2 section: nothing is gated, nothing needs approval.</summary>
    public static GateTables None(int roles) => new(new Dictionary<string, int>(), [], [.. Enumerable.Repeat(Array.Empty<CompiledCondition>(), roles)], new long[roles], []);
}

/// <summary>
/// A contiguous run of the rules array, sorted by declaration order. When the run holds many exact resource names,
/// they are moved to its end and found through <see cref="Exact"/>; only the first <see cref="ScanCount"/> are scanned.
/// Flat runs keep one request's rules on few cache lines: with 10,000 roles, pointer-chasing per-role lists cost more
/// than the matching (docs/benchmarks.md).
/// </summary>
internal readonly record struct RuleBucket(int Start, int Count, int ScanCount, NameTable? Exact)
{
    // Above this many exact names, a hash lookup beats comparing them one by one.
    internal const int HashThreshold = Tuning.Tables.ExactNameHashThreshold;
}

/// <summary>The grants and denies of one role that name one action exactly.</summary>
internal readonly record struct ActionSlot(int ActionId, RuleBucket Allow, RuleBucket Deny);

/// <summary>One grant or deny: an action matcher and a resource matcher chosen by shape.</summary>
internal struct RuleData
{
    public const int CatalogUnknown = -2;
    public const int MaxCatalogCandidates = Tuning.Tables.MaxCatalogCandidates;

    // Declaration order within the role's grants (or denies): ties go to the first rule declared.
    public int Order;
    public int ActionId;
    public int ActionGlob;
    public PatternShape ResourceShape;

    // The exact name for Exact, the literal prefix for the prefix shapes.
    public string ResourcePrefix;
    public Pattern? ResourcePattern;

    // The catalog entry of every resource this rule matches, when the compiler can tell: the entry of an exact name,
    // or -1 when no catalog pattern can overlap the rule's; otherwise CatalogUnknown and the catalog is searched.
    public int CatalogEntry;

    // With CatalogUnknown: the catalog entries that can overlap the rule's pattern, in file order, when there are at
    // most MaxCatalogCandidates of them (the first of them that matches is the resource's entry); else null.
    public int[]? CatalogCandidates;
    public string Text;
    public SourceLocation Location;
}

/// <summary>
/// Catalog entry indices (ascending = file order) whose resource patterns are tried in order. A long list
/// also gets a hash of its exact names, so that its cost does not grow with the number of exact names it holds.
/// </summary>
internal sealed class IndexedList
{
    public IndexedList(int[] all, Func<int, string?> exactName)
    {
        var exact = all.Where(i => exactName(i) is not null).ToArray();
        if (exact.Length > RuleBucket.HashThreshold)
        {
            Exact = new NameTable(exact.Select(i => new KeyValuePair<string, int>(exactName(i)!, i)));
            NonExact = [.. all.Where(i => exactName(i) is null)];
        }
        else
        {
            NonExact = all;
        }
    }

    /// <summary>Exact name → its first index, or null when the list is short.</summary>
    public NameTable? Exact { get; }

    /// <summary>The indices still to try one by one (all of them when <see cref="Exact"/> is null).</summary>
    public int[] NonExact { get; }
}

/// <summary>One resource catalog entry.</summary>
internal readonly record struct CatalogEntry(Pattern Pattern, int Tier, ulong Tags);

/// <summary>One <c>mutually_exclusive</c> list: role indices as listed.</summary>
internal sealed record ExclusiveSet(int[] Roles, SourceLocation Location);

/// <summary>A subject named in the policy's <c>bindings</c>: its kind and its bindings, groups expanded.</summary>
internal sealed record PolicySubject(SubjectKind Kind, PolicyBinding[] Bindings);

/// <summary>A binding from the policy: role name, scope and expiry; <c>Never</c> when its scopes cannot meet.</summary>
internal readonly record struct PolicyBinding(string Role, string? Scope, DateTimeOffset? Expires, bool Never);

/// <summary>Everything the compiler hands to <see cref="CompiledPolicy"/>.</summary>
internal sealed class CompiledTables
{
    public required string Source { get; init; }

    public required RoleData[] Roles { get; init; }

    public required RuleData[] Rules { get; init; }

    public required ActionSlot[] Slots { get; init; }

    public required IReadOnlyDictionary<string, int> ActionIds { get; init; }


    public required Pattern[] ActionGlobs { get; init; }

    public required bool[] ActionGlobMatches { get; init; }

    public required CatalogEntry[] Catalog { get; init; }

    // Where each catalog entry was written (by index; read by CompiledPolicy.Trace only, off the decision path).
    public required SourceLocation[] CatalogLocations { get; init; }

    public required string[] CatalogTypes { get; init; }

    public required IndexedList[] CatalogByType { get; init; }

    public required IndexedList CatalogUntyped { get; init; }

    public required int DefaultTier { get; init; }

    public required string[] Tiers { get; init; }

    public required IReadOnlyDictionary<string, int> TagBits { get; init; }

    public required ExclusiveSet[] ExclusiveSets { get; init; }

    public required Pattern[] NotByOwner { get; init; }

    // Where each not_by_owner entry was written (by index; read by CompiledPolicy.Trace only).
    public required SourceLocation[] NotByOwnerLocations { get; init; }

    public required bool[] NotByOwnerByActionId { get; init; }

    public required IReadOnlyDictionary<string, int> RoleLookup { get; init; }

    public required IReadOnlyDictionary<string, PolicySubject> PolicySubjects { get; init; }

    // The ids of PolicySubjects in file order, each once.
    public required IReadOnlyList<string> BoundSubjectIds { get; init; }

    public required TimeProvider TimeProvider { get; init; }

    public required IReadOnlyList<RoleInfo> RoleInfos { get; init; }

    public required GateTables Gates { get; init; }

    // Per interned action id: whether some approval rule's action pattern matches it (empty without approval rules).
    public bool[] ApprovalByActionId { get; init; } = [];
}

/// <summary>A role of a compiled policy as declared, with its inheritance resolved (read-only; for tools such as matrix and diff).</summary>
public sealed class RoleInfo
{
    internal RoleInfo(string name, string id, string? description, IReadOnlyList<string> inherits, IReadOnlyList<RuleInfo> allow,
        IReadOnlyList<RuleInfo> deny, string maxSensitivity, IReadOnlyList<string> clearances, IReadOnlyList<SubjectKind>? kinds,
        SourceLocation location, IReadOnlyList<string>? conditions = null, TimeSpan? maxActivation = null)
    {
        Conditions = conditions ?? [];
        MaxActivation = maxActivation;
        Name = name;
        Id = id;
        Description = description;
        Inherits = inherits;
        Allow = allow;
        Deny = deny;
        MaxSensitivity = maxSensitivity;
        Clearances = clearances;
        Kinds = kinds;
        Location = location;
    }

    /// <summary>The role name.</summary>
    public string Name { get; }

    /// <summary>The role id (the name unless an id was given).</summary>
    public string Id { get; }

    /// <summary>The description, if any.</summary>
    public string? Description { get; }

    /// <summary>The names of the roles inherited directly.</summary>
    public IReadOnlyList<string> Inherits { get; }

    /// <summary>
    /// The roles inherited directly or indirectly, by name, in declaration order, with role <c>kinds</c> not applied.
    /// What a subject gets through this role depends on its kind: ask <see cref="CompiledPolicy.EffectiveRoles(RoleInfo, SubjectKind?)"/>.
    /// </summary>
    public IReadOnlyList<string> Ancestors { get; internal set; } = [];

    /// <summary>The grants this role declares (not inherited ones), in file order.</summary>
    public IReadOnlyList<RuleInfo> Allow { get; }

    /// <summary>The denies this role declares (not inherited ones), in file order.</summary>
    public IReadOnlyList<RuleInfo> Deny { get; }

    /// <summary>The ceiling tier (the lowest tier when none was given).</summary>
    public string MaxSensitivity { get; }

    /// <summary>The cleared tags.</summary>
    public IReadOnlyList<string> Clearances { get; }

    /// <summary>The subject kinds the role applies to, or <see langword="null"/> for all.</summary>
    public IReadOnlyList<SubjectKind>? Kinds { get; }

    /// <summary>
    /// The role's conditions (version 2, docs/policy-language.md, section 11), each as written canonically
    /// (<c>mfa: true</c>, <c>network: [corp, vpn]</c>); empty for none. The role grants only for a request whose context
    /// satisfies all of them; its denies apply whatever the context.
    /// </summary>
    public IReadOnlyList<string> Conditions { get; }

    /// <summary>Whether the role is break-glass (version 2, docs/policy-language.md, section 12).</summary>
    public bool IsBreakGlass => MaxActivation is not null;

    /// <summary>
    /// For a break-glass role, the longest an activation lasts; <see langword="null"/> for an ordinary role. A binding to a
    /// break-glass role grants only for a request that carries an activation by the subject, with a justification, that
    /// started at most this long ago.
    /// </summary>
    public TimeSpan? MaxActivation { get; }

    /// <summary>Where the role was declared.</summary>
    public SourceLocation Location { get; }
}

/// <summary>Whether a rule grants or denies.</summary>
public enum RuleEffect
{
    /// <summary>An <c>allow</c> entry: a grant.</summary>
    Allow,

    /// <summary>A <c>deny</c> entry: deny beats allow.</summary>
    Deny,
}

/// <summary>One grant or deny of a role (docs/policy-language.md, section 2): its effect, its two patterns and where it was written.</summary>
public sealed class RuleInfo
{
    internal RuleInfo(string role, RuleEffect effect, string action, string resource, string text, SourceLocation location, bool isEverything)
    {
        IsEverything = isEverything;
        IsEveryAction = RuleText.IsEveryAction(action);
        Role = role;
        Effect = effect;
        Action = action;
        Resource = resource;
        Text = text;
        Location = location;
    }

    /// <summary>The name of the role that declares the rule.</summary>
    public string Role { get; }

    /// <summary>Whether the rule grants or denies.</summary>
    public RuleEffect Effect { get; }

    /// <summary>The action pattern (the part before <c>on</c>).</summary>
    public string Action { get; }

    /// <summary>The resource pattern (the part after <c>on</c>).</summary>
    public string Resource { get; }

    /// <summary>The canonical rule text, <c>ACTION on RESOURCE</c>, as decisions and audit records name the rule.</summary>
    public string Text { get; }

    /// <summary>Where the rule was written.</summary>
    public SourceLocation Location { get; }

    /// <summary>
    /// Whether the rule names every action on every resource: an action of stars only (<c>*</c>, <c>**</c>) or
    /// <c>*:*</c>, on <c>**</c> or <c>*:**</c>; for example <c>* on **</c> or <c>*:* on *:**</c>
    /// (docs/policy-language.md, section 3; the lint warning <c>grants_everything</c>).
    /// </summary>
    public bool IsEverything { get; }

    /// <summary>Whether the action pattern names every action: stars only (<c>*</c>, <c>**</c>) or <c>*:*</c>.</summary>
    public bool IsEveryAction { get; }

    /// <summary>The canonical rule text.</summary>
    /// <returns><see cref="Text"/>.</returns>
    public override string ToString() => Text;
}

/// <summary>An approval rule of a compiled policy (version 2, docs/policy-language.md, section 13), as declared.</summary>
public sealed class ApprovalRuleInfo
{
    internal ApprovalRuleInfo(string name, IReadOnlyList<string> match, IReadOnlyList<RoleInfo> approvers, int count, TimeSpan validFor, SourceLocation location)
    {
        Name = name;
        Match = match;
        Approvers = approvers;
        Count = count;
        ValidFor = validFor;
        Location = location;
    }

    /// <summary>The rule's name, as approvals and decisions (<see cref="Decision.ApprovalRule"/>) name it.</summary>
    public string Name { get; }

    /// <summary>The requests it matches, each <c>ACTION on RESOURCE</c> (canonical text).</summary>
    public IReadOnlyList<string> Match { get; }

    /// <summary>The roles whose holders may approve, in declaration order.</summary>
    public IReadOnlyList<RoleInfo> Approvers { get; }

    /// <summary>How many distinct approvers a request needs.</summary>
    public int Count { get; }

    /// <summary>How long an approval counts after it was given.</summary>
    public TimeSpan ValidFor { get; }

    /// <summary>Where the rule was declared.</summary>
    public SourceLocation Location { get; }

    /// <summary>The rule in one line: name, match, approvers, count and validity.</summary>
    /// <returns>The text.</returns>
    public override string ToString()
        => $"{Name}: [{string.Join(", ", Match)}] needs {Count} of [{string.Join(", ", Approvers.Select(r => r.Name))}] within {Duration.Format(ValidFor)}";
}
