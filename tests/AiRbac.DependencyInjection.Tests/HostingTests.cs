using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AiRbac.DependencyInjection.Tests;

/// <summary>One captured log event: its category, level, id and structured properties.</summary>
internal sealed record LogEntry(string Category, LogLevel Level, EventId EventId, string Message, IReadOnlyDictionary<string, object?> Properties, Exception? Exception);

/// <summary>A logger provider that keeps every event, with the structured state of source-generated messages.</summary>
internal sealed class CapturingLoggerProvider : ILoggerProvider
{
    public ConcurrentQueue<LogEntry> Entries { get; } = new();

    public IEnumerable<LogEntry> WithId(int id) => Entries.Where(e => e.EventId.Id == id);

    public ILogger CreateLogger(string categoryName) => new Capturing(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Capturing(CapturingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var properties = new Dictionary<string, object?>(StringComparer.Ordinal);
            if (state is IEnumerable<KeyValuePair<string, object?>> pairs)
            {
                foreach (var (key, value) in pairs)
                {
                    properties[key] = value;
                }
            }

            owner.Entries.Enqueue(new LogEntry(category, logLevel, eventId, formatter(state, exception), properties, exception));
        }
    }
}

/// <summary>Policies of these tests.</summary>
internal static class HostingPolicies
{
    // Two errors the loader reports together: unknown keys on lines 5 and 6.
    public const string TwoErrors = """
        version: 1
        roles:
          analyst:
            allow: [model:query on model:gpt]
            colour: blue
            size: large
        """;
}

/// <summary>An audit sink whose drop count the test sets.</summary>
internal sealed class DroppingSink : IAuditSink
{
    public long RecordsWritten => 0;

    public long RecordsDropped { get; set; }

    public void OnDecision(in DecisionRecord record)
    {
    }

    public void Flush()
    {
    }
}

public sealed class LoggingTests
{
    [Fact]
    public void Start_LogsPolicyLoadedWithTheVersion()
    {
        var logs = new CapturingLoggerProvider();
        using var provider = new ServiceCollection()
            .AddLogging(b => b.AddProvider(logs))
            .AddAiRbac(o => o.Source = AiRbacPolicySource.FromYaml(Policies.A, "a.yaml"))
            .BuildServiceProvider();

        provider.GetRequiredService<PolicyAuthorizer>();

        var loaded = logs.WithId(1).Should().ContainSingle().Subject;
        loaded.Category.Should().Be("AiRbac");
        loaded.EventId.Name.Should().Be("PolicyLoaded");
        loaded.Properties["PolicySource"].Should().Be("a.yaml");
        loaded.Properties["PolicyVersion"].Should().Be(Policies.Hash(Policies.A));
    }

    [Fact]
    public void Reload_Failed_LogsTheFailureAndEveryDiagnosticWithItsLocation()
    {
        string yaml = Policies.A;
        var logs = new CapturingLoggerProvider();
        using var provider = new ServiceCollection()
            .AddLogging(b => b.AddProvider(logs))
            .AddAiRbac(o => o.Source = AiRbacPolicySource.FromFactory(() => yaml, "policy.yaml"))
            .BuildServiceProvider();
        var reloader = provider.GetRequiredService<PolicyReloader>();

        yaml = HostingPolicies.TwoErrors;
        var result = reloader.Reload();

        result.Succeeded.Should().BeFalse();
        var failed = logs.WithId(4).Should().ContainSingle().Subject;
        failed.Level.Should().Be(LogLevel.Error);
        failed.Properties["ErrorCount"].Should().Be(2);
        failed.Properties["PolicyVersion"].Should().Be(Policies.Hash(Policies.A));
        failed.Message.Should().Contain("policy.yaml:5:");
        var diagnostics = logs.WithId(5).ToList();
        diagnostics.Should().HaveCount(result.Diagnostics.Count).And.HaveCount(2);
        diagnostics.Select(d => d.Properties["Line"]).Should().Equal(5, 6);
        diagnostics.Select(d => d.Properties["Code"]).Should().Equal("unknown_key", "unknown_key");
        diagnostics.Should().AllSatisfy(d =>
        {
            d.Level.Should().Be(LogLevel.Error);
            d.Properties["File"].Should().Be("policy.yaml");
            d.Properties["Column"].Should().BeOfType<int>().Which.Should().BePositive();
        });
        diagnostics[0].Message.Should().StartWith("policy.yaml:5:").And.Contain("error unknown_key").And.Contain("colour");
        diagnostics[1].Message.Should().StartWith("policy.yaml:6:").And.Contain("size");
    }

