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
/// <item><description>placed outside a <see cref="FunctionInvokingChatClient"/>, makes that client ask the policy before every
/// invocation (see <see cref="AiRbacFunctionInvocation.AuthorizeWithAiRbac"/>), so an approval response in a posted
/// history or a tool in its <see cref="FunctionInvokingChatClient.AdditionalTools"/> cannot run what the policy denies.</description></item>
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
        toolPolicy = new ToolPolicy(authorizer, options.ToolAction, options.ToolResourcePrefix);
        maximumDeniedRounds = Math.Max(0, options.MaximumDeniedRounds);

        // Outside a FunctionInvokingChatClient: make it ask the policy before every invocation, whatever asked for
        // it (an approval response in a posted history, a tool in its AdditionalTools), not only the calls seen here.
        if (innerClient.GetService(typeof(FunctionInvokingChatClient)) is FunctionInvokingChatClient invoker)
        {
            AiRbacFunctionInvocation.Install(invoker, toolPolicy, contextProvider);
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
        List<ChatMessage>? history = null;
        List<ChatMessage>? produced = null;
        for (int round = 0; ; round++)
        {
            var response = await base.GetResponseAsync(history ?? messages, request, cancellationToken).ConfigureAwait(false);
            var (allowed, denied) = ScreenCalls(context, response.Messages);
            if (denied is not null)
            {
                response.Messages.Add(new ChatMessage(ChatRole.Tool, denied));
            }

            if (denied is null || allowed > 0 || round >= maximumDeniedRounds)
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
        List<ChatMessage>? history = null;
        for (int round = 0; ; round++)
        {
            List<ChatResponseUpdate> updates = [];
            List<AIContent>? denied = null;
            int allowed = 0;
            await foreach (var update in base.GetStreamingResponseAsync(history ?? messages, request, cancellationToken).ConfigureAwait(false))
            {
                foreach (var content in update.Contents)
                {
                    if (content is FunctionCallContent call && !call.InformationalOnly)
                    {
                        if (Screen(context, call) is { } result)
                        {
                            (denied ??= []).Add(result);
                        }
                        else
                        {
                            allowed++;
                        }
                    }
                }

                updates.Add(update);
                yield return update;
            }

            if (denied is null)
            {
                yield break;
            }

            var deniedUpdate = new ChatResponseUpdate(ChatRole.Tool, denied) { MessageId = Guid.NewGuid().ToString("N") };
            updates.Add(deniedUpdate);
            yield return deniedUpdate;
            if (allowed > 0 || round >= maximumDeniedRounds)
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

                if (Authorize(context, tool.Name).Allowed)
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

    private (int Allowed, List<AIContent>? Denied) ScreenCalls(AiRbacChatContext? context, IList<ChatMessage> messages)
    {
        int allowed = 0;
        List<AIContent>? denied = null;
        foreach (var message in messages)
        {
            foreach (var content in message.Contents)
            {
                if (content is FunctionCallContent call && !call.InformationalOnly)
                {
                    if (Screen(context, call) is { } result)
                    {
                        (denied ??= []).Add(result);
                    }
                    else
                    {
                        allowed++;
                    }
                }
            }
        }

        return (allowed, denied);
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
}
