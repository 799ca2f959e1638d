using System.Security.Claims;

namespace AiRbac.Internal;

// Shared by the adapters that see a ClaimsPrincipal (linked as source, not referenced, so the adapters stay
// independent of each other). A candidate for AiRbac.Core: ClaimsPrincipal is in the BCL.
internal static class ClaimsSubjectMapper
{
    // The subject a request carries when there is no usable identity: it is denied with missing_identity.
    internal static readonly Subject Anonymous = new(string.Empty, SubjectKind.User, []);

    /// <summary>
    /// Maps a principal to a subject: the id from the name claim, roles from the role claims (none: the policy's
    /// bindings), the kind from the kind claim (else <paramref name="defaultKind"/>). When the identity has an
    /// <see cref="ClaimsIdentity.Actor"/> (delegation), the actor is the subject and acts on behalf of the identity.
    /// Anything unusable (no identity, not authenticated, no name, an unknown kind) maps to <see cref="Anonymous"/>.
    /// </summary>
    internal static Subject Map(ClaimsPrincipal? principal, string? nameClaimType, string? roleClaimType, string kindClaimType, SubjectKind defaultKind)
    {
        if (principal?.Identity is not ClaimsIdentity identity || !identity.IsAuthenticated)
        {
            return Anonymous;
        }

        return Map(identity, nameClaimType, roleClaimType, kindClaimType, defaultKind, onBehalfOf: null, depth: 0);
    }

    private static Subject Map(ClaimsIdentity identity, string? nameClaimType, string? roleClaimType, string kindClaimType, SubjectKind defaultKind, Subject? onBehalfOf, int depth)
    {
        string? id = identity.FindFirst(nameClaimType ?? identity.NameClaimType)?.Value;
        if (string.IsNullOrEmpty(id) || !TryKind(identity.FindFirst(kindClaimType)?.Value, defaultKind, out var kind))
        {
            return Anonymous;
        }

        List<RoleBinding>? roles = null;
        foreach (var claim in identity.FindAll(roleClaimType ?? identity.RoleClaimType))
        {
            (roles ??= []).Add(new RoleBinding(claim.Value));
        }

        // No role claims: the policy's bindings section decides (roles: null).
        var subject = new Subject(id, kind, roles, onBehalfOf);

        // Delegation (for example an RFC 8693 "act" claim mapped to ClaimsIdentity.Actor): the actor asks on behalf of
        // this identity; an actor's own actor extends the chain. An actor's kind defaults to agent. The depth bound
        // only stops a cyclic Actor graph; real chains are short.
        if (identity.Actor is { } actor)
        {
            return depth < 8 ? Map(actor, nameClaimType, roleClaimType, kindClaimType, SubjectKind.Agent, subject, depth + 1) : Anonymous;
        }

        return subject;
    }

    private static bool TryKind(string? value, SubjectKind defaultKind, out SubjectKind kind)
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
