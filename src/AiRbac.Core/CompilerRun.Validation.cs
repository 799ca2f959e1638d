// Validation of the document: characters, tiers, role names and references (with "did you mean"), rules and
// patterns parsed, role attributes, catalog, mutually_exclusive lists, min_holders, groups and subjects. Errors only;
// what it parses is handed on to the table build.

using System.Globalization;
using AiRbac.Diagnostics;
using AiRbac.Model;
using AiRbac.Patterns;

namespace AiRbac;

internal sealed partial class CompilerRun
{
    // "Did you mean" hints are given for this many undeclared role names; each costs a pass over every role.
    private const int MaxSpellingHints = Tuning.Compile.MaxSpellingHints;
    private const long MaxSpellingHintCells = Tuning.Compile.MaxSpellingHintCells;
    private int hintsGiven;
    private long hintCells;

    // Choice 24: no text of a policy may hold a control or bidirectional formatting character. Names are echoed by
    // lint, diff, check and review; raw, an ESC[8m in a role name would hide the rest of a warning on a terminal.
    private void CheckCharacters()
    {
        foreach (var text in PolicyDocumentText.All(doc))
        {
            int bad = UnsafeText.IndexOfUnsafe(text.Value);
            if (bad >= 0)
            {
                Error(DiagnosticCodes.InvalidValue, $"'{Q(text.Value)}' holds a control or bidirectional formatting character ({UnsafeText.Describe(text.Value[bad])}) at position {bad + 1}", text.Location);
            }
        }
    }

