using System.Security.Cryptography;
using AiRbac.Diagnostics;
using AiRbac.Yaml;
using Microsoft.Extensions.Logging;

namespace AiRbac;

/// <summary>
/// Loads the policy into the <see cref="PolicyAuthorizer"/>, watches a file source and reloads it when it changes,
/// and swaps the compiled policy atomically. A watched change is taken only once two reads a settle time apart agree
/// (see <see cref="AiRbacOptions.ReloadDebounce"/>); a periodic content check catches what no file event reports
/// (<see cref="AiRbacOptions.PollInterval"/>). A reload that fails keeps the last good policy answering and is reported
/// (<see cref="ReloadFailed"/>, <see cref="AiRbacOptions.OnReloadFailed"/> and a metric). Registered as a singleton by
/// <c>AddAiRbac</c>; thread-safe.
/// </summary>
public sealed class PolicyReloader
{
    // How many successive reads of a watched file may differ from the one before before the reload is reported as
    // failed (the file kept changing); a later change or periodic check starts again.
    private const int MaxUnstableReads = Tuning.Hosting.ReloadMaxUnstableReads;

    // What a failure for a file that kept changing records as seen: no read's fingerprint (a SHA-256 in hex, or '!' and
    // the failure) is equal to it, so the next periodic check always starts a checked reload.
    private const string UnsettledFingerprint = "?unsettled";

    // How many symbolic links a path is followed through when choosing the directories to watch (as the kernel's limit).
    private const int MaxLinkHops = Tuning.Hosting.ReloadMaxLinkHops;

    private readonly PolicyAuthorizer authorizer;
    private readonly YamlLoadLimits limits;
    private readonly PolicyCompilerOptions? compilerOptions;
    private readonly TimeProvider timeProvider;
    private readonly AiRbacInstruments? instruments;
    private readonly ILogger logger;
    private readonly Action<PolicyReloadResult>? onReloadFailed;
    private readonly TimeSpan debounce;
    private readonly TimeSpan pollInterval;
    private readonly bool requireChecksum;
    private readonly bool shadow; // loads the candidate of shadow mode: its failure at start-up is not fatal
    private readonly SemaphoreSlim gate = new(1, 1); // one load at a time, so an older read never overwrites a newer one
    private readonly Lock watchGate = new();
    private readonly List<FileSystemWatcher> watchers = [];
    private Dictionary<string, HashSet<string>> watchSet = new(StringComparer.Ordinal);
    private ITimer? debounceTimer;
    private ITimer? pollTimer;
    private bool watching;
    private bool checkPending; // a file event or a periodic check started a checked reload that has not ended yet
    private SourceBytes? candidate; // the first read of a checked reload, waiting for the second
    private int unstableReads;
    private volatile string? lastSeen; // the fingerprint of the last read that ended a reload
    private volatile bool disposed;
    private volatile PolicyReloadResult? lastResult;
    private string? lastPollFailure; // the fingerprint of the last failed periodic read that was logged

    // With shadow set, the reloader loads the candidate policy of shadow mode into the shadow authorizer
    // (docs/dependency-injection.md, "Shadow mode"): the same code as for the live policy, but a start-up failure does not
    // throw, and OnReloadFailed and the reload metric stay the live policy's.
    internal PolicyReloader(PolicyAuthorizer authorizer, AiRbacOptions options, TimeProvider timeProvider, AiRbacInstruments? instruments, ILogger? logger = null, AiRbacPolicySource? source = null, bool shadow = false)
    {
        this.shadow = shadow;
        this.authorizer = authorizer;
        this.logger = logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        Source = source ?? options.Source ?? throw new InvalidOperationException("AddAiRbac: no policy source was configured (set AiRbacOptions.Source).");
        limits = options.LoadLimits ?? YamlLoadLimits.Default;
        compilerOptions = options.CompilerOptions;
        this.timeProvider = timeProvider;
        this.instruments = instruments;
        onReloadFailed = shadow ? null : options.OnReloadFailed;
        debounce = options.ReloadDebounce < TimeSpan.Zero ? TimeSpan.Zero : options.ReloadDebounce;
        pollInterval = options.PollInterval <= TimeSpan.Zero ? Timeout.InfiniteTimeSpan : options.PollInterval;
        requireChecksum = options.RequireChecksumFile;
    }

