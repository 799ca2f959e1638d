namespace AiRbac.Review;

/// <summary>Where the review learned that a subject holds a role.</summary>
[Flags]
public enum RoleSource
{
    /// <summary>Not known (never set on a reported value).</summary>
    None = 0,

    /// <summary>The policy's <c>bindings</c> (directly or through a group), not expired at the review time.</summary>
    Binding = 1,

    /// <summary>The <c>roles</c> field of an audit record for the subject.</summary>
    Audit = 2,
}

/// <summary>The verdict on one grant.</summary>
public enum GrantStatus
{
    /// <summary>Used in the window.</summary>
    Used = 0,

    /// <summary>Never used, or last used before the window began, and the log is complete over the window: a candidate for removal.</summary>
    Unused = 1,

    /// <summary>
    /// Not seen in the window, but records the log lost may fall in the window (loss markers reaching into it, or a
    /// torn final line): the grant may have been used, so it is not called unused.
    /// </summary>
    NotSeenLogIncomplete = 2,
}

/// <summary>One grant and when it was last used, for a role or for one subject.</summary>
public sealed class GrantUsage
{
    internal GrantUsage(string role, string rule, DateTimeOffset? lastUsed, long usesInWindow, GrantStatus status)
    {
        Role = role;
        Rule = rule;
        LastUsed = lastUsed;
        UsesInWindow = usesInWindow;
        Status = status;
    }

    /// <summary>The role that declares the grant, by name.</summary>
    public string Role { get; }

    /// <summary>The grant, as the canonical <c>ACTION on RESOURCE</c> text.</summary>
    public string Rule { get; }

    /// <summary>The time of the latest allowed decision that this grant decided, or <see langword="null"/> if none is in the log.</summary>
    public DateTimeOffset? LastUsed { get; }

    /// <summary>
    /// How many allowed decisions in the window this grant decided. A coalesced record counts in full when its last
    /// decision is in the window.
    /// </summary>
    public long UsesInWindow { get; }

    /// <summary>The verdict: used, unused, or not seen while the log is incomplete over the window.</summary>
    public GrantStatus Status { get; }

    /// <summary>
    /// Whether the grant is unused: never used or last used before the window began, with no record lost in the window
    /// (<see cref="Status"/> is <see cref="GrantStatus.Unused"/>).
    /// </summary>
    public bool Unused => Status == GrantStatus.Unused;
}

/// <summary>A loss marker of the audit log: decisions made between two times that are missing from the log.</summary>
public sealed class AuditGap
{
    internal AuditGap(long lineNumber, long lost, DateTimeOffset from, DateTimeOffset to, bool inWindow)
    {
        LineNumber = lineNumber;
        Lost = lost;
        From = from;
        To = to;
        InWindow = inWindow;
    }

    /// <summary>The marker's line in the log.</summary>
    public long LineNumber { get; }

    /// <summary>How many decisions are missing.</summary>
    public long Lost { get; }

    /// <summary>The decision time of the first missing record (<c>first_time</c>).</summary>
    public DateTimeOffset From { get; }

    /// <summary>The decision time of the last missing record (<c>last_time</c>).</summary>
    public DateTimeOffset To { get; }

    /// <summary>Whether the gap reaches into the review window (<see cref="To"/> at or after its start).</summary>
    public bool InWindow { get; }
}

/// <summary>A subject that holds a role.</summary>
public sealed class RoleHolder
{
    internal RoleHolder(string subject, RoleSource source, IReadOnlyList<string> through)
    {
        Subject = subject;
        Source = source;
        Through = through;
    }

    /// <summary>
    /// When the subject holds the role only through inheritance from its bindings: the bound roles that bring it
    /// (<see cref="RoleHolding.Through"/>), shown as <c>kid (through child)</c>; empty when a binding or an audit record names the role.
    /// </summary>
    public IReadOnlyList<string> Through { get; }

    /// <summary>The subject id.</summary>
    public string Subject { get; }

    /// <summary>Where the review learned it.</summary>
    public RoleSource Source { get; }
}

/// <summary>A role's grants with their use, and who holds it.</summary>
public sealed class RoleReview
{
    internal RoleReview(string name, string id, IReadOnlyList<GrantUsage> grants, IReadOnlyList<RoleHolder> holders, IReadOnlyList<string>? conditions = null,
        TimeSpan? maxActivation = null)
    {
        Name = name;
        Id = id;
        Grants = grants;
        Holders = holders;
        Conditions = conditions ?? [];
        MaxActivation = maxActivation;
    }

    /// <summary>The role's conditions (docs/policy-language.md, section 11), as written; empty for none.</summary>
    public IReadOnlyList<string> Conditions { get; }

    /// <summary>For a break-glass role (section 12), the longest activation; otherwise <see langword="null"/>.</summary>
    public TimeSpan? MaxActivation { get; }

