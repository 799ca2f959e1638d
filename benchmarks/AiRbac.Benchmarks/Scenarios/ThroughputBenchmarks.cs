using BenchmarkDotNet.Attributes;

namespace AiRbac.Benchmarks.Scenarios;

/// <summary>
/// Two threads decide the whole corpus each, at the same time, on one shared policy and shared subjects:
/// per-decision time is wall time / 20,000, so perfect scaling on 2 cores shows half the single-thread figure.
/// The second thread is started once in GlobalSetup and released by a barrier, so an invocation allocates nothing.
/// </summary>
[MemoryDiagnoser]
[BenchmarkCategory("Authorize", "Throughput")]
public class ThroughputBenchmarks
{
    private const int Threads = 2;

    private readonly Barrier start = new(Threads);
    private readonly Barrier finish = new(Threads);
    private CompiledPolicy policy = null!;
    private PreparedRequest[] requests = [];
    private Thread? worker;
    private volatile bool stopping;
    private int workerAllowed;

    /// <summary>The scales.</summary>
    public static IEnumerable<string> Scales => BenchmarkSettings.Scales;

    /// <summary>The scale: <c>scale-0</c>, <c>scale-1000</c> or <c>scale-10000</c> extra roles.</summary>
    [ParamsSource(nameof(Scales))]
    public string Scale { get; set; } = "scale-0";

    /// <summary>Prepares and checks the corpus, and starts the second thread.</summary>
    [GlobalSetup]
    public void Setup()
    {
        (var scenario, policy) = BenchmarkSettings.Scenario(Scale);
        requests = [.. scenario.ParseRequests().Select(r => new PreparedRequest(r.Subject, r.Action, r.Resource))];
        scenario.Verify("AiRbac", i => ReferenceScenario.ToExpected(policy.Authorize(requests[i].Subject, requests[i].Action, in requests[i].Resource)));
        worker = new Thread(Work) { IsBackground = true, Name = "authorize-worker" };
        worker.Start();
    }

    /// <summary>Stops the second thread.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        stopping = true;
        start.SignalAndWait();
        worker?.Join();
        start.Dispose();
        finish.Dispose();
    }

    /// <summary>Two threads, each over the whole corpus.</summary>
    /// <returns>The number allowed.</returns>
    [Benchmark(Description = "AiRbac Authorize, 2 threads", OperationsPerInvoke = Threads * ReferenceScenario.CorpusSize)]
    public int TwoThreads()
    {
        start.SignalAndWait();
        int allowed = PreparedRequest.AuthorizeAll(policy, requests);
        finish.SignalAndWait();
        return allowed + workerAllowed;
    }

    private void Work()
    {
        while (true)
        {
            start.SignalAndWait();
            if (stopping)
            {
                return;
            }

            workerAllowed = PreparedRequest.AuthorizeAll(policy, requests);
            finish.SignalAndWait();
        }
    }
}
