using System.Collections.ObjectModel;
using AiRbac.Extensions.AI;
using Microsoft.Agents.AI;
using Microsoft.Extensions.AI;

namespace AiRbac.Agents.AI;

/// <summary>
/// The agent AiRbac puts around a <see cref="ChatClientAgent"/> (docs/integrations.md, "Microsoft Agent Framework"): on
/// every run it makes the agent's chat pipeline hide from the model every tool the run's subject may not invoke, and it
/// makes every <see cref="FunctionInvokingChatClient"/> of that pipeline ask the policy before it invokes any function
/// (<see cref="AiRbacFunctionInvocation.AuthorizeWithAiRbac"/>), whatever asked for the call and wherever the function
/// was found: the model's response, an approval in the posted history or in the session, the request's tools, a list a
/// stage replaced, or the invoker's <see cref="FunctionInvokingChatClient.AdditionalTools"/>. The invoker decides before
/// any function middleware of the Agent Framework runs, whichever order the middlewares were registered in.
/// </summary>
internal sealed class AiRbacAgent : DelegatingAIAgent
{
    private readonly AiRbacToolGate gate;
    private readonly PolicyAuthorizer authorizer;
    private readonly AiRbacChatClientOptions options;

    /// <param name="innerAgent">The agent AiRbac is put around.</param>
    /// <param name="authorizer">The authorizer that holds the current policy.</param>
    /// <param name="options">The tool action, prefixes and context provider (AiRbac's own copy).</param>
    private AiRbacAgent(AIAgent innerAgent, PolicyAuthorizer authorizer, AiRbacChatClientOptions options)
        : base(innerAgent)
    {
        this.authorizer = authorizer;
        this.options = options;
        gate = new AiRbacToolGate(authorizer, options);
    }

    /// <summary>
    /// Puts AiRbac around <paramref name="agent"/>, and makes the agent's <see cref="FunctionInvokingChatClient"/> ask the
    /// policy before every invocation.
    /// </summary>
    /// <exception cref="InvalidOperationException"><paramref name="agent"/> is not built on a <see cref="ChatClientAgent"/>
    /// with a <see cref="FunctionInvokingChatClient"/> (AiRbac could neither see its tools nor authorize their calls), or
    /// that invoker already asks another policy.</exception>
    internal static AIAgent Wrap(AIAgent agent, PolicyAuthorizer authorizer, AiRbacChatClientOptions options)
    {
        if (agent.GetService(typeof(ChatClientAgent)) is null)
        {
            throw new InvalidOperationException(
                "AiRbac's agent middleware needs an agent built on a ChatClientAgent (an IChatClient with tools); this agent's tools cannot be authorized.");
        }

        if (agent.GetService(typeof(FunctionInvokingChatClient)) is not FunctionInvokingChatClient invoker)
        {
            throw new InvalidOperationException(
                "AiRbac's agent middleware needs the agent's FunctionInvokingChatClient to authorize every function call; this agent has none.");
        }

        invoker.AuthorizeWithAiRbac(authorizer, options);
        return new AiRbacAgent(agent, authorizer, options);
    }

    /// <inheritdoc/>
    protected override Task<AgentResponse> RunCoreAsync(
        IEnumerable<ChatMessage> messages, AgentSession? session = null, AgentRunOptions? options = null, CancellationToken cancellationToken = default)
        => InnerAgent.RunAsync(messages, session, WithHiding(options), cancellationToken);

    /// <inheritdoc/>
    protected override IAsyncEnumerable<AgentResponseUpdate> RunCoreStreamingAsync(
        IEnumerable<ChatMessage> messages, AgentSession? session = null, AgentRunOptions? options = null, CancellationToken cancellationToken = default)
        => InnerAgent.RunStreamingAsync(messages, session, WithHiding(options), cancellationToken);