    /// <summary>The role name.</summary>
    public string Name { get; }

    /// <summary>The role id.</summary>
    public string Id { get; }

    /// <summary>The role's own grants (not inherited ones), in file order.</summary>
    public IReadOnlyList<GrantUsage> Grants { get; }

    /// <summary>The subjects that hold the role directly (not through a role that inherits it), by id, in ordinal order.</summary>
    public IReadOnlyList<RoleHolder> Holders { get; }
}

/// <summary>A role a subject holds.</summary>
public sealed class HeldRole
{
    internal HeldRole(string role, RoleSource source, bool declared)
    {
        Role = role;
        Source = source;
        Declared = declared;
    }

    /// <summary>The role name (or the text given, when the policy does not declare it).</summary>
    public string Role { get; }

    /// <summary>Where the review learned it.</summary>
    public RoleSource Source { get; }

    /// <summary>Whether the policy declares the role.</summary>
    public bool Declared { get; }
}

/// <summary>One subject: the roles it holds and the use it made of their grants.</summary>
public sealed class SubjectReview
{
    internal SubjectReview(string id, string? kind, IReadOnlyList<HeldRole> roles, IReadOnlyList<GrantUsage> grants, DateTimeOffset? lastSeen)
    {
        Id = id;
        Kind = kind;
        Roles = roles;
        Grants = grants;
        LastSeen = lastSeen;
    }

    /// <summary>The subject id.</summary>
    public string Id { get; }

    /// <summary>The kind (<c>user</c>, <c>service</c>, <c>agent</c>) from the bindings or the latest audit record that gave one, if any.</summary>
    public string? Kind { get; }

    /// <summary>The roles held, in ordinal order.</summary>
    public IReadOnlyList<HeldRole> Roles { get; }

    /// <summary>
    /// The grants of the held roles and of their ancestors, with this subject's use of each, then any other grant the
    /// subject used (for instance through a role the audit records did not list).
    /// </summary>
    public IReadOnlyList<GrantUsage> Grants { get; }

    /// <summary>The time of the subject's latest audit record, or <see langword="null"/> if it has none.</summary>
    public DateTimeOffset? LastSeen { get; }
}

/// <summary>Why a role is high-risk.</summary>
public sealed class HighRiskReason
{
    internal HighRiskReason(string code, string via, string detail)
    {
        Code = code;
        Via = via;
        Detail = detail;
    }

    /// <summary>
    /// A stable snake_case code, as <see cref="CompiledPolicy.RiskOf(RoleInfo)"/> defines them: <c>all_access</c> (a grant of every action on every resource, <see cref="RuleInfo.IsEverything"/>),
    /// <c>highest_ceiling</c> (a ceiling at the highest tier), <c>admin_name</c> (the name contains "admin"),
    /// <c>wildcard_action</c> (a grant whose action pattern names every action, <see cref="RuleInfo.IsEveryAction"/>:
    /// <c>*</c>, <c>**</c> or <c>*:*</c>, on less than every resource), <c>clearance</c> (a tag clearance; the detail is the tag),
    /// <c>break_glass</c> (a break-glass role; the detail is its <c>max_activation</c>).
    /// </summary>
    public string Code { get; }

    /// <summary>The role that causes it: the role itself or an ancestor.</summary>
    public string Via { get; }

    /// <summary>The grant, tier or name concerned.</summary>
    public string Detail { get; }
}

/// <summary>A high-risk role and its holders.</summary>
public sealed class HighRiskRole
{
    internal HighRiskRole(string role, IReadOnlyList<HighRiskReason> reasons, IReadOnlyList<RoleHolder> holders)
    {
        Role = role;
        Reasons = reasons;
        Holders = holders;
    }

    /// <summary>The role name.</summary>
    public string Role { get; }

    /// <summary>Why it is high-risk.</summary>
    public IReadOnlyList<HighRiskReason> Reasons { get; }

    /// <summary>Who holds it directly.</summary>
    public IReadOnlyList<RoleHolder> Holders { get; }
}

/// <summary>
/// One break-glass use from the audit log (docs/policy-language.md, section 12): a decision made through an activated
/// break-glass role, with who activated it, when and why.
/// </summary>
public sealed class BreakGlassEntry
{
    internal BreakGlassEntry(long line, DateTimeOffset time, string subject, IReadOnlyList<string> onBehalfOf, string action, string resource,
        bool allowed, string reason, string? role, string breakGlassRole, string justification, string activatedBy, DateTimeOffset activatedAt, long count)
    {
        Line = line;
        Time = time;
        Subject = subject;
        OnBehalfOf = onBehalfOf;
        Action = action;
        Resource = resource;
        Allowed = allowed;
        Reason = reason;
        Role = role;
        BreakGlassRole = breakGlassRole;
        Justification = justification;
        ActivatedBy = activatedBy;
        ActivatedAt = activatedAt;
        Count = count;
    }

