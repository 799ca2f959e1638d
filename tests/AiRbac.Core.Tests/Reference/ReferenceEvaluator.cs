using System.Globalization;
using AiRbac.Model;

namespace AiRbac.Core.Tests.Reference;

/// <summary>A decision of the reference evaluator, in the terms the engine's <see cref="Decision"/> exposes.</summary>
/// <param name="Allowed">Whether the request is allowed.</param>
/// <param name="Reason">Why.</param>
/// <param name="Role">The deciding role's name, or <see langword="null"/>.</param>
/// <param name="Rule">The deciding rule as <c>ACTION on RESOURCE</c>, or <see langword="null"/>.</param>
/// <param name="DelegatedReason">For <c>delegation_denied</c>, the denied link's own reason; otherwise <c>allowed</c>.</param>
/// <param name="Condition">For <c>condition_failed</c> (or a link denied with it), the failed condition's canonical text.</param>
/// <param name="BreakGlassRole">When an activated break-glass role decided, that role's name.</param>
/// <param name="ApprovalRule">For <c>approval_required</c>, the rule needing approvals; for an allowed request an approval rule matched, the first such rule.</param>
internal sealed record ReferenceDecision(
    bool Allowed,
    DecisionReason Reason,
    string? Role,
    string? Rule,
    DecisionReason DelegatedReason = DecisionReason.Allowed,
    string? Condition = null,
    string? BreakGlassRole = null,
    string? ApprovalRule = null)
{
    public static ReferenceDecision Deny(DecisionReason reason, string? role = null, string? rule = null)
        => new(false, reason, role, rule);

    public override string ToString()
        => string.Create(
            CultureInfo.InvariantCulture,
            $"{(Allowed ? "allowed" : "denied")} {DecisionReasons.ToName(Reason)} role={Role ?? "-"} rule={Rule ?? "-"} delegated={DecisionReasons.ToName(DelegatedReason)} condition={Condition ?? "-"} break_glass={BreakGlassRole ?? "-"} approval={ApprovalRule ?? "-"}");
}

/// <summary>
/// A deliberately naive evaluator of docs/policy-language.md, section 4, written from the specification alone so that the engine
/// can be compared against it. It re-parses every rule and pattern, walks inheritance and scans every list on
/// every request. It assumes the <see cref="PolicyDocument"/> is valid (the compiler accepted it).
/// </summary>
internal sealed class ReferenceEvaluator
{
    private static readonly string[] DefaultTiers = ["public", "internal", "confidential", "restricted"];

    private readonly PolicyDocument doc;

    public ReferenceEvaluator(PolicyDocument doc)
    {
        ArgumentNullException.ThrowIfNull(doc);
        this.doc = doc;
    }

    /// <summary>Decides a request, following the on-behalf-of chain (step 9).</summary>
    public ReferenceDecision Decide(Subject subject, string action, ResourceRequest resource, DateTimeOffset now, RequestContext? context = null)
    {
        ArgumentNullException.ThrowIfNull(subject);
        ReferenceDecision actor = DecideLink(subject, action, resource, now, context);
        if (!actor.Allowed)
        {
            return actor;
        }

        string? breakGlass = actor.BreakGlassRole;
        for (Subject? link = subject.OnBehalfOf; link is not null; link = link.OnBehalfOf)
        {
            ReferenceDecision d = DecideLink(link, action, resource, now, context);
            if (!d.Allowed)
            {
                return new ReferenceDecision(false, DecisionReason.DelegationDenied, d.Role, d.Rule, d.Reason, d.Condition, d.BreakGlassRole);
            }

            breakGlass ??= d.BreakGlassRole;
        }

        ReferenceDecision allowed = actor with { BreakGlassRole = breakGlass };
        return Approvals(allowed, subject, action, resource, now, context);
    }

