using System.Security.Claims;
using AiRbac.Benchmarks.Scenarios;
using AiRbac.Model;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.DependencyInjection;

namespace AiRbac.Benchmarks.Baselines;

// The baseline "without an engine": what a .NET team would write on ASP.NET Core authorization. A role table
// built once from the policy (rule texts, ceilings, clearances, ancestors, the resource catalog), a requirement,
// and a handler that walks the table on every request: string.Split of the rule texts, a loop-based glob,
// LINQ and HashSets. It is meant to be straightforward, not slow on purpose, and it must reproduce expected.jsonl.

/// <summary>One role of the table, as a team would keep it: names and rule texts.</summary>
public sealed class RoleRow
{
    /// <summary>The declaration index (ties go to the role declared first).</summary>
    public required int Order { get; init; }

    /// <summary>The role name.</summary>
    public required string Name { get; init; }

    /// <summary>The grants, <c>ACTION on RESOURCE</c>.</summary>
    public required IReadOnlyList<string> Allow { get; init; }

    /// <summary>The denies, <c>ACTION on RESOURCE</c>.</summary>
    public required IReadOnlyList<string> Deny { get; init; }

    /// <summary>The ceiling tier's name.</summary>
    public required string MaxSensitivity { get; init; }

    /// <summary>The cleared tags.</summary>
    public required HashSet<string> Clearances { get; init; }

    /// <summary>The inherited roles (direct and indirect), by name.</summary>
    public required IReadOnlyList<string> Ancestors { get; init; }

    /// <summary>The kinds the role is for (user, service, agent), or <see langword="null"/> for all.</summary>
    public required HashSet<string>? Kinds { get; init; }
}

/// <summary>One resource catalog entry: a glob, a tier and tags.</summary>
/// <param name="Match">The glob.</param>
/// <param name="Sensitivity">The tier name.</param>
/// <param name="Tags">The tags.</param>
public sealed record CatalogRow(string Match, string Sensitivity, IReadOnlyList<string> Tags);

/// <summary>The role table the handler walks, built once from the compiled policy's roles and the document's catalog.</summary>
public sealed class RoleTable
{
    /// <summary>Builds the table.</summary>
    /// <param name="policy">The compiled policy (roles, tiers).</param>
    /// <param name="document">The policy document (resource catalog).</param>
    public RoleTable(CompiledPolicy policy, PolicyDocument document)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(document);
        Tiers = [.. policy.Tiers];
        DefaultSensitivity = policy.DefaultSensitivity;
        int order = 0;
        foreach (var role in policy.Roles)
        {
            var row = new RoleRow
            {
                Order = order++,
                Name = role.Name,
                Allow = [.. role.Allow.Select(r => r.Text)],
                Deny = [.. role.Deny.Select(r => r.Text)],
                MaxSensitivity = role.MaxSensitivity,
                Clearances = [.. role.Clearances],
                Ancestors = role.Ancestors,
                Kinds = role.Kinds is null ? null : [.. role.Kinds.Select(SubjectKinds.ToName)],
            };
            Roles[role.Name] = row;
            Roles[role.Id] = row;
        }

        Catalog = [.. document.Resources.Select(r => new CatalogRow(
            r.Match.Value, r.Sensitivity?.Value ?? DefaultSensitivity, [.. r.Tags.Select(t => t.Value)]))];
    }

    /// <summary>Roles by name and by id.</summary>
    public Dictionary<string, RoleRow> Roles { get; } = new(StringComparer.Ordinal);

    /// <summary>The tiers, lowest first.</summary>
    public List<string> Tiers { get; }

    /// <summary>The tier of unclassified resources.</summary>
    public string DefaultSensitivity { get; }

    /// <summary>The resource catalog, first match wins.</summary>
    public List<CatalogRow> Catalog { get; }
}

/// <summary>The resource passed to <see cref="IAuthorizationService.AuthorizeAsync(ClaimsPrincipal, object?, string)"/>; the handler records its decision on it (for the audit log).</summary>
public sealed class AiResource
{
    /// <summary>The action.</summary>
    public required string Action { get; init; }

    /// <summary>The resource name.</summary>
    public required string Name { get; init; }

    /// <summary>A tier the caller asserts, or <see langword="null"/>.</summary>
    public string? Sensitivity { get; init; }

    /// <summary>Tags the caller asserts.</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>The last decision, as the handler recorded it.</summary>
    public ExpectedDecision? Decision { get; set; }
}

