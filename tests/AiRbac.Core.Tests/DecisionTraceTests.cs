namespace AiRbac.Core.Tests;

/// <summary>
/// <see cref="CompiledPolicy.Trace(Subject, string, in ResourceRequest, RequestContext?)"/>: the decision is Authorize's, and it names what took part (each link of the chain, the
/// catalog entry, the not_by_owner entry) as the engine used it; what <c>airbac test</c>'s coverage is built on.
/// </summary>
public class DecisionTraceTests
{
    private static TestPolicy Spec() => new TestPolicy()
        .Role("viewer", allow: ["data:read on output:*"], max: "internal")
        .Role("analyst", inherits: ["viewer"], allow: ["model:query on model:*", "data:read on dataset:**"], deny: ["model:query on model:banned"], max: "confidential")
        .Role("clinician", allow: ["data:read on dataset:patients/**"], max: "restricted", clearances: ["phi"])
        .Role("a", allow: ["x:y on **"]).Role("b", allow: ["x:y on **"])
        .Role("approver", allow: ["config:* on config:*"], max: "internal")
        .Role("reader", allow: ["data:read on dataset:sales/*"], max: "internal")
        .Catalog("dataset:patients/**", "restricted", "phi")
        .Catalog("dataset:**", "internal")
        .MutuallyExclusive("a", "b")
        .Owner("config:deploy", "config:*");

    private static readonly Subject Analyst = Subject.WithRoles("alice", SubjectKind.User, "analyst");
    private static readonly Subject Clinician = Subject.WithRoles("carol", SubjectKind.User, "clinician");

    [Fact]
    public void Trace_GivesAuthorizesDecision_AndTheCatalogEntryTheGrantWasJudgedAgainst()
    {
        var spec = Spec();
        var policy = spec.Build();

        var allowed = policy.Trace(Analyst, "data:read", new ResourceRequest("dataset:sales/q3"));
        allowed.Decision.Should().Be(policy.Authorize(Analyst, "data:read", "dataset:sales/q3"));
        allowed.CatalogEntryLocation.Should().Be(spec.Resources[1].Location, "dataset:** classified it (the first entry does not match)");
        allowed.Chain.Should().Equal(allowed.Decision);

        var ceiling = policy.Trace(Analyst, "data:read", new ResourceRequest("dataset:patients/p1"));
        ceiling.Decision.Reason.Should().Be(DecisionReason.SensitivityCeiling);
        ceiling.CatalogEntryLocation.Should().Be(spec.Resources[0].Location, "first match wins");

        // No entry matches: default_sensitivity; no grant judged: the catalog was never read.
        policy.Trace(Analyst, "model:query", new ResourceRequest("model:gpt-4o")).CatalogEntryLocation.Should().BeNull();
        var denied = policy.Trace(Analyst, "model:query", new ResourceRequest("model:banned"));
        denied.Decision.Reason.Should().Be(DecisionReason.ExplicitDeny);
        denied.CatalogEntryLocation.Should().BeNull();
        policy.Trace(Analyst, "tool:invoke", new ResourceRequest("dataset:x")).CatalogEntryLocation.Should().BeNull("no_matching_grant judges no grant");
    }

    [Fact]
    public void Trace_OwnerConflict_NamesTheFirstMatchingNotByOwnerEntry()
    {
        var spec = Spec();
        var policy = spec.Build();
        var dave = Subject.WithRoles("dave", SubjectKind.User, "approver");

        var exact = policy.Trace(dave, "config:deploy", new ResourceRequest("config:x") { Owner = "dave" });
        exact.Decision.Reason.Should().Be(DecisionReason.OwnerConflict);
        exact.NotByOwnerLocation.Should().Be(spec.NotByOwner[0].Location);

        var glob = policy.Trace(dave, "config:approve", new ResourceRequest("config:x") { Owner = "dave" });
        glob.NotByOwnerLocation.Should().Be(spec.NotByOwner[1].Location);

        policy.Trace(dave, "config:approve", new ResourceRequest("config:x") { Owner = "erin" }).NotByOwnerLocation.Should().BeNull();
    }

