using System.Collections.Concurrent;
using AiRbac.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace AiRbac.DependencyInjection.Tests;

public sealed class ReloadTests
{
    [Fact]
    public void WatchedFile_Replaced_IsReloadedAndVersionChanges()
    {
        using var temp = new TempDirectory();
        string path = temp.File("policy.yaml");
        File.WriteAllText(path, Policies.A);
        using var provider = new ServiceCollection()
            .AddAiRbac(o => { o.Source = AiRbacPolicySource.FromFile(path); o.ReloadDebounce = TimeSpan.FromMilliseconds(20); })
            .BuildServiceProvider();
        var authorizer = provider.GetRequiredService<PolicyAuthorizer>();
        var reloaded = new ConcurrentQueue<PolicyReloadResult>();
        provider.GetRequiredService<PolicyReloader>().Reloaded += (_, r) => reloaded.Enqueue(r);

        Policies.ReplaceFile(path, Policies.B);

        Policies.WaitUntil(() => authorizer.Version.ContentHash == Policies.Hash(Policies.B)).Should().BeTrue();
        authorizer.Authorize(Policies.Alice, "tool:invoke", "tool:b_x").Allowed.Should().BeTrue();
        reloaded.Should().NotBeEmpty().And.AllSatisfy(r => r.Status.Should().Be(PolicyReloadStatus.Loaded));
    }

    [Fact]
    public void WatchedFile_RewrittenInPlace_IsReloaded()
    {
        using var temp = new TempDirectory();
        string path = temp.File("policy.yaml");
        File.WriteAllText(path, Policies.A);
        using var provider = new ServiceCollection()
            .AddAiRbac(o => { o.Source = AiRbacPolicySource.FromFile(path); o.ReloadDebounce = TimeSpan.FromMilliseconds(20); })
            .BuildServiceProvider();
        var authorizer = provider.GetRequiredService<PolicyAuthorizer>();

        File.WriteAllText(path, Policies.B);

        Policies.WaitUntil(() => authorizer.Version.ContentHash == Policies.Hash(Policies.B)).Should().BeTrue();
    }

    [Fact]
    public void Reload_InvalidFile_KeepsServingAndReportsDiagnostics()
    {
        using var temp = new TempDirectory();
        string path = temp.File("policy.yaml");
        File.WriteAllText(path, Policies.A);
        var callbacks = new ConcurrentQueue<PolicyReloadResult>();
        using var provider = new ServiceCollection()
            .AddAiRbac(o =>
            {
                o.Source = AiRbacPolicySource.FromFile(path);
                o.WatchFile = false;
                o.OnReloadFailed = callbacks.Enqueue;
            })
            .BuildServiceProvider();
        var authorizer = provider.GetRequiredService<PolicyAuthorizer>();
        var reloader = provider.GetRequiredService<PolicyReloader>();
        var events = new ConcurrentQueue<PolicyReloadResult>();
        reloader.ReloadFailed += (_, r) => events.Enqueue(r);
        var good = authorizer.Version;

        File.WriteAllText(path, Policies.Invalid);
        var result = reloader.Reload();

        result.Status.Should().Be(PolicyReloadStatus.Failed);
        result.Version.Should().BeSameAs(good);
        result.Diagnostics.Should().Contain(d => d.Code == DiagnosticCodes.UnknownKey && d.Location.Line == 7 && d.Location.Column == 5);
        callbacks.Should().ContainSingle().Which.Should().BeSameAs(result);
        events.Should().ContainSingle().Which.Should().BeSameAs(result);
        reloader.LastResult.Should().BeSameAs(result);
        authorizer.Version.Should().BeSameAs(good);
        authorizer.Authorize(Policies.Alice, "tool:invoke", "tool:a_x").Allowed.Should().BeTrue();

        File.Delete(path);
        reloader.Reload().Status.Should().Be(PolicyReloadStatus.Failed);
        authorizer.Authorize(Policies.Alice, "tool:invoke", "tool:a_x").Allowed.Should().BeTrue();

        File.WriteAllText(path, Policies.B);
        reloader.Reload().Status.Should().Be(PolicyReloadStatus.Loaded);
        authorizer.Authorize(Policies.Alice, "tool:invoke", "tool:b_x").Allowed.Should().BeTrue();
    }

    [Fact]
    public void WatchedFile_BrokenThenFixed_FailureObservedAndRecovery()
    {
        using var temp = new TempDirectory();
        string path = temp.File("policy.yaml");
        File.WriteAllText(path, Policies.A);
        var failures = new ConcurrentQueue<PolicyReloadResult>();
        using var provider = new ServiceCollection()
            .AddAiRbac(o =>
            {
                o.Source = AiRbacPolicySource.FromFile(path);
                o.ReloadDebounce = TimeSpan.FromMilliseconds(20);
                o.OnReloadFailed = failures.Enqueue;
            })
            .BuildServiceProvider();
        var authorizer = provider.GetRequiredService<PolicyAuthorizer>();

        Policies.ReplaceFile(path, Policies.Invalid);
        Policies.WaitUntil(() => !failures.IsEmpty).Should().BeTrue();
        authorizer.Version.ContentHash.Should().Be(Policies.Hash(Policies.A));
        authorizer.Authorize(Policies.Alice, "tool:invoke", "tool:a_x").Allowed.Should().BeTrue();

        Policies.ReplaceFile(path, Policies.B);
        Policies.WaitUntil(() => authorizer.Version.ContentHash == Policies.Hash(Policies.B)).Should().BeTrue();
    }

