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

    /// <summary>
    /// Counter of break-glass decisions (<c>{decision}</c>, docs/policy-language.md, section 12), tagged with
    /// <see cref="OutcomeTag"/> and <see cref="ReasonTag"/>: alert on any increase.
    /// </summary>
    public const string BreakGlassDecisions = "airbac.break_glass.decisions";

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

    /// <summary>
    /// Observable gauge (<c>{policy}</c>): 1, tagged with <see cref="PolicyVersionTag"/>, the version this instance
    /// answers from; no measurement before a policy is loaded. Sum it by version to watch a fleet converge on a rollout.
    /// </summary>
    public const string PolicyInfo = "airbac.policy.info";

    /// <summary>Tag of <see cref="PolicyInfo"/>: the policy's content hash (SHA-256, lower-case hex), as in the audit log.</summary>
    public const string PolicyVersionTag = "airbac.policy.version";

    /// <summary>
    /// Counter of decisions evaluated in shadow mode (<c>{decision}</c>), tagged with <see cref="ShadowResultTag"/>:
    /// every decision while a candidate policy is loaded.
    /// </summary>
    public const string ShadowDecisions = "airbac.shadow.decisions";

    /// <summary>
    /// Counter of shadow disagreements (<c>{decision}</c>): decisions the candidate policy would have answered the other
    /// way, tagged with the live <see cref="OutcomeTag"/> and <see cref="ReasonTag"/> and the candidate's
    /// <see cref="ShadowOutcomeTag"/> and <see cref="ShadowReasonTag"/>.
    /// </summary>
    public const string ShadowDisagreements = "airbac.shadow.disagreements";

    /// <summary>Tag of <see cref="ShadowDecisions"/>: <c>agreed</c>, <c>reason_changed</c>, <c>disagreed</c> or <c>failed</c>.</summary>
    public const string ShadowResultTag = "airbac.shadow.result";

    /// <summary>Tag of <see cref="ShadowDisagreements"/>: the candidate policy's outcome, <c>allowed</c> or <c>denied</c>.</summary>
    public const string ShadowOutcomeTag = "airbac.shadow.outcome";

    /// <summary>Tag of <see cref="ShadowDisagreements"/>: the candidate policy's snake_case reason.</summary>
    public const string ShadowReasonTag = "airbac.shadow.reason";
}

/// <summary>The instruments of one service provider; also the decision observer that counts decisions.</summary>
internal sealed class AiRbacInstruments : IDecisionObserver, IDisposable
{
    private static readonly KeyValuePair<string, object?> Allowed = new(AiRbacMetrics.OutcomeTag, "allowed");
    private static readonly KeyValuePair<string, object?> Denied = new(AiRbacMetrics.OutcomeTag, "denied");

    // One tag per reason, built once: Add(...) then copies structs and allocates nothing.
    private static readonly KeyValuePair<string, object?>[] ReasonTags =
        [.. DecisionReasons.All.Select(r => new KeyValuePair<string, object?>(AiRbacMetrics.ReasonTag, DecisionReasons.ToName(r)))];

    // One tag per shadow outcome (index: ShadowOutcome; None is never added), and the four tags of each disagreement,
    // live reason × candidate reason, built once: the shadow counters allocate nothing either.
    private static readonly KeyValuePair<string, object?>[] ShadowResultTags =
    [
        new(AiRbacMetrics.ShadowResultTag, "none"), new(AiRbacMetrics.ShadowResultTag, "agreed"), new(AiRbacMetrics.ShadowResultTag, "reason_changed"),
        new(AiRbacMetrics.ShadowResultTag, "disagreed"), new(AiRbacMetrics.ShadowResultTag, "failed"),
    ];

    private static readonly KeyValuePair<string, object?>[][] DisagreementTags =
        [.. DecisionReasons.All.SelectMany(live => DecisionReasons.All.Select(candidate => new KeyValuePair<string, object?>[]
        {
            new(AiRbacMetrics.OutcomeTag, live == DecisionReason.Allowed ? "allowed" : "denied"),
            new(AiRbacMetrics.ReasonTag, DecisionReasons.ToName(live)),
            new(AiRbacMetrics.ShadowOutcomeTag, candidate == DecisionReason.Allowed ? "allowed" : "denied"),
            new(AiRbacMetrics.ShadowReasonTag, DecisionReasons.ToName(candidate)),
        }))];

    private static readonly KeyValuePair<string, object?>[] ResultTags =
    [
        new(AiRbacMetrics.ResultTag, "loaded"), new(AiRbacMetrics.ResultTag, "unchanged"), new(AiRbacMetrics.ResultTag, "failed"),
    ];