    [Fact]
    public void Reload_RemovingADeny_LogsTheReloadAndWhatItRemoved()
    {
        string yaml = Policies.DenyingAWithOps;
        var logs = new CapturingLoggerProvider();
        using var provider = new ServiceCollection()
            .AddLogging(b => b.AddProvider(logs))
            .AddAiRbac(o => o.Source = AiRbacPolicySource.FromFactory(() => yaml, "policy.yaml"))
            .BuildServiceProvider();
        var reloader = provider.GetRequiredService<PolicyReloader>();

        yaml = Policies.A;
        reloader.Reload().Status.Should().Be(PolicyReloadStatus.Loaded);

        var reloaded = logs.WithId(2).Should().ContainSingle().Subject;
        reloaded.Properties["PolicyVersion"].Should().Be(Policies.Hash(Policies.A));
        reloaded.Properties["PreviousVersion"].Should().Be(Policies.Hash(Policies.DenyingAWithOps));
        reloaded.Properties["RemovedRoleCount"].Should().Be(1);
        reloaded.Properties["RemovedDenyCount"].Should().Be(1);
        var removed = logs.WithId(3).Should().ContainSingle().Subject;
        removed.Level.Should().Be(LogLevel.Warning);
        removed.Properties["RemovedRoles"].Should().Be("ops");
        removed.Properties["RemovedDenies"].Should().Be("analyst: tool:invoke on tool:a_secret");
    }

    [Fact]
    public void PeriodicCheck_PolicyUnreadable_LoggedOncePerReason()
    {
        using var temp = new TempDirectory();
        string path = temp.File("policy.yaml");
        File.WriteAllText(path, Policies.A);
        var time = new ManualTimeProvider();
        var logs = new CapturingLoggerProvider();
        using var provider = new ServiceCollection()
            .AddSingleton<TimeProvider>(time)
            .AddLogging(b => b.AddProvider(logs))
            .AddAiRbac(o => { o.Source = AiRbacPolicySource.FromFile(path); o.PollInterval = TimeSpan.FromSeconds(2); })
            .BuildServiceProvider();
        provider.GetRequiredService<PolicyAuthorizer>();

        File.Delete(path);
        time.Advance(TimeSpan.FromSeconds(2));
        time.Advance(TimeSpan.FromSeconds(2));
        time.Advance(TimeSpan.FromSeconds(2));

        var unreadable = logs.WithId(7).Should().ContainSingle().Subject;
        unreadable.Level.Should().Be(LogLevel.Warning);
        ((string)unreadable.Properties["Reason"]!).Should().Contain("cannot read the policy");
        unreadable.Properties["PolicyVersion"].Should().Be(Policies.Hash(Policies.A));
        logs.WithId(4).Should().NotBeEmpty("the checked reload that follows reports the failure too");
    }

