// Building the decision tables of a valid policy: per-role action slots and rule buckets, the action glob table,
// the catalog index, not_by_owner, RoleInfo; and the empty deny-all policy.

using AiRbac.Patterns;

namespace AiRbac;

internal sealed partial class CompilerRun
{
    /// <summary>The deny-all policy: no roles, no rules, default tiers.</summary>
    internal static CompiledPolicy BuildEmpty() => new(new CompiledTables
    {
        Source = "deny-all",
        Roles = [],
        Rules = [],
        Slots = [],
        ActionIds = new Dictionary<string, int>(),
        ActionGlobs = [],
        ActionGlobMatches = [],
        Catalog = [],
        CatalogLocations = [],
        CatalogTypes = [],
        CatalogByType = [],
        CatalogUntyped = new IndexedList([], _ => null),
        DefaultTier = 0,
        Tiers = DefaultTiers,
        TagBits = new Dictionary<string, int>(),
        ExclusiveSets = [],
        NotByOwner = [],
        NotByOwnerLocations = [],
        NotByOwnerByActionId = [],
        RoleLookup = new Dictionary<string, int>(),
        PolicySubjects = new Dictionary<string, PolicySubject>(),
        BoundSubjectIds = [],
        TimeProvider = TimeProvider.System,
        RoleInfos = [],
        Gates = GateTables.None(0),
    });

    // Bounds of the glob × exact action tables (an optimization; past them, action globs are matched per request).
    internal const long MaxGlobTableEntries = Tuning.Compile.MaxGlobTableEntries;
    internal const long MaxGlobTableWork = Tuning.Compile.MaxGlobTableWork;

