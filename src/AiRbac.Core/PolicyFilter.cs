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
/// the name, else <see cref="DefaultSensitivity"/>) and the caller's; its tags are the entry's and the caller's.
/// </summary>
/// <remarks>
/// A filter answers for the <see cref="Policy">policy that built it</see>, and only while that policy's clock reads an
/// instant from <see cref="ValidFrom"/> (inclusive) to <see cref="ValidUntil"/> (exclusive); outside that window it
/// matches nothing. After a policy reload, build a new filter from the new policy. Every collection it exposes is a
/// read-only view of private arrays, which <see cref="Matches"/> reads: nothing a caller does to a filter changes what
/// it passes.
/// </remarks>
public sealed class PolicyFilter
{
    /// <summary>
    /// <see cref="ToString()"/> returns at most this many characters: past it, the text is cut and ends with a line saying
    /// so (the structure, <see cref="Branches"/>, stays complete).
    /// </summary>
    public const int MaxTextLength = 1_048_576;

    private readonly CompiledPolicy policy;
    private readonly string[] scopes; // the binding scopes of the branches after the first, sorted ordinally
    private readonly FilterBranch[] branches;
    private readonly long validFromTicks;
    private readonly long validUntilTicks;

    internal PolicyFilter(CompiledPolicy policy, Subject subject, string action, DateTimeOffset at, DateTimeOffset? validFrom,
        DateTimeOffset? validUntil, string[] scopes, FilterBranch[] branches, bool complete = true)
    {
        this.policy = policy;
        this.scopes = scopes;
        this.branches = branches;
        Subject = subject;
        SubjectId = subject.Id;
        Action = action;
        At = at;
        ValidFrom = validFrom;
        ValidUntil = validUntil;
        validFromTicks = validFrom?.UtcTicks ?? long.MinValue;
        validUntilTicks = validUntil?.UtcTicks ?? long.MaxValue;
        Branches = Array.AsReadOnly(branches);
        IsComplete = complete;
        Catalog = Array.AsReadOnly(policy.FilterCatalog());
        DefaultSensitivity = policy.DefaultSensitivity;
    }

    internal static PolicyFilter Incomplete(CompiledPolicy policy, Subject subject, string action, DateTimeOffset at)
        => new(policy, subject, action, at, null, null, [], [], complete: false);

    /// <summary>
    /// The policy that built the filter, and the only one it answers for: after a reload, build a new filter from the
    /// new policy. Its clock judges <see cref="ValidFrom"/> and <see cref="ValidUntil"/>.
    /// </summary>
    public CompiledPolicy Policy => policy;

    /// <summary>The subject the filter was built for (the post-filter of a store translation decides for it).</summary>
    internal Subject Subject { get; }

    /// <summary>
    /// The version of <see cref="Policy"/> when <see cref="PolicyAuthorizer.FilterFor"/> built the filter (set once, before
    /// the filter is handed out); <see langword="null"/> for a filter built by <see cref="CompiledPolicy.FilterFor"/>.
    /// </summary>
    internal PolicyVersion? Version { get; set; }

    /// <summary>The id of the subject that asks (the actor).</summary>
    public string SubjectId { get; }

    /// <summary>The action.</summary>
    public string Action { get; }

    /// <summary>The instant (by the policy's clock) at which the subject's bindings were read.</summary>
    public DateTimeOffset At { get; }

    /// <summary>
    /// The latest expiry of a binding the filter left out because it had expired at <see cref="At"/>, or
    /// <see langword="null"/> when it left none out. Before it (a clock stepped back) that binding, and any deny it brings,
    /// applies again, so the filter matches nothing (fails closed): build a new one. When a role with conditions is in
    /// play (docs/policy-language.md, section 11), also no earlier than the last <c>time_of_day</c> window boundary of the
    /// policy at or before <see cref="At"/>.
    /// </summary>
    public DateTimeOffset? ValidFrom { get; }

    /// <summary>
    /// The first instant a binding the filter counts expires, or <see langword="null"/> when none does. From then on the
    /// filter matches nothing (its effective roles may have changed either way): build a new one. When a role with
    /// conditions is in play, also no later than the policy's next <c>time_of_day</c> window boundary after <see cref="At"/>.
    /// </summary>
    public DateTimeOffset? ValidUntil { get; }

    /// <summary>
    /// False when the filter would pass <see cref="CompiledPolicy.MaxFilterBranches"/>, <see cref="CompiledPolicy.MaxFilterClauses"/>
    /// or <see cref="CompiledPolicy.MaxFilterWork"/>, or when an approval rule of the policy may match the action
    /// (docs/policy-language.md, section 13): it then has no branches and matches nothing (decide candidates with
    /// <see cref="CompiledPolicy.AuthorizeMany"/>).
    /// </summary>
    public bool IsComplete { get; }

