using System.Globalization;
using System.Text;
using AiRbac.Model;

namespace AiRbac.Core.Tests.Reference;

/// <summary>A generated request: who asks, what, on which resource.</summary>
/// <param name="Subject">The subject (with its on-behalf-of chain).</param>
/// <param name="Action">The action.</param>
/// <param name="Resource">The resource with what the caller knows of it.</param>
/// <param name="Context">What the request carries besides (docs/policy-language.md, section 11), or null.</param>
internal sealed record GeneratedRequest(Subject Subject, string Action, ResourceRequest Resource, RequestContext? Context = null)
{
    public override string ToString()
    {
        var sb = new StringBuilder();
        if (Context is { } context)
        {
            sb.Append(CultureInfo.InvariantCulture, $"context=[{string.Join(", ", context.Attributes)}] activations=[{string.Join(", ", context.Activations)}] approvals=[{string.Join(", ", context.Approvals)}] ");
        }

        sb.Append(CultureInfo.InvariantCulture, $"action={Quote(Action)} resource={Quote(Resource.Name)}");
        sb.Append(CultureInfo.InvariantCulture, $" scope={Quote(Resource.Scope)} sensitivity={Quote(Resource.Sensitivity)}");
        sb.Append(CultureInfo.InvariantCulture, $" tags=[{string.Join(",", Resource.Tags.ToArray())}] owner={Quote(Resource.Owner)}");
        sb.Append(" subject=");
        for (Subject? s = Subject; s is not null; s = s.OnBehalfOf)
        {
            if (!ReferenceEquals(s, Subject))
            {
                sb.Append(" on_behalf_of=");
            }

            sb.Append(CultureInfo.InvariantCulture, $"{{id={Quote(s.Id)} kind={s.Kind?.ToString() ?? "null"} roles=");
            if (s.Roles is null)
            {
                sb.Append("null");
            }
            else
            {
                sb.Append('[');
                sb.Append(string.Join(", ", s.Roles.Select(r =>
                    r.Role + (r.Scope is null ? string.Empty : "@" + Quote(r.Scope))
                    + (r.Expires is { } e ? " until " + e.ToString("O", CultureInfo.InvariantCulture) : string.Empty))));
                sb.Append(']');
            }

            sb.Append('}');
        }

        return sb.ToString();
    }

    private static string Quote(string? s) => s is null ? "null" : "\"" + s + "\"";
}

/// <summary>
/// Generates random valid policies and random requests against them from a seed, drawing names from small
/// vocabularies chosen so that every pattern shape of docs/policy-language.md, section 3 and every step of section 4 is both hit and missed.
/// </summary>
internal sealed class RandomPolicyGenerator
{
    /// <summary>The fixed clock every generated expiry is relative to.</summary>
    public static readonly DateTimeOffset Now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly string[] RoleNamePool =
    [
        "viewer", "analyst", "clinician", "release-bot", "policy-engineer", "deploy-approver",
        "admin", "auditor", "trainer", "agent-runner", "on", "yes",
    ];

    private static readonly string[] Actions =
    [
        "model:query", "model:deploy", "model:promote", "tool:invoke", "data:read", "data:write",
        "config:approve", "config:write",
    ];

    private static readonly string[] ActionPatterns =
    [
        "model:query", "model:deploy", "model:promote", "tool:invoke", "data:read", "data:write",
        "config:approve", "config:write", "*", "**", "model:*", "data:*", "*:read", "?odel:query",
        "[dm]*:*", "config:*", "tool:[!a-s]*",
    ];

    /// <summary>Resource patterns, by the matcher shape they exercise.</summary>
    public static readonly IReadOnlyList<(string Pattern, string Shape)> ResourcePatterns =
    [
        ("model:gpt-4o", "exact"), ("model:clinical-x", "exact"), ("tool:search", "exact"), ("output:summary", "exact"),
        ("config:prod", "exact"), ("model:{a,b}", "exact"),
        ("tool:report_*", "prefix"), ("model:clinical-*", "prefix"), ("model:gpt-*", "prefix"), ("output:*", "prefix"),
        ("config:*", "prefix"),
        ("dataset:**", "prefix-any"), ("dataset:research/**", "prefix-any"), ("dataset:claims/**", "prefix-any"),
        ("**", "all"),
        ("dataset:*/pii/**", "general"), ("tool:?ql_*", "general"), ("tool:[a-c]*", "general"), ("tool:[!a-c]*", "general"),
        ("tool:[-x]*", "general"), ("a/**/b", "general"), ("a**b", "general"), ("*", "general"), ("model:*-4o", "general"),
        ("**/pii/**", "general"), ("tool:*_weekly", "general"), ("model:gpt-4?", "general"),
    ];