    private CompiledPolicy Build(int[][] parents, (List<ParsedRule> Allow, List<ParsedRule> Deny)[] parsedRules, int[] ceilings,
        ulong[] clearances, byte[] kinds, List<CatalogEntry> catalog, List<ExclusiveSet> exclusive, Pattern[] notByOwner,
        Dictionary<string, PolicySubject> subjects, GateTables gates)
    {
        var actionIds = new Dictionary<string, int>(StringComparer.Ordinal);
        var actionGlobIds = new Dictionary<string, int>(StringComparer.Ordinal);
        var actionGlobs = new List<Pattern>();
        int Intern(Dictionary<string, int> map, string key) => map.TryGetValue(key, out int id) ? id : map[key] = map.Count;

        var roleData = new RoleData[doc.Roles.Count];
        var rules = new List<RuleData>();
        var slots = new List<ActionSlot>();
        for (int r = 0; r < roleData.Length; r++)
        {
            var allow = parsedRules[r].Allow.Select((p, i) => ToRule(p, i)).ToList();
            var deny = parsedRules[r].Deny.Select((p, i) => ToRule(p, i)).ToList();
            int slotStart = slots.Count;

            // One pass groups the rules by exact action, actions in order of first mention.
            var byAction = new Dictionary<int, (List<RuleData> Allow, List<RuleData> Deny)>();
            var actionOrder = new List<int>();
            foreach (var (list, isDeny) in new[] { (allow, false), (deny, true) })
            {
                foreach (var rule in list)
                {
                    if (rule.ActionId < 0)
                    {
                        continue;
                    }

                    if (!byAction.TryGetValue(rule.ActionId, out var group))
                    {
                        group = ([], []);
                        byAction.Add(rule.ActionId, group);
                        actionOrder.Add(rule.ActionId);
                    }

                    (isDeny ? group.Deny : group.Allow).Add(rule);
                }
            }

            foreach (int action in actionOrder)
            {
                var allowBucket = Emit(byAction[action].Allow, hashExact: true);
                var denyBucket = Emit(byAction[action].Deny, hashExact: true);
                slots.Add(new ActionSlot(action, allowBucket, denyBucket));
            }

            roleData[r] = new RoleData
            {
                Name = doc.Roles[r].Name.Value,
                Ceiling = ceilings[r],
                Clearances = clearances[r],
                KindMask = kinds[r],
                Parents = parents[r],
                SlotStart = slotStart,
                SlotCount = slots.Count - slotStart,
                // Wildcard-action rules also need their action checked, so their exact names are never hashed.
                AnyAllow = Emit(allow.Where(x => x.ActionId < 0), hashExact: false),
                AnyDeny = Emit(deny.Where(x => x.ActionId < 0), hashExact: false),
                Conditions = gates.Conditions[r],
                Gated = gates.Conditions[r].Length > 0 || gates.BreakGlass[r] > 0,
                BreakGlassTicks = gates.BreakGlass[r],
            };
        }

        // Appends one bucket: rules in declaration order, or, when it holds many exact names, the others first and the
        // exact ones after them behind a hash of their names.
        RuleBucket Emit(IEnumerable<RuleData> bucket, bool hashExact)
        {
            var list = bucket.ToList();
            int start = rules.Count;
            bool hash = hashExact && list.Count(x => x.ResourceShape == PatternShape.Exact) > RuleBucket.HashThreshold;
            if (!hash)
            {
                rules.AddRange(list);
                return new RuleBucket(start, list.Count, list.Count, null);
            }

            var scanned = list.Where(x => x.ResourceShape != PatternShape.Exact).ToList();
            rules.AddRange(scanned);
            var exact = list.Where(x => x.ResourceShape == PatternShape.Exact).Select((x, i) => new KeyValuePair<string, int>(x.ResourcePrefix, rules.Count + i)).ToList();
            rules.AddRange(list.Where(x => x.ResourceShape == PatternShape.Exact));
            return new RuleBucket(start, list.Count, scanned.Count, new NameTable(exact));
        }

        RuleData ToRule(ParsedRule parsed, int order)
        {
            var action = parsed.Action;
            int actionId = action.IsExact ? Intern(actionIds, action.Text) : action.Shape == PatternShape.All ? CompiledPolicy.AnyAction : CompiledPolicy.GlobAction;
            int glob = actionId == CompiledPolicy.GlobAction ? Intern(actionGlobIds, action.Text) : -1;
            if (glob == actionGlobs.Count)
            {
                actionGlobs.Add(action);
            }

            var resource = parsed.Resource;
            return new RuleData
            {
                Order = order,
                ActionId = actionId,
                ActionGlob = glob,
                ResourceShape = resource.Shape,
                ResourcePrefix = resource.Literal,
                ResourcePattern = resource,
                Text = parsed.Text,
                Location = parsed.Location,
            };
        }

        foreach (var pattern in notByOwner.Where(p => p.IsExact))
        {
            Intern(actionIds, pattern.Text);
        }

        // Approval rules' exact actions are interned too, so that a request's action id says whether any rule may match.
        foreach (var (action, _) in gates.Approvals.SelectMany(a => a.Match).Where(m => m.Action.IsExact))
        {
            Intern(actionIds, action.Text);
        }

        var actionNames = new string[actionIds.Count];
        foreach (var (name, id) in actionIds)
        {
            actionNames[id] = name;
        }

        // The table of which glob matches which exact action spares matching action globs per request. It is an
        // optimization only: past a bound on its size and on the matching it costs, globs are matched per request.
        bool[] globMatches = [];
        if (GlobTableAffordable(actionGlobs, actionNames))
        {
            globMatches = new bool[actionGlobs.Count * actionNames.Length];
            for (int g = 0; g < actionGlobs.Count; g++)
            {
                for (int a = 0; a < actionNames.Length; a++)
                {
                    globMatches[(g * actionNames.Length) + a] = actionGlobs[g].IsMatch(actionNames[a]);
                }
            }
        }

        var catalogArray = catalog.ToArray();
        var (catalogTypes, catalogByType, catalogUntyped) = IndexCatalogByType(catalogArray);
        var ruleArray = rules.ToArray();
        for (int k = 0; k < ruleArray.Length; k++)
        {
            (ruleArray[k].CatalogEntry, ruleArray[k].CatalogCandidates) = CatalogEntryOf(ruleArray[k].ResourcePattern!, catalogArray);
        }

        // Exact not_by_owner actions by hash; glob ones in a table like the action globs', or per request past its bound.
        var notByOwnerExact = notByOwner.Where(p => p.IsExact).Select(p => p.Text).ToHashSet(StringComparer.Ordinal);
        var notByOwnerGlobs = notByOwner.Where(p => !p.IsExact).ToList();
        bool[] notByOwnerByAction = [];
        if (notByOwnerGlobs.Count == 0 || GlobTableAffordable(notByOwnerGlobs, actionNames))
        {
            notByOwnerByAction = [.. actionNames.Select(name => notByOwnerExact.Contains(name) || notByOwnerGlobs.Any(p => p.IsMatch(name)))];
        }

        var infos = new RoleInfo[roleData.Length];
        for (int r = 0; r < infos.Length; r++)
        {
            var role = doc.Roles[r];
            infos[r] = new RoleInfo(
                role.Name.Value,
                role.Id?.Value ?? role.Name.Value,
                role.Description,
                [.. parents[r].Select(p => doc.Roles[p].Name.Value)],
                [.. parsedRules[r].Allow.Select(p => p.ToInfo(role.Name.Value, RuleEffect.Allow))],
                [.. parsedRules[r].Deny.Select(p => p.ToInfo(role.Name.Value, RuleEffect.Deny))],
                tiers[ceilings[r]],
                [.. role.Clearances.Select(c => c.Value).Distinct(StringComparer.Ordinal)],
                role.Kinds is null ? null : [.. Enum.GetValues<SubjectKind>().Where(k => (kinds[r] & (1 << (int)k)) != 0)],
                role.Name.Location,
                [.. gates.Conditions[r].Select(c => c.Text)],
                gates.BreakGlass[r] > 0 ? TimeSpan.FromTicks(gates.BreakGlass[r]) : null);
        }

        var policy = new CompiledPolicy(new CompiledTables
        {
            Source = doc.SourceName,
            Roles = roleData,
            Rules = ruleArray,
            Slots = [.. slots],
            ActionIds = actionIds,
            ActionGlobs = [.. actionGlobs],
            ActionGlobMatches = globMatches,
            Catalog = catalogArray,

            // A policy compiles only without errors, so every entry parsed: entry i is doc.Resources[i] (and the same for not_by_owner).
            CatalogLocations = [.. doc.Resources.Select(r => r.Location)],
            CatalogTypes = catalogTypes,
            CatalogByType = catalogByType,
            CatalogUntyped = catalogUntyped,
            DefaultTier = defaultTier,
            Tiers = tiers,
            TagBits = tagBits,
            ExclusiveSets = [.. exclusive],
            NotByOwner = notByOwner,
            NotByOwnerLocations = [.. doc.Constraints.NotByOwner.Select(p => p.Location)],
            NotByOwnerByActionId = notByOwnerByAction,
            RoleLookup = roleLookup,
            PolicySubjects = subjects,
            BoundSubjectIds = [.. doc.Bindings.Subjects.Select(s => s.Id.Value).Where(subjects.ContainsKey).Distinct(StringComparer.Ordinal)],
            TimeProvider = options.TimeProvider,
            RoleInfos = infos,
            Gates = gates,
            // An optimization only, bounded like the glob table: past it, approval rules are matched per allowed request.
            ApprovalByActionId = gates.Approvals.Length == 0 || (long)gates.Approvals.Sum(a => a.Match.Length) * actionNames.Length > MaxGlobTableEntries
                ? [] : [.. actionNames.Select(name => gates.Approvals.Any(a => a.Match.Any(m => m.Action.IsMatch(name))))],
        });

        for (int r = 0; r < infos.Length; r++)
        {
            infos[r].Ancestors = [.. ancestors![r].Select(a => infos[a].Name)];
        }

        return policy;
    }

