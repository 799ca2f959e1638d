using AiRbac.Diagnostics;

namespace AiRbac.Yaml;

/// <summary>The result of loading and compiling a YAML policy: the compiled policy when there was no error, and every diagnostic.</summary>
public sealed class YamlCompilation
{
    internal YamlCompilation(CompiledPolicy? policy, IReadOnlyList<PolicyDiagnostic> diagnostics)
    {
        Policy = policy;
        Diagnostics = diagnostics;
    }

    /// <summary>The compiled policy, or <see langword="null"/> when loading or compiling found any error.</summary>
    public CompiledPolicy? Policy { get; }

    /// <summary>
    /// Every error and warning: when the file did not load, the loading errors together with the compiler's errors on
    /// the parts that could be read (no warnings); otherwise the compiler's diagnostics.
    /// </summary>
    public IReadOnlyList<PolicyDiagnostic> Diagnostics { get; }

    /// <summary>Whether the policy loaded and compiled (no errors; warnings allowed).</summary>
    public bool Succeeded => Policy is not null;
}
