using System.Security.Claims;

namespace AiRbac.AspNetCore;

/// <summary>How <see cref="AiRbacAuthorizationHandler"/> maps a <see cref="ClaimsPrincipal"/> to a subject.</summary>
public sealed class AiRbacAuthorizationOptions
{
    /// <summary>The claim that holds the subject id, or <see langword="null"/> for the identity's name claim type.</summary>
    public string? NameClaimType { get; set; }

    /// <summary>The claim type of role claims, or <see langword="null"/> for the identity's role claim type. No role claims: the policy's bindings apply.</summary>
    public string? RoleClaimType { get; set; }

    /// <summary>The claim that holds the subject kind (<c>user</c>, <c>service</c> or <c>agent</c>). Default <c>airbac_kind</c>.</summary>
    public string KindClaimType { get; set; } = "airbac_kind";

    /// <summary>
    /// The kind of a subject whose identity has no kind claim. Default <see langword="null"/>: the policy's bindings
    /// decide (else <c>user</c>), so a token without a kind claim cannot make an agent the policy declares into a user.
    /// Set it only when every such subject really is of that kind.
    /// </summary>
    public SubjectKind? DefaultKind { get; set; }

    /// <summary>The route value that holds the resource's scope (for example <c>tenant</c>), or <see langword="null"/> for none.</summary>
    public string? ScopeRouteValue { get; set; }

    /// <summary>Maps a principal to a subject with these settings.</summary>
    /// <param name="principal">The user, or <see langword="null"/>.</param>
    /// <returns>The subject; an unauthenticated or unusable principal maps to an empty subject, which is denied.</returns>
    public Subject MapPrincipal(ClaimsPrincipal? principal)
        => AiRbac.Internal.ClaimsSubjectMapper.Map(principal, NameClaimType, RoleClaimType, KindClaimType, DefaultKind);
}
