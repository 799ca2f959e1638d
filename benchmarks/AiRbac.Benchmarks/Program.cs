using AiRbac.Benchmarks;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Filters;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Perfolizer.Horology;

// Full run:  dotnet run -c Release --project benchmarks/AiRbac.Benchmarks -- --filter '*'
// CI pass:   dotnet run -c Release --project benchmarks/AiRbac.Benchmarks -- --ci
//            (in-process, very short job, Authorize benchmarks at scale-0 and scale-10000; exits 1 if any allocates)
// Profiling: dotnet bin/Release/net10.0/AiRbac.Benchmarks.dll --profile scale-10000 20 [reused|per-request]   (see Profiling.cs)
if (args.Length >= 1 && args[0] == "--profile")
{
    return Profiling.Run(
        args.Length > 1 ? args[1] : "scale-0",
        args.Length > 2 ? double.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 10,
        args.Length > 3 ? args[3] : "reused",
        Console.Out);
}

// Builds compared in one process: dotnet bin/Release/net10.0/AiRbac.Benchmarks.dll --compare CLASS METHOD SCALE ROUNDS SLICE_MS name=DIR ...
if (args.Length >= 1 && args[0] == "--compare")
{
    return BuildComparison.Run(args[1..], Console.Out);
}

bool ci = args.Contains("--ci");
string[] rest = [.. args.Where(a => a != "--ci")];

// --scales scale-0,scale-10000: run the scale-parameterised benchmarks at these scales only.
int scalesAt = Array.IndexOf(rest, "--scales");
if (scalesAt >= 0 && scalesAt + 1 < rest.Length)
{
    BenchmarkSettings.Scales = rest[scalesAt + 1].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    rest = [.. rest[..scalesAt], .. rest[(scalesAt + 2)..]];
}
IConfig config;
if (ci)
{
    BenchmarkSettings.Scales = ["scale-0", "scale-10000"];
    config = DefaultConfig.Instance
        .AddJob(Job.Default.WithId("CI")
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithLaunchCount(1).WithWarmupCount(1).WithIterationCount(3)
            .WithIterationTime(TimeInterval.FromMilliseconds(100)))
        .AddFilter(new AnyCategoriesFilter([AllocationGate.Category]))
        .AddColumn(StatisticColumn.Median);
    if (rest.Length == 0)
    {
        rest = ["--filter", "*"]; // never prompt: CI has no standard input
    }
}
else
{
    // Sized for a 2-core machine: the whole '*' run (about 40 cases) takes minutes, not an hour.
    config = DefaultConfig.Instance
        .AddJob(Job.Default.WithId("Bench")
            .WithLaunchCount(1).WithWarmupCount(3).WithIterationCount(9)
            .WithIterationTime(TimeInterval.FromMilliseconds(250)))
        .AddColumn(StatisticColumn.Median);
}

var summaries = BenchmarkSwitcher.FromAssembly(typeof(BenchmarkSettings).Assembly).Run(rest, config).ToList();
return ci ? AllocationGate.Check(summaries, Console.Out) : 0;
