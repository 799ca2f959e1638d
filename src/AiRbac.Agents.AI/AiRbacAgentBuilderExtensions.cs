using AiRbac.Extensions.AI;
using Microsoft.Agents.AI;

namespace AiRbac.Agents.AI;

/// <summary>Adds AiRbac to a Microsoft Agent Framework agent pipeline (<see cref="AIAgentBuilder"/>).</summary>
public static class AiRbacAgentBuilderExtensions
{
    /// <summary>
    /// Adds AiRbac with default settings and the <see cref="PolicyAuthorizer"/> of the services the agent is built with:
    /// see <see cref="UseAiRbac(AIAgentBuilder, Action{AiRbacChatClientOptions})"/>.
    /// </summary>
    /// <param name="builder">The builder.</param>
    /// <returns><paramref name="builder"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">When built, the services have no <see cref="PolicyAuthorizer"/>, or the
    /// agent is not built on a <see cref="ChatClientAgent"/>.</exception>
    public static AIAgentBuilder UseAiRbac(this AIAgentBuilder builder) => builder.UseAiRbac(configure: null);

    /// <summary>
    /// Adds AiRbac with the <see cref="PolicyAuthorizer"/> of the services the agent is built with
    /// (<see cref="AIAgentBuilder.Build(IServiceProvider)"/>; the singleton the AiRbac DI package registers). On every run
    /// of the agent, the tools the run's subject may not invoke are removed from each request, so the model never sees
    /// them, and every function the agent invokes is authorized first, through the Agent Framework's function-invocation
    /// middleware: a denied function does not run, and the model gets
    /// <see cref="AiRbacChatClient.DeniedToolResult"/>. The subject is the <see cref="AiRbacChatContext"/> of the run
    /// (<see cref="AiRbacAgentRunOptionsExtensions.WithAiRbac{TOptions}(TOptions, AiRbacChatContext)"/>); a run without one is denied every tool.
    /// </summary>
    /// <param name="builder">The builder.</param>
    /// <param name="configure">Changes the settings (only <see cref="AiRbacChatClientOptions.ToolAction"/>,
    /// <see cref="AiRbacChatClientOptions.ToolResourcePrefix"/>, <see cref="AiRbacChatClientOptions.McpToolResourcePrefix"/>
    /// and <see cref="AiRbacChatClientOptions.ContextProvider"/> are read), or <see langword="null"/>.</param>
    /// <returns><paramref name="builder"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">When built, the services have no <see cref="PolicyAuthorizer"/>, or the
    /// agent is not built on a <see cref="ChatClientAgent"/>.</exception>
    public static AIAgentBuilder UseAiRbac(this AIAgentBuilder builder, Action<AiRbacChatClientOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = Configure(configure);
        return builder.Use((agent, services) => AiRbacAgent.Wrap(
            agent,
            services.GetService(typeof(PolicyAuthorizer)) as PolicyAuthorizer
                ?? throw new InvalidOperationException("No PolicyAuthorizer is registered: register one (AddAiRbac) or pass it to UseAiRbac."),
            options));
    }

    /// <summary>
    /// Adds AiRbac with the given authorizer: as <see cref="UseAiRbac(AIAgentBuilder, Action{AiRbacChatClientOptions})"/>.
    /// </summary>
    /// <param name="builder">The builder.</param>
    /// <param name="authorizer">The authorizer that holds the current policy.</param>
    /// <param name="configure">Changes the settings (the tool action, resource prefixes and context provider), or
    /// <see langword="null"/>.</param>
    /// <returns><paramref name="builder"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> or <paramref name="authorizer"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">When built, the agent is not built on a <see cref="ChatClientAgent"/>.</exception>
    public static AIAgentBuilder UseAiRbac(this AIAgentBuilder builder, PolicyAuthorizer authorizer, Action<AiRbacChatClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(authorizer);
        var options = Configure(configure);
        return builder.Use((agent, _) => AiRbacAgent.Wrap(agent, authorizer, options));
    }

    private static AiRbacChatClientOptions Configure(Action<AiRbacChatClientOptions>? configure)
    {
        var options = new AiRbacChatClientOptions();
        configure?.Invoke(options);
        return options;
    }
}
