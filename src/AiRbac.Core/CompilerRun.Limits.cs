// Cost accounting: the work of the catalog, lint and binding checks counted up front (saturating arithmetic)
// and refused with limit_exceeded past MaxRoleChecks, MaxPatternPairs or MaxPatternMatchCells, before it is done.

using System.Globalization;
using AiRbac.Diagnostics;
using AiRbac.Patterns;

namespace AiRbac;

internal sealed partial class CompilerRun
{
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
    private const long ComparedCharactersPerCell = Tuning.Compile.ComparedCharactersPerCell;

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
}
