using AiRbac.Model;

namespace AiRbac.Review.Internal;

/// <summary>Last use and recent use count of one grant (overall or for one subject).</summary>
internal sealed class UseCounter
{
    public DateTimeOffset? Last { get; private set; }

    public long Recent { get; private set; }

    /// <summary>Counts <paramref name="recent"/> uses in the window, the last of them at <paramref name="time"/>.</summary>
    public void Use(DateTimeOffset time, long recent)
    {
        if (Last is null || time > Last)
        {
            Last = time;
        }

        Recent += recent;
    }
}

/// <summary>What the review knows about one subject. Its size depends on its roles and the grants it used, not on the log length.</summary>
internal sealed class SubjectState(string id)
{
    private DateTimeOffset? kindTime;

    public string Id { get; } = id;

    public string? BoundKind { get; set; }

    public string? AuditKind { get; private set; }

    public DateTimeOffset? LastSeen { get; private set; }

    public Dictionary<string, RoleSource> Roles { get; } = new(StringComparer.Ordinal);

    public Dictionary<int, UseCounter> Used { get; } = [];

    public void See(DateTimeOffset time, string? kind)
    {
        if (LastSeen is null || time > LastSeen)
        {
            LastSeen = time;
        }

        if (kind is not null && (kindTime is null || time >= kindTime))
        {
            AuditKind = kind;
            kindTime = time;
        }
    }

    public void Hold(string role, RoleSource source)
        => Roles[role] = Roles.TryGetValue(role, out var known) ? known | source : source;

    public void Use(int grant, DateTimeOffset time, long recent)
    {
        if (!Used.TryGetValue(grant, out var counter))
        {
            counter = new UseCounter();
            Used.Add(grant, counter);
        }

        counter.Use(time, recent);
    }
}

/// <summary>The review's working tables: every grant of the policy, and every subject met.</summary>
internal sealed class ReviewState
{
    private readonly CompiledPolicy policy;
    private readonly Dictionary<(string Role, string Rule), int> grantIndex = [];
    private readonly Dictionary<string, SubjectState> subjects = new(StringComparer.Ordinal);
    private bool incompleteOverWindow;

    public ReviewState(CompiledPolicy policy)
    {
        this.policy = policy;
        foreach (var role in policy.Roles)
        {
            foreach (string rule in role.Allow)
            {
                // A role may repeat a grant; usage goes to the first copy.
                grantIndex.TryAdd((role.Name, rule), GrantRoles.Count);
                GrantRoles.Add(role.Name);
                GrantRules.Add(rule);
                Grants.Add(new UseCounter());
            }
        }
    }

    public List<UseCounter> Grants { get; } = [];

    public List<string> GrantRoles { get; } = [];

    public List<string> GrantRules { get; } = [];

    /// <summary>The role's name when the policy declares it (by name or id), else the text as given.</summary>
    public string RoleName(string nameOrId) => policy.FindRole(nameOrId)?.Name ?? nameOrId;

    public bool TryFindGrant(string role, string rule, out int grant)
        => grantIndex.TryGetValue((RoleName(role), rule), out grant);

    public SubjectState Subject(string id)
    {
        if (!subjects.TryGetValue(id, out var subject))
        {
            subject = new SubjectState(id);
            subjects.Add(id, subject);
        }

        return subject;
    }

    /// <summary>Adds the subjects bound in the policy with their roles (their own and their groups'), skipping bindings expired at <paramref name="now"/>.</summary>
    public void AddBindings(PolicyDocument? document, DateTimeOffset now)
    {
        if (document is null)
        {
            return;
        }

        var groups = new Dictionary<string, GroupDefinition>(StringComparer.Ordinal);
        foreach (var group in document.Bindings.Groups)
        {
            groups.TryAdd(group.Name.Value, group);
        }

        foreach (var definition in document.Bindings.Subjects)
        {
            var subject = Subject(definition.Id.Value);
            subject.BoundKind ??= definition.Kind?.Value;
            var subjectExpires = definition.Expires?.Value;
            foreach (var binding in definition.Roles)
            {
                AddBinding(subject, binding, subjectExpires, now);
            }

            foreach (var groupName in definition.Groups)
            {
                if (groups.TryGetValue(groupName.Value, out var group))
                {
                    foreach (var binding in group.Roles)
                    {
                        AddBinding(subject, binding, subjectExpires, now);
                    }
                }
            }
        }
    }