    /// <summary>
    /// Step 10 (docs/policy-language.md, section 13): each approval rule matching the action and resource, in file order,
    /// needs its count of distinct approvers: valid approvals of that rule, by policy subjects holding an approver role
    /// through roles without conditions and not break-glass, not in the chain, breaking no mutually_exclusive list.
    /// </summary>
    private ReferenceDecision Approvals(ReferenceDecision allowed, Subject subject, string action, ResourceRequest resource, DateTimeOffset now, RequestContext? context)
    {
        string? first = null;
        foreach (ApprovalRuleDefinition rule in doc.Approvals ?? [])
        {
            bool matches = rule.Match.Any(m =>
            {
                (string a, string r) = ParseRule(m.Value);
                return ReferenceGlob.IsMatch(a, action) && ReferenceGlob.IsMatch(r, resource.Name);
            });
            if (!matches)
            {
                continue;
            }

            var chain = new List<string>();
            for (Subject? link = subject; link is not null; link = link.OnBehalfOf)
            {
                chain.Add(link.Id);
            }

            TimeSpan valid = ParseDuration(rule.ValidFor!.Value.Value);
            var counted = new HashSet<string>();
            foreach (Approval a in context?.Approvals ?? [])
            {
                if (a.Rule == rule.Name.Value && a.At <= now && now < a.At + valid && !chain.Contains(a.Approver)
                    && !counted.Contains(a.Approver) && MayApprove(a.Approver, rule, resource.Scope, now))
                {
                    counted.Add(a.Approver);
                }
            }

            int needed = rule.Count is { } c ? int.Parse(c.Value, CultureInfo.InvariantCulture) : 1;
            if (counted.Count < needed)
            {
                return allowed with { Allowed = false, Reason = DecisionReason.ApprovalRequired, ApprovalRule = rule.Name.Value };
            }

            first ??= rule.Name.Value;
        }

        return allowed with { ApprovalRule = first };
    }

    /// <summary>Whether policy subject <paramref name="id"/> holds an approver role of the rule, in the request's scope, now, through roles without conditions and not break-glass, breaking no mutually_exclusive list.</summary>
    private bool MayApprove(string id, ApprovalRuleDefinition rule, string? scope, DateTimeOffset now)
    {
        SubjectDefinition? def = FindSubject(id);
        if (def is null)
        {
            return false;
        }

        string kind = def.Kind?.Value ?? "user";
        var effective = new HashSet<RoleDefinition>();
        var ungated = new HashSet<RoleDefinition>();
        foreach (Binding b in ResolveBindings(new Subject(id)))
        {
            if (b.NeverApplies || (b.Expires is { } e && !(now < e)) || (b.Scope is not null && (scope is null || !Covers(b.Scope, scope))))
            {
                continue;
            }

            if (FindRole(b.Role) is { } role)
            {
                AddWithAncestors(role, kind, effective);
                AddUngated(role, kind, ungated);
            }
        }

        foreach (ExclusiveRoleSet set in doc.Constraints.MutuallyExclusive)
        {
            if (set.Roles.Select(r => FindRole(r.Value)).Where(r => r is not null && effective.Contains(r)).Distinct().Count() >= 2)
            {
                return false;
            }
        }

        return rule.Approvers.Any(a => FindRole(a.Value) is { } role && ungated.Contains(role));
    }

    /// <summary>Like <see cref="AddWithAncestors"/>, entering no role with conditions and no break-glass role.</summary>
    private void AddUngated(RoleDefinition role, string kind, HashSet<RoleDefinition> found)
    {
        if ((role.Kinds is not null && !role.Kinds.Any(k => k.Value == kind)) || role.Conditions.Count > 0 || role.BreakGlass is not null || !found.Add(role))
        {
            return;
        }

        foreach (LocatedString parent in role.Inherits)
        {
            if (FindRole(parent.Value) is { } p)
            {
                AddUngated(p, kind, found);
            }
        }
    }

