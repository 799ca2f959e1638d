using System.Text.Json;

namespace AiRbac.Cli.Tests;

public class BenchCommandTests
{
    [Fact]
    public void Bench_ReferenceCorpus_PrintsOneJsonLine()
    {
        var result = Cli.Run("bench", Path.Combine("TestData", "scale-0", "policy.yaml"),
            "--requests", Path.Combine("TestData", "scale-0", "requests.jsonl"), "--seconds", "0.05");
        result.ExitCode.Should().Be(0);
        result.OutLines.Should().ContainSingle();
        using var json = JsonDocument.Parse(result.OutLines[0]);
        var root = json.RootElement;
        root.GetProperty("ns_per_decision").GetDouble().Should().BePositive();
        root.GetProperty("bytes_per_decision").GetDouble().Should().BeGreaterThanOrEqualTo(0);
        root.GetProperty("decisions").GetInt64().Should().BeGreaterThanOrEqualTo(10_000);
        root.GetProperty("load_ms").GetDouble().Should().BePositive();
    }

    [Fact]
    public void Bench_SubjectPerRequest_ReportsTheDecisionBeyondBuildingTheSubject()
    {
        var result = Cli.Run("bench", Path.Combine("TestData", "scale-0", "policy.yaml"),
            "--requests", Path.Combine("TestData", "scale-0", "requests.jsonl"), "--seconds", "0.05", "--subject-per-request");
        result.ExitCode.Should().Be(0);
        result.OutLines.Should().ContainSingle();
        using var json = JsonDocument.Parse(result.OutLines[0]);
        var root = json.RootElement;
        root.GetProperty("build_ns_per_request").GetDouble().Should().BePositive();
        root.GetProperty("build_bytes_per_request").GetDouble().Should().BePositive();
        root.GetProperty("bytes_per_decision").GetDouble().Should().BeLessThan(1, "deciding for a subject built per request allocates nothing beyond building it (a one-off runtime allocation spreads below a byte)");
        root.GetProperty("decisions").GetInt64().Should().BeGreaterThanOrEqualTo(10_000);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("5000")]
    [InlineData("soon")]
    public void Bench_BadSeconds_IsUsageError(string seconds)
    {
        using var files = new TempFiles();
        string policy = files.Write("p.yaml", Policies.Basic);
        string corpus = files.Write("r.jsonl", "{\"subject\":\"alice\",\"action\":\"x:y\",\"resource\":\"a:b\"}\n");
        Cli.Run("bench", policy, "--requests", corpus, "--seconds", seconds).ExitCode.Should().Be(2);
    }

    [Fact]
    public void Bench_MissingRequestsOption_IsUsageError()
    {
        using var files = new TempFiles();
        Cli.Run("bench", files.Write("p.yaml", Policies.Basic)).ExitCode.Should().Be(2);
    }

    [Fact]
    public void Bench_EmptyCorpusOrBadLineOrBadPolicy_IsStatusTwo()
    {
        using var files = new TempFiles();
        string policy = files.Write("p.yaml", Policies.Basic);
        Cli.RunWithInput(string.Empty, "bench", policy, "--requests", "-", "--seconds", "0.01").ExitCode.Should().Be(2);
        var bad = Cli.RunWithInput("{}\n", "bench", policy, "--requests", "-", "--seconds", "0.01");
        bad.ExitCode.Should().Be(2);
        bad.Error.Should().Contain("line 1:");
        Cli.RunWithInput("{\"action\":\"a:b\",\"resource\":\"c:d\"}\n", "bench", files.Write("bad.yaml", Policies.Broken), "--requests", "-")
            .ExitCode.Should().Be(2);
    }
}
