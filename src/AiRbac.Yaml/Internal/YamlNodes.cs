using YamlDotNet.Core;

namespace AiRbac.Yaml.Internal;

/// <summary>A node of the small YAML tree the loader builds from parser events; aliases share nodes.</summary>
internal abstract class YamlNode(int line, int column)
{
    /// <summary>The 1-based line where the node starts (its anchor or tag, if any).</summary>
    public int Line { get; } = line;

    /// <summary>The 1-based column where the node starts.</summary>
    public int Column { get; } = column;

    /// <summary>How the node reads in a message ("a list", "a mapping", "a scalar", "an empty value").</summary>
    public abstract string Description { get; }
}

/// <summary>A scalar, kept as the string it was written as.</summary>
internal sealed class YamlScalar(int line, int column, string value, ScalarStyle style, bool isTagged)
    : YamlNode(line, column)
{
    public string Value { get; } = value;

    public ScalarStyle Style { get; } = style;

    public bool IsTagged { get; } = isTagged;

    /// <summary>Whether the scalar is plain and untagged.</summary>
    public bool IsPlain => Style == ScalarStyle.Plain && !IsTagged;

    /// <summary>Whether nothing at all was written (<c>key:</c> with no value).</summary>
    public bool IsEmptyPlain => IsPlain && Value.Length == 0;

    public override string Description => IsEmptyPlain ? "an empty value" : "a scalar";
}

/// <summary>A sequence (block or flow list).</summary>
internal sealed class YamlSequence(int line, int column) : YamlNode(line, column)
{
    public List<YamlNode> Items { get; } = [];

    public override string Description => "a list";
}

/// <summary>A mapping, with its entries in source order (duplicates kept; the policy reader reports them).</summary>
internal sealed class YamlMapping(int line, int column) : YamlNode(line, column)
{
    public List<KeyValuePair<YamlNode, YamlNode>> Entries { get; } = [];

    public override string Description => "a mapping";
}
