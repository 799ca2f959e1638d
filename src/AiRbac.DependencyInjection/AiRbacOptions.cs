using AiRbac.Yaml;

namespace AiRbac;

/// <summary>Settings of <see cref="AiRbacServiceCollectionExtensions.AddAiRbac(Microsoft.Extensions.DependencyInjection.IServiceCollection, Action{AiRbacOptions})"/>.</summary>
public sealed class AiRbacOptions
{
    /// <summary>Where the policy comes from. Required: resolving the authorizer without a source fails.</summary>
    public AiRbacPolicySource? Source { get; set; }

    /// <summary>Whether a file source is watched and reloaded when it changes. Default <see langword="true"/>.</summary>
    public bool WatchFile { get; set; } = true;

    /// <summary>
    /// How long the file must stay quiet after a change before it is read, and the settle time between the two reads
    /// that must agree before a watched change is taken: editors and deploy tools write a file in several steps.
    /// Default 250 ms.
    /// </summary>
    public TimeSpan ReloadDebounce { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// How often a watched file is read and its content hash compared with the last one seen, to catch the changes no
    /// file system event reports (a directory above the file replaced, a watcher that lost events, a network file
    /// system). A difference starts the same checked reload as a file event. Default 5 s;
    /// <see cref="Timeout.InfiniteTimeSpan"/> or a value not above zero turns the periodic check off.
    /// </summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Whether a file source is taken only when a checksum file next to it, the policy path followed by
    /// <c>.sha256</c>, holds the SHA-256 of its content (hex, as the first word, as <c>sha256sum</c> writes it). Writers
    /// then write the policy, then its checksum: a policy whose writer died half-way never matches and is rejected.
    /// Applies to the start-up load and to every reload. Default <see langword="false"/>.
    /// </summary>
    public bool RequireChecksumFile { get; set; }

    /// <summary>Compiler options, or <see langword="null"/> for the defaults.</summary>
    public PolicyCompilerOptions? CompilerOptions { get; set; }

    /// <summary>YAML loading limits, or <see langword="null"/> for <see cref="YamlLoadLimits.Default"/>.</summary>
    public YamlLoadLimits? LoadLimits { get; set; }

    /// <summary>The JSON Lines audit log; off while <see cref="AuditLogOptions.Path"/> is <see langword="null"/>.</summary>
    public AuditLogOptions AuditLog { get; } = new();

    /// <summary>
    /// A candidate policy evaluated beside the live one on every decision, never changing it (shadow mode); off while
    /// neither <see cref="ShadowPolicyOptions.Source"/> nor <see cref="ShadowPolicyOptions.PolicyFile"/> is set.
    /// </summary>
    public ShadowPolicyOptions Shadow { get; } = new();

    /// <summary>Whether the <see cref="AiRbacMetrics"/> instruments are published. Default <see langword="true"/>.</summary>
    public bool EnableMetrics { get; set; } = true;

    /// <summary>
    /// Called when a reload fails (the last good policy keeps answering), with every diagnostic. Runs on the thread
    /// that reloaded: the watcher's, or the caller's of <see cref="PolicyReloader.Reload"/>.
    /// </summary>
    public Action<PolicyReloadResult>? OnReloadFailed { get; set; }

    /// <summary>
    /// Called for every break-glass decision (docs/policy-language.md, section 12: a decision made through an activated
    /// break-glass role), on the thread that called <c>Authorize</c>, after the decision: alert from here (a pager, a
    /// ticket, a chat message). Keep it short or hand the work off: it runs on the request path. An exception it throws is
    /// logged (event <c>BreakGlassHandlerFailed</c>) and never reaches the caller. Every such decision is also logged as the
    /// warning event <c>BreakGlassDecision</c> and counted by the metric <c>airbac.break_glass.decisions</c>, with or without it.
    /// </summary>
    public Action<BreakGlassUse>? OnBreakGlass { get; set; }

    /// <summary>
    /// The policy file path, for configuration (<c>AiRbac:PolicyFile</c>): used, as
    /// <see cref="AiRbacPolicySource.FromFile"/>, when <see cref="Source"/> is not set. A relative path is taken from
    /// the host's content root when an <c>IHostEnvironment</c> is registered (the generic host), else from the current
    /// directory. Setting both is an options validation error.
    /// </summary>
    public string? PolicyFile { get; set; }

    /// <summary>
    /// Whether decisions are recorded on the <c>AiRbac</c> <see cref="System.Diagnostics.ActivitySource"/>
    /// (<see cref="AiRbacTracing"/>): a span per denied decision while a listener samples it. Default <see langword="true"/>;
    /// with no listener attached it costs one check per decision and allocates nothing.
    /// </summary>
    public bool EnableTracing { get; set; } = true;

    /// <summary>
    /// Whether allowed decisions are recorded too, when the caller's current activity is recorded (sampled).
    /// Default <see langword="false"/>: only denials.
    /// </summary>
    public bool TraceAllowedDecisions { get; set; }

    /// <summary>
    /// Whether every decision is also written as a structured log event (category <c>AiRbac.Audit</c>, event
    /// <c>Decision</c>), for fleets that ship audit with their logging pipeline. Default <see langword="false"/>.
    /// Unlike the file audit log this allocates on every decision while the category is enabled.
    /// </summary>
    public bool LogDecisions { get; set; }
}

/// <summary>
/// Where the candidate policy of shadow mode comes from (configuration section <c>AiRbac:Shadow</c>). It is loaded,
/// watched and reloaded like the live policy, with the same settings (<see cref="AiRbacOptions.WatchFile"/>,
/// <see cref="AiRbacOptions.ReloadDebounce"/>, <see cref="AiRbacOptions.PollInterval"/>,
/// <see cref="AiRbacOptions.RequireChecksumFile"/>, <see cref="AiRbacOptions.CompilerOptions"/>,
/// <see cref="AiRbacOptions.LoadLimits"/>); a candidate that does not load never stops the start and never changes a
/// decision: it is logged (category <c>AiRbac.Shadow</c>) and makes the health check Degraded.
/// </summary>
public sealed class ShadowPolicyOptions
{
    /// <summary>Where the candidate policy comes from, or <see langword="null"/>.</summary>
    public AiRbacPolicySource? Source { get; set; }

