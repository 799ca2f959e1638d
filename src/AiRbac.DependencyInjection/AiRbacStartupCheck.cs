using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AiRbac;

/// <summary>
/// Loads the policy when the host starts, so a policy that does not load stops the start: <see cref="StartAsync"/>
/// throws the <see cref="PolicyLoadException"/> that lists every diagnostic. Registered by <c>AddAiRbac</c>.
/// </summary>
internal sealed class AiRbacStartupCheck(IServiceProvider provider) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _ = provider.GetRequiredService<AiRbacRuntime>();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