    /// <summary>Steps 1 to 8 for one subject, ignoring its on-behalf-of link.</summary>
    private ReferenceDecision DecideLink(Subject subject, string action, ResourceRequest resource, DateTimeOffset now, RequestContext? context)
    {
        // Step 1: missing_identity.
        if (subject.Id.Length == 0)
        {
            return ReferenceDecision.Deny(DecisionReason.MissingIdentity);
        }

        List<Binding> bindings = ResolveBindings(subject);
        if (bindings.Count == 0)
        {
            return ReferenceDecision.Deny(DecisionReason.MissingIdentity);
        }

        // Step 2: invalid_request.
        List<string> tiers = Tiers();
        if (resource.Sensitivity is not null && !tiers.Contains(resource.Sensitivity))
        {
            return ReferenceDecision.Deny(DecisionReason.InvalidRequest);
        }

        if (resource.Scope is not null && !IsValidScope(resource.Scope))
        {
            return ReferenceDecision.Deny(DecisionReason.InvalidRequest);
        }

        if (string.IsNullOrEmpty(action) || string.IsNullOrEmpty(resource.Name))
        {
            return ReferenceDecision.Deny(DecisionReason.InvalidRequest);
        }

        if (subject.Roles is not null)
        {
            foreach (RoleBinding b in subject.Roles)
            {
                if (b.Scope is not null && !IsValidScope(b.Scope))
                {
                    return ReferenceDecision.Deny(DecisionReason.InvalidRequest);
                }
            }
        }

        if (context is not null && !IsValidContext(context))
        {
            return ReferenceDecision.Deny(DecisionReason.InvalidRequest);
        }

        // Step 3: effective roles, and the active ones among them (reached through roles whose conditions hold).
        string kind = KindOf(subject);
        var effective = new HashSet<RoleDefinition>();
        var active = new HashSet<RoleDefinition>();
        var activeWithoutBreakGlass = new HashSet<RoleDefinition>();
        foreach (Binding b in bindings)
        {
            if (b.NeverApplies)
            {
                continue;
            }

            if (b.Expires is { } expires && !(now < expires))
            {
                continue;
            }

            if (b.Scope is not null && (resource.Scope is null || !Covers(b.Scope, resource.Scope)))
            {
                continue;
            }

            RoleDefinition? role = FindRole(b.Role);
            if (role is not null)
            {
                AddWithAncestors(role, kind, effective);
                AddActive(role, kind, active, subject.Id, context, now, breakGlass: true);
                AddActive(role, kind, activeWithoutBreakGlass, subject.Id, context, now, breakGlass: false);
            }
        }

        // Step 4: separation_of_duties.
        foreach (ExclusiveRoleSet set in doc.Constraints.MutuallyExclusive)
        {
            var held = new List<RoleDefinition>();
            foreach (LocatedString r in set.Roles)
            {
                RoleDefinition? role = FindRole(r.Value);
                if (role is not null && effective.Contains(role) && !held.Contains(role))
                {
                    held.Add(role);
                }
            }

            if (held.Count >= 2)
            {
                return ReferenceDecision.Deny(DecisionReason.SeparationOfDuties, held[0].Name.Value);
            }
        }

        // Step 5: no_active_role.
        if (effective.Count == 0)
        {
            return ReferenceDecision.Deny(DecisionReason.NoActiveRole);
        }

        // Effective roles in file order.
        var roles = new List<RoleDefinition>();
        foreach (RoleDefinition r in doc.Roles)
        {
            if (effective.Contains(r))
            {
                roles.Add(r);
            }
        }

        // Step 6: explicit_deny.
        foreach (RoleDefinition r in roles)
        {
            foreach (LocatedString deny in r.Deny)
            {
                (string a, string res) = ParseRule(deny.Value);
                if (ReferenceGlob.IsMatch(a, action) && ReferenceGlob.IsMatch(res, resource.Name))
                {
                    return ReferenceDecision.Deny(DecisionReason.ExplicitDeny, r.Name.Value, a + " on " + res);
                }
            }
        }

        // Step 7: owner_conflict.
        if (resource.Owner is not null && string.Equals(resource.Owner, subject.Id, StringComparison.Ordinal))
        {
            foreach (LocatedString p in doc.Constraints.NotByOwner)
            {
                if (ReferenceGlob.IsMatch(p.Value, action))
                {
                    return ReferenceDecision.Deny(DecisionReason.OwnerConflict);
                }
            }
        }

        // Step 8: grants.
        int defaultTier = doc.DefaultSensitivity is { } ds ? tiers.IndexOf(ds.Value) : 0;
        int tier = defaultTier;
        var tags = new List<string>();
        foreach (ResourceClassification entry in doc.Resources)
        {
            if (ReferenceGlob.IsMatch(entry.Match.Value, resource.Name))
            {
                tier = entry.Sensitivity is { } s ? tiers.IndexOf(s.Value) : defaultTier;
                foreach (LocatedString t in entry.Tags)
                {
                    tags.Add(t.Value);
                }

                break;
            }
        }

        if (resource.Sensitivity is not null)
        {
            tier = Math.Max(tier, tiers.IndexOf(resource.Sensitivity));
        }

        foreach (string t in resource.Tags.Span)
        {
            tags.Add(t);
        }

        // Each matching active role with its first matching grant, in file order.
        var matching = new List<(RoleDefinition Role, string Rule)>();
        foreach (RoleDefinition r in roles.Where(active.Contains))
        {
            foreach (LocatedString allow in r.Allow)
            {
                (string a, string res) = ParseRule(allow.Value);
                if (ReferenceGlob.IsMatch(a, action) && ReferenceGlob.IsMatch(res, resource.Name))
                {
                    matching.Add((r, a + " on " + res));
                    break;
                }
            }
        }

        // A role active only through an activation decided: the first active break-glass role (file order) that brings it
        // through active roles.
        string? BreakGlassOf(RoleDefinition r)
            => activeWithoutBreakGlass.Contains(r) ? null
                : roles.First(x => x.BreakGlass is not null && active.Contains(x) && ReachesThroughActive(x, r, kind, active, [])).Name.Value;

        foreach ((RoleDefinition r, string rule) in matching)
        {
            if (Ceiling(r, tiers) >= tier && Clears(r, tags))
            {
                return new ReferenceDecision(true, DecisionReason.Allowed, r.Name.Value, rule, BreakGlassRole: BreakGlassOf(r));
            }
        }

        // condition_failed: the first inactive role (file order) whose first matching grant would allow; reported by the
        // first role of the effective set with failing conditions that brings it.
        foreach (RoleDefinition r in roles.Where(x => !active.Contains(x)))
        {
            string? grant = FirstMatchingGrant(r, action, resource.Name);
            if (grant is null || !(Ceiling(r, tiers) >= tier && Clears(r, tags)))
            {
                continue;
            }

            foreach (RoleDefinition gated in roles)
            {
                var closure = new HashSet<RoleDefinition>();
                AddWithAncestors(gated, kind, closure);
                if ((gated.Conditions.Count > 0 || gated.BreakGlass is not null) && !GateHolds(gated, subject.Id, context, now) && closure.Contains(r))
                {
                    if (gated.BreakGlass is not null && ValidActivation(gated, subject.Id, context, now) is null)
                    {
                        return new ReferenceDecision(false, DecisionReason.BreakGlassNotActive, gated.Name.Value, grant);
                    }

                    ConditionDefinition failed = gated.Conditions.First(c => !ConditionHolds(c, context, now));
                    return new ReferenceDecision(false, DecisionReason.ConditionFailed, gated.Name.Value, grant, Condition: CanonicalText(failed));
                }
            }

            throw new InvalidOperationException("an inactive role must be brought by a role whose conditions fail");
        }

        if (matching.Count == 0)
        {
            return ReferenceDecision.Deny(DecisionReason.NoMatchingGrant);
        }

        foreach ((RoleDefinition r, string rule) in matching)
        {
            if (Ceiling(r, tiers) >= tier)
            {
                return ReferenceDecision.Deny(DecisionReason.MissingTagClearance, r.Name.Value, rule) with { BreakGlassRole = BreakGlassOf(r) };
            }
        }

        return ReferenceDecision.Deny(DecisionReason.SensitivityCeiling, matching[0].Role.Name.Value, matching[0].Rule) with { BreakGlassRole = BreakGlassOf(matching[0].Role) };
    }

