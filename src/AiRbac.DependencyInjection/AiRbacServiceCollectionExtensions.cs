using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

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
    /// Registers AiRbac with options bound from configuration (for example <c>configuration.GetSection("AiRbac")</c>):
    /// <c>PolicyFile</c>, <c>WatchFile</c>, <c>ReloadDebounce</c>, <c>PollInterval</c>, <c>RequireChecksumFile</c>,
    /// <c>EnableMetrics</c>, <c>EnableTracing</c>, <c>TraceAllowedDecisions</c>, <c>LogDecisions</c> and the
    /// <c>AuditLog</c> section. The options are validated when the host starts; see
    /// <see cref="AddAiRbac(IServiceCollection, Action{AiRbacOptions})"/> for the rest.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configuration">The configuration section holding the options.</param>
    /// <returns>The same services, for chaining.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public static IServiceCollection AddAiRbac(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<AiRbacOptions>().Bind(configuration);
        return services.AddAiRbac(static _ => { });
    }

    /// <summary>
    /// Registers a singleton <see cref="PolicyAuthorizer"/> that always answers from the current compiled policy, the
    /// <see cref="PolicyReloader"/> that loads and reloads it, <see cref="AiRbacOptions"/> as
    /// <c>IOptions&lt;AiRbacOptions&gt;</c> (validated at host start), and a hosted service that loads the policy when
    /// the host starts: a policy with errors then stops the start with a <see cref="PolicyLoadException"/> listing every
    /// diagnostic. Without a host, the policy is loaded when the authorizer is first resolved (resolve it at
    /// start-up). Calling this again registers nothing more: the configuration delegates of every call run, in order,
    /// on one <see cref="AiRbacOptions"/>. <see cref="TimeProvider.System"/> is registered unless a
    /// <see cref="TimeProvider"/> already is. Logs through the registered <c>ILoggerFactory</c> and creates its meter
    /// through the registered <c>IMeterFactory</c>, when there are.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configure">Sets the options; <see cref="AiRbacOptions.Source"/> (or <see cref="AiRbacOptions.PolicyFile"/>) is required.</param>
    /// <returns>The same services, for chaining.</returns>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public static IServiceCollection AddAiRbac(this IServiceCollection services, Action<AiRbacOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);

        services.Configure(configure);
        foreach (var descriptor in services)
        {
            if (descriptor.ServiceType == typeof(AiRbacMarker))
            {
                return services; // registered already: only the configuration above is new
            }
        }

        services.AddSingleton<AiRbacMarker>();
        services.AddOptions<AiRbacOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AiRbacOptions>, AiRbacOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, AiRbacStartupCheck>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(static provider => new AiRbacRuntime(provider));
        services.TryAddSingleton(static provider => provider.GetRequiredService<AiRbacRuntime>().Authorizer);
        services.TryAddSingleton(static provider => provider.GetRequiredService<AiRbacRuntime>().Reloader);
        return services;
    }
}

/// <summary>Says that <c>AddAiRbac</c> has run on a service collection.</summary>
internal sealed class AiRbacMarker;

/// <summary>
/// Owns what <c>AddAiRbac</c> builds: the audit sinks, the instruments, the tracer, the authorizer and the reloader.
/// Disposed by the service provider, which flushes the audit log.
/// </summary>
internal sealed class AiRbacRuntime : IDisposable
{
    // How often the audit drop count is looked at, and a drop since the last look logged (at most once per interval).
    internal static readonly TimeSpan DropLogInterval = TimeSpan.FromMinutes(1);

    private readonly List<IAuditSink> sinks = [];
    private readonly ILogger logger;
    private readonly ITimer? dropTimer;
    private long droppedLogged;
    private long shadowFailuresLogged;