    [Fact]
    public void AuditDrops_LoggedAsTheDeltaAtMostOncePerInterval()
    {
        var time = new ManualTimeProvider();
        var logs = new CapturingLoggerProvider();
        var sink = new DroppingSink();
        using var provider = new ServiceCollection()
            .AddSingleton<TimeProvider>(time)
            .AddSingleton<IAuditSink>(sink)
            .AddLogging(b => b.AddProvider(logs))
            .AddAiRbac(o => o.Source = AiRbacPolicySource.FromYaml(Policies.A, "a.yaml"))
            .BuildServiceProvider();
        provider.GetRequiredService<PolicyAuthorizer>();

        sink.RecordsDropped = 7;
        time.Advance(TimeSpan.FromSeconds(30));
        logs.WithId(20).Should().BeEmpty("the interval has not passed");
        time.Advance(TimeSpan.FromSeconds(30));
        sink.RecordsDropped = 10;
        time.Advance(TimeSpan.FromMinutes(1));
        time.Advance(TimeSpan.FromMinutes(1)); // nothing new

        var drops = logs.WithId(20).ToList();
        drops.Select(d => d.Properties["DroppedCount"]).Should().Equal(7L, 3L);
        drops.Select(d => d.Properties["TotalDropped"]).Should().Equal(7L, 10L);
        drops.Should().AllSatisfy(d => d.Level.Should().Be(LogLevel.Warning));
    }

    [Fact]
    public void LogDecisions_WritesEachDecisionAsAStructuredEvent()
    {
        var logs = new CapturingLoggerProvider();
        using var provider = new ServiceCollection()
            .AddLogging(b => b.AddProvider(logs))
            .AddAiRbac(o => { o.Source = AiRbacPolicySource.FromYaml(Policies.DenyingA, "a.yaml"); o.LogDecisions = true; })
            .BuildServiceProvider();
        var authorizer = provider.GetRequiredService<PolicyAuthorizer>();

        authorizer.Authorize(Policies.Alice, "tool:invoke", "tool:a_secret");
        authorizer.Authorize(Policies.Alice, "model:query", "model:gpt");

        var decisions = logs.WithId(100).ToList();
        decisions.Should().HaveCount(2).And.AllSatisfy(d => d.Category.Should().Be("AiRbac.Audit"));
        var denied = decisions[0].Properties;
        denied["subject"].Should().Be("alice");
        denied["action"].Should().Be("tool:invoke");
        denied["resource"].Should().Be("tool:a_secret");
        denied["allowed"].Should().Be(false);
        denied["reason"].Should().Be("explicit_deny");
        denied["role"].Should().Be("analyst");
        denied["rule"].Should().Be("tool:invoke on tool:a_secret");
        denied["policy_version"].Should().Be(Policies.Hash(Policies.DenyingA));
        decisions[1].Properties["allowed"].Should().Be(true);
        var sink = provider.GetRequiredService<AiRbacRuntime>();
        sink.TotalDropped().Should().Be(0);
    }

    [Fact]
    public void NoLoggerFactory_StillLoadsAndReloads()
    {
        string yaml = Policies.A;
        using var provider = new ServiceCollection()
            .AddAiRbac(o => { o.Source = AiRbacPolicySource.FromFactory(() => yaml, "p.yaml"); o.LogDecisions = true; })
            .BuildServiceProvider();
        var authorizer = provider.GetRequiredService<PolicyAuthorizer>();
        yaml = HostingPolicies.TwoErrors;

        provider.GetRequiredService<PolicyReloader>().Reload().Succeeded.Should().BeFalse();
        authorizer.Authorize(Policies.Alice, "model:query", "model:gpt").Allowed.Should().BeTrue();
    }
}