    private readonly Counter<long> decisions;
    private readonly Counter<long> breakGlass;
    private readonly Counter<long> reloads;
    private readonly Counter<long>? shadowDecisions;
    private readonly Counter<long>? shadowDisagreements;
    private readonly bool ownsMeter;
    private (PolicyVersion Version, Measurement<long>[] Measurements)? info; // built once per version

    // A meter factory (registered by the generic host, or AddMetrics) owns the meter and disposes it; without one
    // the meter is created here and disposed with the runtime. The shadow counters exist only in shadow mode.
    public AiRbacInstruments(IReadOnlyList<IAuditSink> sinks, IMeterFactory? meterFactory = null, bool shadow = false)
    {
        string? version = typeof(AiRbacInstruments).Assembly.GetName().Version?.ToString();
        ownsMeter = meterFactory is null;
        Meter = meterFactory?.Create(new MeterOptions(AiRbacMetrics.MeterName) { Version = version }) ?? new Meter(AiRbacMetrics.MeterName, version);
        decisions = Meter.CreateCounter<long>(AiRbacMetrics.Decisions, "{decision}", "Authorization decisions, by outcome and reason.");
        breakGlass = Meter.CreateCounter<long>(AiRbacMetrics.BreakGlassDecisions, "{decision}", "Break-glass decisions (made through an activated break-glass role), by outcome and reason.");
        reloads = Meter.CreateCounter<long>(AiRbacMetrics.Reloads, "{reload}", "Policy reloads after start-up, by result.");
        if (shadow)
        {
            shadowDecisions = Meter.CreateCounter<long>(AiRbacMetrics.ShadowDecisions, "{decision}", "Decisions evaluated by the shadow (candidate) policy too, by how it compared.");
            shadowDisagreements = Meter.CreateCounter<long>(AiRbacMetrics.ShadowDisagreements, "{decision}", "Decisions the shadow (candidate) policy would have answered the other way, by live and candidate outcome and reason.");
        }

        Meter.CreateObservableCounter(AiRbacMetrics.AuditRecordsWritten, () => Sum(sinks, dropped: false), "{record}", "Audit records written.");
        Meter.CreateObservableCounter(AiRbacMetrics.AuditRecordsDropped, () => Sum(sinks, dropped: true), "{record}", "Audit records dropped (buffer full or write error).");
        Meter.CreateObservableGauge(AiRbacMetrics.PolicyInfo, ObservePolicy, "{policy}", "1 for the policy version this instance answers from (tag airbac.policy.version).");
    }

    public Meter Meter { get; }

    /// <summary>The version that answers now; set once the authorizer exists.</summary>
    public Func<PolicyVersion>? CurrentVersion { get; set; }

    public void OnDecision(in DecisionRecord record)
    {
        var reason = record.Decision.Reason;
        var reasonTag = (uint)reason < (uint)ReasonTags.Length ? ReasonTags[(int)reason] : ReasonTags[0];
        var outcome = record.Decision.Allowed ? Allowed : Denied;
        decisions.Add(1, outcome, reasonTag);
        if (record.Decision.BreakGlass)
        {
            breakGlass.Add(1, outcome, reasonTag);
        }

        if (record.Shadow != ShadowOutcome.None && shadowDecisions is not null)
        {
            RecordShadow(in record);
        }
    }

    private void RecordShadow(in DecisionRecord record)
    {
        int outcome = (int)record.Shadow;
        shadowDecisions!.Add(1, ShadowResultTags[(uint)outcome < (uint)ShadowResultTags.Length ? outcome : 0]);
        if (record.Shadow == ShadowOutcome.Disagreed)
        {
            int count = DecisionReasons.All.Count;
            int live = (int)record.Decision.Reason, candidate = (int)record.ShadowDecision.Reason;
            if ((uint)live < (uint)count && (uint)candidate < (uint)count)
            {
                shadowDisagreements!.Add(1, DisagreementTags[(live * count) + candidate]);
            }
        }
    }

    public void RecordReload(PolicyReloadStatus status) => reloads.Add(1, ResultTags[(int)status]);

    public void Dispose()
    {
        if (ownsMeter)
        {
            Meter.Dispose();
        }
    }

    private Measurement<long>[] ObservePolicy()
    {
        var version = CurrentVersion?.Invoke();
        if (version is null || version.ContentHash.Length == 0)
        {
            return [];
        }

        var cached = info;
        if (cached is null || !ReferenceEquals(cached.Value.Version, version))
        {
            cached = (version, [new Measurement<long>(1, new KeyValuePair<string, object?>(AiRbacMetrics.PolicyVersionTag, version.ContentHash))]);
            info = cached;
        }

        return cached.Value.Measurements;
    }

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
