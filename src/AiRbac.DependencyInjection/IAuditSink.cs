namespace AiRbac;

/// <summary>
/// Receives every decision, allowed and denied, for an audit trail. <see cref="IDecisionObserver.OnDecision"/> runs
/// on the request path: an implementation must hand the record off without blocking, throwing or allocating (see
/// <see cref="JsonLinesAuditSink"/>). Every <see cref="IAuditSink"/> registered in the service collection is attached
/// to the authorizer by <c>AddAiRbac</c>, and its counts are published as metrics. A sink that also implements
/// <see cref="IRetrievalObserver"/> (both built-in sinks do) receives the authorizer's retrieval queries too.
/// </summary>
public interface IAuditSink : IDecisionObserver
{
    /// <summary>How many records (decisions, and retrieval queries for a sink that is also an <see cref="IRetrievalObserver"/>) have been written so far (handed to the operating system in complete records).</summary>
    long RecordsWritten { get; }

    /// <summary>How many records have been dropped so far (buffer full, write error, or recorded after disposal).</summary>
    long RecordsDropped { get; }

    /// <summary>Blocks until every record handed over before the call is written out or counted as dropped.</summary>
    void Flush();
}
