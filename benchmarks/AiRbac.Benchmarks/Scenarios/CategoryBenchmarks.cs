using BenchmarkDotNet.Attributes;

namespace AiRbac.Benchmarks.Scenarios;

/// <summary>
/// Authorize by kind of decision: small hand-made request sets against the reference policy (base roles only, so
/// the sets mean the same at every scale). Subjects are built and resolved in GlobalSetup; each set is checked
/// for the reason it is meant to exercise before it is timed. Figures are per decision.
/// </summary>
[MemoryDiagnoser]
[BenchmarkCategory("Authorize", "Category")]
public class CategoryBenchmarks
{
    /// <summary>Requests per set (the OperationsPerInvoke of each benchmark).</summary>
    public const int SetSize = 6;

    private CompiledPolicy policy = null!;
    private PreparedRequest[] exact = [];
    private PreparedRequest[] glob = [];
    private PreparedRequest[] deny = [];
    private PreparedRequest[] ceiling = [];
    private PreparedRequest[] scoped = [];
    private PreparedRequest[] onBehalfOf = [];

    /// <summary>The scales.</summary>
    public static IEnumerable<string> Scales => BenchmarkSettings.Scales;

    /// <summary>The scale: <c>scale-0</c>, <c>scale-1000</c> or <c>scale-10000</c> extra roles.</summary>
    [ParamsSource(nameof(Scales))]
    public string Scale { get; set; } = "scale-0";

    /// <summary>Builds the sets, checks each request's reason, and resolves the subjects.</summary>
    [GlobalSetup]
    public void Setup()
    {
        policy = BenchmarkSettings.Scenario(Scale).Policy;
        static Subject User(string id, params string[] roles) => Subject.WithRoles(id, SubjectKind.User, roles);
        static ResourceRequest Tier(string name, string tier) => new(name) { Sensitivity = tier };
        static ResourceRequest In(string name, string scope) => new(name) { Scope = scope };

        exact = Build("exact-name grants", DecisionReason.Allowed,
        [
            (User("u-viewer", "viewer"), "model:query", "model:internal-llm-v2"),
            (User("u-analyst", "business-analyst"), "tool:invoke", "tool:search"),
            (User("u-dev", "developer"), "model:query", "model:gpt-4o"),
            (User("u-clinician", "clinician"), "model:query", "model:clinical-summarizer"),
            (User("u-mle", "ml-engineer"), "model:deploy", "model:internal-llm-v2"),
            (User("u-ds", "data-scientist"), "model:query", "model:hidream"),
        ]);

        glob = Build("glob grants", DecisionReason.Allowed,
        [
            (User("u-analyst", "business-analyst"), "tool:invoke", "tool:report_weekly"),
            (User("u-analyst", "business-analyst"), "data:read", "dataset:sales/q3"),
            (User("u-ds", "data-scientist"), "data:read", "dataset:research/nlp/corpus-1"),
            (User("u-mle", "ml-engineer"), "model:query", "model:llama-3-70b"),
            (User("u-sre", "sre"), "data:read", "logs:app/2026/05"),
            (User("u-usage", "usage-reader"), "data:read", "usage:billing/2026-05"),
        ]);

        deny = Build("explicit deny", DecisionReason.ExplicitDeny,
        [
            (User("u-analyst", "business-analyst"), "tool:invoke", "tool:dangerous_shell"),
            (User("u-ds", "data-scientist"), "tool:invoke", "tool:sql_admin_drop"),
            (User("u-sre", "sre"), "data:read", "dataset:sales/q3"),
            (User("u-auditor", "auditor"), "tool:invoke", "tool:search"),
            (User("u-mle", "ml-engineer"), "model:fine-tune", "model:gpt-4o"),
            (User("u-dev", "developer"), "tool:invoke", "tool:dangerous_rm"),
        ]);

        ceiling = Build("sensitivity ceiling", DecisionReason.SensitivityCeiling,
        [
            (User("u-tester", "model-tester"), "model:query", "model:clinical-summarizer"),
            (User("u-viewer", "viewer"), "model:query", Tier("model:internal-llm-v2", "confidential")),
            (User("u-dev", "developer"), "model:query", Tier("model:gpt-4o", "restricted")),
            (User("u-analyst", "business-analyst"), "data:read", Tier("dataset:sales/q3", "restricted")),
            (User("u-usage", "usage-reader"), "data:read", Tier("usage:billing/2026-05", "restricted")),
            (User("u-mle", "ml-engineer"), "data:read", Tier("dataset:training/vision/batch-7", "restricted")),
        ]);

        // Scoped bindings take the dynamic path: effective roles are merged per request from the bindings in scope.
        var clinician = new Subject("u-carol", SubjectKind.User, [new RoleBinding("clinician", "acme/health")]);
        var researcher = new Subject("u-rita", SubjectKind.User, [new RoleBinding("viewer"), new RoleBinding("data-scientist", "acme/research")]);
        var scopedDev = new Subject("u-dave", SubjectKind.User, [new RoleBinding("developer", "acme/apps")]);
        scoped = Build("scoped bindings",
        [
            (clinician, "model:query", In("model:clinical-summarizer", "acme/health/ward-3"), DecisionReason.Allowed),
            (clinician, "model:query", In("model:clinical-summarizer", "acme/finance"), DecisionReason.NoActiveRole),
            (clinician, "model:query", "model:clinical-summarizer", DecisionReason.NoActiveRole),
            (researcher, "data:read", In("dataset:research/nlp/corpus-1", "acme/research/lab-1"), DecisionReason.Allowed),
            (researcher, "data:read", In("dataset:research/nlp/corpus-1", "acme/sales"), DecisionReason.NoMatchingGrant),
            (scopedDev, "tool:invoke", In("tool:dangerous_rm", "acme/apps/web"), DecisionReason.ExplicitDeny),
        ]);

        // On behalf of: the actor is decided, then every subject down the chain.
        var alice = User("u-alice", "business-analyst");
        var copilot = Subject.WithRoles("copilot", SubjectKind.Agent, "developer").ActingFor(alice);
        var trainer = Subject.WithRoles("trainer-bot", SubjectKind.Agent, "ml-engineer").ActingFor(User("u-victor", "viewer"));
        var chain = Subject.WithRoles("ops-bot", SubjectKind.Agent, "developer")
            .ActingFor(Subject.WithRoles("ops-service", SubjectKind.Service, "sre").ActingFor(alice));
        var tester = Subject.WithRoles("red-team-bot", SubjectKind.Agent, "model-tester").ActingFor(User("u-victor", "viewer"));
        onBehalfOf = Build("on-behalf-of",
        [
            (copilot, "model:query", "model:gpt-4o", DecisionReason.Allowed),
            (copilot, "tool:invoke", "tool:sql_query", DecisionReason.DelegationDenied),
            (copilot, "tool:invoke", "tool:dangerous_rm", DecisionReason.ExplicitDeny),
            (trainer, "model:query", "model:internal-llm-v2", DecisionReason.Allowed),
            (chain, "tool:invoke", "tool:search", DecisionReason.Allowed),
            (tester, "model:query", "model:gpt-4o", DecisionReason.DelegationDenied),
        ]);
    }