public sealed class ConfigurationTests
{
    [Fact]
    public void AddAiRbac_FromConfiguration_BindsEveryOption()
    {
        using var temp = new TempDirectory();
        string path = temp.File("policy.yaml");
        File.WriteAllText(path, Policies.A);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AiRbac:PolicyFile"] = path,
            ["AiRbac:WatchFile"] = "false",
            ["AiRbac:ReloadDebounce"] = "00:00:00.100",
            ["AiRbac:PollInterval"] = "00:00:30",
            ["AiRbac:RequireChecksumFile"] = "false",
            ["AiRbac:EnableMetrics"] = "false",
            ["AiRbac:TraceAllowedDecisions"] = "true",
            ["AiRbac:LogDecisions"] = "true",
            ["AiRbac:AuditLog:Path"] = temp.File("audit.jsonl"),
            ["AiRbac:AuditLog:Capacity"] = "1024",
            ["AiRbac:AuditLog:Overflow"] = "Block",
            ["AiRbac:AuditLog:FilesKept"] = "2",
        }).Build();

        using var provider = new ServiceCollection().AddAiRbac(configuration.GetSection("AiRbac")).BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<AiRbacOptions>>().Value;
        options.PolicyFile.Should().Be(path);
        options.Source.Should().BeNull();
        options.WatchFile.Should().BeFalse();
        options.ReloadDebounce.Should().Be(TimeSpan.FromMilliseconds(100));
        options.PollInterval.Should().Be(TimeSpan.FromSeconds(30));
        options.EnableMetrics.Should().BeFalse();
        options.TraceAllowedDecisions.Should().BeTrue();
        options.LogDecisions.Should().BeTrue();
        options.AuditLog.Capacity.Should().Be(1024);
        options.AuditLog.Overflow.Should().Be(AuditOverflow.Block);
        options.AuditLog.FilesKept.Should().Be(2);
        var authorizer = provider.GetRequiredService<PolicyAuthorizer>();
        authorizer.Authorize(Policies.Alice, "model:query", "model:gpt").Allowed.Should().BeTrue();
        provider.GetRequiredService<PolicyReloader>().IsWatching.Should().BeFalse();
        provider.GetRequiredService<PolicyReloader>().Source.FilePath.Should().Be(Path.GetFullPath(path));
    }

    [Fact]
    public void AddAiRbac_ConfigurationThenDelegate_DelegateRunsAfterTheBinding()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["PolicyFile"] = "ignored.yaml",
            ["ReloadDebounce"] = "00:00:01",
        }).Build();

        using var provider = new ServiceCollection()
            .AddAiRbac(configuration)
            .AddAiRbac(o => { o.PolicyFile = null; o.Source = AiRbacPolicySource.FromYaml(Policies.A, "a.yaml"); })
            .BuildServiceProvider();

        provider.GetRequiredService<IOptions<AiRbacOptions>>().Value.ReloadDebounce.Should().Be(TimeSpan.FromSeconds(1));
        provider.GetRequiredService<PolicyAuthorizer>().Version.ContentHash.Should().Be(Policies.Hash(Policies.A));
    }

    [Fact]
    public async Task HostStart_InvalidOptions_FailsWithEveryProblemNamed()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AiRbac:ReloadDebounce"] = "-00:00:01",
            ["AiRbac:PollInterval"] = "00:00:00.001",
            ["AiRbac:AuditLog:Capacity"] = "0",
        });
        builder.Services.AddAiRbac(builder.Configuration.GetSection("AiRbac"));
        using var host = builder.Build();

        var act = () => host.StartAsync();

        var thrown = (await act.Should().ThrowAsync<OptionsValidationException>()).Which;
        thrown.Failures.Should().HaveCount(4);
        thrown.Message.Should().Contain("no policy source").And.Contain("AiRbac:ReloadDebounce is -00:00:01")
            .And.Contain("AiRbac:PollInterval").And.Contain("AiRbac:AuditLog:Capacity is 0");
    }

    [Fact]
    public void Resolve_BothSourceAndPolicyFile_ThrowsInvalidOperationNamingBoth()
    {
        using var provider = new ServiceCollection()
            .AddAiRbac(o => { o.Source = AiRbacPolicySource.FromYaml(Policies.A, "a.yaml"); o.PolicyFile = "b.yaml"; })
            .BuildServiceProvider();

        var act = () => provider.GetRequiredService<PolicyAuthorizer>();

        act.Should().Throw<InvalidOperationException>().WithMessage("*Source*PolicyFile*set one*");
    }
}