    private void AddBinding(SubjectState subject, RoleBindingDefinition binding, string? subjectExpires, DateTimeOffset now)
    {
        // A binding is active while now is strictly before its expiry (docs/policy-language.md, section 4, step 3); the earlier expiry wins.
        foreach (string? expires in (ReadOnlySpan<string?>)[binding.Expires?.Value, subjectExpires])
        {
            if (expires is not null && Rfc3339.TryParse(expires, out var at) && now >= at)
            {
                return;
            }
        }

        subject.Hold(RoleName(binding.Role.Value), RoleSource.Binding);
    }

    public AccessReviewReport Build(PolicyDocument? document, AuditSummary audit, AuditLosses losses, string auditSource, DateTimeOffset now, TimeSpan window)
    {
        var since = now - window;
        incompleteOverWindow = losses.LostInWindow > 0;
        var ordered = subjects.Values.OrderBy(s => s.Id, StringComparer.Ordinal).ToList();

        var holders = new Dictionary<string, List<RoleHolder>>(StringComparer.Ordinal);
        foreach (var subject in ordered)
        {
            foreach (var (role, source) in subject.Roles)
            {
                if (!holders.TryGetValue(role, out var list))
                {
                    list = [];
                    holders.Add(role, list);
                }

                list.Add(new RoleHolder(subject.Id, source));
            }
        }

        IReadOnlyList<RoleHolder> HoldersOf(string role) => holders.TryGetValue(role, out var list) ? list : [];

        var roles = new List<RoleReview>(policy.Roles.Count);
        foreach (var role in policy.Roles)
        {
            var grants = new List<GrantUsage>(role.Allow.Count);
            for (int i = 0; i < role.Allow.Count; i++)
            {
                int grant = grantIndex[(role.Name, role.Allow[i])];
                grants.Add(Usage(grant, Grants[grant], since));
            }

            roles.Add(new RoleReview(role.Name, role.Id, grants, HoldersOf(role.Name)));
        }

        var subjectReviews = new List<SubjectReview>(ordered.Count);
        foreach (var subject in ordered)
        {
            subjectReviews.Add(ReviewSubject(subject, since));
        }

        var highRisk = new List<HighRiskRole>();
        foreach (var role in policy.Roles)
        {
            var reasons = HighRiskReasons(role);
            if (reasons.Count > 0)
            {
                highRisk.Add(new HighRiskRole(role.Name, reasons, HoldersOf(role.Name)));
            }
        }

        var breaches = new List<ExclusionBreach>();
        if (document is not null)
        {
            foreach (var subject in ordered)
            {
                AddBreaches(subject, document.Constraints.MutuallyExclusive, breaches);
            }
        }

        return new AccessReviewReport(policy.Source, auditSource, now, window, audit, losses, document is not null, roles, subjectReviews, highRisk, breaches);
    }

    private GrantUsage Usage(int grant, UseCounter? counter, DateTimeOffset since)
    {
        var last = counter?.Last;
        // Not seen in the window: unused, unless records lost in the window might have been its uses.
        var status = last is not null && last >= since ? GrantStatus.Used
            : incompleteOverWindow ? GrantStatus.NotSeenLogIncomplete : GrantStatus.Unused;
        return new GrantUsage(GrantRoles[grant], GrantRules[grant], last, counter?.Recent ?? 0, status);
    }

    private SubjectReview ReviewSubject(SubjectState subject, DateTimeOffset since)
    {
        var held = subject.Roles.OrderBy(r => r.Key, StringComparer.Ordinal)
            .Select(r => new HeldRole(r.Key, r.Value, policy.FindRole(r.Key) is not null)).ToList();

        // The grants the subject can use: those of its declared roles and of their ancestors, each role once.
        var contributing = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var role in held)
        {
            if (policy.FindRole(role.Role) is not { } info)
            {
                continue;
            }

            if (seen.Add(info.Name))
            {
                contributing.Add(info.Name);
            }

            foreach (string ancestor in info.Ancestors)
            {
                if (seen.Add(ancestor))
                {
                    contributing.Add(ancestor);
                }
            }
        }

        var grants = new List<GrantUsage>();
        var listed = new HashSet<int>();
        foreach (string role in contributing)
        {
            var info = policy.FindRole(role)!;
            foreach (string rule in info.Allow)
            {
                int grant = grantIndex[(info.Name, rule)];
                if (listed.Add(grant))
                {
                    grants.Add(Usage(grant, subject.Used.GetValueOrDefault(grant), since));
                }
            }
        }