    private static readonly string[] Resources =
    [
        "model:gpt-4o", "model:gpt-4o-mini", "model:gpt-4", "model:gpt-41", "model:clinical-x", "model:clinical-",
        "model:clinical-x/v2", "model:{a,b}", "model:a", "model:x-4o", "tool:search", "tool:report_weekly",
        "tool:report_", "tool:report_a/b", "tool:sql_run", "tool:bql_", "tool:ql_", "tool:cat", "tool:apple",
        "tool:dog", "tool:-x", "tool:x_weekly", "output:summary", "output:a/b", "config:prod", "dataset:research",
        "dataset:research/", "dataset:research/a", "dataset:research/a/b", "dataset:researchx", "dataset:claims/2024",
        "dataset:x/pii/y", "dataset:x/pii/", "dataset:x/y/pii/z", "dataset:pii/x", "dataset:", "a/b", "a//b",
        "a/x/y/b", "ab", "Model:gpt-4o", "x",
    ];

    private static readonly string[] CatalogPatterns =
    [
        "dataset:claims/**", "model:clinical-*", "dataset:*/pii/**", "tool:report_*", "**", "model:gpt-4o", "dataset:**",
        "tool:[a-c]*", "dataset:*", "dataset:research/*", "model:*", "output:*",
    ];

    private static readonly string[] Tags = ["phi", "pii", "secret"];

    private static readonly string[] Kinds = ["user", "service", "agent"];

    private static readonly string[] NotByOwnerPatterns = ["config:approve", "model:promote", "model:*", "*", "data:read"];

    private static readonly string[] Scopes = ["acme", "acme/pd", "acme/pd/prod", "acme/pd2", "other/x"];

    private static readonly string[] MalformedScopes = ["", "/acme", "acme/", "acme//pd"];

    private static readonly string[] PolicyExpiries =
    [
        "2025-06-01T00:00:00Z", "2026-01-01T00:00:00Z", "2026-01-01T00:30:00+01:00",
        "2099-12-31T00:00:00Z", "2026-01-01T00:00:00.5Z", "2026-01-01T01:30:00+01:00",
    ];

    private static readonly string[] SubjectIds = ["alice", "bob", "svc", "bot"];

    private static readonly string[][] TierSets =
    [
        ["public", "internal", "confidential", "restricted"], ["low", "high"], ["only"],
    ];

    // Version 2: the context keys (name, type) and, per key, conditions to draw from and request values to try.
    private static readonly (string Name, string Type)[] ContextKeys = [("mfa", "bool"), ("net", "string"), ("risk", "integer")];

    private static readonly string[][] NetValues = [["corp"], ["corp", "vpn"], ["c*"], ["**"]];

    // At Now (00:00 UTC) the first window holds, the second does not, the list holds, the fourth holds from its start, and
    // the last ends exactly at midnight (end exclusive: it does not hold).
    private static readonly string[][] Windows = [["23:00-01:00"], ["01:00-02:00"], ["10:00-11:00", "23:59-00:01"], ["00:00-00:01"], ["22:00-00:00"]];

    private static readonly string[] NetRequestValues = ["corp", "vpn", "cx", "home", "c/x", ""];

    private static readonly string[] MaxActivations = ["30m", "1h", "2h"];

    // Activation starts relative to Now, in minutes: inside every max_activation, at its edges, past all, in the future.
    private static readonly int[] ActivationAges = [0, 10, 29, 30, 59, 60, 119, 120, 500, -1];

    // Approval ages relative to Now, in minutes: mostly fresh, at the valid_for edges (30m, 1h, 2h), stale, in the future.
    private static readonly int[] ApprovalAges = [0, 1, 5, 10, 29, 30, 59, 60, 119, 120, -1];

    // Blank ones: empty, spaces, and invisible (a zero-width space and a right-to-left override: not a justification).
    private static readonly string[] Justifications = ["incident INC-42: patient in ER", "", "   ", "x", "\u200b\u202e"];

    // Version 2 draws come from their own stream, so the version 1 part of each seed's policies and requests is what it
    // was before version 2 existed (the other generated-policy tests keep their coverage).
    private readonly Random versionTwo;
    private Random rng;

