using System.Globalization;
using System.Text;
using AiRbac.Patterns;

namespace AiRbac;

/// <summary>
/// Which resources one subject (with its on-behalf-of chain) may perform one action on: an immutable description built by
/// <see cref="CompiledPolicy.FilterFor"/>, with the same semantics as <see cref="CompiledPolicy.Authorize(Subject, string, in ResourceRequest)"/>
/// (docs/retrieval.md). A resource passes when its request is valid and, in the <see cref="Branches">branch</see> its
/// scope selects, every <see cref="FilterLink">link</see> passes it: none of the link's denies matches its name, the
/// owner rule holds, and some role of the link has a grant matching its name with a ceiling at least its tier and
/// clearances covering its tags. Its tier is the higher of the <see cref="Catalog">catalog</see>'s (first entry matching
/// the name, else <see cref="DefaultSensitivity"/>) and the caller's; its tags are the catalog entry's and the caller's.
/// </summary>
public sealed class PolicyFilter
{
    private readonly CompiledPolicy policy;
    private readonly string[] scopes; // the binding scopes of the branches after the first, sorted ordinally
    private readonly long validUntilTicks;

    internal PolicyFilter(CompiledPolicy policy, Subject subject, string action, DateTimeOffset at, DateTimeOffset? validUntil,
        string[] scopes, IReadOnlyList<FilterBranch> branches, bool complete = true)
    {
        this.policy = policy;
        Subject = subject;
        string subjectId = subject.Id;
        this.scopes = scopes;
        SubjectId = subjectId;
        Action = action;
        At = at;
        ValidUntil = validUntil;
        validUntilTicks = validUntil?.UtcTicks ?? long.MaxValue;
        Branches = branches;
        IsComplete = complete;
        Catalog = policy.FilterCatalog();
        DefaultSensitivity = policy.DefaultSensitivity;
    }

    internal static PolicyFilter Incomplete(CompiledPolicy policy, Subject subject, string action, DateTimeOffset at)
        => new(policy, subject, action, at, null, [], [], complete: false);

    /// <summary>The policy that built the filter.</summary>
    internal CompiledPolicy Policy => policy;

    /// <summary>The subject the filter was built for (the post-filter of a store translation decides for it).</summary>
    internal Subject Subject { get; }

    /// <summary>The id of the subject that asks (the actor).</summary>
    public string SubjectId { get; }

    /// <summary>The action.</summary>
    public string Action { get; }

    /// <summary>The instant (by the policy's clock) at which the subject's bindings were read.</summary>
    public DateTimeOffset At { get; }

    /// <summary>
    /// The first instant a binding the filter counts expires, or <see langword="null"/> when none does. From then on the
    /// filter matches nothing (its effective roles may have changed either way): build a new one.
    /// </summary>
    public DateTimeOffset? ValidUntil { get; }

    /// <summary>
    /// False when the filter would pass <see cref="CompiledPolicy.MaxFilterBranches"/>, <see cref="CompiledPolicy.MaxFilterClauses"/>
    /// or <see cref="CompiledPolicy.MaxFilterWork"/>: it then has no branches and matches nothing (decide candidates with
    /// <see cref="CompiledPolicy.AuthorizeMany"/>).
    /// </summary>
    public bool IsComplete { get; }

    /// <summary>The policy's catalog, in file order: the first entry whose pattern matches a resource's name classifies it.</summary>
    public IReadOnlyList<FilterClassification> Catalog { get; }

    /// <summary>The tier of a name no catalog entry matches.</summary>
    public string DefaultSensitivity { get; }

    /// <summary>
    /// The branches, by the resource's scope: the first is for a resource without a scope or under none of the binding
    /// scopes the others name; each other one is for a resource whose scope is under its <see cref="FilterBranch.Scope"/>
    /// and not under any of its <see cref="FilterBranch.ExceptUnder"/> (the deepest binding scope covering the
    /// resource's selects the branch). Exactly one branch applies to any resource.
    /// </summary>
    public IReadOnlyList<FilterBranch> Branches { get; }

