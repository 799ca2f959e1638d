// The public entry point of compilation: PolicyCompiler.Compile hands one document to one CompilerRun (the
// run itself is split by concern over the CompilerRun.*.cs files).

using AiRbac.Model;

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
