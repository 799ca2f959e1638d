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
}

/// <summary>One thing of a policy coverage counts: where it is written and how it reads in a report.</summary>
/// <param name="Kind">What it is.</param>
/// <param name="Role">For a grant or deny, the role that declares it; otherwise <see langword="null"/>.</param>
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
        _ => $"not_by_owner entry '{Text}'",
    };
}

/// <summary>
/// Rule coverage of one policy: every grant, deny, <c>resources</c> entry, <c>mutually_exclusive</c> list and
/// <c>not_by_owner</c> entry, and which of them decided a passing case (read from the engine's
/// <see cref="CompiledPolicy.Trace(Subject, string, in ResourceRequest, RequestContext?)"/>, never from a second evaluation). <c>min_holders</c> is not counted: no request
/// exercises it (<c>airbac lint</c> checks it against the bindings).
/// </summary>
internal sealed class RuleCoverage
{
    private readonly Dictionary<(CoverageKind, string?, SourceLocation), CoverageItem> byKey = [];
    private readonly List<CoverageItem> items = [];
    private readonly HashSet<CoverageItem> exercised = [];

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

    /// <summary>Records what decided a passing case: each subject's deciding rule or list, the catalog entry, the not_by_owner entry.</summary>
    public void Record(DecisionTrace trace)
    {
        foreach (var decision in trace.Chain)
        {
            if (decision.RuleLocation is not { } at)
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
            _ => "not_by_owner entries",
        };
        string kinds = string.Join(", ", ByKind().Select(k => string.Create(CultureInfo.InvariantCulture, $"{Name(k.Kind)} {k.Covered}/{k.Total}")));
        return string.Create(CultureInfo.InvariantCulture, $"{Covered} of {items.Count} ({Percent:0.0}%){(kinds.Length == 0 ? "" : ": " + kinds)}");
    }

    private void Add(CoverageItem item)
    {
        // An aliased rule or entry (one location) counts once.
        if (byKey.TryAdd((item.Kind, item.Role, item.Location), item))
        {
            items.Add(item);
        }
    }

    private void Mark((CoverageKind, string?, SourceLocation) key)
    {
        if (byKey.TryGetValue(key, out var item))
        {
            exercised.Add(item);
        }
    }
}
