using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using AiRbac.Diagnostics;

namespace AiRbac.Review;

/// <content>Markdown and JSON rendering.</content>
public sealed partial class AccessReviewReport
{
    /// <summary>The number of grants of the policy.</summary>
    public int GrantCount => Roles.Sum(r => r.Grants.Count);

    /// <summary>
    /// The number of grants unused in the window (never used, or last used before <see cref="Since"/>, with no record
    /// lost in the window).
    /// </summary>
    public int UnusedGrantCount => Roles.Sum(r => r.Grants.Count(g => g.Unused));

    /// <summary>The number of grants not seen in the window while records may be missing from it (<see cref="GrantStatus.NotSeenLogIncomplete"/>).</summary>
    public int NotSeenLogIncompleteGrantCount => Roles.Sum(r => r.Grants.Count(g => g.Status == GrantStatus.NotSeenLogIncomplete));

    /// <summary>Renders the report as Markdown: summary, high-risk roles, separation-of-duties breaches, grants by role, subjects.</summary>
    /// <returns>The Markdown text, ending with a newline.</returns>
    public string ToMarkdown()
    {
        var text = new StringBuilder();
        int never = Roles.Sum(r => r.Grants.Count(g => g.Unused && g.LastUsed is null));
        int idleRoles = Roles.Count(r => r.Grants.Count > 0 && r.Grants.All(g => g.Unused));
        text.Append("# Access review: ").Append(Code(PolicySource)).Append("\n\n");
        text.Append("- Audit log: ").Append(Code(AuditSource)).Append(": ").Append(Number(AuditRecords)).Append(" records (")
            .Append(Number(AllowedRecords)).Append(" allowed)");
        if (FirstRecord is { } first && LastRecord is { } last)
        {
            text.Append(", from ").Append(Rfc3339.Format(first)).Append(" to ").Append(Rfc3339.Format(last));
        }

        text.Append(".\n- Review time ").Append(Rfc3339.Format(Now)).Append("; window ").Append(Duration.Format(Window))
            .Append(": a grant not used since ").Append(Rfc3339.Format(Since)).Append(" is unused.\n");
        AppendIncompleteLog(text);
        if (UnmatchedAllowedRecords > 0)
        {
            text.Append("- ").Append(Number(UnmatchedAllowedRecords))
                .Append(" allowed records name a role and rule that are not a grant of this policy (decided by another policy version); they count for no grant.\n");
        }

        text.Append("\n## Summary\n\n| item | count |\n|---|---|\n");
        text.Append("| grants | ").Append(GrantCount).Append(" |\n");
        text.Append("| grants unused in the window | ").Append(UnusedGrantCount).Append(" (").Append(never).Append(" never used) |\n");
        if (AuditLogIncompleteOverWindow)
        {
            text.Append("| grants not seen in the window, log incomplete (not called unused) | ").Append(NotSeenLogIncompleteGrantCount).Append(" |\n");
        }

        text.Append("| roles with grants, none used in the window | ").Append(idleRoles).Append(" |\n");
        text.Append("| subjects | ").Append(Subjects.Count).Append(" |\n");
        text.Append("| high-risk roles | ").Append(HighRiskRoles.Count).Append(" (holders: ").Append(HighRiskRoles.Sum(r => r.Holders.Count)).Append(") |\n");
        text.Append("| separation-of-duties breaches | ").Append(ExclusionBreaches.Count.ToString(CultureInfo.InvariantCulture)).Append(" |\n");
        text.Append("| break-glass uses in the log | ").Append(Number(BreakGlassUseCount)).Append(" |\n");

        AppendGaps(text);
        text.Append("\n## High-risk roles\n\n");
        if (HighRiskRoles.Count == 0)
        {
            text.Append("None.\n");
        }
        else
        {
            text.Append("| role | why | holders |\n|---|---|---|\n");
            foreach (var role in HighRiskRoles)
            {
                text.Append("| ").Append(Code(role.Role)).Append(" | ")
                    .Append(string.Join("; ", role.Reasons.Select(r => ReasonText(role.Role, r)))).Append(" | ")
                    .Append(role.Holders.Count == 0 ? "none" : string.Join(", ", role.Holders.Select(HolderText)))
                    .Append(" |\n");
            }
        }

        text.Append("\n## Separation-of-duties breaches (`mutually_exclusive`)\n\n");
        if (ExclusionBreaches.Count == 0)
        {
            text.Append("None.\n");
        }
        else
        {
            text.Append("| subject | mutually_exclusive | holds | from |\n|---|---|---|---|\n");
            foreach (var breach in ExclusionBreaches)
            {
                text.Append("| ").Append(Code(breach.Subject)).Append(" | ").Append(string.Join(", ", breach.Set.Select(Code)))
                    .Append(" | ").Append(string.Join(", ", breach.HeldFromSet.Select(Code))).Append(" | ").Append(SourceText(breach.Source)).Append(" |\n");
            }
        }

        AppendBreakGlass(text);
        AppendApprovals(text);
        text.Append("\n## Grants by role\n\n| role | grant | last used | uses in window | status |\n|---|---|---|---|---|\n");
        foreach (var role in Roles)
        {
            if (role.Grants.Count == 0)
            {
                text.Append("| ").Append(Code(role.Name)).Append(" | (no grant) | | | |\n");
            }

            foreach (var grant in role.Grants)
            {
                text.Append("| ").Append(Code(role.Name)).Append(" | ").Append(Code(grant.Rule)).Append(" | ").Append(LastUsedText(grant.LastUsed))
                    .Append(" | ").Append(Number(grant.UsesInWindow)).Append(" | ").Append(StatusText(grant.Status)).Append(" |\n");
            }
        }

        text.Append("\n## Subjects\n\n| subject | kind | roles | last seen | grants used in the window | grants not used in the window |\n|---|---|---|---|---|---|\n");
        foreach (var subject in Subjects)
        {
            text.Append("| ").Append(Code(subject.Id)).Append(" | ").Append(UnsafeText.Escape(subject.Kind ?? ""))
                .Append(" | ").Append(string.Join(", ", subject.Roles.Select(r => Code(r.Role) + " (" + SourceText(r.Source) + (r.Declared ? "" : ", undeclared") + ")")))
                .Append(" | ").Append(subject.LastSeen is { } seen ? Rfc3339.Format(seen) : "never")
                .Append(" | ").Append(GrantList(subject.Grants.Where(g => g.Status == GrantStatus.Used), withTime: false))
                .Append(" | ").Append(GrantList(subject.Grants.Where(g => g.Status != GrantStatus.Used), withTime: true)).Append(" |\n");
        }

        return text.ToString();
    }

