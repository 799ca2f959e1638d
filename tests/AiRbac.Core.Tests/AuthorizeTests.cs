namespace AiRbac.Core.Tests;

public class AuthorizeTests
{
    private static TestPolicy SpecExample()
    {
        var p = new TestPolicy()
            .Role("viewer", allow: ["data:read on output:*"], max: "internal")
            .Role("analyst", id: "r-analyst", inherits: ["viewer"],
                allow: ["model:query on model:gpt-4o", "tool:invoke on tool:search", "tool:invoke on tool:report_*"],
                deny: ["tool:invoke on tool:dangerous_*"], max: "confidential")
            .Role("clinician", allow: ["model:query on model:clinical-*", "data:read on dataset:claims/**"], max: "confidential", clearances: ["phi"])
            .Role("release-bot", kinds: ["service"], allow: ["model:deploy on model:*"], max: "confidential")
            .Role("policy-engineer", allow: ["config:write on config:*"])
            .Role("deploy-approver", allow: ["config:approve on config:*"])
            .Role("admin", kinds: ["user"], allow: ["* on **"], max: "restricted", clearances: ["phi", "pii"])
            .Catalog("dataset:claims/**", "restricted", "phi")
            .Catalog("model:clinical-*", "confidential", "phi")
            .MutuallyExclusive("policy-engineer", "deploy-approver")
            .Owner("config:approve", "model:promote");
        return p;
    }

    private static CompiledPolicy Policy => SpecExample().Build();

    private static Subject User(string id, params string[] roles) => Subject.WithRoles(id, SubjectKind.User, roles);

    [Fact]
    public void Authorize_ExactGrant_AllowsWithRoleAndRule()
    {
        var d = Policy.Authorize(User("alice", "analyst"), "model:query", "model:gpt-4o");
        d.Allowed.Should().BeTrue();
        d.Reason.Should().Be(DecisionReason.Allowed);
        d.Role.Should().Be("analyst");
        d.Rule.Should().Be("model:query on model:gpt-4o");
    }

    [Fact]
    public void Authorize_PrefixGlobGrant_Allows()
    {
        var d = Policy.Authorize(User("alice", "analyst"), "tool:invoke", "tool:report_weekly");
        d.Should().Match<Decision>(x => x.Allowed && x.Role == "analyst" && x.Rule == "tool:invoke on tool:report_*");
    }

    [Fact]
    public void Authorize_SingleStarDoesNotCrossSlash_NoMatchingGrant()
    {
        Policy.Authorize(User("alice", "analyst"), "tool:invoke", "tool:report_/x").Reason.Should().Be(DecisionReason.NoMatchingGrant);
    }

    [Fact]
    public void Authorize_InheritedGrant_ReportsInheritedRole()
    {
        var d = Policy.Authorize(User("alice", "analyst"), "data:read", "output:summary");
        d.Allowed.Should().BeTrue();
        d.Role.Should().Be("viewer");
    }

    [Fact]
    public void Authorize_RoleNamedById_IsBound()
    {
        Policy.Authorize(User("alice", "r-analyst"), "model:query", "model:gpt-4o").Role.Should().Be("analyst");
    }

    [Fact]
    public void Authorize_EmptySubjectId_MissingIdentity()
    {
        var d = Policy.Authorize(User("", "analyst"), "model:query", "model:gpt-4o");
        d.Reason.Should().Be(DecisionReason.MissingIdentity);
        d.Role.Should().BeNull();
        d.Rule.Should().BeNull();
    }

    [Fact]
    public void Authorize_NoBindings_MissingIdentity()
    {
        Policy.Authorize(User("alice"), "model:query", "model:gpt-4o").Reason.Should().Be(DecisionReason.MissingIdentity);
    }

    [Fact]
    public void Authorize_NullSubject_MissingIdentity()
    {
        Policy.Authorize(null!, "model:query", "model:gpt-4o").Reason.Should().Be(DecisionReason.MissingIdentity);
    }

