namespace AiRbac.Yaml;

/// <summary>Loads a YAML policy and compiles it in one step.</summary>
public static class YamlPolicy
{
    /// <summary>Loads a policy from YAML text and, when it loads, compiles it.</summary>
    /// <param name="yaml">The YAML text.</param>
    /// <param name="sourceName">The source name used in diagnostics, usually a file path.</param>
    /// <param name="options">Compilation options, or <see langword="null"/> for the defaults.</param>
    /// <param name="limits">Loading limits, or <see langword="null"/> for <see cref="YamlLoadLimits.Default"/>.</param>
    /// <returns>The compiled policy (when there was no error) and every diagnostic.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="yaml"/> or <paramref name="sourceName"/> is <see langword="null"/>.</exception>
    public static YamlCompilation Compile(
        string yaml,
        string sourceName,
        PolicyCompilerOptions? options = null,
        YamlLoadLimits? limits = null)
        => CompileLoaded(YamlPolicyLoader.Load(yaml, sourceName, limits), options);

    /// <summary>Loads a policy file and, when it loads, compiles it.</summary>
    /// <param name="path">The file path; it is also the source name in diagnostics.</param>
    /// <param name="options">Compilation options, or <see langword="null"/> for the defaults.</param>
    /// <param name="limits">Loading limits, or <see langword="null"/> for <see cref="YamlLoadLimits.Default"/>.</param>
    /// <returns>The compiled policy (when there was no error) and every diagnostic; an unreadable file is a diagnostic.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> is <see langword="null"/>.</exception>
    public static YamlCompilation CompileFile(string path, PolicyCompilerOptions? options = null, YamlLoadLimits? limits = null)
        => CompileLoaded(YamlPolicyLoader.LoadFile(path, limits), options);

    private static YamlCompilation CompileLoaded(PolicyLoadResult loaded, PolicyCompilerOptions? options)
    {
        if (loaded.Document is null)
        {
            return new YamlCompilation(null, loaded.Diagnostics);
        }

        var compiled = PolicyCompiler.Compile(loaded.Document, options);
        if (loaded.Diagnostics.Count == 0)
        {
            return new YamlCompilation(compiled.Policy, compiled.Diagnostics);
        }

        return new YamlCompilation(compiled.Policy, [.. loaded.Diagnostics, .. compiled.Diagnostics]);
    }
}
