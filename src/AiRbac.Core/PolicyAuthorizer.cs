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

    /// <summary>
    /// Whether the request's approval <c>Context.Approvals[index]</c> counted for <see cref="Decision.ApprovalRule"/>
    /// (docs/policy-language.md, section 13): the audit log names these approvers.
    /// </summary>
    /// <param name="index">An index into <see cref="RequestContext.Approvals"/>.</param>
    /// <returns>Whether that approval counted.</returns>
    public bool IsCountedApproval(int index) => (uint)index < MaxApprovalBits && (Decision.ApprovalMask & (1 << index)) != 0;

    private const int MaxApprovalBits = Tuning.Language.MaxApprovals;
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
    private readonly IRetrievalObserver[] retrievalObservers;
    private volatile Snapshot current;

    /// <summary>Creates an authorizer that denies everything until <see cref="Update"/> is called.</summary>
    /// <param name="observers">
    /// Observers that see every decision (audit, metrics); those that also implement <see cref="IRetrievalObserver"/> see
    /// every retrieval query recorded with <see cref="RecordRetrieval"/>.
    /// </param>
    public PolicyAuthorizer(IEnumerable<IDecisionObserver>? observers = null)
    {
        this.observers = observers?.ToArray() ?? [];
        retrievalObservers = [.. this.observers.OfType<IRetrievalObserver>()];
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

    /// <summary>
    /// The policy filter of the current policy for <paramref name="subject"/> and <paramref name="action"/>
    /// (<see cref="CompiledPolicy.FilterFor"/>), remembering that policy's version for <see cref="RecordRetrieval"/>.
    /// </summary>
    /// <param name="subject">Who searches, with the subjects it acts on behalf of.</param>
    /// <param name="action">The action the results are for, such as <c>data:read</c>.</param>
    /// <returns>The filter; before any policy is loaded, one that matches nothing.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="subject"/> is <see langword="null"/>.</exception>
    public PolicyFilter FilterFor(Subject subject, string action)
    {
        var snapshot = current; // one read: the filter and the version it is audited with name the same policy
        var filter = snapshot.Policy.FilterFor(subject, action);
        filter.Version = snapshot.Version;
        return filter;
    }

    /// <summary>
    /// Records one filtered retrieval query (docs/retrieval.md, "Audited retrieval"): hands a <see cref="RetrievalRecord"/>
    /// to every observer that implements <see cref="IRetrievalObserver"/> (an audit log). Call it once per query, after the
    /// post-filter, with what the store returned and what the caller receives, or with <paramref name="failed"/> when the
    /// query failed and the caller receives nothing.
    /// </summary>
    /// <param name="filter">The filter applied; its policy version is the one <see cref="FilterFor"/> saw (else this authorizer's current version if the filter's policy is current, else <see cref="PolicyVersion.None"/>).</param>
    /// <param name="store">The store or collection searched (for a vector collection, its name), or <see langword="null"/>.</param>
    /// <param name="approximations">What the store predicate widened (<see cref="StoreFilter{TRecord}.Approximations"/>).</param>
    /// <param name="candidates">How many records the store returned.</param>
    /// <param name="returned">How many of them the caller receives: at most <paramref name="candidates"/>, and 0 when <paramref name="failed"/>.</param>
    /// <param name="failed">Whether the query failed (the caller receives nothing).</param>
    /// <exception cref="ArgumentNullException"><paramref name="filter"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A count is negative, <paramref name="returned"/> exceeds <paramref name="candidates"/>, or a failed query returned records.</exception>
    /// <remarks>Allocates the record (and the filter's text, cut at <see cref="RetrievalRecord.MaxFilterTextLength"/>) only when some observer receives it.</remarks>
    public void RecordRetrieval(PolicyFilter filter, string? store, StoreFilterApproximations approximations, int candidates, int returned, bool failed)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentOutOfRangeException.ThrowIfNegative(candidates);
        ArgumentOutOfRangeException.ThrowIfNegative(returned);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(returned, candidates);
        if (failed)
        {
            ArgumentOutOfRangeException.ThrowIfNotEqual(returned, 0);
        }

        if (retrievalObservers.Length == 0)
        {
            return;
        }

        var snapshot = current;
        var version = filter.Version ?? (ReferenceEquals(filter.Policy, snapshot.Policy) ? snapshot.Version : PolicyVersion.None);
        var record = new RetrievalRecord(filter, version, store, approximations, candidates, returned, failed);
        foreach (var observer in retrievalObservers)
        {
            observer.OnRetrieval(record);
        }
    }

    private sealed record Snapshot(CompiledPolicy Policy, PolicyVersion Version);
}
