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
        var command = new Command("bench", "Time Authorize on a corpus: parse every request first, warm up, then loop over the corpus for N seconds. Prints one JSON line: ns_per_decision, bytes_per_decision, decisions, load_ms.")
        {
            policy,
            requests,
            seconds,
        };
        command.SetAction(parsed => Execute(console, parsed.GetValue(policy)!, parsed.GetValue(requests)!, parsed.GetValue(seconds)));
        return command;
    }

    private static int Execute(CliConsole console, string policyPath, string corpus, double seconds)
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
        int allowed = 0;

        // Warm-up: every subject resolved, the JIT at its final tier (about a tenth of the run, at least two passes).
        var warm = Stopwatch.StartNew();
        for (int pass = 0; pass < 2 || warm.Elapsed.TotalSeconds < Math.Min(1.0, seconds / 10); pass++)
        {
            allowed += Loop(policy, subjects, actions, resources);
        }

        long decisions = 0;
        long bytesBefore = GC.GetAllocatedBytesForCurrentThread();
        var timer = Stopwatch.StartNew();
        do
        {
            allowed += Loop(policy, subjects, actions, resources);
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

    private static int Loop(CompiledPolicy policy, Subject[] subjects, string[] actions, ResourceRequest[] resources)
    {
        int allowed = 0;
        for (int i = 0; i < subjects.Length; i++)
        {
            if (policy.Authorize(subjects[i], actions[i], in resources[i]).Allowed)
            {
                allowed++;
            }
        }

        return allowed;
    }
}
