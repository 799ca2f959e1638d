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
/// <param name="Roles">Its effective roles, in file order of the roles, one entry per role and scope.</param>
internal sealed record SubjectRoles(string Id, SubjectKind Kind, IReadOnlyList<HeldRole> Roles);

/// <summary>
/// "Who holds what" for reports (<c>airbac diff</c>, <c>airbac matrix</c>, and the same call as <c>airbac review</c>):
/// the core's <see cref="CompiledPolicy.Holdings"/> for every subject of the policy's <c>bindings</c>, so with the
/// engine's semantics (docs/policy-language.md, section 4, step 3): groups expanded, the subject's own scope and expiry
/// narrowing each binding (a binding whose scopes cannot meet never applies), a binding to an undeclared role giving
/// nothing, and inheritance followed from the bound role without entering (or passing through) a role whose
/// <c>kinds</c> exclude the subject. By default expiry is kept as a condition, not judged against the clock, so that a
/// report does not depend on when it runs.
/// </summary>
internal static class HeldRoles
{
    /// <summary>The time that judges no binding expired: every expiry is after it, and is shown as a condition.</summary>
    public static readonly DateTimeOffset ExpiryNotJudged = DateTimeOffset.MinValue;

    /// <summary>The subjects of the policy's <c>bindings</c> (in file order), with their effective roles at <paramref name="at"/> (default: expiry not judged).</summary>
    public static IReadOnlyList<SubjectRoles> Of(CompiledPolicy policy, DateTimeOffset? at = null)
    {
        var subjects = new List<SubjectRoles>();
        foreach (var subject in policy.BoundSubjects)
        {
            var held = new List<HeldRole>();
            foreach (var holding in policy.Holdings(subject, at ?? ExpiryNotJudged))
            {
                string through = holding.Direct ? holding.Role.Name : string.Join(", ", holding.Through.Select(r => r.Name));
                if (holding.Scopes.Count == 0)
                {
                    held.Add(new HeldRole(holding.Role.Name, through, null, holding.Expires));
                }

                held.AddRange(holding.Scopes.Select(scope => new HeldRole(holding.Role.Name, through, scope, holding.Expires)));
            }

            subjects.Add(new SubjectRoles(subject.Id, subject.Kind ?? SubjectKind.User, held));
        }

        return subjects;
    }
}
