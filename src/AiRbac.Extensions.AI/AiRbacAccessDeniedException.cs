namespace AiRbac.Extensions.AI;

/// <summary>
/// Thrown by an <see cref="AiRbacChatClient"/> when a request may not reach the model. The message names the action,
/// the resource and the reason; <see cref="Decision"/> holds the full decision for logs (never show
/// <see cref="Decision.Explain"/> to the end user: it names roles and rules).
/// </summary>
public sealed class AiRbacAccessDeniedException : UnauthorizedAccessException
{
    /// <summary>Creates an exception.</summary>
    public AiRbacAccessDeniedException()
        : this("Access denied.")
    {
    }

    /// <summary>Creates an exception with a message.</summary>
    /// <param name="message">The message.</param>
    public AiRbacAccessDeniedException(string message)
        : base(message)
    {
        Action = string.Empty;
        Resource = string.Empty;
        ReasonName = DecisionReasons.ToName(DecisionReason.InvalidRequest);
    }

    /// <summary>Creates an exception with a message and an inner exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public AiRbacAccessDeniedException(string message, Exception innerException)
        : base(message, innerException)
    {
        Action = string.Empty;
        Resource = string.Empty;
        ReasonName = DecisionReasons.ToName(DecisionReason.InvalidRequest);
    }

    /// <summary>Creates an exception for a denied decision.</summary>
    /// <param name="action">The action.</param>
    /// <param name="resource">The resource.</param>
    /// <param name="decision">The decision.</param>
    public AiRbacAccessDeniedException(string action, string resource, Decision decision)
        : base($"Access denied: {action} on {resource} ({decision.ReasonName}).")
    {
        Action = action ?? string.Empty;
        Resource = resource ?? string.Empty;
        Decision = decision;
        ReasonName = decision.ReasonName;
    }

    /// <summary>The action that was refused.</summary>
    public string Action { get; }

    /// <summary>The resource the action was refused on.</summary>
    public string Resource { get; }

    /// <summary>The stable snake_case reason (for example <c>sensitivity_ceiling</c>).</summary>
    public string ReasonName { get; }

    /// <summary>The decision, or <see langword="null"/> when the request was refused before a decision (no model id).</summary>
    public Decision? Decision { get; }
}
