using AiRbac.Extensions.AI;
using Microsoft.Agents.AI;

namespace AiRbac.Agents.AI;

/// <summary>Attaches the subject of an agent run to its <see cref="AgentRunOptions"/>.</summary>
public static class AiRbacAgentRunOptionsExtensions
{
    /// <summary>
    /// Stores <paramref name="context"/> in <see cref="AgentRunOptions.AdditionalProperties"/> under
    /// <see cref="AiRbacChatContext.PropertyName"/> (replacing any earlier one). A <see cref="ChatClientAgent"/> copies
    /// those properties into the chat options of every request of the run, where AiRbac reads the context. Set it from
    /// your own code (the signed-in user, the agent's identity), never from anything the model or a client posts.
    /// </summary>
    /// <typeparam name="TOptions">The kind of run options.</typeparam>
    /// <param name="options">The run options to change.</param>
    /// <param name="context">Who asks (typically the agent acting for the user) and the data context.</param>
    /// <returns><paramref name="options"/>.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public static TOptions WithAiRbac<TOptions>(this TOptions options, AiRbacChatContext context)
        where TOptions : AgentRunOptions
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(context);
        (options.AdditionalProperties ??= [])[AiRbacChatContext.PropertyName] = context;
        return options;
    }
}
