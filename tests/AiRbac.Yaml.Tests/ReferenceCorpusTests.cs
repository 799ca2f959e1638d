using AiRbac.Requests;

namespace AiRbac.Yaml.Tests;

/// <summary>The reference scenario: the engine must reproduce expected.jsonl exactly (allowed, reason, role, rule).</summary>
public sealed class ReferenceCorpusTests
{
    [Theory]
    [InlineData("scale-0")]
    [InlineData("scale-1000")]
    [InlineData("scale-10000")]
    public void Authorize_ReferenceCorpus_ReproducesExpectedDecisions(string scale)
    {
        string folder = Path.Combine(AppContext.BaseDirectory, "TestData", scale);
        var compilation = YamlPolicy.CompileFile(Path.Combine(folder, "policy.yaml"));
        compilation.Diagnostics.Where(d => d.IsError).Should().BeEmpty();
        var policy = compilation.Policy!;

        var requests = File.ReadLines(Path.Combine(folder, "requests.jsonl")).ToList();
        var expected = File.ReadLines(Path.Combine(folder, "expected.jsonl")).ToList();
        requests.Should().HaveCount(expected.Count).And.HaveCountGreaterThan(9_000);

        var mismatches = new List<string>();
        var reasons = new HashSet<string>();
        for (int i = 0; i < requests.Count; i++)
        {
            var decision = RequestJson.ParseRequest(requests[i]).AuthorizeWith(policy);
            reasons.Add(decision.ReasonName);
            string actual = RequestJson.FormatDecision(decision);
            string wanted = Normalize(expected[i]);
            if (actual != wanted && mismatches.Count < 10)
            {
                mismatches.Add($"line {i + 1}: {requests[i]}\n  expected {wanted}\n  actual   {actual}");
            }
        }

        mismatches.Should().BeEmpty();
        reasons.Should().Contain(["allowed", "no_matching_grant", "explicit_deny", "missing_tag_clearance", "no_active_role", "sensitivity_ceiling", "missing_identity"]);
    }

    // The corpus is written with spaces after separators; decisions are compared as compact JSON.
    private static string Normalize(string line)
    {
        using var document = System.Text.Json.JsonDocument.Parse(line);
        var root = document.RootElement;
        var d = new System.Text.StringBuilder();
        d.Append("{\"allowed\":").Append(root.GetProperty("allowed").GetBoolean() ? "true" : "false");
        d.Append(",\"reason\":\"").Append(root.GetProperty("reason").GetString()).Append('"');
        if (root.TryGetProperty("role", out var role))
        {
            d.Append(",\"role\":\"").Append(role.GetString()).Append('"');
        }

        if (root.TryGetProperty("rule", out var rule))
        {
            d.Append(",\"rule\":\"").Append(rule.GetString()).Append('"');
        }

        return d.Append('}').ToString();
    }
}
