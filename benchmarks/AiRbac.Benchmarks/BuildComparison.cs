using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime.Loader;

namespace AiRbac.Benchmarks;

/// <summary>
/// Compares builds of the engine in one process: <c>--compare CLASS METHOD SCALE ROUNDS SLICE_MS name=DIR name=DIR ...</c>
/// (<c>name=DIR@OTHER</c> times method OTHER of that build instead, to compare two methods of one build the same way)
/// loads the benchmarks assembly of each DIR (a <c>bin/Release/net10.0</c> folder, with its own <c>AiRbac.*.dll</c>) into an
/// assembly load context of its own, runs the global setup of <c>Scenarios.CLASS</c> for METHOD, then times METHOD of
/// each build in turn, SLICE_MS milliseconds at a time (the order reversed every other round), on the thread's CPU clock.
/// It prints, per build, the median and quartiles of the time per operation over the rounds, and the median of its ratio
/// to the first build's time in the same round.
/// </summary>
/// <remarks>
/// Why: on a 2-core machine shared with other builds, two runs taken a minute apart differ by more than the few per cent
/// a change to the hot path makes. Slices of a fraction of a second, alternating inside one process, see the same load.
/// Before timing, a full compacting collection moves every build's data into the oldest generation: without it, the
/// build set up last kept its data where setup left it, among its garbage, and measured up to 40 % slower whatever it was.
/// </remarks>
public static class BuildComparison
{
    /// <summary>Runs the comparison.</summary>
    /// <param name="args">The arguments after <c>--compare</c>.</param>
    /// <param name="output">Where the results go.</param>
    /// <returns>0, or 2 on bad arguments.</returns>
    public static int Run(string[] args, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        if (args.Length < 7)
        {
            output.WriteLine("usage: --compare CLASS METHOD SCALE ROUNDS SLICE_MS name=DIR[@METHOD] name=DIR[@METHOD] ...");
            return 2;
        }

        string type = args[0], method = args[1], scale = args[2];
        int rounds = int.Parse(args[3], CultureInfo.InvariantCulture);
        int sliceMs = int.Parse(args[4], CultureInfo.InvariantCulture);
        var builds = new List<(string Name, Func<int> Run, int Operations)>();
        foreach (string arg in args[5..])
        {
            string[] pair = arg.Split('=', 2);
            string[] folderAndMethod = pair[1].Split('@', 2);
            builds.Add(Load(pair[0], folderAndMethod[0], type, folderAndMethod.Length > 1 ? folderAndMethod[1] : method, scale));
        }

        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);

        // Warm-up: every build's code tiered up (dynamic PGO included) before the first timed slice.
        var warm = Stopwatch.StartNew();
        while (warm.ElapsedMilliseconds < 3_000)
        {
            foreach (var build in builds)
            {
                build.Run();
            }
        }

        var times = builds.ToDictionary(b => b.Name, _ => new List<double>());
        for (int round = 0; round < rounds; round++)
        {
            foreach (var build in round % 2 == 0 ? builds : Enumerable.Reverse(builds))
            {
                long operations = 0;
                long cpu = ThreadClock.Nanoseconds();
                var slice = Stopwatch.StartNew();
                while (slice.ElapsedMilliseconds < sliceMs)
                {
                    build.Run();
                    operations += build.Operations;
                }

                times[build.Name].Add((ThreadClock.Nanoseconds() - cpu) / (double)operations);
            }
        }

        string first = builds[0].Name;
        string clock = ThreadClock.IsCpuTime ? "thread CPU time" : "wall time";
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{type}.{method} {scale}: {rounds} rounds of {sliceMs} ms per build, {clock} per operation, load average {LoadAverage()}"));
        foreach (var build in builds)
        {
            var sorted = times[build.Name].Order().ToList();
            var ratios = times[build.Name].Zip(times[first], (a, b) => a / b).Order().ToList();
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {build.Name,-12} median {Quantile(sorted, 2):F2} ns (quartiles {Quantile(sorted, 1):F2}, {Quantile(sorted, 3):F2}); ratio to {first}: median {Quantile(ratios, 2):F3} (quartiles {Quantile(ratios, 1):F3}, {Quantile(ratios, 3):F3})"));
        }

        return 0;
    }

    // The 1-minute load average (Linux), to print with the figures.
    private static string LoadAverage()
        => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "unknown";

    private static double Quantile(List<double> sorted, int quarter) => sorted[Math.Min(sorted.Count - 1, sorted.Count * quarter / 4)];

    // One build: its benchmarks assembly in a context of its own, the benchmark class set up, its method as a delegate.
    private static (string Name, Func<int> Run, int Operations) Load(string name, string folder, string type, string method, string scale)
    {
        string main = Path.Combine(Path.GetFullPath(folder), "AiRbac.Benchmarks.dll");
        var context = new BuildContext(name, main);
        var benchmarks = context.LoadFromAssemblyPath(main).GetType("AiRbac.Benchmarks.Scenarios." + type, throwOnError: true)!;
        object instance = Activator.CreateInstance(benchmarks)!;
        benchmarks.GetProperty("Scale")?.SetValue(instance, scale);
        var workload = benchmarks.GetMethod(method) ?? throw new ArgumentException($"{type} has no method {method}");
        var setup = benchmarks.GetMethods().FirstOrDefault(m => m.GetCustomAttributesData().Any(a => a.AttributeType.Name == "GlobalSetupAttribute"
            && (a.NamedArguments.Count == 0 || a.NamedArguments.Any(n => n.MemberName == "Target" && (string?)n.TypedValue.Value == method))));
        setup?.Invoke(instance, null);
        int operations = workload.GetCustomAttributesData()
            .Where(a => a.AttributeType.Name == "BenchmarkAttribute")
            .SelectMany(a => a.NamedArguments)
            .Where(n => n.MemberName == "OperationsPerInvoke")
            .Select(n => (int)n.TypedValue.Value!)
            .DefaultIfEmpty(1)
            .First();
        return (name, workload.CreateDelegate<Func<int>>(instance), operations);
    }

    /// <summary>A build's assemblies: the AiRbac ones and the packages from its folder; the framework's are shared.</summary>
    private sealed class BuildContext(string name, string main) : AssemblyLoadContext(name)
    {
        private readonly AssemblyDependencyResolver resolver = new(main);

        protected override Assembly? Load(AssemblyName assemblyName)
        {
            string? path = resolver.ResolveAssemblyToPath(assemblyName);
            bool own = assemblyName.Name is { } simple && (simple.StartsWith("AiRbac", StringComparison.Ordinal) || !IsShared(assemblyName));
            return own && path is not null ? LoadFromAssemblyPath(path) : null;
        }

        // Whether the default context can load it (the framework's assemblies): then every build uses that one.
        private static bool IsShared(AssemblyName assemblyName)
        {
            try
            {
                Default.LoadFromAssemblyName(assemblyName);
                return true;
            }
            catch (FileNotFoundException)
            {
                return false;
            }
        }
    }
}
