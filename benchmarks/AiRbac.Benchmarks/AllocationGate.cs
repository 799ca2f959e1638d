using BenchmarkDotNet.Reports;

namespace AiRbac.Benchmarks;

/// <summary>The CI gate: every benchmark in the <see cref="Category"/> category must run and allocate nothing. Timing is printed, never asserted.</summary>
public static class AllocationGate
{
    /// <summary>The category of the AiRbac Authorize benchmarks (baselines are not in it).</summary>
    public const string Category = "Authorize";

    /// <summary>Checks the reports.</summary>
    /// <param name="summaries">The summaries of the run.</param>
    /// <param name="output">Where to write the verdict.</param>
    /// <returns>0 when every Authorize benchmark ran and allocated 0 bytes, else 1.</returns>
    public static int Check(IEnumerable<Summary> summaries, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(summaries);
        ArgumentNullException.ThrowIfNull(output);
        int checkedCount = 0, failures = 0;
        foreach (var summary in summaries)
        {
            foreach (var report in summary.Reports)
            {
                var benchmark = report.BenchmarkCase;
                if (!benchmark.Descriptor.HasCategory(Category))
                {
                    continue;
                }

                checkedCount++;
                // Total bytes over the measured operations as well as the rounded per-operation figure: with
                // OperationsPerInvoke = 10,000 a small allocation per invocation would round down to 0 B/op.
                long? perOperation = report.GcStats.GetBytesAllocatedPerOperation(benchmark);
                long? total = report.GcStats.GetTotalAllocatedBytes(excludeAllocationQuantumSideEffects: true);
                bool ok = report.Success && perOperation == 0 && total == 0;
                output.WriteLine($"allocation gate: {(ok ? "ok  " : "FAIL")} {benchmark.DisplayInfo}: {Show(perOperation)} B/op, {Show(total)} B over {report.GcStats.TotalOperations:N0} ops{(report.Success ? string.Empty : " (benchmark failed)")}");
                failures += ok ? 0 : 1;
            }
        }

        if (checkedCount == 0)
        {
            output.WriteLine("allocation gate: FAIL no Authorize benchmark ran");
            return 1;
        }

        output.WriteLine($"allocation gate: {checkedCount - failures} passed, {failures} failed");
        return failures == 0 ? 0 : 1;
    }

    private static string Show(long? bytes) => bytes?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "n/a";
}