    [Fact]
    public void ConcurrentLoad_FileRewrittenManyTimes_EveryDecisionMatchesTheOldOrTheNewPolicy()
    {
        using var temp = new TempDirectory();
        string path = temp.File("policy.yaml");
        string auditPath = temp.File("audit.jsonl");
        File.WriteAllText(path, Policies.A);
        string hashA = Policies.Hash(Policies.A);
        string hashB = Policies.Hash(Policies.B);
        var provider = new ServiceCollection()
            .AddAiRbac(o =>
            {
                o.Source = AiRbacPolicySource.FromFile(path);
                o.ReloadDebounce = TimeSpan.FromMilliseconds(5);
                o.AuditLog.Path = auditPath;
                o.AuditLog.Capacity = 1 << 16;
                o.AuditLog.MaxFileBytes = long.MaxValue; // one file: every record is counted below
                o.AuditLog.Overflow = AuditOverflow.Block; // every decision must reach the log for the check below
            })
            .BuildServiceProvider();
        var authorizer = provider.GetRequiredService<PolicyAuthorizer>();
        var sink = provider.GetRequiredService<AiRbacRuntime>().AuditSink!;
        var reloads = 0;
        provider.GetRequiredService<PolicyReloader>().Reloaded += (_, _) => Interlocked.Increment(ref reloads);

        using var stop = new CancellationTokenSource();
        var errors = new ConcurrentQueue<string>();
        long decisions = 0;
        var workers = Enumerable.Range(0, 4).Select(i => new Thread(() =>
        {
            var subject = Subject.WithRoles("user-" + i, SubjectKind.User, "analyst");
            try
            {
                while (!stop.IsCancellationRequested)
                {
                    var always = authorizer.Authorize(subject, "model:query", "model:gpt");
                    var a = authorizer.Authorize(subject, "tool:invoke", "tool:a_x");
                    var b = authorizer.Authorize(subject, "tool:invoke", "tool:b_x");
                    Interlocked.Add(ref decisions, 3);
                    if (!always.Allowed)
                    {
                        errors.Enqueue($"model:query denied: {always.ReasonName}");
                    }

                    foreach (var d in new[] { a, b })
                    {
                        if (!d.Allowed && d.Reason != DecisionReason.NoMatchingGrant)
                        {
                            errors.Enqueue($"unexpected reason {d.ReasonName}");
                        }
                    }
                }
            }
#pragma warning disable CA1031 // Reason: the test reports any exception from Authorize as a failure.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                errors.Enqueue(ex.ToString());
            }
        })).ToList();
        workers.ForEach(w => w.Start());

        for (int i = 0; i < 60; i++)
        {
            string text = i % 2 == 0 ? Policies.B : Policies.A;
            if (i % 3 == 0)
            {
                File.WriteAllText(path, text); // in place: a reader may see an empty file, which must fail and keep the last good policy
            }
            else
            {
                Policies.ReplaceFile(path, text);
            }

            Thread.Sleep(15);
        }

        Policies.ReplaceFile(path, Policies.B);
        Policies.WaitUntil(() => authorizer.Version.ContentHash == hashB).Should().BeTrue();
        stop.Cancel();
        workers.ForEach(w => w.Join());
        provider.Dispose(); // drains the audit log

        errors.Should().BeEmpty();
        sink.RecordsDropped.Should().Be(0);
        reloads.Should().BeGreaterThan(1);
        var records = Policies.ReadRecords(auditPath);
        records.Should().HaveCount((int)decisions);
        foreach (var record in records)
        {
            string version = record.GetProperty("policy_version").GetString()!;
            version.Should().BeOneOf(hashA, hashB);
            bool allowed = record.GetProperty("allowed").GetBoolean();
            switch (record.GetProperty("resource").GetString())
            {
                case "model:gpt": allowed.Should().BeTrue(); break;
                case "tool:a_x": allowed.Should().Be(version == hashA, "the decision must be the one of the policy stamped on it"); break;
                case "tool:b_x": allowed.Should().Be(version == hashB, "the decision must be the one of the policy stamped on it"); break;
                default: throw new InvalidOperationException("unexpected resource");
            }
        }

        records.Select(r => r.GetProperty("policy_version").GetString()).Distinct().Should().HaveCount(2, "both policies answered during the run");
    }
}
