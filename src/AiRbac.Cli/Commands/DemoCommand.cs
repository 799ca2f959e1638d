using System.CommandLine;
using System.Globalization;
using System.Text;
using AiRbac.Requests;
using AiRbac.Yaml;

namespace AiRbac.Cli.Commands;

/// <summary><c>airbac demo</c>: decides embedded requests against an embedded GenAI-platform policy and prints a table.</summary>
internal static class DemoCommand
{
    /// <summary>The source name of the embedded policy in explanations.</summary>
    public const string PolicyName = "demo-policy.yaml";

    public static Command Create(CliConsole console)
    {
        var printPolicy = new Option<bool>("--print-policy") { Description = "Print the embedded demo policy (YAML) instead of running the demo." };
        var printRequests = new Option<bool>("--print-requests") { Description = "Print the embedded demo requests (JSON Lines) instead of running the demo." };
        var command = new Command("demo", "Run the embedded demo: an enterprise GenAI platform policy (data scientists, ML engineers, clinicians, admins, agents, a PHI dataset, a deny-listed tool) against requests that show every decision reason.")
        {
            printPolicy,
            printRequests,
        };
        command.SetAction(parsed =>
        {
            if (parsed.GetValue(printPolicy))
            {
                console.Out.Write(Resource(PolicyName));
                return AirbacCli.ExitOk;
            }

            if (parsed.GetValue(printRequests))
            {
                console.Out.Write(Resource("demo-requests.jsonl"));
                return AirbacCli.ExitOk;
            }

            return Run(console);
        });
        return command;
    }

    /// <summary>An embedded demo file.</summary>
    public static string Resource(string name)
    {
        using var stream = typeof(DemoCommand).Assembly.GetManifestResourceStream("AiRbac.Cli.Demo." + name)
            ?? throw new InvalidOperationException($"embedded resource {name} is missing from the build");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    private static int Run(CliConsole console)
    {
        var compilation = YamlPolicy.Compile(Resource(PolicyName), PolicyName);
        if (compilation.Policy is not { } policy)
        {
            PolicyFiles.ReportRejected(PolicyName, compilation.Diagnostics, console.Error);
            return AirbacCli.ExitUsage;
        }

        var rows = new List<(string Request, Decision Decision)>();
        using (var reader = new StringReader(Resource("demo-requests.jsonl")))
        {
            foreach (var (_, request) in RequestCorpus.Read(reader))
            {
                rows.Add((Describe(request), request.AuthorizeWith(policy)));
            }
        }

        var output = console.Out;
        output.WriteLine($"AiRbac demo: {rows.Count} requests against the embedded policy {PolicyName} ({policy.Roles.Count} roles).");
        output.WriteLine("See the policy with 'airbac demo --print-policy', the requests with 'airbac demo --print-requests'.");
        output.WriteLine();
        int width = Math.Max("request".Length, rows.Max(r => r.Request.Length));
        int reasonWidth = rows.Max(r => r.Decision.ReasonName.Length);
        output.WriteLine($" #  {"request".PadRight(width)}  decision  reason");
        output.WriteLine($" -- {new string('-', width)}  --------  {new string('-', reasonWidth)}");
        for (int i = 0; i < rows.Count; i++)
        {
            var (request, decision) = rows[i];
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{i + 1,2}  {request.PadRight(width)}  {(decision.Allowed ? "ALLOW" : "DENY"),-8}  {decision.ReasonName}"));
            output.WriteLine($"    {decision.Explain()}");
        }

        output.WriteLine();
        var reasons = rows.Select(r => r.Decision.ReasonName).Distinct().ToList();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{rows.Count(r => r.Decision.Allowed)} allowed, {rows.Count(r => !r.Decision.Allowed)} denied; reasons shown: {string.Join(", ", reasons)}."));
        return AirbacCli.ExitOk;
    }

    private static string Describe(AuthorizationRequest request)
    {
        var text = new StringBuilder();
        AppendSubject(text, request.Subject);
        text.Append(' ').Append(request.Action).Append(' ').Append(request.Resource.Name);
        var resource = request.Resource;
        if (resource.Sensitivity is not null)
        {
            text.Append(" [tier ").Append(resource.Sensitivity).Append(']');
        }

        if (resource.Owner is not null)
        {
            text.Append(" [owner ").Append(resource.Owner).Append(']');
        }

        return text.ToString();
    }

    private static void AppendSubject(StringBuilder text, Subject subject)
    {
        text.Append(subject.Id.Length == 0 ? "(no id)" : subject.Id);
        if (subject.OnBehalfOf is { } principal)
        {
            text.Append(" for ");
            AppendSubject(text, principal);
        }
    }
}