    public RandomPolicyGenerator(int seed)
    {
        rng = new Random(seed);
        versionTwo = new Random(unchecked((seed * 7919) + 17));
    }

    /// <summary>Runs <paramref name="draw"/> on the version 2 stream.</summary>
    private T V2<T>(Func<T> draw)
    {
        var saved = rng;
        rng = versionTwo;
        try
        {
            return draw();
        }
        finally
        {
            rng = saved;
        }
    }

    /// <summary>A random valid policy.</summary>
    public PolicyDocument NextPolicy()
    {
        // Tiers.
        string[]? declaredTiers = Chance(0.4) ? null : Pick(TierSets);
        string[] tiers = declaredTiers ?? TierSets[0];
        string? defaultTier = Chance(0.3) ? Pick(tiers) : null;

        // Roles, inheriting along a random rank so that the graph is a DAG whose edges go both ways in file order.
        int n = rng.Next(1, 13);
        string[] names = [.. RoleNamePool.OrderBy(_ => rng.Next()).Take(n)];
        string?[] ids = [.. names.Select(name => Chance(0.3) ? "r-" + name : null)];
        int[] rank = [.. Enumerable.Range(0, n).OrderBy(_ => rng.Next())];
        var inherits = new List<int>[n];
        for (int i = 0; i < n; i++)
        {
            inherits[i] = [];
            int count = Chance(0.5) ? rng.Next(1, 3) : 0;
            for (int k = 0; k < count; k++)
            {
                int j = rng.Next(n);
                if (rank[j] < rank[i] && !inherits[i].Contains(j))
                {
                    inherits[i].Add(j);
                }
            }
        }

        bool version2 = V2(() => Chance(0.5));
        var roles = new List<RoleDefinition>();
        for (int i = 0; i < n; i++)
        {
            roles.Add(new RoleDefinition
            {
                Conditions = version2 ? V2(() => Chance(0.35) ? RandomConditions() : []) : [],
                BreakGlass = version2 ? V2(() => Chance(0.2) ? new BreakGlassDefinition { MaxActivation = L(Pick(MaxActivations)) } : null) : null,
                Name = L(names[i]),
                Id = ids[i] is { } id ? L(id) : null,
                Inherits = [.. inherits[i].Select(j => L(Ref(names[j], ids[j])))],
                Allow = [.. Many(0, 5, RandomRule).Select(L)],
                Deny = Chance(0.35) ? [.. Many(1, 3, RandomRule).Select(L)] : [],
                MaxSensitivity = Chance(0.75) ? L(Pick(tiers)) : null,
                Clearances = Chance(0.5) ? [.. Subset(Tags, 1).Select(L)] : [],
                Kinds = Chance(0.3) ? [.. Subset(Kinds, 1).Select(L)] : null,
            });
        }

        // Catalog.
        var catalog = new List<ResourceClassification>();
        int entries = rng.Next(0, 5);
        for (int i = 0; i < entries; i++)
        {
            catalog.Add(new ResourceClassification
            {
                Match = L(Pick(CatalogPatterns)),
                Sensitivity = Chance(0.7) ? L(Pick(tiers)) : null,
                Tags = Chance(0.5) ? [.. Subset(Tags, 1).Select(L)] : [],
            });
        }

        // Separation of duties: keep only lists whose roles are not joined through inheritance.
        var closures = new HashSet<int>[n];
        for (int i = 0; i < n; i++)
        {
            closures[i] = Closure(i, inherits);
        }

        var exclusive = new List<ExclusiveRoleSet>();
        int lists = Chance(0.5) ? rng.Next(1, 4) : 0;
        for (int i = 0; i < lists && n >= 2; i++)
        {
            int[] members = [.. Enumerable.Range(0, n).OrderBy(_ => rng.Next()).Take(rng.Next(2, Math.Min(3, n) + 1))];
            bool joined = closures.Any(c => members.Count(c.Contains) >= 2);
            if (!joined)
            {
                exclusive.Add(new ExclusiveRoleSet { Roles = [.. members.Select(j => L(Ref(names[j], ids[j])))] });
            }
        }

        var notByOwner = Chance(0.5) ? Subset(NotByOwnerPatterns, 1).Take(2).Select(L).ToList() : [];

        // Bindings.
        var groups = new List<GroupDefinition>();
        var subjects = new List<SubjectDefinition>();
        if (Chance(0.6))
        {
            int groupCount = rng.Next(0, 3);
            for (int g = 0; g < groupCount; g++)
            {
                groups.Add(new GroupDefinition { Name = L("g" + g.ToString(CultureInfo.InvariantCulture)), Roles = [.. Many(0, 3, () => PolicyBinding(names, ids))] });
            }

            foreach (string id in SubjectIds)
            {
                if (!Chance(0.6))
                {
                    continue;
                }

                subjects.Add(new SubjectDefinition
                {
                    Id = L(id),
                    Kind = Chance(0.5) ? L(Pick(Kinds)) : null,
                    Roles = [.. Many(0, 3, () => PolicyBinding(names, ids))],
                    Groups = [.. groups.Where(_ => Chance(0.5)).Select(g => L(g.Name.Value))],
                    Scope = Chance(0.25) ? L(Pick(Scopes)) : null,
                    Expires = Chance(0.2) ? L(Pick(PolicyExpiries)) : null,
                });
            }
        }

        List<ApprovalRuleDefinition>? approvals = version2 ? V2(() => Chance(0.5) ? RandomApprovals(roles, subjects, groups) : null) : null;

        return new PolicyDocument
        {
            SourceName = "generated.yaml",
            Approvals = approvals,
            Version = L(version2 ? "2" : "1"),
            Context = version2 ? [.. ContextKeys.Select(k => new ContextKeyDefinition { Name = L(k.Name), Type = L(k.Type) })] : null,
            Sensitivity = declaredTiers?.Select(L).ToList(),
            DefaultSensitivity = defaultTier is null ? null : L(defaultTier),
            Roles = roles,
            Resources = catalog,
            Constraints = new PolicyConstraints { MutuallyExclusive = exclusive, NotByOwner = notByOwner },
            Bindings = new PolicyBindings { Groups = groups, Subjects = subjects },
        };
    }

