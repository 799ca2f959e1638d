using System.Text.Json;
using AiRbac.Model;
using AiRbac.Requests;
using AiRbac.Yaml;

namespace AiRbac.Benchmarks.Scenarios;

/// <summary>The expected decision of one corpus line (expected.jsonl).</summary>
/// <param name="Allowed">Whether the request is allowed.</param>
/// <param name="Reason">The snake_case reason.</param>
/// <param name="Role">The deciding role, or <see langword="null"/>.</param>
/// <param name="Rule">The deciding rule, or <see langword="null"/>.</param>
public sealed record ExpectedDecision(bool Allowed, string Reason, string? Role, string? Rule)
{
    /// <inheritdoc/>
    public override string ToString() => $"{(Allowed ? "allowed" : "denied")} {Reason} role={Role ?? "-"} rule={Rule ?? "-"}";
}

/// <summary>
/// The reference scenario of tests/TestData (genai-platform at scale 0, 1,000 or 10,000 extra roles): the policy,
/// the 10,000-request corpus and the expected decisions. Everything is read and parsed here, in GlobalSetup, never
/// in a timed method.
/// </summary>
public sealed class ReferenceScenario
{
    /// <summary>The number of requests in every corpus; the Authorize benchmarks report per decision with it.</summary>
    public const int CorpusSize = 10_000;

    /// <summary>The three scales, as folder names under TestData.</summary>
    public static readonly string[] AllScales = ["scale-0", "scale-1000", "scale-10000"];

    private ReferenceScenario(string scale, string folder)
    {
        Scale = scale;
        Folder = folder;
    }

    /// <summary>The scale (folder name).</summary>
    public string Scale { get; }

    /// <summary>The scenario folder.</summary>
    public string Folder { get; }

    /// <summary>The policy file.</summary>
    public string PolicyPath => Path.Combine(Folder, "policy.yaml");

    /// <summary>The request lines, in file order.</summary>
    public IReadOnlyList<string> RequestLines { get; private set; } = [];

    /// <summary>The expected decisions, in file order.</summary>
    public IReadOnlyList<ExpectedDecision> Expected { get; private set; } = [];

    /// <summary>Finds and reads a scale's folder: the copy next to the binaries, else tests/TestData above the working directory.</summary>
    /// <param name="scale">The folder name, such as <c>scale-0</c>.</param>
    /// <returns>The scenario with its corpus and expected decisions read (not yet parsed into requests).</returns>
    public static ReferenceScenario Load(string scale)
    {
        var scenario = new ReferenceScenario(scale, FindFolder(scale));
        scenario.RequestLines = File.ReadAllLines(Path.Combine(scenario.Folder, "requests.jsonl"));
        scenario.Expected = [.. File.ReadLines(Path.Combine(scenario.Folder, "expected.jsonl")).Select(ParseExpected)];
        if (scenario.RequestLines.Count != CorpusSize || scenario.Expected.Count != CorpusSize)
        {
            throw new InvalidOperationException(
                $"{scale}: expected {CorpusSize} requests and decisions, found {scenario.RequestLines.Count} and {scenario.Expected.Count}");
        }

        return scenario;
    }

    /// <summary>Loads and compiles the policy; throws on any error.</summary>
    /// <returns>The compiled policy.</returns>
    public CompiledPolicy CompilePolicy()
    {
        var compilation = YamlPolicy.CompileFile(PolicyPath);
        return compilation.Policy ?? throw new InvalidOperationException(
            $"{PolicyPath} did not compile: {string.Join("; ", compilation.Diagnostics.Where(d => d.IsError))}");
    }

    /// <summary>Loads the policy document (for baselines that read the model rather than the compiled table).</summary>
    /// <returns>The document.</returns>
    public PolicyDocument LoadDocument()
    {
        var loaded = YamlPolicyLoader.LoadFile(PolicyPath);
        return loaded.Document ?? throw new InvalidOperationException(
            $"{PolicyPath} did not load: {string.Join("; ", loaded.Diagnostics.Where(d => d.IsError))}");
    }

    /// <summary>Parses every request line into fresh request objects (fresh subjects: nothing resolved yet).</summary>
    /// <returns>The requests, in file order.</returns>
    internal AuthorizationRequest[] ParseRequests() => [.. RequestLines.Select(RequestJson.ParseRequest)];

    /// <summary>Throws with the first mismatch if <paramref name="decide"/> does not reproduce expected.jsonl on the whole corpus.</summary>
    /// <param name="engine">The engine's name, for the message.</param>
    /// <param name="decide">The engine's decision for request <c>i</c>.</param>
    /// <param name="compareRoleAndRule">Whether role and rule must match too (else allowed and reason only).</param>
    public void Verify(string engine, Func<int, ExpectedDecision> decide, bool compareRoleAndRule = true)
    {
        ArgumentNullException.ThrowIfNull(decide);
        for (int i = 0; i < CorpusSize; i++)
        {
            var actual = decide(i);
            var wanted = Expected[i];
            bool same = actual.Allowed == wanted.Allowed && actual.Reason == wanted.Reason
                && (!compareRoleAndRule || (actual.Role == wanted.Role && actual.Rule == wanted.Rule));
            if (!same)
            {
                throw new InvalidOperationException(
                    $"{engine} at {Scale} disagrees with expected.jsonl at line {i + 1}: {RequestLines[i]}\n  expected {wanted}\n  actual   {actual}");
            }
        }
    }

    /// <summary>The engine's decision in the terms of expected.jsonl.</summary>
    /// <param name="decision">The decision.</param>
    /// <returns>The comparable form.</returns>
    public static ExpectedDecision ToExpected(Decision decision)
        => new(decision.Allowed, decision.ReasonName, decision.Role, decision.Rule);

    private static ExpectedDecision ParseExpected(string line)
    {
        using var document = JsonDocument.Parse(line);
        var root = document.RootElement;
        return new ExpectedDecision(
            root.GetProperty("allowed").GetBoolean(),
            root.GetProperty("reason").GetString()!,
            root.TryGetProperty("role", out var role) ? role.GetString() : null,
            root.TryGetProperty("rule", out var rule) ? rule.GetString() : null);
    }

    private static string FindFolder(string scale)
    {
        string copied = Path.Combine(AppContext.BaseDirectory, "TestData", scale);
        if (Directory.Exists(copied))
        {
            return copied;
        }

        // BenchmarkDotNet's out-of-process toolchain runs a generated project elsewhere: look up for the repository's copy.
        foreach (string start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "tests", "TestData", scale);
                if (Directory.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        throw new DirectoryNotFoundException($"reference scenario '{scale}' not found next to the binaries or under tests/TestData");
    }
}
