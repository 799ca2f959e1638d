using System.CommandLine;
using AiRbac.Diagnostics;

namespace AiRbac.Cli.Commands;

/// <summary>
/// <c>airbac filter POLICY --subject ID [--kind K] [--role R ...] [--on-behalf-of ID ...] --action A [--now TIME]</c>:
/// prints which resources the subject (and the subjects it acts for) may perform the action on, as the policy filter
/// <see cref="CompiledPolicy.FilterFor"/> builds it (docs/retrieval.md). Exit 0, or 2 for usage or a bad policy.
/// </summary>
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
        var command = new Command("filter", "Print the resources a subject (with the subjects it acts on behalf of) may perform an action on: the scope branches, each link's denies, owner rule and grants with their ceilings and clearances, and the catalog's classification (docs/retrieval.md).")
        {
            policy, subject, kind, role, onBehalfOf, action, now,
        };
        command.SetAction(parsed =>
        {
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
            console.Out.WriteLine(loaded.Policy!.FilterFor(asking, parsed.GetValue(action)!).ToString());
            return AirbacCli.ExitOk;
        });
        return command;
    }
}
