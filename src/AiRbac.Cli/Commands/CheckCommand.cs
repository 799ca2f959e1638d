using System.CommandLine;
using System.Text;
using AiRbac.Diagnostics;
using AiRbac.Requests;

namespace AiRbac.Cli.Commands;

/// <summary>
/// <c>airbac check POLICY --requests FILE|-</c> (a corpus: one decision line each; exit 0, or 2 for a bad
/// policy or bad line) and <c>airbac check POLICY --subject ID ... --action A --resource R</c> (one request
/// explained; exit 0 allowed, 1 denied, 2 usage).
/// </summary>
internal static class CheckCommand
{
    public static Command Create(CliConsole console)
    {
        var policy = new Argument<string>("POLICY") { Description = "The policy YAML file." };
        var requests = new Option<string>("--requests") { Description = "Decide every request of a JSON Lines corpus, one object a line: {\"subject\",\"kind\",\"roles\",\"action\",\"resource\",\"scope\",\"sensitivity\",\"tags\",\"owner\",\"on_behalf_of\"} (action and resource required); writes one decision line each. '-' reads standard input.", HelpName = "FILE" };
        var subject = new Option<string>("--subject") { Description = "Single request: the subject id.", HelpName = "ID" };
        var kind = new Option<string>("--kind") { Description = "The subject kind (default: from the policy's bindings, else user).", HelpName = "K" };
        kind.AcceptOnlyFromAmong([.. SubjectKinds.AllNames]);
        var role = new Option<string[]>("--role") { Description = "A role the subject holds (repeatable). Without any, the policy's bindings for the subject are used.", HelpName = "R" };
        var action = new Option<string>("--action") { Description = "The action, namespace:verb.", HelpName = "A" };
        var resource = new Option<string>("--resource") { Description = "The resource, type:name.", HelpName = "R" };
        var sensitivity = new Option<string>("--sensitivity") { Description = "The resource's sensitivity tier as the caller knows it.", HelpName = "T" };
        var tag = new Option<string[]>("--tag") { Description = "A tag of the resource (repeatable).", HelpName = "T" };
        var scope = new Option<string>("--scope") { Description = "The resource's scope, a/b/c.", HelpName = "S" };
        var owner = new Option<string>("--owner") { Description = "The resource's owner (for the two-person rule).", HelpName = "O" };
        var now = new Option<string>("--now") { Description = "Decide as of this time, RFC 3339 with Z or an offset (2026-07-01T00:00:00Z); default: the current time. Expiring bindings (expires) are in effect while this time is before their expiry.", HelpName = "TIME" };
        var command = new Command("check", "Decide requests. With --requests: one decision JSON line per request line (exit 0; 2 for a bad policy or a bad line). With --subject/--action/--resource: one request, explained (exit 0 allowed, 1 denied, 2 usage). A decision line may add fields saying which request field was invalid, which on-behalf-of link was denied, and which roles are not declared (with 'did you mean'); see docs/request-lines.md.")
        {
            policy, requests, subject, kind, role, action, resource, sensitivity, tag, scope, owner, now,
        };
        command.SetAction(parsed =>
        {
            string policyPath = parsed.GetValue(policy)!;
            string? corpus = parsed.GetValue(requests);
            PolicyCompilerOptions? options = null;
            if (parsed.GetValue(now) is { } nowText)
            {
                if (!Rfc3339.TryParse(nowText, out var instant))
                {
                    throw new UsageException($"--now: '{UnsafeText.Escape(nowText)}' is not an RFC 3339 date-time with Z or an offset (2026-07-01T00:00:00Z)");
                }

                options = new PolicyCompilerOptions { TimeProvider = new FixedClock(instant) };
            }

            bool single = parsed.GetResult(subject) is not null || parsed.GetResult(action) is not null || parsed.GetResult(resource) is not null
                || parsed.GetResult(kind) is not null || parsed.GetResult(role) is not null || parsed.GetResult(sensitivity) is not null
                || parsed.GetResult(tag) is not null || parsed.GetResult(scope) is not null || parsed.GetResult(owner) is not null;
            if (corpus is not null)
            {
                if (single)
                {
                    throw new UsageException("--requests cannot be combined with the single-request options (--subject, --action, --resource, ...)");
                }

                return CheckCorpus(console, policyPath, corpus, options);
            }

            string? subjectId = parsed.GetValue(subject);
            string? actionName = parsed.GetValue(action);
            string? resourceName = parsed.GetValue(resource);
            if (subjectId is null || actionName is null || resourceName is null)
            {
                throw new UsageException("give --requests FILE, or --subject, --action and --resource for a single request");
            }

            SubjectKind? subjectKind = SubjectKinds.TryParse(parsed.GetValue(kind), out var given) ? given : null;
            string[] roles = parsed.GetValue(role) ?? [];
            var request = new AuthorizationRequest(
                new Subject(subjectId, subjectKind, roles.Length == 0 ? null : roles.Select(r => new RoleBinding(r))),
                actionName,
                new ResourceRequest(resourceName)
                {
                    Sensitivity = parsed.GetValue(sensitivity),
                    Tags = parsed.GetValue(tag) ?? [],
                    Scope = parsed.GetValue(scope),
                    Owner = parsed.GetValue(owner),
                });
            return CheckOne(console, policyPath, request, options);
        });
        return command;
    }

    private static int CheckOne(CliConsole console, string policyPath, AuthorizationRequest request, PolicyCompilerOptions? options)
    {
        var loaded = PolicyFiles.LoadForUse(policyPath, console.Error, options);
        if (loaded is null)
        {
            return AirbacCli.ExitUsage;
        }

        var decision = request.AuthorizeWith(loaded.Policy!);
        var details = new DecisionDetails(loaded.Policy!).For(request, decision);
        var line = new StringBuilder(RequestJson.FormatDecision(decision));
        DecisionDetails.AppendJson(line, details);
        console.Out.WriteLine(line.ToString());
        console.Out.WriteLine(decision.Explain());
        foreach (string detail in DecisionDetails.Lines(details))
        {
            console.Out.WriteLine(detail);
        }

        return decision.Allowed ? AirbacCli.ExitOk : AirbacCli.ExitNegative;
    }

    private static int CheckCorpus(CliConsole console, string policyPath, string corpusPath, PolicyCompilerOptions? options)
    {
        var loaded = PolicyFiles.LoadForUse(policyPath, console.Error, options);
        if (loaded is null)
        {
            return AirbacCli.ExitUsage;
        }

        var policy = loaded.Policy!;
        var explainer = new DecisionDetails(policy);
        var line = new StringBuilder(256);
        var reader = RequestCorpus.Open(corpusPath, console.In);
        try
        {
            foreach (var (_, request) in RequestCorpus.Read(reader))
            {
                var decision = request.AuthorizeWith(policy);
                RequestJson.WriteDecision(decision, line);
                DecisionDetails.AppendJson(line, explainer.For(request, decision));
                line.Append('\n');
                console.Out.Write(line);
                line.Clear();
            }
        }
        catch (BadInputLineException e)
        {
            console.Out.Flush();
            console.Error.WriteLine($"error: {corpusPath}: {e.Message}");
            return AirbacCli.ExitUsage;
        }
        finally
        {
            if (!ReferenceEquals(reader, console.In))
            {
                reader.Dispose();
            }
        }

        return AirbacCli.ExitOk;
    }
}
