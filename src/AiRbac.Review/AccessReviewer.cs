using AiRbac.Diagnostics;
using AiRbac.Model;
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
    private readonly PolicyDocument? document;

    /// <summary>Creates a reviewer for a compiled policy and, optionally, the document it was compiled from.</summary>
    /// <param name="policy">The compiled policy.</param>
    /// <param name="document">
    /// The policy document, for its <c>bindings</c> (bound subjects and holders) and <c>constraints</c>
    /// (<c>mutually_exclusive</c>); without it only the audit log tells who holds what, and no breach is reported.
    /// </param>
    public AccessReviewer(CompiledPolicy policy, PolicyDocument? document = null)
    {
        ArgumentNullException.ThrowIfNull(policy);
        this.policy = policy;
        this.document = document;
    }

    /// <summary>Loads and compiles a YAML policy file for review.</summary>
    /// <param name="path">The policy file.</param>
    /// <param name="reviewer">The reviewer, when the policy has no error.</param>
    /// <param name="diagnostics">Every problem found (errors and warnings).</param>
    /// <returns>Whether the policy loaded without error.</returns>
    public static bool TryLoadFile(string path, out AccessReviewer? reviewer, out IReadOnlyList<PolicyDiagnostic> diagnostics)
    {
        ArgumentNullException.ThrowIfNull(path);
        reviewer = null;
        var loaded = YamlPolicyLoader.LoadFile(path);
        if (loaded.Document is null)
        {
            diagnostics = loaded.Diagnostics;
            return false;
        }

        var compiled = PolicyCompiler.Compile(loaded.Document);
        diagnostics = loaded.Diagnostics.Count == 0 ? compiled.Diagnostics : [.. loaded.Diagnostics, .. compiled.Diagnostics];
        if (compiled.Policy is null)
        {
            return false;
        }

        reviewer = new AccessReviewer(compiled.Policy, loaded.Document);
        return true;
    }

    /// <summary>Reviews access against an audit log read from <paramref name="auditLog"/> one line at a time.</summary>
    /// <param name="auditLog">The audit log: JSON Lines, one decision record per line (blank lines are skipped).</param>
    /// <param name="now">The review time; the window ends here.</param>
    /// <param name="window">How far back a use counts as recent (<see cref="ReviewDuration.Default"/> is 90 days); positive.</param>
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
        state.AddBindings(document, now);

        var reader = new AuditLogReader(auditLog);
        var losses = new AuditLosses(since);
        long records = 0, allowed = 0, unmatched = 0;
        DateTimeOffset? first = null, last = null;
        while (reader.Next() is { } record)
        {
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

        return state.Build(document, new AuditSummary(records, allowed, unmatched, first, last), losses, auditSource, now, window);
    }
}