public sealed class HostedStartTests
{
    [Fact]
    public async Task HostStart_InvalidPolicy_FailsWithEveryDiagnosticInTheMessage()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddAiRbac(o => o.Source = AiRbacPolicySource.FromYaml(HostingPolicies.TwoErrors, "policy.yaml"));
        using var host = builder.Build();

        var act = () => host.StartAsync();

        var thrown = (await act.Should().ThrowAsync<PolicyLoadException>()).Which;
        thrown.Diagnostics.Should().HaveCount(2);
        thrown.Message.Should().Contain("policy.yaml:5:").And.Contain("colour").And.Contain("policy.yaml:6:").And.Contain("size");
    }

    [Fact]
    public async Task HostStart_ValidPolicy_LoadsItBeforeAnythingResolvesTheAuthorizer()
    {
        var logs = new CapturingLoggerProvider();
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Logging.AddProvider(logs);
        builder.Services.AddAiRbac(o => o.Source = AiRbacPolicySource.FromYaml(Policies.A, "a.yaml"));
        using var host = builder.Build();

        await host.StartAsync();

        logs.WithId(1).Should().ContainSingle();
        host.Services.GetRequiredService<PolicyAuthorizer>().HasPolicy.Should().BeTrue();
        await host.StopAsync();
    }
}

public sealed class HealthCheckTests
{
    [Fact]
    public async Task Health_PolicyLoaded_HealthyWithTheVersion()
    {
        using var provider = Build(() => Policies.A, out _);
        provider.GetRequiredService<PolicyAuthorizer>();

        var entry = await Check(provider);

        entry.Status.Should().Be(HealthStatus.Healthy);
        entry.Data["policy_version"].Should().Be(Policies.Hash(Policies.A));
        entry.Data["policy_source"].Should().Be("policy.yaml");
        entry.Data.Should().ContainKey("policy_loaded_at");
        entry.Data["last_reload"].Should().Be("loaded");
    }

    [Fact]
    public async Task Health_LastReloadFailed_DegradedWithTheErrorsThenHealthyAgain()
    {
        string yaml = Policies.A;
        using var provider = Build(() => yaml, out _);
        var reloader = provider.GetRequiredService<PolicyReloader>();
        yaml = HostingPolicies.TwoErrors;
        reloader.Reload();

        var entry = await Check(provider);

        entry.Status.Should().Be(HealthStatus.Degraded);
        entry.Data["reload_errors"].Should().Be(2);
        ((string)entry.Data["reload_first_error"]).Should().Contain("policy.yaml:5:").And.Contain("unknown_key");
        entry.Data["policy_version"].Should().Be(Policies.Hash(Policies.A), "the old policy keeps answering");
        entry.Description.Should().Contain("failed with 2 error(s)");

        yaml = Policies.B;
        reloader.Reload();
        (await Check(provider)).Status.Should().Be(HealthStatus.Healthy);
    }

    [Fact]
    public async Task Health_AuditDropping_DegradedUntilNoNewDrops()
    {
        using var provider = Build(() => Policies.A, out var sink);
        provider.GetRequiredService<PolicyAuthorizer>();
        (await Check(provider)).Status.Should().Be(HealthStatus.Healthy);

        sink.RecordsDropped = 5;
        var entry = await Check(provider);
        entry.Status.Should().Be(HealthStatus.Degraded);
        entry.Data["audit_records_dropped_since_last_check"].Should().Be(5L);
        entry.Description.Should().Contain("5 audit record(s) dropped");

        (await Check(provider)).Status.Should().Be(HealthStatus.Healthy);
    }

    [Fact]
    public async Task Health_NoPolicyLoaded_Unhealthy()
    {
        using var provider = Build(() => HostingPolicies.TwoErrors, out _);

        var entry = await Check(provider);

        entry.Status.Should().Be(HealthStatus.Unhealthy);
        entry.Description.Should().Contain("No AiRbac policy is loaded").And.Contain("colour").And.Contain("size");
        entry.Exception.Should().BeOfType<PolicyLoadException>();
    }

