namespace AiRbac.Benchmarks.Scenarios;

/// <summary>A request ready for <see cref="CompiledPolicy.Authorize(Subject, string, in ResourceRequest)"/>: the subject object is built once and reused.</summary>
/// <remarks>Fields, not properties, so the resource can be passed by <see langword="in"/> reference as an application would.</remarks>
internal readonly struct PreparedRequest(Subject subject, string action, ResourceRequest resource)
{
    /// <summary>Who asks.</summary>
    public readonly Subject Subject = subject;

    /// <summary>The action.</summary>
    public readonly string Action = action;

    /// <summary>The resource.</summary>
    public readonly ResourceRequest Resource = resource;

    /// <summary>Decides every request of <paramref name="requests"/> on <paramref name="policy"/>: the timed loop of the Authorize benchmarks.</summary>
    /// <param name="policy">The policy.</param>
    /// <param name="requests">The requests.</param>
    /// <returns>How many were allowed (returned so the JIT cannot drop the work).</returns>
    public static int AuthorizeAll(CompiledPolicy policy, ReadOnlySpan<PreparedRequest> requests)
    {
        ArgumentNullException.ThrowIfNull(policy);
        int allowed = 0;
        foreach (ref readonly var request in requests)
        {
            if (policy.Authorize(request.Subject, request.Action, in request.Resource).Allowed)
            {
                allowed++;
            }
        }

        return allowed;
    }
}