    private void CheckTiers()
    {
        if (doc.Sensitivity is { } declared)
        {
            if (declared.Count == 0)
            {
                Error(DiagnosticCodes.EmptyValue, "'sensitivity' must list at least one tier", At(doc.SensitivityLocation));
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
                        Error(DiagnosticCodes.DuplicateTier, $"tier '{Q(tier.Value)}' is declared twice", tier.Location);
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

    // Tier names by index, built on first use (a policy may declare many tiers and name them many times).
    private Dictionary<string, int>? tierLookup;

    // An unknown tier's error lists the declared tiers, at most this many of them.
    private const int MaxTiersShown = 10;

    // The declared tiers an unknown tier's error lists, the same for every such error.
    private string? tiersShown;

    private int TierIndex(LocatedString tier, string where)
    {
        if (tierLookup is null)
        {
            tierLookup = new Dictionary<string, int>(StringComparer.Ordinal);
            for (int i = tiers.Length - 1; i >= 0; i--)
            {
                tierLookup[tiers[i]] = i;
            }
        }

        if (!tierLookup.TryGetValue(tier.Value, out int index))
        {
            tiersShown ??= string.Join(", ", tiers.Take(MaxTiersShown).Select(Q))
                + (tiers.Length > MaxTiersShown ? string.Create(CultureInfo.InvariantCulture, $", ... ({tiers.Length - MaxTiersShown} more)") : string.Empty);
            Error(DiagnosticCodes.UnknownTier, $"{where}: tier '{Q(tier.Value)}' is not declared (tiers: {tiersShown})", tier.Location);
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
                    Error(DiagnosticCodes.InvalidValue, $"role '{Q(role.Name.Value)}': the id cannot be empty", id.Location);
                }

                Declare(id, i, "id");
            }
        }
    }

    private void Declare(LocatedString key, int index, string what)
    {
        if (roleLookup.TryGetValue(key.Value, out int other) && other != index)
        {
            Error(DiagnosticCodes.DuplicateRole, $"role {what} '{Q(key.Value)}' is already used by role '{Q(doc.Roles[other].Name.Value)}' (role names and ids share one namespace)", key.Location);
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
        string message = $"{where} names role '{Q(reference.Value)}', which is not declared{hint}";
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
        // Each hint compares the name with every role: only the first few undeclared names get one.
        if (++hintsGiven > MaxSpellingHints)
        {
            return string.Empty;
        }

        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (var role in doc.Roles)
        {
            // Long names cost length × length each: the hints together compare at most MaxSpellingHintCells characters.
            hintCells += (long)(name.Length + 1) * (role.Name.Value.Length + 1);
            if (hintCells > MaxSpellingHintCells)
            {
                return string.Empty;
            }

            int distance = Levenshtein(name, role.Name.Value);
            if (distance < bestDistance)
            {
                bestDistance = distance;
                best = role.Name.Value;
            }
        }

        return best is not null && bestDistance <= Math.Max(2, name.Length / 3) ? $" (did you mean '{Q(best)}'?)" : string.Empty;
    }

    internal static int Levenshtein(string a, string b)
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

    internal sealed record ParsedRule(Pattern Action, Pattern Resource, string Text, SourceLocation Location)
    {
        /// <summary>Whether the rule names every action on every resource.</summary>
        public bool IsEverything => RuleText.IsEverything(Action.Text, Resource.Text);

        public RuleInfo ToInfo(string role, RuleEffect effect) => new(role, effect, Action.Text, Resource.Text, Text, Location, IsEverything);
    }

    private (List<ParsedRule> Allow, List<ParsedRule> Deny)[] ParseRules()
    {
        var result = new (List<ParsedRule>, List<ParsedRule>)[doc.Roles.Count];
        long total = 0;
        for (int i = 0; i < doc.Roles.Count; i++)
        {
            var role = doc.Roles[i];
            if (total + role.Allow.Count + role.Deny.Count > options.MaxRules)
            {
                // Refused before any rule is parsed: parsing them is what costs the memory.
                var at = (int)(options.MaxRules - total) < role.Allow.Count ? role.Allow[(int)(options.MaxRules - total)] : role.Deny[(int)(options.MaxRules - total - role.Allow.Count)];
                Error(DiagnosticCodes.LimitExceeded, $"the roles declare more than {options.MaxRules} rules (allow and deny entries; MaxRules), reached at role '{Q(role.Name.Value)}'", at.Location);
                for (int j = 0; j < result.Length; j++)
                {
                    result[j] = ([], []);
                }

                return result;
            }

            total += role.Allow.Count + role.Deny.Count;
        }

        for (int i = 0; i < doc.Roles.Count; i++)
        {
            result[i] = (ParseRuleList(doc.Roles[i].Allow, doc.Roles[i].Name.Value, "allow"), ParseRuleList(doc.Roles[i].Deny, doc.Roles[i].Name.Value, "deny"));
        }

        return result;
    }

    private List<ParsedRule> ParseRuleList(IReadOnlyList<LocatedString> texts, string role, string section, string owner = "role")
    {
        var list = new List<ParsedRule>();
        foreach (var text in texts)
        {
            if (!RuleText.TrySplit(text.Value, out string action, out string resource))
            {
                Error(DiagnosticCodes.MalformedRule, $"{owner} '{Q(role)}' {section}: '{Q(text.Value)}' is not 'ACTION_PATTERN on RESOURCE_PATTERN'", text.Location);
                continue;
            }

            var a = ParsePattern(new LocatedString(action, text.Location), role, section, "action", owner);
            var r = ParsePattern(new LocatedString(resource, text.Location), role, section, "resource", owner);
            if (a is not null && r is not null)
            {
                list.Add(new ParsedRule(a, r, RuleText.Canonical(text.Value, action, resource), text.Location));
            }
        }

        return list;
    }

    private Pattern? ParsePattern(LocatedString text, string where) => ParsePattern(text, where, null, null);

    // The message parts are joined only on error: a policy may hold tens of thousands of patterns.
    private Pattern? ParsePattern(LocatedString text, string where, string? section, string? part, string owner = "role")
    {
        if (Pattern.TryParse(text.Value, out var pattern, out string? error))
        {
            return pattern;
        }

        string place = section is null ? where : $"{owner} '{Q(where)}' {section}: {part}";
        Error(DiagnosticCodes.InvalidPattern, $"{place} pattern '{Q(text.Value)}' is invalid: {error}", text.Location);
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
            ceilings[i] = role.MaxSensitivity is { } max ? TierIndex(max, $"role '{Q(name)}' max_sensitivity") : 0;
            clearances[i] = TagMask(role.Clearances, $"role '{Q(name)}' clearances");
            kinds[i] = KindMask(role.Kinds, name, role.KindsLocation);
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

    private byte KindMask(IReadOnlyList<LocatedString>? kinds, string role, SourceLocation written)
    {
        if (kinds is null)
        {
            return 0b111;
        }

        if (kinds.Count == 0)
        {
            Error(DiagnosticCodes.InvalidKind, $"role '{Q(role)}': 'kinds' cannot be empty (omit it to apply to every kind)", At(written));
            return 0;
        }

        byte mask = 0;
        foreach (var kind in kinds)
        {
            if (TryKind(kind, $"role '{Q(role)}' kinds", out var parsed))
            {
                mask |= (byte)(1 << (int)parsed);
            }
        }

        return mask;
    }

    private bool TryKind(LocatedString kind, string where, out SubjectKind parsed)
    {
        if (SubjectKinds.TryParse(kind.Value, out parsed))
        {
            return true;
        }

        Error(DiagnosticCodes.InvalidKind, $"{where}: unknown kind '{Q(kind.Value)}' (expected user, service or agent)", kind.Location);
        return false;
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
        var memberSets = new List<List<int>>();
        var seen = new HashSet<int>();
        foreach (var set in doc.Constraints.MutuallyExclusive)
        {
            bool ok = true;
            var members = new List<int>();
            seen.Clear();
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
                else if (!seen.Add(role))
                {
                    Error(DiagnosticCodes.InvalidExclusiveSet, $"mutually_exclusive names role '{Q(doc.Roles[role].Name.Value)}' twice", reference.Location);
                    ok = false;
                }
                else
                {
                    members.Add(role);
                }
            }

            memberSets.Add(ok ? members : []);
        }

        // The join check walks down from every member: bounded by MaxRoleChecks, counted before any walk. Without
        // ancestors (a cycle, or an inheritance limit) there is nothing to check: the policy is refused already.
        int[]? descendants = null;
        if (ancestors is not null)
        {
            descendants = new int[parents.Length];
            foreach (var list in ancestors)
            {
                foreach (int ancestor in list)
                {
                    descendants[ancestor]++;
                }
            }

            long checks = 0;
            foreach (var members in memberSets)
            {
                foreach (int member in members)
                {
                    checks += descendants[member] + 1;
                }
            }

            if (checks > options.MaxRoleChecks)
            {
                Error(DiagnosticCodes.LimitExceeded, string.Create(CultureInfo.InvariantCulture,
                    $"checking the mutually_exclusive lists for roles joined through inheritance needs {checks} role checks (their roles and the roles inheriting them); at most {options.MaxRoleChecks} (MaxRoleChecks)"),
                    doc.Constraints.MutuallyExclusive[0].Location);
                descendants = null;
            }
        }

        List<int>[]? children = null;
        for (int i = 0; i < memberSets.Count; i++)
        {
            var set = doc.Constraints.MutuallyExclusive[i];
            var members = memberSets[i];
            if (members.Count == 0)
            {
                continue;
            }

            if (descendants is not null && JoinedThroughInheritance(members, children ??= Children(parents)) is { } joiner)
            {
                Error(DiagnosticCodes.InvalidExclusiveSet, $"the roles of this mutually_exclusive list are joined through inheritance: role '{Q(doc.Roles[joiner].Name.Value)}' holds two of them", set.Location);
                continue;
            }

            sets.Add(new ExclusiveSet([.. members], set.Location));
        }

        return sets;
    }

    private static List<int>[] Children(int[][] parents)
    {
        var children = new List<int>[parents.Length];
        for (int i = 0; i < parents.Length; i++)
        {
            foreach (int p in parents[i])
            {
                (children[p] ??= []).Add(i);
            }
        }

        return children;
    }

    /// <summary>A role whose inheritance closure holds two members of the list (a member inheriting another counts), or null.</summary>
    private static int? JoinedThroughInheritance(List<int> members, List<int>[] children)
    {
        // Walk the reverse graph from each member: count, per role, how many members it reaches.
        var reached = new Dictionary<int, int>();
        var seen = new HashSet<int>();
        var stack = new Stack<int>();
        foreach (int member in members)
        {
            seen.Clear();
            seen.Add(member);
            stack.Push(member);
            while (stack.Count > 0)
            {
                int role = stack.Pop();
                int count = reached.GetValueOrDefault(role) + 1;
                reached[role] = count;
                if (count >= 2)
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
                Error(DiagnosticCodes.InvalidValue, $"min_holders: '{Q(requirement.Count.Value)}' is not a non-negative whole number", requirement.Count.Location);
            }
        }
    }

    private Dictionary<string, List<PolicyBinding>> CheckGroups()
    {
        var groups = new Dictionary<string, List<PolicyBinding>>(StringComparer.Ordinal);
        foreach (var group in doc.Bindings.Groups)
        {
            string where = $"group '{Q(group.Name.Value)}'";
            groups[group.Name.Value] = [.. group.Roles.Select(b => CheckBinding(b, where))];
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
            Error(DiagnosticCodes.InvalidScope, $"{where}: scope '{Q(s.Value)}' must be non-empty segments joined by single '/'", s.Location);
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
            Error(DiagnosticCodes.InvalidTimestamp, $"{where}: expires '{Q(e.Value)}' is not an RFC 3339 date-time with Z or an offset", e.Location);
            return null;
        }

        return value;
    }

    private Dictionary<string, PolicySubject> CheckSubjects(Dictionary<string, List<PolicyBinding>> groups)
    {
        var subjects = new Dictionary<string, PolicySubject>(StringComparer.Ordinal);
        long expanded = 0;
        bool tooMany = false;
        foreach (var subject in doc.Bindings.Subjects)
        {
            string where = $"subject '{Q(subject.Id.Value)}'";
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

            expanded += subject.Roles.Count;
            CheckExpanded(subject);
            foreach (var group in subject.Groups)
            {
                if (!groups.TryGetValue(group.Value, out var members))
                {
                    Error(DiagnosticCodes.UndeclaredGroup, $"{where} names group '{Q(group.Value)}', which is not declared in bindings.groups", group.Location);
                    continue;
                }

                expanded += members.Count;
                CheckExpanded(subject);
                if (!tooMany)
                {
                    bindings.AddRange(members.Select(b => Narrow(b, scope, expires)));
                }
            }

            subjects[subject.Id.Value] = new PolicySubject(kind, [.. bindings]);
        }

        return subjects;

        void CheckExpanded(SubjectDefinition subject)
        {
            if (expanded > options.MaxExpandedBindings && !tooMany)
            {
                tooMany = true;
                Error(DiagnosticCodes.LimitExceeded, string.Create(CultureInfo.InvariantCulture,
                    $"the subjects' role bindings, groups expanded, number more than {options.MaxExpandedBindings} (MaxExpandedBindings), reached at subject '{Q(subject.Id.Value)}'"),
                    subject.Id.Location);
            }
        }
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
}
