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
/// policy's <c>bindings</c>, asked of the core (<see cref="CompiledPolicy.BoundSubjects"/>,
/// <see cref="CompiledPolicy.BindingsOf"/> and <see cref="CompiledPolicy.EffectiveRoles(RoleInfo, SubjectKind?)"/>), so
/// with the engine's semantics (docs/policy-language.md, section 4, step 3): groups expanded, the subject's own scope
/// and expiry narrowing each binding (a binding whose scopes cannot meet never applies), a binding to an undeclared
/// role giving nothing, and inheritance followed from the bound role without entering (or passing through) a role
/// whose <c>kinds</c> exclude the subject. Expiry is kept as a condition, not judged against the clock, so that a
/// report does not depend on when it runs.
/// </summary>
internal static class HeldRoles
{
    /// <summary>The subjects of the policy's <c>bindings</c> (in file order; a repeated id keeps its last entry), with their effective roles.</summary>
    public static IReadOnlyList<SubjectRoles> Of(CompiledPolicy policy)
    {
        var order = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < policy.Roles.Count; i++)
        {
            order.TryAdd(policy.Roles[i].Name, i);
        }

        var subjects = new List<SubjectRoles>();
        foreach (var subject in policy.BoundSubjects)
        {
            var kind = subject.Kind ?? SubjectKind.User;
            var held = new List<HeldRole>();
            foreach (var binding in policy.BindingsOf(subject))
            {
                if (policy.FindRole(binding.Role) is not { } bound)
                {
                    continue;
                }

                foreach (var role in policy.EffectiveRoles(bound, kind))
                {
                    held.Add(new HeldRole(role.Name, bound.Name, binding.Scope, binding.Expires));
                }
            }

            subjects.Add(new SubjectRoles(subject.Id, kind, Simplify(held, order)));
        }

        return subjects;
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
