using System.Collections.ObjectModel;
using AiRbac.Extensions.AI;
using Microsoft.Agents.AI;
using Microsoft.Extensions.AI;

namespace AiRbac.Agents.AI;

/// <summary>
/// The agent AiRbac puts around a <see cref="ChatClientAgent"/> (docs/integrations.md, "Microsoft Agent Framework"): on
/// every run it makes the agent's chat pipeline hide from the model every tool the run's subject may not invoke, and,
/// through the Agent Framework's function-invocation middleware (the agent just inside this one), it asks the policy
/// before every function the agent's <see cref="FunctionInvokingChatClient"/> invokes, whatever asked for the call: the
/// model, an approval in the posted history, or an approval the framework stored in the session.
/// </summary>
internal sealed class AiRbacAgent : DelegatingAIAgent
{
    private readonly AiRbacToolGate gate;

    /// <param name="innerAgent">The agent with AiRbac's function middleware (see <see cref="Wrap"/>).</param>
    /// <param name="gate">The one tool authorization.</param>
    private AiRbacAgent(AIAgent innerAgent, AiRbacToolGate gate)
        : base(innerAgent)
    {
        this.gate = gate;
    }

    /// <summary>
    /// Puts AiRbac around <paramref name="agent"/>: the function middleware just around it, the hiding stage outside.
    /// </summary>
    /// <exception cref="InvalidOperationException"><paramref name="agent"/> is not built on a <see cref="ChatClientAgent"/>:
    /// AiRbac could neither see its tools nor authorize their calls.</exception>
    internal static AIAgent Wrap(AIAgent agent, AiRbacToolGate gate, IServiceProvider? services)
    {
        if (agent.GetService(typeof(ChatClientAgent)) is null)
        {
            throw new InvalidOperationException(
                "AiRbac's agent middleware needs an agent built on a ChatClientAgent (an IChatClient with tools); this agent's tools cannot be authorized.");
        }

        var authorizing = agent.AsBuilder().Use(new FunctionGate(gate).InvokeAsync).Build(services);
        return new AiRbacAgent(authorizing, gate);
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
    // inside any factory the caller set (so the stage sees the tools those add) and inside the Agent Framework's
    // function middleware (so the tools it sees are the ones the invoker will find).
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

        var callerFactory = run.ChatClientFactory;
        run.ChatClientFactory = chatClient =>
        {
            IChatClient hiding = new ToolHidingChatClient(chatClient, gate);
            return callerFactory is null ? hiding : callerFactory(hiding);
        };
        return run;
    }

    /// <summary>Removes from every request the tools its subject may not invoke, so the model never sees them.</summary>
    private sealed class ToolHidingChatClient(IChatClient inner, AiRbacToolGate gate) : DelegatingChatClient(inner)
    {
        public override Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
            => base.GetResponseAsync(messages, Hide(options), cancellationToken);

        public override IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
            IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
            => base.GetStreamingResponseAsync(messages, Hide(options), cancellationToken);

        // No context (or a context provider that throws): the anonymous subject, so every tool is removed. The list handed
        // on also decides every tool a stage further in adds to it (as the framework's own list wraps what is added).
        private ChatOptions? Hide(ChatOptions? options)
        {
            if (options?.Tools is null)
            {
                return options;
            }

            var context = FunctionGate.ContextOf(gate, options);
            var request = gate.WithoutForbiddenTools(context, options);
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
            => item is not null and not HostedMcpServerTool && gate.Authorize(context, item.Name).Allowed;
    }

    /// <summary>
    /// The Agent Framework function-invocation middleware: every invocation is decided here, and a denied one is
    /// answered in one place, <see cref="Refuse"/>.
    /// </summary>
    private sealed class FunctionGate(AiRbacToolGate gate)
    {
        public ValueTask<object?> InvokeAsync(
            AIAgent agent,
            FunctionInvocationContext invocation,
            Func<FunctionInvocationContext, CancellationToken, ValueTask<object?>> next,
            CancellationToken cancellationToken)
        {
            string? name = invocation.Function?.Name;
            Decision decision;
            try
            {
                decision = gate.Authorize(ContextOf(gate, invocation.Options ?? RunOptions()), name);
            }
            catch (Exception)
            {
                // Fail closed: whatever failed (a context provider, say), the call is decided for nobody.
                decision = gate.Authorize(null, name);
            }

            return decision.Allowed ? next(invocation, cancellationToken) : Refuse(name, decision);
        }

        /// <summary>
        /// The one place a denied call is answered: the function does not run, and the model gets the reason only
        /// (<see cref="AiRbacChatClient.DeniedToolResult"/>). Where a decision that asks for approval will be mapped.
        /// </summary>
        private static ValueTask<object?> Refuse(string? name, Decision decision)
            => new(AiRbacChatClient.DeniedToolResult(name ?? string.Empty, decision));

        // The run's options when the invocation has no chat options (a function invoked outside the invoker's loop).
        private static ChatOptions? RunOptions()
            => AIAgent.CurrentRunContext?.RunOptions switch
            {
                ChatClientAgentRunOptions { ChatOptions: { } chat } run => WithRunProperties(chat, run.AdditionalProperties),
                { AdditionalProperties: { } properties } => new ChatOptions { AdditionalProperties = properties },
                _ => null,
            };

        private static ChatOptions WithRunProperties(ChatOptions chat, AdditionalPropertiesDictionary? properties)
        {
            if (properties is null || properties.Count == 0)
            {
                return chat;
            }

            var merged = chat.Clone();
            merged.AdditionalProperties ??= [];
            foreach (var property in properties)
            {
                merged.AdditionalProperties[property.Key] = property.Value;
            }

            return merged;
        }

        /// <summary>The request's context; a provider that throws gives none (so the anonymous subject, denied).</summary>
        internal static AiRbacChatContext? ContextOf(AiRbacToolGate gate, ChatOptions? options)
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
    }
}
