using Microsoft.Extensions.DependencyInjection;

namespace AiRbac.DependencyInjection.Tests;

public sealed class ZeroAllocationTests
{
    [Fact]
    public void Authorize_AuditFileSinkAndMetricsEnabled_AllocatesNothing()
    {
        using var temp = new TempDirectory();
        string path = temp.File("policy.yaml");
        File.WriteAllText(path, Policies.A);
        using var provider = new ServiceCollection()
            .AddAiRbac(o =>
            {
                o.Source = AiRbacPolicySource.FromFile(path);
                o.AuditLog.Path = temp.File("audit.jsonl");
                o.AuditLog.Capacity = 1 << 16;
            })
            .BuildServiceProvider();
        var authorizer = provider.GetRequiredService<PolicyAuthorizer>();
        var runtime = provider.GetRequiredService<AiRbacRuntime>();
        using var recorder = new InstrumentRecorder(runtime.Instruments!.Meter); // a listener makes the counters record

        var alice = Policies.Alice;
        var bot = Subject.WithRoles("bot", SubjectKind.Agent, "analyst").ActingFor(alice);
        var nobody = new Subject(string.Empty);
        var tagged = new ResourceRequest("tool:a_x") { Sensitivity = "internal", Tags = new[] { "phi" }, Scope = "acme/pd" };

        int Run(int rounds)
        {
            int allowed = 0;
            for (int i = 0; i < rounds; i++)
            {
                allowed += authorizer.Authorize(alice, "tool:invoke", "tool:a_x").Allowed ? 1 : 0;
                allowed += authorizer.Authorize(alice, "tool:invoke", "tool:b_x").Allowed ? 1 : 0;
                allowed += authorizer.Authorize(bot, "model:query", "model:gpt").Allowed ? 1 : 0;
                allowed += authorizer.Authorize(bot, "tool:invoke", tagged).Allowed ? 1 : 0;
                allowed += authorizer.Authorize(nobody, "model:query", "model:gpt").Allowed ? 1 : 0;
            }

            return allowed;
        }

        Run(1_000); // warm up: resolve subjects, tier the JIT, let the writer go idle and be woken
        runtime.AuditSink!.Flush();
        long before = GC.GetAllocatedBytesForCurrentThread();
        int allowedCount = Run(4_000); // 20,000 decisions
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        allocated.Should().Be(0);
        allowedCount.Should().Be(8_000);
        runtime.AuditSink.Flush();
        (runtime.AuditSink.RecordsWritten + runtime.AuditSink.RecordsDropped).Should().Be(25_000);
        recorder.Get("airbac.decisions|allowed|allowed").Should().Be(10_000);
    }
}