/// <summary>The requirement: "may the user do <see cref="AiResource.Action"/> on the resource".</summary>
public sealed class AiRbacRequirement : IAuthorizationRequirement;

/// <summary>The handler: walks the role table for each request.</summary>
/// <param name="table">The role table.</param>
public sealed class AiRbacHandler(RoleTable table) : AuthorizationHandler<AiRbacRequirement, AiResource>
{
    /// <summary>The claim type that carries the subject kind.</summary>
    public const string KindClaim = "kind";

    /// <inheritdoc/>
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, AiRbacRequirement requirement, AiResource resource)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(resource);
        var decision = Decide(context.User, resource);
        resource.Decision = decision;
        if (decision.Allowed)
        {
            context.Succeed(requirement);
        }
        else
        {
            context.Fail(new AuthorizationFailureReason(this, decision.Reason));
        }

        return Task.CompletedTask;
    }

    private ExpectedDecision Decide(ClaimsPrincipal user, AiResource resource)
    {
        string? id = user.FindFirst(ClaimTypes.NameIdentifier)?.Value;
        var roleNames = user.FindAll(ClaimTypes.Role).Select(c => c.Value).ToList();
        if (string.IsNullOrEmpty(id) || roleNames.Count == 0)
        {
            return Deny("missing_identity");
        }

        if (string.IsNullOrEmpty(resource.Action) || string.IsNullOrEmpty(resource.Name)
            || (resource.Sensitivity is not null && !table.Tiers.Contains(resource.Sensitivity)))
        {
            return Deny("invalid_request");
        }

        // Effective roles: the bound roles and their ancestors, for this kind of subject, in declaration order.
        string kind = user.FindFirst(KindClaim)?.Value ?? "user";
        var effective = new HashSet<RoleRow>();
        foreach (string name in roleNames)
        {
            if (table.Roles.TryGetValue(name, out var role) && IsFor(role, kind))
            {
                effective.Add(role);
                foreach (string ancestor in role.Ancestors)
                {
                    if (table.Roles.TryGetValue(ancestor, out var parent) && IsFor(parent, kind))
                    {
                        effective.Add(parent);
                    }
                }
            }
        }

        if (effective.Count == 0)
        {
            return Deny("no_active_role");
        }

        var ordered = effective.OrderBy(r => r.Order).ToList();
        foreach (var role in ordered)
        {
            foreach (string rule in role.Deny)
            {
                if (RuleMatches(rule, resource.Action, resource.Name))
                {
                    return Deny("explicit_deny", role.Name, rule);
                }
            }
        }

        // Tier and tags: the first catalog entry that matches, raised by what the caller asserts.
        var entry = table.Catalog.FirstOrDefault(c => Glob.IsMatch(c.Match, resource.Name));
        int tier = table.Tiers.IndexOf(entry?.Sensitivity ?? table.DefaultSensitivity);
        if (resource.Sensitivity is not null)
        {
            tier = Math.Max(tier, table.Tiers.IndexOf(resource.Sensitivity));
        }

        var tags = new HashSet<string>(entry?.Tags ?? []);
        tags.UnionWith(resource.Tags);

        (RoleRow Role, string Rule)? firstMatch = null, withinCeiling = null;
        foreach (var role in ordered)
        {
            string? grant = role.Allow.FirstOrDefault(rule => RuleMatches(rule, resource.Action, resource.Name));
            if (grant is null)
            {
                continue;
            }

            firstMatch ??= (role, grant);
            if (table.Tiers.IndexOf(role.MaxSensitivity) >= tier)
            {
                withinCeiling ??= (role, grant);
                if (tags.All(role.Clearances.Contains))
                {
                    return new ExpectedDecision(true, "allowed", role.Name, grant);
                }
            }
        }

        if (firstMatch is null)
        {
            return Deny("no_matching_grant");
        }

        return withinCeiling is { } fit
            ? Deny("missing_tag_clearance", fit.Role.Name, fit.Rule)
            : Deny("sensitivity_ceiling", firstMatch.Value.Role.Name, firstMatch.Value.Rule);
    }

    private static bool IsFor(RoleRow role, string kind) => role.Kinds is null || role.Kinds.Contains(kind);

    private static bool RuleMatches(string rule, string action, string resource)
    {
        string[] parts = rule.Split(" on ");
        return Glob.IsMatch(parts[0], action) && Glob.IsMatch(parts[1], resource);
    }

    private static ExpectedDecision Deny(string reason, string? role = null, string? rule = null) => new(false, reason, role, rule);
}

