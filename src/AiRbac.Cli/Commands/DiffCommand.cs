using System.CommandLine;
using System.Globalization;
using AiRbac.Model;

namespace AiRbac.Cli.Commands;

/// <summary>
/// <c>airbac diff OLD NEW [--requests FILE | --audit FILE]</c>: the exact change between two compiled policies, per role
/// with inheritance resolved, and with a corpus or a decision audit log the decisions that change; exit 0 no change,
/// 1 changes, 2 usage (and an audit log that could not be replayed whole).
/// </summary>
internal static class DiffCommand
{
    public static Command Create(CliConsole console)
    {
        var oldPath = new Argument<string>("OLD") { Description = "The policy before the change." };
        var newPath = new Argument<string>("NEW") { Description = "The policy after the change." };
        var requests = new Option<string>("--requests") { Description = "Replay a JSON Lines corpus on both policies and report every decision whose reason changes; '-' reads standard input.", HelpName = "FILE" };
        var audit = new Option<string>("--audit") { Description = "Replay a decision audit log (JSON Lines, as AddAiRbac writes it) on both policies, each request as of its logged time, and report the decisions whose reason changes by old -> new reason, with counts and the subjects affected; '-' reads standard input.", HelpName = "FILE" };
        var command = new Command("diff", "Compare two policies by meaning, not text: roles added and removed; per role (inheritance resolved) grants, denies, ceilings, clearances and kinds gained and lost; tiers, catalog, constraints and bindings. Exit 0 no change, 1 changes, 2 usage.")
        {
            oldPath,
            newPath,
            requests,
            audit,
        };
        command.SetAction(parsed => Execute(console, parsed.GetValue(oldPath)!, parsed.GetValue(newPath)!, parsed.GetValue(requests), parsed.GetValue(audit)));
        return command;
    }

    private static int Execute(CliConsole console, string oldPath, string newPath, string? corpus, string? auditLog)
    {
        if (corpus is not null && auditLog is not null)
        {
            throw new UsageException("--requests and --audit replay different inputs; give one of them");
        }

        PolicyFiles.RequireFile(oldPath);
        PolicyFiles.RequireFile(newPath);
        foreach (string? input in new[] { corpus, auditLog })
        {
            if (input is not null && input != "-")
            {
                PolicyFiles.RequireFile(input);
            }
        }

        // An audit replay decides each record as of its logged time: both policies read this clock, which reads the
        // current time until the replay sets it.
        var clock = new FixedClock(TimeProvider.System.GetUtcNow());
        var options = auditLog is null ? null : new PolicyCompilerOptions { TimeProvider = clock };
        var before = PolicyFiles.LoadForUse(oldPath, console.Error, options);
        var after = PolicyFiles.LoadForUse(newPath, console.Error, options);
        if (before is null || after is null)
        {
            return AirbacCli.ExitUsage;
        }

        var output = console.Out;
        output.WriteLine($"--- {oldPath}");
        output.WriteLine($"+++ {newPath}");
        // Who holds what, in each policy: computed once here and used by every part of the report.
        var oldHeld = WhoHoldsWhat(before);
        var newHeld = WhoHoldsWhat(after);
        int changes = CompareRoles(before, after, oldHeld, newHeld, output);
        changes += ComparePolicyWide(before, after, oldHeld, newHeld, output);
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

        if (auditLog is not null)
        {
            var (changed, incomplete) = AuditReplay.Run(console, before, after, clock, oldPath, auditLog);
            if (incomplete)
            {
                // Fail closed: a replay that could not decide every logged request again cannot say "no change".
                console.Error.WriteLine($"error: {auditLog}: some lines or records could not be replayed (see the totals); the replay is incomplete");
                return AirbacCli.ExitUsage;
            }

            changes += changed > 0 ? 1 : 0;
        }

        return changes > 0 ? AirbacCli.ExitNegative : AirbacCli.ExitOk;
    }

    /// <summary>
    /// The effective roles of every subject of the policy's <c>bindings</c>: the one call that computes them for the diff
    /// (swap here for a core "who holds what" view).
    /// </summary>
    private static IReadOnlyList<SubjectRoles> WhoHoldsWhat(PolicyCompilation loaded) => HeldRoles.Of(loaded.Policy!);

