namespace AiRbac.Requests;

/// <summary>One request of a JSON Lines corpus (docs/request-lines.md): who, what, on which resource.</summary>
/// <param name="Subject">Who asks (with its on-behalf-of chain).</param>
/// <param name="Action">The action.</param>
/// <param name="Resource">The resource with caller-supplied scope, tier, tags and owner.</param>
/// <param name="Context">What the request carries besides (docs/policy-language.md, section 11), or <see langword="null"/>.</param>
internal sealed record AuthorizationRequest(Subject Subject, string Action, ResourceRequest Resource, RequestContext? Context = null)
{
    /// <summary>Decides this request on a policy.</summary>
    /// <param name="policy">The policy.</param>
    /// <returns>The decision.</returns>
    public Decision AuthorizeWith(CompiledPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return policy.Authorize(Subject, Action, Resource, Context);
    }
}

/// <summary>A corpus line that is not a valid request; the message says why.</summary>
internal sealed class RequestFormatException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">Why the line is bad (control and bidirectional formatting characters are kept as <c>\uXXXX</c>, so it is safe to print).</param>
    public RequestFormatException(string message)
        : base(Diagnostics.UnsafeText.Escape(message ?? string.Empty))
    {
    }

    /// <summary>Creates the exception.</summary>
    public RequestFormatException()
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">Why the line is bad (control and bidirectional formatting characters are kept as <c>\uXXXX</c>, so it is safe to print).</param>
    /// <param name="innerException">The cause.</param>
    public RequestFormatException(string message, Exception innerException)
        : base(Diagnostics.UnsafeText.Escape(message ?? string.Empty), innerException)
    {
    }
}