    [Fact]
    public void Authorize_OnlyUndeclaredOrExpiredBindings_NoActiveRoleNotMissingIdentity()
    {
        var expired = new Subject("alice", SubjectKind.User, [new RoleBinding("analyst", Expires: TestPolicy.Now.AddDays(-1)), new RoleBinding("ghost")]);
        Policy.Authorize(expired, "model:query", "model:gpt-4o").Reason.Should().Be(DecisionReason.NoActiveRole);
    }

    [Theory]
    [InlineData("secret", null)]
    [InlineData(null, "acme//pd")]
    [InlineData(null, "/acme")]
    [InlineData(null, "acme/")]
    [InlineData(null, "")]
    public void Authorize_UndeclaredTierOrMalformedScope_InvalidRequest(string? tier, string? scope)
    {
        var d = Policy.Authorize(User("alice", "analyst"), "model:query", new ResourceRequest("model:gpt-4o") { Sensitivity = tier, Scope = scope });
        d.Reason.Should().Be(DecisionReason.InvalidRequest);
    }

    [Theory]
    [InlineData("", "model:gpt-4o")]
    [InlineData("model:query", "")]
    public void Authorize_EmptyActionOrResource_InvalidRequestEvenForAdmin(string action, string resource)
    {
        Policy.Authorize(User("bob", "admin"), action, resource).Reason.Should().Be(DecisionReason.InvalidRequest);
    }

    [Fact]
    public void Authorize_MalformedBindingScopeFromCaller_InvalidRequest()
    {
        var s = new Subject("alice", SubjectKind.User, [new RoleBinding("analyst", Scope: "acme//x")]);
        Policy.Authorize(s, "model:query", new ResourceRequest("model:gpt-4o") { Scope = "acme/x" }).Reason.Should().Be(DecisionReason.InvalidRequest);
    }

    [Fact]
    public void Authorize_MissingIdentityBeatsInvalidRequest()
    {
        Policy.Authorize(User("", "analyst"), "model:query", new ResourceRequest("model:gpt-4o") { Sensitivity = "nope" })
            .Reason.Should().Be(DecisionReason.MissingIdentity);
    }

    [Fact]
    public void Authorize_InvalidRequestBeatsNoActiveRole()
    {
        Policy.Authorize(User("alice", "ghost"), "model:query", new ResourceRequest("model:gpt-4o") { Sensitivity = "nope" })
            .Reason.Should().Be(DecisionReason.InvalidRequest);
    }

    [Fact]
    public void Authorize_MutuallyExclusiveRoles_SeparationOfDutiesNamingFirstListedRole()
    {
        var d = Policy.Authorize(User("carol", "deploy-approver", "policy-engineer"), "config:write", "config:x");
        d.Reason.Should().Be(DecisionReason.SeparationOfDuties);
        d.Role.Should().Be("policy-engineer");
        d.Rule.Should().BeNull();
        d.Explain().Should().Contain("policy-engineer").And.Contain("deploy-approver");
    }

    [Fact]
    public void Authorize_SeparationOfDutiesBeatsNoActiveRoleAndDeny()
    {
        var p = new TestPolicy().Role("a", allow: ["x:y on **"]).Role("b", deny: ["** on **"]).MutuallyExclusive("a", "b").Build();
        p.Authorize(User("u", "a", "b"), "x:y", "r:s").Reason.Should().Be(DecisionReason.SeparationOfDuties);
    }

    [Fact]
    public void Authorize_ExclusiveRoleOutOfScope_NoConflict()
    {
        var s = new Subject("carol", SubjectKind.User, [new RoleBinding("policy-engineer"), new RoleBinding("deploy-approver", Scope: "acme/prod")]);
        var d = Policy.Authorize(s, "config:write", new ResourceRequest("config:x") { Scope = "acme/dev" });
        d.Allowed.Should().BeTrue();
        Policy.Authorize(s, "config:write", new ResourceRequest("config:x") { Scope = "acme/prod/eu" }).Reason.Should().Be(DecisionReason.SeparationOfDuties);
    }

