using AiRbac.Diagnostics;
using AiRbac.Yaml;

namespace AiRbac.Cli;

/// <summary>Loads policy files for the commands through the one load path, <see cref="YamlPolicy.CompileFile"/>.</summary>
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
    public static PolicyCompilation Load(string path, PolicyCompilerOptions? options = null)
    {
        RequireFile(path);
        return YamlPolicy.CompileFile(path, options);
    }

    /// <summary>Loads a policy that a command needs to run; on any error prints the errors to standard error and returns <see langword="null"/>.</summary>
    public static PolicyCompilation? LoadForUse(string path, TextWriter stderr, PolicyCompilerOptions? options = null)
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
