using AiRbac.Patterns;

namespace AiRbac;

/// <summary>
/// Policy filters: for one subject (with its on-behalf-of chain) and one action, which resources it may act on, as
/// clauses built from the same effective role sets, role-set tables, rules, catalog and checks the decision steps read
/// (docs/retrieval.md).
/// </summary>
public sealed partial class CompiledPolicy
{
    /// <summary>A filter has at most this many scope branches (binding scopes in effect, of all links, plus one); past it, it is incomplete.</summary>
    public const int MaxFilterBranches = Tuning.Filter.MaxBranches;

    /// <summary>
    /// A filter holds at most this many clauses: each distinct link filter's deny and grant patterns, plus one per link
    /// per branch, plus each branch's <see cref="FilterBranch.ExceptUnder"/> scopes; past it (or when computing the branches would read more than <see cref="MaxFilterWork"/> bindings), it
    /// is incomplete.
    /// </summary>
    public const int MaxFilterClauses = Tuning.Filter.MaxClauses;

    /// <summary>Building a filter reads at most this many bindings (each link's bindings, once per branch); past it, it is incomplete.</summary>
    public const int MaxFilterWork = Tuning.Filter.MaxWork;

    /// <summary>
    /// The resources <paramref name="subject"/> may perform <paramref name="action"/> on, now, as an immutable, inspectable
    /// filter: <see cref="PolicyFilter.Matches"/> is true for a resource exactly when
    /// <see cref="Authorize(Subject, string, in ResourceRequest)"/> allows it (caller-supplied scope, tier, tags and owner
    /// included), while the policy's clock reads an instant from <see cref="PolicyFilter.ValidFrom"/> until
    /// <see cref="PolicyFilter.ValidUntil"/>.
    /// </summary>
    /// <param name="subject">Who asks, with the subjects it acts on behalf of.</param>
    /// <param name="action">The action, <c>namespace:verb</c>.</param>
    /// <returns>
    /// The filter. When the policy and subject would make it larger than <see cref="MaxFilterBranches"/>,
    /// <see cref="MaxFilterClauses"/> or <see cref="MaxFilterWork"/> allow, it is incomplete
    /// (<see cref="PolicyFilter.IsComplete"/> is false) and matches nothing: decide such candidates with
    /// <see cref="AuthorizeMany"/> instead.
    /// </returns>
    /// <exception cref="ArgumentNullException"><paramref name="subject"/> is <see langword="null"/>.</exception>
    /// <remarks>
    /// Cold path: it allocates in proportion to the subject's rules for the action. The filter is a snapshot of the
    /// subject's bindings at the policy clock's current instant: a binding that expires later ends the filter's validity
    /// (<see cref="PolicyFilter.ValidUntil"/>), and a binding it left out as already expired starts it
    /// (<see cref="PolicyFilter.ValidFrom"/>: a clock stepped back before that expiry brings the binding back); outside
    /// that window it matches nothing, failing closed: build a new one. It answers for this policy only
    /// (<see cref="PolicyFilter.Policy"/>): after a reload, build a new filter from the new policy.
    /// </remarks>
    public PolicyFilter FilterFor(Subject subject, string action)
    {
        ArgumentNullException.ThrowIfNull(subject);
        var at = timeProvider.GetUtcNow();
        long now = at.UtcTicks;
        action ??= string.Empty;
        int actionId = action.Length == 0 ? -1 : actionIds.Find(action);

        // An approval rule that may match the action (docs/policy-language.md, section 13) denies the resources it matches
        // without approvals, which a filter does not carry: no filter is built (decide candidates with AuthorizeMany).
        if (ApprovalMayMatch(action))
        {
            return PolicyFilter.Incomplete(this, subject, action, at);
        }

        // The chain, with each link's kind and bindings (steps 1 and 2's subject part decided here, once).
        var chain = new List<(Subject Subject, bool Holds, SubjectKind Kind, PolicyBinding[] Bindings)>();
        long work = 0;
        for (var link = subject; link is not null; link = link.OnBehalfOf)
        {
            bool holds = TryBindingsOf(link, out var kind, out var bindings);
            chain.Add((link, holds, kind, bindings));
            work += bindings.Length + 1;
            if (chain.Count > MaxFilterClauses || work > MaxFilterWork)
            {
                return PolicyFilter.Incomplete(this, subject, action, at);
            }
        }

        // The branches: a request's scope selects the deepest binding scope (of any link) that covers it, or none. Every
        // link's bindings covering the request's scope are exactly those covering that deepest scope, so each link's
        // effective set is the same for every scope of one branch.
        var scopes = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        DateTimeOffset? validFrom = null, validUntil = null;
        foreach (var (_, holds, _, bindings) in chain)
        {
            if (!holds)
            {
                continue;
            }

            foreach (var binding in bindings)
            {
                if (binding.Never || binding.Role is null || roleIds.Find(binding.Role) < 0)
                {
                    continue; // never in effect
                }

                if (binding.Expires is { } until && now >= until.UtcTicks)
                {
                    // Expired: left out, but in effect again if the clock steps back before its expiry, so the filter is
                    // valid only from the latest such expiry.
                    if (validFrom is null || until.UtcTicks > validFrom.Value.UtcTicks)
                    {
                        validFrom = until;
                    }

                    continue;
                }

                if (binding.Expires is { } end && (validUntil is null || end.UtcTicks < validUntil.Value.UtcTicks))
                {
                    validUntil = end;
                }

                if (binding.Scope is { } scope && seen.Add(scope))
                {
                    scopes.Add(scope);
                }
            }
        }

        long branchCount = scopes.Count + 1L;
        if (branchCount > MaxFilterBranches || branchCount * chain.Count + scopes.Count > MaxFilterClauses || branchCount * work > MaxFilterWork)
        {
            return PolicyFilter.Incomplete(this, subject, action, at);
        }

        scopes.Sort(StringComparer.Ordinal);

        // Each branch excepts only its nearest deeper binding scopes (a deeper one is under one of them): every scope is
        // listed once, by the branch of its nearest enclosing scope (or the first branch), so the lists are linear in size.
        var exceptUnder = new List<string>[scopes.Count + 1];
        for (int b = 0; b < exceptUnder.Length; b++)
        {
            exceptUnder[b] = [];
        }

        for (int j = 0; j < scopes.Count; j++)
        {
            int parent = -1;
            for (int k = 0; k < scopes.Count; k++)
            {
                if (scopes[k].Length < scopes[j].Length && (parent < 0 || scopes[k].Length > scopes[parent].Length)
                    && AiRbac.Scope.Covers(scopes[k], scopes[j]))
                {
                    parent = k;
                }
            }

            exceptUnder[parent + 1].Add(scopes[j]);
        }

        bool ownerRule = action.Length > 0 && notByOwner.Length > 0 && IsNotByOwner(action, actionId);
        var linkFilters = new Dictionary<(int Link, RoleSetTable Table), FilterLink>();
        var branches = new FilterBranch[(int)branchCount];
        bool gated = false;
        long clauses = branchCount * chain.Count + scopes.Count; // a clause per link per branch, and per ExceptUnder entry
        for (int b = -1; b < scopes.Count; b++)
        {
            string? scope = b < 0 ? null : scopes[b];
            var links = new FilterLink[chain.Count];
            for (int i = 0; i < chain.Count; i++)
            {
                var (link, holds, kind, bindings) = chain[i];
                if (!holds || action.Length == 0)
                {
                    // Step 1 or 2: no id or no bindings (missing_identity), a malformed binding scope, a kind outside the
                    // enum or an empty action (invalid_request): nothing is allowed.
                    // A kind outside the enum is invalid_request too (step 2).
                    var reason = link.Id.Length == 0 || bindings.Length == 0 ? DecisionReason.MissingIdentity : DecisionReason.InvalidRequest;
                    links[i] = FilterLink.DeniesAll(link.Id, reason);
                    continue;
                }

                // Step 3 at the branch's scope, then the table decisions read (step 4 and 5 answers, shared with them). A
                // set with gated roles grants through its active roles only, which depend on the bindings, not just the set.
                var table = TableOf(RoleIdsAt(kind, bindings, scope, now, direct: null));
                bool[]? inactive = table.Gated ? InactiveRoles(table, kind, bindings, scope, now) : null;
                gated |= inactive is not null;
                if (inactive is not null || !linkFilters.TryGetValue((i, table), out var filter))
                {
                    filter = BuildLinkFilter(link.Id, table, action, actionId, ownerRule, inactive);
                    clauses += filter.ClauseCount;
                    if (clauses > MaxFilterClauses)
                    {
                        return PolicyFilter.Incomplete(this, subject, action, at);
                    }

                    if (inactive is null)
                    {
                        linkFilters.Add((i, table), filter);
                    }
                }

                links[i] = filter;
            }

            branches[b + 1] = new FilterBranch(scope, [.. exceptUnder[b + 1]], links);
        }

        if (gated)
        {
            // A filter has no context: a role with conditions on context keys is inactive, but one whose only conditions
            // are time_of_day windows may be active now and not later (or the other way): the filter holds only until
            // the next window boundary of the policy, and from the last one.
            (validFrom, validUntil) = NarrowToTimeWindows(at, validFrom, validUntil);
        }

        return new PolicyFilter(this, subject, action, at, validFrom, validUntil, [.. scopes], branches);
    }

