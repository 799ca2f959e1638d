using AiRbac.Patterns;

namespace AiRbac;

/// <summary>
/// The decision table of one set of effective roles: for each action the roles name, their denies and their grants
/// merged into two runs in tie order (roles in file order, then rules in file order), with what matching and judging
/// a rule needs stored inline. A subject whose roles are unscoped and permanent is decided from its view alone:
/// one scan of a few adjacent entries, however many roles the policy declares. Views are built when a subject is
/// resolved and shared by every subject with the same effective roles. A struct, so that its arrays are read straight
/// from the resolution that holds it: one dependent load fewer per request.
/// </summary>
internal readonly struct SubjectView(ViewRun[] runs, ViewRule[] rules, ViewRuleInfo[] infos, char[] chars)
{
    // Bounds that keep a view small and its scans short; a role set beyond them is decided role by role instead.
    internal const int MaxRuns = 32;
    internal const int MaxRules = 256;
    internal const int MaxChars = 16_384;

    /// <summary>One run per action a rule names exactly; the last run (action -1) serves every other action. Null for no view.</summary>
    public ViewRun[]? Runs { get; } = runs;

    /// <summary>What the scans read of each rule: a few adjacent entries per request.</summary>
    public ViewRule[] Rules { get; } = rules;

    /// <summary>What only a matching rule needs, at the same index as in <see cref="Rules"/>.</summary>
    public ViewRuleInfo[] Infos { get; } = infos;

    /// <summary>The exact names and literal prefixes of the rules, side by side.</summary>
    public char[] Chars { get; } = chars;

    /// <summary>About how many bytes the view holds (0 for no view).</summary>
    public long Bytes => Runs is null ? 0
        : (Runs.Length * 16L) + (Rules.Length * (24L + 48L)) + (Chars.Length * (long)sizeof(char));
}

/// <summary>The denies <c>[DenyStart, AllowStart)</c> and grants <c>[AllowStart, End)</c> that apply to one action.</summary>
internal readonly record struct ViewRun(int ActionId, int DenyStart, int AllowStart, int End);

/// <summary>
/// The part of a view rule that the scans read: the resource matcher and the role. Kept to 24 bytes so that one
/// request's rules share few cache lines (with 10,000 roles, most views are not in the cache).
/// </summary>
internal readonly struct ViewRule(int role, PatternShape shape, bool testAction, int prefixStart, int prefixLength, ulong tail)
{
    // Characters of the prefix packed into Tail.
    public const int TailLength = 4;

    // The prefix's last TailLength characters, when it has that many: most rules that do not match differ there.
    public readonly ulong Tail = tail;
    public readonly int Role = role;
    public readonly int PrefixStart = prefixStart;
    public readonly int PrefixLength = prefixLength;
    public readonly PatternShape Shape = shape;

    // Only in the fallback run: the rule's action is a glob to test against the request's action.
    public readonly bool TestAction = testAction;
}

/// <summary>The part of a view rule read when it matches (or to match a general pattern or a glob action).</summary>
internal readonly record struct ViewRuleInfo(int Rule, int ActionGlob, Pattern? Pattern, int CatalogEntry, int[]? CatalogCandidates,
    int Ceiling, ulong Clearances);
