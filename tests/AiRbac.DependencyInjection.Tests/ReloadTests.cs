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
        Policies.WaitUntil(() => !reloaded.IsEmpty).Should().BeTrue(); // the event is raised just after the swap
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

            // Mostly faster than a watched reload may settle on a loaded machine (two reads a debounce apart must
            // agree), with a quiet spell after every fifth write, alternately after B and after A, that lasts until
            // the written policy answers: reloads happen during the run however slow the machine (a fixed 300 ms
            // spell was sometimes too short with the four workers and the rest of the suite on two cores).
            if (i % 5 == 4)
            {
                string written = Policies.Hash(text);
                Policies.WaitUntil(() => authorizer.Version.ContentHash == written).Should().BeTrue("a quiet spell lets a reload settle");
            }
            else
            {
                Thread.Sleep(15);
            }
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

    // The exact sequence of the kubelet updating a ConfigMap volume: policy.yaml -> ..data/policy.yaml, and ..data ->
    // ..<timestamp>; a new timestamped directory is written, ..data_tmp made to point at it and renamed over ..data.
    // No event names policy.yaml.
    [Fact]
    public void WatchedSymlink_KubeletConfigMapSwap_IsReloaded()
    {
        using var temp = new TempDirectory();
        const string First = "..2026_12_01_12_00_00.000000001";
        const string Second = "..2026_12_01_12_05_00.000000002";
        Directory.CreateDirectory(temp.File(First));
        File.WriteAllText(Path.Combine(temp.File(First), "policy.yaml"), Policies.A);
        File.CreateSymbolicLink(temp.File("..data"), First);
        File.CreateSymbolicLink(temp.File("policy.yaml"), Path.Combine("..data", "policy.yaml"));
        var time = new ManualTimeProvider();
        using var provider = Start(temp.File("policy.yaml"), time, o => o.PollInterval = Timeout.InfiniteTimeSpan); // new-api: the watchers alone must see it
        var authorizer = provider.GetRequiredService<PolicyAuthorizer>();
        authorizer.Authorize(Policies.Alice, "tool:invoke", "tool:a_x").Allowed.Should().BeTrue();

        Directory.CreateDirectory(temp.File(Second));
        File.WriteAllText(Path.Combine(temp.File(Second), "policy.yaml"), Policies.B);
        File.CreateSymbolicLink(temp.File("..data_tmp"), Second);
        Rename(temp.File("..data_tmp"), temp.File("..data"));
        Directory.Delete(temp.File(First), recursive: true);

        Policies.WaitUntil(() => AdvanceAndCheck(time, () => authorizer.Version.ContentHash == Policies.Hash(Policies.B))).Should().BeTrue();
        authorizer.Authorize(Policies.Alice, "tool:invoke", "tool:b_x").Allowed.Should().BeTrue();

        // And the next swap too, through the watchers now on the new directory.
        Directory.CreateDirectory(temp.File(First));
        File.WriteAllText(Path.Combine(temp.File(First), "policy.yaml"), Policies.A);
        File.CreateSymbolicLink(temp.File("..data_tmp"), First);
        Rename(temp.File("..data_tmp"), temp.File("..data"));
        Directory.Delete(temp.File(Second), recursive: true);

        Policies.WaitUntil(() => AdvanceAndCheck(time, () => authorizer.Version.ContentHash == Policies.Hash(Policies.A))).Should().BeTrue();
    }

    [Fact]
    public void WatchedSymlink_TargetInAnotherDirectoryEditedInPlace_IsReloaded()
    {
        using var temp = new TempDirectory();
        Directory.CreateDirectory(temp.File("conf"));
        Directory.CreateDirectory(temp.File("store"));
        string target = Path.Combine(temp.File("store"), "real-policy.yaml");
        File.WriteAllText(target, Policies.A);
        string path = Path.Combine(temp.File("conf"), "policy.yaml");
        File.CreateSymbolicLink(path, Path.Combine("..", "store", "real-policy.yaml"));
        var time = new ManualTimeProvider();
        using var provider = Start(path, time, o => o.PollInterval = Timeout.InfiniteTimeSpan); // new-api: the watchers alone must see it
        var authorizer = provider.GetRequiredService<PolicyAuthorizer>();

        File.WriteAllText(target, Policies.B);

        Policies.WaitUntil(() => AdvanceAndCheck(time, () => authorizer.Version.ContentHash == Policies.Hash(Policies.B))).Should().BeTrue();
        authorizer.Authorize(Policies.Alice, "tool:invoke", "tool:b_x").Allowed.Should().BeTrue();
    }

    // The directory holding the file is moved away (no watcher sees that), then a new one is made: the periodic
    // check reports the vanished policy and picks up the new one.
    [Fact]
    public void PeriodicCheck_DirectoryMovedAwayAndRecreated_FailureReportedThenReloaded()
    {
        using var temp = new TempDirectory();
        string directory = temp.File("conf");
        Directory.CreateDirectory(directory);
        string path = Path.Combine(directory, "policy.yaml");
        File.WriteAllText(path, Policies.A);
        var time = new ManualTimeProvider();
        var failures = new ConcurrentQueue<PolicyReloadResult>();
        using var provider = Start(path, time, o => { o.OnReloadFailed = failures.Enqueue; o.PollInterval = TimeSpan.FromSeconds(2); }); // new-api
        var authorizer = provider.GetRequiredService<PolicyAuthorizer>();

        Directory.Move(directory, temp.File("conf-old"));

        Policies.WaitUntil(() => AdvanceAndCheck(time, () => !failures.IsEmpty)).Should().BeTrue();
        failures.Should().AllSatisfy(f => f.Diagnostics.Should().Contain(d => d.Message.Contains("cannot read the policy", StringComparison.Ordinal)));
        authorizer.Version.ContentHash.Should().Be(Policies.Hash(Policies.A));
        authorizer.Authorize(Policies.Alice, "tool:invoke", "tool:a_x").Allowed.Should().BeTrue();

        Directory.CreateDirectory(directory);
        File.WriteAllText(path, Policies.B);

        Policies.WaitUntil(() => AdvanceAndCheck(time, () => authorizer.Version.ContentHash == Policies.Hash(Policies.B))).Should().BeTrue();
    }

    // The writer stalls just before the deny block for longer than the debounce: what it has written so far is a
    // valid policy that allows more. It must never answer.
    [Fact]
    public void WatchedFile_WriterStallsBeforeTheDenyBlock_PartialPolicyNeverSwappedIn()
    {
        using var temp = new TempDirectory();
        string path = temp.File("policy.yaml");
        File.WriteAllText(path, Policies.DenyingA);
        var time = new ManualTimeProvider();
        var reloaded = new ConcurrentQueue<PolicyReloadResult>();
        using var provider = Start(path, time, o => o.PollInterval = Timeout.InfiniteTimeSpan); // new-api
        var authorizer = provider.GetRequiredService<PolicyAuthorizer>();
        provider.GetRequiredService<PolicyReloader>().Reloaded += (_, r) => reloaded.Enqueue(r);
        byte[] whole = System.Text.Encoding.UTF8.GetBytes(Policies.DenyingB);
        int half = System.Text.Encoding.UTF8.GetByteCount(Policies.BeforeDeny(Policies.DenyingB));

        using (var writer = new FileStream(path, FileMode.Truncate, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete))
        {
            long since = time.Arms;
            writer.Write(whole, 0, half);
            writer.Flush(flushToDisk: true);
            time.WaitForArm(since).Should().BeTrue();

            for (int i = 0; i < 3; i++)
            {
                time.Advance(TimeSpan.FromMilliseconds(60)); // 180 ms: longer than the debounce (100 ms), shorter than debounce + settle
                authorizer.Version.ContentHash.Should().Be(Policies.Hash(Policies.DenyingA), "the half-written file must not answer");
                authorizer.Authorize(Policies.Alice, "tool:invoke", "tool:b_secret").Allowed.Should().BeFalse();
            }

            since = time.Arms;
            writer.Write(whole, half, whole.Length - half);
            writer.Flush(flushToDisk: true);
            time.WaitForArm(since).Should().BeTrue();
        }

        Policies.WaitUntil(() => AdvanceAndCheck(time, () => authorizer.Version.ContentHash == Policies.Hash(Policies.DenyingB))).Should().BeTrue();
        authorizer.Authorize(Policies.Alice, "tool:invoke", "tool:b_x").Allowed.Should().BeTrue();
        authorizer.Authorize(Policies.Alice, "tool:invoke", "tool:b_secret").Allowed.Should().BeFalse();
        reloaded.Should().NotBeEmpty().And.AllSatisfy(r => r.Version.ContentHash.Should().Be(Policies.Hash(Policies.DenyingB)));
    }

    // The writer dies just before the deny block: the prefix is stable and valid, so only the checksum file can tell.
    [Fact]
    public void WatchedFile_WriterDiesMidWriteWithChecksumFile_OldPolicyKeptAndFailureReported()
    {
        using var temp = new TempDirectory();
        string path = temp.File("policy.yaml");
        File.WriteAllText(path, Policies.DenyingA);
        File.WriteAllText(path + ".sha256", Policies.Hash(Policies.DenyingA) + "  policy.yaml\n");
        var time = new ManualTimeProvider();
        var failures = new ConcurrentQueue<PolicyReloadResult>();
        using var provider = Start(path, time, o =>
        {
            o.OnReloadFailed = failures.Enqueue;
            o.PollInterval = Timeout.InfiniteTimeSpan; // new-api
            o.RequireChecksumFile = true; // new-api
        });
        var authorizer = provider.GetRequiredService<PolicyAuthorizer>();

        long since = time.Arms;
        File.WriteAllText(path, Policies.BeforeDeny(Policies.DenyingB)); // then the writer dies: no more bytes, no new checksum
        time.WaitForArm(since).Should().BeTrue();

        Policies.WaitUntil(() => AdvanceAndCheck(time, () => !failures.IsEmpty)).Should().BeTrue();
        time.Advance(TimeSpan.FromSeconds(30));
        authorizer.Version.ContentHash.Should().Be(Policies.Hash(Policies.DenyingA));
        authorizer.Authorize(Policies.Alice, "tool:invoke", "tool:a_x").Allowed.Should().BeTrue();
        authorizer.Authorize(Policies.Alice, "tool:invoke", "tool:b_x").Allowed.Should().BeFalse();
        failures.Should().AllSatisfy(f => f.Status.Should().Be(PolicyReloadStatus.Failed));
        failures.First().Diagnostics.Should().Contain(d => d.Message.Contains("checksum", StringComparison.Ordinal)); // new-api

        // The writer that completes writes the file, then its checksum.
        File.WriteAllText(path, Policies.DenyingB);
        File.WriteAllText(path + ".sha256", Policies.Hash(Policies.DenyingB) + "\n");
        Policies.WaitUntil(() => AdvanceAndCheck(time, () => authorizer.Version.ContentHash == Policies.Hash(Policies.DenyingB))).Should().BeTrue();
    }

    // A file that is different at every read is never taken; after a bounded number of reads the reload is
    // reported as failed.
    [Fact]
    public void WatchedFile_KeepsChanging_ReportedAsUnstableAndOldPolicyKept()
    {
        using var temp = new TempDirectory();
        string path = temp.File("policy.yaml");
        File.WriteAllText(path, Policies.DenyingA);
        var time = new ManualTimeProvider();
        var failures = new ConcurrentQueue<PolicyReloadResult>();
        var reloaded = new ConcurrentQueue<PolicyReloadResult>();
        using var provider = Start(path, time, o => { o.OnReloadFailed = failures.Enqueue; o.PollInterval = Timeout.InfiniteTimeSpan; }); // new-api
        var authorizer = provider.GetRequiredService<PolicyAuthorizer>();
        provider.GetRequiredService<PolicyReloader>().Reloaded += (_, r) => reloaded.Enqueue(r);

        for (int i = 0; i < 8 && failures.IsEmpty; i++)
        {
            long since = time.Arms;
            File.WriteAllText(path, (i % 2 == 0 ? Policies.A : Policies.B) + "\n# revision " + i + "\n");
            time.WaitForArm(since).Should().BeTrue();
            time.Advance(TimeSpan.FromMilliseconds(100));
        }

        failures.Should().NotBeEmpty();
        failures.First().Diagnostics.Should().Contain(d => d.Message.Contains("kept changing", StringComparison.Ordinal)); // new-api
        reloaded.Should().BeEmpty();
        authorizer.Version.ContentHash.Should().Be(Policies.Hash(Policies.DenyingA));
    }

    [Fact]
    public void Reload_RemovesADenyAndARole_ReportsWhatWasRemoved()
    {
        using var temp = new TempDirectory();
        string path = temp.File("policy.yaml");
        File.WriteAllText(path, Policies.DenyingAWithOps);
        using var provider = new ServiceCollection()
            .AddAiRbac(o => { o.Source = AiRbacPolicySource.FromFile(path); o.WatchFile = false; })
            .BuildServiceProvider();
        var reloader = provider.GetRequiredService<PolicyReloader>();
        var events = new ConcurrentQueue<PolicyReloadResult>();
        reloader.Reloaded += (_, r) => events.Enqueue(r);

        File.WriteAllText(path, Policies.A);
        var result = reloader.Reload();

        result.Status.Should().Be(PolicyReloadStatus.Loaded);
        events.Should().ContainSingle().Which.Should().BeSameAs(result);
        result.RemovedRoles.Should().Equal("ops");
        result.RemovedDenies.Should().ContainSingle();
        result.RemovedDenies[0].Role.Should().Be("analyst");
        result.RemovedDenies[0].Rule.Should().Be("tool:invoke on tool:a_secret");
        result.ToString().Should().Contain("removed 1 role(s) (ops)").And.Contain("removed 1 deny rule(s) (analyst: tool:invoke on tool:a_secret)");

        File.WriteAllText(path, Policies.DenyingB);
        var adding = reloader.Reload();
        adding.Status.Should().Be(PolicyReloadStatus.Loaded);
        adding.RemovedRoles.Should().BeEmpty();
        adding.RemovedDenies.Should().BeEmpty();
        adding.ToString().Should().NotContain("removed");
    }

    private static ServiceProvider Start(string path, ManualTimeProvider time, Action<AiRbacOptions>? configure = null)
        => new ServiceCollection()
            .AddSingleton<TimeProvider>(time)
            .AddAiRbac(o =>
            {
                o.Source = AiRbacPolicySource.FromFile(path);
                o.ReloadDebounce = TimeSpan.FromMilliseconds(100);
                configure?.Invoke(o);
            })
            .BuildServiceProvider();

    // Moves the clock one step and checks: the reloader's timers fire on this thread.
    private static bool AdvanceAndCheck(ManualTimeProvider time, Func<bool> condition)
    {
        time.Advance(TimeSpan.FromMilliseconds(50));
        return condition();
    }

    // rename(2), as the kubelet does: mv -T renames the link itself over the other link.
    private static void Rename(string from, string to)
    {
        using var mv = System.Diagnostics.Process.Start("mv", ["-T", "-f", from, to]);
        mv.WaitForExit();
        mv.ExitCode.Should().Be(0);
    }
}
