namespace AiRbac.Core.Tests;

/// <summary>Allocation is deterministic: steady-state Authorize must allocate nothing, for every reason and matcher kind.</summary>
public class ZeroAllocationTests
{
    [Fact]
    public void Authorize_SteadyStateMixedDecisions_AllocatesZeroBytes()
    {
        var clock = new FixedClock(TestPolicy.Now);
        var document = new TestPolicy()
            .Role("viewer", allow: ["data:read on output:*"], max: "internal")
            .Role("analyst", inherits: ["viewer"], allow: ["model:query on model:gpt-4o", "tool:invoke on tool:report_*", "data:read on dataset:*/pii/**", "model:* on model:any"],
                deny: ["tool:invoke on tool:dangerous_*"], max: "confidential")
            .Role("clinician", allow: ["model:query on model:clinical-*", "data:read on dataset:claims/**"], max: "confidential", clearances: ["phi"])
            .Role("a", allow: ["x:y on **"]).Role("b", allow: ["x:y on **"])
            .Role("approver", allow: ["config:approve on config:*"])
            .Role("humans", kinds: ["user"], allow: ["* on **"], max: "restricted")
            .Catalog("dataset:claims/**", "restricted", "phi")
            .Catalog("model:clinical-*", "confidential", "phi")
            .MutuallyExclusive("a", "b")
            .Owner("config:approve")
            .Role("sql", allow: ["tool:invoke on tool:sql_*"], max: "internal")
            .Role("emergency", inherits: ["clinician"], allow: ["data:read on dataset:claims/**"], max: "restricted", clearances: ["phi"])
            .Context("mfa", "bool").Context("table", "string")
            .BreakGlass("emergency", "1h")
            .Role("deploy", allow: ["model:deploy on model:*"])
            .Approval("prod-deploy", ["model:deploy on model:prod-*"], ["approver"])
            .BoundSubject("dave", roles: ["approver"]);

        // Gated roles (docs/policy-language.md, sections 11 and 12): decided per request, with the request's context.
        var policy = document.Gate("sql", document.Cond("mfa", "true"), document.Cond("table", "sales_*", "sales")).Build(clock);

        var alice = Subject.WithRoles("alice", SubjectKind.User, "analyst");
        var scoped = new Subject("svc", SubjectKind.Service, [new RoleBinding("analyst", Scope: "acme/pd", Expires: TestPolicy.Now.AddDays(1)), new RoleBinding("clinician", Scope: "acme")]);
        var conflicted = Subject.WithRoles("carol", SubjectKind.User, "a", "b");
        var nobody = Subject.WithRoles("", SubjectKind.User, "analyst");
        var ghost = Subject.WithRoles("g", SubjectKind.User, "ghost");
        var approver = Subject.WithRoles("dave", SubjectKind.User, "approver");
        var clinician = Subject.WithRoles("c", SubjectKind.User, "clinician");
        var agent = Subject.WithRoles("bot", SubjectKind.Agent, "analyst", "humans").ActingFor(Subject.WithRoles("u", SubjectKind.User, "viewer"));
        var restricted = new ResourceRequest("model:gpt-4o") { Sensitivity = "restricted" };
        var tagged = new ResourceRequest("model:gpt-4o") { Tags = new[] { "phi", "unknown" } };
        var badTier = new ResourceRequest("model:gpt-4o") { Sensitivity = "nope" };
        var owned = new ResourceRequest("config:x") { Owner = "dave" };
        var inScope = new ResourceRequest("model:gpt-4o") { Scope = "acme/pd/prod" };
        var outOfScope = new ResourceRequest("model:gpt-4o") { Scope = "other" };
        var claims = new ResourceRequest("dataset:claims/2024") { Scope = "acme/x" };
        var piiSet = new ResourceRequest("dataset:crm/pii/2024");
        var sqlUser = Subject.WithRoles("sam", SubjectKind.User, "sql", "viewer");
        var withMfa = new RequestContext { Attributes = [new ContextAttribute("mfa", true), new ContextAttribute("table", "sales"), new ContextAttribute("other", 3)] };
        var withoutMfa = new RequestContext { Attributes = [new ContextAttribute("mfa", false), new ContextAttribute("table", "sales")] };
        var sqlTool = new ResourceRequest("tool:sql_query");
        var medic = Subject.WithRoles("medic", SubjectKind.User, "emergency");
        var activated = new RequestContext { Activations = [new BreakGlassActivation("medic", "emergency", "patient in ER", TestPolicy.Now.AddMinutes(-5))] };
        var deployer = Subject.WithRoles("dan", SubjectKind.User, "deploy");
        var approved = new RequestContext { Approvals = [new Approval("dave", "prod-deploy", TestPolicy.Now.AddMinutes(-10))] };

        var seen = new HashSet<DecisionReason>();
        int Run(int rounds)
        {
            int allowed = 0;
            for (int i = 0; i < rounds; i++)
            {
                allowed += Count(policy.Authorize(alice, "model:query", "model:gpt-4o"));
                allowed += Count(policy.Authorize(alice, "tool:invoke", "tool:report_weekly"));
                allowed += Count(policy.Authorize(alice, "tool:invoke", "tool:dangerous_rm"));
                allowed += Count(policy.Authorize(alice, "data:read", "output:summary"));
                allowed += Count(policy.Authorize(alice, "data:read", in piiSet));
                allowed += Count(policy.Authorize(alice, "model:new-verb", "model:any"));
                allowed += Count(policy.Authorize(alice, "model:query", in restricted));
                allowed += Count(policy.Authorize(alice, "model:query", in tagged));
                allowed += Count(policy.Authorize(alice, "model:query", in badTier));
                allowed += Count(policy.Authorize(alice, "model:fine-tune", "model:gpt-4o"));
                allowed += Count(policy.Authorize(scoped, "model:query", in inScope));
                allowed += Count(policy.Authorize(scoped, "model:query", in outOfScope));
                allowed += Count(policy.Authorize(scoped, "data:read", in claims));
                allowed += Count(policy.Authorize(conflicted, "x:y", "r:1"));
                allowed += Count(policy.Authorize(nobody, "model:query", "model:gpt-4o"));
                allowed += Count(policy.Authorize(ghost, "model:query", "model:gpt-4o"));
                allowed += Count(policy.Authorize(approver, "config:approve", in owned));
                allowed += Count(policy.Authorize(clinician, "model:query", "model:clinical-summarizer"));
                allowed += Count(policy.Authorize(agent, "tool:invoke", "tool:report_x"));
                allowed += Count(policy.Authorize(agent, "data:read", "output:x"));
                allowed += Count(policy.Authorize(sqlUser, "tool:invoke", in sqlTool, withMfa));
                allowed += Count(policy.Authorize(sqlUser, "tool:invoke", in sqlTool, withoutMfa));
                allowed += Count(policy.Authorize(sqlUser, "data:read", "output:x", withoutMfa));
                allowed += Count(policy.Authorize(medic, "data:read", in claims, activated));
                allowed += Count(policy.Authorize(medic, "data:read", in claims, withMfa));
                allowed += Count(policy.Authorize(deployer, "model:deploy", "model:prod-eu"));
                allowed += Count(policy.Authorize(deployer, "model:deploy", "model:prod-eu", approved));
                allowed += Count(policy.Authorize(deployer, "model:deploy", "model:dev-eu"));

                // A version 2 policy with no context, or an empty one: gated roles closed, nothing allocated either.
                allowed += Count(policy.Authorize(sqlUser, "tool:invoke", in sqlTool));
                allowed += Count(policy.Authorize(sqlUser, "tool:invoke", in sqlTool, RequestContext.Empty));
                allowed += Count(policy.Authorize(medic, "data:read", in claims, RequestContext.Empty));
            }

            return allowed;
        }

        int Count(Decision d)
        {
            if (seen.Count < DecisionReasons.All.Count)
            {
                seen.Add(d.Reason);
            }

            return d.Allowed ? 1 : 0;
        }

        Run(100); // warm up: resolve subjects, tier the JIT
        DecisionReasons.All.Where(r => !seen.Contains(r)).Should().BeEmpty("the loop must cover every reason");
        // The runtime itself may allocate once on this thread while it swaps in tier-1 code in the middle of a loop;
        // a per-call allocation would show in every attempt, so the least of three attempts must be zero.
        long allocated = long.MaxValue;
        int allowedCount = 0;
        for (int attempt = 0; attempt < 3 && allocated != 0; attempt++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            allowedCount = Run(1_000); // 31,000 decisions
            allocated = Math.Min(allocated, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        allocated.Should().Be(0, "steady-state Authorize must not allocate");
        allowedCount.Should().BeGreaterThan(0);
    }

    [Fact]
    public void Authorize_SubjectsBuiltPerRequest_AllocateNothingBeyondBuildingThem()
    {
        // What a service does: a new Subject per request from the caller's claims (roles as names), static, scoped,
        // expiring and delegated. The decision's bytes are those of building and deciding minus those of building alone.
        var clock = new FixedClock(TestPolicy.Now);
        var policy = new TestPolicy()
            .Role("viewer", allow: ["data:read on output:*"], max: "internal")
            .Role("analyst", inherits: ["viewer"], allow: ["model:query on model:gpt-4o", "tool:invoke on tool:report_*"], deny: ["tool:invoke on tool:dangerous_*"], max: "confidential")
            .Role("clinician", allow: ["model:query on model:clinical-*"], max: "confidential", clearances: ["phi"])
            .Role("a", allow: ["x:y on **"]).Role("b", allow: ["x:y on **"])
            .MutuallyExclusive("a", "b")
            .Build(clock);
        var inScope = new ResourceRequest("model:gpt-4o") { Scope = "acme/pd/prod" };
        var expires = TestPolicy.Now.AddDays(1);
        RoleBinding[] scopedRoles = [new RoleBinding("analyst", Scope: "acme/pd", Expires: expires), new RoleBinding("clinician", Scope: "acme")];
        Subject[] built = new Subject[6];

        void Build()
        {
            built[0] = new Subject("alice", SubjectKind.User, [new RoleBinding("analyst")]);
            built[1] = Subject.WithRoles("bob", SubjectKind.User, "viewer", "clinician");
            built[2] = new Subject("svc", SubjectKind.Service, scopedRoles);
            built[3] = Subject.WithRoles("carol", SubjectKind.User, "a", "b");
            built[4] = Subject.WithRoles("bot", SubjectKind.Agent, "analyst").ActingFor(Subject.WithRoles("u", SubjectKind.User, "viewer"));
            built[5] = new Subject("dora"); // roles from the policy's bindings: none, so missing_identity
        }

        int Decide()
        {
            int allowed = 0;
            allowed += policy.Authorize(built[0], "model:query", "model:gpt-4o").Allowed ? 1 : 0;
            allowed += policy.Authorize(built[1], "model:query", "model:clinical-x").Allowed ? 1 : 0;
            allowed += policy.Authorize(built[2], "model:query", in inScope).Allowed ? 1 : 0;
            allowed += policy.Authorize(built[3], "x:y", "r:1").Allowed ? 1 : 0;
            allowed += policy.Authorize(built[4], "data:read", "output:x").Allowed ? 1 : 0;
            allowed += policy.Authorize(built[5], "data:read", "output:x").Allowed ? 1 : 0;
            return allowed;
        }

        int BuildAndDecide(int rounds)
        {
            int allowed = 0;
            for (int i = 0; i < rounds; i++)
            {
                Build();
                allowed += Decide();
            }

            return allowed;
        }

        int BuildOnly(int rounds)
        {
            int count = 0;
            for (int i = 0; i < rounds; i++)
            {
                Build();
                count += built[0].Id.Length;
            }

            return count;
        }

        BuildAndDecide(200); // warm up: every role set's table built, the JIT tiered
        BuildOnly(200);
        long decided = long.MaxValue, buildOnly = long.MaxValue;
        int allowedCount = 0;
        for (int attempt = 0; attempt < 3; attempt++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            allowedCount = BuildAndDecide(2_000);
            long middle = GC.GetAllocatedBytesForCurrentThread();
            BuildOnly(2_000);
            decided = Math.Min(decided, middle - before);
            buildOnly = Math.Min(buildOnly, GC.GetAllocatedBytesForCurrentThread() - middle);
        }

        buildOnly.Should().BeGreaterThan(0);
        (decided - buildOnly).Should().Be(0, "deciding for a subject built per request must allocate nothing beyond building it");
        allowedCount.Should().Be(2_000 * 4);
    }
}