    /// <summary>A random request against <paramref name="policy"/>.</summary>
    public GeneratedRequest NextRequest(PolicyDocument policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        int depth = rng.NextDouble() switch { < 0.55 => 0, < 0.8 => 1, < 0.93 => 2, _ => 3 };
        Subject? principal = null;
        for (int i = 0; i < depth; i++)
        {
            principal = NextSubject(policy, principal);
        }

        Subject subject = NextSubject(policy, principal);
        string[] tiers = policy.Sensitivity?.Select(t => t.Value).ToArray() ?? TierSets[0];
        string action = Pick(Actions);
        string name = Pick(Resources);
        if (Chance(0.5))
        {
            // Aim at a rule of the policy (grant or deny), so that the grant and deny steps decide often.
            RoleDefinition role = Pick(policy.Roles);
            List<LocatedString> rules = [.. role.Allow, .. role.Deny];
            if (rules.Count > 0)
            {
                string[] parts = Pick(rules).Value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                string[] actions = [.. Actions.Where(a => ReferenceGlob.IsMatch(parts[0], a))];
                string[] resources = [.. Resources.Where(r => ReferenceGlob.IsMatch(parts[2], r))];
                action = actions.Length > 0 ? Pick(actions) : action;
                name = resources.Length > 0 ? Pick(resources) : name;
            }
        }

        action = rng.NextDouble() switch { < 0.01 => string.Empty, < 0.02 => "Model:query", _ => action };
        name = Chance(0.01) ? string.Empty : name;
        var resource = new ResourceRequest(name)
        {
            Scope = rng.NextDouble() switch { < 0.4 => null, < 0.97 => Pick(Scopes), _ => Pick(MalformedScopes) },
            Sensitivity = rng.NextDouble() switch { < 0.7 => null, < 0.97 => Pick(tiers), _ => "top-secret" },
            Tags = Chance(0.7) ? ReadOnlyMemory<string>.Empty : Subset([.. Tags, "unknown-tag"], 1).Take(2).ToArray(),
            Owner = rng.NextDouble() switch { < 0.65 => null, < 0.92 => subject.Id, _ => "someone-else" },
        };
        return new GeneratedRequest(subject, action, resource, V2(() => NextContext(policy, subject)));
    }

