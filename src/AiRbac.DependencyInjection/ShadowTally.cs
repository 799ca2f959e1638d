namespace AiRbac;

/// <summary>
/// Counts what the health check and the log report of shadow mode: disagreements and failed shadow evaluations
/// (docs/dependency-injection.md, "Shadow mode"). An observer like the metrics; it touches shared memory only for those
/// two, so agreeing decisions cost it one compare.
/// </summary>
internal sealed class ShadowTally : IDecisionObserver
{
    private long disagreed;
    private long failed;

    /// <summary>Decisions the candidate policy would have answered the other way, since start-up.</summary>
    public long Disagreed => Interlocked.Read(ref disagreed);

    /// <summary>Shadow evaluations that threw, since start-up.</summary>
    public long Failed => Interlocked.Read(ref failed);

    public void OnDecision(in DecisionRecord record)
    {
        switch (record.Shadow)
        {
            case ShadowOutcome.Disagreed:
                Interlocked.Increment(ref disagreed);
                break;
            case ShadowOutcome.Failed:
                Interlocked.Increment(ref failed);
                break;
        }
    }
}
