using System.CommandLine;
using System.Globalization;
using AiRbac.Model;

namespace AiRbac.Cli.Commands;

/// <summary>
/// <c>airbac diff OLD NEW [--requests FILE]</c>: the exact change between two compiled policies, per role with
/// inheritance resolved, and with a corpus the decisions that change; exit 0 no change, 1 changes, 2 usage.
/// </summary>
internal static class DiffCommand
{
    public static Command Create(CliConsole console)
    {
        var oldPath = new Argument<string>("OLD") { Description = "The policy before the change." };
        var newPath = new Argument<string>("NEW") { Description = "The policy after the change." };
        var requests = new Option<string>("--requests") { Description = "Replay a JSON Lines corpus on both policies and report every decision whose reason changes; '-' reads standard input.", HelpName = "FILE" };
        var command = new Command("diff", "Compare two policies by meaning, not text: roles added and removed; per role (inheritance resolved) grants, denies, ceilings, clearances and kinds gained and lost; tiers, catalog, constraints and bindings. Exit 0 no change, 1 changes, 2 usage.")
        {
            oldPath,
            newPath,
            requests,
        };
        command.SetAction(parsed => Execute(console, parsed.GetValue(oldPath)!, parsed.GetValue(newPath)!, parsed.GetValue(requests)));
        return command;
    }

    private static int Execute(CliConsole console, string oldPath, string newPath, string? corpus)
    {
        PolicyFiles.RequireFile(oldPath);
        PolicyFiles.RequireFile(newPath);
        if (corpus is not null && corpus != "-")
        {
            PolicyFiles.RequireFile(corpus);
        }

        var before = PolicyFiles.LoadForUse(oldPath, console.Error);
        var after = PolicyFiles.LoadForUse(newPath, console.Error);
        if (before is null || after is null)
        {
            return AirbacCli.ExitUsage;
        }

        var output = console.Out;
        output.WriteLine($"--- {oldPath}");
        output.WriteLine($"+++ {newPath}");
        int changes = CompareRoles(before.Policy!, after.Policy!, output);
        changes += ComparePolicyWide(before, after, output);
        if (changes == 0)
        {
            output.WriteLine("policy: no change");
        }

        if (corpus is not null)
        {
            int? flipped = Replay(console, before.Policy!, after.Policy!, corpus);
            if (flipped is null)
            {
                return AirbacCli.ExitUsage;
            }

            changes += flipped.Value;
        }

        return changes > 0 ? AirbacCli.ExitNegative : AirbacCli.ExitOk;
    }

    private static int CompareRoles(CompiledPolicy before, CompiledPolicy after, TextWriter output)
    {
        int changes = 0;
        var added = after.Roles.Where(r => !before.Roles.Any(o => o.Name == r.Name)).Select(r => r.Name).ToList();
        var removed = before.Roles.Where(r => !after.Roles.Any(n => n.Name == r.Name)).Select(r => r.Name).ToList();
        if (added.Count > 0)
        {
            output.WriteLine($"roles added: {string.Join(", ", added)}");
            changes += added.Count;
        }

        if (removed.Count > 0)
        {
            output.WriteLine($"roles removed: {string.Join(", ", removed)}");
            changes += removed.Count;
        }

        foreach (var newRole in after.Roles)
        {
            if (before.Roles.FirstOrDefault(r => r.Name == newRole.Name) is not { } oldRole)
            {
                continue;
            }

            var lines = new List<string>();
            if (oldRole.Id != newRole.Id)
            {
                lines.Add($"  id: {oldRole.Id} -> {newRole.Id}");
            }

            SetChange(lines, "inherits", oldRole.Ancestors, newRole.Ancestors);
            SetChange(lines, "allow", EffectiveRules(before, oldRole, "allow"), EffectiveRules(after, newRole, "allow"));
            SetChange(lines, "deny", EffectiveRules(before, oldRole, "deny"), EffectiveRules(after, newRole, "deny"));
            if (oldRole.MaxSensitivity != newRole.MaxSensitivity)
            {
                lines.Add($"  max_sensitivity: {oldRole.MaxSensitivity} -> {newRole.MaxSensitivity}");
            }

            SetChange(lines, "clearance", oldRole.Clearances, newRole.Clearances);
            string oldKinds = EffectiveRoles.KindsText(oldRole), newKinds = EffectiveRoles.KindsText(newRole);
            if (oldKinds != newKinds)
            {
                lines.Add($"  kinds: {oldKinds} -> {newKinds}");
            }

            if (lines.Count > 0)
            {
                output.WriteLine($"role {newRole.Name}:");
                foreach (string line in lines)
                {
                    output.WriteLine(line);
                }

                changes += lines.Count;
            }
        }

        return changes;
    }

    private static List<string> EffectiveRules(CompiledPolicy policy, RoleInfo role, string effect)
        => [.. EffectiveRoles.Rules(policy, role).Where(r => r.Effect == effect).Select(r => r.Rule).Distinct(StringComparer.Ordinal)];

    /// <summary>Adds <c>+ what item</c> for items gained and <c>- what item</c> for items lost, in list order.</summary>
    private static void SetChange(List<string> lines, string what, IReadOnlyList<string> before, IReadOnlyList<string> after)
    {
        var old = new HashSet<string>(before, StringComparer.Ordinal);
        var now = new HashSet<string>(after, StringComparer.Ordinal);
        lines.AddRange(after.Where(x => !old.Contains(x)).Distinct(StringComparer.Ordinal).Select(x => $"  + {what} {x}"));
        lines.AddRange(before.Where(x => !now.Contains(x)).Distinct(StringComparer.Ordinal).Select(x => $"  - {what} {x}"));
    }

