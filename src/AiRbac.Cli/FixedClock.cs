namespace AiRbac.Cli;

/// <summary>
/// A clock that reads the instant it is set to: <c>airbac check --now</c> decides as of that time, and
/// <c>airbac diff --audit</c> sets it to each record's time before deciding it again.
/// </summary>
internal sealed class FixedClock(DateTimeOffset now) : TimeProvider
{
    /// <summary>The instant the clock reads.</summary>
    public DateTimeOffset Now { get; set; } = now;

    /// <inheritdoc/>
    public override DateTimeOffset GetUtcNow() => Now.ToUniversalTime();
}