    private static string? FirstMatchingGrant(RoleDefinition r, string action, string resource)
    {
        foreach (LocatedString allow in r.Allow)
        {
            (string a, string res) = ParseRule(allow.Value);
            if (ReferenceGlob.IsMatch(a, action) && ReferenceGlob.IsMatch(res, resource))
            {
                return a + " on " + res;
            }
        }

        return null;
    }

    /// <summary>
    /// Like <see cref="AddWithAncestors"/>, but a role whose gate does not hold (conditions; for a break-glass role, also a
    /// valid activation) is not entered either; without <paramref name="breakGlass"/>, no break-glass role is entered.
    /// </summary>
    private void AddActive(RoleDefinition role, string kind, HashSet<RoleDefinition> active, string subjectId, RequestContext? context, DateTimeOffset now, bool breakGlass)
    {
        if (role.Kinds is not null && !role.Kinds.Any(k => string.Equals(k.Value, kind, StringComparison.Ordinal)))
        {
            return;
        }

        if (!GateHolds(role, subjectId, context, now) || (!breakGlass && role.BreakGlass is not null) || !active.Add(role))
        {
            return;
        }

        foreach (LocatedString parent in role.Inherits)
        {
            RoleDefinition? p = FindRole(parent.Value);
            if (p is not null)
            {
                AddActive(p, kind, active, subjectId, context, now, breakGlass);
            }
        }
    }

