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
    /// A copy of <paramref name="options"/> whose tools are only those the context's subject may invoke, so the model
    /// never sees the others; <paramref name="options"/> is not changed. A forced tool choice naming a removed tool becomes
    /// automatic (none when nothing is left). A provider-hosted MCP server is narrowed to the listed tools the subject
    /// may invoke and always requires approval; one without an <c>AllowedTools</c> list is removed, since only an
    /// <see cref="AiRbacChatClient"/> screens its approval requests per call.
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
    /// </summary>
    /// <param name="context">Who asks, or <see langword="null"/> (every tool is removed).</param>
    /// <param name="options">The request's options, or <see langword="null"/>.</param>
    /// <param name="innerClient">The pipeline the request goes to next, or <see langword="null"/>.</param>
    /// <returns>The copy (a new <see cref="ChatOptions"/> when <paramref name="options"/> is <see langword="null"/>).</returns>
    public ChatOptions WithoutForbiddenTools(AiRbacChatContext? context, ChatOptions? options, IChatClient? innerClient)
    {
        var request = options?.Clone() ?? new ChatOptions();
        bool screenedPerCall = innerClient?.GetService(typeof(AiRbacChatClient)) is AiRbacChatClient screening && screening.Decides(policy);
        policy.HideForbidden(context, request, keepUnlistedMcpServers: screenedPerCall, permit: null);
        return request;
    }
}
