using AiRbac.Yaml;
using BenchmarkDotNet.Attributes;

namespace AiRbac.Benchmarks.AuditSink;

/// <summary>
/// The JSON Lines audit sink's sustained throughput: one invocation hands 100,000 distinct decisions to a
/// <see cref="JsonLinesAuditSink"/> (through <see cref="PolicyAuthorizer.Authorize(Subject, string, in ResourceRequest)"/>,
/// the only way a decision record is made) and waits with <see cref="JsonLinesAuditSink.Flush"/> until every one is
/// written to the file (in a temporary directory). The ring holds all of them, so nothing is dropped (checked after the
/// run); the time per operation is wall time per record written, so records per second = 10^9 / Mean (ns).
/// Consecutive decisions differ (1,000 subjects, two resources), so none is coalesced.
/// </summary>
[BenchmarkCategory("AuditSink")]
public class AuditSinkBenchmarks
{
    /// <summary>Decisions per invocation.</summary>
    public const int Records = 100_000;

    private const string Policy = """
        version: 1
        roles:
          analyst:
            allow:
              - model:query on model:gpt
              - tool:invoke on tool:a_*
            max_sensitivity: confidential
        """;

    private readonly ResourceRequest tagged = new("tool:a_report") { Scope = "acme/pd", Sensitivity = "internal", Tags = new[] { "phi" } };
    private readonly ResourceRequest model = new("model:gpt");
    private string directory = string.Empty;
    private JsonLinesAuditSink sink = null!;
    private PolicyAuthorizer authorizer = null!;
    private Subject[] subjects = [];

    /// <summary>Creates the sink on a file in a new temporary directory, and 1,000 distinct subjects.</summary>
    [GlobalSetup]
    public void Setup()
    {
        directory = Path.Combine(Path.GetTempPath(), "airbac-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        sink = new JsonLinesAuditSink(new AuditLogOptions { Path = Path.Combine(directory, "audit.jsonl"), Capacity = 1 << 17, FilesKept = 2 });
        authorizer = new PolicyAuthorizer([sink]);
        authorizer.Update(YamlPolicy.Compile(Policy, "bench.yaml").Policy!, new PolicyVersion(new string('a', 64), DateTimeOffset.UnixEpoch));
        subjects = [.. Enumerable.Range(0, 1_000).Select(i => Subject.WithRoles("user-" + i, SubjectKind.Service, "analyst"))];
    }

    /// <summary>Closes the sink, checks that nothing was dropped, and removes the directory.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        sink.Dispose();
        Console.WriteLine($"// audit sink: {sink.RecordsWritten} records written, {sink.RecordsDropped} dropped");
        Directory.Delete(directory, recursive: true);
        if (sink.RecordsDropped != 0)
        {
            throw new InvalidOperationException("The audit sink dropped records: the figure would not be of records written.");
        }
    }

    /// <summary>Hands 100,000 distinct decisions to the sink and waits until all are written.</summary>
    /// <returns>The number allowed.</returns>
    [Benchmark(OperationsPerInvoke = Records, Description = "Audit sink: distinct decisions written")]
    public int WriteDistinct()
    {
        int allowed = 0;
        var all = subjects;
        for (int i = 0; i < Records; i++)
        {
            var subject = all[i % all.Length];
            allowed += authorizer.Authorize(subject, (i & 1) == 0 ? "tool:invoke" : "model:query", (i & 1) == 0 ? tagged : model).Allowed ? 1 : 0;
        }

        sink.Flush();
        return allowed;
    }
}