    [Fact]
    public void Authorize_UndeclaredRoleOnly_NoActiveRole()
    {
        Policy.Authorize(User("alice", "ghost"), "model:query", "model:gpt-4o").Reason.Should().Be(DecisionReason.NoActiveRole);
    }

    [Fact]
    public void Authorize_KindExcludedRole_NoActiveRole()
    {
        var agent = Subject.WithRoles("bot", SubjectKind.Agent, "admin");
        Policy.Authorize(agent, "model:query", "model:gpt-4o").Reason.Should().Be(DecisionReason.NoActiveRole);
    }

    [Fact]
    public void Authorize_WalkDoesNotPassThroughKindExcludedRole()
    {
        var p = new TestPolicy()
            .Role("base", allow: ["model:query on model:*"])
            .Role("humans", kinds: ["user"], inherits: ["base"])
            .Role("top", inherits: ["humans"], allow: ["tool:invoke on tool:x"])
            .Build();
        var agent = Subject.WithRoles("bot", SubjectKind.Agent, "top");
        p.Authorize(agent, "tool:invoke", "tool:x").Allowed.Should().BeTrue();
        p.Authorize(agent, "model:query", "model:m").Reason.Should().Be(DecisionReason.NoMatchingGrant);
        p.Authorize(Subject.WithRoles("u", SubjectKind.User, "top"), "model:query", "model:m").Role.Should().Be("base");
    }

    [Fact]
    public void Authorize_DenyMatches_ExplicitDenyNamingDeclaringRole()
    {
        var d = Policy.Authorize(User("alice", "analyst"), "tool:invoke", "tool:dangerous_rm");
        d.Reason.Should().Be(DecisionReason.ExplicitDeny);
        d.Role.Should().Be("analyst");
        d.Rule.Should().Be("tool:invoke on tool:dangerous_*");
    }

    [Fact]
    public void Authorize_DenyBeatsAllowOfAnotherRole()
    {
        var d = Policy.Authorize(User("bob", "admin", "analyst"), "tool:invoke", "tool:dangerous_rm");
        d.Reason.Should().Be(DecisionReason.ExplicitDeny);
    }

    [Fact]
    public void Authorize_InheritedDeny_NamesTheParentRole()
    {
        var p = new TestPolicy().Role("parent", deny: ["tool:invoke on tool:x"]).Role("child", inherits: ["parent"], allow: ["tool:invoke on tool:*"]).Build();
        var d = p.Authorize(User("u", "child"), "tool:invoke", "tool:x");
        d.Reason.Should().Be(DecisionReason.ExplicitDeny);
        d.Role.Should().Be("parent");
    }

    [Fact]
    public void Authorize_OwnerApprovesOwnChange_OwnerConflict()
    {
        var d = Policy.Authorize(User("dave", "deploy-approver"), "config:approve", new ResourceRequest("config:x") { Owner = "dave" });
        d.Reason.Should().Be(DecisionReason.OwnerConflict);
        d.Role.Should().BeNull();
    }

    [Fact]
    public void Authorize_OwnerComparedOrdinally_AllowsOtherCase()
    {
        Policy.Authorize(User("dave", "deploy-approver"), "config:approve", new ResourceRequest("config:x") { Owner = "Dave" }).Allowed.Should().BeTrue();
    }

    [Fact]
    public void Authorize_ExplicitDenyBeatsOwnerConflict()
    {
        var p = new TestPolicy().Role("a", allow: ["x:approve on **"], deny: ["x:approve on r:secret"]).Owner("x:approve").Build();
        p.Authorize(User("u", "a"), "x:approve", new ResourceRequest("r:secret") { Owner = "u" }).Reason.Should().Be(DecisionReason.ExplicitDeny);
        p.Authorize(User("u", "a"), "x:approve", new ResourceRequest("r:other") { Owner = "u" }).Reason.Should().Be(DecisionReason.OwnerConflict);
    }

