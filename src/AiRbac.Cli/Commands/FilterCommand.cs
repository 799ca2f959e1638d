using System.CommandLine;
using System.Globalization;
using System.Text;
using AiRbac.Cli.StoreFilters;
using AiRbac.Diagnostics;

namespace AiRbac.Cli.Commands;

/// <summary>
/// <c>airbac filter POLICY --subject ID [--kind K] [--role R ...] [--on-behalf-of ID ...] --action A [--now TIME]
/// [--format text|sql|expression] [--column FIELD=COLUMN ...]</c>: prints which resources the subject (and the subjects
/// it acts for) may perform the action on, as the policy filter <see cref="CompiledPolicy.FilterFor"/> builds it
/// (docs/retrieval.md): as text, or as its store filter (<see cref="PolicyFilter.ToStoreFilter{TRecord}"/> with the
/// PostgreSQL options) written as the condition of a PostgreSQL <c>WHERE</c> clause or as the C# predicate. Exit 0, or
/// 2 for usage, a bad policy, or a condition that cannot be printed.
/// </summary>
/// <remarks>
/// The SQL and C# writers live here, not in the core: only this tool prints a filter as text for a store; an
/// application hands the store filter's predicate to its store (EF Core, a VectorData connector), which translates it
/// with parameters. The writers read the predicate's documented shapes as any LINQ provider does and decide nothing
/// (docs/cli.md, `airbac filter`).
/// </remarks>
internal static class FilterCommand
{
    public static Command Create(CliConsole console)
    {
        var policy = new Argument<string>("POLICY") { Description = "The policy YAML file." };
        var subject = new Option<string>("--subject") { Description = "The subject id.", HelpName = "ID", Required = true };
        var kind = new Option<string>("--kind") { Description = "The subject kind (default: from the policy's bindings, else user).", HelpName = "K" };
        kind.AcceptOnlyFromAmong([.. SubjectKinds.AllNames]);
        var role = new Option<string[]>("--role") { Description = "A role the subject holds (repeatable). Without any, the policy's bindings for the subject are used.", HelpName = "R" };
        var onBehalfOf = new Option<string[]>("--on-behalf-of") { Description = "A subject the subject acts for, with its bindings from the policy (repeatable: the chain, in order).", HelpName = "ID" };
        var action = new Option<string>("--action") { Description = "The action, namespace:verb.", HelpName = "A", Required = true };
        var now = new Option<string>("--now") { Description = "Build the filter as of this time, RFC 3339 with Z or an offset; default: the current time.", HelpName = "TIME" };
        var format = new Option<string>("--format") { Description = "text: the filter's clauses; sql: the condition of a PostgreSQL WHERE clause over the columns name, scope, tier (text), tags (text[]) and owner; expression: the store filter's C# predicate.", DefaultValueFactory = _ => "text", HelpName = "text|sql|expression" };
        format.AcceptOnlyFromAmong("text", "sql", "expression");
        var column = new Option<string[]>("--column") { Description = "With --format sql: the column of a field (name, scope, tier, tags, owner), for example name=doc_name; FIELD= when the table has none (repeatable).", HelpName = "FIELD=COLUMN" };
        var command = new Command("filter", "Print the resources a subject (with the subjects it acts on behalf of) may perform an action on: the scope branches, each link's denies, owner rule and grants with their ceilings and clearances, and the catalog's classification (docs/retrieval.md); or, with --format sql or expression, the store filter as a PostgreSQL condition or a C# predicate.")
        {
            policy, subject, kind, role, onBehalfOf, action, now, format, column,
        };
        command.SetAction(parsed =>
        {
            string outputFormat = parsed.GetValue(format)!;
            string[] columnSpecs = parsed.GetValue(column) ?? [];
            if (columnSpecs.Length > 0 && outputFormat != "sql")
            {
                throw new UsageException("--column applies to --format sql only");
            }

            var columns = FilterColumns.Parse(columnSpecs);
            PolicyCompilerOptions? options = null;
            if (parsed.GetValue(now) is { } nowText)
            {
                if (!Rfc3339.TryParse(nowText, out var instant))
                {
                    throw new UsageException($"--now: '{UnsafeText.Escape(nowText)}' is not an RFC 3339 date-time with Z or an offset (2026-07-01T00:00:00Z)");
                }

                options = new PolicyCompilerOptions { TimeProvider = new FixedClock(instant) };
            }

            var loaded = PolicyFiles.LoadForUse(parsed.GetValue(policy)!, console.Error, options);
            if (loaded is null)
            {
                return AirbacCli.ExitUsage;
            }

            Subject? chain = null;
            foreach (string id in (parsed.GetValue(onBehalfOf) ?? []).Reverse())
            {
                chain = new Subject(id, onBehalfOf: chain);
            }

            string[] roles = parsed.GetValue(role) ?? [];
            var asking = new Subject(
                parsed.GetValue(subject)!,
                SubjectKinds.TryParse(parsed.GetValue(kind), out var given) ? given : null,
                roles.Length == 0 ? null : roles.Select(r => new RoleBinding(r)),
                chain);
            var filter = loaded.Policy!.FilterFor(asking, parsed.GetValue(action)!);
            if (outputFormat == "text")
            {
                console.Out.WriteLine(filter.ToString());
                return AirbacCli.ExitOk;
            }

            string printed;
            try
            {
                var store = filter.ToStoreFilter(FilterRow.Mapping(columns), FilterRow.Options);
                var tree = PredicateNode.Read(store.Predicate);
                printed = outputFormat == "sql"
                    ? Header(asking, filter, store, columns, "--") + SqlWhereWriter.Write(tree, columns, Tuning.Cli.MaxFilterOutputCharacters)
                    : Header(asking, filter, store, null, "//") + CSharpPredicateWriter.Write(tree, Tuning.Cli.MaxFilterOutputCharacters);
            }
            catch (Exception e) when (e is NotSupportedException or InsufficientExecutionStackException)
            {
                string why = e is InsufficientExecutionStackException ? "the condition is nested too deeply to print" : e.Message;
                console.Error.WriteLine($"error: cannot print the filter as {outputFormat}: {why}");
                return AirbacCli.ExitUsage;
            }

            console.Out.WriteLine(printed);
            return AirbacCli.ExitOk;
        });
        return command;
    }

