// One compilation of a policy document: the run's state, its diagnostics (with their caps) and the order of the
// passes in Run. The passes live beside it: CompilerRun.Validation.cs (the document checked, names resolved,
// patterns parsed), CompilerRun.Inheritance.cs (cycles and ancestors), CompilerRun.Limits.cs (cost accounting
// against PolicyCompilerOptions before any costly pass), CompilerRun.Tables.cs (the decision tables) and
// CompilerRun.Lint.cs (warnings on a valid policy).

using System.Globalization;
using AiRbac.Diagnostics;
using AiRbac.Model;

namespace AiRbac;

/// <summary>One compilation: validation, then table building, then lint. Cold path; allocates freely.</summary>
internal sealed partial class CompilerRun
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

    private SourceLocation DocLocation => new(doc.SourceName, 1, 1);

    // Where a list or mapping was written, when the document says (the YAML loader does); else the start of the policy.
    private SourceLocation At(SourceLocation written) => written.Line > 0 ? written : DocLocation;

    // Past this many errors (and, separately, warnings) one more says the rest were dropped, as the YAML loader does: a
    // hostile policy can hold a problem in each of a million nodes. A dropped error never hides that the policy is
    // invalid: the errors kept, and the final limit_exceeded, refuse it.
    internal const int MaxReportedDiagnostics = Tuning.Compile.MaxReportedDiagnostics;
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
        if (doc.Version.Value is not ("1" or "2"))
        {
            Error(DiagnosticCodes.UnsupportedVersion, $"unsupported policy version '{Q(doc.Version.Value)}'; the versions are 1 and 2", doc.Version.Location);
        }

        CheckVersionFeatures();

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
        var (contextKeys, contextTypes) = CheckContextKeys();
        var conditions = CheckConditions(contextKeys, contextTypes);
        var breakGlass = CheckBreakGlass();
        var approvals = CheckApprovals();
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

        var gates = new GateTables(contextKeys, contextTypes, conditions, breakGlass, approvals);
        var policy = Build(parents, parsedRules, ceilings, clearances, kinds, catalog, exclusive, notByOwner, subjects, gates);
        CheckRoleChecks(policy, exclusive, subjects);
        if (HasErrors)
        {
            return new PolicyCompilation(doc, null, Sorted());
        }

        Lint(policy, parsedRules, catalog);
        LintApprovals(policy);
        return new PolicyCompilation(doc, policy, Sorted());
    }

    private List<PolicyDiagnostic> Sorted()
        => [.. diagnostics.OrderBy(d => d.Location.Line).ThenBy(d => d.Location.Column)];
}
