using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace AiRbac.Extensions.AI;

/// <summary>
/// A chat-client decorator that enforces an AiRbac policy for the subject of each request (see
/// <see cref="AiRbacChatContext"/>):
/// <list type="bullet">
/// <item><description>authorizes <c>model:query</c> on <c>model:&lt;model id&gt;</c>, with the request's sensitivity, tags and
/// scope, before the request leaves (a denial throws <see cref="AiRbacAccessDeniedException"/>);</description></item>
/// <item><description>removes from <see cref="ChatOptions.Tools"/> every tool the subject may not invoke, so the model never sees it;</description></item>
/// <item><description>authorizes every function call in the model's response: a denied call is marked
/// <see cref="FunctionCallContent.InformationalOnly"/> (so no <see cref="FunctionInvokingChatClient"/> runs it) and
/// answered with a tool result that gives the reason; when every call of a response is denied, the denials are sent
/// back to the model at once;</description></item>
/// <item><description>wraps each permitted <see cref="AIFunction"/> so that it is authorized again when it runs;</description></item>
/// <item><description>offers a provider-hosted MCP server (<see cref="HostedMcpServerTool"/>) only if the subject may invoke
/// something on it (<c>tool:invoke</c> on <c>mcp:SERVER/TOOL</c>), always requiring approval, and rejects every approval
/// request of the model and every approval in the posted history for a remote tool call the policy denies;</description></item>
/// <item><description>placed outside a <see cref="FunctionInvokingChatClient"/>, makes that client ask the policy before every
/// invocation (see <see cref="AiRbacFunctionInvocation.AuthorizeWithAiRbac"/>), so an approval response in a posted
/// history or a tool in its <see cref="FunctionInvokingChatClient.AdditionalTools"/> cannot run what the policy denies;
/// a call that client already answered in the same response is its decision and is not answered again.</description></item>
/// </list>
/// docs/integrations.md says what each order of the pipeline protects.
/// </summary>
public sealed class AiRbacChatClient : DelegatingChatClient
{
    private readonly PolicyAuthorizer authorizer;
    private readonly Func<ChatOptions?, AiRbacChatContext?> contextProvider;
    private readonly string modelAction;
    private readonly string modelPrefix;
    private readonly string? defaultModelId;
    private readonly ToolPolicy toolPolicy;
    private readonly int maximumDeniedRounds;

    // A FunctionInvokingChatClient inside asks the policy before every invocation and answers each call it handles:
    // a call already answered in the same response is its decision, not a call for this client to answer again.
    private readonly bool invokerInside;

    /// <summary>Creates the decorator.</summary>
    /// <param name="innerClient">The client that reaches the model (possibly through other decorators).</param>
    /// <param name="authorizer">The authorizer that holds the current policy.</param>
    /// <param name="options">Settings, or <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentNullException"><paramref name="innerClient"/> or <paramref name="authorizer"/> is <see langword="null"/>.</exception>
    public AiRbacChatClient(IChatClient innerClient, PolicyAuthorizer authorizer, AiRbacChatClientOptions? options = null)
        : base(innerClient)
    {
        ArgumentNullException.ThrowIfNull(authorizer);
        options ??= new AiRbacChatClientOptions();
        this.authorizer = authorizer;
        contextProvider = options.ContextProvider ?? AiRbacChatContext.From;
        modelAction = options.ModelAction;
        modelPrefix = options.ModelResourcePrefix;
        defaultModelId = options.DefaultModelId;
        toolPolicy = new ToolPolicy(authorizer, options.ToolAction, options.ToolResourcePrefix, options.McpToolResourcePrefix);
        maximumDeniedRounds = Math.Max(0, options.MaximumDeniedRounds);

        // Outside a FunctionInvokingChatClient: make it ask the policy before every invocation, whatever asked for
        // it (an approval response in a posted history, a tool in its AdditionalTools), not only the calls seen here.
        if (innerClient.GetService(typeof(FunctionInvokingChatClient)) is FunctionInvokingChatClient invoker)
        {
            AiRbacFunctionInvocation.Install(invoker, toolPolicy, contextProvider);
            invokerInside = true;
        }
    }

    /// <summary>The text of the tool result sent to the model for a denied call: the reason only, never policy internals.</summary>
    /// <param name="toolName">The tool the model called.</param>
    /// <param name="decision">The denial.</param>
    /// <returns>For example <c>Tool 'sql_admin_drop' was not run: access denied (explicit_deny).</c></returns>
    public static string DeniedToolResult(string toolName, Decision decision)
        => $"Tool '{toolName}' was not run: access denied ({decision.ReasonName}).";