    /// <summary>The policy's catalog, in file order: the first entry whose pattern matches a resource's name classifies it.</summary>
    public IReadOnlyList<FilterClassification> Catalog { get; }

    /// <summary>The tier of a name no catalog entry matches.</summary>
    public string DefaultSensitivity { get; }

    /// <summary>
    /// The branches, by the resource's scope (a read-only view): the first is for a resource without a scope or under none
    /// of the binding scopes the others name; each other one is for a resource whose scope is under its
    /// <see cref="FilterBranch.Scope"/> and not under any of its <see cref="FilterBranch.ExceptUnder"/> (the deepest
    /// binding scope covering the resource's selects the branch). Exactly one branch applies to any resource.
    /// </summary>
    public IReadOnlyList<FilterBranch> Branches { get; }

    /// <summary>
    /// Whether the filter passes <paramref name="resource"/>: exactly when
    /// <see cref="CompiledPolicy.Authorize(Subject, string, in ResourceRequest)"/> of <see cref="Policy"/> allows the
    /// subject the action on it, at any instant from <see cref="ValidFrom"/> until <see cref="ValidUntil"/>. Never throws;
    /// false for an incomplete filter, and whenever the policy's clock reads an instant outside that window.
    /// </summary>
    /// <param name="resource">The resource, with the scope, tier, tags and owner the caller knows.</param>
    /// <returns>Whether the resource passes.</returns>
    public bool Matches(in ResourceRequest resource)
    {
        if (!IsComplete || branches.Length == 0)
        {
            return false;
        }

        if (validFromTicks != long.MinValue || validUntilTicks != long.MaxValue)
        {
            long now = policy.NowTicks;
            if (now < validFromTicks || now >= validUntilTicks)
            {
                return false;
            }
        }

        // Step 2's part of the request (an empty name, a malformed scope, an undeclared tier), and the classification.
        if (!policy.TryClassifyForFilter(in resource, out int tier, out ulong tags))
        {
            return false;
        }

        var branch = branches[BranchOf(resource.Scope)];
        foreach (var link in branch.LinkArray)
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

    /// <summary>
    /// The filter as readable text: the classification, then each branch's clauses. Every id, scope, pattern, tier and tag
    /// is written with control and bidirectional formatting characters escaped (<c>\uXXXX</c>), so no value can forge a
    /// line; the text is at most <see cref="MaxTextLength"/> characters (past it, cut, with a last line saying so).
    /// </summary>
    /// <returns>The text (several lines).</returns>
    public override string ToString() => ToString(MaxTextLength);

    /// <summary>The text of <see cref="ToString()"/>, cut at <paramref name="limit"/> characters (with a last line saying so).</summary>
    internal string ToString(int limit)
    {
        var text = new FilterText(limit);
        var inv = CultureInfo.InvariantCulture;
        text.Raw("subject '").Safe(SubjectId).Raw("' may '").Safe(Action)
            .Raw(string.Create(inv, $"' a resource (as of {At.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}"));
        if (ValidFrom is { } from)
        {
            text.Raw(string.Create(inv, $", from {from.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}"));
        }

        text.Raw(ValidUntil is { } until ? string.Create(inv, $", until {until.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ})") : ")");
        if (!IsComplete)
        {
            return text.Raw(": the filter is incomplete (size bound reached) and matches nothing; decide each candidate").ToString();
        }

        text.Raw(" when its name is not empty, its scope is well formed and its tier is declared, and:").Line();
        text.Raw("  tier = the higher of the caller's and the catalog's: ");
        foreach (var entry in Catalog)
        {
            text.Safe(entry.Match).Raw(" -> ").Safe(entry.Sensitivity);
            if (entry.Tags.Count > 0)
            {
                text.Raw(" [").SafeList(entry.Tags, ", ").Raw("]");
            }

            text.Raw("; ");
        }

        text.Raw("else ").Safe(DefaultSensitivity).Line();
        text.Raw("  tags = the caller's and the catalog entry's").Line();
        foreach (var branch in branches)
        {
            if (text.Full)
            {
                break;
            }

            if (branch.Scope is null)
            {
                text.Raw(branch.ExceptUnder.Count == 0 ? "  any scope:" : "  no scope, or a scope under none of ");
            }
            else
            {
                text.Raw("  scope under ").Safe(branch.Scope).Raw(branch.ExceptUnder.Count == 0 ? ":" : " and not under ");
            }

            if (branch.ExceptUnder.Count > 0)
            {
                text.SafeList(branch.ExceptUnder, ", ").Raw(":");
            }

            text.Line();
            foreach (var link in branch.LinkArray)
            {
                link.Describe(text);
            }
        }

        return text.ToString();
    }
}

/// <summary>
/// A filter's text under construction: values escaped (<see cref="Diagnostics.UnsafeText.Escape"/>), and cut at a
/// length with a last line saying so. Once full, appending does nothing.
/// </summary>
internal sealed class FilterText(int limit)
{
    private const string Marker = "... (truncated: the filter's text is longer than PolicyFilter.MaxTextLength; read its Branches)";
    private const string ShortMarker = "... (truncated: read the filter's Branches, or print it with airbac filter)";
    private readonly StringBuilder sb = new();