    private static int ComparePolicyWide(PolicyCompilation before, PolicyCompilation after, TextWriter output)
    {
        var lines = new List<string>();
        string oldTiers = string.Join(" < ", before.Policy!.Tiers), newTiers = string.Join(" < ", after.Policy!.Tiers);
        if (oldTiers != newTiers)
        {
            lines.Add($"tiers: {oldTiers} -> {newTiers}");
        }

        if (before.Policy.DefaultSensitivity != after.Policy.DefaultSensitivity)
        {
            lines.Add($"default_sensitivity: {before.Policy.DefaultSensitivity} -> {after.Policy.DefaultSensitivity}");
        }

        // The catalog is first-match-wins, so its order matters: entries are compared with their position.
        var oldCatalog = Catalog(before);
        var newCatalog = Catalog(after);
        if (!oldCatalog.SequenceEqual(newCatalog, StringComparer.Ordinal))
        {
            var catalogLines = new List<string>();
            SetChange(catalogLines, "resource", oldCatalog, newCatalog);
            if (catalogLines.Count == 0)
            {
                catalogLines.Add("  order changed (first match wins)");
            }

            lines.Add("catalog:");
            lines.AddRange(catalogLines);
        }

        var constraintLines = new List<string>();
        SetChange(constraintLines, "constraint", Constraints(before.Document!), Constraints(after.Document!));
        if (constraintLines.Count > 0)
        {
            lines.Add("constraints:");
            lines.AddRange(constraintLines);
        }

        var bindingLines = new List<string>();
        SetChange(bindingLines, "binding", Bindings(before.Document!), Bindings(after.Document!));
        if (bindingLines.Count > 0)
        {
            lines.Add("bindings:");
            lines.AddRange(bindingLines);
        }

        foreach (string line in lines)
        {
            output.WriteLine(line);
        }

        return lines.Count;
    }

    private static List<string> Catalog(PolicyCompilation loaded)
    {
        var policy = loaded.Policy!;
        return [.. loaded.Document!.Resources.Select(entry =>
            $"{entry.Match.Value} sensitivity {entry.Sensitivity?.Value ?? policy.DefaultSensitivity} tags [{string.Join(", ", entry.Tags.Select(t => t.Value).Order(StringComparer.Ordinal))}]")];
    }

    private static List<string> Constraints(PolicyDocument document)
    {
        var result = new List<string>();
        result.AddRange(document.Constraints.MutuallyExclusive.Select(set => $"mutually_exclusive [{string.Join(", ", set.Roles.Select(r => r.Value))}]"));
        result.AddRange(document.Constraints.NotByOwner.Select(p => $"not_by_owner {p.Value}"));
        result.AddRange(document.Constraints.MinHolders.Select(m => $"min_holders {m.Role.Value}: {m.Count.Value}"));
        return result;
    }

    private static List<string> Bindings(PolicyDocument document)
    {
        static string Binding(RoleBindingDefinition b)
            => b.Role.Value + (b.Scope is { } s ? $" scope {s.Value}" : "") + (b.Expires is { } e ? $" expires {e.Value}" : "");

        var result = new List<string>();
        result.AddRange(document.Bindings.Groups.Select(g => $"group {g.Name.Value}: [{string.Join(", ", g.Roles.Select(Binding))}]"));
        result.AddRange(document.Bindings.Subjects.Select(s =>
            $"subject {s.Id.Value}: kind {s.Kind?.Value ?? "(default)"}, roles [{string.Join(", ", s.Roles.Select(Binding))}], groups [{string.Join(", ", s.Groups.Select(g => g.Value))}]"
            + (s.Scope is { } scope ? $", scope {scope.Value}" : "") + (s.Expires is { } expires ? $", expires {expires.Value}" : "")));
        return result;
    }

    /// <summary>Replays the corpus on both policies; prints each request whose reason changes and the counts by old→new reason.</summary>
    /// <returns>The number of changed decisions, or <see langword="null"/> after a bad line.</returns>
    private static int? Replay(CliConsole console, CompiledPolicy before, CompiledPolicy after, string corpus)
    {
        var output = console.Out;
        var counts = new SortedDictionary<string, int>(StringComparer.Ordinal);
        long total = 0;
        int changed = 0, flipped = 0;
        var reader = RequestCorpus.Open(corpus, console.In);
        try
        {
            foreach (var (line, request) in RequestCorpus.Read(reader))
            {
                total++;
                var a = request.AuthorizeWith(before);
                var b = request.AuthorizeWith(after);
                if (a.Reason == b.Reason)
                {
                    continue;
                }

                if (changed == 0)
                {
                    output.WriteLine("decisions that change:");
                }

                changed++;
                flipped += a.Allowed != b.Allowed ? 1 : 0;
                string key = $"{a.ReasonName} -> {b.ReasonName}";
                counts[key] = counts.GetValueOrDefault(key) + 1;
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  line {line}: {Describe(a)} -> {Describe(b)}"));
            }
        }
        catch (BadInputLineException e)
        {
            output.Flush();
            console.Error.WriteLine($"error: {corpus}: {e.Message}");
            return null;
        }
        finally
        {
            if (!ReferenceEquals(reader, console.In))
            {
                reader.Dispose();
            }
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"decisions: {total} replayed, {changed} changed reason, {flipped} flipped between allowed and denied"));
        foreach (var (key, count) in counts)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {key}: {count}"));
        }

        return changed;
    }

    private static string Describe(Decision decision)
        => decision.Role is null ? decision.ReasonName
            : decision.Rule is null ? $"{decision.ReasonName} ({decision.Role})" : $"{decision.ReasonName} ({decision.Role}: {decision.Rule})";
}
