using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AiRbac;

/// <summary>Adds the AiRbac health check to an <see cref="IHealthChecksBuilder"/>.</summary>
public static class AiRbacHealthChecksBuilderExtensions
{
    /// <summary>
    /// Adds a health check of the policy <c>AddAiRbac</c> registered. Healthy while a policy answers and its last
    /// reload succeeded; Degraded while the last reload failed (the previous policy keeps answering) or an audit sink
    /// dropped records since the last check; <paramref name="failureStatus"/> (Unhealthy by default) when no policy is
    /// loaded. The data holds the policy version (content hash) and when it was loaded.
    /// </summary>
    /// <param name="builder">The health checks builder (<c>services.AddHealthChecks()</c>).</param>
    /// <param name="name">The check's name. Default <c>airbac</c>.</param>
    /// <param name="failureStatus">The status when no policy is loaded; <see langword="null"/> for Unhealthy.</param>
    /// <param name="tags">Tags to filter checks by (for example <c>ready</c>).</param>
    /// <returns>The same builder, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is <see langword="null"/>.</exception>
    public static IHealthChecksBuilder AddAiRbac(this IHealthChecksBuilder builder, string name = "airbac", HealthStatus? failureStatus = null, IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        builder.Services.TryAddSingleton<AiRbacHealthCheck>();
        return builder.Add(new HealthCheckRegistration(name, static provider => provider.GetRequiredService<AiRbacHealthCheck>(), failureStatus, tags));
    }
}

/// <summary>The AiRbac health check. A singleton: it remembers the audit drop count of the previous check.</summary>
internal sealed class AiRbacHealthCheck(IServiceProvider provider) : IHealthCheck
{
    private long lastDropped;
    private long lastShadowFailed;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var failure = context.Registration.FailureStatus;
        if (provider.GetService<AiRbacMarker>() is null)
        {
            return Task.FromResult(new HealthCheckResult(failure, "AiRbac is not registered: call services.AddAiRbac(...)."));
        }

        AiRbacRuntime runtime;
        try
        {
            runtime = provider.GetRequiredService<AiRbacRuntime>();
        }
        catch (Exception e) when (e is PolicyLoadException or InvalidOperationException)
        {
            return Task.FromResult(new HealthCheckResult(failure, "No AiRbac policy is loaded: " + e.Message, e));
        }

        return Task.FromResult(Check(runtime, failure));
    }

    private HealthCheckResult Check(AiRbacRuntime runtime, HealthStatus failure)
    {
        var authorizer = runtime.Authorizer;
        var version = authorizer.Version;
        var last = runtime.Reloader.LastResult;
        long dropped = runtime.TotalDropped();
        long delta = dropped - Interlocked.Exchange(ref lastDropped, dropped);
        var data = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["policy_source"] = runtime.Reloader.Source.SourceName,
            ["policy_version"] = version.ContentHash,
            ["policy_loaded_at"] = version.LoadedAt.ToString("O", CultureInfo.InvariantCulture),
            ["last_reload"] = last?.Status.ToString().ToLowerInvariant() ?? "none",
            ["audit_records_dropped"] = dropped,
            ["audit_records_dropped_since_last_check"] = Math.Max(0, delta),
        };

        if (!authorizer.HasPolicy)
        {
            return new HealthCheckResult(failure, "No AiRbac policy is loaded: every request is denied.", data: data);
        }

        var problems = new List<string>();
        if (last is { Succeeded: false })
        {
            int errors = last.Diagnostics.Count(d => d.IsError);
            string first = AiRbacLog.FirstError(last);
            data["reload_errors"] = errors;
            data["reload_first_error"] = first;
            problems.Add($"the last reload of {last.SourceName} failed with {errors} error(s) (first: {first}); version {version} keeps answering");
        }

        if (delta > 0)
        {
            problems.Add($"{delta} audit record(s) dropped since the last check");
        }

        if (runtime.ShadowReloader is { } shadow)
        {
            CheckShadow(shadow, runtime.ShadowTally!, data, problems);
        }

        return problems.Count == 0
            ? HealthCheckResult.Healthy($"AiRbac policy {version} answers.", data)
            : HealthCheckResult.Degraded("AiRbac: " + string.Join("; ", problems) + ".", data: data);
    }

    // Shadow mode (docs/dependency-injection.md, "Shadow mode"): a candidate that is not loaded, whose last reload
    // failed, or whose evaluation threw since the last check degrades the check; disagreements are what shadow mode is
    // for and are only reported.
    private void CheckShadow(PolicyReloader shadow, ShadowTally tally, Dictionary<string, object> data, List<string> problems)
    {
        var version = shadow.Version;
        var last = shadow.LastResult;
        long failed = tally.Failed;
        long newFailures = failed - Interlocked.Exchange(ref lastShadowFailed, failed);
        data["shadow_policy_source"] = shadow.Source.SourceName;
        data["shadow_policy_version"] = version.ContentHash;
        data["shadow_last_reload"] = last?.Status.ToString().ToLowerInvariant() ?? "none";
        data["shadow_disagreements"] = tally.Disagreed;
        data["shadow_failures"] = failed;
        if (version.ContentHash.Length == 0)
        {
            problems.Add($"the shadow policy {shadow.Source.SourceName} is not loaded ({(last is null ? "not read yet" : AiRbacLog.FirstError(last))}): nothing is evaluated in shadow");
        }
        else if (last is { Succeeded: false })
        {
            data["shadow_reload_first_error"] = AiRbacLog.FirstError(last);
            problems.Add($"the last reload of the shadow policy {last.SourceName} failed (first: {AiRbacLog.FirstError(last)}); shadow version {version} is still evaluated");
        }

        if (newFailures > 0)
        {
            problems.Add($"{newFailures} shadow evaluation(s) threw since the last check");
        }
    }
}
