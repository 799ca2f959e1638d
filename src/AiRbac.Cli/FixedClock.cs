namespace AiRbac.Cli;

/// <summary>A clock that always reads one instant: <c>airbac check --now</c> decides as of that time.</summary>
internal sealed class FixedClock(DateTimeOffset now) : TimeProvider
{
    /// <inheritdoc/>
    public override DateTimeOffset GetUtcNow() => now.ToUniversalTime();
}
