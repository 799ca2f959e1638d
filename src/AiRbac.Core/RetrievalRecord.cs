namespace AiRbac;

/// <summary>
/// One filtered retrieval query, for the audit trail (docs/retrieval.md, "Audited retrieval"): who searched, for which
/// action, under which policy version and filter, and how many records the store returned, the post-filter removed and
/// the caller received. Built by <see cref="PolicyAuthorizer.RecordRetrieval"/>; immutable, so an observer may keep it.
/// </summary>
public sealed class RetrievalRecord
{
    /// <summary>
    /// <see cref="FilterText"/> is at most this many characters: past it, the filter's text is cut and ends with a line
    /// saying so (<c>airbac filter</c> prints it whole).
    /// </summary>
    public const int MaxFilterTextLength = Tuning.Filter.MaxAuditTextLength;

    internal RetrievalRecord(PolicyFilter filter, PolicyVersion version, string? store, StoreFilterApproximations approximations, int candidates, int returned, bool failed)
    {
        Filter = filter;
        Subject = filter.Subject;
        Version = version;
        Store = store;
        Approximations = approximations;
        Candidates = candidates;
        Returned = returned;
        Failed = failed;
        FilterText = filter.ToString(MaxFilterTextLength);
    }

    /// <summary>Who searched, with the subjects it acts on behalf of (the filter's subject).</summary>
    public Subject Subject { get; }

    /// <summary>The action the results were filtered for.</summary>
    public string Action => Filter.Action;

    /// <summary>The version of the policy that built the filter.</summary>
    public PolicyVersion Version { get; }

    /// <summary>The policy filter applied (in the store, as a predicate, and after it, by the post-filter).</summary>
    public PolicyFilter Filter { get; }

    /// <summary>The filter's text (<see cref="PolicyFilter.ToString()"/>), at most <see cref="MaxFilterTextLength"/> characters.</summary>
    public string FilterText { get; }

    /// <summary>The store or collection searched, as the caller names it (for a vector collection, its name), or <see langword="null"/>.</summary>
    public string? Store { get; }

    /// <summary>What the store predicate widened, so that the post-filter had work to do; <see cref="StoreFilterApproximations.None"/> when it was exact.</summary>
    public StoreFilterApproximations Approximations { get; }

    /// <summary>How many records the store returned (each was handed to the post-filter).</summary>
    public int Candidates { get; }

    /// <summary>How many of them the post-filter removed (<see cref="Candidates"/> minus <see cref="Returned"/>).</summary>
    public int Removed => Candidates - Returned;

    /// <summary>How many records the caller received.</summary>
    public int Returned { get; }

    /// <summary>Whether the query failed (the store, the mapping or an observer threw): the caller received nothing.</summary>
    public bool Failed { get; }
}

/// <summary>
/// Sees every filtered retrieval query recorded through <see cref="PolicyAuthorizer.RecordRetrieval"/> (audit logs). An
/// observer passed to <see cref="PolicyAuthorizer(IEnumerable{IDecisionObserver}, PolicyAuthorizer)"/> that also implements this interface
/// receives them. Called on the retrieval path, after the query: implementations must not block or throw.
/// </summary>
public interface IRetrievalObserver
{
    /// <summary>Called once per recorded retrieval query.</summary>
    /// <param name="record">The query, its filter and its counts.</param>
    void OnRetrieval(RetrievalRecord record);
}
