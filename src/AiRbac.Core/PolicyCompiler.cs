using System.Collections.Frozen;
using System.Globalization;
using AiRbac.Diagnostics;
using AiRbac.Model;
using AiRbac.Patterns;

namespace AiRbac;

/// <summary>Validates a <see cref="PolicyDocument"/> and compiles it into an immutable <see cref="CompiledPolicy"/>.</summary>
public static class PolicyCompiler
{
    /// <summary>Validates and compiles a policy. Never throws for policy content: every problem becomes a diagnostic.</summary>
    /// <param name="document">The policy as written.</param>
    /// <param name="options">Compilation options, or <see langword="null"/> for the defaults.</param>
    /// <returns>The compiled policy (when there was no error) and every diagnostic.</returns>
    public static PolicyCompilation Compile(PolicyDocument document, PolicyCompilerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(document);
        return new CompilerRun(document, options ?? new PolicyCompilerOptions()).Run();
    }
}

/// <summary>Options for <see cref="PolicyCompiler.Compile"/>.</summary>
public sealed class PolicyCompilerOptions
{
    /// <summary>The clock used for expiry checks and compile-time lint; <see cref="TimeProvider.System"/> by default.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}

/// <summary>One compilation: validation, then table building, then lint. Cold path; allocates freely.</summary>
internal sealed class CompilerRun
{
    internal static readonly string[] DefaultTiers = ["public", "internal", "confidential", "restricted"];

    // Bit 63 is reserved for tags a request names that the policy never does.
    private const int MaxTags = 63;

    private readonly PolicyDocument doc;
    private readonly PolicyCompilerOptions options;
    private readonly List<PolicyDiagnostic> diagnostics = [];
    private readonly Dictionary<string, int> roleLookup = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> tagBits = new(StringComparer.Ordinal);
    private string[] tiers = DefaultTiers;
    private int defaultTier;