    /// <summary>
    /// Every break-glass use in the log (docs/policy-language.md, section 12), whatever the window, and the roles with
    /// conditions or break-glass: each use is a decision an operator should have seen, with its justification.
    /// </summary>
    private void AppendBreakGlass(StringBuilder text)
    {
        text.Append("\n## Break-glass uses\n\n");
        var gated = Roles.Where(r => r.MaxActivation is not null || r.Conditions.Count > 0).ToList();
        foreach (var role in gated)
        {
            text.Append("- ").Append(Code(role.Name)).Append(": ")
                .Append(role.MaxActivation is { } max ? "break-glass, activations up to " + Code(Duration.Format(max)) : "")
                .Append(role.MaxActivation is not null && role.Conditions.Count > 0 ? "; " : "")
                .Append(role.Conditions.Count > 0 ? "grants only when " + string.Join(", ", role.Conditions.Select(Code)) : "")
                .Append("; holders: ").Append(role.Holders.Count == 0 ? "none" : string.Join(", ", role.Holders.Select(HolderText))).Append('\n');
        }

        if (gated.Count > 0)
        {
            text.Append('\n');
        }

        if (BreakGlassUseCount == 0)
        {
            text.Append("None in the log.\n");
            return;
        }

        text.Append("| time | subject | action | resource | decision | break-glass role | activated by | activated at | justification |\n|---|---|---|---|---|---|---|---|---|\n");
        foreach (var use in BreakGlassUses)
        {
            text.Append("| ").Append(Rfc3339.Format(use.Time)).Append(" | ").Append(Code(use.Subject))
                .Append(use.OnBehalfOf.Count == 0 ? "" : " for " + string.Join(", ", use.OnBehalfOf.Select(Code)))
                .Append(" | ").Append(Code(use.Action)).Append(" | ").Append(Code(use.Resource))
                .Append(" | ").Append(use.Allowed ? "allowed" : "denied (" + UnsafeText.Escape(use.Reason) + ")")
                .Append(use.Role is { } role ? " by " + Code(role) : "")
                .Append(" | ").Append(Code(use.BreakGlassRole)).Append(" | ").Append(Code(use.ActivatedBy))
                .Append(" | ").Append(Rfc3339.Format(use.ActivatedAt)).Append(" | ").Append(Code(use.Justification)).Append(" |\n");
        }

        if (BreakGlassUseCount > BreakGlassUses.Count)
        {
            text.Append("\n").Append(Number(BreakGlassUseCount - BreakGlassUses.Count)).Append(" more break-glass uses are not listed.\n");
        }
    }