    [Fact]
    public void Authorize_OwnerConflictBeatsNoMatchingGrant()
    {
        var p = new TestPolicy().Role("a", allow: ["x:read on **"]).Owner("x:*").Build();
        p.Authorize(User("u", "a"), "x:approve", new ResourceRequest("r:1") { Owner = "u" }).Reason.Should().Be(DecisionReason.OwnerConflict);
    }

    [Fact]
    public void Authorize_NoGrant_NoMatchingGrantWithoutRole()
    {
        var d = Policy.Authorize(User("alice", "analyst"), "model:fine-tune", "model:gpt-4o");
        d.Reason.Should().Be(DecisionReason.NoMatchingGrant);
        d.Role.Should().BeNull();
    }

    [Fact]
    public void Authorize_CallerTierAboveCeiling_SensitivityCeiling()
    {
        var d = Policy.Authorize(User("alice", "analyst"), "model:query", new ResourceRequest("model:gpt-4o") { Sensitivity = "restricted" });
        d.Reason.Should().Be(DecisionReason.SensitivityCeiling);
        d.Role.Should().Be("analyst");
        d.Rule.Should().Be("model:query on model:gpt-4o");
        d.Explain().Should().Contain("'confidential'").And.Contain("'restricted'");
    }

    [Fact]
    public void Authorize_CatalogTierAboveCeiling_SensitivityCeiling()
    {
        Policy.Authorize(User("c", "clinician"), "data:read", "dataset:claims/2024").Reason.Should().Be(DecisionReason.SensitivityCeiling);
    }

    [Fact]
    public void Authorize_InheritedRoleJudgedWithOwnCeiling()
    {
        // viewer's ceiling is internal although analyst's is confidential.
        var d = Policy.Authorize(User("alice", "analyst"), "data:read", new ResourceRequest("output:x") { Sensitivity = "confidential" });
        d.Reason.Should().Be(DecisionReason.SensitivityCeiling);
        d.Role.Should().Be("viewer");
    }

    [Fact]
    public void Authorize_CallerTagNotCleared_MissingTagClearance()
    {
        var d = Policy.Authorize(User("alice", "analyst"), "model:query", new ResourceRequest("model:gpt-4o") { Tags = new[] { "phi" } });
        d.Reason.Should().Be(DecisionReason.MissingTagClearance);
        d.Role.Should().Be("analyst");
    }

    [Fact]
    public void Authorize_UnknownCallerTag_NeverCleared()
    {
        Policy.Authorize(User("bob", "admin"), "model:query", new ResourceRequest("model:gpt-4o") { Tags = new[] { "nuclear" } })
            .Reason.Should().Be(DecisionReason.MissingTagClearance);
    }

    [Fact]
    public void Authorize_CatalogTagCleared_Allows()
    {
        Policy.Authorize(User("c", "clinician"), "model:query", "model:clinical-summarizer").Allowed.Should().BeTrue();
        Policy.Authorize(User("alice", "analyst"), "model:query", "model:clinical-summarizer").Reason.Should().Be(DecisionReason.NoMatchingGrant);
    }

    [Fact]
    public void Authorize_SensitivityCeilingWhenEveryMatchingRoleTooLow_ElseMissingTagClearanceNamesFittingRole()
    {
        var p = new TestPolicy()
            .Role("low", allow: ["d:read on ds:*"], max: "public", clearances: ["phi"])
            .Role("high", allow: ["d:read on ds:*"], max: "restricted")
            .Catalog("ds:*", "confidential", "phi")
            .Build();
        var d = p.Authorize(User("u", "low", "high"), "d:read", "ds:x");
        d.Reason.Should().Be(DecisionReason.MissingTagClearance);
        d.Role.Should().Be("high");
        p.Authorize(User("u", "low"), "d:read", "ds:x").Reason.Should().Be(DecisionReason.SensitivityCeiling);
    }

