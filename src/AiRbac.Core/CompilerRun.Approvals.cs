// Policy language version 2, approvals (docs/policy-language.md, section 13): each approval rule checked and compiled
// (its match rules parsed as grants are, its approver roles resolved, its count and validity bounded), and the lint of
// approval rules against the policy's own bindings (who could approve), asked of the compiled policy.

using System.Globalization;
using AiRbac.Diagnostics;
using AiRbac.Model;
using AiRbac.Patterns;

namespace AiRbac;

internal sealed partial class CompilerRun
{
    private const int MaxApprovalRules = Tuning.Language.MaxApprovalRules;
    private const int MaxApproversRequired = Tuning.Language.MaxApproversRequired;

    /// <summary>The approval rules, checked and compiled, in file order.</summary>
    private CompiledApproval[] CheckApprovals()
    {
        var declared = doc.Approvals ?? [];
        if (declared.Count == 0 || !IsVersion2)
        {
            return []; // a version 1 document's approvals are reported by CheckVersionFeatures
        }

        if (declared.Count > MaxApprovalRules)
        {
            Error(DiagnosticCodes.LimitExceeded, string.Create(CultureInfo.InvariantCulture,
                $"the approvals section declares {declared.Count} rules; at most {MaxApprovalRules} are supported"), At(doc.ApprovalsLocation));
            return [];
        }

        var result = new List<CompiledApproval>();
        foreach (var rule in declared)
        {
            if (CheckApproval(rule) is { } compiled)
            {
                result.Add(compiled);
            }
        }

        return [.. result];
    }

    private CompiledApproval? CheckApproval(ApprovalRuleDefinition rule)
    {
        string name = rule.Name.Value;
        string where = $"approval rule '{Q(name)}'";
        bool ok = true;
        if (name.Length == 0)
        {
            Error(DiagnosticCodes.InvalidValue, "an approval rule's name cannot be empty", rule.Name.Location);
            ok = false;
        }

        if (rule.Match.Count == 0)
        {
            Error(DiagnosticCodes.EmptyValue, $"{where} needs 'match': the requests that need approval (ACTION_PATTERN on RESOURCE_PATTERN)", At(rule.MatchLocation));
            ok = false;
        }

        var match = ParseRuleList(rule.Match, name, "match", "approval rule");
        ok &= match.Count == rule.Match.Count;

        if (rule.Approvers.Count == 0)
        {
            Error(DiagnosticCodes.EmptyValue, $"{where} needs 'approvers': the roles whose holders may approve", At(rule.ApproversLocation));
            ok = false;
        }

        var approvers = new SortedSet<int>();
        foreach (var reference in rule.Approvers)
        {
            if (TryRole(reference, $"{where} approvers", out int role))
            {
                approvers.Add(role);
            }
            else
            {
                ok = false;
            }
        }

        int count = 1;
        if (rule.Count is { } countText
            && (!int.TryParse(countText.Value, NumberStyles.None, CultureInfo.InvariantCulture, out count) || count < 1 || count > MaxApproversRequired))
        {
            Error(DiagnosticCodes.InvalidValue, $"{where}: count '{Q(countText.Value)}' is not a whole number from 1 to {MaxApproversRequired}", countText.Location);
            ok = false;
        }

        long validTicks = 0;
        var longest = TimeSpan.FromDays(Tuning.Language.MaxApprovalValidityDays);
        if (rule.ValidFor is not { } validFor)
        {
            Error(DiagnosticCodes.MissingKey, $"{where} needs 'valid_for': how long an approval stays valid (such as 4h); an approval without an end would approve forever", rule.Name.Location);
            ok = false;
        }
        else if (!Duration.TryParse(validFor.Value, out var valid) || valid > longest)
        {
            Error(DiagnosticCodes.InvalidValue, $"{where}: valid_for '{Q(validFor.Value)}' is not a duration of at most {Duration.Format(longest)} (a positive count and m, h, d or w: 30m, 4h, 1d)", validFor.Location);
            ok = false;
        }
        else
        {
            validTicks = valid.Ticks;
        }

        return ok
            ? new CompiledApproval(name, [.. match.Select(m => (m.Action, m.Resource))], [.. match.Select(m => m.Text)], [.. approvers], count, validTicks, rule.Name.Location)
            : null;
    }

    /// <summary>
    /// Approval rules against the policy's bindings: a rule no bound subject could approve (<c>approval_unsatisfiable</c>),
    /// and one fewer bound subjects could approve than it needs (<c>approvers_below_count</c>). A subject could approve
    /// when, in some scope (unscoped or one of its binding scopes), at compile time, <see cref="CompiledPolicy.Approvers"/>
    /// says so: the engine's own test of an approver.
    /// </summary>
    private void LintApprovals(CompiledPolicy policy)
    {
        var rules = policy.ApprovalRules;
        if (rules.Count == 0)
        {
            return;
        }

        var at = options.TimeProvider.GetUtcNow();
        // Every rule asks the engine's approver test of every bound subject in each of its scopes, and each ask walks the
        // roles its bindings make effective: counted so (closures included) before any of it is done.
        long budget = Tuning.Compile.MaxApproverChecks * Tuning.Compile.ApproverCheckRoles;
        long work = 0;
        foreach (var subject in policy.BoundSubjects)
        {
            work += policy.ApproverCheckCost(subject.Id) * rules.Count;
            if (work > budget)
            {
                break;
            }
        }

        if (work > budget)
        {
            return; // too many subjects and rules to check within the lint budget: no warning rather than a slow compile
        }

        var definitions = doc.Approvals!;
        foreach (var rule in rules)
        {
            int holders = policy.Approvers(rule, at).Count;
            var definition = definitions.First(d => d.Name.Value == rule.Name);
            string approvers = string.Join(", ", rule.Approvers.Select(r => Q(r.Name)));
            if (holders == 0)
            {
                Warn(DiagnosticCodes.ApprovalUnsatisfiable,
                    $"approval rule '{Q(rule.Name)}': no subject in bindings can approve it (approvers: {approvers}; a role with conditions or a break-glass role never makes an approver), so every request it matches is denied", definition.Name.Location);
            }
            else if (holders < rule.Count)
            {
                Warn(DiagnosticCodes.ApproversBelowCount, string.Create(CultureInfo.InvariantCulture,
                    $"approval rule '{Q(rule.Name)}' needs {rule.Count} distinct approvers, but only {holders} subject(s) in bindings can approve it (approvers: {approvers})"), definition.Count?.Location ?? definition.Name.Location);
            }
        }
    }
}

/// <summary>
/// One approval rule, compiled: the requests it matches (action and resource patterns), the approver roles (sorted), how
/// many distinct approvers, and how long an approval stays valid.
/// </summary>
internal sealed record CompiledApproval(string Name, (Pattern Action, Pattern Resource)[] Match, string[] MatchText, int[] ApproverRoles,
    int Count, long ValidTicks, SourceLocation Location)
{
    /// <summary>Whether the rule matches the request's action and resource.</summary>
    public bool Matches(string action, string resource)
    {
        foreach (var (a, r) in Match)
        {
            if (a.IsMatch(action) && r.IsMatch(resource))
            {
                return true;
            }
        }

        return false;
    }
}
