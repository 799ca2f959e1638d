using System.Security.Claims;

namespace AiRbac.Benchmarks.Scenarios;

/// <summary>What a request's token carries: id, kind, role names, and the identity it acts for (RFC 8693 actor).</summary>
internal sealed class PrincipalInputs(string id, string? kind, string[]? roles, PrincipalInputs? onBehalfOf)
{
    private readonly PrincipalInputs? next = onBehalfOf;

    /// <summary>The claims a token would carry for a corpus subject.</summary>
    public static PrincipalInputs Of(Subject s)
        => new(s.Id, (s.Kind is { } kind ? SubjectKinds.ToName(kind) : null), s.Roles?.Select(r => r.Role).ToArray(), s.OnBehalfOf is null ? null : Of(s.OnBehalfOf));

    /// <summary>A principal as an authentication handler builds it per request.</summary>
    public ClaimsPrincipal Build()
    {
        // The last subject of the chain (acted for by all the others) is the primary identity; each actor hangs off
        // the identity it acts for.
        var actor = Identity();
        for (var link = next; link is not null; link = link.next)
        {
            var principal = link.Identity();
            principal.Actor = actor;
            actor = principal;
        }

        return new ClaimsPrincipal(actor);
    }

    private ClaimsIdentity Identity()
    {
        var claims = new List<Claim>(2 + (roles?.Length ?? 0)) { new(ClaimTypes.NameIdentifier, id) };
        if (kind is not null)
        {
            claims.Add(new Claim(AspNetCorePathBenchmarks.KindClaim, kind));
        }

        foreach (string role in roles ?? [])
        {
            claims.Add(new Claim(ClaimTypes.Role, role));
        }

        return new ClaimsIdentity(claims, "bench");
    }
}