/// <summary>A simple glob: <c>*</c> (no <c>/</c>), <c>**</c> (anything), <c>?</c> and <c>[...]</c>, by recursion over the pattern text.</summary>
public static class Glob
{
    /// <summary>Whether the pattern matches the whole text.</summary>
    /// <param name="pattern">The glob.</param>
    /// <param name="text">The text.</param>
    /// <returns>Whether it matches.</returns>
    public static bool IsMatch(string pattern, string text)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        ArgumentNullException.ThrowIfNull(text);
        return Match(pattern, 0, text, 0);
    }

    private static bool Match(string p, int pi, string t, int ti)
    {
        while (pi < p.Length)
        {
            char c = p[pi];
            if (c == '*')
            {
                bool any = pi + 1 < p.Length && p[pi + 1] == '*';
                int rest = any ? pi + 2 : pi + 1;
                for (int k = ti; k <= t.Length; k++)
                {
                    if (Match(p, rest, t, k))
                    {
                        return true;
                    }

                    if (k < t.Length && !any && t[k] == '/')
                    {
                        return false;
                    }
                }

                return false;
            }

            if (ti >= t.Length || (t[ti] == '/' && c != '/'))
            {
                return false;
            }

            if (c == '?')
            {
                pi++;
            }
            else if (c == '[')
            {
                int close = p.IndexOf(']', pi + 2);
                string set = p[(pi + 1)..close];
                bool negate = set.StartsWith('!');
                if (negate)
                {
                    set = set[1..];
                }

                bool inSet = false;
                for (int i = 0; i < set.Length; i++)
                {
                    if (i + 2 < set.Length && set[i + 1] == '-')
                    {
                        inSet |= t[ti] >= set[i] && t[ti] <= set[i + 2];
                        i += 2;
                    }
                    else
                    {
                        inSet |= t[ti] == set[i];
                    }
                }

                if (inSet == negate)
                {
                    return false;
                }

                pi = close + 1;
            }
            else if (c != t[ti])
            {
                return false;
            }
            else
            {
                pi++;
            }

            ti++;
        }

        return ti == t.Length;
    }
}

/// <summary>The baseline set up as an application would: a service provider with authorization, the handler and a named policy.</summary>
public sealed class AspNetCoreBaseline : IDisposable
{
    /// <summary>The policy name.</summary>
    public const string PolicyName = "ai-rbac";

    private readonly ServiceProvider services;

    /// <summary>Builds the service provider.</summary>
    /// <param name="table">The role table.</param>
    public AspNetCoreBaseline(RoleTable table)
    {
        var collection = new ServiceCollection();
        collection.AddLogging();
        collection.AddSingleton(table);
        collection.AddSingleton<IAuthorizationHandler, AiRbacHandler>();
        collection.AddAuthorizationCore(options => options.AddPolicy(PolicyName, p => p.AddRequirements(new AiRbacRequirement())));
        services = collection.BuildServiceProvider();
        Authorization = services.GetRequiredService<IAuthorizationService>();
    }

    /// <summary>The authorization service.</summary>
    public IAuthorizationService Authorization { get; }

    /// <summary>The principal an authentication handler would have built for a corpus request's subject.</summary>
    /// <param name="subject">The subject.</param>
    /// <returns>The principal: name identifier, kind and one role claim per binding.</returns>
    public static ClaimsPrincipal ToPrincipal(Subject subject)
    {
        ArgumentNullException.ThrowIfNull(subject);
        var claims = new List<Claim> { new(ClaimTypes.NameIdentifier, subject.Id) };
        if (subject.Kind is { } kind)
        {
            claims.Add(new Claim(AiRbacHandler.KindClaim, SubjectKinds.ToName(kind)));
        }

        claims.AddRange((subject.Roles ?? []).Select(r => new Claim(ClaimTypes.Role, r.Role)));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, "bench"));
    }

    /// <summary>Decides one request the way a controller would: <c>await AuthorizeAsync(User, resource, policy)</c>.</summary>
    /// <param name="user">The principal.</param>
    /// <param name="resource">The resource.</param>
    /// <returns>Whether it is allowed.</returns>
    public bool Authorize(ClaimsPrincipal user, AiResource resource)
        // The handler completes synchronously, so the task is already complete here.
        => Authorization.AuthorizeAsync(user, resource, PolicyName).GetAwaiter().GetResult().Succeeded;

    /// <inheritdoc/>
    public void Dispose() => services.Dispose();
}
