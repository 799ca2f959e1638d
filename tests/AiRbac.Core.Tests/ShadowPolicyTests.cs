namespace AiRbac.Core.Tests;

/// <summary>
/// Shadow mode in the core: a candidate policy evaluated beside the live one, for the observers only
/// (docs/dependency-injection.md, "Shadow mode").
/// </summary>
public class ShadowPolicyTests
{
    private static readonly PolicyVersion LiveVersion = new("live", TestPolicy.Now);
    private static readonly PolicyVersion CandidateVersion = new("candidate", TestPolicy.Now);

    private sealed class Recorder : IDecisionObserver
    {
        public List<(DecisionReason Live, ShadowOutcome Shadow, DecisionReason ShadowReason, string? ShadowRule, PolicyVersion? ShadowVersion)> Records { get; } = [];

        public void OnDecision(in DecisionRecord record)
            => Records.Add((record.Decision.Reason, record.Shadow, record.ShadowDecision.Reason, record.ShadowDecision.Rule, record.ShadowVersion));
    }

    /// <summary>A clock that works while the policy is compiled and throws once <see cref="Broken"/> is set.</summary>
    private sealed class BreakableClock : TimeProvider
    {
        public bool Broken { get; set; }

        public int Reads { get; private set; }

        public override DateTimeOffset GetUtcNow()
        {
            Reads++;
            return Broken ? throw new InvalidOperationException("the candidate's clock failed") : TestPolicy.Now;
        }
    }

    private static CompiledPolicy Live() => new TestPolicy()
        .Role("analyst", allow: ["model:query on model:gpt-4o", "tool:invoke on tool:report_*"], deny: ["tool:invoke on tool:shell_*"], max: "confidential")
        .Build();

    private static (PolicyAuthorizer Authorizer, PolicyAuthorizer Candidate, Recorder Recorder) Build(CompiledPolicy? candidate)
    {
        var recorder = new Recorder();
        var shadow = new PolicyAuthorizer();
        if (candidate is not null)
        {
            shadow.Update(candidate, CandidateVersion);
        }

        var authorizer = new PolicyAuthorizer([recorder], shadow);
        authorizer.Update(Live(), LiveVersion);
        return (authorizer, shadow, recorder);
    }

    [Fact]
    public void Authorize_CandidateAllowsEverything_LiveDenialStandsAndTheRecordSaysDisagreed()
    {
        // The attacker's test: whoever can write the candidate file writes "* on **" for everyone. The caller still gets
        // the live policy's answer; only the record shows what the candidate would have done.
        var everything = new TestPolicy().Role("analyst", allow: ["* on **"], max: "restricted").Role("anyone", allow: ["* on **"]).Build();
        var (authorizer, _, recorder) = Build(everything);
        var alice = Subject.WithRoles("alice", SubjectKind.User, "analyst");
        var mallory = Subject.WithRoles("mallory", SubjectKind.User, "anyone");

        authorizer.Authorize(alice, "tool:invoke", "tool:shell_exec").Allowed.Should().BeFalse();
        authorizer.Authorize(alice, "model:fine-tune", "model:gpt-4o").Allowed.Should().BeFalse();
        authorizer.Authorize(mallory, "model:query", "model:gpt-4o").Allowed.Should().BeFalse();
        authorizer.Authorize(alice, "model:query", new ResourceRequest("model:gpt-4o") { Sensitivity = "restricted" }).Allowed.Should().BeFalse();

        recorder.Records.Select(r => (r.Live, r.Shadow, r.ShadowReason)).Should().Equal(
            (DecisionReason.ExplicitDeny, ShadowOutcome.Disagreed, DecisionReason.Allowed),
            (DecisionReason.NoMatchingGrant, ShadowOutcome.Disagreed, DecisionReason.Allowed),
            (DecisionReason.NoActiveRole, ShadowOutcome.Disagreed, DecisionReason.Allowed),
            (DecisionReason.SensitivityCeiling, ShadowOutcome.Disagreed, DecisionReason.Allowed));
        recorder.Records.Should().AllSatisfy(r => r.ShadowVersion.Should().BeSameAs(CandidateVersion));
    }

