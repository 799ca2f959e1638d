using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace AiRbac.AspNetCore;

/// <summary>Registers <see cref="AiRbacAuthorizationHandler"/> and lets endpoints and policies demand (action, resource).</summary>
public static class AiRbacAuthorizationExtensions
{
    /// <summary>
    /// Registers <see cref="AiRbacAuthorizationHandler"/> (once, however often this is called). The
    /// <see cref="PolicyAuthorizer"/> must be registered too (the AiRbac DI package does it).
    /// </summary>
    /// <param name="services">The services.</param>
    /// <returns><paramref name="services"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> is <see langword="null"/>.</exception>
    public static IServiceCollection AddAiRbacAuthorization(this IServiceCollection services) => services.AddAiRbacAuthorization(configure: null);

    /// <summary>
    /// Registers <see cref="AiRbacAuthorizationHandler"/> (once, however often this is called) and configures the
    /// claim mapping. The <see cref="PolicyAuthorizer"/> must be registered too (the AiRbac DI package does it).
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Changes the claim mapping, or <see langword="null"/>.</param>
    /// <returns><paramref name="services"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> is <see langword="null"/>.</exception>
    public static IServiceCollection AddAiRbacAuthorization(this IServiceCollection services, Action<AiRbacAuthorizationOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddAuthorizationCore();
        services.AddOptions<AiRbacAuthorizationOptions>();
        if (configure is not null)
        {
            services.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IAuthorizationHandler, AiRbacAuthorizationHandler>());
        return services;
    }

    /// <summary>Adds an <see cref="AiRbacRequirement"/> to a policy.</summary>
    /// <param name="policy">The policy builder.</param>
    /// <param name="action">The action, for example <c>model:query</c>.</param>
    /// <param name="resourceTemplate">The resource with optional <c>{routeValue}</c> placeholders, for example <c>model:{modelId}</c>.</param>
    /// <returns><paramref name="policy"/>.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public static AuthorizationPolicyBuilder RequireAiRbac(this AuthorizationPolicyBuilder policy, string action, string resourceTemplate)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return policy.AddRequirements(new AiRbacRequirement(action, resourceTemplate));
    }

    /// <summary>Makes an endpoint demand (action, resource) of an authenticated user.</summary>
    /// <typeparam name="TBuilder">The endpoint builder type.</typeparam>
    /// <param name="endpoint">The endpoint.</param>
    /// <param name="action">The action, for example <c>model:query</c>.</param>
    /// <param name="resourceTemplate">The resource with optional <c>{routeValue}</c> placeholders, for example <c>model:{modelId}</c>.</param>
    /// <returns><paramref name="endpoint"/>.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public static TBuilder RequireAiRbac<TBuilder>(this TBuilder endpoint, string action, string resourceTemplate)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var requirement = new AiRbacRequirement(action, resourceTemplate);
        return endpoint.RequireAuthorization(policy => policy.RequireAuthenticatedUser().AddRequirements(requirement));
    }
}
