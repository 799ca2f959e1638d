namespace AiRbac.Model;

/// <summary>Every text value a policy document holds (names, ids, patterns, tiers, tags, scopes, timestamps), with where it was written.</summary>
internal static class PolicyDocumentText
{
    /// <summary>Walks the document once, in document order.</summary>
    internal static IEnumerable<LocatedString> All(PolicyDocument doc)
    {
        yield return doc.Version;
        foreach (var key in doc.Context ?? [])
        {
            yield return key.Name;
            yield return key.Type;
        }

        foreach (var tier in doc.Sensitivity ?? [])
        {
            yield return tier;
        }

        if (doc.DefaultSensitivity is { } defaultTier)
        {
            yield return defaultTier;
        }

        foreach (var role in doc.Roles)
        {
            yield return role.Name;
            if (role.Id is { } id)
            {
                yield return id;
            }

            if (role.MaxSensitivity is { } ceiling)
            {
                yield return ceiling;
            }

            foreach (var text in role.Inherits.Concat(role.Allow).Concat(role.Deny).Concat(role.Clearances).Concat(role.Kinds ?? []))
            {
                yield return text;
            }

            if (role.BreakGlass?.MaxActivation is { } maxActivation)
            {
                yield return maxActivation;
            }

            foreach (var condition in role.Conditions)
            {
                yield return condition.Key;
                foreach (var text in condition.Values.Concat(new[] { condition.Min, condition.Max }.OfType<LocatedString>()))
                {
                    yield return text;
                }
            }
        }

        foreach (var entry in doc.Resources)
        {
            yield return entry.Match;
            if (entry.Sensitivity is { } tier)
            {
                yield return tier;
            }

            foreach (var tag in entry.Tags)
            {
                yield return tag;
            }
        }

        foreach (var text in doc.Constraints.MutuallyExclusive.SelectMany(set => set.Roles).Concat(doc.Constraints.NotByOwner))
        {
            yield return text;
        }

        foreach (var requirement in doc.Constraints.MinHolders)
        {
            yield return requirement.Role;
            yield return requirement.Count;
        }

        foreach (var rule in doc.Approvals ?? [])
        {
            yield return rule.Name;
            foreach (var text in rule.Match.Concat(rule.Approvers).Concat(new[] { rule.Count, rule.ValidFor }.OfType<LocatedString>()))
            {
                yield return text;
            }
        }

        foreach (var group in doc.Bindings.Groups)
        {
            yield return group.Name;
            foreach (var text in Binding(group.Roles))
            {
                yield return text;
            }
        }

        foreach (var subject in doc.Bindings.Subjects)
        {
            yield return subject.Id;
            foreach (var text in new[] { subject.Kind, subject.Scope, subject.Expires }.OfType<LocatedString>().Concat(subject.Groups).Concat(Binding(subject.Roles)))
            {
                yield return text;
            }
        }
    }

    private static IEnumerable<LocatedString> Binding(IEnumerable<RoleBindingDefinition> bindings)
        => bindings.SelectMany(b => new[] { (LocatedString?)b.Role, b.Scope, b.Expires }).OfType<LocatedString>();
}