    [Fact]
    public void Authorize_TieGoesToRoleDeclaredFirstThenFirstRule()
    {
        var p = new TestPolicy()
            .Role("first", allow: ["m:q on model:a*", "m:q on model:*"])
            .Role("second", allow: ["m:q on model:abc"])
            .Build();
        var d = p.Authorize(User("u", "second", "first"), "m:q", "model:abc");
        d.Role.Should().Be("first");
        d.Rule.Should().Be("m:q on model:a*");
    }

    [Fact]
    public void Authorize_CatalogFirstMatchWins_AndEntryWithoutTierUsesDefault()
    {
        var p = new TestPolicy { DefaultTier = "internal" }
            .Role("r", allow: ["d:read on ds:**"], max: "internal")
            .Catalog("ds:open/**")
            .Catalog("ds:**", "restricted")
            .Build();
        p.Authorize(User("u", "r"), "d:read", "ds:open/x").Allowed.Should().BeTrue();
        p.Authorize(User("u", "r"), "d:read", "ds:closed/x").Reason.Should().Be(DecisionReason.SensitivityCeiling);
    }

    [Fact]
    public void Authorize_DefaultSensitivityAboveCeiling_AppliesToUnclassified()
    {
        var p = new TestPolicy { DefaultTier = "confidential" }.Role("r", allow: ["a:b on **"], max: "internal").Build();
        p.Authorize(User("u", "r"), "a:b", "x:y").Reason.Should().Be(DecisionReason.SensitivityCeiling);
    }

    [Fact]
    public void Authorize_RoleWithoutMaxSensitivity_CeilingIsLowestTier()
    {
        var p = new TestPolicy().Role("r", allow: ["a:b on **"]).Build();
        p.Authorize(User("u", "r"), "a:b", new ResourceRequest("x:y") { Sensitivity = "public" }).Allowed.Should().BeTrue();
        p.Authorize(User("u", "r"), "a:b", new ResourceRequest("x:y") { Sensitivity = "internal" }).Reason.Should().Be(DecisionReason.SensitivityCeiling);
    }

    [Fact]
    public void Authorize_ScopedBinding_CoversDescendantsOnly()
    {
        var s = new Subject("svc", SubjectKind.Service, [new RoleBinding("release-bot", Scope: "acme/pd")]);
        Decision At(string? scope) => Policy.Authorize(s, "model:deploy", new ResourceRequest("model:m") { Scope = scope });
        At("acme/pd").Allowed.Should().BeTrue();
        At("acme/pd/prod").Allowed.Should().BeTrue();
        At("acme/pd2").Reason.Should().Be(DecisionReason.NoActiveRole);
        At("acme").Reason.Should().Be(DecisionReason.NoActiveRole);
        At(null).Reason.Should().Be(DecisionReason.NoActiveRole);
    }

    [Fact]
    public void Authorize_ExpiringBinding_ActiveStrictlyBeforeExpiry()
    {
        var clock = new FixedClock(TestPolicy.Now);
        var p = SpecExample().Build(clock);
        var s = new Subject("alice", SubjectKind.User, [new RoleBinding("analyst", Expires: TestPolicy.Now.AddMinutes(1))]);
        p.Authorize(s, "model:query", "model:gpt-4o").Allowed.Should().BeTrue();
        clock.Now = TestPolicy.Now.AddMinutes(1);
        p.Authorize(s, "model:query", "model:gpt-4o").Reason.Should().Be(DecisionReason.NoActiveRole);
    }