    private static int CompareRoles(PolicyCompilation oldLoaded, PolicyCompilation newLoaded, IReadOnlyList<SubjectRoles> oldHeld, IReadOnlyList<SubjectRoles> newHeld, TextWriter output)
    {
        CompiledPolicy before = oldLoaded.Policy!, after = newLoaded.Policy!;
        int changes = 0;
        var added = after.Roles.Where(r => before.Roles.All(o => o.Name != r.Name)).ToList();
        var removed = before.Roles.Where(r => after.Roles.All(n => n.Name != r.Name)).ToList();
        if (added.Count > 0)
        {
            output.WriteLine($"roles added: {string.Join(", ", added.Select(r => r.Name))}");
            changes += added.Count;
        }

        if (removed.Count > 0)
        {
            output.WriteLine($"roles removed: {string.Join(", ", removed.Select(r => r.Name))}");
            changes += removed.Count;
        }

        // An added or removed role is shown whole: what it grants and denies (inheritance resolved, each grant with the
        // ceiling and clearances it is judged with), its own settings, the constraints naming it and who holds it.
        foreach (var role in added)
        {
            WholeRole(output, "added", '+', newLoaded, newHeld, role);
        }

        foreach (var role in removed)
        {
            WholeRole(output, "removed", '-', oldLoaded, oldHeld, role);
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

            SetChange(lines, "condition", oldRole.Conditions, newRole.Conditions);
            if (BreakGlassText(oldRole) != BreakGlassText(newRole))
            {
                lines.Add($"  break_glass: {BreakGlassText(oldRole)} -> {BreakGlassText(newRole)}");
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

    /// <summary>Prints everything one added (<c>+</c>) or removed (<c>-</c>) role is and does.</summary>
    private static void WholeRole(TextWriter output, string what, char sign, PolicyCompilation loaded, IReadOnlyList<SubjectRoles> subjects, RoleInfo role)
    {
        var policy = loaded.Policy!;
        output.WriteLine($"role {role.Name} ({what}):");
        if (role.Id != role.Name)
        {
            output.WriteLine($"  {sign} id {role.Id}");
        }

        output.WriteLine($"  {sign} kinds {EffectiveRoles.KindsText(role)}");
        output.WriteLine($"  {sign} max_sensitivity {role.MaxSensitivity}{(role.MaxSensitivity == policy.Tiers[^1] ? " (the highest tier)" : "")}");
        foreach (string clearance in role.Clearances)
        {
            output.WriteLine($"  {sign} clearance {clearance}");
        }

        foreach (string ancestor in role.Ancestors)
        {
            output.WriteLine($"  {sign} inherits {ancestor}");
        }

        foreach (string condition in role.Conditions)
        {
            output.WriteLine($"  {sign} condition {condition}");
        }

        if (role.IsBreakGlass)
        {
            output.WriteLine($"  {sign} break_glass {BreakGlassText(role)}");
        }

        bool any = false;
        foreach (var rule in EffectiveRoles.Rules(policy, role))
        {
            any = true;
            output.WriteLine($"  {sign} {RuleText(rule, role)}");
        }

        if (!any)
        {
            output.WriteLine($"  {sign} (no grant and no deny)");
        }

        foreach (string constraint in RoleConstraints(loaded.Document!, policy, role))
        {
            output.WriteLine($"  {sign} constraint {constraint}");
        }

        foreach (var subject in subjects)
        {
            foreach (var held in subject.Roles.Where(h => h.Role == role.Name))
            {
                output.WriteLine($"  {sign} held by {subject.Id} ({SubjectKinds.ToName(subject.Kind)}){(held.Through == role.Name ? "" : $" through {held.Through}")}{held.Conditions}");
            }
        }
    }

    /// <summary>A role's break-glass setting as the diff prints it.</summary>
    private static string BreakGlassText(RoleInfo role) => role.MaxActivation is { } max ? $"max_activation {Duration.Format(max)}" : "none";

    /// <summary>A rule with where it comes from and, for a grant, the ceiling and clearances it is judged with.</summary>
    private static string RuleText(EffectiveRule rule, RoleInfo role)
    {
        var notes = new List<string>();
        if (rule.Via != role.Name)
        {
            notes.Add($"via {rule.Via}");
        }

        if (rule.Effect == "allow")
        {
            notes.Add($"max_sensitivity {rule.MaxSensitivity}");
            if (rule.Clearances.Count > 0)
            {
                notes.Add($"clearances {string.Join(", ", rule.Clearances)}");
            }
        }

        return notes.Count == 0 ? $"{rule.Effect} {rule.Rule}" : $"{rule.Effect} {rule.Rule} ({string.Join("; ", notes)})";
    }

    /// <summary>The constraints that name the role (by name or id): its <c>mutually_exclusive</c> lists and <c>min_holders</c>.</summary>
    private static IEnumerable<string> RoleConstraints(PolicyDocument document, CompiledPolicy policy, RoleInfo role)
    {
        bool Names(LocatedString reference) => ReferenceEquals(policy.FindRole(reference.Value), role);
        return document.Constraints.MutuallyExclusive.Where(set => set.Roles.Any(Names))
                .Select(set => $"mutually_exclusive [{string.Join(", ", set.Roles.Select(r => r.Value))}]")
            .Concat(document.Constraints.MinHolders.Where(m => Names(m.Role)).Select(m => $"min_holders {m.Count.Value}"));
    }

    /// <summary>
    /// Bindings whose role reference (a name or an id, as written) resolves to another role, or to a role where there was
    /// none (or the other way round): the binding text is unchanged, but what it gives is not.
    /// </summary>
    private static List<string> BindingTargets(PolicyCompilation before, PolicyCompilation after)
    {
        static IEnumerable<string> References(PolicyDocument document)
            => document.Bindings.Groups.SelectMany(g => g.Roles).Concat(document.Bindings.Subjects.SelectMany(s => s.Roles)).Select(b => b.Role.Value);

        static string Target(CompiledPolicy policy, string reference)
            => policy.FindRole(reference) is { } role ? $"role {role.Name}" : "undeclared";

        var old = References(before.Document!).ToHashSet(StringComparer.Ordinal);
        var lines = new List<string>();
        foreach (string reference in References(after.Document!).Distinct(StringComparer.Ordinal).Where(old.Contains))
        {
            string from = Target(before.Policy!, reference), to = Target(after.Policy!, reference);
            if (from != to)
            {
                lines.Add($"  {reference}: {from} -> {to}");
            }
        }

        return lines;
    }

    /// <summary>
    /// Every subject of either policy's <c>bindings</c> whose effective roles (kinds applied, groups expanded, with their
    /// scope and expiry) or whose resulting grants and denies differ between the two policies, with what it gains and loses.
    /// </summary>
    private static List<string> SubjectChanges(PolicyCompilation before, PolicyCompilation after, IReadOnlyList<SubjectRoles> oldHeld, IReadOnlyList<SubjectRoles> newHeld)
    {
        var oldSubjects = oldHeld.ToDictionary(s => s.Id, StringComparer.Ordinal);
        var newSubjects = newHeld.ToDictionary(s => s.Id, StringComparer.Ordinal);
        var lines = new List<string>();
        var ids = newSubjects.Keys.Concat(oldSubjects.Keys.Where(id => !newSubjects.ContainsKey(id)));
        foreach (string id in ids)
        {
            var oldSubject = oldSubjects.GetValueOrDefault(id);
            var newSubject = newSubjects.GetValueOrDefault(id);
            var subjectLines = new List<string>();
            SetChange(subjectLines, "role", Held(oldSubject), Held(newSubject));
            SetChange(subjectLines, "", Access(before.Policy!, oldSubject), Access(after.Policy!, newSubject));
            if (subjectLines.Count == 0)
            {
                continue;
            }

            string kind = newSubject is null ? SubjectKinds.ToName(oldSubject!.Kind)
                : oldSubject is null || oldSubject.Kind == newSubject.Kind ? SubjectKinds.ToName(newSubject.Kind)
                : $"{SubjectKinds.ToName(oldSubject.Kind)} -> {SubjectKinds.ToName(newSubject.Kind)}";
            string status = oldSubject is null ? ", added" : newSubject is null ? ", removed" : "";
            lines.Add($"  {id} ({kind}{status}):");
            lines.AddRange(subjectLines.Select(l => "  " + l));
        }

        return lines;

        static List<string> Held(SubjectRoles? subject)
            => subject is null ? [] : [.. subject.Roles.Select(h => h.Text + (h.Through == h.Role ? "" : $" (through {h.Through})"))];
    }

    /// <summary>What a subject's effective roles allow and deny: each rule with the role that has it, its ceiling and clearances, and the binding's conditions.</summary>
    private static List<string> Access(CompiledPolicy policy, SubjectRoles? subject)
    {
        var result = new List<string>();
        if (subject is null)
        {
            return result;
        }

        foreach (var held in subject.Roles)
        {
            if (policy.FindRole(held.Role) is not { } role)
            {
                continue;
            }

            string clearances = role.Clearances.Count == 0 ? "" : $", clearances {string.Join(", ", role.Clearances)}";
            string gate = (role.Conditions.Count > 0 ? $", when {string.Join("; ", role.Conditions)}" : "") + (role.IsBreakGlass ? ", when activated (break-glass)" : "");
            result.AddRange(role.Allow.Select(rule => $"allow {rule} ({role.Name}, max_sensitivity {role.MaxSensitivity}{clearances}{gate}){held.Conditions}"));
            result.AddRange(role.Deny.Select(rule => $"deny {rule} ({role.Name}){held.Conditions}"));
        }

        return result;
    }

    private static List<string> EffectiveRules(CompiledPolicy policy, RoleInfo role, string effect)
        => [.. EffectiveRoles.Rules(policy, role).Where(r => r.Effect == effect).Select(r => r.Rule).Distinct(StringComparer.Ordinal)];

    /// <summary>Adds <c>+ what item</c> for items gained and <c>- what item</c> for items lost, in list order.</summary>
    private static void SetChange(List<string> lines, string what, IReadOnlyList<string> before, IReadOnlyList<string> after)
    {
        var old = new HashSet<string>(before, StringComparer.Ordinal);
        var now = new HashSet<string>(after, StringComparer.Ordinal);
        string label = what.Length == 0 ? "" : what + " ";
        lines.AddRange(after.Where(x => !old.Contains(x)).Distinct(StringComparer.Ordinal).Select(x => $"  + {label}{x}"));
        lines.AddRange(before.Where(x => !now.Contains(x)).Distinct(StringComparer.Ordinal).Select(x => $"  - {label}{x}"));
    }

    private static int ComparePolicyWide(PolicyCompilation before, PolicyCompilation after, IReadOnlyList<SubjectRoles> oldHeld, IReadOnlyList<SubjectRoles> newHeld, TextWriter output)
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

        var contextLines = new List<string>();
        SetChange(contextLines, "key", ContextKeys(before.Document!), ContextKeys(after.Document!));
        if (contextLines.Count > 0)
        {
            lines.Add("context:");
            lines.AddRange(contextLines);
        }

        var approvalLines = new List<string>();
        SetChange(approvalLines, "rule", [.. before.Policy.ApprovalRules.Select(r => r.ToString())], [.. after.Policy.ApprovalRules.Select(r => r.ToString())]);
        if (approvalLines.Count > 0)
        {
            lines.Add("approvals:");
            lines.AddRange(approvalLines);
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

        var targetLines = BindingTargets(before, after);
        if (targetLines.Count > 0)
        {
            lines.Add("binding targets (the same reference, another role):");
            lines.AddRange(targetLines);
        }

        var subjectLines = SubjectChanges(before, after, oldHeld, newHeld);
        if (subjectLines.Count > 0)
        {
            lines.Add("subjects whose effective roles or access change:");
            lines.AddRange(subjectLines);
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

    private static List<string> ContextKeys(PolicyDocument document)
        => [.. (document.Context ?? []).Select(k => $"{k.Name.Value}: {k.Type.Value}")];

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

    /// <summary>A decision as <c>reason (role: rule)</c>, for the replays of <c>--requests</c> and <c>--audit</c>.</summary>
    internal static string Describe(Decision decision)
        => decision.Role is null ? decision.ReasonName
            : decision.Rule is null ? $"{decision.ReasonName} ({decision.Role})" : $"{decision.ReasonName} ({decision.Role}: {decision.Rule})";
}
