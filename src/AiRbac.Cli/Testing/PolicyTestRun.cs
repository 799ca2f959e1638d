using System.Diagnostics;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using AiRbac.Diagnostics;
using AiRbac.Requests;
using AiRbac.Yaml;

namespace AiRbac.Cli.Testing;

/// <summary>The outcome of one case.</summary>
/// <param name="Case">The case.</param>
/// <param name="Decision">The engine's decision.</param>
/// <param name="Failure">Why the decision is not the one expected (one line), or <see langword="null"/> when the case passed.</param>
/// <param name="Seconds">How long deciding and checking took.</param>
internal sealed record CaseResult(PolicyTestCase Case, Decision Decision, string? Failure, double Seconds)
{
    public bool Passed => Failure is null;
}

/// <summary>The outcome of one test file: its problems (then no case ran) or its cases' results.</summary>
/// <param name="Path">The test file.</param>
/// <param name="PolicyPath">The policy it tests, when the file could be read.</param>
/// <param name="Errors">Problems of the test file or of its policy; when any, no case ran.</param>
/// <param name="Cases">The results, in file order.</param>
/// <param name="Seconds">How long the file took.</param>
internal sealed record FileResult(string Path, string? PolicyPath, IReadOnlyList<PolicyDiagnostic> Errors, IReadOnlyList<CaseResult> Cases, double Seconds)
{
    public int Failures => Cases.Count(c => !c.Passed);
}

/// <summary>One policy under test: its compilation, the clock each case sets, its coverage.</summary>
internal sealed class PolicyUnderTest(string displayPath, PolicyCompilation compilation, FixedClock clock)
{
    public string DisplayPath { get; } = displayPath;

    public PolicyCompilation Compilation { get; } = compilation;

    public FixedClock Clock { get; } = clock;

    public RuleCoverage? Coverage { get; } = compilation.Policy is null ? null : new RuleCoverage(compilation);
}

/// <summary>
/// Runs test files (docs/policy-testing.md): each policy is loaded once through the one load path
/// (<see cref="YamlPolicy.CompileFile"/>), each case decided by <see cref="CompiledPolicy.Trace(Subject, string, in ResourceRequest, RequestContext?)"/> (the decision is
/// <c>Authorize</c>'s) at its instant, compared with what it expects, and the passing cases' traces counted for coverage.
/// </summary>
internal sealed class PolicyTestRun(DateTimeOffset start)
{
    /// <summary>Diagnostic code of a case whose decision is not the one expected.</summary>
    public const string TestFailed = "test_failed";

    /// <summary>Diagnostic code of a test file whose policy does not exist.</summary>
    public const string PolicyNotFound = "policy_not_found";

    private readonly Dictionary<string, PolicyUnderTest> policies = new(StringComparer.Ordinal);

    /// <summary>The policies the run loaded, in the order first named.</summary>
    public IReadOnlyCollection<PolicyUnderTest> Policies => policies.Values;

    /// <summary>Reads a test file, loads its policy and runs its cases.</summary>
    public FileResult RunFile(string path)
    {
        var clock = Stopwatch.StartNew();
        var file = PolicyTestReader.ReadFile(path, out var problems);
        if (file is null)
        {
            return new FileResult(path, null, problems, [], clock.Elapsed.TotalSeconds);
        }

        if (!File.Exists(file.PolicyPath))
        {
            var missing = PolicyDiagnostic.Error(PolicyNotFound, $"the policy '{DiagnosticText.Clip(file.PolicyPath)}' does not exist (the 'policy' key is relative to the test file's folder)", file.PolicyLocation);
            return new FileResult(path, file.PolicyPath, [missing], [], clock.Elapsed.TotalSeconds);
        }

        var policy = Load(file.PolicyPath);
        if (policy.Compilation.Policy is not { } compiled)
        {
            var errors = policy.Compilation.Errors.ToList();
            errors.Add(PolicyDiagnostic.Error(DiagnosticCodes.InvalidValue, $"the policy {file.PolicyPath} has errors and was not loaded; no case ran", file.PolicyLocation));
            return new FileResult(path, file.PolicyPath, errors, [], clock.Elapsed.TotalSeconds);
        }

        var results = new List<CaseResult>(file.Cases.Count);
        foreach (var test in file.Cases)
        {
            results.Add(RunCase(policy, compiled, test, test.Now ?? file.Now ?? start));
        }

        // The policy as this file names it; coverage names it as the first file that loaded it did.
        return new FileResult(path, file.PolicyPath, [], results, clock.Elapsed.TotalSeconds);
    }

    private PolicyUnderTest Load(string path)
    {
        string full = Path.GetFullPath(path);
        if (!policies.TryGetValue(full, out var known))
        {
            // One compilation per policy, its clock set before each case: the policy reads its clock per decision.
            var clock = new FixedClock(start);
            var compilation = YamlPolicy.CompileFile(path, new PolicyCompilerOptions { TimeProvider = clock });
            known = new PolicyUnderTest(path, compilation, clock);
            policies.Add(full, known);
        }

        return known;
    }

    private static CaseResult RunCase(PolicyUnderTest policy, CompiledPolicy compiled, PolicyTestCase test, DateTimeOffset now)
    {
        var clock = Stopwatch.StartNew();
        policy.Clock.Now = now;
        var request = test.Request;
        var trace = compiled.Trace(request.Subject, request.Action, request.Resource, request.Context);
        string? failure = Compare(compiled, test.Expect, trace);
        if (failure is null)
        {
            policy.Coverage!.Record(trace);
        }
        else
        {
            failure = $"case '{DiagnosticText.Clip(test.Name)}': {failure}; the decision: {Explain(trace)}";
        }

        return new CaseResult(test, trace.Decision, failure, clock.Elapsed.TotalSeconds);
    }

