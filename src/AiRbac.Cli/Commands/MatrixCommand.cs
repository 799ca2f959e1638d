using System.CommandLine;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using AiRbac.Model;

namespace AiRbac.Cli.Commands;

/// <summary>
/// <c>airbac matrix POLICY [--format md|csv|html] [--now TIME]</c>: the access-control matrix with its risk flags, catalog,
/// holders, constraints and provenance; exit 0 (2 for usage or a bad policy).
/// </summary>
internal static class MatrixCommand
{
    private static readonly string[] Columns = ["role", "effect", "action", "resource", "via", "max_sensitivity", "clearances", "kinds", "risk"];

    public static Command Create(CliConsole console)
    {
        var policy = new Argument<string>("POLICY") { Description = "The policy YAML file." };
        var format = new Option<string>("--format") { Description = "Output format.", DefaultValueFactory = _ => "md", HelpName = "md|csv|html" };
        format.AcceptOnlyFromAmong("md", "csv", "html");
        var now = new Option<string>("--now") { Description = "The generation time printed in the report, RFC 3339 (default: the current time); for reproducible output.", HelpName = "TIME" };
        var command = new Command("matrix", "Print the access-control matrix: risk flags (everything-grants, highest ceilings, PHI/PII clearances), every role with its effective grants and denies (inheritance resolved, with the declaring role), its holders among the policy's subjects, the resource catalog, the constraints, and the policy's SHA-256 and the generation time.")
        {
            policy,
            format,
            now,
        };
        command.SetAction(parsed =>
        {
            string path = parsed.GetValue(policy)!;
            var generated = DateTimeOffset.UtcNow;
            if (parsed.GetValue(now) is { } nowText && !Rfc3339.TryParse(nowText, out generated))
            {
                throw new UsageException($"--now: '{nowText}' is not an RFC 3339 date-time (2026-05-01T00:00:00Z)");
            }

            var loaded = PolicyFiles.LoadForUse(path, console.Error);
            if (loaded is null)
            {
                return AirbacCli.ExitUsage;
            }

            var report = new Report(loaded, Sha256Hex(path), generated);
            string text = parsed.GetValue(format) switch
            {
                "csv" => Csv(report),
                "html" => Html(report),
                _ => Markdown(report),
            };
            console.Out.Write(text);
            return AirbacCli.ExitOk;
        });
        return command;
    }