    [Fact]
    public async Task Health_AddAiRbacNotCalled_Unhealthy()
    {
        using var provider = new ServiceCollection().AddLogging().AddHealthChecks().AddAiRbac().Services.BuildServiceProvider();

        var entry = await Check(provider);

        entry.Status.Should().Be(HealthStatus.Unhealthy);
        entry.Description.Should().Contain("AddAiRbac");
    }

    private static ServiceProvider Build(Func<string> yaml, out DroppingSink sink)
    {
        sink = new DroppingSink();
        var services = new ServiceCollection()
            .AddLogging()
            .AddSingleton<IAuditSink>(sink)
            .AddAiRbac(o => o.Source = AiRbacPolicySource.FromFactory(yaml, "policy.yaml"));
        services.AddHealthChecks().AddAiRbac(tags: ["ready"]);
        return services.BuildServiceProvider();
    }

    private static async Task<HealthReportEntry> Check(IServiceProvider provider)
    {
        var report = await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        return report.Entries["airbac"];
    }
}

public sealed class MeterFactoryTests
{
    [Fact]
    public void Metrics_MeterFactoryRegistered_MeterCreatedThroughItAndVersionGaugeFollowsReloads()
    {
        string yaml = Policies.A;
        using var provider = new ServiceCollection()
            .AddMetrics()
            .AddAiRbac(o => o.Source = AiRbacPolicySource.FromFactory(() => yaml, "p.yaml"))
            .BuildServiceProvider();
        var runtime = provider.GetRequiredService<AiRbacRuntime>();
        var meter = runtime.Instruments!.Meter;
        meter.Scope.Should().BeSameAs(provider.GetRequiredService<IMeterFactory>());
        meter.Name.Should().Be(AiRbacMetrics.MeterName);
        using var recorder = new InstrumentRecorder(meter);

        recorder.Collect();
        recorder.Get($"{AiRbacMetrics.PolicyInfo}|{Policies.Hash(Policies.A)}").Should().Be(1);

        yaml = Policies.B;
        provider.GetRequiredService<PolicyReloader>().Reload();
        recorder.Collect();
        recorder.Get($"{AiRbacMetrics.PolicyInfo}|{Policies.Hash(Policies.B)}").Should().Be(1);
        recorder.Get($"{AiRbacMetrics.PolicyInfo}|{Policies.Hash(Policies.A)}").Should().Be(1, "the old version is no longer observed");
    }

    [Fact]
    public void Metrics_VersionGauge_TagNamedAsDocumented()
    {
        using var provider = new ServiceCollection()
            .AddAiRbac(o => o.Source = AiRbacPolicySource.FromYaml(Policies.A, "a.yaml"))
            .BuildServiceProvider();
        var meter = provider.GetRequiredService<AiRbacRuntime>().Instruments!.Meter;
        var seen = new List<(long Value, string Tag, object? Version)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter, meter) && instrument.Name == AiRbacMetrics.PolicyInfo)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) => seen.Add((value, tags[0].Key, tags[0].Value)));
        listener.Start();

        listener.RecordObservableInstruments();

        seen.Should().Equal((1L, AiRbacMetrics.PolicyVersionTag, (object?)Policies.Hash(Policies.A)));
    }
}

