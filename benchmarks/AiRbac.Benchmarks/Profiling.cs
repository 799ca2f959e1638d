using System.Diagnostics;
using AiRbac.Benchmarks.Scenarios;

namespace AiRbac.Benchmarks;

/// <summary>
/// A small driver for a sampling profiler: decides the corpus in a loop for a while, with nothing else running.
/// <c>DOTNET_PerfMapEnabled=1 perf record -g dotnet bin/Release/net10.0/AiRbac.Benchmarks.dll --profile scale-10000 20 [reused|per-request|cold-N]</c>.
/// <c>reused</c> (the default) decides the corpus's subjects built once; <c>per-request</c> builds each request's subject
/// (id, kind, role names, on-behalf-of chain) anew, as a service mapping claims does.
/// </summary>
public static class Profiling
{
    /// <summary>Runs the loop.</summary>
    /// <param name="scale">The scale.</param>
    /// <param name="seconds">How long to loop.</param>
    /// <param name="mode"><c>reused</c>, <c>per-request</c>, <c>cold-N</c>, or an adapter path (<c>aspnetcore</c>, <c>mcp</c>, <c>chat</c>, each also with <c>-floor</c>).</param>
    /// <param name="output">Where to write the rate.</param>
    /// <returns>0.</returns>
    public static int Run(string scale, double seconds, string mode, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var (scenario, policy) = BenchmarkSettings.Scenario(scale);
        PreparedRequest[] requests = [.. scenario.ParseRequests().Select(r => new PreparedRequest(r.Subject, r.Action, r.Resource))];
        scenario.Verify("AiRbac", i => ReferenceScenario.ToExpected(policy.Authorize(requests[i].Subject, requests[i].Action, in requests[i].Resource)));
        bool perRequest = mode == "per-request";
        if (mode is "aspnetcore" or "aspnetcore-floor" or "aspnetcore-outcomes" or "map" or "map-floor" or "mcp" or "mcp-floor" or "chat" or "chat-floor")
        {
            return Adapter(scale, mode, seconds, output);
        }

        if (mode == "batch")
        {
            return Batch(scale, seconds, output);
        }

        if (mode.StartsWith("cold-", StringComparison.Ordinal))
        {
            return Cold(policy, int.Parse(mode["cold-".Length..], System.Globalization.CultureInfo.InvariantCulture), seconds, output);
        }

        var inputs = requests.Select(r => SubjectInputs.Of(r.Subject)).ToArray();
        long decisions = 0;
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        long cpu = ThreadClock.Nanoseconds();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < seconds)
        {
            if (perRequest)
            {
                for (int i = 0; i < requests.Length; i++)
                {
                    policy.Authorize(inputs[i].Build(), requests[i].Action, in requests[i].Resource);
                }
            }
            else
            {
                PreparedRequest.AuthorizeAll(policy, requests);
            }

            decisions += requests.Length;
        }