    public AiRbacRuntime(IServiceProvider provider)
    {
        AiRbacOptions options;
        try
        {
            options = provider.GetRequiredService<IOptions<AiRbacOptions>>().Value;
        }
        catch (OptionsValidationException e)
        {
            throw new InvalidOperationException(string.Join(Environment.NewLine, e.Failures), e);
        }

        var loggerFactory = provider.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance;
        logger = loggerFactory.CreateLogger(AiRbacLog.Category);
        var timeProvider = provider.GetRequiredService<TimeProvider>();
        var source = options.Source ?? (options.PolicyFile is { } file ? AiRbacPolicySource.FromFile(FromContentRoot(provider, file)) : null);
        var shadowSource = options.Shadow.Source
            ?? (options.Shadow.PolicyFile is { } candidateFile ? AiRbacPolicySource.FromFile(FromContentRoot(provider, candidateFile)) : null);
        try
        {
            if (options.AuditLog.Path is not null)
            {
                AuditSink = new JsonLinesAuditSink(options.AuditLog, timeProvider);
                sinks.Add(AuditSink);
            }

            if (options.LogDecisions)
            {
                sinks.Add(new LoggingAuditSink(loggerFactory.CreateLogger(AiRbacLog.AuditCategory)));
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
                Instruments = new AiRbacInstruments(sinks, provider.GetService<IMeterFactory>(), shadow: shadowSource is not null);
                observers.Add(Instruments);
            }

            if (options.EnableTracing)
            {
                Tracer = new AiRbacDecisionTracer(options.TraceAllowedDecisions);
                observers.Add(Tracer);
            }

            observers.Add(new BreakGlassAlerts(logger, options.OnBreakGlass, timeProvider));

            // Shadow mode: the candidate policy lives in an authorizer of its own (no observers), which the live one
            // evaluates after each decision; it is loaded and reloaded below by the same reloader code as the live policy.
            PolicyAuthorizer? candidate = null;
            if (shadowSource is not null)
            {
                candidate = new PolicyAuthorizer();
                ShadowTally = new ShadowTally();
                observers.Add(ShadowTally);
            }

            Authorizer = new PolicyAuthorizer(observers, candidate);
            if (Instruments is not null)
            {
                var authorizer = Authorizer;
                Instruments.CurrentVersion = () => authorizer.Version;
            }

            Reloader = new PolicyReloader(Authorizer, options, timeProvider, Instruments, logger, source);
            Reloader.LoadInitial();
            if (candidate is not null)
            {
                ShadowReloader = new PolicyReloader(candidate, options, timeProvider, null, loggerFactory.CreateLogger(AiRbacLog.ShadowCategory), shadowSource, shadow: true);
                LoadCandidate(ShadowReloader);
            }

            if (options.WatchFile)
            {
                Reloader.StartWatching();
                ShadowReloader?.StartWatching();
            }

            if (sinks.Count > 0 || ShadowTally is not null)
            {
                dropTimer = timeProvider.CreateTimer(static state => ((AiRbacRuntime)state!).LogDrops(), this, DropLogInterval, DropLogInterval);
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

    public AiRbacDecisionTracer? Tracer { get; }

    public PolicyAuthorizer Authorizer { get; } = null!;

    public PolicyReloader Reloader { get; } = null!;

    /// <summary>Loads and reloads the candidate policy of shadow mode, or <see langword="null"/> when shadow mode is off.</summary>
    public PolicyReloader? ShadowReloader { get; }

    /// <summary>The shadow disagreements and failures counted for the health check, or <see langword="null"/> when shadow mode is off.</summary>
    public ShadowTally? ShadowTally { get; }

    // A relative PolicyFile is taken from the host's content root (where appsettings.json is read from), as other
    // paths in .NET configuration are; without a host, from the current directory.
    private static string FromContentRoot(IServiceProvider provider, string file)
        => !Path.IsPathRooted(file) && provider.GetService<IHostEnvironment>()?.ContentRootPath is { Length: > 0 } root
            ? Path.Combine(root, file)
            : file;

    /// <summary>Records dropped by every audit sink so far.</summary>
    public long TotalDropped()
    {
        long total = 0;
        foreach (var sink in sinks)
        {
            total += sink.RecordsDropped;
        }

        return total;
    }

    public void Dispose()
    {
        dropTimer?.Dispose();
        ShadowReloader?.Dispose();
        Reloader?.Dispose();
        AuditSink?.Dispose();
        Instruments?.Dispose();
        Tracer?.Dispose();
    }

    // A candidate that does not load never stops the start: the reloader reports it (log, LastResult, health) and the
    // live policy answers alone until a candidate compiles.
    private void LoadCandidate(PolicyReloader candidate)
    {
        try
        {
            candidate.LoadInitial();
        }
#pragma warning disable CA1031 // Reason: nothing about the candidate policy may stop the service (docs/dependency-injection.md, "Shadow mode"); the failure is logged.
        catch (Exception e) when (e is not OutOfMemoryException)
#pragma warning restore CA1031
        {
            AiRbacLog.PolicyCheckFailed(logger, candidate.Source.SourceName, e);
        }
    }

    // Logs the records dropped, and the shadow evaluations that failed, since the last time it logged some: at most one
    // event of each per interval.
    internal void LogDrops()
    {
        long total = TotalDropped();
        long delta = total - Interlocked.Exchange(ref droppedLogged, total);
        if (delta > 0)
        {
            AiRbacLog.AuditRecordsDropped(logger, delta, DropLogInterval, total);
        }

        if (ShadowTally is { } tally)
        {
            long failed = tally.Failed;
            long newFailures = failed - Interlocked.Exchange(ref shadowFailuresLogged, failed);
            if (newFailures > 0)
            {
                AiRbacLog.ShadowEvaluationsFailed(logger, newFailures, DropLogInterval, failed);
            }
        }
    }
}