    /// <summary>The approval rules (section 13) and who can approve each; a rule fewer subjects can approve than it needs denies everything it matches.</summary>
    private void AppendApprovals(StringBuilder text)
    {
        if (ApprovalRules.Count == 0)
        {
            return;
        }

        text.Append("\n## Approval rules\n\n| rule | matches | needs | approver roles | valid for | can approve |\n|---|---|---|---|---|---|\n");
        foreach (var rule in ApprovalRules)
        {
            text.Append("| ").Append(Code(rule.Name)).Append(" | ").Append(string.Join(", ", rule.Match.Select(Code)))
                .Append(" | ").Append(rule.Count.ToString(CultureInfo.InvariantCulture)).Append(" | ").Append(string.Join(", ", rule.ApproverRoles.Select(Code)))
                .Append(" | ").Append(Duration.Format(rule.ValidFor)).Append(" | ")
                .Append(rule.Approvers.Count == 0 ? "nobody" : string.Join(", ", rule.Approvers.Select(Code)))
                .Append(rule.Approvers.Count < rule.Count ? " (fewer than needed: every request it matches is denied)" : "").Append(" |\n");
        }
    }

    /// <summary>Renders the report as one indented JSON object (field names in snake_case; times in RFC 3339, UTC).</summary>
    /// <returns>The JSON text, ending with a newline.</returns>
    public string ToJson()
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteString("policy", PolicySource);
            json.WriteString("audit", AuditSource);
            json.WriteString("now", Rfc3339.Format(Now));
            json.WriteString("window", Duration.Format(Window));
            json.WriteString("since", Rfc3339.Format(Since));
            json.WriteNumber("records", AuditRecords);
            json.WriteNumber("allowed_records", AllowedRecords);
            json.WriteNumber("unmatched_allowed_records", UnmatchedAllowedRecords);
            WriteTime(json, "first_record", FirstRecord);
            WriteTime(json, "last_record", LastRecord);
            json.WriteNumber("grants", GrantCount);
            json.WriteNumber("unused_grants", UnusedGrantCount);
            json.WriteNumber("not_seen_log_incomplete_grants", NotSeenLogIncompleteGrantCount);
            json.WriteBoolean("audit_log_complete", AuditLogComplete);
            WriteLosses(json);

            json.WriteStartArray("high_risk_roles");
            foreach (var role in HighRiskRoles)
            {
                json.WriteStartObject();
                json.WriteString("role", role.Role);
                json.WriteStartArray("reasons");
                foreach (var reason in role.Reasons)
                {
                    json.WriteStartObject();
                    json.WriteString("code", reason.Code);
                    json.WriteString("via", reason.Via);
                    json.WriteString("detail", reason.Detail);
                    json.WriteEndObject();
                }

                json.WriteEndArray();
                WriteHolders(json, role.Holders);
                json.WriteEndObject();
            }