    /// <summary>
    /// Whether a table of globs × exact actions is small enough to build: at most <see cref="MaxGlobTableEntries"/>
    /// entries, and matching work (glob weights × action characters, see <see cref="MatchWeight"/>) of at most <see cref="MaxGlobTableWork"/>.
    /// </summary>
    private static bool GlobTableAffordable(List<Pattern> globs, string[] actions)
    {
        long entries = (long)globs.Count * actions.Length;
        if (entries > MaxGlobTableEntries)
        {
            return false;
        }

        // A literal token is tried at each position, so a glob costs its tokens plus its literal characters per position.
        long weight = globs.Sum(MatchWeight);
        long chars = actions.Sum(a => (long)a.Length + 1);
        return SaturatingMultiply(weight, chars) <= MaxGlobTableWork;
    }

    /// <summary>
    /// The catalog entry of every resource a grant or deny matches, when it is the same for all of them: the first entry
    /// that can overlap the rule's pattern, if it also covers it; -1 when none can overlap. Otherwise
    /// <see cref="RuleData.CatalogUnknown"/>, with the entries that can overlap when they are few: only those need trying.
    /// </summary>
    private static (int Entry, int[]? Candidates) CatalogEntryOf(Pattern pattern, CatalogEntry[] catalog)
    {
        if (pattern.IsExact)
        {
            return (Array.FindIndex(catalog, e => PatternCover.MatchesName(e.Pattern, pattern)), null);
        }

        var overlapping = Enumerable.Range(0, catalog.Length).Where(i => PatternCover.Overlaps(pattern, catalog[i].Pattern)).ToArray();
        if (overlapping.Length == 0)
        {
            return (-1, null);
        }

        if (PatternCover.Covers(catalog[overlapping[0]].Pattern, pattern))
        {
            return (overlapping[0], null);
        }

        return (RuleData.CatalogUnknown, overlapping.Length <= RuleData.MaxCatalogCandidates ? overlapping : null);
    }

