using System.Globalization;
using AiRbac.Model;

namespace AiRbac.Cli.Testing;

/// <summary>What coverage counts (docs/policy-testing.md#what-exercised-means).</summary>
internal enum CoverageKind
{
    /// <summary>An <c>allow</c> entry of a role.</summary>
    Grant,

    /// <summary>A <c>deny</c> entry of a role.</summary>
    Deny,

    /// <summary>A <c>resources</c> entry.</summary>
    CatalogEntry,

    /// <summary>A <c>mutually_exclusive</c> list.</summary>
    MutuallyExclusive,

    /// <summary>A <c>not_by_owner</c> entry.</summary>
    NotByOwner,

    /// <summary>Version 2: one condition of a role's <c>conditions</c>.</summary>
    Condition,

    /// <summary>Version 2: a break-glass role's activation.</summary>
    BreakGlass,

    /// <summary>Version 2: an <c>approvals</c> rule.</summary>
    ApprovalRule,
}

/// <summary>One thing of a policy coverage counts: where it is written and how it reads in a report.</summary>
/// <param name="Kind">What it is.</param>
/// <param name="Role">For a grant or deny, the role that declares it; for a condition, the role it gates (a report names it); otherwise <see langword="null"/>.</param>
/// <param name="Text">The rule, pattern or list as a report shows it.</param>
/// <param name="Location">Where it is written in the policy.</param>
internal sealed record CoverageItem(CoverageKind Kind, string? Role, string Text, SourceLocation Location)
{
    /// <summary>How a report names the item: <c>grant 'model:query on model:*' of role 'analyst'</c>.</summary>
    public string Describe() => Kind switch
    {
        CoverageKind.Grant => $"grant '{Text}' of role '{Role}'",
        CoverageKind.Deny => $"deny '{Text}' of role '{Role}'",
        CoverageKind.CatalogEntry => $"resources entry '{Text}'",
        CoverageKind.MutuallyExclusive => $"mutually_exclusive list [{Text}]",
        CoverageKind.Condition => $"condition '{Text}' of role '{Role}'",
        CoverageKind.BreakGlass => $"break-glass activation of role '{Text}'",
        CoverageKind.ApprovalRule => $"approval rule '{Text}'",
        _ => $"not_by_owner entry '{Text}'",
    };
}

/// <summary>
/// Rule coverage of one policy: every grant, deny, <c>resources</c> entry, <c>mutually_exclusive</c> list and
/// <c>not_by_owner</c> entry, and in version 2 every role condition, break-glass role (its activation) and approval rule,
/// and which of them decided a passing case (read from the engine's
/// <see cref="CompiledPolicy.Trace(Subject, string, in ResourceRequest, RequestContext?)"/>, never from a second evaluation). <c>min_holders</c> is not counted: no request
/// exercises it (<c>airbac lint</c> checks it against the bindings).
/// </summary>
internal sealed class RuleCoverage
{
    private readonly Dictionary<(CoverageKind, string?, SourceLocation), CoverageItem> byKey = [];
    private readonly Dictionary<(CoverageKind, string), CoverageItem> byName = [];
    private readonly List<CoverageItem> items = [];
    private readonly HashSet<CoverageItem> exercised = [];

    // A gate (condition, break-glass role, approval rule) is exercised when passing cases saw it both open and closed.
    private readonly Dictionary<CoverageItem, Gate> gates = [];