    /// <summary>What differs between the expectation and the decision, or <see langword="null"/>.</summary>
    private static string? Compare(CompiledPolicy policy, Expectation expect, DecisionTrace trace)
    {
        var decision = trace.Decision;
        var differences = new List<string>();
        if (expect.Allowed != decision.Allowed)
        {
            differences.Add($"expected {(expect.Allowed ? "allowed" : "denied")}, got {(decision.Allowed ? "allowed" : "denied")} ({decision.ReasonName})");
        }
        else if (expect.Reason is { } reason && reason != decision.Reason)
        {
            differences.Add($"expected reason {DecisionReasons.ToName(reason)}, got {decision.ReasonName}");
        }

        if (expect.Role is { } role)
        {
            // A role may be named by its id; the decision names roles by name.
            var declared = policy.FindRole(role);
            if (declared is null)
            {
                string hint = policy.SuggestRole(role) is { } close ? $"; did you mean '{DiagnosticText.Clip(close)}'?" : string.Empty;
                differences.Add($"expected role '{DiagnosticText.Clip(role)}', which the policy does not declare{hint}");
            }
            else if (!string.Equals(declared.Name, decision.Role, StringComparison.Ordinal))
            {
                differences.Add($"expected role '{DiagnosticText.Clip(declared.Name)}', got {(decision.Role is { } got ? $"'{got}'" : "no role")}");
            }
        }

        if (expect.Rule is { } rule && !string.Equals(rule, decision.Rule, StringComparison.Ordinal))
        {
            differences.Add($"expected rule '{DiagnosticText.Clip(rule)}', got {(decision.Rule is { } got ? $"'{got}'" : "no rule")}");
        }

        if (expect.Condition is { } condition && !string.Equals(condition, decision.Condition ?? string.Empty, StringComparison.Ordinal))
        {
            differences.Add($"expected {(condition.Length == 0 ? "no condition" : $"condition '{DiagnosticText.Clip(condition)}'")}, got {(decision.Condition is { } got ? $"'{got}'" : "no condition")}");
        }

        if (expect.ApprovalRule is { } approval && !string.Equals(approval, decision.ApprovalRule ?? string.Empty, StringComparison.Ordinal))
        {
            string hint = approval.Length > 0 && !policy.ApprovalRules.Any(r => r.Name == approval) ? ", which the policy does not declare" : string.Empty;
            differences.Add($"expected {(approval.Length == 0 ? "no approval rule" : $"approval rule '{DiagnosticText.Clip(approval)}'{hint}")}, got {(decision.ApprovalRule is { } got ? $"'{got}'" : "no approval rule")}");
        }

        if (expect.BreakGlassRole is { } breakGlass)
        {
            // Named by name or id, as 'role'; the empty string expects a decision that is not break-glass.
            var declared = breakGlass.Length == 0 ? null : policy.FindRole(breakGlass);
            string? wanted = breakGlass.Length == 0 ? null : declared?.Name;
            if (breakGlass.Length > 0 && declared is null)
            {
                differences.Add($"expected break-glass role '{DiagnosticText.Clip(breakGlass)}', which the policy does not declare");
            }
            else if (!string.Equals(wanted, decision.BreakGlassRole, StringComparison.Ordinal))
            {
                differences.Add($"expected {(wanted is null ? "no break-glass decision" : $"break-glass role '{wanted}'")}, got {(decision.BreakGlassRole is { } got ? $"break-glass role '{got}'" : "no break-glass decision")}");
            }
        }

        return differences.Count == 0 ? null : string.Join("; ", differences);
    }

    /// <summary>The engine's explanation (it names the deciding role, rule and policy line), and the not_by_owner entry of an owner conflict.</summary>
    public static string Explain(DecisionTrace trace)
    {
        var text = new StringBuilder(trace.Decision.Explain());
        if (trace.NotByOwnerLocation is { } owner)
        {
            text.Append(" (not_by_owner entry at ").Append(owner).Append(')');
        }

        return text.ToString();
    }

    /// <summary>The expectation as a decision line (only the fields it checks).</summary>
    public static string ExpectationLine(Expectation expect)
    {
        var line = new StringBuilder("{\"allowed\":").Append(expect.Allowed ? "true" : "false");
        if (expect.Reason is { } reason)
        {
            line.Append(",\"reason\":\"").Append(DecisionReasons.ToName(reason)).Append('"');
        }

        if (expect.Role is { } role)
        {
            line.Append(",\"role\":\"").Append(JsonEncodedText.Encode(role, JavaScriptEncoder.UnsafeRelaxedJsonEscaping)).Append('"');
        }

        if (expect.Rule is { } rule)
        {
            line.Append(",\"rule\":\"").Append(JsonEncodedText.Encode(rule, JavaScriptEncoder.UnsafeRelaxedJsonEscaping)).Append('"');
        }

        AppendField(line, "condition", expect.Condition);
        AppendField(line, "approval_rule", expect.ApprovalRule);
        AppendField(line, "break_glass_role", expect.BreakGlassRole);
        return line.Append('}').ToString();
    }

    private static void AppendField(StringBuilder line, string name, string? value)
    {
        if (value is not null)
        {
            line.Append(",\"").Append(name).Append("\":\"").Append(JsonEncodedText.Encode(value, JavaScriptEncoder.UnsafeRelaxedJsonEscaping)).Append('"');
        }
    }

    /// <summary>The decision as a decision line (the request line codec's form).</summary>
    public static string DecisionLine(Decision decision) => RequestJson.FormatDecision(decision);
}
