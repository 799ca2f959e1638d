using System.Text;
using AiRbac.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace AiRbac.DependencyInjection.Tests;

public sealed class AddAiRbacTests
{
    [Fact]
    public void AddAiRbac_CalledTwice_RegistersOnceAndAppliesBothConfigurations()
    {
        var services = new ServiceCollection();
        services.AddAiRbac(o => o.Source = AiRbacPolicySource.FromYaml(Policies.A, "a.yaml"));
        services.AddAiRbac(o => o.EnableMetrics = false);

        services.Count(d => d.ServiceType == typeof(PolicyAuthorizer)).Should().Be(1);
        services.Count(d => d.ServiceType == typeof(PolicyReloader)).Should().Be(1);
        services.Count(d => d.ServiceType == typeof(TimeProvider)).Should().Be(1);

        using var provider = services.BuildServiceProvider();
        var authorizer = provider.GetRequiredService<PolicyAuthorizer>();
        authorizer.Should().BeSameAs(provider.GetRequiredService<PolicyAuthorizer>());
        authorizer.HasPolicy.Should().BeTrue();
        provider.GetRequiredService<AiRbacRuntime>().Instruments.Should().BeNull("the second call turned metrics off");
    }

    [Fact]
    public void AddAiRbac_ExistingTimeProvider_IsKeptAndStampsTheVersion()
    {
        var fixedTime = new FixedTimeProvider(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));
        var services = new ServiceCollection().AddSingleton<TimeProvider>(fixedTime);
        services.AddAiRbac(o => o.Source = AiRbacPolicySource.FromYaml(Policies.A, "a.yaml"));

        using var provider = services.BuildServiceProvider();
        var version = provider.GetRequiredService<PolicyAuthorizer>().Version;