    public CompilerRun(PolicyDocument doc, PolicyCompilerOptions options)
    {
        this.doc = doc;
        this.options = options;
    }

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
        CatalogTypes = [],
        CatalogByType = [],
        CatalogUntyped = new IndexedList([], _ => null),
        DefaultTier = 0,
        Tiers = DefaultTiers,
        TagBits = new Dictionary<string, int>(),
        ExclusiveSets = [],
        NotByOwner = [],
        NotByOwnerByActionId = [],
        RoleLookup = new Dictionary<string, int>(),
        PolicySubjects = new Dictionary<string, PolicySubject>(),
        TimeProvider = TimeProvider.System,
        RoleInfos = [],
    });

    private SourceLocation DocLocation => new(doc.SourceName, 1, 1);

    private void Error(string code, string message, SourceLocation at) => diagnostics.Add(PolicyDiagnostic.Error(code, message, Fix(at)));

    private void Warn(string code, string message, SourceLocation at) => diagnostics.Add(PolicyDiagnostic.Warning(code, message, Fix(at)));

    // Locations written in code carry no source; give them the document's name.
    private SourceLocation Fix(SourceLocation at) => at.Source.Length == 0 && at.Line == 0 ? DocLocation with { Line = 0, Column = 0 } : at;

    public PolicyCompilation Run()
    {
        if (doc.Version.Value != "1")
        {
            Error(DiagnosticCodes.UnsupportedVersion, $"unsupported policy version '{doc.Version.Value}'; the only version is 1", doc.Version.Location);
        }

        CheckCharacters();
        CheckTiers();
        if (doc.Roles.Count == 0)
        {
            Error(DiagnosticCodes.EmptyValue, "'roles' must declare at least one role", DocLocation);
        }

        DeclareRoles();
        var parents = ResolveInheritance();
        var parsedRules = ParseRules();
        var (ceilings, clearances, kinds) = CheckRoleAttributes();
        var catalog = CheckCatalog();
        var exclusive = CheckExclusiveSets(parents);
        var notByOwner = ParsePatterns(doc.Constraints.NotByOwner, "not_by_owner");
        CheckMinHolders();
        var groups = CheckGroups();
        var subjects = CheckSubjects(groups);
        if (tagBits.Count > MaxTags)
        {
            Error(DiagnosticCodes.LimitExceeded, $"the policy names {tagBits.Count} distinct tags; at most {MaxTags} are supported", DocLocation);
        }

        if (diagnostics.Any(d => d.IsError))
        {
            return new PolicyCompilation(null, Sorted());
        }

        var policy = Build(parents, parsedRules, ceilings, clearances, kinds, catalog, exclusive, notByOwner, subjects);
        Lint(policy, parsedRules, catalog, exclusive, subjects);
        return new PolicyCompilation(policy, Sorted());
    }

    // Choice 24: no text of a policy may hold a control or bidirectional formatting character. Names are echoed by
    // lint, diff, check and review; raw, an ESC[8m in a role name would hide the rest of a warning on a terminal.
    private void CheckCharacters()
    {
        foreach (var text in PolicyDocumentText.All(doc))
        {
            int bad = UnsafeText.IndexOfUnsafe(text.Value);
            if (bad >= 0)
            {
                Error(DiagnosticCodes.InvalidValue, $"'{text.Value}' holds a control or bidirectional formatting character ({UnsafeText.Describe(text.Value[bad])}) at position {bad + 1}", text.Location);
            }
        }
    }

    private List<PolicyDiagnostic> Sorted()
        => [.. diagnostics.OrderBy(d => d.Location.Line).ThenBy(d => d.Location.Column)];

    private void CheckTiers()
    {
        if (doc.Sensitivity is { } declared)
        {
            if (declared.Count == 0)
            {
                Error(DiagnosticCodes.EmptyValue, "'sensitivity' must list at least one tier", DocLocation);
            }
            else
            {
                var seen = new HashSet<string>(StringComparer.Ordinal);
                foreach (var tier in declared)
                {
                    if (tier.Value.Length == 0)
                    {
                        Error(DiagnosticCodes.InvalidValue, "a tier name cannot be empty", tier.Location);
                    }
                    else if (!seen.Add(tier.Value))
                    {
                        Error(DiagnosticCodes.DuplicateTier, $"tier '{tier.Value}' is declared twice", tier.Location);
                    }
                }

                tiers = [.. declared.Select(t => t.Value)];
            }
        }

        if (doc.DefaultSensitivity is { } given)
        {
            defaultTier = TierIndex(given, "default_sensitivity");
        }
    }

    private int TierIndex(LocatedString tier, string where)
    {
        int index = Array.IndexOf(tiers, tier.Value);
        if (index < 0)
        {
            Error(DiagnosticCodes.UnknownTier, $"{where}: tier '{tier.Value}' is not declared (tiers: {string.Join(", ", tiers)})", tier.Location);
            return 0;
        }

        return index;
    }

    private void DeclareRoles()
    {
        for (int i = 0; i < doc.Roles.Count; i++)
        {
            var role = doc.Roles[i];
            if (role.Name.Value.Length == 0)
            {
                Error(DiagnosticCodes.InvalidValue, "a role name cannot be empty", role.Name.Location);
            }

            Declare(role.Name, i, "name");
            if (role.Id is { } id && id.Value != role.Name.Value)
            {
                if (id.Value.Length == 0)
                {
                    Error(DiagnosticCodes.InvalidValue, $"role '{role.Name.Value}': the id cannot be empty", id.Location);
                }

                Declare(id, i, "id");
            }
        }
    }

    private void Declare(LocatedString key, int index, string what)
    {
        if (roleLookup.TryGetValue(key.Value, out int other) && other != index)
        {
            Error(DiagnosticCodes.DuplicateRole, $"role {what} '{key.Value}' is already used by role '{doc.Roles[other].Name.Value}' (role names and ids share one namespace)", key.Location);
            return;
        }

        roleLookup[key.Value] = index;
    }

    private bool TryRole(LocatedString reference, string where, out int index, bool warnOnly = false)
    {
        if (roleLookup.TryGetValue(reference.Value, out index))
        {
            return true;
        }

        string hint = NearestRole(reference.Value);
        string message = $"{where} names role '{reference.Value}', which is not declared{hint}";
        if (warnOnly)
        {
            Warn(DiagnosticCodes.BindingUndeclaredRole, message, reference.Location);
        }
        else
        {
            Error(DiagnosticCodes.UndeclaredRole, message, reference.Location);
        }

        return false;
    }

    private string NearestRole(string name)
    {
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (var role in doc.Roles)
        {
            int distance = Levenshtein(name, role.Name.Value);
            if (distance < bestDistance)
            {
                bestDistance = distance;
                best = role.Name.Value;
            }
        }

        return best is not null && bestDistance <= Math.Max(2, name.Length / 3) ? $" (did you mean '{best}'?)" : string.Empty;
    }

    private static int Levenshtein(string a, string b)
    {
        if (Math.Abs(a.Length - b.Length) > 8 || a.Length > 256 || b.Length > 256)
        {
            return int.MaxValue;
        }

        var row = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++)
        {
            row[j] = j;
        }

        for (int i = 1; i <= a.Length; i++)
        {
            int previous = row[0];
            row[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int current = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), previous + (a[i - 1] == b[j - 1] ? 0 : 1));
                previous = current;
            }
        }

        return row[b.Length];
    }

    private int[][] ResolveInheritance()
    {
        var parents = new int[doc.Roles.Count][];
        for (int i = 0; i < doc.Roles.Count; i++)
        {
            var list = new List<int>();
            foreach (var reference in doc.Roles[i].Inherits)
            {
                if (TryRole(reference, $"role '{doc.Roles[i].Name.Value}' inherits", out int parent) && !list.Contains(parent))
                {
                    list.Add(parent);
                }
            }

            parents[i] = [.. list];
        }

        // Cycle detection: iterative depth-first search; a grey node reached again closes a cycle.
        var colour = new byte[parents.Length];
        for (int start = 0; start < parents.Length; start++)
        {
            if (colour[start] != 0)
            {
                continue;
            }

            var stack = new Stack<(int Role, int Next)>();
            stack.Push((start, 0));
            colour[start] = 1;
            while (stack.Count > 0)
            {
                var (role, next) = stack.Pop();
                if (next >= parents[role].Length)
                {
                    colour[role] = 2;
                    continue;
                }

                stack.Push((role, next + 1));
                int parent = parents[role][next];
                if (colour[parent] == 1)
                {
                    var path = stack.Select(f => doc.Roles[f.Role].Name.Value).Reverse().SkipWhile(n => n != doc.Roles[parent].Name.Value).ToList();
                    path.Add(doc.Roles[parent].Name.Value);
                    var at = doc.Roles[role].Inherits.FirstOrDefault(r => roleLookup.TryGetValue(r.Value, out int p) && p == parent);
                    Error(DiagnosticCodes.InheritanceCycle, $"inheritance cycle: {string.Join(" -> ", path)}", at.Location);
                }
                else if (colour[parent] == 0)
                {
                    colour[parent] = 1;
                    stack.Push((parent, 0));
                }
            }
        }

        return parents;
    }

    internal sealed record ParsedRule(Pattern Action, Pattern Resource, string Text, SourceLocation Location);

    private (List<ParsedRule> Allow, List<ParsedRule> Deny)[] ParseRules()
    {
        var result = new (List<ParsedRule>, List<ParsedRule>)[doc.Roles.Count];
        for (int i = 0; i < doc.Roles.Count; i++)
        {
            result[i] = (ParseRuleList(doc.Roles[i].Allow, doc.Roles[i].Name.Value, "allow"), ParseRuleList(doc.Roles[i].Deny, doc.Roles[i].Name.Value, "deny"));
        }

        return result;
    }

    private List<ParsedRule> ParseRuleList(IReadOnlyList<LocatedString> texts, string role, string section)
    {
        var list = new List<ParsedRule>();
        foreach (var text in texts)
        {
            if (!RuleText.TrySplit(text.Value, out string action, out string resource))
            {
                Error(DiagnosticCodes.MalformedRule, $"role '{role}' {section}: '{text.Value}' is not 'ACTION_PATTERN on RESOURCE_PATTERN'", text.Location);
                continue;
            }

            var a = ParsePattern(new LocatedString(action, text.Location), role, section, "action");
            var r = ParsePattern(new LocatedString(resource, text.Location), role, section, "resource");
            if (a is not null && r is not null)
            {
                list.Add(new ParsedRule(a, r, RuleText.Canonical(text.Value, action, resource), text.Location));
            }
        }

        return list;
    }

    private Pattern? ParsePattern(LocatedString text, string where) => ParsePattern(text, where, null, null);

    // The message parts are joined only on error: a policy may hold tens of thousands of patterns.
    private Pattern? ParsePattern(LocatedString text, string where, string? section, string? part)
    {
        if (Pattern.TryParse(text.Value, out var pattern, out string? error))
        {
            return pattern;
        }

        string place = section is null ? where : $"role '{where}' {section}: {part}";
        Error(DiagnosticCodes.InvalidPattern, $"{place} pattern '{text.Value}' is invalid: {error}", text.Location);
        return null;
    }

    private Pattern[] ParsePatterns(IReadOnlyList<LocatedString> texts, string where)
        => [.. texts.Select(t => ParsePattern(t, where)).OfType<Pattern>()];

    private (int[] Ceilings, ulong[] Clearances, byte[] Kinds) CheckRoleAttributes()
    {
        int n = doc.Roles.Count;
        var ceilings = new int[n];
        var clearances = new ulong[n];
        var kinds = new byte[n];
        for (int i = 0; i < n; i++)
        {
            var role = doc.Roles[i];
            string name = role.Name.Value;
            ceilings[i] = role.MaxSensitivity is { } max ? TierIndex(max, $"role '{name}' max_sensitivity") : 0;
            clearances[i] = TagMask(role.Clearances, $"role '{name}' clearances");
            kinds[i] = KindMask(role.Kinds, name);
        }

        return (ceilings, clearances, kinds);
    }

    private ulong TagMask(IReadOnlyList<LocatedString> tags, string where)
    {
        ulong mask = 0;
        foreach (var tag in tags)
        {
            if (tag.Value.Length == 0)
            {
                Error(DiagnosticCodes.InvalidValue, $"{where}: a tag cannot be empty", tag.Location);
                continue;
            }

            if (!tagBits.TryGetValue(tag.Value, out int bit))
            {
                bit = tagBits.Count;
                tagBits.Add(tag.Value, bit);
            }

            mask |= bit < MaxTags ? 1UL << bit : 0;
        }

        return mask;
    }

    private byte KindMask(IReadOnlyList<LocatedString>? kinds, string role)
    {
        if (kinds is null)
        {
            return 0b111;
        }

        if (kinds.Count == 0)
        {
            Error(DiagnosticCodes.InvalidKind, $"role '{role}': 'kinds' cannot be empty (omit it to apply to every kind)", DocLocation);
            return 0;
        }

        byte mask = 0;
        foreach (var kind in kinds)
        {
            if (TryKind(kind, $"role '{role}' kinds", out var parsed))
            {
                mask |= (byte)(1 << (int)parsed);
            }
        }

        return mask;
    }

    private bool TryKind(LocatedString kind, string where, out SubjectKind parsed)
    {
        switch (kind.Value)
        {
            case "user": parsed = SubjectKind.User; return true;
            case "service": parsed = SubjectKind.Service; return true;
            case "agent": parsed = SubjectKind.Agent; return true;
            default:
                parsed = default;
                Error(DiagnosticCodes.InvalidKind, $"{where}: unknown kind '{kind.Value}' (expected user, service or agent)", kind.Location);
                return false;
        }
    }

    private List<CatalogEntry> CheckCatalog()
    {
        var entries = new List<CatalogEntry>();
        foreach (var entry in doc.Resources)
        {
            var pattern = ParsePattern(entry.Match, "resources: match");
            int tier = entry.Sensitivity is { } s ? TierIndex(s, "resources: sensitivity") : defaultTier;
            ulong tags = TagMask(entry.Tags, "resources: tags");
            if (pattern is not null)
            {
                entries.Add(new CatalogEntry(pattern, tier, tags));
            }
        }

        return entries;
    }

    private List<ExclusiveSet> CheckExclusiveSets(int[][] parents)
    {
        var sets = new List<ExclusiveSet>();
        foreach (var set in doc.Constraints.MutuallyExclusive)
        {
            bool ok = true;
            var members = new List<int>();
            if (set.Roles.Count < 2)
            {
                Error(DiagnosticCodes.InvalidExclusiveSet, "a mutually_exclusive list needs at least two roles", set.Location);
                ok = false;
            }

            foreach (var reference in set.Roles)
            {
                if (!TryRole(reference, "mutually_exclusive", out int role))
                {
                    ok = false;
                }
                else if (members.Contains(role))
                {
                    Error(DiagnosticCodes.InvalidExclusiveSet, $"mutually_exclusive names role '{doc.Roles[role].Name.Value}' twice", reference.Location);
                    ok = false;
                }
                else
                {
                    members.Add(role);
                }
            }

            if (ok && !HasCycle() && JoinedThroughInheritance(members, parents) is { } joiner)
            {
                Error(DiagnosticCodes.InvalidExclusiveSet, $"the roles of this mutually_exclusive list are joined through inheritance: role '{doc.Roles[joiner].Name.Value}' holds two of them", set.Location);
                ok = false;
            }

            if (ok)
            {
                sets.Add(new ExclusiveSet([.. members], set.Location));
            }
        }

        return sets;
    }

    private bool HasCycle() => diagnostics.Any(d => d.Code == DiagnosticCodes.InheritanceCycle);

    /// <summary>A role whose inheritance closure holds two members of the list (a member inheriting another counts), or null.</summary>
    private static int? JoinedThroughInheritance(List<int> members, int[][] parents)
    {
        // Walk the reverse graph from each member: count, per role, how many members it reaches.
        var children = new List<int>[parents.Length];
        for (int i = 0; i < parents.Length; i++)
        {
            foreach (int p in parents[i])
            {
                (children[p] ??= []).Add(i);
            }
        }

        var reached = new int[parents.Length];
        foreach (int member in members)
        {
            var seen = new HashSet<int> { member };
            var stack = new Stack<int>([member]);
            while (stack.Count > 0)
            {
                int role = stack.Pop();
                if (++reached[role] >= 2)
                {
                    return role;
                }

                foreach (int child in children[role] ?? [])
                {
                    if (seen.Add(child))
                    {
                        stack.Push(child);
                    }
                }
            }
        }

        return null;
    }

    private void CheckMinHolders()
    {
        foreach (var requirement in doc.Constraints.MinHolders)
        {
            TryRole(requirement.Role, "min_holders", out _);
            if (!int.TryParse(requirement.Count.Value, NumberStyles.None, CultureInfo.InvariantCulture, out _))
            {
                Error(DiagnosticCodes.InvalidValue, $"min_holders: '{requirement.Count.Value}' is not a non-negative whole number", requirement.Count.Location);
            }
        }
    }

    private Dictionary<string, List<PolicyBinding>> CheckGroups()
    {
        var groups = new Dictionary<string, List<PolicyBinding>>(StringComparer.Ordinal);
        foreach (var group in doc.Bindings.Groups)
        {
            groups[group.Name.Value] = [.. group.Roles.Select(b => CheckBinding(b, $"group '{group.Name.Value}'"))];
        }

        return groups;
    }

    private PolicyBinding CheckBinding(RoleBindingDefinition binding, string where)
    {
        TryRole(binding.Role, where, out _, warnOnly: true);
        return new PolicyBinding(binding.Role.Value, CheckScope(binding.Scope, where), CheckExpires(binding.Expires, where), false);
    }

    private string? CheckScope(LocatedString? scope, string where)
    {
        if (scope is { } s && !Scope.IsValid(s.Value))
        {
            Error(DiagnosticCodes.InvalidScope, $"{where}: scope '{s.Value}' must be non-empty segments joined by single '/'", s.Location);
        }

        return scope?.Value;
    }

    private DateTimeOffset? CheckExpires(LocatedString? expires, string where)
    {
        if (expires is not { } e)
        {
            return null;
        }

        if (!Rfc3339.TryParse(e.Value, out var value))
        {
            Error(DiagnosticCodes.InvalidTimestamp, $"{where}: expires '{e.Value}' is not an RFC 3339 date-time with Z or an offset", e.Location);
            return null;
        }

        return value;
    }

    private Dictionary<string, PolicySubject> CheckSubjects(Dictionary<string, List<PolicyBinding>> groups)
    {
        var subjects = new Dictionary<string, PolicySubject>(StringComparer.Ordinal);
        foreach (var subject in doc.Bindings.Subjects)
        {
            string where = $"subject '{subject.Id.Value}'";
            var kind = SubjectKind.User;
            if (subject.Kind is { } k && TryKind(k, where, out var parsed))
            {
                kind = parsed;
            }

            string? scope = CheckScope(subject.Scope, where);
            var expires = CheckExpires(subject.Expires, where);
            var bindings = new List<PolicyBinding>();
            foreach (var binding in subject.Roles)
            {
                bindings.Add(Narrow(CheckBinding(binding, where), scope, expires));
            }

            foreach (var group in subject.Groups)
            {
                if (!groups.TryGetValue(group.Value, out var members))
                {
                    Error(DiagnosticCodes.UndeclaredGroup, $"{where} names group '{group.Value}', which is not declared in bindings.groups", group.Location);
                    continue;
                }

                bindings.AddRange(members.Select(b => Narrow(b, scope, expires)));
            }

            subjects[subject.Id.Value] = new PolicySubject(kind, [.. bindings]);
        }

        return subjects;
    }

    /// <summary>
    /// Applies a subject's own scope and expiry to one of its bindings: the earlier expiry wins, and the deeper of two
    /// nested scopes; two scopes that do not nest can never both hold, so the binding never applies.
    /// </summary>
    private static PolicyBinding Narrow(PolicyBinding binding, string? scope, DateTimeOffset? expires)
    {
        var expiry = binding.Expires is { } a && expires is { } b ? (a < b ? a : b) : binding.Expires ?? expires;
        string? narrowed = binding.Scope;
        bool never = binding.Never;
        if (scope is not null && Scope.IsValid(scope))
        {
            if (narrowed is null || Scope.Covers(narrowed, scope))
            {
                narrowed = scope;
            }
            else if (!Scope.Covers(scope, narrowed))
            {
                never = true;
            }
        }

        return new PolicyBinding(binding.Role, narrowed, expiry, never);
    }

    private CompiledPolicy Build(int[][] parents, (List<ParsedRule> Allow, List<ParsedRule> Deny)[] parsedRules, int[] ceilings,
        ulong[] clearances, byte[] kinds, List<CatalogEntry> catalog, List<ExclusiveSet> exclusive, Pattern[] notByOwner,
        Dictionary<string, PolicySubject> subjects)
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
            foreach (int action in allow.Concat(deny).Where(x => x.ActionId >= 0).Select(x => x.ActionId).Distinct())
            {
                var allowBucket = Emit(allow.Where(x => x.ActionId == action), hashExact: true);
                var denyBucket = Emit(deny.Where(x => x.ActionId == action), hashExact: true);
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

        var actionNames = new string[actionIds.Count];
        foreach (var (name, id) in actionIds)
        {
            actionNames[id] = name;
        }

        var globMatches = new bool[actionGlobs.Count * actionNames.Length];
        for (int g = 0; g < actionGlobs.Count; g++)
        {
            for (int a = 0; a < actionNames.Length; a++)
            {
                globMatches[(g * actionNames.Length) + a] = actionGlobs[g].IsMatch(actionNames[a]);
            }
        }

        var catalogArray = catalog.ToArray();
        var (catalogTypes, catalogByType, catalogUntyped) = IndexCatalogByType(catalogArray);
        var ruleArray = rules.ToArray();
        for (int k = 0; k < ruleArray.Length; k++)
        {
            (ruleArray[k].CatalogEntry, ruleArray[k].CatalogCandidates) = CatalogEntryOf(ruleArray[k].ResourcePattern!, catalogArray);
        }

        var notByOwnerByAction = actionNames.Select(name => notByOwner.Any(p => p.IsMatch(name))).ToArray();

        var infos = new RoleInfo[roleData.Length];
        for (int r = 0; r < infos.Length; r++)
        {
            var role = doc.Roles[r];
            infos[r] = new RoleInfo(
                role.Name.Value,
                role.Id?.Value ?? role.Name.Value,
                role.Description,
                [.. parents[r].Select(p => doc.Roles[p].Name.Value)],
                [.. parsedRules[r].Allow.Select(p => p.Text)],
                [.. parsedRules[r].Deny.Select(p => p.Text)],
                tiers[ceilings[r]],
                [.. role.Clearances.Select(c => c.Value).Distinct(StringComparer.Ordinal)],
                role.Kinds is null ? null : [.. Enum.GetValues<SubjectKind>().Where(k => (kinds[r] & (1 << (int)k)) != 0)],
                role.Name.Location);
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
            CatalogTypes = catalogTypes,
            CatalogByType = catalogByType,
            CatalogUntyped = catalogUntyped,
            DefaultTier = defaultTier,
            Tiers = tiers,
            TagBits = tagBits,
            ExclusiveSets = [.. exclusive],
            NotByOwner = notByOwner,
            NotByOwnerByActionId = notByOwnerByAction,
            RoleLookup = roleLookup,
            PolicySubjects = subjects,
            TimeProvider = options.TimeProvider,
            RoleInfos = infos,
        });

        for (int r = 0; r < infos.Length; r++)
        {
            infos[r].Ancestors = [.. AllAncestors(r, parents).Select(a => infos[a].Name)];
        }

        return policy;
    }

    /// <summary>
    /// Groups catalog entries by the resource type they can match (the text before the first ':' of their literal
    /// prefix). Entries without a fixed type can match any type and join every group; file order is kept within each.
    /// </summary>
    /// <summary>
    /// The catalog entry of every resource a grant or deny matches, when it is the same for all of them: the first entry
    /// that can overlap the rule's pattern, if it also covers it; -1 when none can overlap. Otherwise
    /// <see cref="RuleData.CatalogUnknown"/>, with the entries that can overlap when they are few: only those need trying.
    /// </summary>
    private static (int Entry, int[]? Candidates) CatalogEntryOf(Pattern pattern, CatalogEntry[] catalog)
    {
        if (pattern.IsExact)
        {
            return (Array.FindIndex(catalog, e => e.Pattern.IsMatch(pattern.Text)), null);
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
        var byType = types.Select(t => new IndexedList([.. Enumerable.Range(0, catalog.Length).Where(i => typeOf[i] is null || typeOf[i] == t)], ExactName)).ToArray();
        return (types, byType, untyped);
    }

    internal static IEnumerable<int> AllAncestors(int role, int[][] parents)
    {
        var seen = new HashSet<int>();
        var stack = new Stack<int>(parents[role]);
        while (stack.Count > 0)
        {
            int parent = stack.Pop();
            if (parent != role && seen.Add(parent))
            {
                foreach (int grand in parents[parent])
                {
                    stack.Push(grand);
                }
            }
        }

        return seen.Order();
    }

    private void Lint(CompiledPolicy policy, (List<ParsedRule> Allow, List<ParsedRule> Deny)[] parsedRules, List<CatalogEntry> catalog,
        List<ExclusiveSet> exclusive, Dictionary<string, PolicySubject> subjects)
    {
        bool classifiedExists = defaultTier > 0 || catalog.Any(e => e.Tier > 0 || e.Tags != 0);
        for (int r = 0; r < doc.Roles.Count; r++)
        {
            var role = doc.Roles[r];
            string name = role.Name.Value;
            var (allow, deny) = parsedRules[r];
            foreach (var rule in allow)
            {
                if (rule.Resource.Shape == PatternShape.All && (rule.Action.Shape == PatternShape.All || rule.Action.Text == "*"))
                {
                    Warn(DiagnosticCodes.GrantsEverything, $"role '{name}' grants '{rule.Text}': every action on every resource", rule.Location);
                }

                if (deny.FirstOrDefault(d => PatternCover.Covers(d.Action, rule.Action) && PatternCover.Covers(d.Resource, rule.Resource)) is { } shadow)
                {
                    Warn(DiagnosticCodes.AllowShadowedByDeny, $"role '{name}': allow '{rule.Text}' is fully covered by its deny '{shadow.Text}' and never takes effect", rule.Location);
                }
            }

            if (allow.Count == 0 && role.Inherits.Count == 0)
            {
                Warn(DiagnosticCodes.RoleWithoutGrants, $"role '{name}' grants nothing and inherits nothing", role.Name.Location);
            }

            if (role.MaxSensitivity is null && classifiedExists
                && allow.FirstOrDefault(a => defaultTier > 0 || catalog.Any(e => (e.Tier > 0 || e.Tags != 0) && PatternCover.Overlaps(a.Resource, e.Pattern))) is { } classified)
            {
                Warn(DiagnosticCodes.MissingMaxSensitivity, $"role '{name}' grants '{classified.Text}' on classified resources but has no max_sensitivity, so its ceiling is '{tiers[0]}'", classified.Location);
            }
        }

        LintBindings(policy, exclusive, subjects);
    }

    private void LintBindings(CompiledPolicy policy, List<ExclusiveSet> exclusive, Dictionary<string, PolicySubject> subjects)
    {
        long now = options.TimeProvider.GetUtcNow().UtcTicks;
        var holders = new int[doc.Roles.Count];
        foreach (var definition in doc.Bindings.Subjects)
        {
            if (!subjects.TryGetValue(definition.Id.Value, out var subject))
            {
                continue;
            }

            var held = new SortedSet<int>();
            foreach (var binding in subject.Bindings)
            {
                if (!binding.Never && (binding.Expires is null || binding.Expires.Value.UtcTicks > now) && roleLookup.TryGetValue(binding.Role, out int role))
                {
                    held.UnionWith(policy.Closure(role, subject.Kind));
                }
            }

            foreach (int role in held)
            {
                holders[role]++;
            }

            int[] heldArray = [.. held];
            foreach (var set in exclusive)
            {
                var both = set.Roles.Where(r => Array.BinarySearch(heldArray, r) >= 0).Select(r => doc.Roles[r].Name.Value).ToList();
                if (both.Count >= 2)
                {
                    Warn(DiagnosticCodes.BindingBreaksExclusion, $"subject '{definition.Id.Value}' holds {string.Join(" and ", both.Select(b => $"'{b}'"))}, which are mutually exclusive", definition.Id.Location);
                }
            }
        }

        foreach (var requirement in doc.Constraints.MinHolders)
        {
            if (roleLookup.TryGetValue(requirement.Role.Value, out int role)
                && int.TryParse(requirement.Count.Value, NumberStyles.None, CultureInfo.InvariantCulture, out int count)
                && holders[role] < count)
            {
                Warn(DiagnosticCodes.MinHoldersNotMet, $"min_holders: role '{doc.Roles[role].Name.Value}' needs {count} holders; bindings give it {holders[role]}", requirement.Role.Location);
            }
        }
    }
}