    public RuleCoverage(PolicyCompilation compilation)
    {
        var policy = compilation.Policy!;
        foreach (var role in policy.Roles)
        {
            foreach (var rule in role.Allow)
            {
                Add(new CoverageItem(CoverageKind.Grant, role.Name, rule.Text, rule.Location));
            }

            foreach (var rule in role.Deny)
            {
                Add(new CoverageItem(CoverageKind.Deny, role.Name, rule.Text, rule.Location));
            }
        }

        if (compilation.Document is { } document)
        {
            foreach (var entry in document.Resources)
            {
                Add(new CoverageItem(CoverageKind.CatalogEntry, null, entry.Match.Value, entry.Location));
            }

            foreach (var set in document.Constraints.MutuallyExclusive)
            {
                Add(new CoverageItem(CoverageKind.MutuallyExclusive, null, string.Join(", ", set.Roles.Select(r => r.Value)), set.Location));
            }

            foreach (var action in document.Constraints.NotByOwner)
            {
                Add(new CoverageItem(CoverageKind.NotByOwner, null, action.Value, action.Location));
            }

            // Version 2: each condition (its canonical text, as Decision.Condition writes it), each break-glass role, each
            // approval rule. A condition is keyed by where it is written (the engine reports locations), as the engine does.
            foreach (var definition in document.Roles)
            {
                if (policy.FindRole(definition.Name.Value) is not { } role)
                {
                    continue;
                }

                for (int i = 0; i < definition.Conditions.Count && i < role.Conditions.Count; i++)
                {
                    var condition = definition.Conditions[i];
                    var at = condition.Location.Line > 0 ? condition.Location : condition.Key.Location;
                    var item = new CoverageItem(CoverageKind.Condition, role.Name, role.Conditions[i], at);
                    Add(item, key: null);
                    byName.TryAdd((CoverageKind.Condition, role.Name + "\n" + role.Conditions[i]), item);
                }

                if (role.IsBreakGlass)
                {
                    AddNamed(new CoverageItem(CoverageKind.BreakGlass, null, role.Name, definition.BreakGlass?.Location ?? role.Location));
                }
            }
        }

        foreach (var rule in policy.ApprovalRules)
        {
            AddNamed(new CoverageItem(CoverageKind.ApprovalRule, null, rule.Name, rule.Location));
        }
    }

    /// <summary>Every item, in policy order (roles' rules first, then the catalog, then the constraints).</summary>
    public IReadOnlyList<CoverageItem> Items => items;

    /// <summary>How many items a passing case exercised.</summary>
    public int Covered => exercised.Count;

    /// <summary>The items no passing case exercised, in policy order.</summary>
    public IEnumerable<CoverageItem> Uncovered => items.Where(i => !exercised.Contains(i));

    /// <summary>Counts, per kind, how many items there are and how many were exercised.</summary>
    public IEnumerable<(CoverageKind Kind, int Covered, int Total)> ByKind()
        => items.GroupBy(i => i.Kind).OrderBy(g => g.Key).Select(g => (g.Key, g.Count(exercised.Contains), g.Count()));

    /// <summary>The share covered, in percent, rounded down to one decimal (100.0 only when every item is covered).</summary>
    public decimal Percent => items.Count == 0 ? 100m : Math.Floor(exercised.Count * 1000m / items.Count) / 10m;

    /// <summary>Whether at least <paramref name="minimum"/> percent of the items were exercised (compared exactly, not rounded).</summary>
    public bool Meets(decimal minimum) => items.Count == 0 || exercised.Count * 100m >= minimum * items.Count;

    /// <summary>
    /// Records what decided a passing case: each subject's deciding rule or list, the catalog entry, the not_by_owner entry,
    /// and in version 2 each side of a gate: a condition that held (<see cref="DecisionTrace.HeldConditionLocations"/>) or
    /// failed (the one <c>condition_failed</c> names), a break-glass role activated (a break-glass decision) or not
    /// (<c>break_glass_not_active</c>), an approval rule satisfied (allowed) or not (<c>approval_required</c>).
    /// </summary>
    public void Record(DecisionTrace trace)
    {
        foreach (var decision in trace.Chain.Append(trace.Decision))
        {
            if (decision.BreakGlassRole is { } breakGlass)
            {
                MarkGate(CoverageKind.BreakGlass, breakGlass, Gate.Open);
            }

            // The gate that failed, as the decision names it (its role, and for a condition the condition's text).
            var failed = decision.Reason == DecisionReason.DelegationDenied ? decision.DelegatedReason : decision.Reason;
            if (failed == DecisionReason.BreakGlassNotActive && decision.Role is { } closed)
            {
                MarkGate(CoverageKind.BreakGlass, closed, Gate.Closed);
            }
            else if (failed == DecisionReason.ConditionFailed && decision.Role is { } gated && decision.Condition is { } condition)
            {
                MarkGate(CoverageKind.Condition, gated + "\n" + condition, Gate.Closed);
            }

            // A gate that failed decided condition_failed and break_glass_not_active: the grant they name would have allowed
            // but did not, so it is not counted (the condition or the activation is).
            if (decision.RuleLocation is not { } at || decision.Reason is DecisionReason.ConditionFailed or DecisionReason.BreakGlassNotActive
                || (decision.Reason == DecisionReason.DelegationDenied && decision.DelegatedReason is DecisionReason.ConditionFailed or DecisionReason.BreakGlassNotActive))
            {
                continue;
            }

            // A deny decides explicit_deny, a list separation_of_duties; every other decision that names a rule names the
            // grant it judged (allowed, sensitivity_ceiling, missing_tag_clearance). Only a key of a real item is counted.
            var key = decision.Reason switch
            {
                DecisionReason.ExplicitDeny => (CoverageKind.Deny, decision.Role, at),
                DecisionReason.SeparationOfDuties => (CoverageKind.MutuallyExclusive, (string?)null, at),
                _ => (CoverageKind.Grant, decision.Role, at),
            };
            Mark(key);
        }

        if (trace.CatalogEntryLocation is { } entry)
        {
            Mark((CoverageKind.CatalogEntry, null, entry));
        }

        if (trace.NotByOwnerLocation is { } owner)
        {
            Mark((CoverageKind.NotByOwner, null, owner));
        }

        foreach (var condition in trace.HeldConditionLocations)
        {
            if (byKey.TryGetValue((CoverageKind.Condition, null, condition), out var held))
            {
                MarkGate(held, Gate.Open);
            }
        }

        if (trace.Decision.ApprovalRule is { } approval)
        {
            MarkGate(CoverageKind.ApprovalRule, approval, trace.Decision.Allowed ? Gate.Open : Gate.Closed);
        }
    }

