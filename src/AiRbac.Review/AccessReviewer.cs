using System.Diagnostics.CodeAnalysis;
using AiRbac.Review.Internal;
using AiRbac.Yaml;

namespace AiRbac.Review;

/// <summary>
/// Reviews access for a policy against a decision audit log: per role and per subject, the grants never or not
/// recently used (with their last use), the holders of high-risk roles, and the subjects whose roles break a
/// <c>mutually_exclusive</c> constraint. Immutable and thread-safe; each <see cref="Review"/> call streams its log.
/// </summary>
public sealed class AccessReviewer
{
    private readonly CompiledPolicy policy;

    /// <summary>The default review window: 90 days.</summary>
    internal static TimeSpan DefaultWindow { get; } = TimeSpan.FromDays(90);

    /// <summary>
    /// Creates a reviewer for a compiled policy. Who holds what (its <c>bindings</c>) and its <c>mutually_exclusive</c>
    /// constraints are read from the compiled policy, exactly as decisions apply them (kinds, scopes and expiry).
    /// </summary>
    /// <param name="policy">The compiled policy.</param>
    /// <exception cref="ArgumentNullException"><paramref name="policy"/> is <see langword="null"/>.</exception>
    public AccessReviewer(CompiledPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        this.policy = policy;
    }

    /// <summary>Loads and compiles a YAML policy file for review, through <see cref="YamlPolicy.CompileFile"/>.</summary>
    /// <param name="path">The policy file.</param>
    /// <param name="reviewer">The reviewer, when the policy has no error.</param>
    /// <param name="compilation">The compilation: every problem found (errors and warnings).</param>
    /// <returns>Whether the policy loaded without error.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="path"/> is <see langword="null"/>.</exception>
    public static bool TryLoadFile(string path, [NotNullWhen(true)] out AccessReviewer? reviewer, out PolicyCompilation compilation)
    {
        ArgumentNullException.ThrowIfNull(path);
        compilation = YamlPolicy.CompileFile(path);
        reviewer = compilation.Policy is { } policy ? new AccessReviewer(policy) : null;
        return reviewer is not null;
    }

    /// <summary>Reviews access against an audit log read from <paramref name="auditLog"/> one line at a time.</summary>
    /// <param name="auditLog">The audit log: JSON Lines, one decision record per line (blank lines are skipped).</param>
    /// <param name="now">The review time; the window ends here.</param>
    /// <param name="window">How far back a use counts as recent (<see cref="DefaultWindow"/> is 90 days); positive.</param>
    /// <param name="auditSource">The log's name for the report.</param>
    /// <returns>The report.</returns>
    /// <exception cref="AuditLogFormatException">A line is not a valid decision record (the exception names the line).</exception>
    public AccessReviewReport Review(TextReader auditLog, DateTimeOffset now, TimeSpan window, string auditSource = "audit log")
    {
        ArgumentNullException.ThrowIfNull(auditLog);
        ArgumentNullException.ThrowIfNull(auditSource);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(window, TimeSpan.Zero);
        var since = now - window;
        var state = new ReviewState(policy);
        state.AddBindings(now);

        var reader = new AuditLogReader(auditLog);
        var losses = new AuditLosses(since);
        long records = 0, allowed = 0, unmatched = 0;
        DateTimeOffset? first = null, last = null;
        while (reader.Next() is { } record)
        {
            if (record.Type == AuditLineType.Retrieval)
            {
                continue; // a filtered query names no deciding grant (docs/access-review.md, "Input: the audit log")
            }

            if (record.Type != AuditLineType.Decision)
            {
                losses.Add(record);
                continue;
            }

            // A coalesced record stands for Count identical decisions, the first at Time, the last at LastTime.
            records += record.Count;
            first = first is null || record.Time < first ? record.Time : first;
            last = last is null || record.LastTime > last ? record.LastTime : last;
            var subject = state.Subject(record.Subject);
            subject.See(record.LastTime, record.Kind);
            foreach (string role in record.Roles)
            {
                subject.Hold(state.RoleName(role), RoleSource.Audit);
            }

            if (record.BreakGlassRole is not null)
            {
                state.BreakGlass(record);
            }

            if (!record.Allowed)
            {
                continue;
            }

            allowed += record.Count;
            if (record.Role is null || record.Rule is null || !state.TryFindGrant(record.Role, record.Rule, out int grant))
            {
                unmatched += record.Count;
                continue;
            }

            // All of a coalesced record's uses count as in the window when its last one is (an upper bound when it straddles the start).
            long recent = record.LastTime >= since ? record.Count : 0;
            state.Grants[grant].Use(record.LastTime, recent);
            subject.Use(grant, record.LastTime, recent);
        }

        return state.Build(new AuditSummary(records, allowed, unmatched, first, last), losses, auditSource, now, window);
    }
}
