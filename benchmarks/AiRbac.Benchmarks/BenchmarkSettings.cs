using System.Collections.Concurrent;
using AiRbac.Benchmarks.Scenarios;

namespace AiRbac.Benchmarks;

/// <summary>Settings the program sets before BenchmarkDotNet runs, and a per-process cache of compiled scenarios.</summary>
public static class BenchmarkSettings
{
    private static readonly ConcurrentDictionary<string, Lazy<(ReferenceScenario Scenario, CompiledPolicy Policy)>> Cache = new();

    /// <summary>The scales the scale-parameterised benchmarks run at (all three unless the CI pass narrows them).</summary>
    public static IReadOnlyList<string> Scales { get; set; } = ReferenceScenario.AllScales;

    /// <summary>
    /// The scenario and its compiled policy, read and compiled once per process: with the in-process toolchain (CI)
    /// every benchmark case shares one process, so the 10,000-role policy is compiled once, not per case.
    /// A compiled policy is immutable, so sharing it is safe.
    /// </summary>
    /// <param name="scale">The scale.</param>
    /// <returns>The scenario and policy.</returns>
    public static (ReferenceScenario Scenario, CompiledPolicy Policy) Scenario(string scale)
        => Cache.GetOrAdd(scale, s => new Lazy<(ReferenceScenario, CompiledPolicy)>(() =>
        {
            var scenario = ReferenceScenario.Load(s);
            return (scenario, scenario.CompilePolicy());
        })).Value;
}