    /// <summary>
    /// Whether the filter passes <paramref name="resource"/>: exactly when
    /// <see cref="CompiledPolicy.Authorize(Subject, string, in ResourceRequest)"/> allows the subject the action on it, at
    /// any instant before <see cref="ValidUntil"/>. Never throws; false for an incomplete or expired filter.
    /// </summary>
    /// <param name="resource">The resource, with the scope, tier, tags and owner the caller knows.</param>
    /// <returns>Whether the resource passes.</returns>
    public bool Matches(in ResourceRequest resource)
    {
        if (!IsComplete || Branches.Count == 0 || (validUntilTicks != long.MaxValue && policy.NowTicks >= validUntilTicks))
        {
            return false;
        }

        // Step 2's part of the request (an empty name, a malformed scope, an undeclared tier), and the classification.
        if (!policy.TryClassifyForFilter(in resource, out int tier, out ulong tags))
        {
            return false;
        }

        var branch = Branches[BranchOf(resource.Scope)];
        foreach (var link in branch.Links)
        {
            if (!link.Passes(in resource, tier, tags))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// The filter as a predicate over a store's records (docs/retrieval.md, "Store filters"): it passes every record the
    /// filter passes; where the store cannot express a part of the policy (a name glob, scope paths, an unknown tag), it
    /// passes more, says so in <see cref="StoreFilter{TRecord}.Approximations"/>, and
    /// <see cref="StoreFilter{TRecord}.PostFilter"/> makes the result exact.
    /// </summary>
    /// <typeparam name="TRecord">The record type of the store.</typeparam>
    /// <param name="mapping">Which record fields hold the name, scope, tier, tags and owner.</param>
    /// <param name="options">What the store can translate beyond plain comparisons (<c>LIKE</c>, a tag subset test); <see langword="null"/> for neither.</param>
    /// <returns>The store filter.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="mapping"/> is <see langword="null"/>.</exception>
    /// <remarks>Cold path: it builds an expression tree in proportion to the filter's clauses.</remarks>
    public StoreFilter<TRecord> ToStoreFilter<TRecord>(RecordMapping<TRecord> mapping, StoreFilterOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        return StoreFilterBuilder.Build(this, mapping, options ?? new StoreFilterOptions());
    }

    /// <summary>The branch a (well-formed) scope selects: the deepest binding scope covering it, else the first branch.</summary>
    private int BranchOf(string? scope)
    {
        if (scope is null)
        {
            return 0;
        }

        int best = 0, bestLength = -1;
        for (int i = 0; i < scopes.Length; i++)
        {
            if (scopes[i].Length > bestLength && Scope.Covers(scopes[i], scope))
            {
                best = i + 1;
                bestLength = scopes[i].Length;
            }
        }

        return best;
    }

    /// <summary>The filter as readable text: the classification, then each branch's clauses.</summary>
    /// <returns>The text (several lines).</returns>
    public override string ToString()
    {
        var sb = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        sb.Append(inv, $"subject '{SubjectId}' may '{Action}' a resource (as of {At.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}");
        sb.Append(ValidUntil is { } until ? string.Create(inv, $", until {until.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ})") : ")");
        if (!IsComplete)
        {
            return sb.Append(": the filter is incomplete (size bound reached) and matches nothing; decide each candidate").ToString();
        }

        sb.AppendLine(" when its name is not empty, its scope is well formed and its tier is declared, and:");
        sb.Append("  tier = the higher of the caller's and the catalog's: ");
        foreach (var entry in Catalog)
        {
            sb.Append(inv, $"{entry.Match} -> {entry.Sensitivity}{(entry.Tags.Count == 0 ? string.Empty : " [" + string.Join(", ", entry.Tags) + "]")}; ");
        }

        sb.Append(inv, $"else {DefaultSensitivity}").AppendLine();
        sb.AppendLine("  tags = the caller's and the catalog entry's");
        foreach (var branch in Branches)
        {
            sb.AppendLine(branch.Scope is null
                ? branch.ExceptUnder.Count == 0 ? "  any scope:" : "  no scope, or a scope under none of " + string.Join(", ", branch.ExceptUnder) + ":"
                : "  scope under " + branch.Scope + (branch.ExceptUnder.Count == 0 ? ":" : " and not under " + string.Join(", ", branch.ExceptUnder) + ":"));
            foreach (var link in branch.Links)
            {
                link.Describe(sb);
            }
        }

        return sb.ToString().TrimEnd();
    }
}

/// <summary>A catalog entry as a filter describes it.</summary>
public sealed class FilterClassification
{
    internal FilterClassification(string match, string sensitivity, IReadOnlyList<string> tags)
    {
        Match = match;
        Sensitivity = sensitivity;
        Tags = tags;
    }

    /// <summary>The entry's resource pattern.</summary>
    public string Match { get; }

    /// <summary>The tier it gives a resource it classifies.</summary>
    public string Sensitivity { get; }

    /// <summary>The tags it gives a resource it classifies.</summary>
    public IReadOnlyList<string> Tags { get; }
}

/// <summary>The resources of one range of scopes, and the clauses every link of the chain applies to them.</summary>
public sealed class FilterBranch
{
    internal FilterBranch(string? scope, IReadOnlyList<string> exceptUnder, IReadOnlyList<FilterLink> links)
    {
        Scope = scope;
        ExceptUnder = exceptUnder;
        Links = links;
    }

    /// <summary>The binding scope a resource's scope is under (equal to or below), or <see langword="null"/> for the branch of resources under no binding scope (or without a scope).</summary>
    public string? Scope { get; }

    /// <summary>Deeper binding scopes, whose resources belong to their own branches.</summary>
    public IReadOnlyList<string> ExceptUnder { get; }

    /// <summary>The actor's clauses, then those of each subject it acts on behalf of: a resource must pass them all.</summary>
    public IReadOnlyList<FilterLink> Links { get; }
}

/// <summary>The clauses of one subject of the chain (its effective roles in one branch): steps 1 to 8 of the decision.</summary>
public sealed class FilterLink
{
    private readonly Pattern[] denyPatterns;

    internal Pattern[] DenyPatterns => denyPatterns;

    internal FilterLink(string subjectId, DecisionReason? deniedBecause, bool ownerRule, List<(RuleInfo Info, Pattern Pattern)> denies, IReadOnlyList<FilterGrant> grants)
    {
        SubjectId = subjectId;
        DeniedBecause = deniedBecause;
        OwnerRule = ownerRule;
        Denies = [.. denies.Select(d => d.Info)];
        denyPatterns = [.. denies.Select(d => d.Pattern)];
        Grants = grants;
        ClauseCount = denies.Count + grants.Sum(g => g.Rules.Count) + 1;
    }

    internal static FilterLink DeniesAll(string subjectId, DecisionReason reason) => new(subjectId, reason, false, [], []);

    internal int ClauseCount { get; }

    /// <summary>The subject's id.</summary>
    public string SubjectId { get; }

    /// <summary>
    /// When the subject is denied every resource of the branch, why: <c>missing_identity</c>, <c>invalid_request</c> (a
    /// malformed binding scope, or an empty action), <c>separation_of_duties</c> or <c>no_active_role</c>; else <see langword="null"/>.
    /// </summary>
    public DecisionReason? DeniedBecause { get; }

    /// <summary>Whether the two-person rule applies (<c>not_by_owner</c> covers the action): the resource's owner must not be <see cref="SubjectId"/>.</summary>
    public bool OwnerRule { get; }

    /// <summary>The denies of the subject's effective roles for the action: a resource whose name one of them matches is denied (deny beats allow).</summary>
    public IReadOnlyList<RuleInfo> Denies { get; }

    /// <summary>Per effective role with a grant for the action: the grants, ceiling and clearances; a resource must be allowed by one of them.</summary>
    public IReadOnlyList<FilterGrant> Grants { get; }

    internal bool Passes(in ResourceRequest resource, int tier, ulong tags)
    {
        if (DeniedBecause is not null)
        {
            return false;
        }

        string name = resource.Name;
        foreach (var pattern in denyPatterns)
        {
            if (pattern.IsMatch(name))
            {
                return false;
            }
        }

        if (OwnerRule && string.Equals(resource.Owner, SubjectId, StringComparison.Ordinal))
        {
            return false;
        }

        foreach (var grant in Grants)
        {
            if (grant.Allows(name, tier, tags))
            {
                return true;
            }
        }

        return false;
    }

    internal void Describe(StringBuilder sb)
    {
        if (DeniedBecause is { } reason)
        {
            sb.Append("    ").Append(SubjectId).Append(": nothing (").Append(DecisionReasons.ToName(reason)).AppendLine(")");
            return;
        }

        sb.Append("    ").Append(SubjectId).AppendLine(":");
        if (Denies.Count > 0)
        {
            sb.Append("      name matches none of: ").AppendLine(string.Join(", ", Denies.Select(d => $"{d.Resource} ({d.Role})")));
        }

        if (OwnerRule)
        {
            sb.Append("      owner is not '").Append(SubjectId).AppendLine("'");
        }

        if (Grants.Count == 0)
        {
            sb.AppendLine("      nothing: no effective role grants the action (no_matching_grant)");
            return;
        }

        sb.AppendLine("      and one of:");
        foreach (var grant in Grants)
        {
            sb.Append("        ").AppendLine(grant.ToString());
        }
    }
}

/// <summary>One effective role's grants for the action, judged with its own ceiling and clearances.</summary>
public sealed class FilterGrant
{
    private readonly int ceiling;
    private readonly ulong clearanceBits;
    private readonly Pattern[] patterns;

    internal FilterGrant(RoleInfo role, string maxSensitivity, int ceiling, IReadOnlyList<string> clearances, ulong clearanceBits, List<(RuleInfo Info, Pattern Pattern)> rules)
    {
        Role = role;
        MaxSensitivity = maxSensitivity;
        Clearances = clearances;
        this.ceiling = ceiling;
        this.clearanceBits = clearanceBits;
        Rules = [.. rules.Select(r => r.Info)];
        patterns = [.. rules.Select(r => r.Pattern)];
    }

    /// <summary>The role.</summary>
    public RoleInfo Role { get; }

    /// <summary>The grants the role itself declares (an inherited role is a grant clause of its own) whose action pattern covers the action, in file order.</summary>
    public IReadOnlyList<RuleInfo> Rules { get; }

    /// <summary>The role's ceiling: a resource's tier must be at most this.</summary>
    public string MaxSensitivity { get; }

    /// <summary>The role's clearances: every tag of a resource must be among them (a tag the policy never names never is).</summary>
    public IReadOnlyList<string> Clearances { get; }

    internal int Ceiling => ceiling;

    internal ulong ClearanceBits => clearanceBits;

    internal Pattern[] Patterns => patterns;

    internal bool Allows(string name, int tier, ulong tags)
    {
        if (tier > ceiling || (tags & ~clearanceBits) != 0)
        {
            return false;
        }

        foreach (var pattern in patterns)
        {
            if (pattern.IsMatch(name))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The clause as text: <c>[role] name matches P | Q and tier &lt;= T and tags within {…}</c>.</summary>
    /// <returns>The text.</returns>
    public override string ToString()
        => $"[{Role.Name}] name matches {string.Join(" | ", Rules.Select(r => r.Resource))} and tier <= {MaxSensitivity} and tags within {{{string.Join(", ", Clearances)}}}";
}
