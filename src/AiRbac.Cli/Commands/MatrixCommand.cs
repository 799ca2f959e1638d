using System.CommandLine;
using System.Net;
using System.Text;

namespace AiRbac.Cli.Commands;

/// <summary><c>airbac matrix POLICY [--format md|csv|html]</c>: the access-control matrix; exit 0 (2 for usage or a bad policy).</summary>
internal static class MatrixCommand
{
    private static readonly string[] Columns = ["role", "effect", "action", "resource", "via", "max_sensitivity", "clearances", "kinds"];

    public static Command Create(CliConsole console)
    {
        var policy = new Argument<string>("POLICY") { Description = "The policy YAML file." };
        var format = new Option<string>("--format") { Description = "Output format.", DefaultValueFactory = _ => "md", HelpName = "md|csv|html" };
        format.AcceptOnlyFromAmong("md", "csv", "html");
        var command = new Command("matrix", "Print the access-control matrix: every role with each grant and deny it has (inheritance resolved, with the declaring role), and the ceilings, clearances and kinds that apply.")
        {
            policy,
            format,
        };
        command.SetAction(parsed =>
        {
            var loaded = PolicyFiles.LoadForUse(parsed.GetValue(policy)!, console.Error);
            if (loaded is null)
            {
                return AirbacCli.ExitUsage;
            }

            var compiled = loaded.Policy!;
            string text = parsed.GetValue(format) switch
            {
                "csv" => Csv(compiled),
                "html" => Html(compiled),
                _ => Markdown(compiled),
            };
            console.Out.Write(text);
            return AirbacCli.ExitOk;
        });
        return command;
    }

    private static IEnumerable<string[]> Rows(CompiledPolicy policy)
    {
        foreach (var role in policy.Roles)
        {
            bool any = false;
            foreach (var rule in EffectiveRoles.Rules(policy, role))
            {
                any = true;
                yield return
                [
                    role.Name, rule.Effect, rule.Action, rule.Resource, rule.Via == role.Name ? "" : rule.Via,
                    rule.Effect == "allow" ? rule.MaxSensitivity : "", rule.Effect == "allow" ? string.Join(" ", rule.Clearances) : "",
                    EffectiveRoles.KindsText(role),
                ];
            }

            if (!any)
            {
                yield return [role.Name, "", "", "", "", "", "", EffectiveRoles.KindsText(role)];
            }
        }
    }

    private static string Markdown(CompiledPolicy policy)
    {
        var text = new StringBuilder();
        text.Append("# Access-control matrix: ").Append(MarkdownCell(policy.Source)).Append("\n\n");
        text.Append("Tiers, lowest first: ").Append(MarkdownCell(string.Join(" < ", policy.Tiers)))
            .Append(". Unclassified resources: ").Append(MarkdownCell(policy.DefaultSensitivity)).Append(".\n\n");
        text.Append("## Roles\n\n| role | inherits | kinds | max_sensitivity | clearances | grants | denies |\n|---|---|---|---|---|---|---|\n");
        foreach (var role in policy.Roles)
        {
            text.Append("| ").Append(MarkdownCell(role.Name))
                .Append(" | ").Append(MarkdownCell(string.Join(", ", role.Ancestors)))
                .Append(" | ").Append(MarkdownCell(EffectiveRoles.KindsText(role)))
                .Append(" | ").Append(MarkdownCell(role.MaxSensitivity))
                .Append(" | ").Append(MarkdownCell(string.Join(", ", role.Clearances)))
                .Append(" | ").Append(role.Allow.Count)
                .Append(" | ").Append(role.Deny.Count).Append(" |\n");
        }

        text.Append("\n## Grants and denies (inheritance resolved)\n\n");
        text.Append("| ").Append(string.Join(" | ", Columns)).Append(" |\n|").Append(string.Concat(Enumerable.Repeat("---|", Columns.Length))).Append('\n');
        foreach (string[] row in Rows(policy))
        {
            text.Append("| ").Append(string.Join(" | ", row.Select(MarkdownCell))).Append(" |\n");
        }

        return text.ToString();
    }

    // Backticks keep glob characters literal in rendered Markdown; pipes and newlines would break the table.
    private static string MarkdownCell(string value)
        => value.Length == 0 ? "" : "`" + value.Replace("`", "'", StringComparison.Ordinal).Replace("|", "\\|", StringComparison.Ordinal)
            .Replace("\r", " ", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal) + "`";

    private static string Csv(CompiledPolicy policy)
    {
        var text = new StringBuilder();
        text.Append(string.Join(",", Columns)).Append("\r\n");
        foreach (string[] row in Rows(policy))
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

    private static string Html(CompiledPolicy policy)
    {
        static string E(string value) => WebUtility.HtmlEncode(value);
        var text = new StringBuilder();
        text.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Access-control matrix: ").Append(E(policy.Source)).Append("</title>\n");
        text.Append("<style>\nbody{font-family:system-ui,sans-serif;margin:2em;color:#222}\ntable{border-collapse:collapse;margin-bottom:2em}\n")
            .Append("th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}\nth{background:#f0f0f0;position:sticky;top:0}\n")
            .Append("code{font-family:ui-monospace,monospace}\ntr.deny td{background:#fdecea}\ntr.allow td.effect{color:#1a7f37}\ntr.deny td.effect{color:#b42318;font-weight:bold}\n</style>\n</head>\n<body>\n");
        text.Append("<h1>Access-control matrix: <code>").Append(E(policy.Source)).Append("</code></h1>\n");
        text.Append("<p>Tiers, lowest first: ").Append(E(string.Join(" < ", policy.Tiers))).Append(". Unclassified resources: ")
            .Append(E(policy.DefaultSensitivity)).Append(". An inherited grant is judged with the ceiling and clearances of the role that declares it (<em>via</em>).</p>\n");
        text.Append("<h2>Roles</h2>\n<table>\n<tr><th>role</th><th>inherits</th><th>kinds</th><th>max_sensitivity</th><th>clearances</th><th>grants</th><th>denies</th></tr>\n");
        foreach (var role in policy.Roles)
        {
            text.Append("<tr><td><code>").Append(E(role.Name)).Append("</code></td><td>").Append(E(string.Join(", ", role.Ancestors)))
                .Append("</td><td>").Append(E(EffectiveRoles.KindsText(role))).Append("</td><td>").Append(E(role.MaxSensitivity))
                .Append("</td><td>").Append(E(string.Join(", ", role.Clearances))).Append("</td><td>").Append(role.Allow.Count)
                .Append("</td><td>").Append(role.Deny.Count).Append("</td></tr>\n");
        }

        text.Append("</table>\n<h2>Grants and denies (inheritance resolved)</h2>\n<table>\n<tr>");
        foreach (string column in Columns)
        {
            text.Append("<th>").Append(E(column)).Append("</th>");
        }

        text.Append("</tr>\n");
        foreach (string[] row in Rows(policy))
        {
            text.Append("<tr class=\"").Append(row[1] == "deny" ? "deny" : "allow").Append("\">");
            for (int i = 0; i < row.Length; i++)
            {
                text.Append(i == 1 ? "<td class=\"effect\">" : "<td>");
                text.Append(i is 2 or 3 && row[i].Length > 0 ? "<code>" + E(row[i]) + "</code>" : E(row[i])).Append("</td>");
            }

            text.Append("</tr>\n");
        }

        text.Append("</table>\n</body>\n</html>\n");
        return text.ToString();
    }
}