            json.WriteEndArray();

            json.WriteNumber("break_glass_use_count", BreakGlassUseCount);
            json.WriteStartArray("break_glass_uses");
            foreach (var use in BreakGlassUses)
            {
                json.WriteStartObject();
                json.WriteNumber("line", use.Line);
                json.WriteString("time", Rfc3339.Format(use.Time));
                json.WriteString("subject", use.Subject);
                WriteStrings(json, "on_behalf_of", use.OnBehalfOf);
                json.WriteString("action", use.Action);
                json.WriteString("resource", use.Resource);
                json.WriteBoolean("allowed", use.Allowed);
                json.WriteString("reason", use.Reason);
                if (use.Role is { } role)
                {
                    json.WriteString("role", role);
                }

                json.WriteString("break_glass_role", use.BreakGlassRole);
                json.WriteString("activated_by", use.ActivatedBy);
                json.WriteString("activated_at", Rfc3339.Format(use.ActivatedAt));
                json.WriteString("justification", use.Justification);
                json.WriteEndObject();
            }

            json.WriteEndArray();

            json.WriteStartArray("approval_rules");
            foreach (var rule in ApprovalRules)
            {
                json.WriteStartObject();
                json.WriteString("rule", rule.Name);
                WriteStrings(json, "match", rule.Match);
                json.WriteNumber("count", rule.Count);
                WriteStrings(json, "approver_roles", rule.ApproverRoles);
                json.WriteString("valid_for", Duration.Format(rule.ValidFor));
                WriteStrings(json, "approvers", rule.Approvers);
                json.WriteEndObject();
            }

            json.WriteEndArray();

            json.WriteStartArray("exclusion_breaches");
            foreach (var breach in ExclusionBreaches)
            {
                json.WriteStartObject();
                json.WriteString("subject", breach.Subject);
                WriteStrings(json, "set", breach.Set);
                WriteStrings(json, "holds", breach.HeldFromSet);
                WriteSource(json, breach.Source);
                json.WriteEndObject();
            }

            json.WriteEndArray();

            json.WriteStartArray("roles");
            foreach (var role in Roles)
            {
                json.WriteStartObject();
                json.WriteString("role", role.Name);
                json.WriteString("id", role.Id);
                if (role.Conditions.Count > 0)
                {
                    WriteStrings(json, "conditions", role.Conditions);
                }

                if (role.MaxActivation is { } maxActivation)
                {
                    json.WriteString("break_glass_max_activation", Duration.Format(maxActivation));
                }

                WriteGrants(json, role.Grants, withRole: false);
                WriteHolders(json, role.Holders);
                json.WriteEndObject();
            }

            json.WriteEndArray();

