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
/// A break-glass activation (docs/policy-language.md, section 12): <paramref name="Subject"/> activated its binding to the
/// break-glass role <paramref name="Role"/> at <paramref name="Start"/>, giving <paramref name="Justification"/>. It makes
/// that subject's binding count while <c>Start &lt;= now &lt; Start + max_activation</c>, and only with a justification
/// that is not blank.
/// </summary>
/// <param name="Subject">The id of the subject that activated the role (in an on-behalf-of chain, the link that holds it).</param>
/// <param name="Role">The break-glass role, by name or id.</param>
/// <param name="Justification">Why (recorded with every decision the role makes): at most 1,024 characters.</param>
/// <param name="Start">When the activation began.</param>
public readonly record struct BreakGlassActivation(string Subject, string Role, string Justification, DateTimeOffset Start);

/// <summary>
/// An approval (docs/policy-language.md, section 13): <paramref name="Approver"/> approved the request under the approval
/// rule <paramref name="Rule"/> at <paramref name="At"/>. It counts when the approver is a subject of the policy's bindings
/// holding an approver role of that rule, is not the requester nor any subject of its on-behalf-of chain, and
/// <c>At &lt;= now &lt; At + valid_for</c>; an approver counts once however many approvals it gave.
/// </summary>
/// <param name="Approver">The approving subject's id; its roles come from the policy's bindings.</param>
/// <param name="Rule">The approval rule's name.</param>
/// <param name="At">When the approval was given.</param>
public readonly record struct Approval(string Approver, string Rule, DateTimeOffset At);

/// <summary>
/// What a request carries besides its subject, action and resource: typed context pairs that role conditions read
/// (docs/policy-language.md, section 11), break-glass activations (section 12) and approvals (section 13). Immutable: each list is copied when it
/// is set, so changing the caller's array afterwards changes nothing. Build one per request, or reuse one for requests
/// with the same context (deciding with it allocates nothing). <see cref="Empty"/> is the context of a request that
/// carries none.
/// </summary>
public sealed class RequestContext
{
    private ContextAttribute[] attributes = [];
    private BreakGlassActivation[] activations = [];
    private Approval[] approvals = [];
    private IReadOnlyList<ContextAttribute> attributeView = [];
    private IReadOnlyList<BreakGlassActivation> activationView = [];
    private IReadOnlyList<Approval> approvalView = [];

    /// <summary>A context with nothing in it.</summary>
    public static RequestContext Empty { get; } = new();

    /// <summary>
    /// The typed key/value pairs (a read-only copy of what was set). A key the policy's <c>context</c> section declares
    /// may appear once, with its declared type; otherwise the request is <c>invalid_request</c>. Keys the policy does not
    /// declare are ignored. At most 64 pairs (more is <c>invalid_request</c>).
    /// </summary>
    public IReadOnlyList<ContextAttribute> Attributes
    {
        get => attributeView;
        init
        {
            attributes = value is null ? [] : [.. value];
            attributeView = Array.AsReadOnly(attributes);
        }
    }

    /// <summary>
    /// The break-glass activations the request carries (a read-only copy of what was set): each counts only for the
    /// subject it names. At most 8; an activation with a missing subject, role or justification, or a justification longer
    /// than 1,024 characters, makes the request <c>invalid_request</c>.
    /// </summary>
    public IReadOnlyList<BreakGlassActivation> Activations
    {
        get => activationView;
        init
        {
            activations = value is null ? [] : [.. value];
            activationView = Array.AsReadOnly(activations);
        }
    }

    /// <summary>
    /// The approvals the request carries (a read-only copy of what was set), for the approval rules that match it. At
    /// most 16; an approval with a missing approver or rule makes the request <c>invalid_request</c>.
    /// </summary>
    public IReadOnlyList<Approval> Approvals
    {
        get => approvalView;
        init
        {
            approvals = value is null ? [] : [.. value];
            approvalView = Array.AsReadOnly(approvals);
        }
    }

    /// <summary>The pairs, for the engine (no copy, no enumerator).</summary>
    internal ReadOnlySpan<ContextAttribute> AttributeSpan => attributes;

    /// <summary>The activations, for the engine.</summary>
    internal ReadOnlySpan<BreakGlassActivation> ActivationSpan => activations;

    /// <summary>The approvals, for the engine.</summary>
    internal ReadOnlySpan<Approval> ApprovalSpan => approvals;
}