    /// <summary>Whether the text has reached its limit (and was cut).</summary>
    public bool Full { get; private set; }

    /// <summary>Appends fixed text the filter writes itself.</summary>
    public FilterText Raw(string text)
    {
        if (Full)
        {
            return this;
        }

        string marker = limit >= PolicyFilter.MaxTextLength ? Marker : ShortMarker;
        int room = limit - marker.Length - 1 - sb.Length;
        if (text.Length <= room)
        {
            sb.Append(text);
        }
        else
        {
            room = Math.Max(room, 0);
            if (room > 0 && char.IsHighSurrogate(text[room - 1]))
            {
                room--; // never split a surrogate pair
            }

            sb.Append(text, 0, room).Append('\n').Append(marker);
            Full = true;
        }

        return this;
    }

    /// <summary>Appends a caller- or policy-supplied value, escaped.</summary>
    public FilterText Safe(string text) => Full ? this : Raw(Diagnostics.UnsafeText.Escape(text));

    /// <summary>Appends values, escaped, with a separator.</summary>
    public FilterText SafeList(IEnumerable<string> values, string separator)
    {
        bool first = true;
        foreach (string value in values)
        {
            if (Full)
            {
                break;
            }

            if (!first)
            {
                Raw(separator);
            }

            Safe(value);
            first = false;
        }

        return this;
    }

    /// <summary>Ends a line (<c>\n</c> on every platform).</summary>
    public FilterText Line() => Raw("\n");

    /// <summary>The text, without trailing white space.</summary>
    public override string ToString() => sb.ToString().TrimEnd();
}

/// <summary>A catalog entry as a filter describes it.</summary>
public sealed class FilterClassification
{
    internal FilterClassification(string match, string sensitivity, string[] tags)
    {
        Match = match;
        Sensitivity = sensitivity;
        Tags = Array.AsReadOnly(tags);
    }

    /// <summary>The entry's resource pattern.</summary>
    public string Match { get; }

    /// <summary>The tier it gives a resource it classifies.</summary>
    public string Sensitivity { get; }

    /// <summary>The tags it gives a resource it classifies (a read-only view).</summary>
    public IReadOnlyList<string> Tags { get; }
}

/// <summary>The resources of one range of scopes, and the clauses every link of the chain applies to them.</summary>
public sealed class FilterBranch
{
    private readonly FilterLink[] links;

    internal FilterBranch(string? scope, string[] exceptUnder, FilterLink[] links)
    {
        Scope = scope;
        this.links = links;
        ExceptUnder = Array.AsReadOnly(exceptUnder);
        Links = Array.AsReadOnly(links);
    }

    /// <summary>The binding scope a resource's scope is under (equal to or below), or <see langword="null"/> for the branch of resources under no binding scope (or without a scope).</summary>
    public string? Scope { get; }

    /// <summary>
    /// The nearest deeper binding scopes (a read-only view): those under <see cref="Scope"/> (any, for the first branch)
    /// with no other binding scope between. Their resources, and those of every scope below them, belong to other
    /// branches. Each binding scope is listed by exactly one branch, so their total is linear in the scopes.
    /// </summary>
    public IReadOnlyList<string> ExceptUnder { get; }

    /// <summary>The actor's clauses, then those of each subject it acts on behalf of (a read-only view): a resource must pass them all.</summary>
    public IReadOnlyList<FilterLink> Links { get; }

    /// <summary>The links, as <see cref="PolicyFilter.Matches"/> reads them.</summary>
    internal FilterLink[] LinkArray => links;
}

/// <summary>The clauses of one subject of the chain (its effective roles in one branch): steps 1 to 8 of the decision.</summary>
public sealed class FilterLink
{
    private readonly Pattern[] denyPatterns;
    private readonly FilterGrant[] grants;