    [Fact]
    public void Trace_Delegation_DecidesEachLinkAlone_UpToTheFirstDenied()
    {
        var spec = Spec();
        var policy = spec.Build();
        var viewer = Subject.WithRoles("vic", SubjectKind.User, "viewer");
        var conflicted = Subject.WithRoles("sam", SubjectKind.User, "a", "b");

        // Allowed down the chain: each link's own deciding rule.
        var chain = Analyst.ActingFor(Clinician);
        var both = policy.Trace(chain, "data:read", new ResourceRequest("dataset:patients/p1") { Sensitivity = "internal" });
        both.Decision.Reason.Should().Be(DecisionReason.SensitivityCeiling, "the actor's ceiling is below restricted");
        both.Chain.Should().Equal([both.Decision], "a denied actor's decision stands; no link is decided");

        var reader = Subject.WithRoles("rita", SubjectKind.Agent, "reader");
        var allowed = policy.Trace(reader.ActingFor(Analyst), "data:read", new ResourceRequest("dataset:sales/q3"));
        allowed.Decision.Reason.Should().Be(DecisionReason.Allowed);
        allowed.Decision.Role.Should().Be("reader", "the actor's rule decides an allowed chain");
        allowed.Chain.Should().HaveCount(2);
        allowed.Chain[0].Should().Be(allowed.Decision);
        allowed.Chain[1].Rule.Should().Be("data:read on dataset:**", "the link's own deciding rule");
        allowed.Chain[1].RuleLocation.Should().Be(spec.Roles[1].Allow[1].Location);

        // The first denied link ends the trace; its reason is the delegated reason of the chain's decision.
        var deep = Clinician.ActingFor(viewer.ActingFor(Analyst));
        var delegated = policy.Trace(deep, "data:read", new ResourceRequest("dataset:patients/p2"));
        delegated.Decision.Reason.Should().Be(DecisionReason.DelegationDenied);
        delegated.Chain.Should().HaveCount(2, "the second link (analyst) is never decided");
        delegated.Chain[0].Reason.Should().Be(DecisionReason.Allowed);
        delegated.Chain[0].Role.Should().Be("clinician", "the actor's own allowing rule, which the chain's decision does not name");
        delegated.Chain[1].Reason.Should().Be(delegated.Decision.DelegatedReason).And.Be(DecisionReason.NoMatchingGrant);
        delegated.CatalogEntryLocation.Should().Be(spec.Resources[0].Location, "the actor was allowed: its grant was judged against the entry");

        // A link denied for separation of duties keeps its list's location (the chain's decision has no rule for it).
        var sod = policy.Trace(Subject.WithRoles("z", SubjectKind.User, "a").ActingFor(conflicted), "x:y", new ResourceRequest("r:1"));
        sod.Decision.Reason.Should().Be(DecisionReason.DelegationDenied);
        sod.Decision.RuleLocation.Should().BeNull();
        sod.Chain[1].Reason.Should().Be(DecisionReason.SeparationOfDuties);
        sod.Chain[1].RuleLocation.Should().Be(spec.Exclusive[0].Location);
    }

    [Fact]
    public void Trace_DelegatedOwnerConflict_NamesTheEntry_AndNullSubjectIsMissingIdentity()
    {
        var spec = Spec();
        var policy = spec.Build();
        var dave = Subject.WithRoles("dave", SubjectKind.User, "approver");
        var erin = Subject.WithRoles("erin", SubjectKind.User, "approver");

        var trace = policy.Trace(erin.ActingFor(dave), "config:deploy", new ResourceRequest("config:x") { Owner = "dave" });
        trace.Decision.Reason.Should().Be(DecisionReason.DelegationDenied);
        trace.Decision.DelegatedReason.Should().Be(DecisionReason.OwnerConflict);
        trace.NotByOwnerLocation.Should().Be(spec.NotByOwner[0].Location);

        var none = policy.Trace(null!, "x:y", new ResourceRequest("r:1"));
        none.Decision.Reason.Should().Be(DecisionReason.MissingIdentity);
        none.Chain.Should().Equal(none.Decision);
        CompiledPolicy.DenyAll.Trace(Analyst, "x:y", new ResourceRequest("r:1")).Decision.Allowed.Should().BeFalse();
    }

    [Fact]
    public void Trace_LeavesAuthorizeAllocationFree()
    {
        var policy = Spec().Build();
        var request = new ResourceRequest("dataset:sales/q3");
        _ = policy.Trace(Analyst, "data:read", request);
        _ = policy.Authorize(Analyst, "data:read", request);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            _ = policy.Authorize(Analyst, "data:read", request);
        }

        (GC.GetAllocatedBytesForCurrentThread() - before).Should().Be(0, "the trace's locations are kept beside the decision tables, never read by Authorize");
    }

    [Fact]
    public void HeldConditionLocations_NameTheConditionsARoleWasActiveThrough_PerLinkOfTheChain()
    {
        // night (conditions) inherits reports; rex also holds reports directly, so for rex the window decided nothing.
        var p = new TestPolicy().Context("mfa", "bool")
            .Role("reports", allow: ["tool:invoke on tool:report_*"])
            .Role("night", inherits: ["reports"])
            .Role("bot", allow: ["tool:invoke on tool:**"], kinds: ["agent"]);
        var window = new Model.ConditionDefinition { Key = p.L("time_of_day"), Values = [p.L("11:00-13:00")] };
        var mfa = new Model.ConditionDefinition { Key = p.L("mfa"), Values = [p.L("true")] };
        p.Gate("night", window, mfa);
        var policy = p.Build();
        var context = new RequestContext { Attributes = [new ContextAttribute("mfa", true)] };
        var olga = Subject.WithRoles("olga", SubjectKind.User, "night");
        var rex = Subject.WithRoles("rex", SubjectKind.User, "night", "reports");

        var through = policy.Trace(olga, "tool:invoke", new ResourceRequest("tool:report_x"), context);
        var direct = policy.Trace(rex, "tool:invoke", new ResourceRequest("tool:report_x"), context);
        var failed = policy.Trace(olga, "tool:invoke", new ResourceRequest("tool:report_x"));
        var chain = policy.Trace(Subject.WithRoles("b", SubjectKind.Agent, "bot").ActingFor(olga), "tool:invoke", new ResourceRequest("tool:report_x"), context);

        (through.Decision.Reason, through.Decision.Role).Should().Be((DecisionReason.Allowed, "reports"));
        through.HeldConditionLocations.Should().Equal(window.Key.Location, mfa.Key.Location);
        direct.HeldConditionLocations.Should().BeEmpty("rex holds reports without passing through night");
        (failed.Decision.Reason, failed.Decision.Condition).Should().Be((DecisionReason.ConditionFailed, "mfa: true"));
        failed.HeldConditionLocations.Should().BeEmpty("a failing condition is the one the decision names");
        chain.Chain.Should().HaveCount(2);
        chain.HeldConditionLocations.Should().Equal([window.Key.Location, mfa.Key.Location], "the link for olga was allowed through night");
    }
}
