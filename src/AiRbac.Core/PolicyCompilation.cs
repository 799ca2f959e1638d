using AiRbac.Diagnostics;

namespace AiRbac;

/// <summary>The result of compiling a policy: the compiled policy when there was no error, and every diagnostic.</summary>
public sealed class PolicyCompilation
{
    internal PolicyCompilation(CompiledPolicy? policy, IReadOnlyList<PolicyDiagnostic> diagnostics)
    {
        Policy = policy;
        Diagnostics = diagnostics;
    }

    /// <summary>The compiled policy, or <see langword="null"/> when any error was found (a policy never half-loads).</summary>
    public CompiledPolicy? Policy { get; }

    /// <summary>Every error and warning, in source order.</summary>
    public IReadOnlyList<PolicyDiagnostic> Diagnostics { get; }

    /// <summary>Whether the policy compiled (no errors; warnings allowed).</summary>
    public bool Succeeded => Policy is not null;

    /// <summary>The errors only.</summary>
    public IEnumerable<PolicyDiagnostic> Errors => Diagnostics.Where(d => d.IsError);

    /// <summary>The warnings only.</summary>
    public IEnumerable<PolicyDiagnostic> Warnings => Diagnostics.Where(d => !d.IsError);
}
