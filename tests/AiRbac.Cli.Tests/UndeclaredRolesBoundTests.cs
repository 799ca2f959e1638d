using System.Text;
using System.Text.Json.Nodes;
using AiRbac.Requests;
using AiRbac.Yaml;

namespace AiRbac.Cli.Tests;

/// <summary>
/// Red team: one request line naming thousands of undeclared roles made <c>airbac check</c> search a "did you mean" for
/// every one (2 minutes for 17,000 against 2,000 roles). Now at most ten are listed per line (the rest counted), and the
/// run has a budget of compared characters for all its searches. Asserted on output shape and work counted, not on time.
/// </summary>
public class UndeclaredRolesBoundTests
{
    private static CompiledPolicy LargePolicy(int roles)
    {
        var yaml = new StringBuilder("version: 1\nroles:\n");
        for (int i = 0; i < roles; i++)
        {
            yaml.Append("  role-number-").Append(i).Append("-of-a-large-policy: { allow: [\"tool:invoke on tool:x\"] }\n");
        }

        return YamlPolicy.Compile(yaml.ToString(), "large.yaml").Policy!;
    }

    private static string Line(IEnumerable<string> roles)
        => "{\"subject\":\"mallory\",\"roles\":[" + string.Join(",", roles.Select(r => "\"" + r + "\"")) + "],\"action\":\"tool:invoke\",\"resource\":\"tool:x\"}";

    [Fact]
    public void Check_LineWithThousandsOfUndeclaredRoles_ListsTenAndCountsTheRest()
    {
        var policy = LargePolicy(2_000);
        var details = new DecisionDetails(policy);
        var request = RequestJson.ParseRequest(Line(Enumerable.Range(0, 5_000).Select(i => "nope-" + i)));
        var found = details.For(request, request.AuthorizeWith(policy));

        found.Undeclared.Should().HaveCount(DecisionDetails.MaxUndeclaredPerLine);
        found.Undeclared.Select(u => u.Field).Should().Equal(Enumerable.Range(0, 10).Select(i => $"roles[{i}]"));
        found.MoreUndeclared.Should().Be(4_990);
        details.SuggestionSearches.Should().BeLessThanOrEqualTo(DecisionDetails.MaxUndeclaredPerLine, "one search per listed role at most");
        details.SuggestionCells.Should().BeLessThanOrEqualTo(DecisionDetails.MaxSuggestionCellsPerRun);

        var json = new StringBuilder(RequestJson.FormatDecision(request.AuthorizeWith(policy)));
        DecisionDetails.AppendJson(json, found);
        var line = JsonNode.Parse(json.ToString())!.AsObject();
        line["undeclared_roles"]!.AsArray().Should().HaveCount(10);
        line["undeclared_roles_more"]!.GetValue<int>().Should().Be(4_990);
        line["detail"]!.GetValue<string>().Should().EndWith("and 4990 more role bindings not declared in the policy (not listed).");
        DecisionDetails.Lines(found).Should().HaveCount(11).And.EndWith("Hint: and 4990 more role bindings not declared in the policy (not listed).");
    }

    [Fact]
    public void Check_ManyLinesOfLongUndeclaredRoles_StopSuggestingWhenTheRunsBudgetIsSpent()
    {
        var policy = LargePolicy(2_000);
        var details = new DecisionDetails(policy);
        string longName = new('q', 2_000);
        int suggested = 0, listed = 0;
        for (int line = 0; line < 20; line++)
        {
            var request = RequestJson.ParseRequest(Line(Enumerable.Range(0, 10).Select(i => $"{longName}-{line}-{i}")));
            var found = details.For(request, request.AuthorizeWith(policy));
            listed += found.Undeclared.Count;
            suggested += found.Undeclared.Count(u => u.DidYouMean is not null);
        }

        listed.Should().Be(200, "every undeclared role is still reported");
        suggested.Should().Be(0, "nothing is close to the long names");

        // Each search here would compare about 2,000 x (2,000 roles x ~35 characters) characters, capped at 50,000,000
        // by the core: four fit in the run's 200,000,000, then there are no more.
        details.SuggestionSearches.Should().Be(4);
        details.SuggestionCells.Should().BeLessThanOrEqualTo(DecisionDetails.MaxSuggestionCellsPerRun);
    }

    // The operator's view: a typo among a few roles still gets its hint, and a repeated typo is searched once.
    [Fact]
    public void Check_FewUndeclaredRoles_StillSuggested_AndRepeatsAreSearchedOnce()
    {
        var policy = LargePolicy(50);
        var details = new DecisionDetails(policy);
        for (int i = 0; i < 3; i++)
        {
            var request = RequestJson.ParseRequest(Line(["role-numbr-7-of-a-large-policy", "role-number-7-of-a-large-policy"]));
            var found = details.For(request, request.AuthorizeWith(policy));
            found.Undeclared.Should().ContainSingle().Which.DidYouMean.Should().Be("role-number-7-of-a-large-policy");
            found.MoreUndeclared.Should().Be(0);
        }

        details.SuggestionSearches.Should().Be(1);
    }

    [Fact]
    public void Check_CorpusLineWithManyUndeclaredRoles_EndToEnd()
    {
        using var files = new TempFiles();
        var yaml = "version: 1\nroles:\n  viewer: { allow: [\"tool:invoke on tool:x\"] }\n";
        string policy = files.Write("p.yaml", yaml);
        string corpus = files.Write("r.jsonl", Line(Enumerable.Range(0, 25).Select(i => "viewr" + i)) + "\n");
        var result = Cli.Run("check", policy, "--requests", corpus);
        var line = JsonNode.Parse(result.OutLines.Should().ContainSingle().Subject)!.AsObject();
        line["undeclared_roles"]!.AsArray().Should().HaveCount(10);
        line["undeclared_roles_more"]!.GetValue<int>().Should().Be(15);
    }
}
