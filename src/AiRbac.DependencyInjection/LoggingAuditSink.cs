using Microsoft.Extensions.Logging;

namespace AiRbac;

/// <summary>
/// Writes every decision as a structured log event (category <c>AiRbac.Audit</c>, event 100 <c>Decision</c>), and every
/// retrieval query recorded through <see cref="PolicyAuthorizer.RecordRetrieval"/> as event 101 <c>Retrieval</c>, so
/// a fleet ships its audit trail with its logging pipeline (<see cref="AiRbacOptions.LogDecisions"/>). Unlike
/// <see cref="JsonLinesAuditSink"/> it allocates while the category is enabled: the logger's state and the
/// providers' formatting run on the request path.
/// </summary>
internal sealed class LoggingAuditSink(ILogger logger) : IAuditSink, IRetrievalObserver
{
    private long written;
    private long dropped;

    public long RecordsWritten => Interlocked.Read(ref written);

    public long RecordsDropped => Interlocked.Read(ref dropped);

    public void OnDecision(in DecisionRecord record)
    {
        if (!logger.IsEnabled(LogLevel.Information))
        {
            return;
        }

        var decision = record.Decision;
        try
        {
            AiRbacLog.Decision(
                logger, record.Subject.Id, record.Action, record.Resource.Name, decision.Allowed, decision.ReasonName, decision.Role, decision.Rule, record.Version.ContentHash);
            Interlocked.Increment(ref written);
        }
#pragma warning disable CA1031 // Reason: an observer must not throw into Authorize; a logging provider that fails loses the record, which is counted.
        catch (Exception)
#pragma warning restore CA1031
        {
            Interlocked.Increment(ref dropped);
        }
    }

    public void OnRetrieval(RetrievalRecord record)
    {
        if (record is null || !logger.IsEnabled(LogLevel.Information))
        {
            return;
        }

        try
        {
            AiRbacLog.Retrieval(
                logger, record.Subject.Id, record.Action, record.Store, record.Candidates, record.Removed, record.Returned, record.Failed, record.Approximations, record.Version.ContentHash, record.FilterText);
            Interlocked.Increment(ref written);
        }
#pragma warning disable CA1031 // Reason: as for decisions, a logging provider that fails loses the record, which is counted.
        catch (Exception)
#pragma warning restore CA1031
        {
            Interlocked.Increment(ref dropped);
        }
    }

    public void Flush()
    {
        // Logging providers buffer on their own; there is nothing of ours to write out.
    }
}