        foreach (int grant in subject.Used.Keys.Order())
        {
            if (listed.Add(grant))
            {
                grants.Add(Usage(grant, subject.Used[grant], since));
            }
        }

        return new SubjectReview(subject.Id, subject.BoundKind ?? subject.AuditKind, held, grants, subject.LastSeen);
    }

    private List<HighRiskReason> HighRiskReasons(RoleInfo role)
    {
        var reasons = new List<HighRiskReason>();
        string? highest = policy.Tiers.Count > 1 ? policy.Tiers[^1] : null;
        var contributors = new List<RoleInfo> { role };
        foreach (string ancestor in role.Ancestors)
        {
            if (policy.FindRole(ancestor) is { } info)
            {
                contributors.Add(info);
            }
        }

        foreach (var from in contributors)
        {
            foreach (string rule in from.Allow)
            {
                int on = rule.IndexOf(" on ", StringComparison.Ordinal);
                string action = rule[..on];
                string resource = rule[(on + 4)..];
                if (action is "*" or "**")
                {
                    reasons.Add(new HighRiskReason(resource == "**" ? "all_access" : "wildcard_action", from.Name, rule));
                }
            }

            if (highest is not null && from.MaxSensitivity == highest)
            {
                reasons.Add(new HighRiskReason("highest_ceiling", from.Name, highest));
            }

            if (from.Name.Contains("admin", StringComparison.OrdinalIgnoreCase))
            {
                reasons.Add(new HighRiskReason("admin_name", from.Name, from.Name));
            }
        }

        return reasons;
    }

    private void AddBreaches(SubjectState subject, IReadOnlyList<ExclusiveRoleSet> sets, List<ExclusionBreach> breaches)
    {
        // Every role the subject has, directly or through inheritance, with where the role that leads to it was learned.
        var has = new Dictionary<string, RoleSource>(StringComparer.Ordinal);
        foreach (var (name, source) in subject.Roles)
        {
            if (policy.FindRole(name) is not { } info)
            {
                continue;
            }

            has[info.Name] = has.GetValueOrDefault(info.Name) | source;
            foreach (string ancestor in info.Ancestors)
            {
                has[ancestor] = has.GetValueOrDefault(ancestor) | source;
            }
        }

        foreach (var set in sets)
        {
            var names = set.Roles.Select(r => RoleName(r.Value)).ToList();
            var inSet = names.Where(has.ContainsKey).Distinct(StringComparer.Ordinal).ToList();
            if (inSet.Count >= 2)
            {
                var source = RoleSource.None;
                foreach (string name in inSet)
                {
                    source |= has[name];
                }

                breaches.Add(new ExclusionBreach(subject.Id, names, inSet, source));
            }
        }
    }
}

/// <summary>
/// The losses the log records (loss markers and a torn final line): totals, the part that overlaps the window, and the
/// first <see cref="MaxListedGaps"/> markers. Bounded memory whatever the number of markers.
/// </summary>
internal sealed class AuditLosses(DateTimeOffset since)
{
    /// <summary>How many loss markers the report lists one by one; the rest are only counted.</summary>
    public const int MaxListedGaps = 20;

    public long Lost { get; private set; }

    public long Markers { get; private set; }

    public long? TornLine { get; private set; }

    /// <summary>Records lost by markers that reach into the window (<c>last_time</c> at or after its start), plus a torn line.</summary>
    public long LostInWindow { get; private set; }

    public DateTimeOffset? InWindowFrom { get; private set; }

    public DateTimeOffset? InWindowTo { get; private set; }

    public List<AuditGap> Gaps { get; } = [];

    public void Add(AuditRecord record)
    {
        Lost += record.Count;
        if (record.Type == AuditLineType.Torn)
        {
            // Its time is unknown: it may fall in the window (fail closed).
            TornLine = record.Line;
            LostInWindow += record.Count;
            return;
        }

        Markers++;
        bool inWindow = record.LastTime >= since;
        if (inWindow)
        {
            LostInWindow += record.Count;
            InWindowFrom = InWindowFrom is null || record.Time < InWindowFrom ? record.Time : InWindowFrom;
            InWindowTo = InWindowTo is null || record.LastTime > InWindowTo ? record.LastTime : InWindowTo;
        }

        if (Gaps.Count < MaxListedGaps)
        {
            Gaps.Add(new AuditGap(record.Line, record.Count, record.Time, record.LastTime, inWindow));
        }
    }
}
