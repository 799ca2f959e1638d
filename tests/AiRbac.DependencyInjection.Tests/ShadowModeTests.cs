using System.Collections.Concurrent;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AiRbac.DependencyInjection.Tests;

/// <summary>Shadow mode in AddAiRbac (docs/dependency-injection.md, "Shadow mode").</summary>
public sealed class ShadowModeTests
{
    // The live policy binds svc to analyst for good; the candidate binds it until 2099, so only the candidate reads the
    // clock when deciding for svc (a policy-bound subject) and only it fails when the clock throws.
    private const string LiveWithBinding = """
        version: 1
        roles:
          analyst:
            allow: [model:query on model:gpt]
        bindings:
          subjects:
            svc: { kind: service, roles: [analyst] }
        """;

    private const string CandidateWithExpiringBinding = """
        version: 1
        roles:
          analyst:
            allow: ["* on **"]
        bindings:
          subjects:
            svc: { kind: service, roles: [analyst], expires: "2099-01-01T00:00:00Z" }
        """;

    private const string AllowEverything = """
        version: 1
        sensitivity: [public, internal, confidential, restricted]
        roles:
          analyst:
            allow: ["* on **"]
            max_sensitivity: restricted
          anyone:
            allow: ["* on **"]
            max_sensitivity: restricted
        """;

    [Fact]
    public void Shadow_CandidateFile_DisagreementsWrittenWithBothOutcomesAndCounted()
    {
        using var temp = new TempDirectory();
        string live = Write(temp, "policy.yaml", Policies.A);
        string candidate = Write(temp, "candidate.yaml", Policies.B);
        string audit = temp.File("audit.jsonl");
        using var provider = new ServiceCollection()
            .AddAiRbac(o =>
            {
                o.Source = AiRbacPolicySource.FromFile(live);
                o.Shadow.Source = AiRbacPolicySource.FromFile(candidate);
                o.AuditLog.Path = audit;
                o.WatchFile = false; // the watched candidate has its own test below
            })
            .BuildServiceProvider();
        var authorizer = provider.GetRequiredService<PolicyAuthorizer>();
        var runtime = provider.GetRequiredService<AiRbacRuntime>();
        using var recorder = new InstrumentRecorder(runtime.Instruments!.Meter);

        authorizer.Shadow!.Version.ContentHash.Should().Be(Policies.Hash(Policies.B));
        authorizer.Authorize(Policies.Alice, "tool:invoke", "tool:a_x").Allowed.Should().BeTrue("the live policy A answers");
        authorizer.Authorize(Policies.Alice, "tool:invoke", "tool:b_x").Allowed.Should().BeFalse("the candidate B never answers");
        authorizer.Authorize(Policies.Alice, "model:query", "model:gpt").Allowed.Should().BeTrue();
        runtime.AuditSink!.Flush();

        var records = AuditLog.Read(audit).Records;
        records.Should().HaveCount(3);
        var lost = records[0];
        lost.GetProperty("allowed").GetBoolean().Should().BeTrue();
        lost.GetProperty("shadow").GetString().Should().Be("disagreed");
        lost.GetProperty("shadow_policy_version").GetString().Should().Be(Policies.Hash(Policies.B));
        lost.GetProperty("shadow_allowed").GetBoolean().Should().BeFalse();
        lost.GetProperty("shadow_reason").GetString().Should().Be("no_matching_grant");
        var gained = records[1];
        gained.GetProperty("reason").GetString().Should().Be("no_matching_grant");
        gained.GetProperty("shadow_allowed").GetBoolean().Should().BeTrue();
        gained.GetProperty("shadow_reason").GetString().Should().Be("allowed");
        gained.GetProperty("shadow_role").GetString().Should().Be("analyst");
        gained.GetProperty("shadow_rule").GetString().Should().Be("tool:invoke on tool:b_*");
        records[2].TryGetProperty("shadow", out _).Should().BeFalse("an agreeing decision carries no shadow fields");

        recorder.Get("airbac.shadow.decisions|disagreed").Should().Be(2);
        recorder.Get("airbac.shadow.decisions|agreed").Should().Be(1);
        recorder.Get("airbac.shadow.disagreements|allowed|allowed|denied|no_matching_grant").Should().Be(1);
        recorder.Get("airbac.shadow.disagreements|denied|no_matching_grant|allowed|allowed").Should().Be(1);
        recorder.Get("airbac.decisions|allowed|allowed").Should().Be(2, "the decision counter counts the live answers");
        runtime.ShadowTally!.Disagreed.Should().Be(2);
    }

