namespace AiRbac.Cli;

/// <summary>
/// A clock that reads the instant it was last set to: <c>airbac check --now</c> decides as of one time, and
/// <c>airbac test</c> sets it before each case (a policy reads its clock per decision, docs/design.md, "Pure core").
/// </summary>
internal sealed class FixedClock(DateTimeOffset now) : TimeProvider
{
    /// <summary>The instant the clock reads.</summary>
    public DateTimeOffset Now { get; set; } = now;

    /// <inheritdoc/>
    public override DateTimeOffset GetUtcNow() => Now.ToUniversalTime();
}
