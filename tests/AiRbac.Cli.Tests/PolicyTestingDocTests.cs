using System.Text.RegularExpressions;
using AiRbac.Core.Tests;

namespace AiRbac.Cli.Tests;

/// <summary>
/// The operator's view: the worked example of docs/policy-testing.md (the policy, its test file and the outputs shown)
/// is what <c>airbac test</c> does, and the example policies of the repository pass their own tests with full coverage,
/// as .ci/run demands.
/// </summary>
public partial class PolicyTestingDocTests
{
    private static readonly string Doc = File.ReadAllText(Path.Combine(RepositoryRoot.Path, "docs", "policy-testing.md"));

    [GeneratedRegex("```(?<kind>yaml|text)\n(?<body>.*?)```", RegexOptions.Singleline)]
    private static partial Regex Block();

    // A policy written as a raw string literal in code.
    [GeneratedRegex("\"\"\"\\s*\n\\s*version: 1")]
    private static partial Regex InlinePolicy();

    private static List<string> Blocks(string kind)
        => [.. Block().Matches(Doc).Where(m => m.Groups["kind"].Value == kind).Select(m => m.Groups["body"].Value)];

    // The output lines of a text block (not the commands, nor the exit status the shell echoes), with the example's
    // relative folder replaced by where the test wrote it.
    private static IEnumerable<string> OutputLines(string block, string folder)
        => block.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(l => !l.StartsWith('$') && l != "0")
            .Select(l => l.Replace("policies/", folder + "/", StringComparison.Ordinal));

    [Fact]
    public void WorkedExample_PrintsWhatTheDocShows()
    {
        using var files = new TempFiles();
        var yaml = Blocks("yaml");
        var text = Blocks("text");
        string folder = files.PathOf("policies");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "platform.yaml"), yaml[0]);
        File.WriteAllText(Path.Combine(folder, "platform.test.yaml"), yaml[1]);
        string pattern = Path.Combine(folder, "*.test.yaml");

        var passing = Cli.Run("test", pattern);
        passing.ExitCode.Should().Be(0, passing.Out);
        foreach (string line in OutputLines(text[0], folder))
        {
            (passing.Out + passing.Error).Should().Contain(line);
        }

        var enforced = Cli.Run("test", pattern, "--min-coverage", "100");
        enforced.ExitCode.Should().Be(1);
        enforced.Out.Should().Contain($"{folder}/platform.yaml:1:1: error coverage_below_minimum: rule coverage 85.7% (6 of 7) is below --min-coverage 100");
        Doc.Should().Contain("85.7% (6 of 7) is below\n--min-coverage 100");

        // "a case for an owner promoting their own model (reason: owner_conflict) brings it to 100 %"
        File.AppendAllText(Path.Combine(folder, "platform.test.yaml"), """
              - name: an owner may not promote their own model
                request: { subject: alice, roles: [analyst], action: model:promote, resource: model:fraud-v3, owner: alice }
                expect: { allowed: false, reason: owner_conflict }

            """);
        Cli.Run("test", pattern, "--min-coverage", "100").ExitCode.Should().Be(0);

        // "Had someone widened the analyst's deny to tool:invoke on tool:report_*, the second case would fail"
        File.WriteAllText(Path.Combine(folder, "platform.yaml"), yaml[0].Replace("      - tool:invoke on tool:report_payroll", "      - tool:invoke on tool:report_*", StringComparison.Ordinal));
        File.WriteAllText(Path.Combine(folder, "platform.test.yaml"), yaml[1]);
        var widened = Cli.Run("test", pattern);
        widened.ExitCode.Should().Be(1);
        foreach (string line in OutputLines(text[1], folder))
        {
            widened.Out.Should().Contain(line);
        }
    }

    [Fact]
    public void ExamplePolicies_EachHaveATestFileBeside_AndPassWithFullCoverage()
    {
        string root = RepositoryRoot.Path;
        string samples = Path.Combine(root, "samples");
        var policies = Directory.GetFiles(samples, "policy.yaml", SearchOption.AllDirectories)
            .Where(p => !p.Contains($"{Path.DirectorySeparatorChar}.packages{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !p.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .ToList();
        policies.Should().HaveCountGreaterThanOrEqualTo(5, "every sample keeps its policy in a policy.yaml");
        foreach (string policy in policies)
        {
            File.Exists(Path.Combine(Path.GetDirectoryName(policy)!, "policy.test.yaml")).Should().BeTrue($"{policy} ships as an example and needs its tests beside it");
        }

        // A policy written inline in a sample's code cannot have a test file: samples load theirs from policy.yaml.
        foreach (string program in Directory.GetFiles(samples, "Program.cs", SearchOption.AllDirectories))
        {
            InlinePolicy().IsMatch(File.ReadAllText(program)).Should().BeFalse($"{program} should load its policy from policy.yaml, where airbac test can reach it");
        }

        // What .ci/run runs, on the built CLI.
        string ci = File.ReadAllText(Path.Combine(root, ".ci", "run"));
        ci.Should().Contain("test 'src/AiRbac.Cli/Demo/*.test.yaml' 'samples/*/policy.test.yaml' \\\n  tests/TestData/scale-0/policy.test.yaml --min-coverage 100");
        var result = Cli.Run("test", Path.Combine(root, "src", "AiRbac.Cli", "Demo", "*.test.yaml"), Path.Combine(root, "samples", "*", "policy.test.yaml"),
            Path.Combine(root, "tests", "TestData", "scale-0", "policy.test.yaml"), "--min-coverage", "100");
        result.ExitCode.Should().Be(0, result.Out);
        Regex.Matches(result.Out, @"^coverage .*: (\d+) of \1 \(100\.0%\)", RegexOptions.Multiline).Should().HaveCount(policies.Count + 3, "the demo policy, the version 2 example beside it, each sample's and the reference scenario's");
    }

    [Fact]
    public void ReferenceCorpus_AsOneTestFile_PassesWithFullCoverage()
    {
        // The 10,000 lines of the reference scenario (the most cases a test file may hold), each request line with its
        // expected decision line: airbac test agrees with the corpus, and the corpus exercises every item of its policy.
        string folder = Path.Combine(AppContext.BaseDirectory, "TestData", "scale-0");
        var requests = File.ReadAllLines(Path.Combine(folder, "requests.jsonl"));
        var expected = File.ReadAllLines(Path.Combine(folder, "expected.jsonl"));
        using var files = new TempFiles();
        files.Write("policy.yaml", File.ReadAllText(Path.Combine(folder, "policy.yaml")));
        var text = new System.Text.StringBuilder("policy: policy.yaml\ncases:\n");
        for (int i = 0; i < requests.Length; i++)
        {
            text.Append($"  - name: line {i + 1}\n    request: {requests[i]}\n    expect: {expected[i]}\n");
        }

        var result = Cli.Run("test", files.Write("corpus.test.yaml", text.ToString()), "--min-coverage", "100");

        requests.Should().HaveCount(10_000);
        result.ExitCode.Should().Be(0, result.Out);
        result.Out.Should().Contain("10000 of 10000 cases passed").And.Contain(": 60 of 60 (100.0%): grants 41/41, denies 8/8, resources entries 11/11");
    }
}