    /// <summary>One or two approval rules: matching a rule of some role (so they apply) or a random one; approvers, count and validity drawn.</summary>
    private List<ApprovalRuleDefinition> RandomApprovals(List<RoleDefinition> roles, List<SubjectDefinition> subjects, List<GroupDefinition> groups)
    {
        // Approver roles mostly among the roles bound subjects hold (so approvals can count), sometimes any role.
        var bound = subjects.SelectMany(s => s.Roles.Select(b => b.Role.Value).Concat(s.Groups.SelectMany(g => groups.First(x => x.Name.Value == g.Value).Roles.Select(b => b.Role.Value))))
            .Select(r => roles.FirstOrDefault(x => x.Name.Value == r || x.Id?.Value == r)).OfType<RoleDefinition>().Distinct().ToList();
        var rules = new List<ApprovalRuleDefinition>();

        // Two approvers of the policy's own: most requests' subjects are not them, so their approvals can count.
        if (Chance(0.8))
        {
            foreach (string id in new[] { "ann", "abe" })
            {
                var role = bound.Count > 0 && Chance(0.5) ? Pick(bound) : Pick(roles);
                bound.Add(role);
                subjects.Add(new SubjectDefinition
                {
                    Id = L(id),
                    Roles = [new RoleBindingDefinition { Role = L(role.Name.Value), Scope = Chance(0.15) ? L(Pick(Scopes)) : null }],
                    Kind = Chance(0.2) ? L(Pick(Kinds)) : null,
                });
            }
        }

        int count = rng.Next(1, 3);
        for (int i = 0; i < count; i++)
        {
            var withRules = roles.Where(r => r.Allow.Count > 0).ToList();
            string match = withRules.Count > 0 && Chance(0.7) ? Pick(Pick(withRules).Allow).Value : RandomRule();
            rules.Add(new ApprovalRuleDefinition
            {
                Name = L("ap" + i.ToString(CultureInfo.InvariantCulture)),
                Match = Chance(0.2) ? [L(match), L(RandomRule())] : [L(match)],
                Approvers = [.. (bound.Count > 0 && Chance(0.8) ? bound : roles).OrderBy(_ => rng.Next()).Take(rng.Next(1, 3)).Select(r => L(r.Name.Value))],
                Count = Chance(0.6) ? null : L(Pick(["1", "2", "2", "3"])),
                ValidFor = L(Pick(MaxActivations)),
            });
        }

        return rules;
    }

    /// <summary>One to three conditions on distinct keys (the context keys and time_of_day).</summary>
    private List<ConditionDefinition> RandomConditions()
    {
        var keys = Subset(["mfa", "net", "risk", "time_of_day"], 1).Take(rng.Next(1, 4));
        var conditions = new List<ConditionDefinition>();
        foreach (string key in keys)
        {
            conditions.Add(key switch
            {
                "mfa" => new ConditionDefinition { Key = L(key), Values = [L(Chance(0.7) ? "true" : "false")] },
                "net" => Values(key, Pick(NetValues)),
                "time_of_day" => Values(key, Pick(Windows)),
                _ => rng.Next(3) switch
                {
                    0 => Values(key, [.. Subset(["1", "2", "3", "5", "-1"], 1).Take(rng.Next(1, 4))]),
                    1 => new ConditionDefinition { Key = L(key), IsRange = true, Min = L("2"), Max = L("8") },
                    _ => new ConditionDefinition { Key = L(key), IsRange = true, Min = Chance(0.5) ? L("5") : null, Max = L("6") },
                },
            });
        }

        return conditions;
    }

    private ConditionDefinition Values(string key, string[] values)
    {
        bool list = values.Length > 1 || Chance(0.3);
        return new ConditionDefinition { Key = L(key), Values = [.. values.Select(L)], IsList = list };
    }

