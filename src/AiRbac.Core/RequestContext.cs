namespace AiRbac;

/// <summary>The type of a request-context value (docs/policy-language.md, section 11).</summary>
public enum ContextValueType
{
    /// <summary>A string (<c>network: corp</c>, a tool-call argument).</summary>
    String,

    /// <summary>A boolean (<c>mfa: true</c>).</summary>
    Boolean,

    /// <summary>A 64-bit signed integer (<c>risk_score: 42</c>).</summary>
    Integer,
}

/// <summary>
/// One typed key/value pair of a request's context: what role conditions read (docs/policy-language.md, section 11). The
/// constructor's value type is the pair's type: <c>new ContextAttribute("mfa", true)</c>,
/// <c>new ContextAttribute("sql.table", "sales")</c>, <c>new ContextAttribute("risk_score", 42)</c>.
/// </summary>
public readonly record struct ContextAttribute
{
    /// <summary>A string value.</summary>
    /// <param name="key">The key, as the policy's <c>context</c> section declares it.</param>
    /// <param name="value">The value.</param>
    public ContextAttribute(string key, string value)
    {
        Key = key;
        Type = ContextValueType.String;
        StringValue = value;
    }

    /// <summary>A boolean value.</summary>
    /// <param name="key">The key, as the policy's <c>context</c> section declares it.</param>
    /// <param name="value">The value.</param>
    public ContextAttribute(string key, bool value)
    {
        Key = key;
        Type = ContextValueType.Boolean;
        IntegerValue = value ? 1 : 0;
    }

    /// <summary>An integer value.</summary>
    /// <param name="key">The key, as the policy's <c>context</c> section declares it.</param>
    /// <param name="value">The value.</param>
    public ContextAttribute(string key, long value)
    {
        Key = key;
        Type = ContextValueType.Integer;
        IntegerValue = value;
    }

    /// <summary>The key.</summary>
    public string Key { get; }

    /// <summary>The value's type.</summary>
    public ContextValueType Type { get; }

    /// <summary>The value of a <see cref="ContextValueType.String"/> pair, else <see langword="null"/>.</summary>
    public string? StringValue { get; }

    /// <summary>The value of a <see cref="ContextValueType.Boolean"/> pair, else <see langword="false"/>.</summary>
    public bool BooleanValue => Type == ContextValueType.Boolean && IntegerValue != 0;

    /// <summary>The value of an <see cref="ContextValueType.Integer"/> pair (1 or 0 for a boolean), else 0.</summary>
    public long IntegerValue { get; }

    /// <summary>The pair as <c>key=value</c>.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => Type switch
    {
        ContextValueType.String => $"{Key}=\"{StringValue}\"",
        ContextValueType.Boolean => $"{Key}={(BooleanValue ? "true" : "false")}",
        _ => $"{Key}={IntegerValue}",
    };
}

/// <summary>
/// What a request carries besides its subject, action and resource: typed context pairs that role conditions read
/// (docs/policy-language.md, section 11). Immutable: each list is copied when it is set, so changing the caller's array
/// afterwards changes nothing. Build one per request, or reuse one for requests with the same context (deciding with it
/// allocates nothing). <see cref="Empty"/> is the context of a request that carries none.
/// </summary>
public sealed class RequestContext
{
    private ContextAttribute[] attributes = [];

    /// <summary>A context with nothing in it.</summary>
    public static RequestContext Empty { get; } = new();

    /// <summary>
    /// The typed key/value pairs (a read-only copy of what was set). A key the policy's <c>context</c> section declares
    /// may appear once, with its declared type; otherwise the request is <c>invalid_request</c>. Keys the policy does not
    /// declare are ignored. At most 64 pairs (more is <c>invalid_request</c>).
    /// </summary>
    public IReadOnlyList<ContextAttribute> Attributes
    {
        get => Array.AsReadOnly(attributes);
        init => attributes = value is null ? [] : [.. value];
    }

    /// <summary>The pairs, for the engine (no copy, no enumerator).</summary>
    internal ReadOnlySpan<ContextAttribute> AttributeSpan => attributes;
}
