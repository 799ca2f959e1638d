using System.Diagnostics.Metrics;

namespace AiRbac;

/// <summary>
/// Names of the AiRbac meter, its instruments and their tags (System.Diagnostics.Metrics). Subscribe to
/// <see cref="MeterName"/> in any OpenTelemetry pipeline (<c>AddMeter("AiRbac")</c>) or with a <see cref="MeterListener"/>.
/// </summary>
public static class AiRbacMetrics
{
    /// <summary>The meter: <c>AiRbac</c>.</summary>
    public const string MeterName = "AiRbac";

    /// <summary>Counter of decisions (<c>{decision}</c>), tagged with <see cref="OutcomeTag"/> and <see cref="ReasonTag"/>.</summary>
    public const string Decisions = "airbac.decisions";

    /// <summary>Counter of reloads after start-up (<c>{reload}</c>), tagged with <see cref="ResultTag"/>.</summary>
    public const string Reloads = "airbac.policy.reloads";

    /// <summary>Observable counter of audit records written to every audit sink (<c>{record}</c>).</summary>
    public const string AuditRecordsWritten = "airbac.audit.records.written";

    /// <summary>Observable counter of audit records dropped by every audit sink (<c>{record}</c>): buffer full or write error.</summary>
    public const string AuditRecordsDropped = "airbac.audit.records.dropped";

    /// <summary>Tag of <see cref="Decisions"/>: <c>allowed</c> or <c>denied</c>.</summary>
    public const string OutcomeTag = "airbac.decision.outcome";

    /// <summary>Tag of <see cref="Decisions"/>: the snake_case reason (<see cref="DecisionReasons.ToName"/>).</summary>
    public const string ReasonTag = "airbac.decision.reason";

    /// <summary>Tag of <see cref="Reloads"/>: <c>loaded</c>, <c>unchanged</c> or <c>failed</c>.</summary>
    public const string ResultTag = "airbac.reload.result";
}

/// <summary>The instruments of one service provider; also the decision observer that counts decisions.</summary>
internal sealed class AiRbacInstruments : IDecisionObserver, IDisposable
{
    private static readonly KeyValuePair<string, object?> Allowed = new(AiRbacMetrics.OutcomeTag, "allowed");
    private static readonly KeyValuePair<string, object?> Denied = new(AiRbacMetrics.OutcomeTag, "denied");

    // One tag per reason, built once: Add(...) then copies structs and allocates nothing.
    private static readonly KeyValuePair<string, object?>[] ReasonTags =
        [.. DecisionReasons.All.Select(r => new KeyValuePair<string, object?>(AiRbacMetrics.ReasonTag, DecisionReasons.ToName(r)))];

    private static readonly KeyValuePair<string, object?>[] ResultTags =
    [
        new(AiRbacMetrics.ResultTag, "loaded"), new(AiRbacMetrics.ResultTag, "unchanged"), new(AiRbacMetrics.ResultTag, "failed"),
    ];

    private readonly Counter<long> decisions;
    private readonly Counter<long> reloads;

    public AiRbacInstruments(IReadOnlyList<IAuditSink> sinks)
    {
        Meter = new Meter(AiRbacMetrics.MeterName, typeof(AiRbacInstruments).Assembly.GetName().Version?.ToString());
        decisions = Meter.CreateCounter<long>(AiRbacMetrics.Decisions, "{decision}", "Authorization decisions, by outcome and reason.");
        reloads = Meter.CreateCounter<long>(AiRbacMetrics.Reloads, "{reload}", "Policy reloads after start-up, by result.");
        Meter.CreateObservableCounter(AiRbacMetrics.AuditRecordsWritten, () => Sum(sinks, dropped: false), "{record}", "Audit records written.");
        Meter.CreateObservableCounter(AiRbacMetrics.AuditRecordsDropped, () => Sum(sinks, dropped: true), "{record}", "Audit records dropped (buffer full or write error).");
    }

    public Meter Meter { get; }

    public void OnDecision(in DecisionRecord record)
    {
        var reason = record.Decision.Reason;
        var reasonTag = (uint)reason < (uint)ReasonTags.Length ? ReasonTags[(int)reason] : ReasonTags[0];
        decisions.Add(1, record.Decision.Allowed ? Allowed : Denied, reasonTag);
    }

    public void RecordReload(PolicyReloadStatus status) => reloads.Add(1, ResultTags[(int)status]);

    public void Dispose() => Meter.Dispose();

    private static long Sum(IReadOnlyList<IAuditSink> sinks, bool dropped)
    {
        long total = 0;
        foreach (var sink in sinks)
        {
            total += dropped ? sink.RecordsDropped : sink.RecordsWritten;
        }

        return total;
    }
}
