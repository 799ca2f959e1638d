namespace AiRbac.Cli;

/// <summary>
/// A clock that reads the instant it was last set to: <c>airbac check --now</c> decides as of one time, <c>airbac test</c>
/// sets it before each case and <c>airbac diff --audit</c> to each record's time before deciding it again (a policy reads
/// its clock per decision, docs/design.md, "Pure core").
/// </summary>
internal sealed class FixedClock(DateTimeOffset now) : TimeProvider
{
    /// <summary>The instant the clock reads.</summary>
    public DateTimeOffset Now { get; set; } = now;

    /// <inheritdoc/>
    public override DateTimeOffset GetUtcNow() => Now.ToUniversalTime();
}
