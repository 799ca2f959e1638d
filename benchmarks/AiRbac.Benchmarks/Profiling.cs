using System.Diagnostics;
using AiRbac.Benchmarks.Scenarios;

namespace AiRbac.Benchmarks;

/// <summary>
/// A small driver for a sampling profiler: decides the corpus in a loop for a while, with nothing else running.
/// <c>DOTNET_PerfMapEnabled=1 perf record -g dotnet bin/Release/net10.0/AiRbac.Benchmarks.dll --profile scale-10000 20</c>.
/// </summary>
public static class Profiling
{
    /// <summary>Runs the loop.</summary>
    /// <param name="scale">The scale.</param>
    /// <param name="seconds">How long to loop.</param>
    /// <param name="output">Where to write the rate.</param>
    /// <returns>0.</returns>
    public static int Run(string scale, double seconds, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var (scenario, policy) = BenchmarkSettings.Scenario(scale);
        PreparedRequest[] requests = [.. scenario.ParseRequests().Select(r => new PreparedRequest(r.Subject, r.Action, r.Resource))];
        scenario.Verify("AiRbac", i => ReferenceScenario.ToExpected(policy.Authorize(requests[i].Subject, requests[i].Action, in requests[i].Resource)));
        long decisions = 0;
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < seconds)
        {
            PreparedRequest.AuthorizeAll(policy, requests);
            decisions += requests.Length;
        }

        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        output.WriteLine($"{scale}: {decisions:N0} decisions in {clock.Elapsed.TotalSeconds:F1} s, {clock.Elapsed.TotalNanoseconds / decisions:F1} ns per decision, {allocated} bytes allocated");
        return 0;
    }
}
