using System.CommandLine;
using AiRbac.Review;

namespace AiRbac.Cli.Commands;

/// <summary>
/// <c>airbac review POLICY --audit FILE|- [--since DURATION] [--now TIME] [--json]</c>: access review from a decision
/// audit log; exit 0 (2 for usage, a missing file, a bad policy or a malformed audit line).
/// </summary>
internal static class ReviewCommand
{
    public static Command Create(CliConsole console)
    {
        var policy = new Argument<string>("POLICY") { Description = "The policy YAML file." };
        var audit = new Option<string>("--audit") { Description = "The decision audit log (JSON Lines, one record per line); '-' reads standard input.", HelpName = "FILE", Required = true };
        var since = new Option<string>("--since") { Description = "The review window: a grant not used within it is unused. A count and a unit: m, h, d or w (90d, 12h, 30m, 2w).", HelpName = "DURATION", DefaultValueFactory = _ => "90d" };
        var now = new Option<string>("--now") { Description = "The review time, RFC 3339 (default: the current time); for reproducible reports.", HelpName = "TIME" };
        var json = new Option<bool>("--json") { Description = "Print JSON instead of Markdown." };
        var command = new Command("review", "Access review from an audit log: grants never or not recently used, per role and per subject; holders of high-risk roles; subjects breaking mutually_exclusive. Markdown, or JSON with --json.")
        {
            policy, audit, since, now, json,
        };
        command.SetAction(parsed =>
        {
            string sinceText = parsed.GetValue(since)!;
            if (!Duration.TryParse(sinceText, out var window))
            {
                throw new UsageException($"--since: '{sinceText}' is not a duration (a positive count and a unit m, h, d or w: 90d, 12h, 30m, 2w)");
            }

            var reviewTime = DateTimeOffset.UtcNow;
            if (parsed.GetValue(now) is { } nowText && !Rfc3339.TryParse(nowText, out reviewTime))
            {
                throw new UsageException($"--now: '{nowText}' is not an RFC 3339 date-time (2026-05-01T00:00:00Z)");
            }

            string auditPath = parsed.GetValue(audit)!;
            if (auditPath != "-")
            {
                PolicyFiles.RequireFile(auditPath);
            }

            var loaded = PolicyFiles.LoadForUse(parsed.GetValue(policy)!, console.Error);
            if (loaded is null)
            {
                return AirbacCli.ExitUsage;
            }

            var reviewer = new AccessReviewer(loaded.Policy!);
            var reader = RequestCorpus.Open(auditPath, console.In);
            AccessReviewReport report;
            try
            {
                report = reviewer.Review(reader, reviewTime, window, auditPath == "-" ? "standard input" : auditPath);
            }
            catch (AuditLogFormatException e)
            {
                console.Error.WriteLine($"error: {auditPath}: {e.Message}");
                return AirbacCli.ExitUsage;
            }
            finally
            {
                if (!ReferenceEquals(reader, console.In))
                {
                    reader.Dispose();
                }
            }

            console.Out.Write(parsed.GetValue(json) ? report.ToJson() : report.ToMarkdown());
            return AirbacCli.ExitOk;
        });
        return command;
    }
}