    /// <summary>
    /// Raised after a reload swapped in a new policy. Runs on the thread that reloaded. The result lists the roles and
    /// deny rules the new policy no longer declares (<see cref="PolicyReloadResult.RemovedRoles"/>,
    /// <see cref="PolicyReloadResult.RemovedDenies"/>, and its <see cref="PolicyReloadResult.ToString"/>).
    /// </summary>
    public event EventHandler<PolicyReloadResult>? Reloaded;

    /// <summary>
    /// Raised after a reload failed; the last good policy keeps answering. Runs on the thread that reloaded. During
    /// reloads started by the file watcher or the periodic check, exceptions thrown by handlers are discarded.
    /// </summary>
    public event EventHandler<PolicyReloadResult>? ReloadFailed;

    /// <summary>Where the policy comes from.</summary>
    public AiRbacPolicySource Source { get; }

    /// <summary>The version of the policy that answers now (content hash and load time).</summary>
    public PolicyVersion Version => authorizer.Version;

    /// <summary>The outcome of the last load or reload.</summary>
    public PolicyReloadResult? LastResult => lastResult;

    /// <summary>Whether the file source is being watched.</summary>
    public bool IsWatching => watching;

    /// <summary>
    /// Reads and compiles the source now and, when it compiles, swaps it in. The file is read once: call it when the
    /// file is complete (the settle check applies to reloads started by the watcher and the periodic check).
    /// </summary>
    /// <returns>The outcome; a failure keeps the last good policy and is also reported as an event and a metric.</returns>
    public PolicyReloadResult Reload()
    {
        gate.Wait();
        try
        {
            return Apply(Source.Read(limits, requireChecksum), initial: false);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Reads (asynchronously, for a file) and compiles the source now and, when it compiles, swaps it in.</summary>
    /// <param name="cancellationToken">Cancels the wait and the read; a policy already compiled is still swapped in.</param>
    /// <returns>The outcome; a failure keeps the last good policy and is also reported as an event and a metric.</returns>
    public async Task<PolicyReloadResult> ReloadAsync(CancellationToken cancellationToken = default)
    {
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var bytes = await Source.ReadAsync(limits, requireChecksum, cancellationToken).ConfigureAwait(false);
            return Apply(bytes, initial: false);
        }
        finally
        {
            gate.Release();
        }
    }

    // The start-up load: a policy that fails here fails the start, with every diagnostic in the exception. A shadow
    // candidate that fails is reported (logged as a failed reload, LastResult) and the start goes on.
    internal void LoadInitial()
    {
        gate.Wait();
        try
        {
            var result = Apply(Source.Read(limits, requireChecksum), initial: true);
            if (!result.Succeeded && !shadow)
            {
                throw new PolicyLoadException(result);
            }
        }
        finally
        {
            gate.Release();
        }
    }

    internal void StartWatching()
    {
        if (Source.FilePath is null)
        {
            return;
        }

        lock (watchGate)
        {
            if (disposed || watching)
            {
                return;
            }

            watching = true;
            debounceTimer = timeProvider.CreateTimer(OnTimer, null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            if (pollInterval != Timeout.InfiniteTimeSpan)
            {
                pollTimer = timeProvider.CreateTimer(OnPoll, null, pollInterval, pollInterval);
            }

            RefreshWatchers(force: true);
        }
    }

    internal void Dispose()
    {
        lock (watchGate)
        {
            disposed = true;
            DisposeWatchers();
            debounceTimer?.Dispose();
            debounceTimer = null;
            pollTimer?.Dispose();
            pollTimer = null;
        }
    }

    // Every (directory, name) the path resolves through: each symbolic link met on the way, in the directory that
    // holds it, and the file finally reached. For a ConfigMap volume (policy.yaml -> ..data/policy.yaml, ..data ->
    // ..<timestamp>) that is policy.yaml and ..data in the volume and policy.yaml in the timestamped directory.
    internal static Dictionary<string, HashSet<string>> ResolveWatchSet(IEnumerable<string> paths)
    {
        var set = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (string path in paths)
        {
            string pending = Path.GetFullPath(path);
            int hops = 0;
            bool followed = true;
            while (followed)
            {
                followed = false;
                string root = Path.GetPathRoot(pending) ?? string.Empty;
                string[] parts = pending[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries);
                string current = root;
                for (int i = 0; i < parts.Length; i++)
                {
                    string next = Path.Combine(current, parts[i]);
                    string? target = LinkTarget(next);
                    if (target is not null && hops++ < MaxLinkHops)
                    {
                        Add(set, current, parts[i]);
                        string resolved = Path.GetFullPath(target, current);
                        pending = i == parts.Length - 1 ? resolved : Path.Combine([resolved, .. parts[(i + 1)..]]);
                        followed = true;
                        break;
                    }

                    if (i == parts.Length - 1)
                    {
                        Add(set, current, parts[i]);
                    }

                    current = next;
                }
            }
        }

        return set;

        static void Add(Dictionary<string, HashSet<string>> set, string directory, string name)
        {
            if (!set.TryGetValue(directory, out var names))
            {
                set[directory] = names = new HashSet<string>(StringComparer.Ordinal);
            }

            names.Add(name);
        }

        static string? LinkTarget(string path)
        {
            try
            {
                return new FileInfo(path).LinkTarget;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return null;
            }
        }
    }

    // Watches the directories the path (and the checksum file) resolves through, again when they changed. Each
    // watcher sees its whole directory and keeps the events naming a link or file of the chain: a rename matches
    // when its old or new name does (a file replaced by renaming another onto it, the kubelet's ..data swap).
    // A directory that does not exist is not watched; the periodic check covers it until it does.
    private void RefreshWatchers(bool force)
    {
        string[] paths = requireChecksum ? [Source.FilePath!, Source.ChecksumFilePath!] : [Source.FilePath!];
        var wanted = ResolveWatchSet(paths);
        lock (watchGate)
        {
            if (disposed || !watching)
            {
                return;
            }

            bool same = !force && wanted.Count == watchSet.Count && wanted.All(w =>
                watchSet.TryGetValue(w.Key, out var names) && names.SetEquals(w.Value)
                && (watchers.Any(x => x.Path == w.Key) || !Directory.Exists(w.Key)));
            if (same)
            {
                return;
            }

            DisposeWatchers();
            watchSet = wanted;
            foreach (var (directory, names) in wanted)
            {
                FileSystemWatcher watcher;
                try
                {
                    watcher = new FileSystemWatcher(directory)
                    {
                        NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.CreationTime,
                        IncludeSubdirectories = false,
                    };
                }
                catch (ArgumentException)
                {
                    continue; // the directory does not exist (now)
                }

                FileSystemEventHandler onEvent = (_, e) =>
                {
                    if (e.Name is null || names.Contains(e.Name) || (e is RenamedEventArgs r && (r.OldName is null || names.Contains(r.OldName))))
                    {
                        ScheduleCheck();
                    }
                };
                watcher.Changed += onEvent;
                watcher.Created += onEvent;
                watcher.Deleted += onEvent;
                watcher.Renamed += (sender, e) => onEvent(sender, e);
                watcher.Error += OnWatcherError; // e.g. an overflowing event buffer: check to be sure
                try
                {
                    watcher.EnableRaisingEvents = true;
                }
                catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException)
                {
                    watcher.Dispose(); // removed in between, or out of watches: the periodic check covers it
                    continue;
                }

                watchers.Add(watcher);
            }
        }
    }

    private void DisposeWatchers()
    {
        foreach (var watcher in watchers)
        {
            watcher.Dispose();
        }

        watchers.Clear();
    }

    private void OnWatcherError(object sender, ErrorEventArgs e) => ScheduleCheck();

    private void ScheduleCheck()
    {
        lock (watchGate)
        {
            // Every event pushes the check back: it runs once the file has been quiet for the debounce time. A first
            // read already taken stays: the next read must match it.
            checkPending = true;
            debounceTimer?.Change(debounce, Timeout.InfiniteTimeSpan);
        }
    }

    // The periodic check: one read; a content (or failure) different from the last one seen starts a checked reload.
    private void OnPoll(object? state)
    {
        if (disposed)
        {
            return;
        }

        try
        {
            var read = Source.Read(limits, requireChecksum);
            string seen = read.Fingerprint();
            LogPollRead(read, seen);
            bool pending;
            lock (watchGate)
            {
                pending = checkPending;
            }

            if (!pending && seen != lastSeen)
            {
                ScheduleCheck();
            }

            RefreshWatchers(force: false);
        }
#pragma warning disable CA1031 // Reason: a timer callback that throws ends the process; the next tick checks again.
        catch (Exception e)
#pragma warning restore CA1031
        {
            AiRbacLog.PolicyCheckFailed(logger, Source.SourceName, e);
        }
    }

    private void OnTimer(object? state)
    {
        if (disposed)
        {
            return;
        }

        try
        {
            CheckedReload();
            RefreshWatchers(force: false);
        }
#pragma warning disable CA1031 // Reason: a timer callback that throws ends the process; a failed reload is already reported through events and metrics, and handler exceptions have no caller to reach but the log.
        catch (Exception e)
#pragma warning restore CA1031
        {
            AiRbacLog.PolicyCheckFailed(logger, Source.SourceName, e);
        }
    }

    // A watched reload takes only a stable file: a first read, then, a debounce time later, a second one that must
    // hold the same bytes, length and last write time (or the same failure to read). A read that differs becomes the
    // first read of the next pair; after MaxUnstableReads differing reads the reload fails (the last good policy stays).
    private void CheckedReload()
    {
        gate.Wait();
        try
        {
            var read = Source.Read(limits, requireChecksum);
            SourceBytes? first;
            lock (watchGate)
            {
                first = candidate;
            }

            if (first is null)
            {
                Again(read, unstable: 0);
                return;
            }

            if (first.Value.SameAs(read))
            {
                Done();
                Apply(read, initial: false);
                return;
            }

            int unstable;
            lock (watchGate)
            {
                unstable = ++unstableReads;
            }

            if (unstable < MaxUnstableReads)
            {
                Again(read, unstable);
                return;
            }

            Done();
            var why = PolicyDiagnostic.Error(
                DiagnosticCodes.YamlSyntax,
                $"the policy file kept changing while it was read ({unstable + 1} reads {debounce.TotalMilliseconds} ms apart all differed); it was not taken",
                new Model.SourceLocation(Source.SourceName, 0, 0));
            // Seen as unsettled, never as the last read's content: the file may have settled on exactly those bytes, and
            // its events are spent, so only the periodic check's differing fingerprint can start the reload that takes it.
            Apply(SourceBytes.Failed([why, .. read.Diagnostics], read.Exception), initial: false, seen: UnsettledFingerprint);
        }
        finally
        {
            gate.Release();
        }

        void Again(SourceBytes read, int unstable)
        {
            lock (watchGate)
            {
                candidate = read;
                unstableReads = unstable;
                checkPending = true;
                debounceTimer?.Change(debounce, Timeout.InfiniteTimeSpan);
            }
        }

        void Done()
        {
            lock (watchGate)
            {
                candidate = null;
                unstableReads = 0;
                checkPending = false;
            }
        }
    }

    private PolicyReloadResult Apply(SourceBytes read, bool initial, string? seen = null)
    {
        lastSeen = seen ?? read.Fingerprint();
        var current = authorizer.Version;
        PolicyReloadResult result;
        if (read.Bytes is null)
        {
            result = new PolicyReloadResult(PolicyReloadStatus.Failed, Source.SourceName, current, PolicyCompilation.Failed(read.Diagnostics), read.Exception);
        }
        else
        {
            string hash = Convert.ToHexStringLower(SHA256.HashData(read.Bytes));
            if (authorizer.HasPolicy && hash == current.ContentHash)
            {
                result = new PolicyReloadResult(PolicyReloadStatus.Unchanged, Source.SourceName, current, null, null);
            }
            else
            {
                var (compilation, failure) = TryCompile(read.Bytes);
                if (compilation.Policy is not { } policy)
                {
                    result = new PolicyReloadResult(PolicyReloadStatus.Failed, Source.SourceName, current, compilation, failure);
                }
                else
                {
                    var version = new PolicyVersion(hash, timeProvider.GetUtcNow());
                    var (removedRoles, removedDenies) = authorizer.HasPolicy ? Removed(authorizer.Policy, policy) : ([], []);
                    authorizer.Update(policy, version);
                    result = new PolicyReloadResult(PolicyReloadStatus.Loaded, Source.SourceName, version, compilation, null, removedRoles, removedDenies);
                }
            }
        }

        lastResult = result;
        Log(result, current, initial);
        if (!initial)
        {
            instruments?.RecordReload(result.Status);
            if (result.Status == PolicyReloadStatus.Failed)
            {
                onReloadFailed?.Invoke(result);
                ReloadFailed?.Invoke(this, result);
            }
            else if (result.Status == PolicyReloadStatus.Loaded)
            {
                Reloaded?.Invoke(this, result);
            }
        }

        return result;
    }

    // The log events of a load: logged before the handlers run, so a handler that throws cannot hide them.
    private void Log(PolicyReloadResult result, PolicyVersion previous, bool initial)
    {
        string source = Source.SourceName;
        switch (result.Status)
        {
            case PolicyReloadStatus.Loaded when initial:
                AiRbacLog.PolicyLoaded(logger, source, result.Version.ContentHash, result.Version.LoadedAt);
                AiRbacLog.Diagnostics(logger, result.Diagnostics); // warnings
                break;
            case PolicyReloadStatus.Loaded:
                AiRbacLog.PolicyReloaded(logger, source, result.Version.ContentHash, previous.ContentHash, result.RemovedRoles.Count, result.RemovedDenies.Count);
                if (result.RemovedRoles.Count > 0 || result.RemovedDenies.Count > 0)
                {
                    AiRbacLog.PolicyReloadRemovedRules(
                        logger, source, result.Version.ContentHash, string.Join(", ", result.RemovedRoles), string.Join("; ", result.RemovedDenies));
                }

                AiRbacLog.Diagnostics(logger, result.Diagnostics);
                break;
            case PolicyReloadStatus.Unchanged:
                AiRbacLog.PolicyReloadUnchanged(logger, source, result.Version.ContentHash);
                break;
            default:
                int errors = result.Diagnostics.Count(d => d.IsError);
                if (initial && !shadow)
                {
                    AiRbacLog.PolicyLoadFailed(logger, source, errors, AiRbacLog.FirstError(result), result.Exception);
                }
                else
                {
                    AiRbacLog.PolicyReloadFailed(logger, source, errors, result.Version.ContentHash, AiRbacLog.FirstError(result), result.Exception);
                }

                AiRbacLog.Diagnostics(logger, result.Diagnostics);
                break;
        }
    }

    // A periodic read that fails is logged once per reason (a vanished file is not logged every tick); a read that
    // succeeds re-arms it.
    private void LogPollRead(SourceBytes read, string seen)
    {
        if (read.Bytes is not null)
        {
            lastPollFailure = null;
            return;
        }

        if (seen == lastPollFailure)
        {
            return;
        }

        lastPollFailure = seen;
        string reason = read.Diagnostics.Count > 0 ? string.Join("; ", read.Diagnostics.Select(d => d.Message)) : read.Exception?.Message ?? "unknown";
        AiRbacLog.PolicyUnreadable(logger, Source.SourceName, reason, authorizer.Version.ContentHash);
    }

    // What the new policy no longer restricts: the roles (by id) it no longer declares, and the denies each role of the
    // old policy declared that the same role (by id) no longer declares.
    private static (List<string> Roles, List<RemovedDeny> Denies) Removed(CompiledPolicy before, CompiledPolicy after)
    {
        var roles = new List<string>();
        var denies = new List<RemovedDeny>();
        var kept = new Dictionary<string, RoleInfo>(StringComparer.Ordinal);
        foreach (var role in after.Roles)
        {
            kept.TryAdd(role.Id, role);
        }

        foreach (var role in before.Roles)
        {
            kept.TryGetValue(role.Id, out var now);
            if (now is null)
            {
                roles.Add(role.Name);
            }

            foreach (var deny in role.Deny)
            {
                if (now is null || !now.Deny.Any(d => d.Text == deny.Text))
                {
                    denies.Add(new RemovedDeny(role.Name, deny.Text));
                }
            }
        }

        return (roles, denies);
    }

    // A loader or compiler bug must not leave a reload unreported: it becomes a failed reload (the last good policy stays).
    // The policy is loaded and compiled by the one load path, YamlPolicy.
    private (PolicyCompilation Compilation, Exception? Failure) TryCompile(byte[] bytes)
    {
        try
        {
            using var content = new MemoryStream(bytes, writable: false);
            return (YamlPolicy.Compile(content, Source.SourceName, compilerOptions, limits), null);
        }
#pragma warning disable CA1031 // Reason: any exception while loading a candidate policy means that policy is rejected; it is reported with the result.
        catch (Exception e) when (e is not OutOfMemoryException)
#pragma warning restore CA1031
        {
            var problem = PolicyDiagnostic.Error(
                DiagnosticCodes.YamlSyntax,
                $"the policy could not be loaded: {e.GetType().Name}: {e.Message}",
                new Model.SourceLocation(Source.SourceName, 0, 0));
            return (PolicyCompilation.Failed([problem]), e);
        }
    }
}
