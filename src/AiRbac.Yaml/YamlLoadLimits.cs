namespace AiRbac.Yaml;

/// <summary>
/// Limits that keep hostile policy files (huge files, deep nesting, alias bombs, very long strings) from costing more
/// than a bounded amount of time and memory. They are checked before or while parsing, never after; exceeding one is
/// a <c>limit_exceeded</c> error. The defaults are those of POLICY-SPEC §2.
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
    } = 16 * 1024 * 1024;

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
    } = 64;

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
    } = 64 * 1024;

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
    } = 1_000_000;
}