    [Fact]
    public void Shadow_CandidateAllowsEverything_NothingIsEverAllowedByIt()
    {
        // The attacker controls the candidate file and grants everything to everyone; the live policy A decides.
        using var provider = new ServiceCollection()
            .AddAiRbac(o =>
            {
                o.Source = AiRbacPolicySource.FromYaml(Policies.A, "policy.yaml");
                o.Shadow.Source = AiRbacPolicySource.FromYaml(AllowEverything, "candidate.yaml");
            })
            .BuildServiceProvider();
        var authorizer = provider.GetRequiredService<PolicyAuthorizer>();
        var runtime = provider.GetRequiredService<AiRbacRuntime>();
        var mallory = Subject.WithRoles("mallory", SubjectKind.User, "anyone");

        authorizer.Authorize(Policies.Alice, "tool:invoke", "tool:shell").Allowed.Should().BeFalse();
        authorizer.Authorize(Policies.Alice, "model:deploy", "model:gpt").Allowed.Should().BeFalse();
        authorizer.Authorize(mallory, "model:query", "model:gpt").Allowed.Should().BeFalse();
        authorizer.Authorize(Policies.Alice, "model:query", new ResourceRequest("model:gpt") { Sensitivity = "restricted" }).Allowed.Should().BeFalse();
        authorizer.Authorize(new Subject(string.Empty), "model:query", "model:gpt").Allowed.Should().BeFalse();

        runtime.ShadowTally!.Disagreed.Should().Be(4, "the candidate would have allowed four of them (not the anonymous one)");
    }

    [Fact]
    public async Task Shadow_EvaluationThrows_LiveAnswerStandsAndTheFailureIsCountedWrittenLoggedAndDegradesHealth()
    {
        using var temp = new TempDirectory();
        string audit = temp.File("audit.jsonl");
        var clock = new BreakableClock();
        var logs = new CapturingLoggerProvider();
        var time = new ManualTimeProvider();
        var services = new ServiceCollection()
            .AddLogging(b => b.AddProvider(logs))
            .AddSingleton<TimeProvider>(time)
            .AddAiRbac(o =>
            {
                o.Source = AiRbacPolicySource.FromYaml(LiveWithBinding, "policy.yaml");
                o.Shadow.Source = AiRbacPolicySource.FromYaml(CandidateWithExpiringBinding, "candidate.yaml");
                o.CompilerOptions = new PolicyCompilerOptions { TimeProvider = clock };
                o.AuditLog.Path = audit;
            });
        services.AddHealthChecks().AddAiRbac();
        using var provider = services.BuildServiceProvider();
        var authorizer = provider.GetRequiredService<PolicyAuthorizer>();
        var runtime = provider.GetRequiredService<AiRbacRuntime>();
        using var recorder = new InstrumentRecorder(runtime.Instruments!.Meter);
        (await Check(provider)).Status.Should().Be(HealthStatus.Healthy);

        clock.Broken = true;
        var svc = new Subject("svc");
        var act = () => (authorizer.Authorize(svc, "model:query", "model:gpt"), authorizer.Authorize(svc, "tool:invoke", "tool:x"));
        var (allowed, denied) = act.Should().NotThrow().Subject;

        allowed.Allowed.Should().BeTrue("the live policy allows it and the candidate's failure changes nothing");
        denied.Reason.Should().Be(DecisionReason.NoMatchingGrant, "the candidate would allow it, had it not thrown");
        recorder.Get("airbac.shadow.decisions|failed").Should().Be(2);
        runtime.ShadowTally!.Failed.Should().Be(2);
        runtime.AuditSink!.Flush();
        AuditLog.Read(audit).Records.Should().HaveCount(2).And.AllSatisfy(r =>
        {
            r.GetProperty("shadow").GetString().Should().Be("failed");
            r.GetProperty("shadow_policy_version").GetString().Should().Be(Policies.Hash(CandidateWithExpiringBinding));
            r.TryGetProperty("shadow_allowed", out _).Should().BeFalse();
        });

        var entry = await Check(provider);
        entry.Status.Should().Be(HealthStatus.Degraded);
        entry.Description.Should().Contain("2 shadow evaluation(s) threw");
        entry.Data["shadow_failures"].Should().Be(2L);
        (await Check(provider)).Status.Should().Be(HealthStatus.Healthy, "no new failure since the last check");

        time.Advance(AiRbacRuntime.DropLogInterval);
        var logged = logs.WithId(21).Should().ContainSingle().Subject;
        logged.Level.Should().Be(LogLevel.Warning);
        logged.Properties["FailedCount"].Should().Be(2L);
    }

