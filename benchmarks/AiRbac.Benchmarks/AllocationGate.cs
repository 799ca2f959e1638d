using System.Globalization;
using System.Reflection;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace AiRbac.Benchmarks;

/// <summary>
/// The CI gate: every benchmark in the <see cref="Category"/> category must run, and its workload must allocate
/// nothing. Timing is printed by BenchmarkDotNet, never asserted.
/// </summary>
/// <remarks>
/// Why the gate measures on its own instead of reading BenchmarkDotNet's <c>GcStats</c>: those are the totals of
/// the whole measured run, harness included (with <c>CI=true</c> in the environment, a short in-process run reports
/// a few kilobytes over millions of operations that are not the workload's). The gate instead builds each Authorize
/// benchmark case again (same parameters, same global setup), warms its workload, and reads
/// <see cref="GC.GetAllocatedBytesForCurrentThread"/> around a large loop of it: exact, per thread, and free of the
/// harness. It keeps the least of three attempts, so a one-off runtime allocation (tiered JIT, a timer) does not fail
/// it, while an allocation in the workload shows in all three. A benchmark that decides on a second thread
/// (the throughput case) runs the same code there as on the measured thread.
/// </remarks>
public static class AllocationGate
{
    /// <summary>The category of the AiRbac Authorize benchmarks (baselines are not in it).</summary>
    public const string Category = "Authorize";

    private const int Attempts = 3;

    /// <summary>Decisions per attempt, at least: enough that one byte per decision would show as many kilobytes.</summary>
    private const int MinimumOperations = 200_000;

    /// <summary>Checks every Authorize benchmark case of the run.</summary>
    /// <param name="summaries">The summaries of the BenchmarkDotNet run (which cases ran, and whether they succeeded).</param>
    /// <param name="output">Where to write the verdict.</param>
    /// <returns>0 when every Authorize benchmark ran and its workload allocated 0 bytes, else 1.</returns>
    public static int Check(IEnumerable<Summary> summaries, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(summaries);
        ArgumentNullException.ThrowIfNull(output);
        int checkedCount = 0, failures = 0;

        // The gate's own check: a workload that allocates 24 bytes a call must not measure 0, or the gate cannot fail.
        long control = LeastAllocated(static () => new object().GetHashCode() & 1, 1_000);
        if (control < 24 * 1_000)
        {
            output.WriteLine($"allocation gate: FAIL the measurement saw {control} B for a workload that allocates at least 24,000 B");
            return 1;
        }

        foreach (var report in summaries.SelectMany(s => s.Reports))
        {
            var benchmark = report.BenchmarkCase;
            if (!benchmark.Descriptor.HasCategory(Category))
            {
                continue;
            }

            checkedCount++;
            string verdict;
            bool ok;
            if (!report.Success)
            {
                ok = false;
                verdict = "benchmark failed";
            }
            else
            {
                try
                {
                    var (bytes, operations) = Measure(benchmark);
                    ok = bytes == 0;
                    verdict = string.Create(CultureInfo.InvariantCulture, $"{bytes} B over {operations:N0} decisions (least of {Attempts})");
                }
                catch (Exception e) when (e is TargetInvocationException or InvalidOperationException or ArgumentException or MissingMemberException)
                {
                    ok = false;
                    verdict = "could not be measured: " + (e.InnerException ?? e).Message;
                }
            }

            output.WriteLine($"allocation gate: {(ok ? "ok  " : "FAIL")} {benchmark.Descriptor.DisplayInfo} [{benchmark.Parameters.DisplayInfo}]: {verdict}");
            failures += ok ? 0 : 1;
        }

        if (checkedCount == 0)
        {
            output.WriteLine("allocation gate: FAIL no Authorize benchmark ran");
            return 1;
        }

        output.WriteLine($"allocation gate: {checkedCount - failures} passed, {failures} failed");
        return failures == 0 ? 0 : 1;
    }

    /// <summary>Builds the case, runs its global setup, warms the workload, and measures it.</summary>
    /// <param name="benchmark">The benchmark case.</param>
    /// <returns>The least bytes allocated by the measuring thread over one attempt, and the decisions per attempt.</returns>
    public static (long Bytes, long Operations) Measure(BenchmarkCase benchmark)
    {
        ArgumentNullException.ThrowIfNull(benchmark);
        var descriptor = benchmark.Descriptor;
        object instance = Activator.CreateInstance(descriptor.Type)
            ?? throw new InvalidOperationException($"cannot create {descriptor.Type.Name}");
        foreach (var parameter in benchmark.Parameters.Items)
        {
            var property = descriptor.Type.GetProperty(parameter.Name)
                ?? throw new MissingMemberException(descriptor.Type.Name, parameter.Name);
            property.SetValue(instance, parameter.Value);
        }

        descriptor.GlobalSetupMethod?.Invoke(instance, null);
        try
        {
            // A typed delegate, so the loop itself neither boxes the result nor allocates an argument array.
            var workload = descriptor.WorkloadMethod.CreateDelegate<Func<int>>(instance);
            int operationsPerInvoke = Math.Max(1, descriptor.OperationsPerInvoke);
            int invocations = Math.Max(2, MinimumOperations / operationsPerInvoke);
            return (LeastAllocated(workload, invocations), (long)invocations * operationsPerInvoke);
        }
        finally
        {
            descriptor.GlobalCleanupMethod?.Invoke(instance, null);
        }
    }

    /// <summary>Warms <paramref name="workload"/>, then returns the least bytes this thread allocated over <see cref="Attempts"/> loops of it.</summary>
    private static long LeastAllocated(Func<int> workload, int invocations)
    {
        int sink = 0;
        for (int i = 0; i < invocations; i++)
        {
            sink += workload(); // warm-up: every subject resolved, every path jitted
        }

        long least = long.MaxValue;
        for (int attempt = 0; attempt < Attempts; attempt++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < invocations; i++)
            {
                sink += workload();
            }

            least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        GC.KeepAlive(sink);
        return least;
    }
}
