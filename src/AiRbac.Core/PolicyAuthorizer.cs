namespace AiRbac;

/// <summary>Which policy answered: a content hash and the time it was loaded. Stamped on every decision record.</summary>
public sealed class PolicyVersion
{
    /// <summary>Creates a version.</summary>
    /// <param name="contentHash">A hash of the policy source (for example SHA-256, hex).</param>
    /// <param name="loadedAt">When the policy was loaded.</param>
    public PolicyVersion(string contentHash, DateTimeOffset loadedAt)
    {
        ContentHash = contentHash ?? string.Empty;
        LoadedAt = loadedAt;
    }

    /// <summary>The version of the deny-all policy that answers before any policy is loaded.</summary>
    public static PolicyVersion None { get; } = new(string.Empty, DateTimeOffset.MinValue);

    /// <summary>A hash of the policy source; empty for <see cref="None"/>.</summary>
    public string ContentHash { get; }

    /// <summary>When the policy was loaded.</summary>
    public DateTimeOffset LoadedAt { get; }

    /// <inheritdoc/>
    public override string ToString() => ContentHash.Length == 0 ? "none" : $"{ContentHash[..Math.Min(12, ContentHash.Length)]}@{Rfc3339.Format(LoadedAt)}";
}

/// <summary>One decision with everything an audit record or a metric needs. Passed by reference; holds no copies.</summary>
public readonly ref struct DecisionRecord
{
    internal DecisionRecord(Subject subject, string action, in ResourceRequest resource, Decision decision, PolicyVersion version, RequestContext? context = null)
    {
        Subject = subject;
        Action = action;
        Resource = resource;
        Decision = decision;
        Version = version;
        Context = context;
    }

    /// <summary>Who asked.</summary>
    public Subject Subject { get; }

    /// <summary>The action.</summary>
    public string Action { get; }

    /// <summary>The resource as the caller described it.</summary>
    public ResourceRequest Resource { get; }

    /// <summary>The decision.</summary>
    public Decision Decision { get; }

    /// <summary>The policy version that decided.</summary>
    public PolicyVersion Version { get; }

    /// <summary>The request's context (docs/policy-language.md, sections 11 and 12), or <see langword="null"/> when it carried none.</summary>
    public RequestContext? Context { get; }

    /// <summary>
    /// For a break-glass decision (<see cref="Decision.BreakGlass"/>), the activation that made the break-glass role count:
    /// who activated it, when, and the justification; otherwise <see langword="null"/>.
    /// </summary>
    public BreakGlassActivation? BreakGlassActivation
        => Decision.ActivationIndex is >= 0 and var index && Context is { } context && index < context.ActivationSpan.Length
            ? context.ActivationSpan[index] : null;
}

/// <summary>
/// Sees every decision a <see cref="PolicyAuthorizer"/> makes (audit logs, metrics). Called on the request path:
/// implementations must not block, throw or allocate.
/// </summary>
public interface IDecisionObserver
{
    /// <summary>Called once per decision, after it is made.</summary>
    /// <param name="record">The decision and its request.</param>
    void OnDecision(in DecisionRecord record);
}

/// <summary>
/// Always answers from the current compiled policy, which can be swapped atomically (hot reload). Before the first
/// policy arrives, a deny-all policy answers: the current policy is never <see langword="null"/>. Thread-safe.
/// </summary>
public sealed class PolicyAuthorizer
{
    private readonly IDecisionObserver[] observers;
    private volatile Snapshot current;

    /// <summary>Creates an authorizer that denies everything until <see cref="Update"/> is called.</summary>
    /// <param name="observers">Observers that see every decision (audit, metrics).</param>
    public PolicyAuthorizer(IEnumerable<IDecisionObserver>? observers = null)
    {
        this.observers = observers?.ToArray() ?? [];
        current = new Snapshot(CompiledPolicy.DenyAll, PolicyVersion.None);
    }

    /// <summary>The policy that answers now.</summary>
    public CompiledPolicy Policy => current.Policy;

    /// <summary>The version of the policy that answers now.</summary>
    public PolicyVersion Version => current.Version;

    /// <summary>Whether a real policy has been loaded (else everything is denied).</summary>
    public bool HasPolicy => !ReferenceEquals(current.Policy, CompiledPolicy.DenyAll);

    /// <summary>Replaces the current policy; requests already under way finish on the policy they started with.</summary>
    /// <param name="policy">The new policy.</param>
    /// <param name="version">Its version.</param>
    public void Update(CompiledPolicy policy, PolicyVersion version)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(version);
        current = new Snapshot(policy, version);
    }

    /// <summary>Decides on the current policy and tells the observers.</summary>
    /// <param name="subject">Who asks.</param>
    /// <param name="action">The action.</param>
    /// <param name="resource">The resource.</param>
    /// <returns>The decision.</returns>
    public Decision Authorize(Subject subject, string action, string resource)
        => Authorize(subject, action, new ResourceRequest(resource));

    /// <summary>Decides on the current policy and tells the observers.</summary>
    /// <param name="subject">Who asks.</param>
    /// <param name="action">The action.</param>
    /// <param name="resource">The resource with what the caller knows of it.</param>
    /// <returns>The decision.</returns>
    public Decision Authorize(Subject subject, string action, in ResourceRequest resource)
        => Authorize(subject, action, resource, null);

    /// <summary>Decides on the current policy, for a request that carries a context, and tells the observers.</summary>
    /// <param name="subject">Who asks.</param>
    /// <param name="action">The action.</param>
    /// <param name="resource">The resource with what the caller knows of it.</param>
    /// <param name="context">The request's context pairs and break-glass activations (docs/policy-language.md, sections 11 and 12), or <see langword="null"/>.</param>
    /// <returns>The decision.</returns>
    public Decision Authorize(Subject subject, string action, in ResourceRequest resource, RequestContext? context)
    {
        var snapshot = current; // one read: the decision and its record name the same policy
        var decision = snapshot.Policy.Authorize(subject, action, resource, context);
        if (observers.Length > 0)
        {
            var record = new DecisionRecord(subject, action, resource, decision, snapshot.Version, context);
            foreach (var observer in observers)
            {
                observer.OnDecision(in record);
            }
        }

        return decision;
    }

    private sealed record Snapshot(CompiledPolicy Policy, PolicyVersion Version);
}