    [Fact]
    public async Task Shadow_CandidateInvalidAtStart_StartGoesOnUnaffectedLoggedAndHealthDegraded()
    {
        var logs = new CapturingLoggerProvider();
        string candidate = HostingPolicies.TwoErrors;
        var services = new ServiceCollection()
            .AddLogging(b => b.AddProvider(logs))
            .AddAiRbac(o =>
            {
                o.Source = AiRbacPolicySource.FromYaml(Policies.A, "policy.yaml");
                o.Shadow.Source = AiRbacPolicySource.FromFactory(() => candidate, "candidate.yaml");
            });
        services.AddHealthChecks().AddAiRbac();
        using var provider = services.BuildServiceProvider();

        var authorizer = provider.GetRequiredService<PolicyAuthorizer>();
        var runtime = provider.GetRequiredService<AiRbacRuntime>();

        authorizer.HasPolicy.Should().BeTrue();
        authorizer.Shadow!.HasPolicy.Should().BeFalse();
        authorizer.Authorize(Policies.Alice, "tool:invoke", "tool:a_x").Allowed.Should().BeTrue();
        runtime.ShadowTally!.Disagreed.Should().Be(0, "nothing is evaluated without a candidate");
        var failed = logs.WithId(4).Should().ContainSingle().Subject;
        failed.Category.Should().Be("AiRbac.Shadow");
        failed.Properties["PolicySource"].Should().Be("candidate.yaml");
        logs.WithId(6).Should().BeEmpty("only the live policy's failure stops the start");
        logs.WithId(5).Where(e => e.Category == "AiRbac.Shadow").Should().HaveCount(2, "each diagnostic of the candidate is logged");

        var entry = await Check(provider);
        entry.Status.Should().Be(HealthStatus.Degraded);
        entry.Description.Should().Contain("shadow policy candidate.yaml is not loaded").And.Contain("unknown_key");
        entry.Data["shadow_policy_version"].Should().Be(string.Empty);
        entry.Data["policy_version"].Should().Be(Policies.Hash(Policies.A));

        // Fixed: the same reloader code loads it; from then on it is evaluated.
        candidate = Policies.B;
        runtime.ShadowReloader!.Reload().Status.Should().Be(PolicyReloadStatus.Loaded);
        authorizer.Authorize(Policies.Alice, "tool:invoke", "tool:a_x").Allowed.Should().BeTrue();
        runtime.ShadowTally.Disagreed.Should().Be(1);
        (await Check(provider)).Status.Should().Be(HealthStatus.Healthy);
    }

    [Fact]
    public async Task Shadow_WatchedCandidateReplaced_IsReloadedAndABadOneKeepsTheLastGoodCandidate()
    {
        using var temp = new TempDirectory();
        string live = Write(temp, "policy.yaml", Policies.A);
        string candidate = Write(temp, "candidate.yaml", Policies.A);
        var failures = new ConcurrentQueue<PolicyReloadResult>();
        var services = new ServiceCollection()
            .AddLogging()
            .AddAiRbac(o =>
            {
                o.Source = AiRbacPolicySource.FromFile(live);
                o.Shadow.Source = AiRbacPolicySource.FromFile(candidate);
                o.ReloadDebounce = TimeSpan.FromMilliseconds(20);
                o.OnReloadFailed = failures.Enqueue;
            });
        services.AddHealthChecks().AddAiRbac();
        using var provider = services.BuildServiceProvider();
        var authorizer = provider.GetRequiredService<PolicyAuthorizer>();
        var runtime = provider.GetRequiredService<AiRbacRuntime>();
        runtime.ShadowReloader!.IsWatching.Should().BeTrue();

        Policies.ReplaceFile(candidate, Policies.B);
        Policies.WaitUntil(() => authorizer.Shadow!.Version.ContentHash == Policies.Hash(Policies.B)).Should().BeTrue();
        authorizer.Version.ContentHash.Should().Be(Policies.Hash(Policies.A), "the live policy is not the candidate");
        authorizer.Authorize(Policies.Alice, "tool:invoke", "tool:b_x").Allowed.Should().BeFalse();
        runtime.ShadowTally!.Disagreed.Should().Be(1);

        Policies.ReplaceFile(candidate, HostingPolicies.TwoErrors);
        Policies.WaitUntil(() => runtime.ShadowReloader.LastResult is { Succeeded: false }).Should().BeTrue();
        authorizer.Shadow!.Version.ContentHash.Should().Be(Policies.Hash(Policies.B), "the last good candidate is still evaluated");
        authorizer.Authorize(Policies.Alice, "tool:invoke", "tool:b_x").Allowed.Should().BeFalse();
        runtime.ShadowTally.Disagreed.Should().Be(2);
        failures.Should().BeEmpty("OnReloadFailed is the live policy's");
        var entry = await Check(provider);
        entry.Status.Should().Be(HealthStatus.Degraded);
        entry.Description.Should().Contain("last reload of the shadow policy").And.Contain("still evaluated");
        entry.Data["shadow_last_reload"].Should().Be("failed");
    }

