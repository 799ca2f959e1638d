using System.Runtime.CompilerServices;
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

    /// <summary>Whether <paramref name="other"/> decides exactly as this one: the same authorizer, action and prefixes.</summary>
    internal bool SameAs(ToolPolicy other)
        => ReferenceEquals(authorizer, other.Authorizer)
            && string.Equals(toolAction, other.ToolAction, StringComparison.Ordinal)
            && string.Equals(toolPrefix, other.ToolPrefix, StringComparison.Ordinal)
            && string.Equals(mcpPrefix, other.McpPrefix, StringComparison.Ordinal);

    private string ToolAction => toolAction;

    private string ToolPrefix => toolPrefix;

    private string McpPrefix => mcpPrefix;

    /// <summary>The policy with the default action and prefix (<c>tool:invoke</c> on <c>tool:NAME</c>).</summary>
    internal static ToolPolicy WithDefaults(PolicyAuthorizer authorizer)
        => new(authorizer, Defaults.ToolAction, Defaults.ToolResourcePrefix, Defaults.McpToolResourcePrefix);

    /// <summary>Whether the subject may see the tool (offered to the model): decided with the host's context and no
    /// arguments. See <see cref="IsOffered"/>.</summary>
    internal Decision Authorize(AiRbacChatContext? context, string toolName)
        => authorizer.Authorize(context?.Subject ?? Anonymous, toolAction, Resource(context, toolResources.Of(toolName)), context?.RequestContext);

    /// <summary>
    /// Decides one call of a tool (docs/integrations.md, "Tool-call arguments as context"): with the host's context and
    /// the call's arguments as <c>arg.NAME</c> pairs. When the policy requires approvals for it and the context has an
    /// <see cref="AiRbacChatContext.ApprovalProvider"/>, the approvals the host attests for this call are added and the call
    /// is decided with them. One decision reaches the observers (the audit log). Never throws: what fails is a denial.
    /// </summary>
    /// <param name="context">Who asks and the host's context, or <see langword="null"/>.</param>
    /// <param name="toolName">The tool's name.</param>
    /// <param name="callId">The call's id, or <see langword="null"/>.</param>
    /// <param name="arguments">The call's arguments (not trusted), or <see langword="null"/>.</param>
    /// <param name="running">Whether the call runs if allowed: then the attested approvals that let it run are spent
    /// (<see cref="SpentApprovals"/>), so a replay of the same call (a posted approval response without its result) is
    /// asked about again instead of running again. <see langword="false"/> for a decision that only screens a call that
    /// is decided again when it runs.</param>
    internal Decision AuthorizeCall(AiRbacChatContext? context, string toolName, string? callId, IEnumerable<KeyValuePair<string, object?>>? arguments, bool running = true)
    {
        var subject = context?.Subject ?? Anonymous;
        var resource = Resource(context, toolResources.Of(toolName));
        RequestContext? request;
        try
        {
            request = ToolCallContext.For(context, arguments);
            if (context?.ApprovalProvider is { } provider)
            {
                var probe = authorizer.Policy.Authorize(subject, toolAction, resource, request);
                if (probe.Reason == DecisionReason.ApprovalRequired && probe.ApprovalRule is { } rule)
                {
                    request = WithAttestedApprovals(context, provider, subject, resource, toolName, callId, arguments, rule, running);
                }
            }
        }
        catch (Exception)
        {
            // An approval store or argument that throws: decided for the anonymous subject, which every policy denies.
            return authorizer.Authorize(Anonymous, toolAction, resource);
        }

        return authorizer.Authorize(subject, toolAction, resource, request);
    }

    // The call waits for approvals: the host's provider is asked for this call (its id, arguments and fingerprint), and
    // the approvals it attests that are not spent yet are added (a separate method: the closure is made only here).
    private RequestContext? WithAttestedApprovals(
        AiRbacChatContext context, Func<AiRbacToolCall, IReadOnlyList<Approval>> provider, Subject subject, ResourceRequest resource,
        string toolName, string? callId, IEnumerable<KeyValuePair<string, object?>>? arguments, string rule, bool running)
    {
        var copy = arguments is null ? new Dictionary<string, object?>() : new Dictionary<string, object?>(arguments, StringComparer.Ordinal);
        string fingerprint = ToolCallContext.Fingerprint(context, toolName, copy);
        var attested = provider(new AiRbacToolCall(toolName, callId, copy, fingerprint, rule)) ?? [];
        return SpentApprovals.Of(authorizer).Claim(fingerprint, callId, attested, running, unspent =>
        {
            var withApprovals = ToolCallContext.For(context, copy, unspent);
            return (withApprovals, authorizer.Policy.Authorize(subject, toolAction, resource, withApprovals).Allowed);
        });
    }

    /// <summary>
    /// The approval rule a call waits for (the policy answers <c>approval_required</c> for it with its arguments and the
    /// host's context, without the approval provider), or <see langword="null"/>. Decided on the current policy without
    /// reaching the observers: it describes an approval request, it decides nothing.
    /// </summary>
    internal string? ApprovalRuleOf(AiRbacChatContext? context, string toolName, IEnumerable<KeyValuePair<string, object?>>? arguments)
    {
        try
        {
            var decision = authorizer.Policy.Authorize(
                context?.Subject ?? Anonymous, toolAction, Resource(context, toolResources.Of(toolName)), ToolCallContext.For(context, arguments));
            return decision.Reason == DecisionReason.ApprovalRequired ? decision.ApprovalRule : null;
        }
        catch (Exception)
        {
            return null;
        }
    }

    /// <summary>
    /// Whether a tool with this offer-time decision is shown to the model: allowed, waiting for approvals (each call goes
    /// through the approval flow), or held back only by a condition on a call argument (<c>arg.NAME</c>), which the
    /// offer cannot know; each call is decided with its arguments.
    /// </summary>
    internal static bool IsOffered(Decision decision)
        => decision.Allowed
            || decision.Reason == DecisionReason.ApprovalRequired
            || ((decision.Reason == DecisionReason.ConditionFailed
                    || (decision.Reason == DecisionReason.DelegationDenied && decision.DelegatedReason == DecisionReason.ConditionFailed))
                && decision.Condition is { } condition
                && condition.StartsWith(ToolCallContext.ArgumentPrefix, StringComparison.Ordinal));

    /// <summary>The decision for a call that names no tool: an empty resource, which the core denies (invalid_request).</summary>
    internal Decision AuthorizeNothing(AiRbacChatContext? context)
        => authorizer.Authorize(context?.Subject ?? Anonymous, toolAction, Resource(context, string.Empty), context?.RequestContext);

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

        var decision = authorizer.Authorize(context?.Subject ?? Anonymous, toolAction, Resource(context, mcpPrefix + serverName + "/" + toolName), context?.RequestContext);
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

    /// <summary>
    /// Hides from the model what the subject may not invoke: removes from <paramref name="request"/>'s tools (a copy the
    /// caller owns) every tool the policy denies, narrows a provider-hosted MCP server to the tools the subject may
    /// invoke (always requiring approval), and, when the request forces a tool that was removed, lets the model choose
    /// among the rest (or none). The one implementation of "which tools may the model see", for every adapter.
    /// </summary>
    /// <param name="context">The request's context (<see langword="null"/>: the anonymous subject, so every tool is removed).</param>
    /// <param name="request">The options to change (the caller's copy).</param>
    /// <param name="keepUnlistedMcpServers">Whether a hosted MCP server without an <c>AllowedTools</c> list may be
    /// offered when the subject may invoke the server itself: only when the caller screens the provider's approval
    /// requests per call (<see cref="AiRbacChatClient"/> does); else such a server is removed (fail closed).</param>
    /// <param name="permit">Replaces a permitted tool (for example to wrap a function), or <see langword="null"/>.</param>
    /// <param name="markApprovals">Whether a function the policy answers <c>approval_required</c> for (with the host's
    /// context, no arguments) is offered as an <see cref="ApprovalRequiredAIFunction"/>, so that a
    /// <see cref="FunctionInvokingChatClient"/> asks the caller before it invokes it.</param>
    internal void HideForbidden(AiRbacChatContext? context, ChatOptions request, bool keepUnlistedMcpServers, Func<AITool, AITool>? permit, bool markApprovals = false)
    {
        if (request.Tools is not { Count: > 0 } tools)
        {
            return;
        }

        List<AITool> permitted = new(tools.Count);
        foreach (var tool in tools)
        {
            if (tool is HostedMcpServerTool hosted)
            {
                if (OfferMcpServer(context, hosted, keepUnlistedMcpServers) is { } offered)
                {
                    permitted.Add(offered);
                }
            }
            else if (Authorize(context, tool.Name) is var decision && IsOffered(decision))
            {
                var offered = permit is null ? tool : permit(tool);
                permitted.Add(markApprovals && decision.Reason == DecisionReason.ApprovalRequired && offered is AIFunction function
                    && function.GetService<ApprovalRequiredAIFunction>() is null
                        ? new ApprovalRequiredAIFunction(function)
                        : offered);
            }
        }

        request.Tools = permitted;
        if (request.ToolMode is RequiredChatToolMode { RequiredFunctionName: { } required } && !permitted.Exists(t => t.Name == required))
        {
            // The model may not be forced to call a hidden tool; it may still call a permitted one.
            request.ToolMode = permitted.Count > 0 ? ChatToolMode.Auto : ChatToolMode.None;
        }
    }

    // A provider-hosted MCP server is offered only if the subject may invoke something on it: the tools of its
    // AllowedTools list that the policy permits, or (no list: any tool) the server itself (mcp:SERVER/). The copy sent
    // on always requires approval, so that every call comes back as an approval request the caller can authorize.
    private HostedMcpServerTool? OfferMcpServer(AiRbacChatContext? context, HostedMcpServerTool tool, bool keepUnlisted)
    {
        List<string>? allowedTools = null;
        if (tool.AllowedTools is { } listed)
        {
            allowedTools = [.. listed.Where(name => AuthorizeMcp(context, tool.ServerName, name) is null)];
            if (allowedTools.Count == 0)
            {
                return null;
            }
        }
        else if (!keepUnlisted || AuthorizeMcp(context, tool.ServerName, string.Empty) is not null)
        {
            return null;
        }

        return new HostedMcpServerTool(tool.ServerName, tool.ServerAddress, tool.AdditionalProperties)
        {
            ServerDescription = tool.ServerDescription,
            AllowedTools = allowedTools,
            Headers = tool.Headers is null ? null : new Dictionary<string, string>(tool.Headers, StringComparer.OrdinalIgnoreCase),
            ApprovalMode = HostedMcpServerToolApprovalMode.AlwaysRequire,
        };
    }

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

        // Invoked by a FunctionInvokingChatClient: the call's id, for the host's approval store.
        string? callId = FunctionInvokingChatClient.CurrentContext is { } current && ReferenceEquals(current.Arguments, arguments)
            ? current.CallContent?.CallId
            : null;
        var decision = toolPolicy.AuthorizeCall(Context, Name, callId, arguments);
        return decision.Allowed
            ? base.InvokeCoreAsync(arguments, cancellationToken)
            : new ValueTask<object?>(AiRbacChatClient.DeniedToolResult(Name, decision));
    }
}