    /// <summary>No context, an empty one, or pairs for some keys: mostly well typed, sometimes a wrong type, a repeated key or an undeclared one.</summary>
    private RequestContext? NextContext(PolicyDocument policy, Subject subject)
    {
        double roll = rng.NextDouble();
        if (roll < 0.3)
        {
            return null;
        }

        if (roll < 0.35)
        {
            return RequestContext.Empty;
        }

        var pairs = new List<ContextAttribute>();
        foreach (var (name, type) in ContextKeys)
        {
            if (!Chance(0.75))
            {
                continue;
            }

            pairs.Add(rng.NextDouble() switch
            {
                < 0.02 => type == "string" ? new ContextAttribute(name, 1L) : new ContextAttribute(name, "1"), // a wrong type
                _ => type switch
                {
                    "bool" => new ContextAttribute(name, Chance(0.7)),
                    "string" => new ContextAttribute(name, Pick(NetRequestValues)),
                    _ => new ContextAttribute(name, rng.Next(-1, 10)),
                },
            });
            if (Chance(0.02))
            {
                pairs.Add(pairs[^1]); // the key twice
            }
        }

        if (Chance(0.1))
        {
            pairs.Add(new ContextAttribute("undeclared", "x"));
        }

        // Break-glass activations: mostly of a break-glass role of the policy, by a subject of the chain; sometimes by
        // another subject, of an ordinary role, unjustified, expired, or starting in the future.
        var activations = new List<BreakGlassActivation>();
        var chain = new List<string>();
        for (Subject? link = subject; link is not null; link = link.OnBehalfOf)
        {
            chain.Add(link.Id);
        }

        var breakGlass = policy.Roles.Where(r => r.BreakGlass is not null).ToList();
        int count = breakGlass.Count > 0 && Chance(0.6) ? rng.Next(1, 3) : Chance(0.05) ? 1 : 0;
        for (int i = 0; i < count; i++)
        {
            RoleDefinition role = breakGlass.Count > 0 && Chance(0.85) ? Pick(breakGlass) : Pick(policy.Roles);
            string roleName = role.Id is { } id && Chance(0.3) ? id.Value : role.Name.Value;
            string who = Chance(0.85) ? Pick(chain) : "mallory";
            activations.Add(new BreakGlassActivation(who, roleName, Chance(0.8) ? Justifications[0] : Pick(Justifications), Now.AddMinutes(-Pick(ActivationAges))));
        }

        // Approvals: by subjects of the policy, of the chain, or strangers; of the policy's rules or another; fresh, at the
        // edges of valid_for, stale or from the future; sometimes the same approver twice.
        var approvals = new List<Approval>();
        var ruleNames = (policy.Approvals ?? []).Select(a => a.Name.Value).ToList();
        int approvalCount = ruleNames.Count > 0 && Chance(0.8) ? rng.Next(1, 6) : 0;
        for (int i = 0; i < approvalCount; i++)
        {
            string[] bound = [.. policy.Bindings.Subjects.Select(x => x.Id.Value)];
            string approver = rng.NextDouble() switch { < 0.45 => Pick(["ann", "abe"]), < 0.75 when bound.Length > 0 => Pick(bound), < 0.8 => Pick(SubjectIds), < 0.9 => Pick(chain), _ => "mallory" };
            string rule = Chance(0.9) ? Pick(ruleNames) : "other";
            approvals.Add(new Approval(approver, rule, Now.AddMinutes(-Pick(ApprovalAges))));
            if (Chance(0.1))
            {
                approvals.Add(approvals[^1] with { At = Now.AddMinutes(-1) });
            }
        }

        return new RequestContext { Attributes = [.. pairs.OrderBy(_ => rng.Next())], Activations = activations, Approvals = approvals };
    }

    private Subject NextSubject(PolicyDocument policy, Subject? onBehalfOf)
    {
        string id = rng.NextDouble() switch
        {
            < 0.03 => string.Empty,
            < 0.06 => "Alice",
            < 0.15 => "carol",
            _ => Pick(SubjectIds),
        };
        bool named = policy.Bindings.Subjects.Any(s => s.Id.Value == id);
        SubjectKind? kind = Chance(0.4) ? null : (SubjectKind)rng.Next(3);
        List<RoleBinding>? roles = null;
        if (!(named ? Chance(0.45) : Chance(0.05)))
        {
            roles = Chance(0.05) ? [] : [.. Many(1, 4, () => RequestBinding(policy))];
        }

        return new Subject(id, kind, roles, onBehalfOf);
    }

    private RoleBinding RequestBinding(PolicyDocument policy)
    {
        string role;
        if (Chance(0.1))
        {
            role = "ghost";
        }
        else
        {
            RoleDefinition r = Pick(policy.Roles);
            role = r.Id is { } id && Chance(0.5) ? id.Value : r.Name.Value;
        }

        string? scope = rng.NextDouble() switch { < 0.75 => null, < 0.98 => Pick(Scopes), _ => Pick(MalformedScopes) };
        DateTimeOffset? expires = rng.NextDouble() switch
        {
            < 0.75 => null,
            < 0.8 => Now,
            < 0.9 => Now.AddMinutes(-rng.Next(1, 100000)),
            _ => Now.AddMinutes(rng.Next(1, 100000)),
        };
        return new RoleBinding(role, scope, expires);
    }

