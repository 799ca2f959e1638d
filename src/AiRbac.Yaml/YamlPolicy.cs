using System.Diagnostics.CodeAnalysis;

namespace AiRbac.Yaml;

/// <summary>
/// Loads a YAML policy (docs/policy-language.md, section 2) and compiles it in one step: the one load path of AiRbac.
/// The command-line tool, the hosted reloader (<c>AddAiRbac</c>) and the access review all call it, so a policy is
/// accepted or refused the same way everywhere. Loading checks structure (YAML syntax, shapes, unknown, duplicate and
/// required keys, the version and the limits of <see cref="YamlLoadLimits"/>); when it loads, <see cref="PolicyCompiler"/>
/// checks meaning and builds the decision table. Never throws for content: every problem is a diagnostic.
/// </summary>
public static class YamlPolicy
{
    /// <summary>Loads a policy from YAML text and, when it loads, compiles it.</summary>
    /// <param name="yaml">The YAML text.</param>
    /// <param name="sourceName">The source name used in diagnostics, usually a file path.</param>
    /// <param name="options">Compilation options, or <see langword="null"/> for the defaults.</param>
    /// <param name="limits">Loading limits, or <see langword="null"/> for <see cref="YamlLoadLimits.Default"/>.</param>
    /// <returns>The document (when it loaded), the compiled policy (when there was no error) and every diagnostic.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="yaml"/> or <paramref name="sourceName"/> is <see langword="null"/>.</exception>
    [SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "The overloads differ by the type of their first parameter (string or Stream), so a call is never ambiguous.")]
    public static PolicyCompilation Compile(
        string yaml,
        string sourceName,
        PolicyCompilerOptions? options = null,
        YamlLoadLimits? limits = null)
        => CompileLoaded(YamlPolicyLoader.Load(yaml, sourceName, limits), options);

    /// <summary>Loads a policy from a stream of YAML (UTF-8, or UTF-16/UTF-32 with a byte order mark) and, when it loads, compiles it.</summary>
    /// <param name="stream">The stream; it is read from its current position, at most one byte past the size limit, and not closed.</param>
    /// <param name="sourceName">The source name used in diagnostics, usually a file path.</param>
    /// <param name="options">Compilation options, or <see langword="null"/> for the defaults.</param>
    /// <param name="limits">Loading limits, or <see langword="null"/> for <see cref="YamlLoadLimits.Default"/>.</param>
    /// <returns>The document (when it loaded), the compiled policy (when there was no error) and every diagnostic; a read failure is a diagnostic.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> or <paramref name="sourceName"/> is <see langword="null"/>.</exception>
    [SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "The overloads differ by the type of their first parameter (string or Stream), so a call is never ambiguous.")]
    public static PolicyCompilation Compile(
        Stream stream,
        string sourceName,
        PolicyCompilerOptions? options = null,
        YamlLoadLimits? limits = null)
        => CompileLoaded(YamlPolicyLoader.Load(stream, sourceName, limits), options);

    /// <summary>Loads a policy file and, when it loads, compiles it. The file's size is checked before it is read.</summary>
    /// <param name="path">The file path; it is also the source name in diagnostics.</param>
    /// <param name="options">Compilation options, or <see langword="null"/> for the defaults.</param>
    /// <param name="limits">Loading limits, or <see langword="null"/> for <see cref="YamlLoadLimits.Default"/>.</param>
    /// <returns>The document (when it loaded), the compiled policy (when there was no error) and every diagnostic; an unreadable file is a diagnostic.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> is <see langword="null"/>.</exception>
    public static PolicyCompilation CompileFile(string path, PolicyCompilerOptions? options = null, YamlLoadLimits? limits = null)
        => CompileLoaded(YamlPolicyLoader.LoadFile(path, limits), options);

    // The loader reports errors only, and a document only when there is none: the compiler's diagnostics are then all.
    private static PolicyCompilation CompileLoaded(PolicyLoadResult loaded, PolicyCompilerOptions? options)
        => loaded.Document is null
            ? PolicyCompilation.Failed(loaded.Diagnostics)
            : PolicyCompiler.Compile(loaded.Document, options);
}
