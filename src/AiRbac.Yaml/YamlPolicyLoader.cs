using AiRbac.Diagnostics;
using AiRbac.Model;
using AiRbac.Yaml.Internal;

namespace AiRbac.Yaml;

/// <summary>
/// Reads a YAML policy file (docs/policy-language.md, section 2) into a <see cref="PolicyDocument"/>, with the source line and column of
/// every value. The loader checks structure: YAML syntax, shapes, unknown, duplicate and required keys, the
/// version and the limits of <see cref="YamlLoadLimits"/>. The meaning of the values is checked by
/// <see cref="PolicyCompiler"/>. When the structure has errors the policy is refused, and the parts that could be read
/// are checked by the compiler too, so that one problem never hides another: the result then lists both kinds of
/// errors. Only a syntax error or a limit stops the checks. Loading never throws for file content: every problem is a
/// diagnostic. Internal: <see cref="YamlPolicy"/> is the one public load path (it loads, then compiles).
/// </summary>
internal static class YamlPolicyLoader
{
    // The one bounded reader of YAML input, naming it "policy" in its messages.
    private static readonly YamlText Policy = new("policy");

    /// <summary>Loads a policy from YAML text.</summary>
    /// <param name="yaml">The YAML text.</param>
    /// <param name="sourceName">The source name used in diagnostics, usually a file path.</param>
    /// <param name="limits">Loading limits, or <see langword="null"/> for <see cref="YamlLoadLimits.Default"/>.</param>
    /// <returns>The policy as written (when there was no error) and every problem found.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="yaml"/> or <paramref name="sourceName"/> is <see langword="null"/>.</exception>
    public static PolicyLoadResult Load(string yaml, string sourceName, YamlLoadLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        ArgumentNullException.ThrowIfNull(sourceName);
        limits ??= YamlLoadLimits.Default;

        if (Policy.CheckSize(yaml, sourceName, limits) is { } tooLarge)
        {
            return new PolicyLoadResult(null, [tooLarge]);
        }

        return Parse(yaml, sourceName, limits);
    }

    /// <summary>Loads a policy from a stream of YAML (UTF-8, or UTF-16/UTF-32 with a byte order mark).</summary>
    /// <param name="stream">The stream; it is read from its current position, at most one byte past the size limit, and not closed.</param>
    /// <param name="sourceName">The source name used in diagnostics, usually a file path.</param>
    /// <param name="limits">Loading limits, or <see langword="null"/> for <see cref="YamlLoadLimits.Default"/>.</param>
    /// <returns>The policy as written (when there was no error) and every problem found; a read failure is a diagnostic.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> or <paramref name="sourceName"/> is <see langword="null"/>.</exception>
    public static PolicyLoadResult Load(Stream stream, string sourceName, YamlLoadLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(sourceName);
        limits ??= YamlLoadLimits.Default;

        string? text = Policy.Read(stream, sourceName, limits, out var problem);
        if (text is null)
        {
            return new PolicyLoadResult(null, [problem!]);
        }

        return Parse(text, sourceName, limits);
    }

    /// <summary>Loads a policy file. The file's size is checked before it is read.</summary>
    /// <param name="path">The file path; it is also the source name in diagnostics.</param>
    /// <param name="limits">Loading limits, or <see langword="null"/> for <see cref="YamlLoadLimits.Default"/>.</param>
    /// <returns>The policy as written (when there was no error) and every problem found; an unreadable file is a diagnostic.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> is <see langword="null"/>.</exception>
    public static PolicyLoadResult LoadFile(string path, YamlLoadLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        limits ??= YamlLoadLimits.Default;
        string? text = Policy.ReadFile(path, limits, out var problem);
        return text is null ? new PolicyLoadResult(null, [problem!]) : Parse(text, path, limits);
    }