    internal Pattern[] DenyPatterns => denyPatterns;

    internal FilterLink(string subjectId, DecisionReason? deniedBecause, bool ownerRule, List<(RuleInfo Info, Pattern Pattern)> denies, FilterGrant[] grants)
    {
        SubjectId = subjectId;
        DeniedBecause = deniedBecause;
        OwnerRule = ownerRule;
        Denies = Array.AsReadOnly(denies.Select(d => d.Info).ToArray());
        denyPatterns = [.. denies.Select(d => d.Pattern)];
        this.grants = grants;
        Grants = Array.AsReadOnly(grants);
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

    /// <summary>The denies of the subject's effective roles for the action (a read-only view): a resource whose name one of them matches is denied (deny beats allow).</summary>
    public IReadOnlyList<RuleInfo> Denies { get; }

    /// <summary>Per effective role with a grant for the action (a read-only view): the grants, ceiling and clearances; a resource must be allowed by one of them.</summary>
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

        foreach (var grant in grants)
        {
            if (grant.Allows(name, tier, tags))
            {
                return true;
            }
        }

        return false;
    }

    internal void Describe(FilterText text)
    {
        if (DeniedBecause is { } reason)
        {
            text.Raw("    ").Safe(SubjectId).Raw(": nothing (").Raw(DecisionReasons.ToName(reason)).Raw(")").Line();
            return;
        }

        text.Raw("    ").Safe(SubjectId).Raw(":").Line();
        if (Denies.Count > 0)
        {
            text.Raw("      name matches none of: ");
            for (int i = 0; i < Denies.Count && !text.Full; i++)
            {
                text.Raw(i == 0 ? string.Empty : ", ").Safe(Denies[i].Resource).Raw(" (").Safe(Denies[i].Role).Raw(")");
            }

            text.Line();
        }

        if (OwnerRule)
        {
            text.Raw("      owner is not '").Safe(SubjectId).Raw("'").Line();
        }

        if (grants.Length == 0)
        {
            text.Raw("      nothing: no effective role grants the action (no_matching_grant)").Line();
            return;
        }

        text.Raw("      and one of:").Line();
        foreach (var grant in grants)
        {
            if (text.Full)
            {
                break;
            }

            text.Raw("        ");
            grant.Describe(text);
            text.Line();
        }
    }
}

/// <summary>One effective role's grants for the action, judged with its own ceiling and clearances.</summary>
public sealed class FilterGrant
{
    private readonly int ceiling;
    private readonly ulong clearanceBits;
    private readonly Pattern[] patterns;

    internal FilterGrant(RoleInfo role, string maxSensitivity, int ceiling, string[] clearances, ulong clearanceBits, List<(RuleInfo Info, Pattern Pattern)> rules)
    {
        Role = role;
        MaxSensitivity = maxSensitivity;
        Clearances = Array.AsReadOnly(clearances);
        this.ceiling = ceiling;
        this.clearanceBits = clearanceBits;
        Rules = Array.AsReadOnly(rules.Select(r => r.Info).ToArray());
        patterns = [.. rules.Select(r => r.Pattern)];
    }

    /// <summary>The role.</summary>
    public RoleInfo Role { get; }

    /// <summary>The grants the role itself declares (an inherited role is a grant clause of its own) whose action pattern covers the action, in file order (a read-only view).</summary>
    public IReadOnlyList<RuleInfo> Rules { get; }

    /// <summary>The role's ceiling: a resource's tier must be at most this.</summary>
    public string MaxSensitivity { get; }

    /// <summary>The role's clearances (a read-only view): every tag of a resource must be among them (a tag the policy never names never is).</summary>
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

    /// <summary>
    /// The clause as text: <c>[role] name matches P | Q and tier &lt;= T and tags within {…}</c>, values escaped as in
    /// <see cref="PolicyFilter.ToString()"/>, at most <see cref="PolicyFilter.MaxTextLength"/> characters.
    /// </summary>
    /// <returns>The text.</returns>
    public override string ToString()
    {
        var text = new FilterText(PolicyFilter.MaxTextLength);
        Describe(text);
        return text.ToString();
    }

    internal void Describe(FilterText text)
    {
        text.Raw("[").Safe(Role.Name).Raw("] name matches ");
        for (int i = 0; i < Rules.Count && !text.Full; i++)
        {
            text.Raw(i == 0 ? string.Empty : " | ").Safe(Rules[i].Resource);
        }

        text.Raw(" and tier <= ").Safe(MaxSensitivity).Raw(" and tags within {").SafeList(Clearances, ", ").Raw("}");
    }
}
