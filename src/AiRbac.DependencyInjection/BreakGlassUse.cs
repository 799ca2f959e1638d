using Microsoft.Extensions.Logging;

namespace AiRbac;

/// <summary>
/// One break-glass decision (docs/policy-language.md, section 12), as <see cref="AiRbacOptions.OnBreakGlass"/> receives
/// it: who, what, through which break-glass role, activated by whom, when and why. Break-glass decisions are rare and
/// each is an event an operator wants to see, so this copy is made for each (the other decisions allocate nothing).
/// </summary>
public sealed class BreakGlassUse
{
    internal BreakGlassUse(in DecisionRecord record, DateTimeOffset time)
    {
        var decision = record.Decision;
        Time = time;
        SubjectId = record.Subject.Id;
        var chain = new List<string>();
        for (var link = record.Subject.OnBehalfOf; link is not null; link = link.OnBehalfOf)
        {
            chain.Add(link.Id);
        }

        OnBehalfOf = chain;
        Action = record.Action;
        Resource = record.Resource.Name;
        Allowed = decision.Allowed;
        Reason = decision.ReasonName;
        Role = decision.Role;
        Rule = decision.Rule;
        BreakGlassRole = decision.BreakGlassRole ?? string.Empty;
        var activation = record.BreakGlassActivation;
        ActivatedBy = activation?.Subject ?? string.Empty;
        Justification = activation?.Justification ?? string.Empty;
        ActivatedAt = activation?.Start;
        PolicyVersion = record.Version.ContentHash;
    }

    /// <summary>When the decision was made (the service's <see cref="TimeProvider"/>).</summary>
    public DateTimeOffset Time { get; }

    /// <summary>The subject that asked (the actor).</summary>
    public string SubjectId { get; }

    /// <summary>The ids down its on-behalf-of chain; empty when it acted for no one.</summary>
    public IReadOnlyList<string> OnBehalfOf { get; }

    /// <summary>The action.</summary>
    public string Action { get; }

    /// <summary>The resource.</summary>
    public string Resource { get; }

    /// <summary>Whether the request was allowed.</summary>
    public bool Allowed { get; }

    /// <summary>The snake_case reason.</summary>
    public string Reason { get; }

    /// <summary>The deciding role.</summary>
    public string? Role { get; }

    /// <summary>The deciding rule.</summary>
    public string? Rule { get; }

    /// <summary>The activated break-glass role that made the deciding role count.</summary>
    public string BreakGlassRole { get; }

    /// <summary>The subject that activated it.</summary>
    public string ActivatedBy { get; }

    /// <summary>The activation's justification.</summary>
    public string Justification { get; }

    /// <summary>When the activation started.</summary>
    public DateTimeOffset? ActivatedAt { get; }

    /// <summary>The content hash of the policy that decided.</summary>
    public string PolicyVersion { get; }
}

/// <summary>
/// Tells the operator about every break-glass decision: the warning event <c>BreakGlassDecision</c> (always) and
/// <see cref="AiRbacOptions.OnBreakGlass"/> (when set). On the request path, a decision that is not break-glass costs
/// one check and allocates nothing; a handler that throws is logged (<c>BreakGlassHandlerFailed</c>) and never reaches
/// <c>Authorize</c>.
/// </summary>
internal sealed class BreakGlassAlerts(ILogger logger, Action<BreakGlassUse>? handler, TimeProvider timeProvider) : IDecisionObserver
{
    public void OnDecision(in DecisionRecord record)
    {
        if (record.Decision.BreakGlass)
        {
            Alert(in record);
        }
    }

    private void Alert(in DecisionRecord record)
    {
        var use = new BreakGlassUse(in record, timeProvider.GetUtcNow());
        AiRbacLog.BreakGlassDecision(logger, use.SubjectId, use.Action, use.Resource, use.Allowed, use.Reason, use.BreakGlassRole,
            use.ActivatedBy, use.Justification, use.PolicyVersion);
        if (handler is null)
        {
            return;
        }

        try
        {
            handler(use);
        }
#pragma warning disable CA1031 // Reason: an operator's handler must never turn a decision into an exception.
        catch (Exception e)
#pragma warning restore CA1031
        {
            AiRbacLog.BreakGlassHandlerFailed(logger, use.SubjectId, use.BreakGlassRole, e);
        }
    }
}
