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

    /// <summary>The adapter's mapping with one options object made up front (so a loop measures the mapping alone).</summary>
    protected abstract Func<ClaimsPrincipal, Subject> Mapper();

    [Fact]
    public void EqualClaims_MapToOneSubject_WhichDecidesAsAFreshOne_AndMappingAgainAllocatesNothing()
    {
        var first = Map(new ClaimsPrincipal(TestPrincipals.Identity("map-cache-alice", "user", "analyst", "admin")));
        var principal = new ClaimsPrincipal(TestPrincipals.Identity("map-cache-alice", "user", "analyst", "admin"));

        Map(principal).Should().BeSameAs(first, "a principal seen before maps to the subject kept for its claims");
        first.Roles!.Select(r => r.Role).Should().Equal("analyst", "admin");
        Policy.Authorize(first, "model:deploy", "model:gpt-4o").Allowed.Should().BeTrue();
        Policy.Authorize(first, "tool:invoke", "tool:report_q3").Allowed.Should().BeTrue();

        // Warm for half a second first (so the runtime's own code, ClaimsPrincipal.Identity, is optimized as in a running
        // service), then the least of three attempts, as the benchmarks' allocation gate reads it (a test running
        // alongside could evict the entry once; it cannot do so three times over).
        var map = Mapper();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.ElapsedMilliseconds < 500)
        {
            map(principal);
        }

        // The runtime's ClaimsPrincipal.Identity, which the mapping must call (PrimaryIdentitySelector), may box a list
        // enumerator until the JIT removes it: what it allocates alone is subtracted.
        long least = long.MaxValue;
        for (int attempt = 0; attempt < 3; attempt++)
        {
            map(principal);
            long control = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 1_000; i++)
            {
                _ = principal.Identity;
            }

            control = GC.GetAllocatedBytesForCurrentThread() - control;
            long before = GC.GetAllocatedBytesForCurrentThread() + control;
            for (int i = 0; i < 1_000; i++)
            {
                map(principal);
            }

            least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        least.Should().BeLessThanOrEqualTo(0);
    }

    [Fact]
    public void ClaimsThatDiffer_InId_Kind_OrRoles_MapToSubjectsOfTheirOwn()
    {
        var subject = Map(new ClaimsPrincipal(TestPrincipals.Identity("map-cache-bob", "user", "analyst")));
        var otherRoles = Map(new ClaimsPrincipal(TestPrincipals.Identity("map-cache-bob", "user", "admin")));
        var otherOrder = Map(new ClaimsPrincipal(TestPrincipals.Identity("map-cache-bob", "user", "admin", "analyst")));
        var otherKind = Map(new ClaimsPrincipal(TestPrincipals.Identity("map-cache-bob", "agent", "analyst")));
        var otherId = Map(new ClaimsPrincipal(TestPrincipals.Identity("map-cache-bob2", "user", "analyst")));

        subject.Roles!.Select(r => r.Role).Should().Equal("analyst");
        otherRoles.Roles!.Select(r => r.Role).Should().Equal("admin");
        otherOrder.Roles!.Select(r => r.Role).Should().Equal("admin", "analyst");
        otherKind.Kind.Should().Be(SubjectKind.Agent);
        otherId.Id.Should().Be("map-cache-bob2");
        Policy.Authorize(otherRoles, "model:deploy", "model:gpt-4o").Allowed.Should().BeTrue();
        Policy.Authorize(otherKind, "model:deploy", "model:gpt-4o").Allowed.Should().BeFalse();
        Policy.Authorize(subject, "model:deploy", "model:gpt-4o").Allowed.Should().BeFalse();
    }

    [Fact]
    public void ManyDistinctPrincipals_EachMapToTheirOwnClaims_PastTheKeptSubjects()
    {
        // More distinct principals than subjects are kept (8,192): every one still maps to exactly its own claims.
        for (int round = 0; round < 2; round++)
        {
            for (int i = 0; i < 20_000; i++)
            {
                string role = i % 2 == 0 ? "admin" : "analyst";
                var subject = Map(new ClaimsPrincipal(TestPrincipals.Identity($"map-cache-{i}", "user", role)));
                subject.Id.Should().Be($"map-cache-{i}");
                subject.Kind.Should().Be(SubjectKind.User);
                subject.Roles!.Should().ContainSingle().Which.Role.Should().Be(role);
            }
        }
    }

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

    // A DefaultKind outside the enum (configuration binds "3" to (SubjectKind)3) fails closed like an unknown kind claim:
    // the anonymous subject, never a Subject whose kind indexes another kind's closure, and no exception per request.
    [Theory]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(-1)]
    public void DefaultKind_OutsideTheEnum_MapsToAnonymous(int kind)
    {
        var subject = Map(new ClaimsPrincipal(TestPrincipals.Identity("erin", null, "analyst")), (SubjectKind)kind);
        subject.Id.Should().BeEmpty();
        subject.Roles.Should().BeEmpty();
        Map(new ClaimsPrincipal(TestPrincipals.Identity("erin", "agent", "analyst")), (SubjectKind)kind).Kind.Should().Be(SubjectKind.Agent, "a kind claim does not need the default");
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

    // ---- Delegation as identity providers issue it: RFC 8693 "act", Microsoft Entra agent identities. ----

    private const string DelegationYaml = """
        version: 1
        roles:
          analyst:
            allow: [ "tool:invoke on tool:report_*" ]
          support-agent:
            kinds: [agent]
            allow: [ "tool:invoke on tool:**" ]
        bindings:
          subjects:
            planner-bot: { kind: agent, roles: [support-agent] }
            00000000-aaaa-bbbb-cccc-000000000001: { kind: agent, roles: [support-agent] }
        """;

    private static readonly CompiledPolicy DelegationPolicy = YamlPolicy.Compile(DelegationYaml, "delegation.yaml").Policy!;

    // A bearer token's identity as JsonWebTokenHandler builds it (MapInboundClaims off): the name is "sub", roles "roles",
    // and a JSON object claim such as "act" is one claim whose value is the JSON text.
    private static ClaimsIdentity Token(params (string Type, string Value)[] claims)
        => new(claims.Select(c => c.Type == "act" ? new Claim(c.Type, c.Value, "JSON") : new Claim(c.Type, c.Value)), "Bearer", "sub", "roles");

    private static string[] Chain(Subject subject)
    {
        List<string> ids = [];
        for (var link = subject; link is not null; link = link.OnBehalfOf)
        {
            ids.Add(link.Id);
        }

        return [.. ids];
    }

    [Fact]
    public void RfcAct_AgentActingForAUser_IsTheSubject_ActingForTheUser()
    {
        var token = Token(("sub", "alice"), ("roles", "analyst"),
            ("act", """{"sub":"support-bot","airbac_kind":"agent","roles":["support-agent"]}"""));

        var subject = Map(new ClaimsPrincipal(token));

        Chain(subject).Should().Equal("support-bot", "alice");
        subject.Kind.Should().Be(SubjectKind.Agent);
        subject.Roles!.Select(r => r.Role).Should().Equal("support-agent");
        DelegationPolicy.Authorize(subject, "tool:invoke", "tool:report_q3").Allowed.Should().BeTrue();
        DelegationPolicy.Authorize(subject, "tool:invoke", "tool:delete_records").ReasonName.Should().Be("delegation_denied");
    }

    [Fact]
    public void RfcAct_NestedChain_TheOutermostActorIsTheSubject_PriorActorsFollow()
    {
        // support-bot (current actor) got the token from planner-bot (prior actor), which acted for alice.
        var token = Token(("sub", "alice"), ("roles", "analyst"),
            ("act", """{"sub":"support-bot","airbac_kind":"agent","roles":"support-agent","act":{"sub":"planner-bot"}}"""));

        var subject = Map(new ClaimsPrincipal(token));

        Chain(subject).Should().Equal("support-bot", "planner-bot", "alice");
        subject.OnBehalfOf!.Roles.Should().BeNull("an actor without role claims takes its roles from the policy's bindings");
        DelegationPolicy.Authorize(subject, "tool:invoke", "tool:report_q3").Allowed.Should().BeTrue();
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("""["support-bot"]""")]
    [InlineData("""{"client_id":"support-bot"}""")]
    [InlineData("""{"sub":42}""")]
    [InlineData("""{"sub":""}""")]
    [InlineData("""{"sub":"support-bot","sub":"alice"}""")]
    [InlineData("""{"sub":"support-bot","act":"planner-bot"}""")]
    [InlineData("""{"sub":"support-bot","roles":[1]}""")]
    [InlineData("""{"sub":"support-bot","airbac_kind":"root"}""")]
    [InlineData("""{"sub":"support-bot","airbac_kind":["agent"]}""")]
    public void RfcAct_Malformed_OrSpoofedKind_MapsToTheAnonymousSubject(string act)
    {
        var subject = Map(new ClaimsPrincipal(Token(("sub", "alice"), ("roles", "analyst"), ("act", act))));

        subject.Id.Should().BeEmpty();
        DelegationPolicy.Authorize(subject, "tool:invoke", "tool:report_q3").ReasonName.Should().Be("missing_identity");
    }

    [Fact]
    public void RfcAct_ChainsLongerThanTheBound_OrNestedTooDeep_MapToTheAnonymousSubject()
    {
        static string Nested(int actors)
        {
            string json = """{"sub":"bot-0"}""";
            for (int i = 1; i < actors; i++)
            {
                json = $$"""{"sub":"bot-{{i}}","act":{{json}}}""";
            }

            return json;
        }

        Chain(Map(new ClaimsPrincipal(Token(("sub", "alice"), ("act", Nested(8)))))).Should().HaveCount(9, "eight actors and the user");
        Map(new ClaimsPrincipal(Token(("sub", "alice"), ("act", Nested(9))))).Id.Should().BeEmpty();
        Map(new ClaimsPrincipal(Token(("sub", "alice"), ("act", Nested(10_000))))).Id.Should().BeEmpty();
        Map(new ClaimsPrincipal(Token(("sub", "alice"), ("act", new string('[', 100_000))))).Id.Should().BeEmpty();
    }

    [Fact]
    public void RfcAct_OnANonPrimaryIdentity_MakesNobodyAnActor_AndTwoActClaimsAreRefused()
    {
        var principal = new ClaimsPrincipal(Token(("sub", "alice"), ("roles", "analyst")));
        principal.AddIdentity(Token(("sub", "injected"), ("act", """{"sub":"support-bot","airbac_kind":"agent","roles":["support-agent"]}""")));

        Chain(Map(principal)).Should().Equal("alice");

        var twice = Token(("sub", "alice"), ("act", """{"sub":"support-bot"}"""), ("act", """{"sub":"planner-bot"}"""));
        Map(new ClaimsPrincipal(twice)).Id.Should().BeEmpty();
    }

    [Fact]
    public void ActorSetByTheHandler_WinsOverAnActClaim()
    {
        var alice = Token(("sub", "alice"), ("act", """{"sub":"planner-bot"}"""));
        alice.Actor = Token(("sub", "support-bot"), ("airbac_kind", "agent"));

        Chain(Map(new ClaimsPrincipal(alice))).Should().Equal("support-bot", "alice");
    }

    [Fact]
    public void EntraAgentActingForAUser_TheAgentIdentityIsTheSubject_ActingForTheUser()
    {
        // A v2 access token an agent identity got for a user: the user's oid/sub, the agent identity's app id in azp,
        // and the actor and subject facets (assumed shapes: docs/integrations.md, "Claims mapping (ASP.NET Core and MCP)").
        var token = Token(("sub", "alice"), ("roles", "analyst"), ("idtyp", "user"), ("oid", "aaaaaaaa-0000-0000-0000-000000000001"),
            ("azp", "00000000-aaaa-bbbb-cccc-000000000001"), ("xms_act_fct", "3 11"), ("xms_sub_fct", "1"), ("xms_par_app_azp", "blueprint-app"));

        var subject = Map(new ClaimsPrincipal(token));

        Chain(subject).Should().Equal("00000000-aaaa-bbbb-cccc-000000000001", "alice");
        subject.Roles.Should().BeNull("the agent identity's roles come from the policy's bindings");
        DelegationPolicy.Authorize(subject, "tool:invoke", "tool:report_q3").Allowed.Should().BeTrue();
        DelegationPolicy.Authorize(subject, "tool:invoke", "tool:delete_records").ReasonName.Should().Be("delegation_denied");

        // v1 tokens name the client in appid.
        var v1 = Token(("sub", "alice"), ("appid", "00000000-aaaa-bbbb-cccc-000000000001"), ("xms_act_fct", "3 11"));
        Chain(Map(new ClaimsPrincipal(v1))).Should().Equal("00000000-aaaa-bbbb-cccc-000000000001", "alice");
    }

    [Fact]
    public void EntraAgentActingForItself_IsNoDelegation_AndAnActorFacetWithoutAClientIsRefused()
    {
        var autonomous = Token(("sub", "00000000-aaaa-bbbb-cccc-000000000001"), ("idtyp", "app"),
            ("azp", "00000000-aaaa-bbbb-cccc-000000000001"), ("xms_act_fct", "3 9 11"), ("xms_sub_fct", "9 3 11"));
        Chain(Map(new ClaimsPrincipal(autonomous))).Should().Equal("00000000-aaaa-bbbb-cccc-000000000001");

        var noClient = Token(("sub", "alice"), ("idtyp", "user"), ("xms_act_fct", "11"));
        Map(new ClaimsPrincipal(noClient)).Id.Should().BeEmpty();
    }

    [Theory]
    [InlineData("""{"sub":"\uD800"}""")]
    [InlineData("""{"sub":"support-bot","roles":["\uDC00"]}""")]
    [InlineData("""{"sub":"support-bot","roles":"\uD83D"}""")]
    [InlineData("""{"sub":"support-bot","airbac_kind":"\uDFFF"}""")]
    [InlineData("""{"sub":"support-bot","act":{"sub":"\uD800x"}}""")]
    public void RfcAct_WithAnEscapedLoneSurrogate_MapsToTheAnonymousSubject_WithoutThrowing(string act)
    {
        // JsonElement.GetString throws InvalidOperationException (not JsonException) on such text.
        var subject = Map(new ClaimsPrincipal(Token(("sub", "alice"), ("roles", "analyst"), ("act", act))));

        subject.Id.Should().BeEmpty();
    }

    [Fact]
    public void RfcAct_WithARawLoneSurrogate_MapsToTheAnonymousSubject_WithoutThrowing()
    {
        // JsonDocument.Parse(string) refuses text it cannot transcode to UTF-8 with an ArgumentException.
        var subject = Map(new ClaimsPrincipal(Token(("sub", "alice"), ("act", "{\"sub\":\"bot\uD800\"}"))));

        subject.Id.Should().BeEmpty();
    }

    [Theory]
    [InlineData("idtyp", "app", "user")]
    [InlineData("idtyp", "user", "app")]
    [InlineData("azp", "00000000-aaaa-bbbb-cccc-000000000001", "00000000-aaaa-bbbb-cccc-000000000002")]
    [InlineData("appid", "00000000-aaaa-bbbb-cccc-000000000001", "00000000-aaaa-bbbb-cccc-000000000002")]
    public void EntraDelegationClaim_RepeatedWithAnotherValue_MapsToTheAnonymousSubject(string type, string first, string second)
    {
        // Readers disagree on which of two values counts (the first, the last, an array): which app acts, and whether
        // anyone does, cannot be told. The same value twice is harmless.
        var claims = new List<(string, string)> { ("sub", "alice"), ("roles", "analyst"), ("xms_act_fct", "3 11") };
        if (type != "idtyp")
        {
            claims.Add(("idtyp", "user"));
        }

        if (type != "azp" && type != "appid")
        {
            claims.Add(("azp", "00000000-aaaa-bbbb-cccc-000000000001"));
        }

        var repeated = Token([.. claims, (type, first), (type, second)]);
        var twiceTheSame = Token([.. claims, (type, first), (type, first)]);

        Map(new ClaimsPrincipal(repeated)).Id.Should().BeEmpty();
        Map(new ClaimsPrincipal(twiceTheSame)).Id.Should().NotBeEmpty();
    }

    [Fact]
    public void BreakGlassRoleFromAClaim_GrantsNothingUntilThatSubjectActivatesIt()
    {
        // A role claim naming a break-glass role (policy language version 2) is a binding like any other: standing, it
        // grants nothing; only an activation by the mapped subject's own id opens it.
        var policy = YamlPolicy.Compile("""
            version: 2
            roles:
              emergency:
                break_glass: { max_activation: 1h }
                allow: [ "data:read on dataset:**" ]
            """, "claims-v2.yaml").Policy!;
        var subject = Map(new ClaimsPrincipal(TestPrincipals.Identity("claims-nina", "user", "emergency")));
        var now = DateTimeOffset.UtcNow;
        RequestContext By(string id) => new() { Activations = [new BreakGlassActivation(id, "emergency", "pager INC-7", now.AddMinutes(-1))] };

        policy.Authorize(subject, "data:read", "dataset:x").Reason.Should().Be(DecisionReason.BreakGlassNotActive);
        policy.Authorize(subject, "data:read", new ResourceRequest("dataset:x"), By("claims-mallory")).Reason.Should().Be(DecisionReason.BreakGlassNotActive);
        var opened = policy.Authorize(subject, "data:read", new ResourceRequest("dataset:x"), By("claims-nina"));
        (opened.Reason, opened.BreakGlassRole).Should().Be((DecisionReason.Allowed, "emergency"));
    }
}
