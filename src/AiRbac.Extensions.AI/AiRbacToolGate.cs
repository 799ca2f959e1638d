using Microsoft.Extensions.AI;

namespace AiRbac.Extensions.AI;

/// <summary>
/// The one answer to "may this request's subject see and invoke this tool", for adapters of agent stacks built on
/// Microsoft.Extensions.AI tools (the Agent Framework and Semantic Kernel packages of AiRbac use it, and so does
/// <see cref="AiRbacChatClient"/>): <c>tool:invoke</c> on <c>tool:NAME</c> (the action and prefix of the options) with the
/// context's sensitivity, tags and scope. A request without a context is decided for the anonymous subject, so every tool
/// is denied (<c>missing_identity</c>).
/// </summary>
public sealed class AiRbacToolGate
{
    private readonly ToolPolicy policy;
    private readonly Func<ChatOptions?, AiRbacChatContext?> contextProvider;

    /// <summary>Creates a gate.</summary>
    /// <param name="authorizer">The authorizer that holds the current policy.</param>
    /// <param name="options">The tool action, resource prefixes and context provider; <see langword="null"/> for the
    /// defaults. Read once.</param>
    /// <exception cref="ArgumentNullException"><paramref name="authorizer"/> is <see langword="null"/>.</exception>
    public AiRbacToolGate(PolicyAuthorizer authorizer, AiRbacChatClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(authorizer);
        options ??= new AiRbacChatClientOptions();
        policy = new ToolPolicy(authorizer, options.ToolAction, options.ToolResourcePrefix, options.McpToolResourcePrefix);
        contextProvider = options.ContextProvider ?? AiRbacChatContext.From;
    }

    /// <summary>The context of a request: the options' <see cref="AiRbacChatClientOptions.ContextProvider"/>, else
    /// <see cref="AiRbacChatContext.From(ChatOptions)"/>.</summary>
    /// <param name="options">The request's chat options, or <see langword="null"/>.</param>
    /// <returns>The context, or <see langword="null"/> when the request has none.</returns>
    public AiRbacChatContext? ContextOf(ChatOptions? options) => contextProvider(options);

    /// <summary>Decides whether the context's subject may invoke a tool.</summary>
    /// <param name="context">Who asks and the data context, or <see langword="null"/> (denied, <c>missing_identity</c>).</param>
    /// <param name="toolName">The tool's name as the model sees it; <see langword="null"/> or empty is denied
    /// (<c>invalid_request</c>).</param>
    /// <returns>The decision; only <see cref="Decision.Allowed"/> lets the tool run.</returns>
    public Decision Authorize(AiRbacChatContext? context, string? toolName)
        => string.IsNullOrEmpty(toolName) ? policy.AuthorizeNothing(context) : policy.Authorize(context, toolName);

    /// <summary>
    /// Whether the model is shown the tool: the subject may invoke it (decided with the host's context and no arguments),
    /// or it waits only for approvals, or only a condition on a call argument (<c>arg.NAME</c>) holds it back. Each call is
    /// still decided with its arguments (<see cref="Authorize(AiRbacChatContext, string, IEnumerable{KeyValuePair{string, object}}, string)"/>).
    /// </summary>
    /// <param name="context">Who asks, or <see langword="null"/> (nothing is shown).</param>
    /// <param name="toolName">The tool's name; <see langword="null"/> or empty is not shown.</param>
    /// <returns>Whether to show it.</returns>
    public bool Offers(AiRbacChatContext? context, string? toolName)
        => !string.IsNullOrEmpty(toolName) && ToolPolicy.IsOffered(policy.Authorize(context, toolName));

    /// <summary>
    /// Decides one call of a tool with its arguments (docs/integrations.md, "Tool-call arguments as context"): the host's
    /// <see cref="AiRbacChatContext.RequestContext"/>, then each argument as the context pair <c>arg.NAME</c>; when the
    /// policy answers <c>approval_required</c> and the context has an <see cref="AiRbacChatContext.ApprovalProvider"/>, the
    /// approvals it attests for this call are added and the call is decided again. Attested approvals that let the call be
    /// allowed are spent on it (call this when the call is about to run): the same approvals do not count for that call
    /// again. Never throws for what the arguments hold; an argument the policy declares but that maps to no context type
    /// makes the call <c>invalid_request</c>.
    /// </summary>
    /// <param name="context">Who asks and the host's context, or <see langword="null"/> (denied, <c>missing_identity</c>).</param>
    /// <param name="toolName">The tool's name; <see langword="null"/> or empty is denied (<c>invalid_request</c>).</param>
    /// <param name="arguments">The call's arguments (not trusted), or <see langword="null"/>.</param>
    /// <param name="callId">The call's id, passed to the approval provider, or <see langword="null"/>.</param>
    /// <returns>The decision; only <see cref="Decision.Allowed"/> lets the tool run.</returns>
    public Decision Authorize(AiRbacChatContext? context, string? toolName, IEnumerable<KeyValuePair<string, object?>>? arguments, string? callId)
        => string.IsNullOrEmpty(toolName) ? policy.AuthorizeNothing(context) : policy.AuthorizeCall(context, toolName, callId, arguments);

