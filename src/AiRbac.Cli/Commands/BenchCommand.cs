using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using AiRbac.Requests;

namespace AiRbac.Cli.Commands;

/// <summary><c>airbac bench POLICY --requests FILE [--seconds N]</c>: steady-state speed of <c>Authorize</c>, as one JSON line.</summary>
internal static class BenchCommand
{
    public static Command Create(CliConsole console)
    {
        var policy = new Argument<string>("POLICY") { Description = "The policy YAML file." };
        var requests = new Option<string>("--requests") { Description = "The JSON Lines corpus to time ('-' reads standard input).", HelpName = "FILE", Required = true };
        var seconds = new Option<double>("--seconds") { Description = "How long to run the timed loop (0 < N <= 3600).", DefaultValueFactory = _ => 3.0, HelpName = "N" };
        var perRequest = new Option<bool>("--subject-per-request")
        {
            Description = "Build a new Subject for every request (as a service mapping claims does): ns_per_decision and bytes_per_decision are then those of building and deciding minus those of building alone (build_ns_per_request).",
        };
        var command = new Command("bench", "Time Authorize on a corpus: parse every request first, warm up, then loop over the corpus for N seconds. Prints one JSON line: ns_per_decision, bytes_per_decision, decisions, load_ms.")
        {
            policy,
            requests,
            seconds,
            perRequest,
        };
        command.SetAction(parsed => Execute(console, parsed.GetValue(policy)!, parsed.GetValue(requests)!, parsed.GetValue(seconds), parsed.GetValue(perRequest)));
        return command;
    }

    private static int Execute(CliConsole console, string policyPath, string corpus, double seconds, bool perRequest)
    {
        if (!(seconds > 0 && seconds <= 3600))
        {
            throw new UsageException("--seconds must be greater than 0 and at most 3600");
        }

        PolicyFiles.RequireFile(policyPath);
        var clock = Stopwatch.StartNew();
        var loaded = PolicyFiles.LoadForUse(policyPath, console.Error);
        double loadMs = clock.Elapsed.TotalMilliseconds;
        if (loaded is null)
        {
            return AirbacCli.ExitUsage;
        }

        var policy = loaded.Policy!;
        var requests = new List<AuthorizationRequest>();
        var reader = RequestCorpus.Open(corpus, console.In);
        try
        {
            foreach (var (_, request) in RequestCorpus.Read(reader))
            {
                requests.Add(request);
            }
        }
        catch (BadInputLineException e)
        {
            console.Error.WriteLine($"error: {corpus}: {e.Message}");
            return AirbacCli.ExitUsage;
        }
        finally
        {
            if (!ReferenceEquals(reader, console.In))
            {
                reader.Dispose();
            }
        }

        if (requests.Count == 0)
        {
            throw new UsageException($"{corpus}: the corpus holds no request");
        }

        // Structure-of-arrays so the timed loop touches only the engine: subjects are resolved during warm-up.
        var subjects = requests.Select(r => r.Subject).ToArray();
        var actions = requests.Select(r => r.Action).ToArray();
        var resources = requests.Select(r => r.Resource).ToArray();
        var contexts = requests.Select(r => r.Context).ToArray();
        if (perRequest)
        {
            return PerRequest(console, policy, subjects, actions, resources, contexts, seconds, loadMs);
        }

        int allowed = 0;

        // Warm-up: every subject resolved, the JIT at its final tier (about a tenth of the run, at least two passes).
        var warm = Stopwatch.StartNew();
        for (int pass = 0; pass < 2 || warm.Elapsed.TotalSeconds < Math.Min(1.0, seconds / 10); pass++)
        {
            allowed += Loop(policy, subjects, actions, resources, contexts);
        }

        long decisions = 0;
        long bytesBefore = GC.GetAllocatedBytesForCurrentThread();
        var timer = Stopwatch.StartNew();
        do
        {
            allowed += Loop(policy, subjects, actions, resources, contexts);
            decisions += subjects.Length;
        }
        while (timer.Elapsed.TotalSeconds < seconds);

        timer.Stop();
        long bytes = GC.GetAllocatedBytesForCurrentThread() - bytesBefore;
        GC.KeepAlive(allowed);
        console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{{\"ns_per_decision\":{timer.Elapsed.TotalNanoseconds / decisions:0.###},\"bytes_per_decision\":{(double)bytes / decisions:0.###},\"decisions\":{decisions},\"load_ms\":{loadMs:0.###}}}"));
        return AirbacCli.ExitOk;
    }