        cpu = ThreadClock.Nanoseconds() - cpu;
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        output.WriteLine($"{scale} ({mode}): {decisions:N0} decisions in {clock.Elapsed.TotalSeconds:F1} s, {clock.Elapsed.TotalNanoseconds / decisions:F1} ns per decision ({CpuLabel} {cpu / (double)decisions:F1} ns), {allocated / (double)decisions:F1} bytes allocated per decision");
        return 0;
    }

    // What the second figure is: the thread's CPU time (not counting time spent waiting for a core) or, where it cannot be read, wall time again.
    private static string CpuLabel => ThreadClock.IsCpuTime ? "thread CPU time" : "wall";

    // Fresh role sets of the given size (as ColdRoleSetBenchmarks), one decision each.
    /// <summary>The batch benchmarks' fifteen loops, each timed in turn (for a profiler, or a quick comparison): ns per item.</summary>
    private static int Batch(string scale, double seconds, TextWriter output)
    {
        var bench = new BatchBenchmarks { Scale = scale };
        bench.Setup();
        (string Name, Func<int> Run, int Items)[] loops =
        [
            ("corpus groups: AuthorizeMany", bench.CorpusAuthorizeMany, ReferenceScenario.CorpusSize),
            ("corpus groups: loop of Authorize", bench.CorpusSingleCalls, ReferenceScenario.CorpusSize),
            ("corpus groups: loop of Authorize into a span", bench.CorpusSingleCallsStored, ReferenceScenario.CorpusSize),
            ("batches of 64: AuthorizeMany", bench.RetrievalAuthorizeMany, 64 * 156),
            ("batches of 64: loop of Authorize", bench.RetrievalSingleCalls, 64 * 156),
            ("batches of 64: loop of Authorize into a span", bench.RetrievalSingleCallsStored, 64 * 156),
            ("agent for user, batches of 64: AuthorizeMany", bench.DelegatedAuthorizeMany, 64 * 156),
            ("agent for user, batches of 64: loop of Authorize", bench.DelegatedSingleCalls, 64 * 156),
            ("agent for user, batches of 64: loop of Authorize into a span", bench.DelegatedSingleCallsStored, 64 * 156),
            ("one name repeated, batches of 64: AuthorizeMany", bench.RepeatedAuthorizeMany, 64 * 156),
            ("one name repeated, batches of 64: loop of Authorize", bench.RepeatedSingleCalls, 64 * 156),
            ("one name repeated, batches of 64: loop of Authorize into a span", bench.RepeatedSingleCallsStored, 64 * 156),
            ("tiers and tags, batches of 64: AuthorizeMany", bench.TieredAuthorizeMany, 64 * 156),
            ("tiers and tags, batches of 64: loop of Authorize", bench.TieredSingleCalls, 64 * 156),
            ("tiers and tags, batches of 64: loop of Authorize into a span", bench.TieredSingleCallsStored, 64 * 156),
        ];
        var totals = new double[loops.Length];
        var cpuTotals = new double[loops.Length];
        var counts = new long[loops.Length];
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < seconds)
        {
            for (int l = 0; l < loops.Length; l++)
            {
                long start = Stopwatch.GetTimestamp();
                long cpu = ThreadClock.Nanoseconds();
                for (int r = 0; r < 20; r++)
                {
                    loops[l].Run();
                }

                cpuTotals[l] += ThreadClock.Nanoseconds() - cpu;
                totals[l] += Stopwatch.GetElapsedTime(start).TotalNanoseconds;
                counts[l] += 20L * loops[l].Items;
            }
        }

        for (int l = 0; l < loops.Length; l++)
        {
            output.WriteLine($"{scale} {loops[l].Name}: {totals[l] / counts[l]:F1} ns per item ({CpuLabel} {cpuTotals[l] / counts[l]:F1} ns)");
        }

        return 0;
    }

    private static int Cold(CompiledPolicy policy, int size, double seconds, TextWriter output)
    {
        string[] names = [.. policy.Roles.Select(r => r.Name)];
        long decisions = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < seconds)
        {
            var random = new Random((int)decisions);
            var picked = new RoleBinding[size];
            for (int k = 0; k < size; k++)
            {
                picked[k] = new RoleBinding(names[random.Next(names.Length)]);
            }

            policy.Authorize(new Subject("attacker", SubjectKind.User, picked), "data:read", "dataset:team00042/summary");
            decisions++;
        }

        output.WriteLine($"cold-{size}: {decisions:N0} decisions in {clock.Elapsed.TotalSeconds:F1} s, {clock.Elapsed.TotalNanoseconds / decisions:F1} ns per decision");
        return 0;
    }

    /// <summary>What a request carries about its subject: id, kind, role bindings (names) and who it acts for.</summary>
    private sealed class SubjectInputs(string id, SubjectKind? kind, RoleBinding[]? roles, SubjectInputs? onBehalfOf)
    {
        public static SubjectInputs Of(Subject s) => new(s.Id, s.Kind, s.Roles?.ToArray(), s.OnBehalfOf is null ? null : Of(s.OnBehalfOf));

        public Subject Build() => new(id, kind, roles, onBehalfOf?.Build());
    }

    // Loops one adapter benchmark (its own setup, its own per-request inputs) for a sampling profiler.
    private static int Adapter(string scale, string mode, double seconds, TextWriter output)
    {
        Func<int> run;
        int perRun;
        switch (mode)
        {
            case "map" or "map-floor":
                var mapping = new Scenarios.AspNetCorePathBenchmarks { Scale = scale };
                mapping.Setup();
                run = mode == "map" ? () => mapping.MapOnly(true) : () => mapping.MapOnly(false);
                perRun = ReferenceScenario.CorpusSize;
                break;
            case "aspnetcore" or "aspnetcore-floor" or "aspnetcore-outcomes":
                var asp = new Scenarios.AspNetCorePathBenchmarks { Scale = scale };
                asp.Setup();
                run = mode == "aspnetcore" ? asp.AiRbacHandler : mode == "aspnetcore-floor" ? asp.Floor : asp.FloorWithOutcomes;
                perRun = ReferenceScenario.CorpusSize;
                break;
            case "mcp" or "mcp-floor":
                var mcp = new Scenarios.McpToolCallBenchmarks { Scale = scale };
                mcp.Setup();
                run = mode == "mcp" ? mcp.AiRbacFilter : mcp.PassThrough;
                perRun = 2_000;
                break;
            default:
                var chat = new Scenarios.ChatToolCallBenchmarks { Scale = scale };
                chat.Setup();
                run = mode == "chat" ? chat.AiRbacInvoker : chat.PassThrough;
                perRun = 2_000;
                break;
        }

        long calls = 0;
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < seconds)
        {
            run();
            calls += perRun;
        }

        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        output.WriteLine($"{scale} ({mode}): {calls:N0} calls in {clock.Elapsed.TotalSeconds:F1} s, {clock.Elapsed.TotalNanoseconds / calls:F1} ns per call, {allocated / (double)calls:F1} bytes allocated per call");
        return 0;
    }
}
