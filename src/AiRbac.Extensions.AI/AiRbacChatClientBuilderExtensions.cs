using Microsoft.Extensions.AI;

namespace AiRbac.Extensions.AI;

/// <summary>Adds an <see cref="AiRbacChatClient"/> to a chat-client pipeline.</summary>
public static class AiRbacChatClientBuilderExtensions
{
    /// <summary>
    /// Adds an <see cref="AiRbacChatClient"/> with default settings that takes the <see cref="PolicyAuthorizer"/> from
    /// the pipeline's service provider (the singleton the AiRbac DI package registers).
    /// </summary>
    /// <param name="builder">The builder.</param>
    /// <returns><paramref name="builder"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">When built, the service provider has no <see cref="PolicyAuthorizer"/>.</exception>
    public static ChatClientBuilder UseAiRbac(this ChatClientBuilder builder) => builder.UseAiRbac(configure: null);

    /// <summary>
    /// Adds an <see cref="AiRbacChatClient"/> that takes the <see cref="PolicyAuthorizer"/> from the pipeline's
    /// service provider (the singleton the AiRbac DI package registers).
    /// </summary>
    /// <param name="builder">The builder.</param>
    /// <param name="configure">Changes the settings, or <see langword="null"/>.</param>
    /// <returns><paramref name="builder"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is <see langword="null"/>.</exception>
    /// <exception cref="InvalidOperationException">When built, the service provider has no <see cref="PolicyAuthorizer"/>.</exception>
    public static ChatClientBuilder UseAiRbac(this ChatClientBuilder builder, Action<AiRbacChatClientOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = Configure(configure);
        return builder.Use((inner, services) => new AiRbacChatClient(
            inner,
            services.GetService(typeof(PolicyAuthorizer)) as PolicyAuthorizer
                ?? throw new InvalidOperationException("No PolicyAuthorizer is registered: register one (AddAiRbac) or pass it to UseAiRbac."),
            options));
    }

    /// <summary>Adds an <see cref="AiRbacChatClient"/> that uses the given authorizer.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="authorizer">The authorizer that holds the current policy.</param>
    /// <param name="configure">Changes the settings, or <see langword="null"/>.</param>
    /// <returns><paramref name="builder"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> or <paramref name="authorizer"/> is <see langword="null"/>.</exception>
    public static ChatClientBuilder UseAiRbac(this ChatClientBuilder builder, PolicyAuthorizer authorizer, Action<AiRbacChatClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(authorizer);
        var options = Configure(configure);
        return builder.Use(inner => new AiRbacChatClient(inner, authorizer, options));
    }

    private static AiRbacChatClientOptions Configure(Action<AiRbacChatClientOptions>? configure)
    {
        var options = new AiRbacChatClientOptions();
        configure?.Invoke(options);
        return options;
    }
}
