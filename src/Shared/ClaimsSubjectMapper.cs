using System.Security.Claims;

namespace AiRbac.Internal;

// Shared by the adapters that see a ClaimsPrincipal (linked as source, not referenced, so the adapters stay
// independent of each other). A candidate for AiRbac.Core: ClaimsPrincipal is in the BCL.
internal static class ClaimsSubjectMapper
{
    // The subject a request carries when there is no usable identity: it is denied with missing_identity.
    internal static readonly Subject Anonymous = new(string.Empty, SubjectKind.User, []);

    /// <summary>
    /// Maps a principal to a subject: the id and the kind from the primary identity's name and kind claims (no kind
    /// claim: <paramref name="defaultKind"/>, which is <see langword="null"/> unless the operator opts in, so the
    /// policy's bindings decide, as in the core); roles from the role claims of every identity of the principal, as
    /// <see cref="ClaimsPrincipal.IsInRole"/> reads them (claims transformation commonly adds a second identity with
    /// application roles); none: the policy's bindings. When the primary identity has an
    /// <see cref="ClaimsIdentity.Actor"/> (delegation), the actor is the subject and acts on behalf of the identity;
    /// an actor's roles are its own claims only. Anything unusable (no identity, primary identity not authenticated,
    /// no name, an unknown kind) maps to <see cref="Anonymous"/>.
    /// </summary>
    internal static Subject Map(ClaimsPrincipal? principal, string? nameClaimType, string? roleClaimType, string kindClaimType, SubjectKind? defaultKind)
    {
        if (principal?.Identity is not ClaimsIdentity identity || !identity.IsAuthenticated)
        {
            return Anonymous;
        }

        return Map(identity, principal.Identities, nameClaimType, roleClaimType, kindClaimType, defaultKind, onBehalfOf: null, depth: 0);
    }

    private static Subject Map(
        ClaimsIdentity identity, IEnumerable<ClaimsIdentity> roleSources, string? nameClaimType, string? roleClaimType, string kindClaimType, SubjectKind? defaultKind, Subject? onBehalfOf, int depth)
    {
        string? id = identity.FindFirst(nameClaimType ?? identity.NameClaimType)?.Value;
        if (string.IsNullOrEmpty(id) || !TryKind(identity.FindFirst(kindClaimType)?.Value, defaultKind, out var kind))
        {
            return Anonymous;
        }

        List<RoleBinding>? roles = null;
        foreach (var source in roleSources)
        {
            foreach (var claim in source.FindAll(roleClaimType ?? source.RoleClaimType))
            {
                var binding = new RoleBinding(claim.Value);
                if (roles is null || !roles.Contains(binding))
                {
                    (roles ??= []).Add(binding);
                }
            }
        }

        // No role claims: the policy's bindings section decides (roles: null).
        var subject = new Subject(id, kind, roles, onBehalfOf);

        // Delegation (for example an RFC 8693 "act" claim mapped to ClaimsIdentity.Actor): the actor asks on behalf of
        // this identity; an actor's own actor extends the chain. An actor's kind, like anyone's, comes from its kind
        // claim, else the opt-in default, else the policy. The depth bound only stops a cyclic Actor graph; real
        // chains are short.
        if (identity.Actor is { } actor)
        {
            return depth < 8 ? Map(actor, [actor], nameClaimType, roleClaimType, kindClaimType, defaultKind, subject, depth + 1) : Anonymous;
        }

        return subject;
    }

    private static bool TryKind(string? value, SubjectKind? defaultKind, out SubjectKind? kind)
    {
        switch (value)
        {
            case null or "":
                kind = defaultKind;
                return true;
            case "user":
                kind = SubjectKind.User;
                return true;
            case "service":
                kind = SubjectKind.Service;
                return true;
            case "agent":
                kind = SubjectKind.Agent;
                return true;
            default:
                kind = defaultKind;
                return false; // an unknown kind fails closed
        }
    }
}