    /// <summary>The record's line in the log.</summary>
    public long Line { get; }

    /// <summary>When the decision was made.</summary>
    public DateTimeOffset Time { get; }

    /// <summary>The subject that asked.</summary>
    public string Subject { get; }

    /// <summary>The ids down its on-behalf-of chain.</summary>
    public IReadOnlyList<string> OnBehalfOf { get; }

    /// <summary>The action.</summary>
    public string Action { get; }

    /// <summary>The resource.</summary>
    public string Resource { get; }

    /// <summary>Whether it was allowed.</summary>
    public bool Allowed { get; }

    /// <summary>The snake_case reason.</summary>
    public string Reason { get; }

    /// <summary>The deciding role, if the record names one.</summary>
    public string? Role { get; }

    /// <summary>The activated break-glass role.</summary>
    public string BreakGlassRole { get; }

    /// <summary>The activation's justification.</summary>
    public string Justification { get; }

    /// <summary>The subject that activated it.</summary>
    public string ActivatedBy { get; }

    /// <summary>When the activation started.</summary>
    public DateTimeOffset ActivatedAt { get; }

    /// <summary>How many decisions the record stands for (the sink never coalesces break-glass decisions, so 1).</summary>
    public long Count { get; }
}

/// <summary>An approval rule of the policy (docs/policy-language.md, section 13) and who can approve it at the review time.</summary>
public sealed class ApprovalRuleReview
{
    internal ApprovalRuleReview(ApprovalRuleInfo rule, IReadOnlyList<string> approvers)
    {
        Name = rule.Name;
        Match = rule.Match;
        ApproverRoles = [.. rule.Approvers.Select(r => r.Name)];
        Count = rule.Count;
        ValidFor = rule.ValidFor;
        Approvers = approvers;
    }

    /// <summary>The rule's name.</summary>
    public string Name { get; }

    /// <summary>The requests it matches, <c>ACTION on RESOURCE</c>.</summary>
    public IReadOnlyList<string> Match { get; }

    /// <summary>The roles whose holders may approve.</summary>
    public IReadOnlyList<string> ApproverRoles { get; }

    /// <summary>How many distinct approvers a request needs.</summary>
    public int Count { get; }

    /// <summary>How long an approval counts.</summary>
    public TimeSpan ValidFor { get; }

    /// <summary>The subjects of the policy's bindings that can approve it (<see cref="CompiledPolicy.Approvers"/>); fewer than <see cref="Count"/> means no request it matches can be allowed.</summary>
    public IReadOnlyList<string> Approvers { get; }
}

/// <summary>A subject whose roles break a <c>mutually_exclusive</c> constraint.</summary>
public sealed class ExclusionBreach
{
    internal ExclusionBreach(string subject, IReadOnlyList<string> set, IReadOnlyList<string> heldFromSet, RoleSource source)
    {
        Subject = subject;
        Set = set;
        HeldFromSet = heldFromSet;
        Source = source;
    }

    /// <summary>The subject id.</summary>
    public string Subject { get; }

    /// <summary>The roles of the <c>mutually_exclusive</c> entry, by name, as listed.</summary>
    public IReadOnlyList<string> Set { get; }

    /// <summary>The roles of the entry the subject holds (directly or through inheritance), two or more.</summary>
    public IReadOnlyList<string> HeldFromSet { get; }

    /// <summary>Where the roles involved were learned.</summary>
    public RoleSource Source { get; }
}

/// <summary>The result of an access review. Immutable; <see cref="ToMarkdown"/> and <see cref="ToJson"/> render it.</summary>
public sealed partial class AccessReviewReport
{
    internal AccessReviewReport(string policySource, string auditSource, DateTimeOffset now, TimeSpan window, AuditSummary audit,
        Internal.AuditLosses losses, IReadOnlyList<RoleReview> roles, IReadOnlyList<SubjectReview> subjects,
        IReadOnlyList<HighRiskRole> highRiskRoles, IReadOnlyList<ExclusionBreach> exclusionBreaches, IReadOnlyList<BreakGlassEntry>? breakGlassUses = null,
        long breakGlassUseCount = 0, IReadOnlyList<ApprovalRuleReview>? approvalRules = null)
    {
        BreakGlassUses = breakGlassUses ?? [];
        BreakGlassUseCount = breakGlassUseCount;
        ApprovalRules = approvalRules ?? [];
        PolicySource = policySource;
        AuditSource = auditSource;
        Now = now;
        Window = window;
        AuditRecords = audit.Records;
        AllowedRecords = audit.Allowed;
        UnmatchedAllowedRecords = audit.Unmatched;
        FirstRecord = audit.First;
        LastRecord = audit.Last;
        LostRecords = losses.Lost;
        LossMarkers = losses.Markers;
        TornLine = losses.TornLine;
        LostRecordsInWindow = losses.LostInWindow;
        LostInWindowFrom = losses.InWindowFrom;
        LostInWindowTo = losses.InWindowTo;
        Gaps = losses.Gaps;
        Roles = roles;
        Subjects = subjects;
        HighRiskRoles = highRiskRoles;
        ExclusionBreaches = exclusionBreaches;
    }