    /// <inheritdoc/>
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var context = contextProvider(options);
        var request = Prepare(context, options);
        messages = ScreenPostedApprovals(context, messages);
        List<ChatMessage>? history = null;
        List<ChatMessage>? produced = null;
        for (int round = 0; ; round++)
        {
            var response = await base.GetResponseAsync(history ?? messages, request, cancellationToken).ConfigureAwait(false);
            var screening = new Screening(this, context);
            foreach (var content in response.Messages.SelectMany(m => m.Contents))
            {
                screening.Observe(content);
            }

            screening.Finish();
            foreach (var message in screening.Answers())
            {
                response.Messages.Add(message);
            }

            if (!screening.AnyDenied || screening.Allowed > 0 || round >= maximumDeniedRounds)
            {
                if (produced is null)
                {
                    return response;
                }

                produced.AddRange(response.Messages);
                response.Messages = produced;
                return response;
            }

            // Every call was denied: nobody outside would send the denials back, so send them now.
            history ??= [.. messages];
            history.AddRange(response.Messages);
            (produced ??= []).AddRange(response.Messages);
        }
    }

    /// <inheritdoc/>
    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var context = contextProvider(options);
        var request = Prepare(context, options);
        messages = ScreenPostedApprovals(context, messages);
        List<ChatMessage>? history = null;
        for (int round = 0; ; round++)
        {
            List<ChatResponseUpdate> updates = [];
            var screening = new Screening(this, context);
            await foreach (var update in base.GetStreamingResponseAsync(history ?? messages, request, cancellationToken).ConfigureAwait(false))
            {
                foreach (var content in update.Contents)
                {
                    screening.Observe(content);
                }

                updates.Add(update);
                yield return update;
            }

            screening.Finish();
            if (!screening.AnyDenied)
            {
                yield break;
            }

            foreach (var answer in screening.Answers())
            {
                var answerUpdate = new ChatResponseUpdate(answer.Role, answer.Contents) { MessageId = Guid.NewGuid().ToString("N") };
                updates.Add(answerUpdate);
                yield return answerUpdate;
            }

            if (screening.Allowed > 0 || round >= maximumDeniedRounds)
            {
                yield break;
            }

            history ??= [.. messages];
            history.AddRange(updates.ToChatResponse().Messages);
        }
    }

    private ChatOptions Prepare(AiRbacChatContext? context, ChatOptions? options)
    {
        var subject = context?.Subject ?? ToolPolicy.Anonymous;
        string? modelId = options?.ModelId ?? InnerClient.GetService<ChatClientMetadata>()?.DefaultModelId ?? defaultModelId;
        if (string.IsNullOrEmpty(modelId))
        {
            throw new AiRbacAccessDeniedException($"Access denied: {modelAction} needs a model id ({DecisionReasons.ToName(DecisionReason.InvalidRequest)}).");
        }

        string modelResource = modelPrefix + modelId;
        var decision = authorizer.Authorize(subject, modelAction, ToolPolicy.Resource(context, modelResource));
        if (!decision.Allowed)
        {
            throw new AiRbacAccessDeniedException(modelAction, modelResource, decision);
        }

        var request = options?.Clone() ?? new ChatOptions();
        if (request.Tools is { Count: > 0 } tools)
        {
            List<AITool> permitted = new(tools.Count);
            foreach (var tool in tools)
            {
                if (tool is AuthorizedFunction guarded)
                {
                    // Wrapped by WithAiRbac: a FunctionInvokingChatClient outside this one invokes the caller's
                    // object, so it must know the policy too.
                    guarded.Bind(toolPolicy);
                }

                if (tool is HostedMcpServerTool hosted)
                {
                    if (OfferMcpServer(context, hosted) is { } offered)
                    {
                        permitted.Add(offered);
                    }
                }
                else if (Authorize(context, tool.Name).Allowed)
                {
                    permitted.Add(tool switch
                    {
                        AuthorizedFunction wrapped => new AuthorizedFunction(wrapped.Unguarded, context, toolPolicy),
                        AIFunction function => new AuthorizedFunction(function, context, toolPolicy),
                        _ => tool,
                    });
                }
            }

            request.Tools = permitted;
            if (request.ToolMode is RequiredChatToolMode { RequiredFunctionName: { } required } && !permitted.Exists(t => t.Name == required))
            {
                // The model may not be forced to call a hidden tool; it may still call a permitted one.
                request.ToolMode = permitted.Count > 0 ? ChatToolMode.Auto : ChatToolMode.None;
            }
        }

        return request;
    }

    // A provider-hosted MCP server is offered only if the subject may invoke something on it: the tools of its
    // AllowedTools list that the policy permits, or (no list: any tool) the server itself (mcp:SERVER/). The copy sent
    // on always requires approval, so that every call comes back as an approval request this client can authorize.
    private HostedMcpServerTool? OfferMcpServer(AiRbacChatContext? context, HostedMcpServerTool tool)
    {
        List<string>? allowedTools = null;
        if (tool.AllowedTools is { } listed)
        {
            allowedTools = [.. listed.Where(name => toolPolicy.AuthorizeMcp(context, tool.ServerName, name) is null)];
            if (allowedTools.Count == 0)
            {
                return null;
            }
        }
        else if (toolPolicy.AuthorizeMcp(context, tool.ServerName, string.Empty) is not null)
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

    // The history is not trusted: an approval of a hosted tool call (not a function call, which is authorized when it
    // is invoked) that the policy denies is replaced by a rejection that gives the reason, in a copy of the messages.
    private IEnumerable<ChatMessage> ScreenPostedApprovals(AiRbacChatContext? context, IEnumerable<ChatMessage> posted)
    {
        var messages = posted as IReadOnlyCollection<ChatMessage> ?? [.. posted]; // read once
        List<ChatMessage>? screened = null;
        HashSet<string>? rejected = null;
        int index = 0;
        foreach (var message in messages)
        {
            List<AIContent>? contents = null;
            for (int i = 0; i < message.Contents.Count; i++)
            {
                var content = message.Contents[i];
                if (content is ToolApprovalResponseContent { Approved: true, ToolCall: not FunctionCallContent } approval
                    && toolPolicy.AuthorizeHostedCall(context, approval.ToolCall) is { } denial)
                {
                    contents ??= [.. message.Contents.Take(i)];
                    rejected ??= [.. messages.SelectMany(m => m.Contents).OfType<ToolApprovalResponseContent>().Where(r => !r.Approved).Select(r => r.RequestId)];
                    if (rejected.Add(approval.RequestId))
                    {
                        contents.Add(new ToolApprovalResponseContent(approval.RequestId, false, approval.ToolCall) { Reason = denial });
                    }
                }
                else
                {
                    contents?.Add(content);
                }
            }

            if (contents is not null)
            {
                screened ??= [.. messages.Take(index)];
                var copy = message.Clone();
                copy.Contents = contents;
                screened.Add(copy);
            }
            else
            {
                screened?.Add(message);
            }

            index++;
        }

        return screened ?? messages;
    }

    // Authorizes one call; a denied call is disarmed and its result returned.
    private FunctionResultContent? Screen(AiRbacChatContext? context, FunctionCallContent call)
    {
        var decision = Authorize(context, call.Name);
        if (decision.Allowed)
        {
            return null;
        }

        call.InformationalOnly = true; // FunctionInvokingChatClient does not run informational calls
        return new FunctionResultContent(call.CallId, DeniedToolResult(call.Name, decision));
    }

    private Decision Authorize(AiRbacChatContext? context, string toolName) => toolPolicy.Authorize(context, toolName);

    /// <summary>Screens what one response (or one stream) of the inner client asks to run.</summary>
    private sealed class Screening(AiRbacChatClient owner, AiRbacChatContext? context)
    {
        private List<FunctionCallContent>? deferred;
        private HashSet<string>? answered;
        private List<AIContent>? deniedCalls;
        private List<AIContent>? rejections;

        /// <summary>The calls and approval requests the policy permits.</summary>
        public int Allowed { get; private set; }

        /// <summary>Whether anything was denied (and so must be answered).</summary>
        public bool AnyDenied => deniedCalls is not null || rejections is not null;

        public void Observe(AIContent content)
        {
            switch (content)
            {
                case FunctionCallContent { InformationalOnly: false } call when owner.invokerInside:
                    // Decided at the end: the invoker inside may answer it later in the same stream.
                    (deferred ??= []).Add(call);
                    break;
                case FunctionCallContent { InformationalOnly: false } call:
                    Decide(call);
                    break;
                case FunctionResultContent result when owner.invokerInside:
                    (answered ??= new(StringComparer.Ordinal)).Add(result.CallId);
                    break;
                case ToolApprovalRequestContent { ToolCall: not FunctionCallContent } request:
                    // A hosted tool (an MCP server's) the provider asks about: a denied call is rejected, not shown
                    // to the caller as something to approve.
                    if (owner.toolPolicy.AuthorizeHostedCall(context, request.ToolCall) is { } denial)
                    {
                        (rejections ??= []).Add(request.CreateResponse(false, denial));
                    }
                    else
                    {
                        Allowed++;
                    }

                    break;
            }
        }

        public void Finish()
        {
            if (deferred is null)
            {
                return;
            }

            foreach (var call in deferred)
            {
                // A call the invoker inside answered was decided by it (it asks the policy); answering it again
                // would send the model two results for one call.
                if (!call.InformationalOnly && answered?.Contains(call.CallId) != true)
                {
                    Decide(call);
                }
            }

            deferred = null;
        }

        /// <summary>The denials of function calls (a tool message) and the rejections of approval requests (a user message).</summary>
        public IEnumerable<ChatMessage> Answers()
        {
            if (deniedCalls is not null)
            {
                yield return new ChatMessage(ChatRole.Tool, deniedCalls);
            }

            if (rejections is not null)
            {
                yield return new ChatMessage(ChatRole.User, rejections);
            }
        }

        private void Decide(FunctionCallContent call)
        {
            if (owner.Screen(context, call) is { } result)
            {
                (deniedCalls ??= []).Add(result);
            }
            else
            {
                Allowed++;
            }
        }
    }
}