    [Fact]
    public void Authorize_CandidateDeniesWhatLiveAllows_LiveAllowStandsAndTheCandidateRuleIsRecorded()
    {
        var stricter = new TestPolicy()
            .Role("analyst", allow: ["model:query on model:gpt-4o", "tool:invoke on tool:report_*"], deny: ["tool:invoke on tool:report_secret*"], max: "confidential")
            .Build();
        var (authorizer, _, recorder) = Build(stricter);
        var alice = Subject.WithRoles("alice", SubjectKind.User, "analyst");

        authorizer.Authorize(alice, "tool:invoke", "tool:report_secret_q3").Allowed.Should().BeTrue();

        var record = recorder.Records.Should().ContainSingle().Subject;
        record.Shadow.Should().Be(ShadowOutcome.Disagreed);
        record.ShadowReason.Should().Be(DecisionReason.ExplicitDeny);
        record.ShadowRule.Should().Be("tool:invoke on tool:report_secret*");
    }

    [Fact]
    public void Authorize_SameOutcomeOtherReasonOrSameReason_IsReasonChangedOrAgreedNotADisagreement()
    {
        // The candidate denies tool:report_legacy explicitly where the live policy simply grants nothing for it.
        var candidate = new TestPolicy()
            .Role("analyst", allow: ["model:query on model:gpt-4o", "tool:invoke on tool:report_*"], deny: ["tool:invoke on tool:shell_*", "model:fine-tune on **"], max: "confidential")
            .Build();
        var (authorizer, _, recorder) = Build(candidate);
        var alice = Subject.WithRoles("alice", SubjectKind.User, "analyst");

        authorizer.Authorize(alice, "model:fine-tune", "model:gpt-4o").Allowed.Should().BeFalse();
        authorizer.Authorize(alice, "model:query", "model:gpt-4o").Allowed.Should().BeTrue();
        authorizer.Authorize(alice, "tool:invoke", "tool:shell_rm").Allowed.Should().BeFalse();

        recorder.Records.Select(r => (r.Live, r.Shadow, r.ShadowReason)).Should().Equal(
            (DecisionReason.NoMatchingGrant, ShadowOutcome.ReasonChanged, DecisionReason.ExplicitDeny),
            (DecisionReason.Allowed, ShadowOutcome.Agreed, DecisionReason.Allowed),
            (DecisionReason.ExplicitDeny, ShadowOutcome.Agreed, DecisionReason.ExplicitDeny));
    }

    [Fact]
    public void Authorize_ShadowEvaluationThrows_IsContainedRecordedAsFailedAndTheLiveAnswerStands()
    {
        // The attacker's second test: a candidate whose evaluation throws (here its clock, read for an expiring
        // binding) must neither reach the caller nor change its answer, allowed or denied.
        var clock = new BreakableClock();
        var candidate = new TestPolicy().Role("analyst", allow: ["* on **"], max: "restricted").Build(clock);
        var (authorizer, _, recorder) = Build(candidate);
        int readsBefore = clock.Reads;
        clock.Broken = true;
        var expiring = new Subject("svc", SubjectKind.Service, [new RoleBinding("analyst", Expires: TestPolicy.Now.AddDays(1))]);

        var act = () => (
            authorizer.Authorize(expiring, "model:query", "model:gpt-4o"),
            authorizer.Authorize(expiring, "tool:invoke", "tool:shell_x"));
        var (allowed, denied) = act.Should().NotThrow().Subject;

        allowed.Allowed.Should().BeTrue();
        denied.Reason.Should().Be(DecisionReason.ExplicitDeny);
        recorder.Records.Select(r => (r.Live, r.Shadow)).Should().Equal(
            (DecisionReason.Allowed, ShadowOutcome.Failed), (DecisionReason.ExplicitDeny, ShadowOutcome.Failed));
        recorder.Records.Should().AllSatisfy(r => r.ShadowReason.Should().Be(DecisionReason.MissingIdentity, "a failed shadow has the default decision"));
        clock.Reads.Should().BeGreaterThan(readsBefore, "the shadow evaluation did run and fail");
    }

