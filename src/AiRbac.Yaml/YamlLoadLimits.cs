namespace AiRbac.Yaml;

/// <summary>
/// Limits that keep hostile policy files (huge files, deep nesting, alias bombs, very long strings) from costing more
/// than a bounded amount of time and memory. They are checked before or while parsing, never after; exceeding one is
/// a <c>limit_exceeded</c> error. The defaults are listed in docs/policy-language.md, section 10.
/// </summary>
public sealed class YamlLoadLimits
{
    /// <summary>The default limits.</summary>
    public static YamlLoadLimits Default { get; } = new();

    /// <summary>The largest file, in bytes (16 MiB by default). Larger input is refused before it is parsed.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not positive.</exception>
    public int MaxFileBytes
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value);
            field = value;
        }
    } = Tuning.Yaml.MaxFileBytes;

    /// <summary>The deepest nesting of lists and mappings (64 by default); the top-level mapping is level 1.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not positive.</exception>
    public int MaxDepth
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value);
            field = value;
        }
    } = Tuning.Yaml.MaxDepth;

    /// <summary>The longest scalar (a key or a value), in UTF-16 characters (64 Ki by default).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not positive.</exception>
    public int MaxScalarLength
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value);
            field = value;
        }
    } = Tuning.Yaml.MaxScalarLength;

    /// <summary>
    /// The most nodes (scalars, lists and mappings, keys included) in the document, counted after alias expansion:
    /// each alias counts as every node of the subtree it names (1,000,000 by default).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not positive.</exception>
    public int MaxNodes
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value);
            field = value;
        }
    } = Tuning.Yaml.MaxNodes;

    /// <summary>
    /// The most characters (UTF-16) in all scalars of the document together, keys included, counted after alias
    /// expansion: each alias counts as every character of the subtree it names (64 Mi, that is 67,108,864, by default).
    /// A file without aliases never reaches it (a 16 MiB file holds at most 16 Mi characters); it stops a few anchored
    /// long scalars from standing, through aliases, for gigabytes of policy text that every later step would read.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is not positive.</exception>
    public long MaxExpandedScalarCharacters
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value);
            field = value;
        }
    } = Tuning.Yaml.MaxExpandedScalarCharacters;
}
