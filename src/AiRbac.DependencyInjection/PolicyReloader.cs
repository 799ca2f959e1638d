using System.Security.Cryptography;
using AiRbac.Diagnostics;
using AiRbac.Yaml;

namespace AiRbac;

/// <summary>
/// Loads the policy into the <see cref="PolicyAuthorizer"/>, watches a file source and reloads it when it changes
/// (debounced), and swaps the compiled policy atomically. A reload that fails keeps the last good policy answering
/// and is reported (<see cref="ReloadFailed"/>, <see cref="AiRbacOptions.OnReloadFailed"/> and a metric).
/// Registered as a singleton by <c>AddAiRbac</c>; thread-safe.
/// </summary>
public sealed class PolicyReloader
{
    private readonly PolicyAuthorizer authorizer;
    private readonly YamlLoadLimits limits;
    private readonly PolicyCompilerOptions? compilerOptions;
    private readonly TimeProvider timeProvider;
    private readonly AiRbacInstruments? instruments;
    private readonly Action<PolicyReloadResult>? onReloadFailed;
    private readonly TimeSpan debounce;
    private readonly SemaphoreSlim gate = new(1, 1); // one load at a time, so an older read never overwrites a newer one
    private readonly Lock watchGate = new();
    private FileSystemWatcher? watcher;
    private ITimer? debounceTimer;
    private volatile bool disposed;
    private volatile PolicyReloadResult? lastResult;

    internal PolicyReloader(PolicyAuthorizer authorizer, AiRbacOptions options, TimeProvider timeProvider, AiRbacInstruments? instruments)
    {
        this.authorizer = authorizer;
        Source = options.Source ?? throw new InvalidOperationException("AddAiRbac: no policy source was configured (set AiRbacOptions.Source).");
        limits = options.LoadLimits ?? YamlLoadLimits.Default;
        compilerOptions = options.CompilerOptions;
        this.timeProvider = timeProvider;
        this.instruments = instruments;
        onReloadFailed = options.OnReloadFailed;
        debounce = options.ReloadDebounce < TimeSpan.Zero ? TimeSpan.Zero : options.ReloadDebounce;
    }

    /// <summary>Raised after a reload swapped in a new policy. Runs on the thread that reloaded.</summary>
    public event EventHandler<PolicyReloadResult>? Reloaded;

    /// <summary>
    /// Raised after a reload failed; the last good policy keeps answering. Runs on the thread that reloaded. During
    /// reloads started by the file watcher, exceptions thrown by handlers are discarded.
    /// </summary>
    public event EventHandler<PolicyReloadResult>? ReloadFailed;

    /// <summary>Where the policy comes from.</summary>
    public AiRbacPolicySource Source { get; }

    /// <summary>The version of the policy that answers now (content hash and load time).</summary>
    public PolicyVersion Version => authorizer.Version;

    /// <summary>The outcome of the last load or reload.</summary>
    public PolicyReloadResult? LastResult => lastResult;

    /// <summary>Whether the file source is being watched.</summary>
    public bool IsWatching => watcher is not null;

    /// <summary>Reads and compiles the source now and, when it compiles, swaps it in.</summary>
    /// <returns>The outcome; a failure keeps the last good policy and is also reported as an event and a metric.</returns>
    public PolicyReloadResult Reload()
    {
        gate.Wait();
        try
        {
            return Apply(Source.Read(limits), initial: false);
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
            var bytes = await Source.ReadAsync(limits, cancellationToken).ConfigureAwait(false);
            return Apply(bytes, initial: false);
        }
        finally
        {
            gate.Release();
        }
    }