    [Fact]
    public void Authorize_ShadowWithoutPolicyOrWithoutObservers_IsNotEvaluated()
    {
        // No candidate loaded yet: deny-all must not be evaluated as a candidate (every allow would look like a flip).
        var (authorizer, candidate, recorder) = Build(null);
        var alice = Subject.WithRoles("alice", SubjectKind.User, "analyst");
        authorizer.Authorize(alice, "model:query", "model:gpt-4o").Allowed.Should().BeTrue();
        recorder.Records.Should().ContainSingle().Which.Shadow.Should().Be(ShadowOutcome.None);
        recorder.Records[0].ShadowVersion.Should().BeNull();

        // A candidate loaded later is evaluated from the next decision on, with its version.
        candidate.Update(new TestPolicy().Role("analyst", allow: ["model:query on model:gpt-4o"]).Build(), CandidateVersion);
        authorizer.Authorize(alice, "model:query", "model:gpt-4o");
        recorder.Records[1].Shadow.Should().Be(ShadowOutcome.Agreed);
        recorder.Records[1].ShadowVersion.Should().BeSameAs(CandidateVersion);

        // Nobody observes: the candidate is not evaluated at all (its clock is never read).
        var clock = new BreakableClock();
        var watched = new TestPolicy().Role("analyst", allow: ["* on **"]).Build(clock);
        int readsAfterCompile = clock.Reads;
        var shadow = new PolicyAuthorizer();
        shadow.Update(watched, CandidateVersion);
        var unobserved = new PolicyAuthorizer(null, shadow);
        unobserved.Update(Live(), LiveVersion);
        unobserved.Shadow.Should().BeSameAs(shadow);
        var expiring = new Subject("svc", SubjectKind.Service, [new RoleBinding("analyst", Expires: TestPolicy.Now.AddDays(1))]);
        unobserved.Authorize(expiring, "model:query", "model:gpt-4o").Allowed.Should().BeTrue();
        clock.Reads.Should().Be(readsAfterCompile);
    }

    [Fact]
    public void Authorize_ShadowOfTheShadow_IsNotEvaluated()
    {
        var recorder = new Recorder();
        var innerRecorder = new Recorder();
        var deeper = new PolicyAuthorizer();
        deeper.Update(new TestPolicy().Role("analyst", allow: ["* on **"]).Build(), new PolicyVersion("deeper", TestPolicy.Now));
        var shadow = new PolicyAuthorizer([innerRecorder], deeper);
        shadow.Update(new TestPolicy().Role("analyst", allow: ["model:query on model:gpt-4o"]).Build(), CandidateVersion);
        var authorizer = new PolicyAuthorizer([recorder], shadow);
        authorizer.Update(Live(), LiveVersion);

        authorizer.Authorize(Subject.WithRoles("alice", SubjectKind.User, "analyst"), "model:fine-tune", "model:gpt-4o");

        recorder.Records.Should().ContainSingle().Which.ShadowVersion.Should().BeSameAs(CandidateVersion);
        recorder.Records[0].Shadow.Should().Be(ShadowOutcome.Agreed);
        innerRecorder.Records.Should().BeEmpty("the shadow's own observers do not see shadow evaluations");
    }