    /// <summary>
    /// Subjects built per request: alternating passes of building alone and building plus deciding, half the time each;
    /// the decision's figures are the difference (the same figure as the SubjectPerRequestBenchmarks pair).
    /// </summary>
    private static int PerRequest(CliConsole console, CompiledPolicy policy, Subject[] subjects, string[] actions, ResourceRequest[] resources, RequestContext?[] contexts, double seconds, double loadMs)
    {
        int sink = 0;
        var warm = Stopwatch.StartNew();
        for (int pass = 0; pass < 2 || warm.Elapsed.TotalSeconds < Math.Min(1.0, seconds / 10); pass++)
        {
            sink += BuildLoop(policy, subjects, actions, resources, contexts, decide: true) + BuildLoop(policy, subjects, actions, resources, contexts, decide: false);
        }

        long passes = 0, decideTicks = 0, buildTicks = 0, decideBytes = 0, buildBytes = 0;
        var total = Stopwatch.StartNew();
        do
        {
            long bytes = GC.GetAllocatedBytesForCurrentThread();
            long start = Stopwatch.GetTimestamp();
            sink += BuildLoop(policy, subjects, actions, resources, contexts, decide: true);
            long middle = Stopwatch.GetTimestamp();
            long middleBytes = GC.GetAllocatedBytesForCurrentThread();
            sink += BuildLoop(policy, subjects, actions, resources, contexts, decide: false);
            decideTicks += middle - start;
            buildTicks += Stopwatch.GetTimestamp() - middle;
            decideBytes += middleBytes - bytes;
            buildBytes += GC.GetAllocatedBytesForCurrentThread() - middleBytes;
            passes++;
        }
        while (total.Elapsed.TotalSeconds < seconds);

        GC.KeepAlive(sink);
        long decisions = passes * subjects.Length;
        double nsPerTick = 1e9 / Stopwatch.Frequency;
        double build = buildTicks * nsPerTick / decisions;
        double decide = (decideTicks * nsPerTick / decisions) - build;
        console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{{\"ns_per_decision\":{decide:0.###},\"bytes_per_decision\":{(double)(decideBytes - buildBytes) / decisions:0.###},\"decisions\":{decisions},\"load_ms\":{loadMs:0.###},\"build_ns_per_request\":{build:0.###},\"build_bytes_per_request\":{(double)buildBytes / decisions:0.###}}}"));
        return AirbacCli.ExitOk;
    }

    private static int BuildLoop(CompiledPolicy policy, Subject[] subjects, string[] actions, ResourceRequest[] resources, RequestContext?[] contexts, bool decide)
    {
        int result = 0;
        for (int i = 0; i < subjects.Length; i++)
        {
            var subject = Rebuild(subjects[i]);
            result += decide ? (policy.Authorize(subject, actions[i], in resources[i], contexts[i]).Allowed ? 1 : 0) : subject.Id.Length;
        }

        return result;
    }

    // A new subject with the same id, kind, bindings and chain, as a service builds from a request's claims.
    private static Subject Rebuild(Subject s) => new(s.Id, s.Kind, s.Roles, s.OnBehalfOf is null ? null : Rebuild(s.OnBehalfOf));

    private static int Loop(CompiledPolicy policy, Subject[] subjects, string[] actions, ResourceRequest[] resources, RequestContext?[] contexts)
    {
        int allowed = 0;
        for (int i = 0; i < subjects.Length; i++)
        {
            if (policy.Authorize(subjects[i], actions[i], in resources[i], contexts[i]).Allowed)
            {
                allowed++;
            }
        }

        return allowed;
    }
}
