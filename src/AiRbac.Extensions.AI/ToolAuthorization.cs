using Microsoft.Extensions.AI;

namespace AiRbac.Extensions.AI;

/// <summary>How a tool invocation is put to the policy: the action, the resource name, and the request context.</summary>
/// <param name="authorizer">The authorizer that holds the current policy.</param>
/// <param name="toolAction">The action authorized for a tool.</param>
/// <param name="toolPrefix">The prefix of the tool resource.</param>
/// <param name="mcpPrefix">The prefix of the resource of a tool on a provider-hosted MCP server.</param>
internal sealed class ToolPolicy(PolicyAuthorizer authorizer, string toolAction, string toolPrefix, string mcpPrefix)
{
    // toolPrefix + name, made once per tool name (bounded).
    private readonly AiRbac.Internal.ToolResourceNames toolResources = AiRbac.Internal.ToolResourceNames.For(toolPrefix);

    /// <summary>No context: an empty subject, which every policy denies (missing_identity).</summary>
    internal static readonly Subject Anonymous = new(string.Empty, SubjectKind.User, []);

    private static readonly AiRbacChatClientOptions Defaults = new();

    internal PolicyAuthorizer Authorizer => authorizer;

    /// <summary>The policy with the default action and prefix (<c>tool:invoke</c> on <c>tool:NAME</c>).</summary>
    internal static ToolPolicy WithDefaults(PolicyAuthorizer authorizer)
        => new(authorizer, Defaults.ToolAction, Defaults.ToolResourcePrefix, Defaults.McpToolResourcePrefix);

    internal Decision Authorize(AiRbacChatContext? context, string toolName)
        => authorizer.Authorize(context?.Subject ?? Anonymous, toolAction, Resource(context, toolResources.Of(toolName)));

    /// <summary>
    /// Authorizes a tool of a provider-hosted MCP server: the action on <c>mcp:SERVER/TOOL</c> (an empty
    /// <paramref name="toolName"/> names the server itself, <c>mcp:SERVER/</c>).
    /// </summary>
    /// <returns><see langword="null"/> when allowed, else the text of the denial. A server name that is empty or
    /// contains <c>/</c> cannot be named unambiguously and is denied without asking the policy.</returns>
    internal string? AuthorizeMcp(AiRbacChatContext? context, string? serverName, string toolName)
    {
        string display = $"{serverName}/{toolName}";
        if (string.IsNullOrEmpty(serverName) || serverName.Contains('/', StringComparison.Ordinal))
        {
            return CannotAuthorize(display);
        }

        var decision = authorizer.Authorize(context?.Subject ?? Anonymous, toolAction, Resource(context, mcpPrefix + serverName + "/" + toolName));
        return decision.Allowed ? null : AiRbacChatClient.DeniedToolResult(display, decision);
    }

    /// <summary>
    /// Authorizes a tool call that is not a function call (the call inside a tool-approval request or response).
    /// An MCP server tool call is authorized by <see cref="AuthorizeMcp"/>; any other kind has no resource name, so it
    /// is denied (fail closed).
    /// </summary>
    /// <returns><see langword="null"/> when allowed, else the text of the denial.</returns>
    internal string? AuthorizeHostedCall(AiRbacChatContext? context, ToolCallContent call) => call switch
    {
        McpServerToolCallContent mcp => AuthorizeMcp(context, mcp.ServerName, mcp.Name),
        _ => CannotAuthorize(call.GetType().Name),
    };

    /// <summary>The denial of a call AiRbac has no resource name for.</summary>
    internal static string CannotAuthorize(string what)
        => $"Tool '{what}' was not run: access denied ({DecisionReasons.ToName(DecisionReason.InvalidRequest)}).";

    internal static ResourceRequest Resource(AiRbacChatContext? context, string name)
        => context is null ? new ResourceRequest(name) : new ResourceRequest(name)
        {
            Sensitivity = context.Sensitivity,
            Tags = context.Tags as string[] ?? [.. context.Tags],
            Scope = context.Scope,
        };
}

/// <summary>
/// A function that asks the policy every time it is invoked, whoever invokes it: AiRbac's chat client, a
/// <see cref="FunctionInvokingChatClient"/> answering an approval response from a posted history, or any other caller.
/// </summary>
/// <remarks>
/// The policy is the one bound to it (by <c>WithAiRbac(context, authorizer)</c> or by the first
/// <see cref="AiRbacChatClient"/> that sees it), else the <see cref="PolicyAuthorizer"/> of the invocation's services
/// (<see cref="AIFunctionArguments.Services"/>); with neither, it does not run (fail closed).
/// </remarks>
internal sealed class AuthorizedFunction : DelegatingAIFunction
{
    private ToolPolicy? policy;

    internal AuthorizedFunction(AIFunction inner, AiRbacChatContext? context, ToolPolicy? policy)
        : base(inner)
    {
        Context = context;
        this.policy = policy;
    }

    /// <summary>The subject and data context the invocation is decided for.</summary>
    internal AiRbacChatContext? Context { get; }

    /// <summary>The function it guards.</summary>
    internal AIFunction Unguarded => InnerFunction;

    internal bool IsBound => Volatile.Read(ref policy) is not null;

    /// <summary>Binds a policy to a function that has none yet; a function already bound keeps its own.</summary>
    internal void Bind(ToolPolicy toolPolicy) => Interlocked.CompareExchange(ref policy, toolPolicy, null);

    /// <summary>The text of the tool result when no policy can be found.</summary>
    internal static string NoPolicyResult(string toolName)
        => $"Tool '{toolName}' was not run: access denied (no AiRbac policy is reachable).";

    protected override ValueTask<object?> InvokeCoreAsync(AIFunctionArguments arguments, CancellationToken cancellationToken)
    {
        var toolPolicy = Volatile.Read(ref policy)
            ?? (arguments.Services?.GetService(typeof(PolicyAuthorizer)) is PolicyAuthorizer authorizer ? ToolPolicy.WithDefaults(authorizer) : null);
        if (toolPolicy is null)
        {
            return new ValueTask<object?>(NoPolicyResult(Name));
        }

        var decision = toolPolicy.Authorize(Context, Name);
        return decision.Allowed
            ? base.InvokeCoreAsync(arguments, cancellationToken)
            : new ValueTask<object?>(AiRbacChatClient.DeniedToolResult(Name, decision));
    }
}