    /// <summary>The policy's source name.</summary>
    public string PolicySource { get; }

    /// <summary>The audit log's name, as given.</summary>
    public string AuditSource { get; }

    /// <summary>The review time.</summary>
    public DateTimeOffset Now { get; }

    /// <summary>The review window: a grant last used before <see cref="Since"/> is unused.</summary>
    public TimeSpan Window { get; }

    /// <summary>The start of the window: <see cref="Now"/> minus <see cref="Window"/>.</summary>
    public DateTimeOffset Since => Now - Window;

    /// <summary>The number of audit records read.</summary>
    public long AuditRecords { get; }

    /// <summary>The number of audit records with <c>allowed: true</c>.</summary>
    public long AllowedRecords { get; }

    /// <summary>Allowed records whose role and rule name no grant of the policy (decided by an older policy version).</summary>
    public long UnmatchedAllowedRecords { get; }

    /// <summary>The earliest record time, if any record was read.</summary>
    public DateTimeOffset? FirstRecord { get; }

    /// <summary>The latest record time, if any record was read.</summary>
    public DateTimeOffset? LastRecord { get; }

    /// <summary>Whether the log misses no record: no loss marker and no torn final line.</summary>
    public bool AuditLogComplete => LostRecords == 0;

    /// <summary>
    /// Whether records may be missing from the window: a loss marker reaches into it or the last line is torn. Then a
    /// grant not seen in the window is <see cref="GrantStatus.NotSeenLogIncomplete"/>, never unused.
    /// </summary>
    public bool AuditLogIncompleteOverWindow => LostRecordsInWindow > 0;

    /// <summary>The decisions missing from the log: the sum of the loss markers' counts, plus one for a torn final line.</summary>
    public long LostRecords { get; }

    /// <summary>The number of loss markers (<c>"event":"records_lost"</c>) in the log.</summary>
    public long LossMarkers { get; }

    /// <summary>The line number of a torn final line (no newline, not valid JSON: a write cut off), or <see langword="null"/>.</summary>
    public long? TornLine { get; }

    /// <summary>The missing decisions that may fall in the window: those of markers whose <c>last_time</c> is at or after <see cref="Since"/>, plus a torn line (time unknown).</summary>
    public long LostRecordsInWindow { get; }

    /// <summary>The earliest <c>first_time</c> of the markers that reach into the window, or <see langword="null"/>.</summary>
    public DateTimeOffset? LostInWindowFrom { get; }

    /// <summary>The latest <c>last_time</c> of the markers that reach into the window, or <see langword="null"/>.</summary>
    public DateTimeOffset? LostInWindowTo { get; }

    /// <summary>The first loss markers of the log, in log order, at most 20 (<see cref="LossMarkers"/> counts them all).</summary>
    public IReadOnlyList<AuditGap> Gaps { get; }

    /// <summary>Every role of the policy, in file order.</summary>
    public IReadOnlyList<RoleReview> Roles { get; }

    /// <summary>Every subject bound in the policy or seen in the audit log, in ordinal order of id.</summary>
    public IReadOnlyList<SubjectReview> Subjects { get; }

    /// <summary>The high-risk roles, in file order.</summary>
    public IReadOnlyList<HighRiskRole> HighRiskRoles { get; }

    /// <summary>The subjects that break a <c>mutually_exclusive</c> constraint, by subject then constraint.</summary>
    public IReadOnlyList<ExclusionBreach> ExclusionBreaches { get; }

    /// <summary>
    /// Every break-glass use in the log (docs/policy-language.md, section 12), in log order, whatever the window: at most
    /// the first 10,000 (<see cref="BreakGlassUseCount"/> counts them all).
    /// </summary>
    public IReadOnlyList<BreakGlassEntry> BreakGlassUses { get; }

    /// <summary>How many break-glass decisions the log holds.</summary>
    public long BreakGlassUseCount { get; }

    /// <summary>The policy's approval rules (section 13), in file order, with who can approve each.</summary>
    public IReadOnlyList<ApprovalRuleReview> ApprovalRules { get; }
}

/// <summary>Counts gathered while reading the audit log.</summary>
internal readonly record struct AuditSummary(long Records, long Allowed, long Unmatched, DateTimeOffset? First, DateTimeOffset? Last);
