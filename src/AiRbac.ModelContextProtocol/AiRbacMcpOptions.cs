using System.Security.Claims;
using ModelContextProtocol.Server;

namespace AiRbac.ModelContextProtocol;

/// <summary>Settings of the AiRbac MCP filters. Read once, when the filters are created.</summary>
public sealed class AiRbacMcpOptions
{
    /// <summary>The action authorized for listing and calling a tool. Default <c>tool:invoke</c>.</summary>
    public string ToolAction { get; set; } = "tool:invoke";

    /// <summary>The prefix of the tool resource; the tool name follows it. Default <c>tool:</c>.</summary>
    public string ToolResourcePrefix { get; set; } = "tool:";

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

    /// <summary>
    /// Supplies the subject of a request instead of the claims mapping (for example a fixed subject for a stdio server,
    /// or an agent acting on behalf of <see cref="MessageContext.User"/>). Returning <see langword="null"/> denies.
    /// </summary>
    public Func<MessageContext, Subject?>? SubjectProvider { get; set; }

    /// <summary>Maps a principal to a subject with these settings (what the filters do without a <see cref="SubjectProvider"/>).</summary>
    /// <param name="principal">The session's authenticated user, or <see langword="null"/>.</param>
    /// <returns>The subject; an unauthenticated or unusable principal maps to an empty subject, which is denied.</returns>
    public Subject MapPrincipal(ClaimsPrincipal? principal)
        => AiRbac.Internal.ClaimsSubjectMapper.Map(principal, NameClaimType, RoleClaimType, KindClaimType, DefaultKind);
}