    [Fact]
    public void Shadow_FromConfiguration_RelativeToTheContentRootAndValidated()
    {
        using var temp = new TempDirectory();
        Write(temp, "policy.yaml", Policies.A);
        Write(temp, "candidate.yaml", Policies.B);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AiRbac:PolicyFile"] = temp.File("policy.yaml"),
            ["AiRbac:Shadow:PolicyFile"] = temp.File("candidate.yaml"),
            ["AiRbac:WatchFile"] = "false",
        }).Build();
        using (var provider = new ServiceCollection().AddAiRbac(configuration.GetSection("AiRbac")).BuildServiceProvider())
        {
            provider.GetRequiredService<PolicyAuthorizer>().Shadow!.Version.ContentHash.Should().Be(Policies.Hash(Policies.B));
        }

        var both = new ServiceCollection().AddAiRbac(o =>
        {
            o.Source = AiRbacPolicySource.FromYaml(Policies.A, "policy.yaml");
            o.Shadow.Source = AiRbacPolicySource.FromYaml(Policies.B, "b.yaml");
            o.Shadow.PolicyFile = "candidate.yaml";
        });
        using (var provider = both.BuildServiceProvider())
        {
            var act = () => provider.GetRequiredService<IOptions<AiRbacOptions>>().Value;
            act.Should().Throw<OptionsValidationException>().Which.Message.Should().Contain("Shadow.Source").And.Contain("set one");
        }

        var blank = new ServiceCollection().AddAiRbac(o =>
        {
            o.Source = AiRbacPolicySource.FromYaml(Policies.A, "policy.yaml");
            o.Shadow.PolicyFile = " ";
        });
        using (var provider = blank.BuildServiceProvider())
        {
            var act = () => provider.GetRequiredService<IOptions<AiRbacOptions>>().Value;
            act.Should().Throw<OptionsValidationException>().Which.Message.Should().Contain("AiRbac:Shadow:PolicyFile is empty");
        }
    }

    [Fact]
    public void Shadow_Off_NothingIsEvaluatedAndNoShadowServicesExist()
    {
        using var provider = new ServiceCollection()
            .AddAiRbac(o => o.Source = AiRbacPolicySource.FromYaml(Policies.A, "policy.yaml"))
            .BuildServiceProvider();
        var authorizer = provider.GetRequiredService<PolicyAuthorizer>();
        var runtime = provider.GetRequiredService<AiRbacRuntime>();

        authorizer.Shadow.Should().BeNull();
        runtime.ShadowReloader.Should().BeNull();
        runtime.ShadowTally.Should().BeNull();
    }

    private static string Write(TempDirectory temp, string name, string text)
    {
        string path = temp.File(name);
        File.WriteAllText(path, text);
        return path;
    }

    private static async Task<HealthReportEntry> Check(IServiceProvider provider)
    {
        var report = await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        return report.Entries["airbac"];
    }

    /// <summary>A clock that works while policies compile and throws once <see cref="Broken"/> is set.</summary>
    private sealed class BreakableClock : TimeProvider
    {
        public bool Broken { get; set; }

        public override DateTimeOffset GetUtcNow()
            => Broken ? throw new InvalidOperationException("the candidate's clock failed") : new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    }
}