    [Fact]
    public void Authorize_PolicyBindings_UsedWhenRolesAbsent()
    {
        var p = SpecExample().Group("research", "analyst").BoundSubject("alice", roles: [], groups: ["research"])
            .BoundSubject("pipe", kind: "service", roles: ["release-bot"], scope: "acme/pd", expires: "2099-12-31T00:00:00Z").Build();
        p.Authorize(new Subject("alice"), "model:query", "model:gpt-4o").Role.Should().Be("analyst");
        p.Authorize(new Subject("pipe"), "model:deploy", new ResourceRequest("model:m") { Scope = "acme/pd/x" }).Allowed.Should().BeTrue();
        p.Authorize(new Subject("pipe"), "model:deploy", "model:m").Reason.Should().Be(DecisionReason.NoActiveRole);
        p.Authorize(new Subject("alice", roles: []), "model:query", "model:gpt-4o").Reason.Should().Be(DecisionReason.MissingIdentity);
        p.Authorize(new Subject("nobody"), "model:query", "model:gpt-4o").Reason.Should().Be(DecisionReason.MissingIdentity);
    }

    [Fact]
    public void Authorize_AgentOnBehalfOfUser_AllowedOnlyWhenBothAre()
    {
        var user = User("alice", "analyst");
        var agent = new Subject("bot", SubjectKind.Agent, [new RoleBinding("admin"), new RoleBinding("analyst")], user);
        var d = Policy.Authorize(agent, "tool:invoke", "tool:search");
        d.Allowed.Should().BeTrue();
        d.Role.Should().Be("analyst");

        var strongAgent = Subject.WithRoles("bot", SubjectKind.Agent, "clinician").ActingFor(user);
        var denied = Policy.Authorize(strongAgent, "model:query", "model:clinical-x");
        denied.Reason.Should().Be(DecisionReason.DelegationDenied);
        denied.DelegatedReason.Should().Be(DecisionReason.NoMatchingGrant);
    }

    [Fact]
    public void Authorize_ActorDenied_ActorDecisionStands()
    {
        var agent = Subject.WithRoles("bot", SubjectKind.Agent, "viewer").ActingFor(User("bob", "admin"));
        Policy.Authorize(agent, "tool:invoke", "tool:search").Reason.Should().Be(DecisionReason.NoMatchingGrant);
    }

    [Fact]
    public void Authorize_ChainOfThree_LaterLinkDeniedWithItsRoleAndRule()
    {
        var carol = User("carol", "analyst");
        var bob = User("bob", "admin").ActingFor(carol);
        var bot = Subject.WithRoles("bot", SubjectKind.Agent, "analyst").ActingFor(bob);
        var d = Policy.Authorize(bot, "model:query", new ResourceRequest("model:gpt-4o") { Tags = new[] { "phi" } });
        d.Reason.Should().Be(DecisionReason.MissingTagClearance); // the actor itself lacks phi
        var bot2 = Subject.WithRoles("bot", SubjectKind.Agent, "clinician").ActingFor(bob);
        var d2 = Policy.Authorize(bot2, "model:query", "model:clinical-notes");
        d2.Reason.Should().Be(DecisionReason.DelegationDenied);
        d2.DelegatedReason.Should().Be(DecisionReason.NoMatchingGrant);
    }

    [Fact]
    public void Authorize_DelegationDeniedByDeny_CarriesDenyingRoleAndRule()
    {
        var p = new TestPolicy().Role("a", allow: ["t:i on tool:*"]).Role("b", allow: ["t:i on tool:*"], deny: ["t:i on tool:rm"]).Build();
        var d = p.Authorize(Subject.WithRoles("bot", SubjectKind.Agent, "a").ActingFor(User("u", "b")), "t:i", "tool:rm");
        d.Reason.Should().Be(DecisionReason.DelegationDenied);
        d.DelegatedReason.Should().Be(DecisionReason.ExplicitDeny);
        d.Role.Should().Be("b");
        d.Rule.Should().Be("t:i on tool:rm");
    }

