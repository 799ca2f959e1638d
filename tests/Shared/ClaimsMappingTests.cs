using System.Security.Claims;
using AiRbac.Yaml;

namespace AiRbac.IntegrationTests;

// Shared by the adapters that map a ClaimsPrincipal (linked as source): each test project derives from it with its
// own adapter's MapPrincipal, so both adapters are held to the same mapping.
public abstract class ClaimsMappingTests
{
    private const string Yaml = """
        version: 1
        roles:
          admin:
            kinds: [user]
            allow: [ "model:deploy on model:*" ]
          search-agent:
            kinds: [agent]
            allow: [ "tool:invoke on tool:search" ]
          analyst:
            allow: [ "tool:invoke on tool:report_*" ]
        bindings:
          subjects:
            ops-bot: { kind: agent, roles: [admin, search-agent] }
        """;

    private static readonly CompiledPolicy Policy = YamlPolicy.Compile(Yaml, "claims.yaml").Policy!;

    /// <summary>Maps with the adapter's options; <paramref name="defaultKind"/> is the opt-in default kind.</summary>
    protected abstract Subject Map(ClaimsPrincipal principal, SubjectKind? defaultKind = null);

    [Fact]
    public void MissingKindClaim_LeavesTheKindToThePolicy_SoAnAgentGetsNoUserOnlyRole()
    {
        // The attacker's test: the token of an agent the policy declares (kind: agent) carries no kind claim.
        var subject = Map(new ClaimsPrincipal(TestPrincipals.Identity("ops-bot", kind: null)));

        subject.Kind.Should().BeNull("the policy's bindings say what ops-bot is");
        Policy.Authorize(subject, "model:deploy", "model:gpt-4o").Allowed.Should().BeFalse("admin is for users only");
        Policy.Authorize(subject, "tool:invoke", "tool:search").Allowed.Should().BeTrue();
    }

    [Fact]
    public void MissingKindClaim_WithRoleClaims_StillTakesTheKindFromThePolicy()
    {
        // The attacker controls role claims but not the policy: claiming admin does not make ops-bot a user.
        var subject = Map(new ClaimsPrincipal(TestPrincipals.Identity("ops-bot", null, "admin")));

        Policy.Authorize(subject, "model:deploy", "model:gpt-4o").Allowed.Should().BeFalse();
    }

    [Fact]
    public void DefaultKind_IsOptIn_AndAppliesOnlyWithoutAKindClaim()
    {
        Map(new ClaimsPrincipal(TestPrincipals.Identity("erin", null, "analyst"))).Kind.Should().BeNull();
        Map(new ClaimsPrincipal(TestPrincipals.Identity("erin", null, "analyst")), SubjectKind.Service).Kind.Should().Be(SubjectKind.Service);
        Map(new ClaimsPrincipal(TestPrincipals.Identity("erin", "agent", "analyst")), SubjectKind.Service).Kind.Should().Be(SubjectKind.Agent);
    }

    [Fact]
    public void RoleClaimsOnAnotherIdentity_Count_ButItsNameAndKindDoNot()
    {
        // Claims transformation commonly adds a second identity (often unauthenticated) with application roles.
        var principal = new ClaimsPrincipal(TestPrincipals.Identity("alice", kind: null));
        principal.AddIdentity(new ClaimsIdentity(
            [new Claim(ClaimTypes.Role, "analyst"), new Claim(ClaimTypes.Name, "mallory"), new Claim("airbac_kind", "service")]));

        var subject = Map(principal);

        subject.Id.Should().Be("alice");
        subject.Kind.Should().BeNull();
        subject.Roles!.Select(r => r.Role).Should().Equal("analyst");
        Policy.Authorize(subject, "tool:invoke", "tool:report_weekly").Allowed.Should().BeTrue();
    }

    [Fact]
    public void RoleClaimsRepeatedAcrossIdentities_AreOneBinding()
    {
        var principal = new ClaimsPrincipal(TestPrincipals.Identity("alice", null, "analyst"));
        principal.AddIdentity(new ClaimsIdentity([new Claim(ClaimTypes.Role, "analyst")]));

        Map(principal).Roles!.Select(r => r.Role).Should().Equal("analyst");
    }

    [Fact]
    public void UnauthenticatedPrimaryIdentity_IsAnonymous_WhateverOtherIdentitiesCarry()
    {
        var principal = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, "alice")]));
        principal.AddIdentity(TestPrincipals.Identity("bob", "user", "admin"));

        Map(principal).Id.Should().BeEmpty();
    }

    [Fact]
    public void ActorWithoutKindClaim_TakesItsKindFromThePolicy()
    {
        var alice = TestPrincipals.Identity("alice", null, "analyst");
        alice.Actor = TestPrincipals.Identity("ops-bot", kind: null);

        var subject = Map(new ClaimsPrincipal(alice));

        subject.Id.Should().Be("ops-bot");
        subject.Kind.Should().BeNull();
        subject.OnBehalfOf!.Id.Should().Be("alice");
    }
}