        version.LoadedAt.Should().Be(fixedTime.GetUtcNow());
        version.ContentHash.Should().Be(Policies.Hash(Policies.A));
    }

    [Fact]
    public void AddAiRbac_FilePath_LoadsTheFileAndExposesItsVersion()
    {
        using var temp = new TempDirectory();
        string path = temp.File("policy.yaml");
        File.WriteAllText(path, Policies.A);

        using var provider = new ServiceCollection().AddAiRbac(path).BuildServiceProvider();
        var authorizer = provider.GetRequiredService<PolicyAuthorizer>();
        var reloader = provider.GetRequiredService<PolicyReloader>();

        authorizer.Authorize(Policies.Alice, "tool:invoke", "tool:a_x").Allowed.Should().BeTrue();
        authorizer.Authorize(Policies.Alice, "tool:invoke", "tool:b_x").Reason.Should().Be(DecisionReason.NoMatchingGrant);
        reloader.Version.Should().BeSameAs(authorizer.Version);
        reloader.Version.ContentHash.Should().Be(Policies.Hash(Policies.A));
        reloader.IsWatching.Should().BeTrue();
        reloader.Source.FilePath.Should().Be(Path.GetFullPath(path));
    }

    [Fact]
    public void AddAiRbac_StreamSource_ReadsOnceAndReloadIsUnchanged()
    {
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(Policies.B));
        using var provider = new ServiceCollection()
            .AddAiRbac(o => o.Source = AiRbacPolicySource.FromStream(stream, "b.yaml"))
            .BuildServiceProvider();

        provider.GetRequiredService<PolicyAuthorizer>().Authorize(Policies.Alice, "tool:invoke", "tool:b_x").Allowed.Should().BeTrue();
        var result = provider.GetRequiredService<PolicyReloader>().Reload();

        result.Status.Should().Be(PolicyReloadStatus.Unchanged);
        provider.GetRequiredService<PolicyReloader>().IsWatching.Should().BeFalse();
    }

    [Fact]
    public async Task AddAiRbac_FactorySource_IsCalledOnEveryReload()
    {
        string current = Policies.A;
        using var provider = new ServiceCollection()
            .AddAiRbac(o => o.Source = AiRbacPolicySource.FromFactory(() => current, "db"))
            .BuildServiceProvider();
        var authorizer = provider.GetRequiredService<PolicyAuthorizer>();
        authorizer.Authorize(Policies.Alice, "tool:invoke", "tool:a_x").Allowed.Should().BeTrue();

        current = Policies.B;
        var result = await provider.GetRequiredService<PolicyReloader>().ReloadAsync();

        result.Status.Should().Be(PolicyReloadStatus.Loaded);
        result.Version.ContentHash.Should().Be(Policies.Hash(Policies.B));
        authorizer.Authorize(Policies.Alice, "tool:invoke", "tool:b_x").Allowed.Should().BeTrue();
        authorizer.Authorize(Policies.Alice, "tool:invoke", "tool:a_x").Allowed.Should().BeFalse();
    }

    [Fact]
    public async Task Reload_Result_WrapsTheOneCompilation_LoadedFailedAndUnchanged()
    {
        string current = Policies.A;
        using var provider = new ServiceCollection()
            .AddAiRbac(o => o.Source = AiRbacPolicySource.FromFactory(() => current, "db"))
            .BuildServiceProvider();
        var authorizer = provider.GetRequiredService<PolicyAuthorizer>();
        var reloader = provider.GetRequiredService<PolicyReloader>();

        // Operator: a loaded reload carries the compilation it swapped in (document and policy, the same one that answers).
        current = Policies.B;
        var loaded = await reloader.ReloadAsync();
        loaded.Compilation!.Policy.Should().BeSameAs(authorizer.Policy);
        loaded.Compilation.Document.Should().NotBeNull();
        loaded.Diagnostics.Should().BeSameAs(loaded.Compilation.Diagnostics);

        // Attacker (a broken or hostile policy): the failure carries its errors and no policy; the last good one keeps answering.
        current = Policies.Invalid;
        var failed = await reloader.ReloadAsync();
        failed.Status.Should().Be(PolicyReloadStatus.Failed);
        failed.Compilation!.Policy.Should().BeNull();
        failed.Diagnostics.Should().Contain(d => d.IsError);
        authorizer.Authorize(Policies.Alice, "tool:invoke", "tool:b_x").Allowed.Should().BeTrue();

        // Unchanged: nothing was compiled.
        current = Policies.B;
        var unchanged = await reloader.ReloadAsync();
        unchanged.Status.Should().Be(PolicyReloadStatus.Unchanged);
        unchanged.Compilation.Should().BeNull();
        unchanged.Diagnostics.Should().BeEmpty();
    }

    [Fact]
    public void Resolve_InvalidPolicy_ThrowsWithEveryDiagnostic()
    {
        using var provider = new ServiceCollection()
            .AddAiRbac(o => o.Source = AiRbacPolicySource.FromYaml(Policies.Invalid, "bad.yaml"))
            .BuildServiceProvider();

        var act = () => provider.GetRequiredService<PolicyAuthorizer>();

        var thrown = act.Should().Throw<PolicyLoadException>().Which;
        thrown.Diagnostics.Where(d => d.IsError).Select(d => (d.Code, d.Location.Line, d.Location.Column))
            .Should().Contain([(DiagnosticCodes.UnknownKey, 7, 5)]);
        thrown.Message.Should().Contain("bad.yaml").And.Contain("unknown_key");
        foreach (var diagnostic in thrown.Diagnostics)
        {
            thrown.Message.Should().Contain(diagnostic.ToString());
        }
    }

    [Fact]
    public void Resolve_MissingFile_ThrowsWithAReadDiagnostic()
    {
        using var temp = new TempDirectory();
        using var provider = new ServiceCollection().AddAiRbac(temp.File("absent.yaml")).BuildServiceProvider();

        var act = () => provider.GetRequiredService<PolicyAuthorizer>();

        act.Should().Throw<PolicyLoadException>().Which.Diagnostics.Should().ContainSingle()
            .Which.Message.Should().Contain("cannot read the policy");
    }

    [Fact]
    public void Resolve_NoSource_ThrowsInvalidOperation()
    {
        using var provider = new ServiceCollection().AddAiRbac(_ => { }).BuildServiceProvider();

        var act = () => provider.GetRequiredService<PolicyAuthorizer>();

        act.Should().Throw<InvalidOperationException>().WithMessage("*AiRbacOptions.Source*");
    }

    [Fact]
    public void Resolve_RegisteredObserver_SeesEveryDecisionWithTheVersion()
    {
        var observer = new RecordingObserver();
        using var provider = new ServiceCollection()
            .AddSingleton<IDecisionObserver>(observer)
            .AddAiRbac(o => o.Source = AiRbacPolicySource.FromYaml(Policies.A, "a.yaml"))
            .BuildServiceProvider();
        var authorizer = provider.GetRequiredService<PolicyAuthorizer>();

        authorizer.Authorize(Policies.Alice, "model:query", "model:gpt");
        authorizer.Authorize(Policies.Alice, "model:query", "model:other");

        observer.Versions.Should().HaveCount(2).And.AllSatisfy(v => v.Should().Be(Policies.Hash(Policies.A)));
    }

    private sealed class RecordingObserver : IDecisionObserver
    {
        public List<string> Versions { get; } = [];

        public void OnDecision(in DecisionRecord record)
        {
            lock (Versions)
            {
                Versions.Add(record.Version.ContentHash);
            }
        }
    }
}

internal sealed class FixedTimeProvider(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}