    /// <summary>Whether <paramref name="target"/> is <paramref name="from"/> or inherited from it through roles of <paramref name="active"/>.</summary>
    private bool ReachesThroughActive(RoleDefinition from, RoleDefinition target, string kind, HashSet<RoleDefinition> active, HashSet<RoleDefinition> seen)
    {
        if (ReferenceEquals(from, target))
        {
            return true;
        }

        seen.Add(from);
        foreach (LocatedString parent in from.Inherits)
        {
            RoleDefinition? p = FindRole(parent.Value);
            if (p is not null && active.Contains(p) && !seen.Contains(p)
                && (p.Kinds is null || p.Kinds.Any(k => k.Value == kind)) && ReachesThroughActive(p, target, kind, active, seen))
            {
                return true;
            }
        }

        return false;
    }

    private bool GateHolds(RoleDefinition role, string subjectId, RequestContext? context, DateTimeOffset now)
        => ConditionsHold(role, context, now) && (role.BreakGlass is null || ValidActivation(role, subjectId, context, now) is not null);

    /// <summary>docs/policy-language.md, section 12: the subject's own activation of the role, justified, started at most max_activation ago and not later than now.</summary>
    private BreakGlassActivation? ValidActivation(RoleDefinition role, string subjectId, RequestContext? context, DateTimeOffset now)
    {
        if (context is null)
        {
            return null;
        }

        TimeSpan max = ParseDuration(role.BreakGlass!.MaxActivation!.Value.Value);
        foreach (BreakGlassActivation a in context.Activations)
        {
            if (a.Subject == subjectId && ReferenceEquals(FindRole(a.Role), role) && a.Justification.Any(c => !char.IsWhiteSpace(c) && !char.IsControl(c) && char.GetUnicodeCategory(c) != UnicodeCategory.Format)
                && a.Start <= now && now < a.Start + max)
            {
                return a;
            }
        }

        return null;
    }

    private static TimeSpan ParseDuration(string text)
    {
        long count = long.Parse(text[..^1], CultureInfo.InvariantCulture);
        return text[^1] switch
        {
            'm' => TimeSpan.FromMinutes(count),
            'h' => TimeSpan.FromHours(count),
            'd' => TimeSpan.FromDays(count),
            _ => TimeSpan.FromDays(7 * count),
        };
    }

    private bool ConditionsHold(RoleDefinition role, RequestContext? context, DateTimeOffset now)
        => role.Conditions.All(c => ConditionHolds(c, context, now));

    /// <summary>One condition, from docs/policy-language.md, section 11: a missing key fails it.</summary>
    private bool ConditionHolds(ConditionDefinition condition, RequestContext? context, DateTimeOffset now)
    {
        string key = condition.Key.Value;
        if (key == "time_of_day")
        {
            int minute = (now.UtcDateTime.Hour * 60) + now.UtcDateTime.Minute;
            return condition.Values.Any(v => InWindow(v.Value, minute));
        }

        if (context is null)
        {
            return false;
        }

        ContextAttribute? found = null;
        foreach (ContextAttribute a in context.Attributes)
        {
            if (a.Key == key)
            {
                found = a;
                break;
            }
        }

        if (found is not { } value)
        {
            return false;
        }

        return DeclaredType(key) switch
        {
            "bool" => value.BooleanValue == (condition.Values[0].Value == "true"),
            "string" => condition.Values.Any(v => ReferenceGlob.IsMatch(v.Value, value.StringValue!)),
            _ => condition.IsRange
                ? (condition.Min is null || value.IntegerValue >= long.Parse(condition.Min.Value.Value, CultureInfo.InvariantCulture))
                  && (condition.Max is null || value.IntegerValue <= long.Parse(condition.Max.Value.Value, CultureInfo.InvariantCulture))
                : condition.Values.Any(v => long.Parse(v.Value, CultureInfo.InvariantCulture) == value.IntegerValue),
        };
    }