    /// <summary>
    /// Groups catalog entries by the resource type they can match (the text before the first ':' of their literal
    /// prefix). Entries without a fixed type can match any type and join every group; file order is kept within each.
    /// </summary>
    private static (string[] Types, IndexedList[] ByType, IndexedList Untyped) IndexCatalogByType(CatalogEntry[] catalog)
    {
        static string? TypeOf(Pattern pattern)
        {
            int colon = pattern.Literal.IndexOf(':');
            return colon >= 0 ? pattern.Literal[..colon] : null;
        }

        string? ExactName(int i) => catalog[i].Pattern.IsExact ? catalog[i].Pattern.Text : null;
        var typeOf = catalog.Select(e => TypeOf(e.Pattern)).ToArray();
        var untyped = new IndexedList([.. Enumerable.Range(0, catalog.Length).Where(i => typeOf[i] is null)], ExactName);
        var types = typeOf.OfType<string>().Distinct(StringComparer.Ordinal).ToArray();

        // Each type's own entries, gathered in one pass, then merged in file order with the untyped ones: linear in the
        // catalog plus types × untyped entries (counted by MaxPatternPairs), never types × the whole catalog.
        var typeIndex = new Dictionary<string, int>(types.Length, StringComparer.Ordinal);
        for (int t = 0; t < types.Length; t++)
        {
            typeIndex[types[t]] = t;
        }

        var own = new List<int>[types.Length];
        for (int i = 0; i < catalog.Length; i++)
        {
            if (typeOf[i] is { } type)
            {
                (own[typeIndex[type]] ??= []).Add(i);
            }
        }

        int[] untypedEntries = [.. Enumerable.Range(0, catalog.Length).Where(i => typeOf[i] is null)];
        var byType = new IndexedList[types.Length];
        for (int t = 0; t < types.Length; t++)
        {
            var merged = new int[own[t].Count + untypedEntries.Length];
            int a = 0, b = 0, k = 0;
            while (a < own[t].Count || b < untypedEntries.Length)
            {
                merged[k++] = b >= untypedEntries.Length || (a < own[t].Count && own[t][a] < untypedEntries[b]) ? own[t][a++] : untypedEntries[b++];
            }

            byType[t] = new IndexedList(merged, ExactName);
        }

        return (types, byType, untyped);
    }
}
