using AiRbac.Diagnostics;
using AiRbac.Model;

namespace AiRbac;

/// <summary>
/// The result of loading and compiling a policy, whatever loaded it (<see cref="PolicyCompiler.Compile"/> for a
/// document built in code, <c>AiRbac.Yaml.YamlPolicy</c> for YAML): the policy as written, the compiled policy when
/// there was no error, and every diagnostic of both stages. The command-line tool, the hosted reloader and the access
/// review all load policies into this one shape.
/// </summary>
public sealed class PolicyCompilation
{
    internal PolicyCompilation(PolicyDocument? document, CompiledPolicy? policy, IReadOnlyList<PolicyDiagnostic> diagnostics)
    {
        Document = document;
        Policy = policy;
        Diagnostics = diagnostics;
    }

    /// <summary>
    /// A compilation that stopped before compiling: the source could not be read or did not load (for example a YAML
    /// syntax error). A loader other than YAML reports its problems this way, in the same shape.
    /// </summary>
    /// <param name="errors">The problems found; at least one must be an error (a failure with no error would hide why).</param>
    /// <returns>A compilation with no document and no policy.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="errors"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="errors"/> holds no error.</exception>
    public static PolicyCompilation Failed(IReadOnlyList<PolicyDiagnostic> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (!errors.Any(d => d is not null && d.IsError))
        {
            throw new ArgumentException("a failed compilation needs at least one error", nameof(errors));
        }

        return new PolicyCompilation(null, null, [.. errors]);
    }

    /// <summary>
    /// The policy as written, when it loaded (also when compiling it then found errors: tools such as lint and diff
    /// read it); <see langword="null"/> when it did not load.
    /// </summary>
    public PolicyDocument? Document { get; }

    /// <summary>The compiled policy, or <see langword="null"/> when any error was found (a policy never half-loads).</summary>
    public CompiledPolicy? Policy { get; }

    /// <summary>
    /// Every error and warning, in source order: when the policy did not load, the loading errors together with the
    /// compiler's errors on the parts that could be read (no warnings; only a syntax error or a limit stops the
    /// checks); otherwise the compiler's diagnostics.
    /// </summary>
    public IReadOnlyList<PolicyDiagnostic> Diagnostics { get; }

    /// <summary>Whether the policy compiled (no errors; warnings allowed).</summary>
    public bool Succeeded => Policy is not null;

    /// <summary>The errors only.</summary>
    public IEnumerable<PolicyDiagnostic> Errors => Diagnostics.Where(d => d.IsError);

    /// <summary>The warnings only.</summary>
    public IEnumerable<PolicyDiagnostic> Warnings => Diagnostics.Where(d => !d.IsError);
}
