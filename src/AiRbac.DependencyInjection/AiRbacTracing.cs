using System.Diagnostics;

namespace AiRbac;

/// <summary>
/// The <see cref="ActivitySource"/> AiRbac records decisions on: a span named <see cref="DecisionActivityName"/> per
/// denied decision (and per allowed one with <see cref="AiRbacOptions.TraceAllowedDecisions"/> when the caller's
/// activity is recorded). Subscribe with <c>AddSource("AiRbac")</c> in an OpenTelemetry pipeline.
/// </summary>
public static class AiRbacTracing
{
    /// <summary>The activity source: <c>AiRbac</c>.</summary>
    public const string ActivitySourceName = "AiRbac";

    /// <summary>The name of the span recorded per decision: <c>airbac.decision</c>.</summary>
    public const string DecisionActivityName = "airbac.decision";
}

/// <summary>Records decisions as spans; the core knows nothing of it (it is an observer).</summary>
internal sealed class AiRbacDecisionTracer(bool traceAllowed) : IDecisionObserver, IDisposable
{
    // One source per runtime (disposed with it): a listener can tell one service provider's from another's.
    public ActivitySource Source { get; } = new(AiRbacTracing.ActivitySourceName, typeof(AiRbacDecisionTracer).Assembly.GetName().Version?.ToString());

    public void OnDecision(in DecisionRecord record)
    {
        if (!Source.HasListeners())
        {
            return; // the hot path without a listener: one field read, no allocation
        }

        if (record.Decision.Allowed && !(traceAllowed && Activity.Current is { Recorded: true }))
        {
            return;
        }

        Record(in record);
    }

    public void Dispose() => Source.Dispose();

    private void Record(in DecisionRecord record)
    {
        using var activity = Source.StartActivity(AiRbacTracing.DecisionActivityName, ActivityKind.Internal);
        if (activity is null || !activity.IsAllDataRequested)
        {
            return;
        }

        var decision = record.Decision;
        activity.SetTag("enduser.id", record.Subject.Id);
        if (record.Subject.OnBehalfOf is { } principal)
        {
            activity.SetTag("airbac.on_behalf_of", principal.Id);
        }

        activity.SetTag("airbac.action", record.Action);
        activity.SetTag("airbac.resource", record.Resource.Name);
        activity.SetTag("airbac.decision.allowed", decision.Allowed);
        activity.SetTag("airbac.decision.reason", decision.ReasonName);
        if (decision.Role is { } role)
        {
            activity.SetTag("airbac.decision.role", role);
        }

        if (decision.Rule is { } rule)
        {
            activity.SetTag("airbac.decision.rule", rule);
        }

        if (decision.BreakGlassRole is { } breakGlass)
        {
            activity.SetTag("airbac.decision.break_glass_role", breakGlass);
        }

        activity.SetTag("airbac.policy.version", record.Version.ContentHash);
    }
}