    private static PolicyLoadResult Parse(string text, string sourceName, YamlLoadLimits limits)
    {
        var diagnostics = new List<PolicyDiagnostic>();
        var tree = YamlTreeBuilder.Build(text, sourceName, limits, diagnostics);
        if (!tree.Complete)
        {
            // A syntax error, a limit or a bad alias: nothing was read (no checks run on a partial tree).
            return new PolicyLoadResult(null, Ordered(diagnostics));
        }

        var read = PolicyDocumentReader.Read(tree.Root, sourceName, diagnostics);
        if (diagnostics.Count == 0)
        {
            return new PolicyLoadResult(read.Document, []);
        }

        if (read.ErrorLimitReached)
        {
            return new PolicyLoadResult(null, Ordered(diagnostics));
        }

        return new PolicyLoadResult(null, WithCompilerErrors(read, diagnostics));
    }

    /// <summary>
    /// The file is refused, but one problem must not hide the others: the compiler checks what could be read (tiers,
    /// rules, patterns, kinds, references, timestamps, scopes), and its errors are reported with the loader's, in
    /// source order, and so are its warnings about what was written and read (<see cref="WarningsOnWhatWasRead"/>: a
    /// reviewer sees those at once; the policy is still refused). Warnings about something missing (a role without
    /// grants, too few holders, no ceiling, an undeclared or exclusive binding) may only follow from a part the loader
    /// could not read, so they wait until the file has no error. Diagnostics that only follow from a problem already reported (a missing 'version' read as an unsupported one)
    /// and diagnostics reported twice are left out. The errors together keep the loader's bound (after 1,000 errors,
    /// one final limit_exceeded); the warnings keep the compiler's own bound.
    /// </summary>
    private static PolicyDiagnostic[] WithCompilerErrors(DocumentRead read, List<PolicyDiagnostic> diagnostics)
    {
        var compiled = PolicyCompiler.Compile(read.Document);
        var seen = new HashSet<(SourceLocation, string)>(diagnostics.Select(d => (d.Location, d.Code)));
        bool compilerDropped = false;
        var warnings = new List<PolicyDiagnostic>();
        foreach (var diagnostic in compiled.Diagnostics)
        {
            if (read.IsConsequence(diagnostic) || !seen.Add((diagnostic.Location, diagnostic.Code)))
            {
                continue;
            }

            if (!diagnostic.IsError)
            {
                if (WarningsOnWhatWasRead.Contains(diagnostic.Code))
                {
                    warnings.Add(diagnostic);
                }

                continue;
            }

            if (diagnostic.Code == DiagnosticCodes.LimitExceeded && diagnostic.Message == ErrorLimitMessage)
            {
                compilerDropped = true;
                continue;
            }

            diagnostics.Add(diagnostic);
        }

        var ordered = Ordered(diagnostics);
        if (ordered.Length > MaxReportedErrors || compilerDropped)
        {
            int kept = Math.Min(ordered.Length, MaxReportedErrors);
            var at = ordered[kept - 1].Location;
            ordered = [.. ordered.Take(kept), PolicyDiagnostic.Error(DiagnosticCodes.LimitExceeded, ErrorLimitMessage, at)];
        }

        // Warnings merged in source order (a stable sort keeps the final limit_exceeded after the errors it closes).
        return warnings.Count == 0 ? ordered : [.. ordered.Concat(warnings).OrderBy(d => d.Location.Line).ThenBy(d => d.Location.Column)];
    }

    // Warnings about rules that were read whole: no part left unread can cause them, so they are listed with the errors.
    private static readonly HashSet<string> WarningsOnWhatWasRead = new(StringComparer.Ordinal)
    {
        DiagnosticCodes.GrantsEverything,
        DiagnosticCodes.AllowShadowedByDeny,
    };

    // Loader and compiler each stop reporting after 1,000 errors; together they keep the same bound.
    private const int MaxReportedErrors = Tuning.Compile.MaxReportedDiagnostics;

    private const string ErrorLimitMessage = "more than 1000 errors; the rest are not reported";

    // Problems are found section by section; report them in source order (a stable sort keeps ties as found).
    private static PolicyDiagnostic[] Ordered(List<PolicyDiagnostic> diagnostics)
        => [.. diagnostics.OrderBy(d => d.Location.Line).ThenBy(d => d.Location.Column)];
}
