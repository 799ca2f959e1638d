using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace AiRbac.Extensions.AI;

/// <summary>Makes a <see cref="FunctionInvokingChatClient"/> ask the policy before it invokes any function.</summary>
public static class AiRbacFunctionInvocation
{
    // The invokers already authorized, with the policy each asks: installing twice with the same policy (by hand and by an
    // AiRbacChatClient outside, or per run by the Agent Framework middleware) decides once.
    private static readonly ConditionalWeakTable<FunctionInvokingChatClient, Installation> Installed = [];

    /// <summary>
    /// Sets <see cref="FunctionInvokingChatClient.FunctionInvoker"/> so that every invocation, whatever asked for it
    /// (a call in the model's response, an approval response in the posted history, a tool in
    /// <see cref="FunctionInvokingChatClient.AdditionalTools"/> or in <see cref="ChatOptions.Tools"/>), is authorized
    /// first: <c>tool:invoke</c> on <c>tool:NAME</c> (or the actions of <paramref name="options"/>) for the subject of
    /// the request's <see cref="AiRbacChatContext"/>. A denied invocation does not run; its result is
    /// <see cref="AiRbacChatClient.DeniedToolResult"/>. An invoker set before is kept and called for permitted
    /// invocations; one set after is put behind AiRbac's the next time AiRbac is installed on the client (every run of an
    /// Agent Framework agent with AiRbac does so). A context provider that throws is the anonymous subject (denied).
    /// </summary>
    /// <param name="client">The function-invoking client.</param>
    /// <param name="authorizer">The authorizer that holds the current policy.</param>
    /// <param name="options">The tool action, resource prefix and context provider; <see langword="null"/> for the defaults.</param>
    /// <returns><paramref name="client"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="client"/> or <paramref name="authorizer"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException"><paramref name="client"/> already asks another policy (another
    /// authorizer, tool action, prefix or context provider): one invoker cannot serve two policies, and deciding with
    /// either one would be wrong for the other.</exception>
    public static FunctionInvokingChatClient AuthorizeWithAiRbac(this FunctionInvokingChatClient client, PolicyAuthorizer authorizer, AiRbacChatClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(authorizer);
        options ??= new AiRbacChatClientOptions();
        Install(client, new ToolPolicy(authorizer, options.ToolAction, options.ToolResourcePrefix, options.McpToolResourcePrefix), options.ContextProvider ?? AiRbacChatContext.From);
        return client;
    }

    internal static void Install(FunctionInvokingChatClient client, ToolPolicy policy, Func<ChatOptions?, AiRbacChatContext?> contextProvider)
    {
        lock (Installed)
        {
            if (Installed.TryGetValue(client, out var installed))
            {
                if (!installed.Policy.SameAs(policy) || !installed.ContextProvider.Equals(contextProvider))
                {
                    throw new InvalidOperationException(
                        "This FunctionInvokingChatClient already asks another AiRbac policy (another authorizer, tool action, prefix or context provider): give each policy its own chat client.");
                }

                if (ReferenceEquals(client.FunctionInvoker, installed.Invoker))
                {
                    return;
                }

                // An invoker set after AiRbac's would run first and unauthorized: put it behind AiRbac's.
                Installed.Remove(client);
            }

            var invoker = Authorizing(policy, contextProvider, client.FunctionInvoker);
            client.FunctionInvoker = invoker;
            Installed.Add(client, new Installation(policy, contextProvider, invoker));
        }
    }

    private static Func<FunctionInvocationContext, CancellationToken, ValueTask<object?>> Authorizing(
        ToolPolicy policy, Func<ChatOptions?, AiRbacChatContext?> contextProvider, Func<FunctionInvocationContext, CancellationToken, ValueTask<object?>>? previous)
        => (invocation, cancellationToken) =>
        {
            // A function wrapped by AiRbac is decided here, once, for the context it was wrapped with.
            var context = invocation.Function is AuthorizedFunction guarded ? guarded.Context : ContextOf(contextProvider, invocation.Options);
            string name = invocation.Function.Name;
            var decision = policy.AuthorizeCall(context, name, invocation.CallContent?.CallId, invocation.Arguments);
            if (!decision.Allowed)
            {
                string result = AiRbacChatClient.DeniedToolResult(name, decision);
                if (decision.Reason == DecisionReason.ApprovalRequired && decision.ApprovalRule is { } rule && invocation.CallContent is { } call)
                {
                    // Not run: the host is asked (ToolApprovals), and the model is not called again before it answers.
                    ToolApprovals.Note(context, call, rule, result);
                    invocation.Terminate = true;
                }

                return new ValueTask<object?>(result);
            }

            if (invocation.Function is AuthorizedFunction permitted)
            {
                invocation.Function = permitted.Unguarded;
            }

            return previous is null
                ? invocation.Function.InvokeAsync(invocation.Arguments, cancellationToken)
                : previous(invocation, cancellationToken);
        };

    // Fail closed: a provider that throws gives no context, so the anonymous subject, which every policy denies.
    private static AiRbacChatContext? ContextOf(Func<ChatOptions?, AiRbacChatContext?> contextProvider, ChatOptions? options)
    {
        try
        {
            return contextProvider(options);
        }
        catch (Exception)
        {
            return null;
        }
    }

    private sealed record Installation(
        ToolPolicy Policy, Func<ChatOptions?, AiRbacChatContext?> ContextProvider, Func<FunctionInvocationContext, CancellationToken, ValueTask<object?>> Invoker);
}
