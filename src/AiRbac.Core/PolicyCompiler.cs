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
    } = 32;

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
    } = 1_000_000;

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
    } = 1_000_000;

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
    } = 500_000;

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
    } = 20_000_000;

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
    } = 20_000_000;

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
    } = 20_000_000;

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
    } = 200_000_000;
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

    // "Did you mean" hints are given for this many undeclared role names; each costs a pass over every role.
    private const int MaxSpellingHints = 100;
    private const long MaxSpellingHintCells = 50_000_000;
    private int hintsGiven;
    private long hintCells;

    // Every role's ancestors (sorted), when inheritance has no cycle and is within the limits.
    private int[][]? ancestors;

    // Every role's inheritance depth (steps up to its furthest ancestor), when inheritance has no cycle.
    private int[] roleDepth = [];

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
        BoundSubjectIds = [],
        TimeProvider = TimeProvider.System,
        RoleInfos = [],
    });

    private SourceLocation DocLocation => new(doc.SourceName, 1, 1);

    // Where a list or mapping was written, when the document says (the YAML loader does); else the start of the policy.
    private SourceLocation At(SourceLocation written) => written.Line > 0 ? written : DocLocation;

    // Past this many errors (and, separately, warnings) one more says the rest were dropped, as the YAML loader does: a
    // hostile policy can hold a problem in each of a million nodes. A dropped error never hides that the policy is
    // invalid: the errors kept, and the final limit_exceeded, refuse it.
    internal const int MaxReportedDiagnostics = 1000;
    private int errorCount;
    private int warningCount;

    private bool HasErrors => errorCount > 0;

    private void Error(string code, string message, SourceLocation at)
    {
        if (errorCount++ < MaxReportedDiagnostics)
        {
            diagnostics.Add(PolicyDiagnostic.Error(code, message, Fix(at)));
        }
        else if (errorCount == MaxReportedDiagnostics + 1)
        {
            diagnostics.Add(PolicyDiagnostic.Error(
                DiagnosticCodes.LimitExceeded,
                string.Create(CultureInfo.InvariantCulture, $"more than {MaxReportedDiagnostics} errors; the rest are not reported"),
                Fix(at)));
        }
    }

    private void Warn(string code, string message, SourceLocation at)
    {
        if (warningCount++ < MaxReportedDiagnostics)
        {
            diagnostics.Add(PolicyDiagnostic.Warning(code, message, Fix(at)));
        }
        else if (warningCount == MaxReportedDiagnostics + 1)
        {
            diagnostics.Add(PolicyDiagnostic.Warning(
                DiagnosticCodes.LimitExceeded,
                string.Create(CultureInfo.InvariantCulture, $"more than {MaxReportedDiagnostics} warnings; the rest are not reported"),
                Fix(at)));
        }
    }

    // Every name or pattern a message quotes goes through this: at most 100 characters of it are kept.
    private static string Q(string text) => DiagnosticText.Clip(text);

    // Locations written in code carry no source; give them the document's name.
    private SourceLocation Fix(SourceLocation at) => at.Source.Length == 0 && at.Line == 0 ? DocLocation with { Line = 0, Column = 0 } : at;

    public PolicyCompilation Run()
    {
        if (doc.Version.Value != "1")
        {
            Error(DiagnosticCodes.UnsupportedVersion, $"unsupported policy version '{Q(doc.Version.Value)}'; the only version is 1", doc.Version.Location);
        }

        CheckCharacters();
        CheckTiers();
        if (doc.Roles.Count == 0)
        {
            Error(DiagnosticCodes.EmptyValue, "'roles' must declare at least one role", At(doc.RolesLocation));
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

        CheckPatternPairs(parsedRules, catalog);
        if (HasErrors)
        {
            return new PolicyCompilation(doc, null, Sorted());
        }

        var policy = Build(parents, parsedRules, ceilings, clearances, kinds, catalog, exclusive, notByOwner, subjects);
        CheckRoleChecks(policy, exclusive, subjects);
        if (HasErrors)
        {
            return new PolicyCompilation(doc, null, Sorted());
        }

        Lint(policy, parsedRules, catalog);
        return new PolicyCompilation(doc, policy, Sorted());
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
                Error(DiagnosticCodes.InvalidValue, $"'{Q(text.Value)}' holds a control or bidirectional formatting character ({UnsafeText.Describe(text.Value[bad])}) at position {bad + 1}", text.Location);
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

    // Bounds of the glob × exact action tables (an optimization; past them, action globs are matched per request).
    internal const long MaxGlobTableEntries = 4_000_000;
    internal const long MaxGlobTableWork = 200_000_000;

    // Cycle messages show at most this many roles of a long cycle: the first ones and the last ones.
    private const int MaxCycleRolesShown = 12;

    private int[][] ResolveInheritance()
    {
        var parents = new int[doc.Roles.Count][];
        var parentRefs = new int[doc.Roles.Count][];
        var distinct = new HashSet<int>();
        for (int i = 0; i < doc.Roles.Count; i++)
        {
            var list = new List<int>();
            var refs = new List<int>();
            distinct.Clear();
            var inherits = doc.Roles[i].Inherits;
            string where = inherits.Count == 0 ? string.Empty : $"role '{Q(doc.Roles[i].Name.Value)}' inherits";
            for (int k = 0; k < inherits.Count; k++)
            {
                if (TryRole(inherits[k], where, out int parent) && distinct.Add(parent))
                {
                    list.Add(parent);
                    refs.Add(k);
                }
            }

            parents[i] = [.. list];
            parentRefs[i] = [.. refs];
        }

        // Cycle detection: iterative depth-first search; a grey node reached again closes a cycle. Roles finish after
        // all their parents, so the finishing order is a topological order (parents first) when there is no cycle.
        var colour = new byte[parents.Length];
        var onPath = new int[parents.Length];
        var pathRoles = new List<int>();
        var pathNext = new List<int>();
        var finished = new List<int>(parents.Length);
        bool cycle = false;
        for (int start = 0; start < parents.Length; start++)
        {
            if (colour[start] != 0)
            {
                continue;
            }

            onPath[start] = 0;
            pathRoles.Add(start);
            pathNext.Add(0);
            colour[start] = 1;
            while (pathRoles.Count > 0)
            {
                int top = pathRoles.Count - 1;
                int role = pathRoles[top];
                int next = pathNext[top];
                if (next >= parents[role].Length)
                {
                    colour[role] = 2;
                    finished.Add(role);
                    pathRoles.RemoveAt(top);
                    pathNext.RemoveAt(top);
                    continue;
                }

                pathNext[top] = next + 1;
                int parent = parents[role][next];
                if (colour[parent] == 1)
                {
                    cycle = true;
                    var at = doc.Roles[role].Inherits[parentRefs[role][next]];
                    Error(DiagnosticCodes.InheritanceCycle, $"inheritance cycle: {CyclePath(pathRoles, onPath[parent], parent)}", at.Location);
                }
                else if (colour[parent] == 0)
                {
                    colour[parent] = 1;
                    onPath[parent] = pathRoles.Count;
                    pathRoles.Add(parent);
                    pathNext.Add(0);
                }
            }
        }

        if (!cycle)
        {
            ancestors = ComputeAncestors(parents, finished);
        }

        return parents;
    }

    /// <summary>The roles of a cycle, from the first role on it back to that role; a long cycle shows its ends only.</summary>
    private string CyclePath(List<int> path, int from, int closing)
    {
        int length = path.Count - from;
        IEnumerable<int> shown = length <= MaxCycleRolesShown
            ? path.Skip(from).Take(length)
            : path.Skip(from).Take(MaxCycleRolesShown / 2);
        var names = shown.Select(r => Q(doc.Roles[r].Name.Value)).ToList();
        if (length > MaxCycleRolesShown)
        {
            names.Add(string.Create(CultureInfo.InvariantCulture, $"... ({length - MaxCycleRolesShown} more roles)"));
            names.AddRange(path.Skip(path.Count - (MaxCycleRolesShown / 2)).Select(r => Q(doc.Roles[r].Name.Value)));
        }

        names.Add(Q(doc.Roles[closing].Name.Value));
        return string.Join(" -> ", names);
    }

    /// <summary>
    /// Every role's ancestors (sorted role indices), each computed once from its parents' in topological order; null
    /// after a <see cref="PolicyCompilerOptions.MaxInheritanceDepth"/> or <see cref="PolicyCompilerOptions.MaxInheritedRoles"/> error.
    /// </summary>
    private int[][]? ComputeAncestors(int[][] parents, List<int> topological)
    {
        var depth = roleDepth = new int[parents.Length];
        bool tooDeep = false;
        foreach (int role in topological)
        {
            foreach (int parent in parents[role])
            {
                depth[role] = Math.Max(depth[role], depth[parent] + 1);
            }

            // Reported once per path: at the roles one step past the limit.
            if (depth[role] == options.MaxInheritanceDepth + 1)
            {
                tooDeep = true;
                Error(DiagnosticCodes.LimitExceeded, string.Create(CultureInfo.InvariantCulture,
                    $"role '{Q(doc.Roles[role].Name.Value)}' is {depth[role]} inheritance steps below its furthest ancestor; at most {options.MaxInheritanceDepth} (MaxInheritanceDepth) are supported"),
                    doc.Roles[role].Name.Location);
            }
        }

        if (tooDeep)
        {
            return null;
        }

        var result = new int[parents.Length][];
        var stamp = new int[parents.Length];
        Array.Fill(stamp, -1);
        long total = 0;
        var list = new List<int>();
        long steps = 0;
        foreach (int role in topological)
        {
            list.Clear();

            // Deepest parents first: a parent already reached as another parent's ancestor brings nothing new, so its
            // own ancestors are skipped. What is left is counted and bounded (MaxInheritanceSteps) as it is done.
            var byDepth = parents[role];
            if (byDepth.Length > 1)
            {
                byDepth = [.. byDepth];
                Array.Sort(byDepth, (a, b) => depth[b].CompareTo(depth[a]));
            }

            foreach (int parent in byDepth)
            {
                steps++;
                if (stamp[parent] == role)
                {
                    continue;
                }

                stamp[parent] = role;
                list.Add(parent);
                steps += result[parent].Length;
                if (steps > options.MaxInheritanceSteps)
                {
                    Error(DiagnosticCodes.LimitExceeded, string.Create(CultureInfo.InvariantCulture,
                        $"computing the roles' inherited roles needs more than {options.MaxInheritanceSteps} steps (MaxInheritanceSteps; per role, each parent and each inherited role of a parent not reached before), reached at role '{Q(doc.Roles[role].Name.Value)}'"),
                        doc.Roles[role].Name.Location);
                    return null;
                }

                foreach (int ancestor in result[parent])
                {
                    if (stamp[ancestor] != role)
                    {
                        stamp[ancestor] = role;
                        list.Add(ancestor);
                    }
                }
            }

            total += list.Count;
            if (total > options.MaxInheritedRoles)
            {
                Error(DiagnosticCodes.LimitExceeded, string.Create(CultureInfo.InvariantCulture,
                    $"the roles inherit more than {options.MaxInheritedRoles} roles in total (MaxInheritedRoles; each role's direct and indirect ancestors, summed over roles), reached at role '{Q(doc.Roles[role].Name.Value)}'"),
                    doc.Roles[role].Name.Location);
                return null;
            }

            int[] sorted = [.. list];
            Array.Sort(sorted);
            result[role] = sorted;
        }

        return result;
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

    private List<ParsedRule> ParseRuleList(IReadOnlyList<LocatedString> texts, string role, string section)
    {
        var list = new List<ParsedRule>();
        foreach (var text in texts)
        {
            if (!RuleText.TrySplit(text.Value, out string action, out string resource))
            {
                Error(DiagnosticCodes.MalformedRule, $"role '{Q(role)}' {section}: '{Q(text.Value)}' is not 'ACTION_PATTERN on RESOURCE_PATTERN'", text.Location);
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

        string place = section is null ? where : $"role '{Q(where)}' {section}: {part}";
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
            BoundSubjectIds = [.. doc.Bindings.Subjects.Select(s => s.Id.Value).Where(subjects.ContainsKey).Distinct(StringComparer.Ordinal)],
            TimeProvider = options.TimeProvider,
            RoleInfos = infos,
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

    private void Lint(CompiledPolicy policy, (List<ParsedRule> Allow, List<ParsedRule> Deny)[] parsedRules, List<CatalogEntry> catalog)
    {
        bool classifiedExists = defaultTier > 0 || catalog.Any(e => e.Tier > 0 || e.Tags != 0);
        for (int r = 0; r < doc.Roles.Count; r++)
        {
            var role = doc.Roles[r];
            string name = role.Name.Value;
            var (allow, deny) = parsedRules[r];
            foreach (var rule in allow)
            {
                if (rule.IsEverything)
                {
                    Warn(DiagnosticCodes.GrantsEverything, $"role '{Q(name)}' grants '{Q(rule.Text)}': every action on every resource", rule.Location);
                }

                if (deny.FirstOrDefault(d => PatternCover.Covers(d.Action, rule.Action) && PatternCover.Covers(d.Resource, rule.Resource)) is { } shadow)
                {
                    Warn(DiagnosticCodes.AllowShadowedByDeny, $"role '{Q(name)}': allow '{Q(rule.Text)}' is fully covered by its deny '{Q(shadow.Text)}' and never takes effect", rule.Location);
                }
            }

            if (allow.Count == 0 && role.Inherits.Count == 0)
            {
                Warn(DiagnosticCodes.RoleWithoutGrants, $"role '{Q(name)}' grants nothing and inherits nothing", role.Name.Location);
            }

            if (role.MaxSensitivity is null && classifiedExists
                && allow.FirstOrDefault(a => defaultTier > 0 || catalog.Any(e => (e.Tier > 0 || e.Tags != 0) && PatternCover.Overlaps(a.Resource, e.Pattern))) is { } classified)
            {
                Warn(DiagnosticCodes.MissingMaxSensitivity, $"role '{Q(name)}' grants '{Q(classified.Text)}' on classified resources but has no max_sensitivity, so its ceiling is '{Q(tiers[0])}'", classified.Location);
            }
        }

        LintBindings(policy);
    }

    /// <summary>Whether lint counts a policy binding: it can apply, has not expired at compile time, and names a declared role.</summary>
    private bool IsActive(PolicyBinding binding, long now, out int role)
    {
        role = -1;
        return !binding.Never && (binding.Expires is null || binding.Expires.Value.UtcTicks > now) && roleLookup.TryGetValue(binding.Role, out role);
    }

    /// <summary>For each role, the indices of the mutually_exclusive lists naming it (null when none).</summary>
    private List<int>?[] SetsOfRoles(List<ExclusiveSet> exclusive)
    {
        var setsOf = new List<int>?[doc.Roles.Count];
        for (int s = 0; s < exclusive.Count; s++)
        {
            foreach (int role in exclusive[s].Roles)
            {
                (setsOf[role] ??= []).Add(s);
            }
        }

        return setsOf;
    }

    /// <summary>
    /// Refuses, before any of it is done, binding lint whose role checks exceed <see cref="PolicyCompilerOptions.MaxRoleChecks"/>:
    /// per subject binding, the roles it makes effective, each weighted by one plus the mutually_exclusive lists naming
    /// it, times the scopes the subject's roles are checked in (no scope, and each distinct binding scope).
    /// </summary>
    private void CheckRoleChecks(CompiledPolicy policy, List<ExclusiveSet> exclusive, Dictionary<string, PolicySubject> subjects)
    {
        long now = options.TimeProvider.GetUtcNow().UtcTicks;
        var setsOf = SetsOfRoles(exclusive);
        var weights = new Dictionary<int, long>();
        var scopes = new HashSet<string>(StringComparer.Ordinal);
        long checks = 0;
        foreach (var definition in doc.Bindings.Subjects)
        {
            if (!subjects.TryGetValue(definition.Id.Value, out var subject))
            {
                continue;
            }

            long weightOfSubject = 0;
            scopes.Clear();
            foreach (var binding in subject.Bindings)
            {
                if (!IsActive(binding, now, out int role))
                {
                    continue;
                }

                if (binding.Scope is { } scope)
                {
                    scopes.Add(scope);
                }

                int key = (role * 4) + (int)subject.Kind;
                if (!weights.TryGetValue(key, out long weight))
                {
                    weight = policy.Closure(role, subject.Kind).Sum(r => 1L + (setsOf[r]?.Count ?? 0));
                    weights.Add(key, weight);
                }

                weightOfSubject = SaturatingAdd(weightOfSubject, weight);
            }

            checks = SaturatingAdd(checks, SaturatingMultiply(weightOfSubject, scopes.Count + 1L));
            if (checks > options.MaxRoleChecks)
            {
                Error(DiagnosticCodes.LimitExceeded, string.Create(CultureInfo.InvariantCulture,
                    $"checking the subjects' bindings needs more than {options.MaxRoleChecks} role checks (MaxRoleChecks; per binding, the roles it makes effective, inherited ones included, each once plus once per mutually_exclusive list naming it, times the distinct binding scopes of the subject plus one), reached at subject '{Q(definition.Id.Value)}'"),
                    definition.Id.Location);
                return;
            }
        }
    }

    /// <summary>
    /// Refuses, before any of it is done, catalog and lint work whose pattern comparisons exceed
    /// <see cref="PolicyCompilerOptions.MaxPatternPairs"/>.
    /// </summary>
    private void CheckPatternPairs((List<ParsedRule> Allow, List<ParsedRule> Deny)[] parsedRules, List<CatalogEntry> catalog)
    {
        long rules = 0, unclassifiedGrants = 0, shadow = 0;
        MatchSides ruleSides = default, unclassifiedSides = default, catalogSides = default, classifiedSides = default;
        long cells = 0, compared = 0;
        var ruleLengths = new List<int>();
        var unclassifiedLengths = new List<int>();
        for (int r = 0; r < parsedRules.Length; r++)
        {
            var (allow, deny) = parsedRules[r];
            rules += allow.Count + deny.Count;
            shadow += (long)allow.Count * deny.Count;
            if (deny.Count > 0 && allow.Count > 0)
            {
                // Shadowing lint: each grant's action and resource against each deny's.
                compared = SaturatingAdd(compared, SaturatingAdd(
                    ShorterLengths([.. allow.Select(p => p.Action.Literal.Length)], [.. deny.Select(p => p.Action.Literal.Length)]),
                    ShorterLengths([.. allow.Select(p => p.Resource.Literal.Length)], [.. deny.Select(p => p.Resource.Literal.Length)])));
            }

            MatchSides allowActions = default, allowResources = default, denyActions = default, denyResources = default;
            foreach (var rule in allow)
            {
                allowActions.Add(rule.Action);
                allowResources.Add(rule.Resource);
                ruleSides.Add(rule.Resource);
                ruleLengths.Add(rule.Resource.Literal.Length);
            }

            foreach (var rule in deny)
            {
                denyActions.Add(rule.Action);
                denyResources.Add(rule.Resource);
                ruleSides.Add(rule.Resource);
                ruleLengths.Add(rule.Resource.Literal.Length);
            }

            // Shadowing lint: each deny glob against each exact grant, actions and resources.
            cells = SaturatingAdd(cells, SaturatingAdd(MatchSides.GlobsAgainstNames(denyActions, allowActions), MatchSides.GlobsAgainstNames(denyResources, allowResources)));
            if (doc.Roles[r].MaxSensitivity is null)
            {
                unclassifiedGrants += allow.Count;
                unclassifiedSides.Add(allowResources);
                unclassifiedLengths.AddRange(allow.Select(p => p.Resource.Literal.Length));
            }
        }

        long classified = defaultTier > 0 ? 0 : catalog.Count(e => e.Tier > 0 || e.Tags != 0);
        long typed = catalog.Count(e => e.Pattern.Literal.Contains(':', StringComparison.Ordinal));
        long types = catalog.Select(e => e.Pattern.Literal.IndexOf(':', StringComparison.Ordinal) is int c and >= 0 ? e.Pattern.Literal[..c] : null)
            .OfType<string>().Distinct(StringComparer.Ordinal).LongCount();
        long pairs = (rules * catalog.Count) + (unclassifiedGrants * classified) + shadow + (types * (catalog.Count - typed));
        if (pairs > options.MaxPatternPairs)
        {
            Error(DiagnosticCodes.LimitExceeded, string.Create(CultureInfo.InvariantCulture,
                $"checking the rules against the catalog and each other needs {pairs} pattern comparisons; at most {options.MaxPatternPairs} (MaxPatternPairs): {rules} rules x {catalog.Count} catalog entries, {unclassifiedGrants} grants without max_sensitivity x {classified} classified entries, {shadow} grant x deny pairs within roles, {types} resource types x {catalog.Count - typed} untyped entries"),
                DocLocation);
            return;
        }

        foreach (var entry in catalog)
        {
            catalogSides.Add(entry.Pattern);
            if (defaultTier == 0 && (entry.Tier > 0 || entry.Tags != 0))
            {
                classifiedSides.Add(entry.Pattern);
            }
        }

        cells = SaturatingAdd(cells, SaturatingAdd(MatchSides.Both(ruleSides, catalogSides), MatchSides.Both(unclassifiedSides, classifiedSides)));

        // Every other comparison is a prefix check of at most the shorter literal prefix (an exact name's whole text), or
        // an equality check told apart by hash before any character is read (PatternCover).
        int[] catalogLengths = [.. catalog.Select(e => e.Pattern.Literal.Length)];
        int[] classifiedLengths = defaultTier > 0 ? [] : [.. catalog.Where(e => e.Tier > 0 || e.Tags != 0).Select(e => e.Pattern.Literal.Length)];
        compared = SaturatingAdd(compared, SaturatingAdd(
            ShorterLengths([.. ruleLengths], catalogLengths), ShorterLengths([.. unclassifiedLengths], classifiedLengths)));
        cells = SaturatingAdd(cells, compared / ComparedCharactersPerCell);
        if (cells > options.MaxPatternMatchCells)
        {
            Error(DiagnosticCodes.LimitExceeded, string.Create(CultureInfo.InvariantCulture,
                $"checking the rules against the catalog and each other needs {cells} glob matching cells; at most {options.MaxPatternMatchCells} (MaxPatternMatchCells; per general glob matched against an exact name, the glob's length plus tokens plus one, times the name's length plus one; per other pattern comparison, one cell per {ComparedCharactersPerCell} characters of the shorter literal prefix plus one)"),
                DocLocation);
        }
    }

    /// <summary>
    /// The characters compared by prefix and equality checks that count as one matching cell: those checks compare
    /// whole vectors of characters at a time, a simulation cell is several dependent steps.
    /// </summary>
    private const long ComparedCharactersPerCell = 16;

    /// <summary>
    /// The sum, over every pair of one length of <paramref name="a"/> and one of <paramref name="b"/>, of the shorter
    /// length plus one: what comparing every pair costs when each comparison stops within the shorter literal prefix. Computed
    /// by sorting, in O((a + b) log b), never pair by pair.
    /// </summary>
    internal static long ShorterLengths(int[] a, int[] b)
    {
        if (a.Length == 0 || b.Length == 0)
        {
            return 0;
        }

        Array.Sort(b);
        var below = new long[b.Length + 1]; // below[k]: the sum of the k shortest lengths of b
        for (int k = 0; k < b.Length; k++)
        {
            below[k + 1] = below[k] + b[k];
        }

        long total = 0;
        foreach (int length in a)
        {
            // The lengths of b before k are at most this one and count themselves; the rest count this one (ties either way).
            int k = Array.BinarySearch(b, length);
            k = k < 0 ? ~k : k;
            total = SaturatingAdd(total, SaturatingAdd(SaturatingAdd(below[k], SaturatingMultiply(length, b.Length - k)), b.Length));
        }

        return total;
    }

    /// <summary>
    /// What matching a glob costs per position of a text: one step per token, and a literal token compares its
    /// characters at each position it is tried (see <see cref="Pattern.MatchGeneral"/>). At least the text length plus one.
    /// </summary>
    internal static long MatchWeight(Pattern glob) => (long)glob.Text.Length + glob.Tokens.Length + 1;

    internal static long SaturatingAdd(long a, long b) => a > long.MaxValue - b ? long.MaxValue : a + b;

    internal static long SaturatingMultiply(long a, long b)
    {
        long high = Math.BigMul(a, b, out long low);
        return high != 0 || low < 0 ? long.MaxValue : low;
    }

    /// <summary>
    /// The sides of a set of pattern comparisons, summed up front: general globs by <see cref="MatchWeight"/> and exact
    /// names by length plus one. Only a general glob against an exact name runs the position simulation; every other
    /// comparison is a prefix or equality check, linear in the shorter side.
    /// </summary>
    private struct MatchSides
    {
        public long Globs;
        public long Names;

        public void Add(Pattern pattern)
        {
            if (pattern.Shape == PatternShape.General)
            {
                Globs = SaturatingAdd(Globs, MatchWeight(pattern));
            }
            else if (pattern.IsExact)
            {
                Names = SaturatingAdd(Names, pattern.Text.Length + 1L);
            }
        }

        public void Add(MatchSides other)
        {
            Globs = SaturatingAdd(Globs, other.Globs);
            Names = SaturatingAdd(Names, other.Names);
        }

        public static long GlobsAgainstNames(MatchSides globs, MatchSides names) => SaturatingMultiply(globs.Globs, names.Names);

        public static long Both(MatchSides a, MatchSides b) => SaturatingAdd(GlobsAgainstNames(a, b), GlobsAgainstNames(b, a));
    }

    /// <summary>
    /// Separation of duties and min_holders over the policy's bindings, asked of the compiled policy (the same
    /// effective roles as step 3 of the decision steps: kinds, scopes and expiry applied at compile time).
    /// </summary>
    private void LintBindings(CompiledPolicy policy)
    {
        var at = options.TimeProvider.GetUtcNow();
        var holders = new int[doc.Roles.Count];
        foreach (var definition in doc.Bindings.Subjects)
        {
            var (holdings, breaches) = policy.HoldingsAndBreaches(new Subject(definition.Id.Value), at);
            foreach (var holding in holdings)
            {
                holders[roleLookup[holding.Role.Id]]++;
            }

            foreach (var breach in breaches)
            {
                string where = breach.Scope is null ? string.Empty : $" in scope '{Q(breach.Scope)}'";
                Warn(DiagnosticCodes.BindingBreaksExclusion, $"subject '{Q(definition.Id.Value)}' holds {string.Join(" and ", breach.Held.Select(r => $"'{Q(r.Name)}'"))}{where}, which are mutually exclusive", definition.Id.Location);
            }
        }

        foreach (var requirement in doc.Constraints.MinHolders)
        {
            if (roleLookup.TryGetValue(requirement.Role.Value, out int role)
                && int.TryParse(requirement.Count.Value, NumberStyles.None, CultureInfo.InvariantCulture, out int count)
                && holders[role] < count)
            {
                Warn(DiagnosticCodes.MinHoldersNotMet, $"min_holders: role '{Q(doc.Roles[role].Name.Value)}' needs {count} holders; bindings give it {holders[role]}", requirement.Role.Location);
            }
        }
    }
}