    // A copy of the run options whose chat-client factory puts the hiding stage right around the agent's chat pipeline,
    // inside any factory the caller set (so the stage sees the tools those add), and makes every function invoker of the
    // run's pipeline ask the policy.
    private ChatClientAgentRunOptions WithHiding(AgentRunOptions? options)
    {
        ChatClientAgentRunOptions run = options switch
        {
            ChatClientAgentRunOptions chat => (ChatClientAgentRunOptions)chat.Clone(),
            null => new ChatClientAgentRunOptions(),
            _ when options.GetType() == typeof(AgentRunOptions) => new ChatClientAgentRunOptions
            {
                ResponseFormat = options.ResponseFormat,
                AllowBackgroundResponses = options.AllowBackgroundResponses,
#pragma warning disable MEAI001 // evaluation API of the framework: copied as the framework's own middleware copies it
                ContinuationToken = options.ContinuationToken,
#pragma warning restore MEAI001
                AdditionalProperties = options.AdditionalProperties,
            },
            _ => throw new NotSupportedException($"AiRbac's agent middleware supports no run options or {nameof(ChatClientAgentRunOptions)}, not {options.GetType().Name}."),
        };

        // The subject is the run's: a context left on the agent's own chat options (shared by every run) must not stand in
        // for a run that has none. The run's properties take precedence over the agent's, so an explicit "none" hides it.
        if (run.AdditionalProperties?.ContainsKey(AiRbacChatContext.PropertyName) != true)
        {
            var properties = run.AdditionalProperties?.Clone() ?? [];
            properties[AiRbacChatContext.PropertyName] = null;
            run.AdditionalProperties = properties;
        }

        var callerFactory = run.ChatClientFactory;
        run.ChatClientFactory = chatClient =>
        {
            IChatClient hiding = new ToolHidingChatClient(chatClient, gate);
            var pipeline = callerFactory is null ? hiding : callerFactory(hiding);

            // The agent's invoker (again: an invoker set on it since is put behind AiRbac's), and any other the run's
            // factories put in front of it, ask the policy before every invocation.
            Authorize(chatClient);
            Authorize(pipeline);
            return pipeline;
        };
        return run;
    }

    private void Authorize(IChatClient pipeline)
    {
        if (pipeline.GetService(typeof(FunctionInvokingChatClient)) is FunctionInvokingChatClient invoker)
        {
            invoker.AuthorizeWithAiRbac(authorizer, options);
        }
    }

    /// <summary>The request's context; a provider that throws gives none (so the anonymous subject, denied).</summary>
    private static AiRbacChatContext? ContextOf(AiRbacToolGate gate, ChatOptions? options)
    {
        try
        {
            return gate.ContextOf(options);
        }
        catch (Exception)
        {
            return null;
        }
    }

    /// <summary>Removes from every request the tools its subject may not invoke, so the model never sees them.</summary>
    private sealed class ToolHidingChatClient(IChatClient inner, AiRbacToolGate gate) : DelegatingChatClient(inner)
    {
        // The Agent Framework honours only approval requests its own FunctionInvokingChatClient made (its approval
        // binding), so a tool whose offer the policy answers approval_required is offered as an ApprovalRequiredAIFunction:
        // the invoker asks the caller, and the approved call is decided again, with the host's approvals, when it is
        // invoked. Each request is described with its rule and fingerprint (AiRbacToolGate.DescribeApprovalRequests).
        public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            var context = ContextOf(gate, options);
            var response = await base.GetResponseAsync(messages, Hide(context, options), cancellationToken).ConfigureAwait(false);
            gate.DescribeApprovalRequests(context, response.Messages.SelectMany(m => m.Contents));
            return response;
        }

        public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
            IEnumerable<ChatMessage> messages, ChatOptions? options = null, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            var context = ContextOf(gate, options);
            await foreach (var update in base.GetStreamingResponseAsync(messages, Hide(context, options), cancellationToken).ConfigureAwait(false))
            {
                gate.DescribeApprovalRequests(context, update.Contents);
                yield return update;
            }
        }

        // No context (or a context provider that throws): the anonymous subject, so every tool is removed. The list handed
        // on also decides every tool a stage further in adds to it (as the framework's own list wraps what is added).
        private ChatOptions? Hide(AiRbacChatContext? context, ChatOptions? options)
        {
            if (options?.Tools is null)
            {
                return options;
            }

            var request = gate.WithoutForbiddenTools(context, options, InnerClient);
            request.Tools = new PermittedTools(gate, context, request.Tools!);
            return request;
        }
    }

    /// <summary>
    /// The tools of one request: what is added later (by a stage inside the agent's pipeline) is kept only if the subject
    /// may invoke it; a provider-hosted tool added later is dropped (its calls could not be screened).
    /// </summary>
    private sealed class PermittedTools : Collection<AITool>
    {
        private readonly AiRbacToolGate gate;
        private readonly AiRbacChatContext? context;

        internal PermittedTools(AiRbacToolGate gate, AiRbacChatContext? context, IEnumerable<AITool> permitted)
            : base([.. permitted])
        {
            this.gate = gate;
            this.context = context;
        }

        protected override void InsertItem(int index, AITool item)
        {
            if (Permitted(item))
            {
                base.InsertItem(index, item);
            }
        }

        protected override void SetItem(int index, AITool item)
        {
            if (Permitted(item))
            {
                base.SetItem(index, item);
            }
            else
            {
                RemoveAt(index);
            }
        }

        private bool Permitted(AITool? item)
            => item is not null and not HostedMcpServerTool && gate.Offers(context, item.Name);
    }
}