/// <summary>
/// The host-attested approvals that let a tool call run, per authorizer (docs/integrations.md, "Tool-call approvals"): a
/// call (its fingerprint and call id) runs once on attested approvals, and an approval (approver, rule, time) attested for
/// a call (its fingerprint) counts for one run of it. A client can post the same approval response again without its
/// result, and the invoker would run the call again with the approvals the host's store still returns; a model can issue
/// the approved call again under a new id. Those runs are decided without the spent approvals, so the host is asked
/// again. Bounded (<see cref="Tuning.Adapters.SpentApprovals"/> runs, the oldest forgotten first; each is a call a human
/// approved) and in memory: a store shared by several processes should return an approval once.
/// </summary>
internal sealed class SpentApprovals
{
    private const int Capacity = Tuning.Adapters.SpentApprovals;

    private static readonly ConditionalWeakTable<PolicyAuthorizer, SpentApprovals> ByAuthorizer = [];

    private readonly HashSet<string> spent = new(StringComparer.Ordinal);
    private readonly Queue<List<string>> oldestFirst = new();

    internal static SpentApprovals Of(PolicyAuthorizer authorizer) => ByAuthorizer.GetValue(authorizer, _ => new SpentApprovals());

    /// <summary>
    /// Leaves out of <paramref name="attested"/> the approvals already spent on the call <paramref name="fingerprint"/>
    /// (all of them when this call id already ran on approvals), decides with the rest (<paramref name="decide"/>, which
    /// must not reach the observers), and when that allows and the call runs, spends them and the call id, all at once
    /// (two replays at the same moment cannot both run).
    /// </summary>
    /// <returns>The request context to decide the call with.</returns>
    internal RequestContext? Claim(
        string fingerprint, string? callId, IReadOnlyList<Approval> attested, bool running, Func<IReadOnlyList<Approval>, (RequestContext? Request, bool Allowed)> decide)
    {
        string? callKey = callId is null ? null : Hash(string.Concat("call\n", fingerprint, "\n", callId));
        lock (spent)
        {
            List<Approval> unspent = new(attested.Count);
            if (callKey is null || !spent.Contains(callKey))
            {
                foreach (var approval in attested)
                {
                    if (!spent.Contains(Key(fingerprint, approval)))
                    {
                        unspent.Add(approval);
                    }
                }
            }

            var (request, allowed) = decide(unspent);
            if (running && allowed && unspent.Count > 0)
            {
                List<string> keys = [.. unspent.Select(approval => Key(fingerprint, approval))];
                if (callKey is not null)
                {
                    keys.Add(callKey);
                }

                keys.RemoveAll(key => !spent.Add(key));
                oldestFirst.Enqueue(keys);
                while (oldestFirst.Count > Capacity)
                {
                    spent.ExceptWith(oldestFirst.Dequeue());
                }
            }

            return request;
        }
    }

    // Keys are hashes: a call id or an approver is as long as whoever wrote it made it, an entry is 64 characters.
    private static string Hash(string key) => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key)));

    private static string Key(string fingerprint, Approval approval)
        => Hash(string.Concat(
            "approval\n", fingerprint, "\n", approval.Approver?.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), ":", approval.Approver, "\n",
            approval.Rule?.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), ":", approval.Rule, "\n",
            approval.At.UtcTicks.ToString(System.Globalization.CultureInfo.InvariantCulture)));
}
