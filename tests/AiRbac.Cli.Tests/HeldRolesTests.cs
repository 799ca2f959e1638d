using System.Text;
using AiRbac.Cli.Commands;

namespace AiRbac.Cli.Tests;

/// <summary>
/// The reports' "who holds what" (<see cref="HeldRoles"/>) agrees with the engine: on random policies with inheritance,
/// kinds, ids, groups, undeclared roles and scopes, a policy subject is allowed a role's own grant, in a given request
/// scope, exactly when the reports say it holds that role there.
/// </summary>
public class HeldRolesTests
{
    private static readonly string?[] Scopes = [null, "a", "a/b", "c"];
    private static readonly string?[] RequestScopes = [null, "a", "a/b", "a/b/c", "c", "d"];
    private static readonly string[] Kinds = ["user", "service", "agent"];

    [Fact]
    public void HeldRoles_OnRandomPolicies_AgreeWithTheEngine()
    {
        var random = new Random(20260601);
        using var files = new TempFiles();
        for (int round = 0; round < 300; round++)
        {
            string text = RandomPolicy(random, out int roleCount);
            var loaded = PolicyFiles.Load(files.Write($"p{round}.yaml", text));
            loaded.Policy.Should().NotBeNull(text + "\n" + string.Join("\n", loaded.Diagnostics));
            var policy = loaded.Policy!;

            foreach (var subject in HeldRoles.Of(policy))
            {
                for (int r = 0; r < roleCount; r++)
                {
                    foreach (string? scope in RequestScopes)
                    {
                        bool held = subject.Roles.Any(h => h.Role == $"r{r}" && (h.Scope is null || (scope is not null && Scope.Covers(h.Scope, scope))));
                        var decision = policy.Authorize(new Subject(subject.Id), $"r{r}:use", new ResourceRequest("res:x") { Scope = scope });
                        decision.Allowed.Should().Be(held,
                            $"subject {subject.Id} ({subject.Kind}) role r{r} in scope '{scope}': reports say [{string.Join(", ", subject.Roles.Select(h => h.Text))}], engine says {decision.Explain()}\n{text}");
                    }
                }
            }
        }
    }

    private static string RandomPolicy(Random random, out int roleCount)
    {
        int count = roleCount = random.Next(2, 7);
        var ids = new string?[roleCount];
        var text = new StringBuilder("version: 1\nroles:\n");
        for (int r = 0; r < roleCount; r++)
        {
            ids[r] = random.Next(4) == 0 ? $"id{r}" : null;
            text.Append($"  r{r}:\n");
            if (ids[r] is { } id)
            {
                text.Append($"    id: {id}\n");
            }

            // Parents come first, so inheritance has no cycle; a parent is named by name or id.
            var parents = Enumerable.Range(0, r).Where(_ => random.Next(3) == 0).Select(p => ids[p] ?? $"r{p}").ToList();
            if (parents.Count > 0)
            {
                text.Append($"    inherits: [{string.Join(", ", parents)}]\n");
            }

            if (random.Next(3) == 0)
            {
                text.Append($"    kinds: [{string.Join(", ", Kinds.Where(_ => random.Next(2) == 0).DefaultIfEmpty("agent"))}]\n");
            }

            text.Append($"    allow: [ \"r{r}:use on res:x\" ]\n");
        }

        string Reference()
        {
            int r = random.Next(count + 1);
            return r == count ? "ghost" : random.Next(2) == 0 && ids[r] is { } id ? id : $"r{r}";
        }

        string Binding()
        {
            string? scope = Scopes[random.Next(Scopes.Length)];
            return scope is null ? Reference() : $"{{ role: {Reference()}, scope: {scope} }}";
        }

        int groups = random.Next(3);
        text.Append("bindings:\n");
        if (groups > 0)
        {
            text.Append("  groups:\n");
            for (int g = 0; g < groups; g++)
            {
                text.Append($"    g{g}: [{string.Join(", ", Enumerable.Range(0, random.Next(1, 3)).Select(_ => Binding()))}]\n");
            }
        }

        text.Append("  subjects:\n");
        for (int s = 0; s < random.Next(1, 5); s++)
        {
            var parts = new List<string>();
            if (random.Next(4) != 0)
            {
                parts.Add($"kind: {Kinds[random.Next(Kinds.Length)]}");
            }

            parts.Add($"roles: [{string.Join(", ", Enumerable.Range(0, random.Next(0, 3)).Select(_ => Binding()))}]");
            if (groups > 0 && random.Next(2) == 0)
            {
                parts.Add($"groups: [g{random.Next(groups)}]");
            }

            if (Scopes[random.Next(Scopes.Length)] is { } scope)
            {
                parts.Add($"scope: {scope}");
            }

            text.Append($"    s{s}: {{ {string.Join(", ", parts)} }}\n");
        }

        return text.ToString();
    }
}
