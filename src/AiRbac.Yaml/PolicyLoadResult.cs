using AiRbac.Diagnostics;
using AiRbac.Model;

namespace AiRbac.Yaml;

/// <summary>
/// The loader's stage of <see cref="YamlPolicy"/>: the policy as written when its structure is sound, and every problem
/// found. Internal: callers get a <see cref="PolicyCompilation"/>, the one result of loading and compiling.
/// </summary>
internal sealed class PolicyLoadResult
{
    public PolicyLoadResult(PolicyDocument? document, IReadOnlyList<PolicyDiagnostic> diagnostics)
    {
        Document = document;
        Diagnostics = diagnostics;
    }

    /// <summary>
    /// The policy as written, to be validated and compiled by <see cref="PolicyCompiler"/>, or <see langword="null"/>
    /// when any error was found (a policy never half-loads).
    /// </summary>
    public PolicyDocument? Document { get; }

    /// <summary>
    /// Every problem found, in source order: errors only, the loader's and, when the structure has errors, the
    /// compiler's on the parts that could be read (so one problem never hides another).
    /// </summary>
    public IReadOnlyList<PolicyDiagnostic> Diagnostics { get; }

    /// <summary>Whether the policy loaded (no error).</summary>
    public bool Succeeded => Document is not null;
}