    // The start-up load: a policy that fails here fails the start, with every diagnostic in the exception.
    internal void LoadInitial()
    {
        gate.Wait();
        try
        {
            var result = Apply(Source.Read(limits), initial: true);
            if (!result.Succeeded)
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
        string? path = Source.FilePath;
        string? directory = path is null ? null : Path.GetDirectoryName(path);
        if (path is null || directory is null)
        {
            return;
        }

        lock (watchGate)
        {
            if (disposed || watcher is not null)
            {
                return;
            }

            debounceTimer = timeProvider.CreateTimer(OnDebounced, null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);

            // Watch the directory, not the file: editors and deploy tools replace a file by renaming another onto
            // it, which a watch on the file itself would lose. A rename matches when its old or new name is the file.
            watcher = new FileSystemWatcher(directory, Path.GetFileName(path))
            {
                NotifyFilter = NotifyFilters.FileName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.CreationTime,
                IncludeSubdirectories = false,
            };
            watcher.Changed += OnFileEvent;
            watcher.Created += OnFileEvent;
            watcher.Deleted += OnFileEvent;
            watcher.Renamed += OnFileEvent;
            watcher.Error += OnWatcherError; // e.g. an overflowing event buffer: reload to be sure
            watcher.EnableRaisingEvents = true;
        }
    }

    internal void Dispose()
    {
        lock (watchGate)
        {
            disposed = true;
            watcher?.Dispose();
            watcher = null;
            debounceTimer?.Dispose();
            debounceTimer = null;
        }
    }

    private void OnFileEvent(object sender, FileSystemEventArgs e) => ScheduleReload();

    private void OnWatcherError(object sender, ErrorEventArgs e) => ScheduleReload();

    private void ScheduleReload()
    {
        lock (watchGate)
        {
            // Every event pushes the reload back: it runs once the file has been quiet for the debounce time.
            debounceTimer?.Change(debounce, Timeout.InfiniteTimeSpan);
        }
    }

    private void OnDebounced(object? state)
    {
        if (disposed)
        {
            return;
        }

        try
        {
            Reload();
        }
#pragma warning disable CA1031 // Reason: a timer callback that throws ends the process; a failed reload is already reported through events and metrics, and handler exceptions have no caller to reach.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    private PolicyReloadResult Apply(SourceBytes read, bool initial)
    {
        var current = authorizer.Version;
        PolicyReloadResult result;
        if (read.Bytes is null)
        {
            result = new PolicyReloadResult(PolicyReloadStatus.Failed, Source.SourceName, current, read.Diagnostics, read.Exception);
        }
        else
        {
            string hash = Convert.ToHexStringLower(SHA256.HashData(read.Bytes));
            if (authorizer.HasPolicy && hash == current.ContentHash)
            {
                result = new PolicyReloadResult(PolicyReloadStatus.Unchanged, Source.SourceName, current, [], null);
            }
            else
            {
                var (policy, diagnostics, failure) = TryCompile(read.Bytes);
                if (policy is null)
                {
                    result = new PolicyReloadResult(PolicyReloadStatus.Failed, Source.SourceName, current, diagnostics, failure);
                }
                else
                {
                    var version = new PolicyVersion(hash, timeProvider.GetUtcNow());
                    authorizer.Update(policy, version);
                    result = new PolicyReloadResult(PolicyReloadStatus.Loaded, Source.SourceName, version, diagnostics, null);
                }
            }
        }

        lastResult = result;
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

    // A loader or compiler bug must not leave a reload unreported: it becomes a failed reload (the last good policy stays).
    private (CompiledPolicy? Policy, IReadOnlyList<PolicyDiagnostic> Diagnostics, Exception? Failure) TryCompile(byte[] bytes)
    {
        try
        {
            var (policy, diagnostics) = Compile(bytes);
            return (policy, diagnostics, null);
        }
#pragma warning disable CA1031 // Reason: any exception while loading a candidate policy means that policy is rejected; it is reported with the result.
        catch (Exception e) when (e is not OutOfMemoryException)
#pragma warning restore CA1031
        {
            return (null, [], e);
        }
    }

    private (CompiledPolicy? Policy, IReadOnlyList<PolicyDiagnostic> Diagnostics) Compile(byte[] bytes)
    {
        using var content = new MemoryStream(bytes, writable: false);
        var loaded = YamlPolicyLoader.Load(content, Source.SourceName, limits);
        if (loaded.Document is null)
        {
            return (null, loaded.Diagnostics);
        }

        var compiled = PolicyCompiler.Compile(loaded.Document, compilerOptions);
        return loaded.Diagnostics.Count == 0
            ? (compiled.Policy, compiled.Diagnostics)
            : (compiled.Policy, [.. loaded.Diagnostics, .. compiled.Diagnostics]);
    }
}
