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

    /// <summary>The policy's subject, when the policy's bindings name this one.</summary>
    public Subject? Bound { get; set; }

    public string? AuditKind { get; private set; }

    public DateTimeOffset? LastSeen { get; private set; }

    public Dictionary<string, RoleSource> Roles { get; } = new(StringComparer.Ordinal);

    /// <summary>The roles the subject's bindings bring only through inheritance, each with the bound roles that bring it.</summary>
    public Dictionary<string, IReadOnlyList<string>> Inherited { get; } = new(StringComparer.Ordinal);

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
            foreach (var rule in role.Allow)
            {
                // A role may repeat a grant; usage goes to the first copy.
                grantIndex.TryAdd((role.Name, rule.Text), GrantRoles.Count);
                GrantRoles.Add(role.Name);
                GrantRules.Add(rule.Text);
                Grants.Add(new UseCounter());
            }
        }
    }

    public List<UseCounter> Grants { get; } = [];

    /// <summary>The break-glass uses read so far (the first ones, up to the bound) and how many there are.</summary>
    public List<BreakGlassEntry> BreakGlassUses { get; } = [];

    public long BreakGlassUseCount { get; private set; }

    private const int MaxListedBreakGlassUses = Tuning.Language.MaxListedBreakGlassUses;

    /// <summary>Records one break-glass decision (docs/policy-language.md, section 12).</summary>
    public void BreakGlass(AuditRecord record)
    {
        BreakGlassUseCount += record.Count;
        if (BreakGlassUses.Count < MaxListedBreakGlassUses)
        {
            BreakGlassUses.Add(new BreakGlassEntry(record.Line, record.Time, record.Subject, [.. record.OnBehalfOf], record.Action, record.Resource, record.Allowed,
                record.Reason, record.Role, record.BreakGlassRole!, record.Justification!, record.ActivatedBy!, record.ActivatedAt!.Value, record.Count));
        }
    }

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

    /// <summary>
    /// Adds the subjects the policy's bindings name, with the roles they hold at <paramref name="now"/> (in some scope;
    /// kinds applied), directly or through inheritance: the core's <see cref="CompiledPolicy.Holdings"/>, as decisions
    /// see them and as <c>airbac matrix</c> lists holders.
    /// </summary>
    public void AddBindings(DateTimeOffset now)
    {
        foreach (var bound in policy.BoundSubjects)
        {
            var subject = Subject(bound.Id);
            subject.Bound = bound;
            subject.BoundKind = bound.Kind is { } kind ? SubjectKinds.ToName(kind) : null;
            foreach (var holding in policy.Holdings(bound, now))
            {
                if (holding.Direct)
                {
                    subject.Hold(holding.Role.Name, RoleSource.Binding);
                }
                else
                {
                    subject.Inherited[holding.Role.Name] = [.. holding.Through.Select(r => r.Name)];
                }
            }
        }
    }

    /// <summary>
    /// The subject as the audit log shows it: its last recorded kind and the roles its records carried (unscoped), or
    /// <see langword="null"/> when no record named a role for it.
    /// </summary>
    private static Subject? AuditSubject(SubjectState subject)
    {
        var roles = subject.Roles.Where(r => (r.Value & RoleSource.Audit) != 0).Select(r => new RoleBinding(r.Key)).ToList();
        if (roles.Count == 0)
        {
            return null;
        }

        SubjectKind? kind = SubjectKinds.TryParse(subject.AuditKind, out var parsed) ? parsed : null;
        return new Subject(subject.Id, kind ?? subject.Bound?.Kind, roles);
    }

    /// <summary>Every role the subject has (bindings and audit log, inherited ones included, kinds applied), with where it was learned.</summary>
    private Dictionary<string, RoleSource> EffectiveRolesOf(SubjectState subject, DateTimeOffset now)
    {
        var has = new Dictionary<string, RoleSource>(StringComparer.Ordinal);
        if (subject.Bound is { } bound)
        {
            foreach (var holding in policy.Holdings(bound, now))
            {
                has[holding.Role.Name] = has.GetValueOrDefault(holding.Role.Name) | RoleSource.Binding;
            }
        }

        if (AuditSubject(subject) is { } seen)
        {
            foreach (var role in policy.EffectiveRoles(seen, at: now))
            {
                has[role.Name] = has.GetValueOrDefault(role.Name) | RoleSource.Audit;
            }
        }

        return has;
    }

    public AccessReviewReport Build(AuditSummary audit, AuditLosses losses, string auditSource, DateTimeOffset now, TimeSpan window)
    {
        var since = now - window;
        incompleteOverWindow = losses.LostInWindow > 0;
        var ordered = subjects.Values.OrderBy(s => s.Id, StringComparer.Ordinal).ToList();

        var holders = new Dictionary<string, List<RoleHolder>>(StringComparer.Ordinal);
        foreach (var subject in ordered)
        {
            foreach (string role in subject.Roles.Keys.Union(subject.Inherited.Keys, StringComparer.Ordinal))
            {
                if (!holders.TryGetValue(role, out var list))
                {
                    list = [];
                    holders.Add(role, list);
                }

                // A role a binding or an audit record names is held directly; otherwise the bindings bring it through inheritance.
                var source = subject.Roles.GetValueOrDefault(role) | (subject.Inherited.ContainsKey(role) ? RoleSource.Binding : RoleSource.None);
                bool direct = (subject.Roles.GetValueOrDefault(role) & RoleSource.Binding) != 0;
                list.Add(new RoleHolder(subject.Id, source, direct ? [] : subject.Inherited.GetValueOrDefault(role) ?? []));
            }
        }

        IReadOnlyList<RoleHolder> HoldersOf(string role) => holders.TryGetValue(role, out var list) ? list : [];

        var roles = new List<RoleReview>(policy.Roles.Count);
        foreach (var role in policy.Roles)
        {
            var grants = new List<GrantUsage>(role.Allow.Count);
            for (int i = 0; i < role.Allow.Count; i++)
            {
                int grant = grantIndex[(role.Name, role.Allow[i].Text)];
                grants.Add(Usage(grant, Grants[grant], since));
            }

            roles.Add(new RoleReview(role.Name, role.Id, grants, HoldersOf(role.Name), role.Conditions, role.MaxActivation));
        }

        var subjectReviews = new List<SubjectReview>(ordered.Count);
        foreach (var subject in ordered)
        {
            subjectReviews.Add(ReviewSubject(subject, since, now));
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
        foreach (var subject in ordered)
        {
            AddBreaches(subject, now, breaches);
        }

        var approvals = policy.ApprovalRules.Select(rule => new ApprovalRuleReview(rule, policy.Approvers(rule, now))).ToList();
        return new AccessReviewReport(policy.Source, auditSource, now, window, audit, losses, roles, subjectReviews, highRisk, breaches,
            BreakGlassUses, BreakGlassUseCount, approvals);
    }

    private GrantUsage Usage(int grant, UseCounter? counter, DateTimeOffset since)
    {
        var last = counter?.Last;
        // Not seen in the window: unused, unless records lost in the window might have been its uses.
        var status = last is not null && last >= since ? GrantStatus.Used
            : incompleteOverWindow ? GrantStatus.NotSeenLogIncomplete : GrantStatus.Unused;
        return new GrantUsage(GrantRoles[grant], GrantRules[grant], last, counter?.Recent ?? 0, status);
    }

    private SubjectReview ReviewSubject(SubjectState subject, DateTimeOffset since, DateTimeOffset now)
    {
        var held = subject.Roles.OrderBy(r => r.Key, StringComparer.Ordinal)
            .Select(r => new HeldRole(r.Key, r.Value, policy.FindRole(r.Key) is not null)).ToList();

        // The grants the subject can use: those of its effective roles (inheritance with kinds applied), each role once:
        // each held role, then its ancestors, then any other effective role in declaration order.
        var effective = EffectiveRolesOf(subject, now);
        var contributing = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var role in held)
        {
            if (policy.FindRole(role.Role) is { } info)
            {
                contributing.AddRange(info.Ancestors.Prepend(info.Name).Where(name => effective.ContainsKey(name) && seen.Add(name)));
            }
        }

        contributing.AddRange(policy.Roles.Select(r => r.Name).Where(name => effective.ContainsKey(name) && seen.Add(name)));

        var grants = new List<GrantUsage>();
        var listed = new HashSet<int>();
        foreach (string role in contributing)
        {
            var info = policy.FindRole(role)!;
            foreach (var rule in info.Allow)
            {
                int grant = grantIndex[(info.Name, rule.Text)];
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

    /// <summary>The core's one definition of a risky role (<see cref="CompiledPolicy.RiskOf(RoleInfo)"/>), as the report shows it.</summary>
    private List<HighRiskReason> HighRiskReasons(RoleInfo role)
        => [.. policy.RiskOf(role).Select(r => new HighRiskReason(r.Code, r.From.Name, r.Detail))];

    /// <summary>
    /// The <c>mutually_exclusive</c> lists the subject breaks: through its bindings, as the core computes them for
    /// decisions (<see cref="CompiledPolicy.SeparationOfDutiesBreaches"/>: kinds, scopes and expiry applied), and through
    /// the roles its audit records carried.
    /// </summary>
    private void AddBreaches(SubjectState subject, DateTimeOffset now, List<ExclusionBreach> breaches)
    {
        var found = new List<(SeparationOfDutiesBreach Breach, List<string> Held, RoleSource Source)>();
        void Add(Subject? who, RoleSource source)
        {
            if (who is null)
            {
                return;
            }

            foreach (var breach in policy.SeparationOfDutiesBreaches(who, now))
            {
                int at = found.FindIndex(f => f.Breach.Location == breach.Location && f.Breach.Roles.SequenceEqual(breach.Roles));
                if (at < 0)
                {
                    found.Add((breach, [], RoleSource.None));
                    at = found.Count - 1;
                }

                var known = found[at];
                known.Held.AddRange(breach.Held.Select(r => r.Name).Where(n => !known.Held.Contains(n)));
                found[at] = (known.Breach, known.Held, known.Source | source);
            }
        }

        Add(subject.Bound, RoleSource.Binding);
        Add(AuditSubject(subject), RoleSource.Audit);
        if (found.Count == 0)
        {
            return;
        }

        // In the lists' file order; each says where the roles involved were learned (bindings, audit log, or both).
        var learned = EffectiveRolesOf(subject, now);
        foreach (var (breach, held, _) in found.OrderBy(f => f.Breach.Location.Line).ThenBy(f => f.Breach.Location.Column))
        {
            var set = breach.Roles.Select(r => r.Name).ToList();
            var source = held.Aggregate(RoleSource.None, (all, role) => all | learned.GetValueOrDefault(role));
            breaches.Add(new ExclusionBreach(subject.Id, set, [.. set.Where(held.Contains)], source));
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
