using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Runtime.InteropServices;
using Microsoft.Extensions.DependencyInjection;

namespace AiRbac.DependencyInjection.Tests;

/// <summary>Listens to the instruments of one service provider only (tests run in parallel).</summary>
internal sealed class InstrumentRecorder : IDisposable
{
    private readonly MeterListener listener = new();

    public InstrumentRecorder(Meter meter)
    {
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter, meter))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        // Allocation-free after the first measurement of each series: the zero-allocation test runs with it.
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var key = (instrument.Name, Tag(tags, 0), Tag(tags, 1), Tag(tags, 2), Tag(tags, 3));
            lock (totals)
            {
                CollectionsMarshal.GetValueRefOrAddDefault(totals, key, out bool _) += value;
            }
        });
        listener.Start();
    }

    private readonly Dictionary<(string Instrument, string? Tag1, string? Tag2, string? Tag3, string? Tag4), long> totals = [];

    /// <summary>The total of an instrument's series: <c>name</c>, or <c>name|tag1|tag2</c> (up to four tags) by tag value.</summary>
    public long Get(string key)
    {
        string[] parts = key.Split('|');
        string? Part(int i) => parts.Length > i ? parts[i] : null;
        var series = (parts[0], Part(1), Part(2), Part(3), Part(4));
        lock (totals)
        {
            return totals.TryGetValue(series, out long value) ? value : 0;
        }
    }

    public void Collect() => listener.RecordObservableInstruments();

    private static string? Tag(ReadOnlySpan<KeyValuePair<string, object?>> tags, int index) => tags.Length > index ? tags[index].Value as string : null;

    public void Dispose() => listener.Dispose();
}

public sealed class MetricsTests
{
    [Fact]
    public void Instruments_DecisionsReloadsAndAudit_AreCountedWithTheirTags()
    {
        using var temp = new TempDirectory();
        string path = temp.File("policy.yaml");
        File.WriteAllText(path, Policies.A);
        using var provider = new ServiceCollection()
            .AddAiRbac(o =>
            {
                o.Source = AiRbacPolicySource.FromFile(path);
                o.WatchFile = false;
                o.AuditLog.Path = temp.File("audit.jsonl");
            })
            .BuildServiceProvider();
        var authorizer = provider.GetRequiredService<PolicyAuthorizer>();
        var runtime = provider.GetRequiredService<AiRbacRuntime>();
        using var recorder = new InstrumentRecorder(runtime.Instruments!.Meter);
        var reloader = provider.GetRequiredService<PolicyReloader>();

        authorizer.Authorize(Policies.Alice, "tool:invoke", "tool:a_x");
        authorizer.Authorize(Policies.Alice, "tool:invoke", "tool:a_y");
        authorizer.Authorize(Policies.Alice, "tool:invoke", "tool:b_x");
        authorizer.Authorize(new Subject(string.Empty), "tool:invoke", "tool:b_x");
        reloader.Reload(); // unchanged
        File.WriteAllText(path, Policies.Invalid);
        reloader.Reload(); // failed
        File.WriteAllText(path, Policies.B);
        reloader.Reload(); // loaded
        runtime.AuditSink!.Flush();
        recorder.Collect();

        recorder.Get("airbac.decisions|allowed|allowed").Should().Be(2);
        recorder.Get("airbac.decisions|denied|no_matching_grant").Should().Be(1);
        recorder.Get("airbac.decisions|denied|missing_identity").Should().Be(1);
        recorder.Get("airbac.policy.reloads|unchanged").Should().Be(1);
        recorder.Get("airbac.policy.reloads|failed").Should().Be(1);
        recorder.Get("airbac.policy.reloads|loaded").Should().Be(1);
        recorder.Get(AiRbacMetrics.AuditRecordsWritten).Should().Be(4);
        recorder.Get(AiRbacMetrics.AuditRecordsDropped).Should().Be(0);
    }

    [Fact]
    public void Instruments_TagNames_AreTheDocumentedOnes()
    {
        using var provider = new ServiceCollection()
            .AddAiRbac(o => o.Source = AiRbacPolicySource.FromYaml(Policies.A, "a.yaml"))
            .BuildServiceProvider();
        var authorizer = provider.GetRequiredService<PolicyAuthorizer>();
        var meter = provider.GetRequiredService<AiRbacRuntime>().Instruments!.Meter;
        var seen = new ConcurrentBag<string>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter, meter))
            {
                seen.Add(instrument.Name);
                l.EnableMeasurementEvents(instrument);
            }
        };
        var tagNames = new ConcurrentBag<string>();
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            foreach (var tag in tags)
            {
                tagNames.Add(tag.Key);
            }
        });
        listener.Start();

        authorizer.Authorize(Policies.Alice, "model:query", "model:gpt");

        meter.Name.Should().Be(AiRbacMetrics.MeterName);
        seen.Should().BeEquivalentTo([AiRbacMetrics.Decisions, AiRbacMetrics.BreakGlassDecisions, AiRbacMetrics.Reloads, AiRbacMetrics.AuditRecordsWritten, AiRbacMetrics.AuditRecordsDropped, AiRbacMetrics.PolicyInfo]);
        tagNames.Should().BeEquivalentTo([AiRbacMetrics.OutcomeTag, AiRbacMetrics.ReasonTag]);
    }

    [Fact]
    public void Instruments_ShadowMode_AddsTheTwoShadowCountersWithTheDocumentedTags()
    {
        using var provider = new ServiceCollection()
            .AddAiRbac(o =>
            {
                o.Source = AiRbacPolicySource.FromYaml(Policies.A, "a.yaml");
                o.Shadow.Source = AiRbacPolicySource.FromYaml(Policies.B, "b.yaml");
            })
            .BuildServiceProvider();
        var authorizer = provider.GetRequiredService<PolicyAuthorizer>();
        var meter = provider.GetRequiredService<AiRbacRuntime>().Instruments!.Meter;
        var seen = new ConcurrentBag<string>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter, meter))
            {
                seen.Add(instrument.Name);
                l.EnableMeasurementEvents(instrument);
            }
        };
        var tagNames = new ConcurrentDictionary<string, ConcurrentBag<string>>();
        listener.SetMeasurementEventCallback<long>((instrument, _, tags, _) =>
        {
            foreach (var tag in tags)
            {
                tagNames.GetOrAdd(instrument.Name, _ => []).Add(tag.Key);
            }
        });
        listener.Start();

        authorizer.Authorize(Policies.Alice, "tool:invoke", "tool:a_x");

        seen.Should().Contain([AiRbacMetrics.ShadowDecisions, AiRbacMetrics.ShadowDisagreements]).And.Contain(AiRbacMetrics.BreakGlassDecisions).And.HaveCount(8);
        tagNames[AiRbacMetrics.ShadowDecisions].Should().BeEquivalentTo([AiRbacMetrics.ShadowResultTag]);
        tagNames[AiRbacMetrics.ShadowDisagreements].Should().BeEquivalentTo(
            [AiRbacMetrics.OutcomeTag, AiRbacMetrics.ReasonTag, AiRbacMetrics.ShadowOutcomeTag, AiRbacMetrics.ShadowReasonTag]);
    }
}