    /// <summary>
    /// The candidate policy file, for configuration (<c>AiRbac:Shadow:PolicyFile</c>): used, as
    /// <see cref="AiRbacPolicySource.FromFile"/>, when <see cref="Source"/> is not set. A relative path is taken as
    /// <see cref="AiRbacOptions.PolicyFile"/> is. Setting both is an options validation error.
    /// </summary>
    public string? PolicyFile { get; set; }
}

/// <summary>What the audit log does when its buffer is full.</summary>
public enum AuditOverflow
{
    /// <summary>The new record is dropped and counted; <c>Authorize</c> never waits. The default.</summary>
    DropNewest,

    /// <summary>
    /// <c>Authorize</c> waits (spinning, then on a semaphore) until the writer frees a slot: no record is lost, but a
    /// slow disk stalls every caller. Choose it only where a complete log matters more than latency.
    /// </summary>
    Block,
}

/// <summary>Settings of the JSON Lines audit log (<see cref="JsonLinesAuditSink"/>).</summary>
public sealed class AuditLogOptions
{
    /// <summary>The log file path, or <see langword="null"/> for no audit log (the default with dependency injection).</summary>
    public string? Path { get; set; }

    /// <summary>How many records the buffer holds (rounded up to a power of two). Default 8192.</summary>
    public int Capacity { get; set; } = 8192;

    /// <summary>What to do when the buffer is full. Default <see cref="AuditOverflow.DropNewest"/>.</summary>
    public AuditOverflow Overflow { get; set; } = AuditOverflow.DropNewest;

    /// <summary>The size past which the file is rotated to <c>&lt;name&gt;.1</c>. Default 64 MiB.</summary>
    public long MaxFileBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>How many rotated files (<c>&lt;name&gt;.1</c> … <c>&lt;name&gt;.N</c>) are kept. Default 5; 0 keeps none.</summary>
    public int FilesKept { get; set; } = 5;

    /// <summary>
    /// How close together identical decisions must be to become one record with <c>count</c> and <c>last_time</c>
    /// (measured from the record's first decision). Default 1 s; <see cref="TimeSpan.Zero"/> writes every decision
    /// on its own line.
    /// </summary>
    public TimeSpan CoalesceWindow { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How many of a request's tags a record keeps (copied at hand-off into space reserved per slot); the number
    /// beyond it is written as <c>tags_omitted</c>. Default 16; at most 1024.
    /// </summary>
    public int MaxTags { get; set; } = 16;
}