    private RoleBindingDefinition PolicyBinding(string[] names, string?[] ids)
    {
        int j = rng.Next(names.Length);
        return new RoleBindingDefinition
        {
            Role = L(Chance(0.1) ? "ghost" : Ref(names[j], ids[j])),
            Scope = Chance(0.3) ? L(Pick(Scopes)) : null,
            Expires = Chance(0.2) ? L(Pick(PolicyExpiries)) : null,
        };
    }

    private string RandomRule()
    {
        string action = Pick(ActionPatterns);
        string resource = ResourcePatterns[rng.Next(ResourcePatterns.Count)].Pattern;
        return Chance(0.1) ? "  " + action + "   on  " + resource + " " : action + " on " + resource;
    }

    private string Ref(string name, string? id) => id is not null && Chance(0.5) ? id : name;

    private static HashSet<int> Closure(int role, List<int>[] inherits)
    {
        var seen = new HashSet<int>();
        var stack = new Stack<int>();
        stack.Push(role);
        while (stack.Count > 0)
        {
            int r = stack.Pop();
            if (seen.Add(r))
            {
                foreach (int p in inherits[r])
                {
                    stack.Push(p);
                }
            }
        }

        return seen;
    }

    private bool Chance(double p) => rng.NextDouble() < p;

    private T Pick<T>(IReadOnlyList<T> items) => items[rng.Next(items.Count)];

    private List<T> Many<T>(int min, int maxExclusive, Func<T> next)
    {
        int count = rng.Next(min, maxExclusive);
        var list = new List<T>(count);
        for (int i = 0; i < count; i++)
        {
            list.Add(next());
        }

        return list;
    }

    private List<string> Subset(IReadOnlyList<string> items, int min)
    {
        var list = items.Where(_ => Chance(0.5)).ToList();
        while (list.Count < min)
        {
            string item = Pick(items);
            if (!list.Contains(item))
            {
                list.Add(item);
            }
        }

        return [.. list.OrderBy(_ => rng.Next())];
    }

    private static LocatedString L(string value) => LocatedString.FromCode(value);

