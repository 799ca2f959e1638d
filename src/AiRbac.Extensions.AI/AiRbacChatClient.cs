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
/// something on it (<c>tool:invoke</c> on <c>mcp:SERVER/TOOL</c>), always requiring approval, rejects every approval
/// request of the model for a remote tool call the policy denies, and remembers every such request it sees (see
/// <see cref="AiRbacChatClientOptions.MaximumRecordedApprovalRequests"/>): an approval in the posted history is passed on
/// only for a request this client recorded, for the same subject, that the policy permits now, else it is replaced by a
/// rejection;</description></item>
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

    // The hosted-tool approval requests the provider made through this client: the provider acts on a posted
    // approval's request id alone, so this record, never the posted tool call, says what an approval would run.
    private readonly HostedApprovalRecord approvalRequests;

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
        approvalRequests = new HostedApprovalRecord(
            options.MaximumRecordedApprovalRequests, options.ApprovalRequestLifetime, options.TimeProvider ?? TimeProvider.System);

        // Outside a FunctionInvokingChatClient: make it ask the policy before every invocation, whatever asked for
        // it (an approval response in a posted history, a tool in its AdditionalTools), not only the calls seen here.
        if (innerClient.GetService(typeof(FunctionInvokingChatClient)) is FunctionInvokingChatClient invoker)
        {
            AiRbacFunctionInvocation.Install(invoker, toolPolicy, contextProvider);
            invokerInside = true;
        }
    }

    /// <summary>Whether this client decides tools exactly as <paramref name="other"/> (the same authorizer, action and prefixes).</summary>
    internal bool Decides(ToolPolicy other) => toolPolicy.SameAs(other);

    /// <summary>The text of the tool result sent to the model for a denied call: the reason only, never policy internals.</summary>
    /// <param name="toolName">The tool the model called.</param>
    /// <param name="decision">The denial.</param>
    /// <returns>For example <c>Tool 'sql_admin_drop' was not run: access denied (explicit_deny).</c></returns>
    /// <remarks>A call waiting for approvals (<c>approval_required</c>) names the approval rule instead:
    /// <c>Tool 'deploy' was not run: approval required by rule 'prod-deploy' (approval_required).</c></remarks>
    public static string DeniedToolResult(string toolName, Decision decision)
        => decision.Reason == DecisionReason.ApprovalRequired
            ? $"Tool '{toolName}' was not run: approval required by rule '{decision.ApprovalRule}' ({decision.ReasonName})."
            : $"Tool '{toolName}' was not run: access denied ({decision.ReasonName}).";

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
            ToolApprovals.Surface(response.Messages);
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
            Dictionary<string, FunctionCallContent> streamedCalls = new(StringComparer.Ordinal);
            await foreach (var update in base.GetStreamingResponseAsync(history ?? messages, request, cancellationToken).ConfigureAwait(false))
            {
                ToolApprovals.Surface(update, streamedCalls);
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
        var decision = authorizer.Authorize(subject, modelAction, ToolPolicy.Resource(context, modelResource), context?.RequestContext);
        if (!decision.Allowed)
        {
            throw new AiRbacAccessDeniedException(modelAction, modelResource, decision);
        }

        var request = options?.Clone() ?? new ChatOptions();
        if (request.Tools is { Count: > 0 } tools)
        {
            foreach (var tool in tools)
            {
                if (tool is AuthorizedFunction guarded)
                {
                    // Wrapped by WithAiRbac: a FunctionInvokingChatClient outside this one invokes the caller's
                    // object, so it must know the policy too.
                    guarded.Bind(toolPolicy);
                }
            }

            // Permitted functions are wrapped so that they are authorized again when they run; a hosted MCP server
            // keeps every server shape, since this client screens its approval requests per call.
            toolPolicy.HideForbidden(context, request, keepUnlistedMcpServers: true, tool => tool switch
            {
                AuthorizedFunction wrapped => new AuthorizedFunction(wrapped.Unguarded, context, toolPolicy),
                AIFunction function => new AuthorizedFunction(function, context, toolPolicy),
                _ => tool,
            });
        }

        return request;
    }

    // The history is not trusted: an approval of a hosted tool call (not a function call, which is authorized when it
    // is invoked) is replaced by a rejection that gives the reason, in a copy of the messages, unless it answers a
    // request this client recorded (see CheckPostedApproval).
    private IEnumerable<ChatMessage> ScreenPostedApprovals(AiRbacChatContext? context, IEnumerable<ChatMessage> posted)
    {
        var messages = posted as IReadOnlyCollection<ChatMessage> ?? [.. posted]; // read once
        List<ChatMessage>? screened = null;
        HashSet<string>? rejected = null;
        string? subjectKey = null;
        int index = 0;
        foreach (var message in messages)
        {
            List<AIContent>? contents = null;
            for (int i = 0; i < message.Contents.Count; i++)
            {
                var content = message.Contents[i];
                if (content is ToolApprovalResponseContent { Approved: true } approval
                    && CheckPostedApproval(context, approval, subjectKey ??= HostedApprovalRecord.SubjectKey(context)) is { } denial)
                {
                    contents ??= [.. message.Contents.Take(i)];
                    rejected ??= [.. messages.SelectMany(m => m.Contents).OfType<ToolApprovalResponseContent>().Where(r => !r.Approved).Select(r => r.RequestId)];
                    if (approval.ToolCall is not null && approval.RequestId is not null && rejected.Add(approval.RequestId))
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

    // Whether a posted approval may be passed on: null if so, else the reason of its rejection. The provider runs what
    // it asked about under the approval's request id, whatever tool call the client posted with it, so an approval of a
    // hosted tool call is passed on only for a request recorded by this client (neither expired nor forgotten), made
    // for the same subject, allowed when it was made and permitted by the policy now, and whose tool the posted call (if
    // any) names. An approval of a function call is authorized when the function is invoked, unless its request id is
    // that of a recorded hosted-tool request (then it is rejected: a function call cannot answer it).
    private string? CheckPostedApproval(AiRbacChatContext? context, ToolApprovalResponseContent approval, string subjectKey)
    {
        var recorded = approvalRequests.Find(approval.RequestId);
        string requestId = approval.RequestId ?? string.Empty;
        if (approval.ToolCall is FunctionCallContent)
        {
            return recorded is null ? null : HostedApprovalRecord.Rejection(requestId, "approval_tool_mismatch");
        }

        if (approval.ToolCall is { } posted && toolPolicy.AuthorizeHostedCall(context, posted) is { } postedDenial)
        {
            return postedDenial;
        }

        if (recorded is null)
        {
            return HostedApprovalRecord.Rejection(requestId, "unknown_approval_request");
        }

        if (recorded.Denial is { } denial)
        {
            return denial; // a request denied when it was made is never approved
        }

        if (!string.Equals(recorded.SubjectKey, subjectKey, StringComparison.Ordinal))
        {
            return HostedApprovalRecord.Rejection(requestId, "approval_subject_mismatch");
        }

        if (approval.ToolCall is not null
            && (approval.ToolCall is not McpServerToolCallContent mcp
                || !string.Equals(mcp.ServerName, recorded.ServerName, StringComparison.Ordinal)
                || !string.Equals(mcp.Name, recorded.ToolName, StringComparison.Ordinal)))
        {
            return HostedApprovalRecord.Rejection(requestId, "approval_tool_mismatch");
        }

        return toolPolicy.AuthorizeMcp(context, recorded.ServerName, recorded.ToolName ?? string.Empty);
    }

    // Authorizes one call; a denied call is disarmed and its result returned.
    private FunctionResultContent? Screen(AiRbacChatContext? context, FunctionCallContent call)
    {
        var decision = toolPolicy.AuthorizeCall(context, call.Name, call.CallId, call.Arguments, running: false); // decided again when it runs
        if (decision.Allowed)
        {
            return null;
        }

        call.InformationalOnly = true; // FunctionInvokingChatClient does not run informational calls
        return new FunctionResultContent(call.CallId, DeniedToolResult(call.Name, decision));
    }

    /// <summary>Screens what one response (or one stream) of the inner client asks to run.</summary>
    private sealed class Screening(AiRbacChatClient owner, AiRbacChatContext? context)
    {
        private List<FunctionCallContent>? deferred;
        private HashSet<string>? answered;
        private List<AIContent>? deniedCalls;
        private List<AIContent>? rejections;
        private string? subjectKey;

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
                    // to the caller as something to approve. Either way it is recorded, so that a posted approval
                    // is judged by what the provider asked, not by the tool call the client posts with it.
                    var denial = request.ToolCall is { } hostedCall
                        ? owner.toolPolicy.AuthorizeHostedCall(context, hostedCall)
                        : ToolPolicy.CannotAuthorize("unknown");
                    if (request.RequestId is { } requestId)
                    {
                        owner.approvalRequests.Add(requestId, request.ToolCall, subjectKey ??= HostedApprovalRecord.SubjectKey(context), denial);
                    }

                    if (denial is not null)
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