    /// <summary>Grants by exact resource name.</summary>
    /// <returns>The number allowed.</returns>
    [Benchmark(OperationsPerInvoke = SetSize)]
    public int ExactNameGrant() => PreparedRequest.AuthorizeAll(policy, exact);

    /// <summary>Grants by glob (prefix, <c>**</c>, <c>* on **</c>-style patterns).</summary>
    /// <returns>The number allowed.</returns>
    [Benchmark(OperationsPerInvoke = SetSize)]
    public int GlobGrant() => PreparedRequest.AuthorizeAll(policy, glob);

    /// <summary>Explicit denies (deny beats allow).</summary>
    /// <returns>The number allowed.</returns>
    [Benchmark(OperationsPerInvoke = SetSize)]
    public int ExplicitDeny() => PreparedRequest.AuthorizeAll(policy, deny);

    /// <summary>A matching grant whose role's ceiling is below the resource's tier.</summary>
    /// <returns>The number allowed.</returns>
    [Benchmark(OperationsPerInvoke = SetSize)]
    public int SensitivityCeiling() => PreparedRequest.AuthorizeAll(policy, ceiling);

    /// <summary>Scoped role bindings against resources in and out of scope.</summary>
    /// <returns>The number allowed.</returns>
    [Benchmark(OperationsPerInvoke = SetSize)]
    public int ScopedBindings() => PreparedRequest.AuthorizeAll(policy, scoped);

    /// <summary>Agents acting on behalf of users (chains of one and two links).</summary>
    /// <returns>The number allowed.</returns>
    [Benchmark(OperationsPerInvoke = SetSize)]
    public int OnBehalfOf() => PreparedRequest.AuthorizeAll(policy, onBehalfOf);

    private PreparedRequest[] Build(string set, DecisionReason? reason, (Subject Subject, string Action, ResourceRequest Resource)[] items)
        => Build(set, [.. items.Select(i => (i.Subject, i.Action, i.Resource, reason!.Value))]);

    private PreparedRequest[] Build(string set, (Subject Subject, string Action, ResourceRequest Resource, DecisionReason Reason)[] items)
    {
        if (items.Length != SetSize)
        {
            throw new InvalidOperationException($"{set}: {items.Length} requests, expected {SetSize}");
        }

        foreach (var (subject, action, resource, reason) in items)
        {
            var decision = policy.Authorize(subject, action, in resource);
            if (decision.Reason != reason)
            {
                throw new InvalidOperationException(
                    $"{set} at {Scale}: {subject.Id} {action} {resource.Name} (scope {resource.Scope ?? "-"}, tier {resource.Sensitivity ?? "-"}): expected {DecisionReasons.ToName(reason)}, got {decision}");
            }
        }

        return [.. items.Select(i => new PreparedRequest(i.Subject, i.Action, i.Resource))];
    }
}
