using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace AiRbac.Extensions.AI;

/// <summary>Makes a <see cref="FunctionInvokingChatClient"/> ask the policy before it invokes any function.</summary>
public static class AiRbacFunctionInvocation
{
    // The invokers already authorized, so that installing twice (by hand and by an AiRbacChatClient outside) decides once.
    private static readonly ConditionalWeakTable<FunctionInvokingChatClient, ToolPolicy> Installed = [];

    /// <summary>
    /// Sets <see cref="FunctionInvokingChatClient.FunctionInvoker"/> so that every invocation, whatever asked for it
    /// (a call in the model's response, an approval response in the posted history, a tool in
    /// <see cref="FunctionInvokingChatClient.AdditionalTools"/> or in <see cref="ChatOptions.Tools"/>), is authorized
    /// first: <c>tool:invoke</c> on <c>tool:NAME</c> (or the actions of <paramref name="options"/>) for the subject of
    /// the request's <see cref="AiRbacChatContext"/>. A denied invocation does not run; its result is
    /// <see cref="AiRbacChatClient.DeniedToolResult"/>. An invoker set before is kept and called for permitted invocations.
    /// </summary>
    /// <param name="client">The function-invoking client.</param>
    /// <param name="authorizer">The authorizer that holds the current policy.</param>
    /// <param name="options">The tool action, resource prefix and context provider; <see langword="null"/> for the defaults.</param>
    /// <returns><paramref name="client"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="client"/> or <paramref name="authorizer"/> is <see langword="null"/>.</exception>
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
            if (Installed.TryGetValue(client, out _))
            {
                return;
            }

            Installed.Add(client, policy);
            var previous = client.FunctionInvoker;
            client.FunctionInvoker = (invocation, cancellationToken) =>
            {
                // A function wrapped by AiRbac is decided here, once, for the context it was wrapped with.
                var context = invocation.Function is AuthorizedFunction guarded ? guarded.Context : contextProvider(invocation.Options);
                string name = invocation.Function.Name;
                var decision = policy.Authorize(context, name);
                if (!decision.Allowed)
                {
                    return new ValueTask<object?>(AiRbacChatClient.DeniedToolResult(name, decision));
                }

                if (invocation.Function is AuthorizedFunction permitted)
                {
                    invocation.Function = permitted.Unguarded;
                }

                return previous is null
                    ? invocation.Function.InvokeAsync(invocation.Arguments, cancellationToken)
                    : previous(invocation, cancellationToken);
            };
        }
    }
}