    private static bool InWindow(string window, int minute)
    {
        int start = (int.Parse(window[..2], CultureInfo.InvariantCulture) * 60) + int.Parse(window[3..5], CultureInfo.InvariantCulture);
        int end = (int.Parse(window[6..8], CultureInfo.InvariantCulture) * 60) + int.Parse(window[9..11], CultureInfo.InvariantCulture);
        return start < end ? minute >= start && minute < end : minute >= start || minute < end;
    }

    private string? DeclaredType(string key)
        => doc.Context?.FirstOrDefault(k => k.Name.Value == key)?.Type.Value;

    /// <summary>Step 2's check of the context: at most 64 pairs; keys present; strings at most 4,096 characters; a declared key once, with its type.</summary>
    private bool IsValidContext(RequestContext context)
    {
        if (context.Attributes.Count > 64)
        {
            return false;
        }

        var seen = new HashSet<string>();
        foreach (ContextAttribute a in context.Attributes)
        {
            if (a.Key is null || (a.Type == ContextValueType.String && (a.StringValue is null || a.StringValue.Length > 4096)))
            {
                return false;
            }

            string? type = DeclaredType(a.Key);
            if (type is null)
            {
                continue;
            }

            string given = a.Type switch { ContextValueType.Boolean => "bool", ContextValueType.String => "string", _ => "integer" };
            if (given != type || !seen.Add(a.Key))
            {
                return false;
            }
        }

        return context.Activations.Count <= 8
            && context.Activations.All(a => a.Subject is not null && a.Role is not null && a.Justification is not null && a.Justification.Length <= 1024)
            && context.Approvals.Count <= 16 && context.Approvals.All(a => a.Approver is not null && a.Rule is not null);
    }

    /// <summary>The condition's canonical text: <c>key: value</c>, <c>key: [a, b]</c> or <c>key: {min: 1, max: 5}</c>.</summary>
    private static string CanonicalText(ConditionDefinition c)
    {
        if (c.IsRange)
        {
            var parts = new List<string>();
            if (c.Min is { } min)
            {
                parts.Add("min: " + min.Value);
            }

            if (c.Max is { } max)
            {
                parts.Add("max: " + max.Value);
            }

            return c.Key.Value + ": {" + string.Join(", ", parts) + "}";
        }

        return c.Key.Value + ": " + (c.IsList ? "[" + string.Join(", ", c.Values.Select(v => v.Value)) + "]" : c.Values[0].Value);
    }

    private static int Ceiling(RoleDefinition role, List<string> tiers)
        => role.MaxSensitivity is { } m ? tiers.IndexOf(m.Value) : 0;