    [Fact]
    public void Authorize_SeparationOfDutiesInLaterLink_DelegationDeniedWithRoleAndNoRule()
    {
        var principal = User("carol", "deploy-approver", "policy-engineer");
        var agent = Subject.WithRoles("bot", SubjectKind.Agent, "policy-engineer").ActingFor(principal);
        var d = Policy.Authorize(agent, "config:write", "config:x");
        d.Reason.Should().Be(DecisionReason.DelegationDenied);
        d.DelegatedReason.Should().Be(DecisionReason.SeparationOfDuties);
        d.Role.Should().Be("policy-engineer");
        d.Rule.Should().BeNull();
        d.RuleLocation.Should().BeNull();
        d.Explain().Should().Contain("separation_of_duties");
    }

    [Fact]
    public void Authorize_OwnerConflictInLaterLink_DelegationDenied()
    {
        var approver = User("dave", "deploy-approver");
        var agent = Subject.WithRoles("bot", SubjectKind.Agent, "deploy-approver").ActingFor(approver);
        var d = Policy.Authorize(agent, "config:approve", new ResourceRequest("config:x") { Owner = "dave" });
        d.Reason.Should().Be(DecisionReason.DelegationDenied);
        d.DelegatedReason.Should().Be(DecisionReason.OwnerConflict);
    }

    [Fact]
    public void Authorize_ActionGlobAndUnknownAction_MatchedAtRuntime()
    {
        var p = new TestPolicy().Role("r", allow: ["model:* on model:m", "tool:invoke on tool:x"]).Build();
        p.Authorize(User("u", "r"), "model:anything-new", "model:m").Allowed.Should().BeTrue();
        p.Authorize(User("u", "r"), "model:query", "model:m").Allowed.Should().BeTrue();
        p.Authorize(User("u", "r"), "modelx:query", "model:m").Reason.Should().Be(DecisionReason.NoMatchingGrant);
    }

    [Fact]
    public void Authorize_IdsCompareOrdinally_CaseMatters()
    {
        Policy.Authorize(User("alice", "Analyst"), "model:query", "model:gpt-4o").Reason.Should().Be(DecisionReason.NoActiveRole);
        Policy.Authorize(User("alice", "analyst"), "model:query", "model:GPT-4o").Reason.Should().Be(DecisionReason.NoMatchingGrant);
    }

    [Fact]
    public void Explain_AllowedDecision_NamesRoleRuleAndLine()
    {
        var d = Policy.Authorize(User("alice", "analyst"), "tool:invoke", "tool:report_weekly");
        string text = d.Explain();
        text.Should().StartWith("Allowed").And.Contain("'analyst'").And.Contain("'tool:invoke on tool:report_*'").And.MatchRegex(@"test\.yaml:\d+:3");
        d.RuleLocation.Should().NotBeNull();
    }

    [Fact]
    public void Explain_EveryReason_SaysDeniedWithReasonName()
    {
        foreach (var reason in DecisionReasons.All.Where(r => r != DecisionReason.Allowed))
        {
            DecisionReasons.ToName(reason).Should().MatchRegex("^[a-z]+(_[a-z]+)*$");
        }

        var d = Policy.Authorize(User("alice", "analyst"), "tool:invoke", "tool:dangerous_rm");
        d.Explain().Should().StartWith("Denied (explicit_deny)");
        default(Decision).Allowed.Should().BeFalse("a default decision must deny");
        default(Decision).Explain().Should().StartWith("Denied");
    }

    [Fact]
    public void DecisionReasons_NamesRoundTrip()
    {
        foreach (var reason in DecisionReasons.All)
        {
            DecisionReasons.TryParse(DecisionReasons.ToName(reason), out var parsed).Should().BeTrue();
            parsed.Should().Be(reason);
        }

        DecisionReasons.TryParse("nope", out _).Should().BeFalse();
    }