    /// <summary>
    /// The comment lines before a printed store filter: whom and what it is for, the instants it holds for, the columns
    /// (SQL), and whether it is exact or which parts are widened and need the post-filter. Ids are escaped
    /// (<c>\u000A</c>), so none ends a comment line.
    /// </summary>
    private static string Header(Subject asking, PolicyFilter filter, StoreFilter<FilterRow> store, FilterColumns? columns, string comment)
    {
        var text = new StringBuilder();
        void Line(string line) => text.Append(comment).Append(' ').Append(line).Append('\n');
        var chain = new StringBuilder();
        for (var link = asking.OnBehalfOf; link is not null; link = link.OnBehalfOf)
        {
            chain.Append(chain.Length == 0 ? " acting for " : ", for ").Append('\'').Append(UnsafeText.Escape(link.Id)).Append('\'');
        }

        string what = columns is null ? "the records (C# predicate over the record)" : "the rows (the condition of a PostgreSQL WHERE clause)";
        Line(string.Create(CultureInfo.InvariantCulture,
            $"airbac filter: {what} subject '{UnsafeText.Escape(filter.SubjectId)}'{chain} may '{UnsafeText.Escape(filter.Action)}', as of {Rfc3339.Format(filter.At)}"));
        if (filter.ValidFrom is not null || filter.ValidUntil is not null)
        {
            Line("valid only while the clock reads"
                + (filter.ValidFrom is { } from ? " from " + Rfc3339.Format(from) : string.Empty)
                + (filter.ValidUntil is { } until ? " until " + Rfc3339.Format(until) + " (a binding expires)" : string.Empty) + "; print it again then");
        }

        if (columns is not null)
        {
            var mapped = new List<string>();
            var missing = new List<string>();
            foreach (var field in Enum.GetValues<RowField>())
            {
                string label = field.ToString().ToLowerInvariant();
                if (columns[field] is { } name)
                {
                    mapped.Add(label + " " + SqlWhereWriter.Identifier(UnsafeText.Escape(name)) + field switch
                    {
                        RowField.Tier => " (text: the tier's name)",
                        RowField.Tags => " (text[])",
                        _ => string.Empty,
                    });
                }
                else
                {
                    missing.Add(label);
                }
            }

            Line("columns: " + string.Join(", ", mapped) + (missing.Count == 0 ? string.Empty : "; none for " + string.Join(", ", missing) + " (absent from every row)"));
        }

        if (store.IsExact)
        {
            Line("exact: it passes exactly the resources Authorize allows.");
            return text.ToString();
        }

        Line("approximate: it passes every resource Authorize allows and some it denies; post-filter the result (StoreFilter.PostFilter, AuthorizeMany):");
        if (store.Approximations.HasFlag(StoreFilterApproximations.NamePatterns))
        {
            Line("  name patterns with *, ? or a class are widened (a grant to LIKE with %, a deny left out of the condition)");
        }

        if (store.Approximations.HasFlag(StoreFilterApproximations.ScopePaths))
        {
            Line("  scopes are widened (scope coverage and syntax)");
        }

        if (store.Approximations.HasFlag(StoreFilterApproximations.UnknownTags))
        {
            Line("  tags the policy never names are not tested");
        }

        if (store.Approximations.HasFlag(StoreFilterApproximations.Incomplete))
        {
            Line("  the policy filter is incomplete (a size bound was reached): everything passes; decide each resource with AuthorizeMany");
        }

        return text.ToString();
    }
}
