using Microsoft.Extensions.DependencyInjection;

namespace AiRbac.ModelContextProtocol;

/// <summary>Adds the AiRbac filters to an MCP server registered with <c>AddMcpServer()</c>.</summary>
public static class AiRbacMcpServerBuilderExtensions
{
    /// <summary>
    /// Adds the <c>tools/list</c> and <c>tools/call</c> filters of <see cref="AiRbacMcpFilters"/>, taking the
    /// <see cref="PolicyAuthorizer"/> from the request's services.
    /// </summary>
    /// <param name="builder">The MCP server builder.</param>
    /// <returns><paramref name="builder"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is <see langword="null"/>.</exception>
    public static IMcpServerBuilder WithAiRbac(this IMcpServerBuilder builder) => builder.WithAiRbac(configure: null);

    /// <summary>
    /// Adds the <c>tools/list</c> and <c>tools/call</c> filters of <see cref="AiRbacMcpFilters"/>, taking the
    /// <see cref="PolicyAuthorizer"/> from the request's services.
    /// </summary>
    /// <param name="builder">The MCP server builder.</param>
    /// <param name="configure">Changes the settings, or <see langword="null"/>.</param>
    /// <returns><paramref name="builder"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is <see langword="null"/>.</exception>
    public static IMcpServerBuilder WithAiRbac(this IMcpServerBuilder builder, Action<AiRbacMcpOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = new AiRbacMcpOptions();
        configure?.Invoke(options);
        var filters = new AiRbacMcpFilters(authorizer: null, options);
        return builder.WithRequestFilters(requests => requests
            .AddListToolsFilter(filters.ListTools)
            .AddCallToolFilter(filters.CallTool));
    }
}