    [Fact]
    public void Authorize_ConcurrentThreads_AgreeWithSingleThread()
    {
        var p = Policy;
        var subjects = new[] { User("a", "analyst"), User("b", "admin"), User("c", "clinician") };
        string[] resources = ["model:gpt-4o", "tool:report_x", "tool:dangerous_x", "dataset:claims/1", "model:clinical-a"];
        var expected = subjects.SelectMany(s => resources.Select(r => p.Authorize(s, "model:query", r).Reason)).ToArray();
        Parallel.For(0, 8, _ =>
        {
            for (int i = 0; i < 2000; i++)
            {
                var got = subjects.SelectMany(s => resources.Select(r => p.Authorize(s, "model:query", r).Reason)).ToArray();
                got.Should().Equal(expected);
            }
        });
    }

    [Fact]
    public void Authorize_ManyExactGrants_HashedButFirstMatchingRuleStillWins()
    {
        // More exact names than IndexedList.HashThreshold: looked up by hash, yet an earlier glob still wins the tie.
        var exact = Enumerable.Range(0, 20).Select(i => $"model:query on model:m{i}").ToList();
        exact.Insert(10, "model:query on model:m1*");
        var p = new TestPolicy().Role("r", allow: [.. exact], deny: [.. Enumerable.Range(0, 12).Select(i => $"model:query on model:bad{i}")]).Build();
        var u = User("u", "r");
        p.Authorize(u, "model:query", "model:m3").Rule.Should().Be("model:query on model:m3");
        p.Authorize(u, "model:query", "model:m12").Rule.Should().Be("model:query on model:m1*", "the glob is declared before m12");
        p.Authorize(u, "model:query", "model:m1").Rule.Should().Be("model:query on model:m1", "m1 is declared before the glob");
        p.Authorize(u, "model:query", "model:m99").Reason.Should().Be(DecisionReason.NoMatchingGrant);
        p.Authorize(u, "model:query", "model:bad7").Rule.Should().Be("model:query on model:bad7");
    }

    [Fact]
    public void Authorize_ManyExactCatalogEntries_FirstEntryInFileOrderWins()
    {
        var p = new TestPolicy().Role("r", allow: ["data:read on ds:**"], max: "internal");
        for (int i = 0; i < 15; i++)
        {
            p.Catalog($"ds:x{i}", i % 2 == 0 ? "restricted" : "public");
        }

        p.Catalog("ds:x*", "internal");
        var policy = p.Build();
        var u = User("u", "r");
        policy.Authorize(u, "data:read", "ds:x4").Reason.Should().Be(DecisionReason.SensitivityCeiling);
        policy.Authorize(u, "data:read", "ds:x5").Allowed.Should().BeTrue();
        policy.Authorize(u, "data:read", "ds:x77").Allowed.Should().BeTrue();
    }

    [Fact]
    public void Authorize_CatalogKnownFromTheGrant_SameTierAsSearchingTheCatalog()
    {
        // An exact grant carries its resource's catalog entry; a grant no catalog pattern can overlap carries "none".
        var p = new TestPolicy { DefaultTier = "internal" }
            .Role("r", allow: ["data:read on dataset:claims/2024", "tool:invoke on tool:report_*", "data:read on dataset:open/*"], max: "confidential")
            .Catalog("dataset:claims/**", "restricted", "phi")
            .Catalog("dataset:open/x", "public")
            .Catalog("model:*", "restricted")
            .Build();
        var u = User("u", "r");
        p.Authorize(u, "data:read", "dataset:claims/2024").Reason.Should().Be(DecisionReason.SensitivityCeiling);
        p.Authorize(u, "tool:invoke", new ResourceRequest("tool:report_q3") { Sensitivity = "confidential" }).Allowed.Should().BeTrue();
        p.Authorize(u, "tool:invoke", new ResourceRequest("tool:report_q3") { Sensitivity = "restricted" }).Reason.Should().Be(DecisionReason.SensitivityCeiling);
        p.Authorize(u, "data:read", "dataset:open/x").Allowed.Should().BeTrue();
        p.Authorize(u, "data:read", "dataset:open/y").Allowed.Should().BeTrue();
    }
}
