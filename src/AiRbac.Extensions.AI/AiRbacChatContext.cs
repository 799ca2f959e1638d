using Microsoft.Extensions.AI;

namespace AiRbac.Extensions.AI;

/// <summary>
/// Who is asking and what the request's data carries, for one chat request: the subject (typically an agent acting on
/// behalf of the signed-in user) and the sensitivity tier, tags and scope of the context sent to the model (for
/// example RAG passages tagged <c>confidential</c> or <c>phi</c>). Attach it with
/// <see cref="AiRbacChatOptionsExtensions.WithAiRbac(ChatOptions, AiRbacChatContext)"/>.
/// </summary>
public sealed class AiRbacChatContext
{
    /// <summary>The key under which the context is stored in <see cref="ChatOptions.AdditionalProperties"/>.</summary>
    public const string PropertyName = "airbac.context";

    /// <summary>Creates a context for a subject.</summary>
    /// <param name="subject">Who asks; build it once per principal and reuse it.</param>
    /// <exception cref="ArgumentNullException"><paramref name="subject"/> is <see langword="null"/>.</exception>
    public AiRbacChatContext(Subject subject)
    {
        ArgumentNullException.ThrowIfNull(subject);
        Subject = subject;
    }

    /// <summary>Who asks.</summary>
    public Subject Subject { get; }

    /// <summary>The highest sensitivity tier of the data in the request (for example of retrieved passages), or <see langword="null"/>.</summary>
    public string? Sensitivity { get; init; }

    /// <summary>The tags of the data in the request (for example <c>phi</c>); empty for none.</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>The scope the request runs in (for example <c>acme/health</c>), or <see langword="null"/>.</summary>
    public string? Scope { get; init; }

    /// <summary>
    /// What the host knows of the request (docs/policy-language.md, sections 11 to 13): context pairs such as <c>mfa</c> and
    /// <c>network</c>, break-glass activations and approvals, or <see langword="null"/>. Trusted: set it from what your
    /// code verified (the token, the network), never from the conversation. Every decision of the request reads it; a tool
    /// call adds its arguments as <c>arg.NAME</c> pairs after these (docs/integrations.md, "Tool-call arguments as
    /// context"), so no argument can replace a pair set here. Approvals set here count for every call of the request:
    /// approvals of one call belong in <see cref="ApprovalProvider"/>.
    /// </summary>
    public RequestContext? RequestContext { get; init; }

    /// <summary>
    /// The host's approval store (docs/integrations.md, "Tool-call approvals"), or <see langword="null"/>. Asked only for a
    /// tool call the policy answers <c>approval_required</c>: it returns the approvals the host attests for exactly that
    /// call (its <see cref="AiRbacToolCall.CallId"/> and <see cref="AiRbacToolCall.Fingerprint"/>, as shown in the approval
    /// request), and the call is decided again with them; it runs only if the policy then allows it, and the approvals that
    /// let it run are spent on it (a replay of the call is asked about again). An approval in the chat history is never
    /// one: only what this returns counts. A provider that throws denies the call.
    /// </summary>
    public Func<AiRbacToolCall, IReadOnlyList<Approval>>? ApprovalProvider { get; init; }

    /// <summary>Reads the context attached to chat options.</summary>
    /// <param name="options">The options, or <see langword="null"/>.</param>
    /// <returns>The context, or <see langword="null"/> when none is attached.</returns>
    public static AiRbacChatContext? From(ChatOptions? options)
        => options?.AdditionalProperties is { } properties && properties.TryGetValue(PropertyName, out var value)
            ? value as AiRbacChatContext
            : null;
}

/// <summary>Attaches an <see cref="AiRbacChatContext"/> to <see cref="ChatOptions"/>.</summary>
public static class AiRbacChatOptionsExtensions
{
    /// <summary>
    /// Stores the context in <see cref="ChatOptions.AdditionalProperties"/> (replacing any earlier one) and wraps every
    /// <see cref="AIFunction"/> in <see cref="ChatOptions.Tools"/> so that invoking it asks the policy for this context,
    /// whoever invokes it (a <see cref="FunctionInvokingChatClient"/> answering an approval response from the posted
    /// history, for example). A wrapped tool finds the policy through the first <see cref="AiRbacChatClient"/> the options
    /// pass through, or a <see cref="PolicyAuthorizer"/> in the invocation's services; with neither it does not run.
    /// Tools added to the options afterwards are not wrapped.
    /// </summary>
    /// <param name="options">The options to change.</param>
    /// <param name="context">The context.</param>
    /// <returns><paramref name="options"/>.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public static ChatOptions WithAiRbac(this ChatOptions options, AiRbacChatContext context) => Attach(options, context, policy: null);

    /// <summary>
    /// As <see cref="WithAiRbac(ChatOptions, AiRbacChatContext)"/>, with the policy bound to the wrapped tools at once:
    /// use it when a <see cref="FunctionInvokingChatClient"/> sits outside the <see cref="AiRbacChatClient"/> and approval
    /// responses must be honoured, since that client invokes approved tools before AiRbac sees the request.
    /// </summary>
    /// <param name="options">The options to change.</param>
    /// <param name="context">The context.</param>
    /// <param name="authorizer">The authorizer that decides every invocation of the wrapped tools (default tool action and prefix).</param>
    /// <returns><paramref name="options"/>.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public static ChatOptions WithAiRbac(this ChatOptions options, AiRbacChatContext context, PolicyAuthorizer authorizer)
    {
        ArgumentNullException.ThrowIfNull(authorizer);
        return Attach(options, context, ToolPolicy.WithDefaults(authorizer));
    }

    private static ChatOptions Attach(ChatOptions options, AiRbacChatContext context, ToolPolicy? policy)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(context);
        (options.AdditionalProperties ??= [])[AiRbacChatContext.PropertyName] = context;
        if (options.Tools is { Count: > 0 } tools)
        {
            options.Tools = [.. tools.Select(tool => tool switch
            {
                AuthorizedFunction wrapped => new AuthorizedFunction(wrapped.Unguarded, context, policy),
                AIFunction function => new AuthorizedFunction(function, context, policy),
                _ => tool,
            })];
        }

        return options;
    }

    /// <summary>Stores a context for <paramref name="subject"/> in <see cref="ChatOptions.AdditionalProperties"/>.</summary>
    /// <param name="options">The options to change.</param>
    /// <param name="subject">Who asks.</param>
    /// <param name="sensitivity">The sensitivity tier of the data in the request, or <see langword="null"/>.</param>
    /// <param name="tags">The tags of the data in the request.</param>
    /// <returns><paramref name="options"/>.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public static ChatOptions WithAiRbac(this ChatOptions options, Subject subject, string? sensitivity = null, params string[] tags)
        => options.WithAiRbac(new AiRbacChatContext(subject) { Sensitivity = sensitivity, Tags = tags ?? [] });
}