    /// <summary>Whether some approval rule's action pattern matches <paramref name="action"/>.</summary>
    private bool ApprovalMayMatch(string action)
    {
        foreach (var rule in approvalRules)
        {
            foreach (var (pattern, _) in rule.Match)
            {
                if (pattern.IsMatch(action))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>
    /// The roles of <paramref name="table"/>'s set that are not active for a request without context at <paramref name="now"/>
    /// in <paramref name="scope"/> (docs/policy-language.md, section 11), by role id: step 3's walk, by the same code.
    /// </summary>
    private bool[] InactiveRoles(RoleSetTable table, SubjectKind kind, PolicyBinding[] bindings, string? scope, long now)
    {
        var when = new BindingClock(null, now, scope);
        var seeds = new List<int>();
        foreach (var binding in bindings)
        {
            int role = binding.Role is null ? -1 : roleIds.Find(binding.Role);
            if (role >= 0 && when.Applies(binding.Scope, binding.Expires, binding.Never))
            {
                seeds.Add(role);
            }
        }

        var state = new byte[table.Roles.Length];
        var request = new Request("filter", new ResourceRequest("filter"), null);
        request.FixNow(now);
        MarkActive(table.Roles, kind, [.. seeds], state, new int[table.Roles.Length], string.Empty, ref request);
        var inactive = new bool[roles.Length];
        for (int i = 0; i < state.Length; i++)
        {
            inactive[table.Roles[i]] = (state[i] & GateActive) == 0;
        }

        return inactive;
    }

    /// <summary>Narrows a filter's validity to the stretch between the time_of_day window boundaries (of any role) around <paramref name="at"/>.</summary>
    private (DateTimeOffset? From, DateTimeOffset? Until) NarrowToTimeWindows(DateTimeOffset at, DateTimeOffset? from, DateTimeOffset? until)
    {
        var minutes = new SortedSet<int>();
        foreach (ref readonly var role in roles.AsSpan())
        {
            foreach (var condition in role.Conditions)
            {
                foreach (var window in condition.Windows)
                {
                    minutes.Add(window.Start);
                    minutes.Add(window.End);
                }
            }
        }

        if (minutes.Count == 0)
        {
            return (from, until);
        }

        long day = at.UtcTicks - (at.UtcTicks % TimeSpan.TicksPerDay);
        int minute = TimeWindow.MinuteOf(at.UtcTicks);
        long previous = minutes.Reverse().Where(m => m <= minute).Select(m => day + (m * TimeSpan.TicksPerMinute)).DefaultIfEmpty(day - TimeSpan.TicksPerDay + (minutes.Max * TimeSpan.TicksPerMinute)).First();
        long next = minutes.Where(m => m > minute).Select(m => day + (m * TimeSpan.TicksPerMinute)).DefaultIfEmpty(day + TimeSpan.TicksPerDay + (minutes.Min * TimeSpan.TicksPerMinute)).First();
        var start = new DateTimeOffset(previous, TimeSpan.Zero);
        var end = new DateTimeOffset(next, TimeSpan.Zero);
        return (from is { } f && f > start ? f : start, until is { } u && u < end ? u : end);
    }

    /// <summary>One link's clauses on its effective role set's table: steps 4 and 5, then its denies (step 6), the owner rule (step 7) and its grants by role (step 8).</summary>
    private FilterLink BuildLinkFilter(string subjectId, RoleSetTable table, string action, int actionId, bool ownerRule, bool[]? inactive)
    {
        if (table.SodSet >= 0)
        {
            return FilterLink.DeniesAll(subjectId, DecisionReason.SeparationOfDuties);
        }

        if (table.RoleCount == 0)
        {
            return FilterLink.DeniesAll(subjectId, DecisionReason.NoActiveRole);
        }

        // The rules of the action's run, picked per role as the run is built (roles in file order, then rules in file
        // order); in the run for actions no rule names exactly, a glob action is tested against the action here, once,
        // as the scan tests it per request.
        var picked = new List<(int Role, int Rule)>();
        var scratch = new List<int>();
        var denies = new List<(RuleInfo Info, Pattern Pattern)>();
        var grants = new List<FilterGrant>();
        foreach (int r in table.Roles)
        {
            picked.Clear();
            PickRules(r, actionId, deny: true, picked, scratch);
            foreach (var (_, k) in picked)
            {
                if (AppliesTo(k, action, actionId))
                {
                    denies.Add((Roles[r].Deny[rules[k].Order], rules[k].ResourcePattern!));
                }
            }

            picked.Clear();
            PickRules(r, actionId, deny: false, picked, scratch);
            var mine = new List<(RuleInfo Info, Pattern Pattern)>();
            foreach (var (_, k) in picked)
            {
                if (AppliesTo(k, action, actionId))
                {
                    mine.Add((Roles[r].Allow[rules[k].Order], rules[k].ResourcePattern!));
                }
            }

            if (mine.Count > 0 && inactive?[r] != true)
            {
                grants.Add(new FilterGrant(Roles[r], tiers[roles[r].Ceiling], roles[r].Ceiling, TagNamesOf(roles[r].Clearances), roles[r].Clearances, mine));
            }
        }

        return new FilterLink(subjectId, null, ownerRule, denies, [.. grants]);
    }

    /// <summary>Whether a picked rule applies to the action: always in an exact action's run; in the fallback run, when its action pattern matches.</summary>
    private bool AppliesTo(int rule, string action, int actionId)
        => actionId >= 0 || rules[rule].ActionId != GlobAction || actionGlobs[rules[rule].ActionGlob].IsMatch(action);

    /// <summary>Whether the two-person rule covers the action (step 7's test, by the same code).</summary>
    private bool IsNotByOwner(string action, int actionId)
    {
        var request = new Request(action, new ResourceRequest(action), null) { ActionId = actionId };
        return IsNotByOwnerAction(ref request);
    }

    /// <summary>
    /// For a filter: the request's part of step 2 and the resource's classification, as <see cref="Prepare"/>
    /// and <see cref="Classify"/> compute them. False when the request is invalid.
    /// </summary>
    internal bool TryClassifyForFilter(in ResourceRequest resource, out int tier, out ulong tags)
    {
        tier = 0;
        tags = 0;
        var request = new Request("filter", in resource, null);
        Prepare(ref request, in resource, -1);
        if (request.Invalid)
        {
            return false;
        }

        Classify(ref request, RuleData.CatalogUnknown, candidates: null);
        tier = request.Tier;
        tags = request.Tags;
        return true;
    }

    /// <summary>The catalog as the filter describes it: entries in file order.</summary>
    internal FilterClassification[] FilterCatalog()
        => [.. catalog.Select(e => new FilterClassification(e.Pattern.Text, tiers[e.Tier], TagNamesOf(e.Tags)))];

    /// <summary>The tier names, lowest first.</summary>
    internal string[] TierNames => tiers;

    /// <summary>The tag names, by bit.</summary>
    internal string[] TagNames => tagNames;

    /// <summary>The catalog, in file order.</summary>
    internal CatalogEntry[] CatalogEntries => catalog;

    /// <summary>The tier of a name no catalog entry matches.</summary>
    internal int DefaultTier => defaultTier;

    /// <summary>Now by the policy's clock, in UTC ticks (a filter's validity is judged by it).</summary>
    internal long NowTicks => timeProvider.GetUtcNow().UtcTicks;

    private string[] TagNamesOf(ulong bits)
    {
        var names = new List<string>();
        for (int bit = 0; bit < tagNames.Length; bit++)
        {
            if ((bits & (1UL << bit)) != 0)
            {
                names.Add(tagNames[bit]);
            }
        }

        return [.. names];
    }
}
