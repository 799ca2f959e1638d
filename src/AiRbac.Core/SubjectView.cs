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
internal readonly struct SubjectView(ViewRun[] runs, ViewRule[] rules, char[] chars)
{
    // Bounds that keep a view small and its scans short; a role set beyond them is decided role by role instead.
    internal const int MaxRuns = 32;
    internal const int MaxRules = 256;

    /// <summary>One run per action a rule names exactly; the last run (action -1) serves every other action. Null for no view.</summary>
    public ViewRun[]? Runs { get; } = runs;

    /// <summary>The runs' rules.</summary>
    public ViewRule[] Rules { get; } = rules;

    /// <summary>The exact names and literal prefixes of the rules, side by side.</summary>
    public char[] Chars { get; } = chars;
}

/// <summary>The denies <c>[DenyStart, AllowStart)</c> and grants <c>[AllowStart, End)</c> that apply to one action.</summary>
internal readonly record struct ViewRun(int ActionId, int DenyStart, int AllowStart, int End);

/// <summary>One grant or deny of a view, with its role's ceiling and clearances.</summary>
internal readonly struct ViewRule(int rule, int role, int actionGlob, PatternShape shape, int prefixStart, int prefixLength,
    ulong tail, Pattern? pattern, int catalogEntry, int[]? catalogCandidates, int ceiling, ulong clearances)
{
    // Characters of the prefix packed into Tail.
    public const int TailLength = 4;

    // The prefix's last TailLength characters, when it has that many: most rules that do not match differ there.
    public readonly ulong Tail = tail;
    public readonly ulong Clearances = clearances;
    public readonly Pattern? Pattern = pattern;
    public readonly int[]? CatalogCandidates = catalogCandidates;
    public readonly int Rule = rule;
    public readonly int Role = role;

    // -1 when the run's action is known to match; otherwise the action glob to test (the fallback run only).
    public readonly int ActionGlob = actionGlob;
    public readonly int PrefixStart = prefixStart;
    public readonly int PrefixLength = prefixLength;
    public readonly int CatalogEntry = catalogEntry;
    public readonly int Ceiling = ceiling;
    public readonly PatternShape Shape = shape;
}
