using System.Security.Claims;

namespace AiRbac.IntegrationTests;

// Shared by the integration test projects that map a ClaimsPrincipal to a subject (linked as source).
internal static class TestPrincipals
{
    public static ClaimsIdentity Identity(string name, string? kind, params string[] roles)
    {
        var claims = new List<Claim> { new(ClaimTypes.Name, name) };
        if (kind is not null)
        {
            claims.Add(new Claim("airbac_kind", kind));
        }

        claims.AddRange(roles.Select(r => new Claim(ClaimTypes.Role, r)));
        return new ClaimsIdentity(claims, "test");
    }

    public static ClaimsPrincipal User(string name, params string[] roles) => new(Identity(name, null, roles));

    // The agent holds support-agent and acts for alice (an analyst): ClaimsIdentity.Actor, as from a token-exchange "act" claim.
    public static ClaimsPrincipal BotForAlice()
    {
        var alice = Identity("alice", null, "analyst");
        alice.Actor = Identity("support-bot", "agent", "support-agent");
        return new ClaimsPrincipal(alice);
    }
}