    /// <summary>Renders a policy as YAML (for mismatch reports).</summary>
    public static string ToYaml(PolicyDocument doc)
    {
        ArgumentNullException.ThrowIfNull(doc);
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"version: {doc.Version.Value}");
        if (doc.Context is { } context)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"context: {{ {string.Join(", ", context.Select(k => k.Name.Value + ": " + k.Type.Value))} }}");
        }
        if (doc.Sensitivity is { } s)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"sensitivity: [{Join(s)}]");
        }

        if (doc.DefaultSensitivity is { } d)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"default_sensitivity: {d.Value}");
        }

        sb.AppendLine("roles:");
        foreach (RoleDefinition r in doc.Roles)
        {
            sb.AppendLine(CultureInfo.InvariantCulture, $"  {r.Name.Value}:");
            if (r.Id is { } id)
            {
                sb.AppendLine(CultureInfo.InvariantCulture, $"    id: {id.Value}");
            }

            if (r.Inherits.Count > 0)
            {
                sb.AppendLine(CultureInfo.InvariantCulture, $"    inherits: [{Join(r.Inherits)}]");
            }

            sb.AppendLine(CultureInfo.InvariantCulture, $"    allow: [{string.Join(", ", r.Allow.Select(a => "\"" + a.Value + "\""))}]");
            if (r.Deny.Count > 0)
            {
                sb.AppendLine(CultureInfo.InvariantCulture, $"    deny: [{string.Join(", ", r.Deny.Select(a => "\"" + a.Value + "\""))}]");
            }

            if (r.MaxSensitivity is { } m)
            {
                sb.AppendLine(CultureInfo.InvariantCulture, $"    max_sensitivity: {m.Value}");
            }

            if (r.Clearances.Count > 0)
            {
                sb.AppendLine(CultureInfo.InvariantCulture, $"    clearances: [{Join(r.Clearances)}]");
            }

            if (r.Kinds is { } k)
            {
                sb.AppendLine(CultureInfo.InvariantCulture, $"    kinds: [{Join(k)}]");
            }

            if (r.BreakGlass is { } breakGlass)
            {
                sb.AppendLine(CultureInfo.InvariantCulture, $"    break_glass: {{ max_activation: {breakGlass.MaxActivation!.Value.Value} }}");
            }

            if (r.Conditions.Count > 0)
            {
                sb.AppendLine(CultureInfo.InvariantCulture, $"    conditions: {{ {string.Join(", ", r.Conditions.Select(ConditionYaml))} }}");
            }
        }

        if (doc.Approvals is { Count: > 0 } approvalRules)
        {
            sb.AppendLine("approvals:");
            foreach (ApprovalRuleDefinition a in approvalRules)
            {
                sb.AppendLine(CultureInfo.InvariantCulture,
                    $"  {a.Name.Value}: {{ match: [{string.Join(", ", a.Match.Select(m => "\"" + m.Value + "\""))}], approvers: [{Join(a.Approvers)}]{(a.Count is { } c ? ", count: " + c.Value : string.Empty)}, valid_for: {a.ValidFor!.Value.Value} }}");
            }
        }

        if (doc.Resources.Count > 0)
        {
            sb.AppendLine("resources:");
            foreach (ResourceClassification c in doc.Resources)
            {
                sb.AppendLine(CultureInfo.InvariantCulture, $"  - match: \"{c.Match.Value}\"");
                if (c.Sensitivity is { } cs)
                {
                    sb.AppendLine(CultureInfo.InvariantCulture, $"    sensitivity: {cs.Value}");
                }

                if (c.Tags.Count > 0)
                {
                    sb.AppendLine(CultureInfo.InvariantCulture, $"    tags: [{Join(c.Tags)}]");
                }
            }
        }

        if (doc.Constraints.MutuallyExclusive.Count > 0 || doc.Constraints.NotByOwner.Count > 0)
        {
            sb.AppendLine("constraints:");
            if (doc.Constraints.MutuallyExclusive.Count > 0)
            {
                sb.AppendLine("  mutually_exclusive:");
                foreach (ExclusiveRoleSet set in doc.Constraints.MutuallyExclusive)
                {
                    sb.AppendLine(CultureInfo.InvariantCulture, $"    - [{Join(set.Roles)}]");
                }
            }

            if (doc.Constraints.NotByOwner.Count > 0)
            {
                sb.AppendLine(CultureInfo.InvariantCulture, $"  not_by_owner: [{string.Join(", ", doc.Constraints.NotByOwner.Select(p => "\"" + p.Value + "\""))}]");
            }
        }

        if (doc.Bindings.Groups.Count > 0 || doc.Bindings.Subjects.Count > 0)
        {
            sb.AppendLine("bindings:");
            if (doc.Bindings.Groups.Count > 0)
            {
                sb.AppendLine("  groups:");
                foreach (GroupDefinition g in doc.Bindings.Groups)
                {
                    sb.AppendLine(CultureInfo.InvariantCulture, $"    {g.Name.Value}: [{string.Join(", ", g.Roles.Select(BindingYaml))}]");
                }
            }

            if (doc.Bindings.Subjects.Count > 0)
            {
                sb.AppendLine("  subjects:");
                foreach (SubjectDefinition sd in doc.Bindings.Subjects)
                {
                    var parts = new List<string>();
                    if (sd.Kind is { } kind)
                    {
                        parts.Add("kind: " + kind.Value);
                    }

                    parts.Add("roles: [" + string.Join(", ", sd.Roles.Select(BindingYaml)) + "]");
                    if (sd.Groups.Count > 0)
                    {
                        parts.Add("groups: [" + Join(sd.Groups) + "]");
                    }

                    if (sd.Scope is { } scope)
                    {
                        parts.Add("scope: " + scope.Value);
                    }

                    if (sd.Expires is { } exp)
                    {
                        parts.Add("expires: " + exp.Value);
                    }

                    sb.AppendLine(CultureInfo.InvariantCulture, $"    {sd.Id.Value}: {{ {string.Join(", ", parts)} }}");
                }
            }
        }

        return sb.ToString();
    }

    private static string ConditionYaml(ConditionDefinition c)
        => c.Key.Value + ": " + (c.IsRange
            ? "{ " + string.Join(", ", new[] { c.Min is { } min ? "min: " + min.Value : null, c.Max is { } max ? "max: " + max.Value : null }.OfType<string>()) + " }"
            : c.IsList ? "[" + string.Join(", ", c.Values.Select(v => "\"" + v.Value + "\"")) + "]" : "\"" + c.Values[0].Value + "\"");

    private static string BindingYaml(RoleBindingDefinition b)
        => b.Scope is null && b.Expires is null
            ? b.Role.Value
            : "{ role: " + b.Role.Value + (b.Scope is { } s ? ", scope: " + s.Value : string.Empty)
              + (b.Expires is { } e ? ", expires: " + e.Value : string.Empty) + " }";

    private static string Join(IEnumerable<LocatedString> items) => string.Join(", ", items.Select(i => i.Value));
}