    /// <summary>
    /// Names, on each function-call approval request among <paramref name="contents"/> that has not been named yet, the
    /// approval rule the call waits for and its fingerprint (the additional properties <c>airbac.approval_rule</c> and
    /// <c>airbac.fingerprint</c>, docs/integrations.md, "Tool-call approvals"), so that the host's approver is shown which
    /// rule, and its approval store can record the approval for exactly that call. The rule is what the policy answers for
    /// the call with its arguments now (decided without reaching the observers); a call that needs no approval is left
    /// unnamed. Nothing is trusted from the request: it only describes it.
    /// </summary>
    /// <param name="context">Who asks, or <see langword="null"/>.</param>
    /// <param name="contents">The contents of a response (or of a streamed update).</param>
    /// <exception cref="ArgumentNullException"><paramref name="contents"/> is <see langword="null"/>.</exception>
    public void DescribeApprovalRequests(AiRbacChatContext? context, IEnumerable<AIContent> contents)
    {
        ArgumentNullException.ThrowIfNull(contents);
        foreach (var content in contents)
        {
            if (content is ToolApprovalRequestContent { ToolCall: FunctionCallContent call } request
                && request.AdditionalProperties?.ContainsKey(ToolApprovals.RuleProperty) != true
                && policy.ApprovalRuleOf(context, call.Name, call.Arguments) is { } rule)
            {
                (request.AdditionalProperties ??= [])[ToolApprovals.RuleProperty] = rule;
                request.AdditionalProperties[ToolApprovals.FingerprintProperty] = ToolCallContext.Fingerprint(context, call.Name, call.Arguments);
            }
        }
    }

    /// <summary>
    /// A copy of <paramref name="options"/> whose tools are only those the context's subject may invoke, so the model
    /// never sees the others; <paramref name="options"/> is not changed. A forced tool choice naming a removed tool becomes
    /// automatic (none when nothing is left). A provider-hosted MCP server is narrowed to the listed tools the subject
    /// may invoke and always requires approval; one without an <c>AllowedTools</c> list is removed, since only an
    /// <see cref="AiRbacChatClient"/> screens its approval requests per call. A function the policy answers
    /// <c>approval_required</c> for is offered as an <see cref="ApprovalRequiredAIFunction"/>.
    /// </summary>
    /// <param name="context">Who asks, or <see langword="null"/> (every tool is removed).</param>
    /// <param name="options">The request's options, or <see langword="null"/>.</param>
    /// <returns>The copy (a new <see cref="ChatOptions"/> when <paramref name="options"/> is <see langword="null"/>).</returns>
    public ChatOptions WithoutForbiddenTools(AiRbacChatContext? context, ChatOptions? options) => WithoutForbiddenTools(context, options, innerClient: null);

    /// <summary>
    /// As <see cref="WithoutForbiddenTools(AiRbacChatContext, ChatOptions)"/>, for a request about to be sent to
    /// <paramref name="innerClient"/>. When that pipeline holds an <see cref="AiRbacChatClient"/> of the same authorizer,
    /// tool action and prefixes (which authorizes every approval request of a provider-hosted MCP server per call, and
    /// every approval posted for one), a server without an <c>AllowedTools</c> list is offered as that client offers it:
    /// if the subject may invoke the server itself (<c>mcp:SERVER/</c>), always requiring approval. Otherwise it is removed.
    /// A function the policy answers <c>approval_required</c> for is offered as an <see cref="ApprovalRequiredAIFunction"/>
    /// (docs/integrations.md, "Tool-call approvals").
    /// </summary>
    /// <param name="context">Who asks, or <see langword="null"/> (every tool is removed).</param>
    /// <param name="options">The request's options, or <see langword="null"/>.</param>
    /// <param name="innerClient">The pipeline the request goes to next, or <see langword="null"/>.</param>
    /// <returns>The copy (a new <see cref="ChatOptions"/> when <paramref name="options"/> is <see langword="null"/>).</returns>
    public ChatOptions WithoutForbiddenTools(AiRbacChatContext? context, ChatOptions? options, IChatClient? innerClient)
    {
        var request = options?.Clone() ?? new ChatOptions();
        bool screenedPerCall = innerClient?.GetService(typeof(AiRbacChatClient)) is AiRbacChatClient screening && screening.Decides(policy);
        policy.HideForbidden(context, request, keepUnlistedMcpServers: screenedPerCall, permit: null, markApprovals: true);
        return request;
    }
}