public sealed class TracingTests
{
    [Fact]
    public void Tracing_DeniedDecision_RecordedAsASpanWithTheAttributes()
    {
        using var provider = new ServiceCollection()
            .AddAiRbac(o => o.Source = AiRbacPolicySource.FromYaml(Policies.DenyingA, "a.yaml"))
            .BuildServiceProvider();
        var runtime = provider.GetRequiredService<AiRbacRuntime>();
        var spans = new List<Activity>();
        using var listener = Listen(runtime, spans);

        runtime.Authorizer.Authorize(Policies.Alice, "tool:invoke", "tool:a_secret");
        runtime.Authorizer.Authorize(Policies.Alice, "model:query", "model:gpt"); // allowed: not recorded

        var span = spans.Should().ContainSingle().Subject;
        span.OperationName.Should().Be(AiRbacTracing.DecisionActivityName);
        span.Source.Name.Should().Be(AiRbacTracing.ActivitySourceName);
        span.GetTagItem("enduser.id").Should().Be("alice");
        span.GetTagItem("airbac.action").Should().Be("tool:invoke");
        span.GetTagItem("airbac.resource").Should().Be("tool:a_secret");
        span.GetTagItem("airbac.decision.allowed").Should().Be(false);
        span.GetTagItem("airbac.decision.reason").Should().Be("explicit_deny");
        span.GetTagItem("airbac.decision.role").Should().Be("analyst");
        span.GetTagItem("airbac.decision.rule").Should().Be("tool:invoke on tool:a_secret");
        span.GetTagItem("airbac.policy.version").Should().Be(Policies.Hash(Policies.DenyingA));
    }

    [Fact]
    public void Tracing_AllowedDecision_RecordedOnlyWhenOptedInAndTheParentIsRecorded()
    {
        using var provider = new ServiceCollection()
            .AddAiRbac(o => { o.Source = AiRbacPolicySource.FromYaml(Policies.A, "a.yaml"); o.TraceAllowedDecisions = true; })
            .BuildServiceProvider();
        var runtime = provider.GetRequiredService<AiRbacRuntime>();
        var spans = new List<Activity>();
        using var listener = Listen(runtime, spans);

        runtime.Authorizer.Authorize(Policies.Alice, "model:query", "model:gpt"); // no parent: not recorded
        using (var parent = new Activity("request"))
        {
            parent.ActivityTraceFlags = ActivityTraceFlags.Recorded;
            parent.Start();
            runtime.Authorizer.Authorize(Policies.Alice, "model:query", "model:gpt");
            parent.Stop();
            spans.Should().ContainSingle().Which.ParentSpanId.Should().Be(parent.SpanId);
        }

        spans.Single().GetTagItem("airbac.decision.allowed").Should().Be(true);
    }

    [Fact]
    public void Tracing_NoListener_AuthorizeAllocatesNothing()
    {
        using var provider = new ServiceCollection()
            .AddAiRbac(o => { o.Source = AiRbacPolicySource.FromYaml(Policies.A, "a.yaml"); o.TraceAllowedDecisions = true; })
            .BuildServiceProvider();
        var runtime = provider.GetRequiredService<AiRbacRuntime>();
        runtime.Tracer.Should().NotBeNull();
        runtime.Tracer!.Source.HasListeners().Should().BeFalse();
        var authorizer = runtime.Authorizer;
        var alice = Policies.Alice;

        int Run(int rounds)
        {
            int denied = 0;
            for (int i = 0; i < rounds; i++)
            {
                denied += authorizer.Authorize(alice, "tool:invoke", "tool:b_x").Allowed ? 0 : 1;
                denied += authorizer.Authorize(alice, "model:query", "model:gpt").Allowed ? 0 : 1;
            }

            return denied;
        }

        Run(1_000);
        long allocated = long.MaxValue;
        for (int attempt = 0; attempt < 3 && allocated != 0; attempt++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            int denied = Run(5_000);
            allocated = Math.Min(allocated, GC.GetAllocatedBytesForCurrentThread() - before);
            denied.Should().Be(5_000);
        }

        allocated.Should().Be(0, "with no listener on the AiRbac source the tracer must not allocate");
    }

    // Listens to this runtime's source only: tests run in parallel, and the allocation test needs no listener on its own.
    private static ActivityListener Listen(AiRbacRuntime runtime, List<Activity> spans)
    {
        var source = runtime.Tracer!.Source;
        var listener = new ActivityListener
        {
            ShouldListenTo = s => ReferenceEquals(s, source),
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Add,
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }
}