    private static string Sha256Hex(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>Everything the matrix shows, computed once for every format.</summary>
    private sealed class Report
    {
        public Report(PolicyCompilation loaded, string sha256, DateTimeOffset generated)
        {
            Policy = loaded.Policy!;
            Document = loaded.Document!;
            Sha256 = sha256;
            Generated = Rfc3339.Format(generated.ToUniversalTime());
            GeneratedAt = generated;
            Subjects = HeldRoles.Of(Policy);
            Flags = Policy.Roles.ToDictionary(r => r.Name, r => RoleRisk.Flags(Policy, r), StringComparer.Ordinal);
            foreach (var subject in Subjects)
            {
                foreach (var held in subject.Roles)
                {
                    if (!holders.TryGetValue(held.Role, out var list))
                    {
                        holders[held.Role] = list = [];
                    }

                    list.Add(subject.Id + (held.Through == held.Role ? "" : $" (through {held.Through})") + held.Conditions);
                }
            }
        }

        // Role name -> its holders, each with how and when it holds the role.
        private readonly Dictionary<string, List<string>> holders = new(StringComparer.Ordinal);

        public CompiledPolicy Policy { get; }

        public PolicyDocument Document { get; }

        public string Sha256 { get; }

        public string Generated { get; }

        public DateTimeOffset GeneratedAt { get; }

        public IReadOnlyList<SubjectRoles> Subjects { get; }

        public Dictionary<string, IReadOnlyList<string>> Flags { get; }

        public string HighestTier => Policy.Tiers[^1];

        /// <summary>The holders of a role: each subject with how it holds it (<c>through</c> the bound role) and the binding's conditions.</summary>
        public IReadOnlyList<string> Holders(RoleInfo role) => holders.TryGetValue(role.Name, out var list) ? list : [];

        public int Count(RoleInfo role, string effect) => EffectiveRoles.Rules(Policy, role).Count(r => r.Effect == effect);

        /// <summary>The catalog entries: match, tier, tags, and what makes the entry sensitive.</summary>
        public IEnumerable<string[]> Catalog()
        {
            foreach (var entry in Document.Resources)
            {
                string tier = entry.Sensitivity?.Value ?? Policy.DefaultSensitivity;
                var tags = entry.Tags.Select(t => t.Value).ToList();
                var notes = new List<string>();
                if (tier == HighestTier)
                {
                    notes.Add("highest tier");
                }

                notes.AddRange(tags.Select(RoleRisk.TagLabel));
                yield return [entry.Match.Value, tier, string.Join(", ", tags), string.Join(", ", notes)];
            }
        }

        /// <summary>
        /// The constraints, one line each (kinds, version 2's context keys, conditions, break-glass roles and approval rules,
        /// mutually_exclusive, not_by_owner, min_holders, scoped and expiring bindings).
        /// </summary>
        public IEnumerable<(string What, string Detail)> Constraints()
        {
            foreach (var role in Policy.Roles.Where(r => r.Kinds is not null))
            {
                yield return ("kinds", $"{role.Name}: only {EffectiveRoles.KindsText(role)}");
            }

            foreach (var key in Document.Context ?? [])
            {
                yield return ("context", $"{key.Name.Value}: {key.Type.Value}");
            }

            foreach (var role in Policy.Roles.Where(r => r.Conditions.Count > 0))
            {
                yield return ("conditions", $"{role.Name}: {string.Join("; ", role.Conditions)} (grants only while all hold; its denies always apply)");
            }

            foreach (var role in Policy.Roles.Where(r => r.IsBreakGlass))
            {
                var roleHolders = Holders(role);
                yield return ("break_glass", $"{role.Name}: grants only while activated, for at most {Duration.Format(role.MaxActivation!.Value)}"
                    + (roleHolders.Count == 0 ? "" : $" (can activate: {string.Join(", ", roleHolders)})"));
            }

            foreach (var rule in Policy.ApprovalRules)
            {
                var approvers = Policy.Approvers(rule, GeneratedAt);
                yield return ("approval", $"{rule.Name}: {string.Join(", ", rule.Match)} needs {rule.Count} distinct approver(s) holding {string.Join(", ", rule.Approvers.Select(r => r.Name))}, valid for {Duration.Format(rule.ValidFor)}"
                    + $" (policy subjects who can approve: {(approvers.Count == 0 ? "none" : string.Join(", ", approvers))})");
            }

            foreach (var set in Document.Constraints.MutuallyExclusive)
            {
                var names = set.Roles.Select(r => Policy.FindRole(r.Value)?.Name).OfType<string>().ToHashSet(StringComparer.Ordinal);
                var together = Subjects.Where(s => s.Roles.Select(h => h.Role).Distinct(StringComparer.Ordinal).Count(names.Contains) >= 2).Select(s => s.Id).ToList();
                yield return ("mutually_exclusive", string.Join(", ", set.Roles.Select(r => r.Value))
                    + (together.Count == 0 ? "" : $" (held together by: {string.Join(", ", together)})"));
            }

            foreach (var pattern in Document.Constraints.NotByOwner)
            {
                yield return ("not_by_owner", pattern.Value);
            }

            foreach (var minimum in Document.Constraints.MinHolders)
            {
                int holders = Policy.FindRole(minimum.Role.Value) is { } role ? Subjects.Count(s => s.Roles.Any(h => h.Role == role.Name)) : 0;
                yield return ("min_holders", $"{minimum.Role.Value}: {minimum.Count.Value} (policy subjects holding it: {holders})");
            }

            foreach (var subject in Subjects)
            {
                foreach (var held in subject.Roles.Where(h => h.Scope is not null || h.Expires is not null))
                {
                    yield return (held.Scope is null ? "expiry" : held.Expires is null ? "scope" : "scope, expiry", $"{subject.Id}: {held.Text}");
                }
            }
        }
    }

    private static IEnumerable<string[]> Rows(Report report)
    {
        var policy = report.Policy;
        foreach (var role in policy.Roles)
        {
            bool any = false;
            foreach (var rule in EffectiveRoles.Rules(policy, role))
            {
                any = true;
                bool allow = rule.Effect == "allow";
                yield return
                [
                    role.Name, rule.Effect, rule.Action, rule.Resource, rule.Via == role.Name ? "" : rule.Via,
                    allow ? rule.MaxSensitivity : "", allow ? string.Join(" ", rule.Clearances) : "",
                    EffectiveRoles.KindsText(role), allow ? RuleRisk(report, rule) : "",
                ];
            }

            if (!any)
            {
                yield return [role.Name, "", "", "", "", "", "", EffectiveRoles.KindsText(role), ""];
            }
        }
    }

    /// <summary>What makes one grant risky: every action on every resource, the highest ceiling, clearances.</summary>
    private static string RuleRisk(Report report, EffectiveRule rule)
    {
        var flags = new List<string>();
        if (rule.Info.IsEverything)
        {
            flags.Add("grants everything");
        }

        if (rule.MaxSensitivity == report.HighestTier)
        {
            flags.Add("highest ceiling");
        }

        flags.AddRange(rule.Clearances.Select(tag => "clearance " + RoleRisk.TagLabel(tag)));
        return string.Join("; ", flags);
    }

    private static string Markdown(Report report)
    {
        var policy = report.Policy;
        var text = new StringBuilder();
        text.Append("# Access-control matrix: ").Append(MarkdownCell(policy.Source)).Append("\n\n");
        text.Append("Policy SHA-256: ").Append(MarkdownCell(report.Sha256)).Append(". Generated: ").Append(MarkdownCell(report.Generated)).Append(".\n\n");
        text.Append("Tiers, lowest first: ").Append(MarkdownCell(string.Join(" < ", policy.Tiers)))
            .Append(". Unclassified resources: ").Append(MarkdownCell(policy.DefaultSensitivity)).Append(".\n\n");

        text.Append("## Risk\n\n");
        var risky = policy.Roles.Where(r => report.Flags[r.Name].Count > 0).ToList();
        if (risky.Count == 0)
        {
            text.Append("No role grants everything or every action, reaches the highest tier, holds a clearance or has an admin-like name.\n\n");
        }
        else
        {
            text.Append("| role | risk | holders |\n|---|---|---|\n");
            foreach (var role in risky)
            {
                text.Append("| ").Append(MarkdownCell(role.Name)).Append(" | ").Append(MarkdownList(report.Flags[role.Name]))
                    .Append(" | ").Append(MarkdownList(report.Holders(role))).Append(" |\n");
            }

            text.Append('\n');
        }

        text.Append("## Roles\n\nGrants and denies are counted with inheritance resolved (own and inherited).\n\n");
        text.Append("| role | inherits | kinds | max_sensitivity | clearances | grants | denies | risk | holders |\n|---|---|---|---|---|---|---|---|---|\n");
        foreach (var role in policy.Roles)
        {
            text.Append("| ").Append(MarkdownCell(role.Name))
                .Append(" | ").Append(MarkdownCell(string.Join(", ", role.Ancestors)))
                .Append(" | ").Append(MarkdownCell(EffectiveRoles.KindsText(role)))
                .Append(" | ").Append(MarkdownCell(role.MaxSensitivity))
                .Append(" | ").Append(MarkdownCell(string.Join(", ", role.Clearances)))
                .Append(" | ").Append(report.Count(role, "allow"))
                .Append(" | ").Append(report.Count(role, "deny"))
                .Append(" | ").Append(MarkdownList(report.Flags[role.Name]))
                .Append(" | ").Append(MarkdownList(report.Holders(role))).Append(" |\n");
        }

        text.Append("\n## Catalog\n\nFirst match wins; resources no entry matches are ").Append(MarkdownCell(policy.DefaultSensitivity)).Append(".\n\n");
        var catalog = report.Catalog().ToList();
        if (catalog.Count == 0)
        {
            text.Append("No catalog entry.\n");
        }
        else
        {
            text.Append("| match | sensitivity | tags | sensitive |\n|---|---|---|---|\n");
            foreach (string[] row in catalog)
            {
                text.Append("| ").Append(string.Join(" | ", row.Select(MarkdownCell))).Append(" |\n");
            }
        }

        text.Append("\n## Constraints\n\n");
        var constraints = report.Constraints().ToList();
        if (constraints.Count == 0)
        {
            text.Append("No constraint.\n");
        }
        else
        {
            text.Append("| constraint | detail |\n|---|---|\n");
            foreach (var (what, detail) in constraints)
            {
                text.Append("| ").Append(what).Append(" | ").Append(MarkdownCell(detail)).Append(" |\n");
            }
        }

        text.Append("\n## Grants and denies (inheritance resolved)\n\n");
        text.Append("| ").Append(string.Join(" | ", Columns)).Append(" |\n|").Append(string.Concat(Enumerable.Repeat("---|", Columns.Length))).Append('\n');
        foreach (string[] row in Rows(report))
        {
            text.Append("| ").Append(string.Join(" | ", row.Select(MarkdownCell))).Append(" |\n");
        }

        return text.ToString();
    }

    private static string MarkdownList(IEnumerable<string> values) => string.Join(", ", values.Select(MarkdownCell));

    /// <summary>
    /// A Markdown table cell: the text as a code span, so glob characters render literally and every character of a
    /// name is kept (<c>a`b</c> and <c>a'b</c> stay two names). The fence is one backtick longer than the longest run of
    /// backticks in the text (CommonMark: a span's content may hold runs of any other length), with a space inside
    /// each end when the text starts or ends with a backtick, or starts and ends with a space (the one space CommonMark
    /// strips from each end). Pipes are escaped (<c>\|</c>, which GitHub-flavoured tables unescape inside code spans
    /// too); line breaks, which would end the row, become spaces.
    /// </summary>
    internal static string MarkdownCell(string value)
    {
        if (value.Length == 0)
        {
            return "";
        }

        int longest = 0;
        for (int i = 0, run = 0; i < value.Length; i++)
        {
            run = value[i] == '`' ? run + 1 : 0;
            longest = Math.Max(longest, run);
        }

        string fence = new('`', longest + 1);
        bool pad = value[0] == '`' || value[^1] == '`' || (value[0] == ' ' && value[^1] == ' ' && value.AsSpan().ContainsAnyExcept(' '));
        string body = value.Replace("|", "\\|", StringComparison.Ordinal)
            .Replace("\r", " ", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);
        return pad ? fence + " " + body + " " + fence : fence + body + fence;
    }

    private static string Csv(Report report)
    {
        var text = new StringBuilder();
        text.Append(string.Join(",", Columns)).Append("\r\n");
        foreach (string[] row in Rows(report))
        {
            text.Append(string.Join(",", row.Select(CsvCell))).Append("\r\n");
        }

        return text.ToString();
    }

    /// <summary>RFC 4180 quoting; a cell that a spreadsheet would read as a formula gets a leading apostrophe.</summary>
    internal static string CsvCell(string value)
    {
        if (value.Length > 0 && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
        {
            value = "'" + value;
        }

        return value.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
    }

    private static string Html(Report report)
    {
        static string E(string value) => WebUtility.HtmlEncode(value);
        static string Codes(IEnumerable<string> values) => string.Join(", ", values.Select(v => "<code>" + E(v) + "</code>"));
        static string Badges(IEnumerable<string> flags) => string.Concat(flags.Select(f => "<span class=\"flag\">" + E(f) + "</span> "));
        var policy = report.Policy;
        var text = new StringBuilder();
        text.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Access-control matrix: ").Append(E(policy.Source)).Append("</title>\n");
        text.Append("<style>\nbody{font-family:system-ui,sans-serif;margin:2em;color:#222}\ntable{border-collapse:collapse;margin-bottom:2em}\n")
            .Append("th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}\nth{background:#f0f0f0;position:sticky;top:0}\n")
            .Append("code{font-family:ui-monospace,monospace}\ntr.deny td{background:#fdecea}\ntr.allow td.effect{color:#1a7f37}\ntr.deny td.effect{color:#b42318;font-weight:bold}\n")
            .Append(".flag{display:inline-block;background:#b42318;color:#fff;border-radius:.3em;padding:0 .4em;margin:.1em 0;font-size:.9em}\n")
            .Append("tr.risky td{background:#fff4e5}\n.provenance{color:#555}\n</style>\n</head>\n<body>\n");
        text.Append("<h1>Access-control matrix: <code>").Append(E(policy.Source)).Append("</code></h1>\n");
        text.Append("<p class=\"provenance\" id=\"provenance\">Policy SHA-256: <code id=\"sha256\">").Append(E(report.Sha256))
            .Append("</code>. Generated: <time id=\"generated\">").Append(E(report.Generated)).Append("</time>.</p>\n");
        text.Append("<p>Tiers, lowest first: ").Append(E(string.Join(" < ", policy.Tiers))).Append(". Unclassified resources: ")
            .Append(E(policy.DefaultSensitivity)).Append(". An inherited grant is judged with the ceiling and clearances of the role that declares it (<em>via</em>).</p>\n");

        text.Append("<h2>Risk</h2>\n");
        var risky = policy.Roles.Where(r => report.Flags[r.Name].Count > 0).ToList();
        if (risky.Count == 0)
        {
            text.Append("<p>No role grants everything or every action, reaches the highest tier, holds a clearance or has an admin-like name.</p>\n");
        }
        else
        {
            text.Append("<table id=\"risk\">\n<tr><th>role</th><th>risk</th><th>holders</th></tr>\n");
            foreach (var role in risky)
            {
                text.Append("<tr class=\"risky\"><td><code>").Append(E(role.Name)).Append("</code></td><td>").Append(Badges(report.Flags[role.Name]))
                    .Append("</td><td>").Append(Codes(report.Holders(role))).Append("</td></tr>\n");
            }

            text.Append("</table>\n");
        }

        text.Append("<h2>Roles</h2>\n<p>Grants and denies are counted with inheritance resolved (own and inherited).</p>\n<table id=\"roles\">\n")
            .Append("<tr><th>role</th><th>inherits</th><th>kinds</th><th>max_sensitivity</th><th>clearances</th><th>grants</th><th>denies</th><th>risk</th><th>holders</th></tr>\n");
        foreach (var role in policy.Roles)
        {
            text.Append(report.Flags[role.Name].Count > 0 ? "<tr class=\"risky\">" : "<tr>")
                .Append("<td><code>").Append(E(role.Name)).Append("</code></td><td>").Append(E(string.Join(", ", role.Ancestors)))
                .Append("</td><td>").Append(E(EffectiveRoles.KindsText(role))).Append("</td><td>").Append(E(role.MaxSensitivity))
                .Append("</td><td>").Append(E(string.Join(", ", role.Clearances))).Append("</td><td>").Append(report.Count(role, "allow"))
                .Append("</td><td>").Append(report.Count(role, "deny")).Append("</td><td>").Append(Badges(report.Flags[role.Name]))
                .Append("</td><td>").Append(Codes(report.Holders(role))).Append("</td></tr>\n");
        }

        text.Append("</table>\n<h2>Catalog</h2>\n<p>First match wins; resources no entry matches are ").Append(E(policy.DefaultSensitivity)).Append(".</p>\n");
        var catalog = report.Catalog().ToList();
        if (catalog.Count == 0)
        {
            text.Append("<p>No catalog entry.</p>\n");
        }
        else
        {
            text.Append("<table id=\"catalog\">\n<tr><th>match</th><th>sensitivity</th><th>tags</th><th>sensitive</th></tr>\n");
            foreach (string[] row in catalog)
            {
                text.Append(row[3].Length > 0 ? "<tr class=\"risky\">" : "<tr>").Append("<td><code>").Append(E(row[0])).Append("</code></td><td>").Append(E(row[1]))
                    .Append("</td><td>").Append(E(row[2])).Append("</td><td>").Append(row[3].Length > 0 ? Badges(row[3].Split(", ")) : "").Append("</td></tr>\n");
            }

            text.Append("</table>\n");
        }

        text.Append("<h2>Constraints</h2>\n");
        var constraints = report.Constraints().ToList();
        if (constraints.Count == 0)
        {
            text.Append("<p>No constraint.</p>\n");
        }
        else
        {
            text.Append("<table id=\"constraints\">\n<tr><th>constraint</th><th>detail</th></tr>\n");
            foreach (var (what, detail) in constraints)
            {
                text.Append("<tr><td>").Append(E(what)).Append("</td><td><code>").Append(E(detail)).Append("</code></td></tr>\n");
            }

            text.Append("</table>\n");
        }

        text.Append("<h2>Grants and denies (inheritance resolved)</h2>\n<table id=\"rules\">\n<tr>");
        foreach (string column in Columns)
        {
            text.Append("<th>").Append(E(column)).Append("</th>");
        }

        text.Append("</tr>\n");
        foreach (string[] row in Rows(report))
        {
            text.Append("<tr class=\"").Append(row[1] == "deny" ? "deny" : row[^1].Length > 0 ? "allow risky" : "allow").Append("\">");
            for (int i = 0; i < row.Length; i++)
            {
                text.Append(i == 1 ? "<td class=\"effect\">" : "<td>");
                text.Append(i is 2 or 3 && row[i].Length > 0 ? "<code>" + E(row[i]) + "</code>"
                    : i == row.Length - 1 && row[i].Length > 0 ? Badges(row[i].Split("; ")) : E(row[i])).Append("</td>");
            }

            text.Append("</tr>\n");
        }

        text.Append("</table>\n</body>\n</html>\n");
        return text.ToString();
    }
}
