using AiRbac.Diagnostics;
using AiRbac.Model;
using AiRbac.Yaml;

namespace AiRbac.Cli;

/// <summary>A policy file loaded and compiled: the document, the compiled policy (when there is no error) and every diagnostic.</summary>
internal sealed record LoadedPolicy(PolicyDocument? Document, CompiledPolicy? Policy, IReadOnlyList<PolicyDiagnostic> Diagnostics);

/// <summary>Loads policy files for the commands, the same way <see cref="YamlPolicy.CompileFile"/> does.</summary>
internal static class PolicyFiles
{
    /// <summary>Fails with a usage error when the file does not exist (a typo in a path is not a policy problem).</summary>
    public static void RequireFile(string path)
    {
        if (!File.Exists(path))
        {
            throw new UsageException(Directory.Exists(path) ? $"'{path}' is a directory, not a file" : $"file not found: {path}");
        }
    }

    /// <summary>Loads and compiles a policy file (<paramref name="options"/>: the clock, for <c>--now</c>).</summary>
    public static LoadedPolicy Load(string path, PolicyCompilerOptions? options = null)
    {
        RequireFile(path);
        var loaded = YamlPolicyLoader.LoadFile(path);
        if (loaded.Document is null)
        {
            return new LoadedPolicy(null, null, loaded.Diagnostics);
        }

        var compiled = PolicyCompiler.Compile(loaded.Document, options);
        IReadOnlyList<PolicyDiagnostic> diagnostics = loaded.Diagnostics.Count == 0 ? compiled.Diagnostics : [.. loaded.Diagnostics, .. compiled.Diagnostics];
        return new LoadedPolicy(loaded.Document, compiled.Policy, diagnostics);
    }

    /// <summary>Loads a policy that a command needs to run; on any error prints the errors to standard error and returns <see langword="null"/>.</summary>
    public static LoadedPolicy? LoadForUse(string path, TextWriter stderr, PolicyCompilerOptions? options = null)
    {
        var loaded = Load(path, options);
        if (loaded.Policy is not null)
        {
            return loaded;
        }

        ReportRejected(path, loaded.Diagnostics, stderr);
        return null;
    }

    /// <summary>Prints why a policy was rejected (its errors only; warnings are for <c>airbac lint</c>).</summary>
    public static void ReportRejected(string path, IReadOnlyList<PolicyDiagnostic> diagnostics, TextWriter stderr)
    {
        foreach (var diagnostic in diagnostics)
        {
            if (diagnostic.IsError)
            {
                stderr.WriteLine(diagnostic.ToString());
            }
        }

        stderr.WriteLine($"error: the policy {path} has errors and was not loaded");
    }
}
