using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace AiRbac;

/// <summary>Registers AiRbac in an <see cref="IServiceCollection"/>.</summary>
public static class AiRbacServiceCollectionExtensions
{
    /// <summary>Registers AiRbac with a watched policy file; see <see cref="AddAiRbac(IServiceCollection, Action{AiRbacOptions})"/>.</summary>
    /// <param name="services">The services.</param>
    /// <param name="policyFilePath">The YAML policy file.</param>
    /// <returns>The same services, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="policyFilePath"/> is null or empty.</exception>
    public static IServiceCollection AddAiRbac(this IServiceCollection services, string policyFilePath)
    {
        var source = AiRbacPolicySource.FromFile(policyFilePath);
        return services.AddAiRbac(options => options.Source = source);
    }

    /// <summary>
    /// Registers a singleton <see cref="PolicyAuthorizer"/> that always answers from the current compiled policy, and
    /// the <see cref="PolicyReloader"/> that loads and reloads it. The policy is loaded when the authorizer is first
    /// resolved; a policy with errors then throws a <see cref="PolicyLoadException"/> listing every diagnostic, so
    /// resolve the authorizer at start-up. Calling this again registers nothing more: the configuration delegates of
    /// every call run, in order, on one <see cref="AiRbacOptions"/>. <see cref="TimeProvider.System"/> is registered
    /// unless a <see cref="TimeProvider"/> already is.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Sets the options; <see cref="AiRbacOptions.Source"/> is required.</param>
    /// <returns>The same services, for chaining.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public static IServiceCollection AddAiRbac(this IServiceCollection services, Action<AiRbacOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);

        services.AddSingleton(new AiRbacConfiguration(configure));
        foreach (var descriptor in services)
        {
            if (descriptor.ServiceType == typeof(AiRbacMarker))
            {
                return services; // registered already: only the configuration above is new
            }
        }

        services.AddSingleton<AiRbacMarker>();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(static provider => new AiRbacRuntime(provider));
        services.TryAddSingleton(static provider => provider.GetRequiredService<AiRbacRuntime>().Authorizer);
        services.TryAddSingleton(static provider => provider.GetRequiredService<AiRbacRuntime>().Reloader);
        return services;
    }
}

/// <summary>Says that <c>AddAiRbac</c> has run on a service collection.</summary>
internal sealed class AiRbacMarker;

/// <summary>One <c>AddAiRbac</c> call's configuration delegate.</summary>
internal sealed class AiRbacConfiguration(Action<AiRbacOptions> configure)
{
    public Action<AiRbacOptions> Configure { get; } = configure;
}

/// <summary>
/// Owns what <c>AddAiRbac</c> builds: the audit sink, the instruments, the authorizer and the reloader. Disposed by
/// the service provider, which flushes the audit log.
/// </summary>
internal sealed class AiRbacRuntime : IDisposable
{
    public AiRbacRuntime(IServiceProvider provider)
    {
        var options = new AiRbacOptions();
        foreach (var configuration in provider.GetServices<AiRbacConfiguration>())
        {
            configuration.Configure(options);
        }

        var timeProvider = provider.GetRequiredService<TimeProvider>();
        try
        {
            var sinks = new List<IAuditSink>();
            if (options.AuditLog.Path is not null)
            {
                AuditSink = new JsonLinesAuditSink(options.AuditLog, timeProvider);
                sinks.Add(AuditSink);
            }

            foreach (var sink in provider.GetServices<IAuditSink>())
            {
                if (!sinks.Contains(sink))
                {
                    sinks.Add(sink);
                }
            }

            var observers = new List<IDecisionObserver>(sinks);
            foreach (var observer in provider.GetServices<IDecisionObserver>())
            {
                if (!observers.Contains(observer))
                {
                    observers.Add(observer);
                }
            }

            if (options.EnableMetrics)
            {
                Instruments = new AiRbacInstruments(sinks);
                observers.Add(Instruments);
            }

            Authorizer = new PolicyAuthorizer(observers);
            Reloader = new PolicyReloader(Authorizer, options, timeProvider, Instruments);
            Reloader.LoadInitial();
            if (options.WatchFile)
            {
                Reloader.StartWatching();
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public JsonLinesAuditSink? AuditSink { get; }

    public AiRbacInstruments? Instruments { get; }

    public PolicyAuthorizer Authorizer { get; } = null!;

    public PolicyReloader Reloader { get; } = null!;

    public void Dispose()
    {
        Reloader?.Dispose();
        AuditSink?.Dispose();
        Instruments?.Dispose();
    }
}