    [Fact]
    public void Authorize_ShadowOn_SteadyStateAllocatesNothing()
    {
        var candidate = new TestPolicy()
            .Role("analyst", allow: ["model:query on model:gpt-4o", "tool:invoke on tool:report_weekly"], deny: ["tool:invoke on tool:shell_*"], max: "internal")
            .Build();
        var seen = new CountingObserver();
        var shadow = new PolicyAuthorizer();
        shadow.Update(candidate, CandidateVersion);
        var authorizer = new PolicyAuthorizer([seen], shadow);
        authorizer.Update(Live(), LiveVersion);
        var alice = Subject.WithRoles("alice", SubjectKind.User, "analyst");
        var agent = Subject.WithRoles("bot", SubjectKind.Agent, "analyst").ActingFor(alice);
        var tagged = new ResourceRequest("model:gpt-4o") { Sensitivity = "confidential", Tags = new[] { "pii" } };

        int Run(int rounds)
        {
            int allowed = 0;
            for (int i = 0; i < rounds; i++)
            {
                allowed += authorizer.Authorize(alice, "model:query", "model:gpt-4o").Allowed ? 1 : 0;
                allowed += authorizer.Authorize(alice, "tool:invoke", "tool:report_daily").Allowed ? 1 : 0;
                allowed += authorizer.Authorize(agent, "tool:invoke", "tool:shell_x").Allowed ? 1 : 0;
                allowed += authorizer.Authorize(agent, "model:query", in tagged).Allowed ? 1 : 0;
                allowed += authorizer.Authorize(new Subject("u", SubjectKind.User, []), "model:query", "model:gpt-4o").Allowed ? 1 : 0;
            }

            return allowed;
        }

        Run(200);
        long allocated = long.MaxValue;
        for (int attempt = 0; attempt < 3 && allocated != 0; attempt++)
        {
            // The per-request subject above is built outside the measured decision path: subtract what building it costs.
            long before = GC.GetAllocatedBytesForCurrentThread();
            Run(1_000);
            long decided = GC.GetAllocatedBytesForCurrentThread() - before;
            before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 1_000; i++)
            {
                GC.KeepAlive(new Subject("u", SubjectKind.User, []));
            }

            allocated = Math.Min(allocated, decided - (GC.GetAllocatedBytesForCurrentThread() - before));
        }

        allocated.Should().Be(0, "deciding with a shadow policy must allocate nothing in steady state");
        seen.Outcomes[(int)ShadowOutcome.Disagreed].Should().BeGreaterThan(0);
        seen.Outcomes[(int)ShadowOutcome.Agreed].Should().BeGreaterThan(0);
        seen.Outcomes[(int)ShadowOutcome.None].Should().Be(0);
    }

    [Fact]
    public void Authorize_LiveAndShadowAlternate_AReusedSubjectKeepsATableForEach()
    {
        // A reused subject caches its role set's table per policy; with shadow mode the live policy and the candidate
        // alternate on every decision, and each must find its own table rather than evict the other's.
        var (authorizer, candidate, _) = Build(Live());
        var alice = Subject.WithRoles("alice", SubjectKind.User, "analyst");
        authorizer.Authorize(alice, "model:query", "model:gpt-4o");
        authorizer.Authorize(alice, "tool:invoke", "tool:report_x");

        alice.TableFor(authorizer.Policy).Should().NotBeNull();
        alice.TableFor(candidate.Policy).Should().NotBeNull();
        alice.TableFor(authorizer.Policy)!.Policy.Should().BeSameAs(authorizer.Policy);
        alice.TableFor(candidate.Policy)!.Policy.Should().BeSameAs(candidate.Policy);

        // A third policy (a reload) replaces the older of the two.
        var reloaded = Live();
        reloaded.Authorize(alice, "model:query", "model:gpt-4o").Allowed.Should().BeTrue();
        alice.TableFor(reloaded).Should().NotBeNull();
        (alice.TableFor(authorizer.Policy) is null || alice.TableFor(candidate.Policy) is null).Should().BeTrue("two tables are kept, not three");
    }

    private sealed class CountingObserver : IDecisionObserver
    {
        public long[] Outcomes { get; } = new long[5];

        public void OnDecision(in DecisionRecord record) => Outcomes[(int)record.Shadow]++;
    }
}
