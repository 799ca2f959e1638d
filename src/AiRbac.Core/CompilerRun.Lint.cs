// Lint: the warnings a valid policy can still earn (grants everything, allow shadowed by deny, no grants,
// missing max_sensitivity, separation of duties and min_holders over the policy's own bindings).

using System.Globalization;
using AiRbac.Diagnostics;
using AiRbac.Patterns;

namespace AiRbac;

internal sealed partial class CompilerRun
{
    private void Lint(CompiledPolicy policy, (List<ParsedRule> Allow, List<ParsedRule> Deny)[] parsedRules, List<CatalogEntry> catalog)
    {
        bool classifiedExists = defaultTier > 0 || catalog.Any(e => e.Tier > 0 || e.Tags != 0);
        for (int r = 0; r < doc.Roles.Count; r++)
        {
            var role = doc.Roles[r];
            string name = role.Name.Value;
            var (allow, deny) = parsedRules[r];
            foreach (var rule in allow)
            {
                if (rule.IsEverything)
                {
                    Warn(DiagnosticCodes.GrantsEverything, $"role '{Q(name)}' grants '{Q(rule.Text)}': every action on every resource", rule.Location);
                }

                if (deny.FirstOrDefault(d => PatternCover.Covers(d.Action, rule.Action) && PatternCover.Covers(d.Resource, rule.Resource)) is { } shadow)
                {
                    Warn(DiagnosticCodes.AllowShadowedByDeny, $"role '{Q(name)}': allow '{Q(rule.Text)}' is fully covered by its deny '{Q(shadow.Text)}' and never takes effect", rule.Location);
                }
            }

            if (allow.Count == 0 && role.Inherits.Count == 0)
            {
                Warn(DiagnosticCodes.RoleWithoutGrants, $"role '{Q(name)}' grants nothing and inherits nothing", role.Name.Location);
            }

            if (role.MaxSensitivity is null && classifiedExists
                && allow.FirstOrDefault(a => defaultTier > 0 || catalog.Any(e => (e.Tier > 0 || e.Tags != 0) && PatternCover.Overlaps(a.Resource, e.Pattern))) is { } classified)
            {
                Warn(DiagnosticCodes.MissingMaxSensitivity, $"role '{Q(name)}' grants '{Q(classified.Text)}' on classified resources but has no max_sensitivity, so its ceiling is '{Q(tiers[0])}'", classified.Location);
            }
        }

        LintBindings(policy);
    }

    /// <summary>
    /// Separation of duties and min_holders over the policy's bindings, asked of the compiled policy (the same
    /// effective roles as step 3 of the decision steps: kinds, scopes and expiry applied at compile time).
    /// </summary>
    private void LintBindings(CompiledPolicy policy)
    {
        var at = options.TimeProvider.GetUtcNow();
        var holders = new int[doc.Roles.Count];
        foreach (var definition in doc.Bindings.Subjects)
        {
            var (holdings, breaches) = policy.HoldingsAndBreaches(new Subject(definition.Id.Value), at);
            foreach (var holding in holdings)
            {
                holders[roleLookup[holding.Role.Id]]++;
            }

            foreach (var breach in breaches)
            {
                string where = breach.Scope is null ? string.Empty : $" in scope '{Q(breach.Scope)}'";
                Warn(DiagnosticCodes.BindingBreaksExclusion, $"subject '{Q(definition.Id.Value)}' holds {string.Join(" and ", breach.Held.Select(r => $"'{Q(r.Name)}'"))}{where}, which are mutually exclusive", definition.Id.Location);
            }
        }

        foreach (var requirement in doc.Constraints.MinHolders)
        {
            if (roleLookup.TryGetValue(requirement.Role.Value, out int role)
                && int.TryParse(requirement.Count.Value, NumberStyles.None, CultureInfo.InvariantCulture, out int count)
                && holders[role] < count)
            {
                Warn(DiagnosticCodes.MinHoldersNotMet, $"min_holders: role '{Q(doc.Roles[role].Name.Value)}' needs {count} holders; bindings give it {holders[role]}", requirement.Role.Location);
            }
        }
    }
}
