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

/// <summary>How the decision of a shadow (candidate) policy compares with the live one, for one request.</summary>
/// <remarks>
/// A shadow policy is evaluated beside the live one and never changes the answer (docs/dependency-injection.md,
/// "Shadow mode"). A disagreement is a different outcome, allowed against denied; a different reason with the same
/// outcome (two reasons to deny) is <see cref="ReasonChanged"/>, not a disagreement.
/// </remarks>
public enum ShadowOutcome : byte
{
    /// <summary>No shadow policy was evaluated: none is configured, none has loaded yet, or nothing observes the decisions.</summary>
    None = 0,

    /// <summary>The shadow policy gave the same outcome for the same reason.</summary>
    Agreed = 1,

    /// <summary>The same outcome (allowed or denied) for another reason, for example <c>explicit_deny</c> instead of <c>no_matching_grant</c>.</summary>
    ReasonChanged = 2,

    /// <summary>Another outcome: the shadow policy would have allowed what the live one denied, or denied what it allowed.</summary>
    Disagreed = 3,

    /// <summary>Evaluating the shadow policy threw; the exception was contained and the live decision stands.</summary>
    Failed = 4,
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

    internal DecisionRecord(Subject subject, string action, in ResourceRequest resource, Decision decision, PolicyVersion version, ShadowOutcome shadow, Decision shadowDecision,
        PolicyVersion? shadowVersion, RequestContext? context = null)
        : this(subject, action, resource, decision, version, context)
    {
        Shadow = shadow;
        ShadowDecision = shadowDecision;
        ShadowVersion = shadowVersion;
    }

    /// <summary>Who asked.</summary>
    public Subject Subject { get; }

    /// <summary>The action.</summary>
    public string Action { get; }

    /// <summary>The resource as the caller described it.</summary>
    public ResourceRequest Resource { get; }

    /// <summary>The decision: the live policy's, the one the caller got.</summary>
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

    /// <summary>How the shadow policy's decision compares with <see cref="Decision"/>; <see cref="ShadowOutcome.None"/> when no shadow policy was evaluated.</summary>
    public ShadowOutcome Shadow { get; }

    /// <summary>
    /// The shadow policy's decision for the same request, which the caller did not get; the default (a denial) when
    /// <see cref="Shadow"/> is <see cref="ShadowOutcome.None"/> or <see cref="ShadowOutcome.Failed"/>.
    /// </summary>
    public Decision ShadowDecision { get; }

    /// <summary>The version of the shadow policy evaluated, or <see langword="null"/> when <see cref="Shadow"/> is <see cref="ShadowOutcome.None"/>.</summary>
    public PolicyVersion? ShadowVersion { get; }
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
/// policy arrives, a deny-all policy answers: the current policy is never <see langword="null"/>. Optionally evaluates
/// a shadow (candidate) policy beside it on every observed decision, for the observers only. Thread-safe.
/// </summary>
public sealed class PolicyAuthorizer
{
    private readonly IDecisionObserver[] observers;
    private readonly PolicyAuthorizer? shadow;
    private readonly IRetrievalObserver[] retrievalObservers;
    private volatile Snapshot current;

    /// <summary>
    /// Creates an authorizer that denies everything until <see cref="Update"/> is called; with <paramref name="shadow"/>,
    /// it evaluates that authorizer's policy beside its own on every decision it hands to observers (shadow mode).
    /// </summary>
    /// <param name="observers">
    /// Observers that see every decision (audit, metrics), with the shadow policy's outcome (<see cref="DecisionRecord.Shadow"/>);
    /// those that also implement <see cref="IRetrievalObserver"/> see every retrieval query recorded with <see cref="RecordRetrieval"/>.
    /// </param>
    /// <param name="shadow">
    /// Holds a candidate policy (<see cref="Update"/> it as policies are loaded), or <see langword="null"/> for none.
    /// Its current policy is evaluated after the live decision, on the same request, and never changes the answer;
    /// while it has no policy (<see cref="HasPolicy"/> false) nothing is evaluated. Its own observers are not called for
    /// shadow evaluations, and its own shadow is not evaluated.
    /// </param>
    public PolicyAuthorizer(IEnumerable<IDecisionObserver>? observers = null, PolicyAuthorizer? shadow = null)
    {
        this.observers = observers?.ToArray() ?? [];
        this.shadow = shadow;
        retrievalObservers = [.. this.observers.OfType<IRetrievalObserver>()];
        current = new Snapshot(CompiledPolicy.DenyAll, PolicyVersion.None);
    }

    /// <summary>The policy that answers now.</summary>
    public CompiledPolicy Policy => current.Policy;

    /// <summary>The version of the policy that answers now.</summary>
    public PolicyVersion Version => current.Version;

    /// <summary>Whether a real policy has been loaded (else everything is denied).</summary>
    public bool HasPolicy => !ReferenceEquals(current.Policy, CompiledPolicy.DenyAll);

    /// <summary>The authorizer whose policy is evaluated in shadow, or <see langword="null"/> (see the constructor).</summary>
    public PolicyAuthorizer? Shadow => shadow;

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
    /// <returns>The decision: always the current policy's, whatever a shadow policy decides.</returns>
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
            // The shadow policy is evaluated only once the live decision is made, and only for the observers: what it
            // decides (or throws) goes into the record, never into the answer.
            var candidate = shadow?.current;
            if (candidate is null || ReferenceEquals(candidate.Policy, CompiledPolicy.DenyAll))
            {
                Notify(new DecisionRecord(subject, action, resource, decision, snapshot.Version, context));
            }
            else
            {
                var outcome = EvaluateShadow(candidate.Policy, subject, action, resource, context, decision, out var shadowDecision);
                Notify(new DecisionRecord(subject, action, resource, decision, snapshot.Version, outcome, shadowDecision, candidate.Version, context));
            }
        }

        return decision;
    }

    private void Notify(in DecisionRecord record)
    {
        foreach (var observer in observers)
        {
            observer.OnDecision(in record);
        }
    }

    // Kept out of Authorize: the handler would cost the live path even with no shadow policy.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static ShadowOutcome EvaluateShadow(CompiledPolicy policy, Subject subject, string action, in ResourceRequest resource, RequestContext? context, Decision live,
        out Decision decision)
    {
        try
        {
            decision = policy.Authorize(subject, action, resource, context);
        }
#pragma warning disable CA1031 // Reason: nothing a candidate policy does may reach the caller (docs/dependency-injection.md, "Shadow mode"); the failure is in the record.
        catch (Exception)
#pragma warning restore CA1031
        {
            decision = default;
            return ShadowOutcome.Failed;
        }

        return decision.Allowed != live.Allowed ? ShadowOutcome.Disagreed
            : decision.Reason != live.Reason ? ShadowOutcome.ReasonChanged
            : ShadowOutcome.Agreed;
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