            json.WriteStartArray("subjects");
            foreach (var subject in Subjects)
            {
                json.WriteStartObject();
                json.WriteString("subject", subject.Id);
                if (subject.Kind is not null)
                {
                    json.WriteString("kind", subject.Kind);
                }

                WriteTime(json, "last_seen", subject.LastSeen);
                json.WriteStartArray("roles");
                foreach (var role in subject.Roles)
                {
                    json.WriteStartObject();
                    json.WriteString("role", role.Role);
                    json.WriteBoolean("declared", role.Declared);
                    WriteSource(json, role.Source);
                    json.WriteEndObject();
                }

                json.WriteEndArray();
                WriteGrants(json, subject.Grants, withRole: true);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.GetBuffer(), 0, (int)stream.Length) + "\n";
    }

    private static void WriteGrants(Utf8JsonWriter json, IReadOnlyList<GrantUsage> grants, bool withRole)
    {
        json.WriteStartArray("grants");
        foreach (var grant in grants)
        {
            json.WriteStartObject();
            if (withRole)
            {
                json.WriteString("role", grant.Role);
            }

            json.WriteString("rule", grant.Rule);
            WriteTime(json, "last_used", grant.LastUsed);
            json.WriteNumber("uses_in_window", grant.UsesInWindow);
            json.WriteBoolean("unused", grant.Unused);
            json.WriteString("status", StatusCode(grant.Status));
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    private void WriteLosses(Utf8JsonWriter json)
    {
        json.WriteStartObject("losses");
        json.WriteNumber("lost_records", LostRecords);
        json.WriteNumber("loss_markers", LossMarkers);
        if (TornLine is { } torn)
        {
            json.WriteNumber("torn_line", torn);
        }
        else
        {
            json.WriteNull("torn_line");
        }

        json.WriteNumber("lost_records_in_window", LostRecordsInWindow);
        WriteTime(json, "lost_in_window_from", LostInWindowFrom);
        WriteTime(json, "lost_in_window_to", LostInWindowTo);
        json.WriteStartArray("gaps");
        foreach (var gap in Gaps)
        {
            json.WriteStartObject();
            json.WriteNumber("line", gap.LineNumber);
            json.WriteNumber("lost", gap.Lost);
            json.WriteString("from", Rfc3339.Format(gap.From));
            json.WriteString("to", Rfc3339.Format(gap.To));
            json.WriteBoolean("in_window", gap.InWindow);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteNumber("gaps_not_listed", LossMarkers - Gaps.Count);
        json.WriteEndObject();
    }

    private void AppendIncompleteLog(StringBuilder text)
    {
        if (AuditLogComplete)
        {
            return;
        }

        text.Append("- **The audit log is incomplete**: ").Append(Number(LostRecords)).Append(" records lost (")
            .Append(Number(LossMarkers)).Append(LossMarkers == 1 ? " loss marker" : " loss markers");
        if (TornLine is { } torn)
        {
            text.Append("; line ").Append(Number(torn)).Append(" is a torn final line, a write cut off, time unknown");
        }

        text.Append(").");
        if (AuditLogIncompleteOverWindow)
        {
            text.Append(" The window is not fully covered: ").Append(IncompleteReason())
                .Append(". A grant not seen since ").Append(Rfc3339.Format(Since))
                .Append(" may have been used in them, so it is reported as **not seen, log incomplete**, not as unused.\n");
        }
        else
        {
            text.Append(" All of them were lost before ").Append(Rfc3339.Format(Since)).Append(", outside the window: the unused verdicts stand.\n");
        }
    }

    /// <summary>Why grants not seen are not called unused: the records lost in the window, and when.</summary>
    private string IncompleteReason()
    {
        var reason = new StringBuilder();
        long marked = LostRecordsInWindow - (TornLine is null ? 0 : 1);
        if (marked > 0 && LostInWindowFrom is { } from && LostInWindowTo is { } to)
        {
            reason.Append(Number(marked)).Append(" records lost between ").Append(Rfc3339.Format(from)).Append(" and ").Append(Rfc3339.Format(to));
        }

        if (TornLine is not null)
        {
            reason.Append(reason.Length > 0 ? ", and " : "").Append("1 record of unknown time (the torn final line)");
        }

        return reason.ToString();
    }

    private void AppendGaps(StringBuilder text)
    {
        if (AuditLogComplete)
        {
            return;
        }

        text.Append("\n## Gaps in the audit log\n\n| line | records lost | from | to | in the window |\n|---|---|---|---|---|\n");
        foreach (var gap in Gaps)
        {
            text.Append("| ").Append(Number(gap.LineNumber)).Append(" | ").Append(Number(gap.Lost)).Append(" | ").Append(Rfc3339.Format(gap.From))
                .Append(" | ").Append(Rfc3339.Format(gap.To)).Append(" | ").Append(gap.InWindow ? "yes" : "no").Append(" |\n");
        }

        if (TornLine is { } torn)
        {
            text.Append("| ").Append(Number(torn)).Append(" | 1 (torn final line) | unknown | unknown | assumed |\n");
        }

        if (LossMarkers > Gaps.Count)
        {
            text.Append("\n").Append(Number(LossMarkers - Gaps.Count)).Append(" more loss markers are not listed; the totals above count them.\n");
        }
    }

    private static string StatusText(GrantStatus status) => status switch
    {
        GrantStatus.Used => "used",
        GrantStatus.Unused => "**unused**",
        _ => "not seen, log incomplete",
    };

    private static string StatusCode(GrantStatus status) => status switch
    {
        GrantStatus.Used => "used",
        GrantStatus.Unused => "unused",
        _ => "not_seen_log_incomplete",
    };

    private static void WriteHolders(Utf8JsonWriter json, IReadOnlyList<RoleHolder> holders)
    {
        json.WriteStartArray("holders");
        foreach (var holder in holders)
        {
            json.WriteStartObject();
            json.WriteString("subject", holder.Subject);
            WriteSource(json, holder.Source);
            json.WriteStartArray("through");
            foreach (string role in holder.Through)
            {
                json.WriteStringValue(role);
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    private static void WriteSource(Utf8JsonWriter json, RoleSource source)
    {
        json.WriteStartArray("source");
        if (source.HasFlag(RoleSource.Binding))
        {
            json.WriteStringValue("binding");
        }

        if (source.HasFlag(RoleSource.Audit))
        {
            json.WriteStringValue("audit");
        }

        json.WriteEndArray();
    }

    private static void WriteStrings(Utf8JsonWriter json, string name, IReadOnlyList<string> values)
    {
        json.WriteStartArray(name);
        foreach (string value in values)
        {
            json.WriteStringValue(value);
        }

        json.WriteEndArray();
    }

    private static void WriteTime(Utf8JsonWriter json, string name, DateTimeOffset? time)
    {
        if (time is { } value)
        {
            json.WriteString(name, Rfc3339.Format(value));
        }
        else
        {
            json.WriteNull(name);
        }
    }

    private static string ReasonText(string role, HighRiskReason reason)
    {
        string via = reason.Via == role ? "" : " (via " + Code(reason.Via) + ")";
        return reason.Code switch
        {
            "all_access" => "grants every action on every resource: " + Code(reason.Detail) + via,
            "wildcard_action" => "grants every action: " + Code(reason.Detail) + via,
            "highest_ceiling" => "ceiling at the highest tier " + Code(reason.Detail) + via,
            "clearance" => "clearance " + Code(reason.Detail) + via,
            "break_glass" => "break-glass role, activations up to " + Code(reason.Detail) + via,
            _ => "admin-like name" + via,
        };
    }

    private static string GrantList(IEnumerable<GrantUsage> grants, bool withTime)
    {
        var items = grants.Select(g => Code(g.Role + ": " + g.Rule)
            + (withTime ? " (" + LastUsedText(g.LastUsed) + (g.Status == GrantStatus.NotSeenLogIncomplete ? "; not seen, log incomplete" : "") + ")" : "")).ToList();
        return items.Count == 0 ? "none" : string.Join("<br>", items);
    }

    private static string LastUsedText(DateTimeOffset? time) => time is { } value ? Rfc3339.Format(value) : "never";

    private static string HolderText(RoleHolder holder)
        => Code(holder.Subject) + " (" + SourceText(holder.Source)
            + (holder.Through.Count == 0 ? "" : ", through " + string.Join(", ", holder.Through.Select(Code))) + ")";

    private static string SourceText(RoleSource source) => source switch
    {
        RoleSource.Binding => "binding",
        RoleSource.Audit => "audit",
        _ => "binding, audit",
    };

    private static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

    // Backticks keep glob characters literal in rendered Markdown; pipes would break the table. Audit records carry
    // ids from claims: control and bidirectional formatting characters (newlines included) are written as \uXXXX,
    // so the report cannot hide or reorder text on the terminal that shows it (policy-language.md, choice 24).
    private static string Code(string value)
        => "`" + UnsafeText.Escape(value).Replace("`", "'", StringComparison.Ordinal).Replace("|", "\\|", StringComparison.Ordinal) + "`";
}