    private static bool Clears(RoleDefinition role, List<string> tags)
    {
        foreach (string tag in tags)
        {
            bool cleared = false;
            foreach (LocatedString c in role.Clearances)
            {
                if (string.Equals(c.Value, tag, StringComparison.Ordinal))
                {
                    cleared = true;
                }
            }

            if (!cleared)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Adds a role and, transitively, what it inherits; a role whose kinds exclude the subject stops the walk.</summary>
    private void AddWithAncestors(RoleDefinition role, string kind, HashSet<RoleDefinition> effective)
    {
        if (role.Kinds is not null && !role.Kinds.Any(k => string.Equals(k.Value, kind, StringComparison.Ordinal)))
        {
            return;
        }

        if (!effective.Add(role))
        {
            return;
        }

        foreach (LocatedString parent in role.Inherits)
        {
            RoleDefinition? p = FindRole(parent.Value);
            if (p is not null)
            {
                AddWithAncestors(p, kind, effective);
            }
        }
    }

    private string KindOf(Subject subject)
    {
        if (subject.Kind is { } k)
        {
            return k switch
            {
                SubjectKind.Service => "service",
                SubjectKind.Agent => "agent",
                _ => "user",
            };
        }

        SubjectDefinition? def = FindSubject(subject.Id);
        return def?.Kind?.Value ?? "user";
    }

    /// <summary>The subject's bindings: the ones it carries, or else the policy's for its id (with its groups').</summary>
    private List<Binding> ResolveBindings(Subject subject)
    {
        var list = new List<Binding>();
        if (subject.Roles is not null)
        {
            foreach (RoleBinding b in subject.Roles)
            {
                list.Add(new Binding(b.Role, b.Scope, b.Expires, false));
            }

            return list;
        }

        SubjectDefinition? def = FindSubject(subject.Id);
        if (def is null)
        {
            return list;
        }

        foreach (RoleBindingDefinition b in def.Roles)
        {
            list.Add(Narrow(def, b));
        }

        foreach (LocatedString g in def.Groups)
        {
            GroupDefinition? group = doc.Bindings.Groups.FirstOrDefault(x => string.Equals(x.Name.Value, g.Value, StringComparison.Ordinal));
            if (group is null)
            {
                continue;
            }

            foreach (RoleBindingDefinition b in group.Roles)
            {
                list.Add(Narrow(def, b));
            }
        }

        return list;
    }

    /// <summary>Combines a subject's own scope and expiry with a binding's: the earliest expiry, the deeper of two nested scopes.</summary>
    private static Binding Narrow(SubjectDefinition def, RoleBindingDefinition b)
    {
        DateTimeOffset? expires = null;
        foreach (LocatedString? e in new[] { def.Expires, b.Expires })
        {
            if (e is { } text)
            {
                DateTimeOffset t = DateTimeOffset.Parse(text.Value, CultureInfo.InvariantCulture);
                expires = expires is null || t < expires ? t : expires;
            }
        }

        string? s1 = def.Scope?.Value;
        string? s2 = b.Scope?.Value;
        string? scope;
        bool never = false;
        if (s1 is null)
        {
            scope = s2;
        }
        else if (s2 is null)
        {
            scope = s1;
        }
        else if (Covers(s1, s2))
        {
            scope = s2;
        }
        else if (Covers(s2, s1))
        {
            scope = s1;
        }
        else
        {
            scope = s1;
            never = true;
        }

        return new Binding(b.Role.Value, scope, expires, never);
    }

    private SubjectDefinition? FindSubject(string id)
        => doc.Bindings.Subjects.FirstOrDefault(s => string.Equals(s.Id.Value, id, StringComparison.Ordinal));

    /// <summary>Finds a role by name or id (linear scan).</summary>
    private RoleDefinition? FindRole(string nameOrId)
    {
        foreach (RoleDefinition r in doc.Roles)
        {
            if (string.Equals(r.Name.Value, nameOrId, StringComparison.Ordinal)
                || string.Equals((r.Id ?? r.Name).Value, nameOrId, StringComparison.Ordinal))
            {
                return r;
            }
        }

        return null;
    }

    private List<string> Tiers()
        => doc.Sensitivity is { } s ? s.Select(t => t.Value).ToList() : [.. DefaultTiers];

    /// <summary>Splits <c>ACTION on RESOURCE</c> (runs of spaces, surrounding spaces ignored).</summary>
    private static (string Action, string Resource) ParseRule(string text)
    {
        string[] parts = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 3 || parts[1] != "on")
        {
            throw new InvalidOperationException("The reference evaluator assumes valid rules: " + text);
        }

        return (parts[0], parts[2]);
    }

    /// <summary>One or more non-empty segments joined by single '/'.</summary>
    internal static bool IsValidScope(string scope)
    {
        if (scope.Length == 0)
        {
            return false;
        }

        foreach (string segment in scope.Split('/'))
        {
            if (segment.Length == 0)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Whether a binding scope is the resource scope or an ancestor of it, segment-wise.</summary>
    internal static bool Covers(string bindingScope, string resourceScope)
        => string.Equals(bindingScope, resourceScope, StringComparison.Ordinal)
        || resourceScope.StartsWith(bindingScope + "/", StringComparison.Ordinal);

    private sealed record Binding(string Role, string? Scope, DateTimeOffset? Expires, bool NeverApplies);
}