    /// <summary>
    /// Why an item is not covered, for the report: <c>decided no passing case</c>, and for a gate which side no passing
    /// case showed (<c>decided no passing case by failing (condition_failed)</c>).
    /// </summary>
    public string Missing(CoverageItem item)
    {
        gates.TryGetValue(item, out var seen);
        (string open, string closed) = item.Kind switch
        {
            CoverageKind.Condition => ("by holding (a grant of a role it gates decided)", "by failing (condition_failed)"),
            CoverageKind.BreakGlass => ("by an activation (a break-glass decision)", "without one (break_glass_not_active)"),
            CoverageKind.ApprovalRule => ("satisfied (allowed)", "unsatisfied (approval_required)"),
            _ => (string.Empty, string.Empty),
        };
        return open.Length == 0 ? "decided no passing case" : seen switch
        {
            Gate.Open => $"decided no passing case {closed}",
            Gate.Closed => $"decided no passing case {open}",
            _ => $"decided no passing case, neither {open} nor {closed}",
        };
    }

    /// <summary>One line of counts: <c>52 of 55 (94.5%): grants 40/42, denies 3/3, ...</c>.</summary>
    public string Summary()
    {
        string Name(CoverageKind kind) => kind switch
        {
            CoverageKind.Grant => "grants",
            CoverageKind.Deny => "denies",
            CoverageKind.CatalogEntry => "resources entries",
            CoverageKind.MutuallyExclusive => "mutually_exclusive lists",
            CoverageKind.Condition => "conditions",
            CoverageKind.BreakGlass => "break-glass activations",
            CoverageKind.ApprovalRule => "approval rules",
            _ => "not_by_owner entries",
        };
        string kinds = string.Join(", ", ByKind().Select(k => string.Create(CultureInfo.InvariantCulture, $"{Name(k.Kind)} {k.Covered}/{k.Total}")));
        return string.Create(CultureInfo.InvariantCulture, $"{Covered} of {items.Count} ({Percent:0.0}%){(kinds.Length == 0 ? "" : ": " + kinds)}");
    }

    private void Add(CoverageItem item) => Add(item, item.Role);

    private void Add(CoverageItem item, string? key)
    {
        // An aliased rule or entry (one location) counts once.
        if (byKey.TryAdd((item.Kind, key, item.Location), item))
        {
            items.Add(item);
        }
    }

    private void AddNamed(CoverageItem item)
    {
        if (byName.TryAdd((item.Kind, item.Text), item))
        {
            items.Add(item);
        }
    }

    private void MarkGate(CoverageKind kind, string name, Gate side)
    {
        if (byName.TryGetValue((kind, name), out var item))
        {
            MarkGate(item, side);
        }
    }

    private void MarkGate(CoverageItem item, Gate side)
    {
        gates.TryGetValue(item, out var seen);
        gates[item] = seen | side;
        if ((seen | side) == (Gate.Open | Gate.Closed))
        {
            exercised.Add(item);
        }
    }

    /// <summary>Which sides of a gate passing cases showed.</summary>
    [Flags]
    private enum Gate
    {
        None = 0,
        Open = 1,
        Closed = 2,
    }

    private void Mark((CoverageKind, string?, SourceLocation) key)
    {
        if (byKey.TryGetValue(key, out var item))
        {
            exercised.Add(item);
        }
    }
}
