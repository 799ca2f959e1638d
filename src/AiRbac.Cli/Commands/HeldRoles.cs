using AiRbac.Model;

namespace AiRbac.Cli.Commands;

/// <summary>
/// One effective role of a policy subject: the role, the role its binding names (the same role, or one that inherits it),
/// and the conditions of that binding (a scope and an expiry; both are the subject's and the binding's, narrowed).
/// </summary>
/// <param name="Role">The effective role, by name.</param>
/// <param name="Through">The role the binding names, by name (<paramref name="Role"/> itself for a direct binding).</param>
/// <param name="Scope">The scope the binding applies in, or <see langword="null"/> for everywhere.</param>
/// <param name="Expires">When the binding stops applying, or <see langword="null"/> for never.</param>
internal sealed record HeldRole(string Role, string Through, string? Scope, DateTimeOffset? Expires)
{
    /// <summary>The conditions as text: <c> in scope S</c>, <c> until T</c>, both, or empty.</summary>
    public string Conditions => (Scope is null ? "" : $" in scope {Scope}") + (Expires is { } until ? $" until {Rfc3339.Format(until)}" : "");

    /// <summary>The role with its conditions, e.g. <c>clinician in scope acme/health</c>.</summary>
    public string Text => Role + Conditions;
}

/// <summary>A subject named in the policy's <c>bindings</c>, with its kind and its effective roles.</summary>
/// <param name="Id">The subject id.</param>
/// <param name="Kind">The subject kind (<c>user</c> when the policy gives none).</param>
/// <param name="Roles">Its effective roles, in file order of the roles, one entry per role and conditions.</param>
internal sealed record SubjectRoles(string Id, SubjectKind Kind, IReadOnlyList<HeldRole> Roles);

/// <summary>
/// "Who holds what" for reports (<c>airbac diff</c>, <c>airbac matrix</c>): the effective roles of every subject of the
/// policy's <c>bindings</c>, with the engine's semantics (docs/policy-language.md, section 4, step 3): groups expanded,
/// the subject's own scope and expiry narrowing each binding (a binding whose scopes cannot meet never applies), a
/// binding to an undeclared role giving nothing, and inheritance followed from the bound role without entering (or
/// passing through) a role whose <c>kinds</c> exclude the subject. Expiry is kept as a condition, not judged against
/// the clock, so that a report does not depend on when it runs.
/// </summary>
/// <remarks>
/// This is the one place the reports compute effective roles; when the core offers the same view, only
/// <see cref="Of"/> changes.
/// </remarks>
internal static class HeldRoles
{
    /// <summary>The subjects of the policy's <c>bindings</c> (in file order; a repeated id keeps its last entry), with their effective roles.</summary>
    public static IReadOnlyList<SubjectRoles> Of(PolicyDocument document, CompiledPolicy policy)
    {
        var order = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < policy.Roles.Count; i++)
        {
            order.TryAdd(policy.Roles[i].Name, i);
        }

        var groups = new Dictionary<string, IReadOnlyList<RoleBindingDefinition>>(StringComparer.Ordinal);
        foreach (var group in document.Bindings.Groups)
        {
            groups[group.Name.Value] = group.Roles;
        }

        var subjects = new Dictionary<string, SubjectRoles>(StringComparer.Ordinal);
        var ids = new List<string>();
        foreach (var subject in document.Bindings.Subjects)
        {
            var kind = subject.Kind?.Value switch
            {
                "service" => SubjectKind.Service,
                "agent" => SubjectKind.Agent,
                _ => SubjectKind.User,
            };
            var bindings = new List<RoleBindingDefinition>(subject.Roles);
            foreach (var group in subject.Groups)
            {
                if (groups.TryGetValue(group.Value, out var members))
                {
                    bindings.AddRange(members);
                }
            }

            var held = new List<HeldRole>();
            foreach (var binding in bindings)
            {
                if (Narrow(binding, subject) is not { } conditions || policy.FindRole(binding.Role.Value) is not { } bound)
                {
                    continue;
                }

                foreach (var role in Closure(policy, bound, kind))
                {
                    held.Add(new HeldRole(role.Name, bound.Name, conditions.Scope, conditions.Expires));
                }
            }

            if (!subjects.ContainsKey(subject.Id.Value))
            {
                ids.Add(subject.Id.Value);
            }

            subjects[subject.Id.Value] = new SubjectRoles(subject.Id.Value, kind, Simplify(held, order));
        }

        return [.. ids.Select(id => subjects[id])];
    }

    /// <summary>
    /// The roles a binding to <paramref name="bound"/> makes effective for a subject of <paramref name="kind"/>: the role
    /// and its ancestors, never entering (or passing through) a role whose kinds exclude the subject.
    /// </summary>
    private static List<RoleInfo> Closure(CompiledPolicy policy, RoleInfo bound, SubjectKind kind)
    {
        var result = new List<RoleInfo>();
        if (!AppliesTo(bound, kind))
        {
            return result;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal) { bound.Name };
        var stack = new Stack<RoleInfo>();
        stack.Push(bound);
        while (stack.Count > 0)
        {
            var role = stack.Pop();
            result.Add(role);
            foreach (string parentName in role.Inherits)
            {
                if (policy.FindRole(parentName) is { } parent && AppliesTo(parent, kind) && seen.Add(parent.Name))
                {
                    stack.Push(parent);
                }
            }
        }

        return result;
    }

    private static bool AppliesTo(RoleInfo role, SubjectKind kind) => role.Kinds is null || role.Kinds.Contains(kind);

    /// <summary>
    /// A binding's scope and expiry with the subject's applied: the earlier expiry, the deeper of two nested scopes;
    /// <see langword="null"/> when the two scopes do not nest (the binding can never apply). A malformed scope or expiry
    /// is a policy error, so it never reaches here.
    /// </summary>
    private static (string? Scope, DateTimeOffset? Expires)? Narrow(RoleBindingDefinition binding, SubjectDefinition subject)
    {
        DateTimeOffset? Parse(LocatedString? text) => text is { } t && Rfc3339.TryParse(t.Value, out var value) ? value : null;
        DateTimeOffset? own = Parse(binding.Expires), inherited = Parse(subject.Expires);
        var expires = own is { } a && inherited is { } b ? (a < b ? a : b) : own ?? inherited;
        string? scope = binding.Scope?.Value;
        if (subject.Scope?.Value is { } outer && Scope.IsValid(outer))
        {
            if (scope is null || Scope.Covers(scope, outer))
            {
                scope = outer;
            }
            else if (!Scope.Covers(outer, scope))
            {
                return null;
            }
        }

        return (scope, expires);
    }

    /// <summary>Sorts by the roles' file order and drops repeats; a role held without conditions makes its conditional entries moot.</summary>
    private static List<HeldRole> Simplify(List<HeldRole> held, Dictionary<string, int> order)
    {
        var unconditional = held.Where(h => h.Scope is null && h.Expires is null).Select(h => h.Role).ToHashSet(StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        return [.. held
            .Where(h => (h.Scope is null && h.Expires is null) || !unconditional.Contains(h.Role))
            .OrderBy(h => order[h.Role])
            .ThenBy(h => h.Role == h.Through ? 0 : 1)
            .Where(h => seen.Add(h.Text))];
    }
}
