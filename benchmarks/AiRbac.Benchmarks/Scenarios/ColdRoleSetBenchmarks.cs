using BenchmarkDotNet.Attributes;

namespace AiRbac.Benchmarks.Scenarios;

/// <summary>
/// Hostile role sets: the first decision for an effective role set the policy has never seen (an attacker who controls
/// role claims can send a new one on every request), on the scale-10000 policy. Each invocation builds a subject whose
/// role names are drawn afresh (<see cref="Size"/> roles; <c>-1</c>: every role but one, a different one each time), so
/// its set's table is never in the cache, and decides one request. The subject's construction is inside the figure
/// (microseconds at most against the table build). <see cref="WarmDecision"/> decides the same request for one such set
/// whose table is cached, as the reference point.
/// </summary>
[MemoryDiagnoser]
[BenchmarkCategory("ColdRoleSet")]
public class ColdRoleSetBenchmarks
{
    private CompiledPolicy policy = null!;
    private string[] roleNames = [];
    private Subject warm = null!;
    private int next;

    /// <summary>How many roles the subject names: 2, 50, 500, or -1 for every role but one.</summary>
    [Params(2, 50, 500, -1)]
    public int Size { get; set; }

    /// <summary>Compiles the scale-10000 policy and warms one set's table.</summary>
    [GlobalSetup]
    public void Setup()
    {
        policy = BenchmarkSettings.Scenario("scale-10000").Policy;
        roleNames = [.. policy.Roles.Select(r => r.Name)];
        warm = Next();
        policy.Authorize(warm, "data:read", "dataset:team00042/summary");
    }

    /// <summary>A subject with a never-seen role set, and its first decision.</summary>
    /// <returns>Whether it was allowed.</returns>
    [Benchmark(Baseline = true)]
    public bool FirstDecision() => policy.Authorize(Next(), "data:read", "dataset:team00042/summary").Allowed;

    /// <summary>The same request for a subject built per request whose set's table is cached.</summary>
    /// <returns>Whether it was allowed.</returns>
    [Benchmark]
    public bool WarmDecision() => policy.Authorize(new Subject(warm.Id, warm.Kind, warm.Roles), "data:read", "dataset:team00042/summary").Allowed;

    private Subject Next()
    {
        int n = roleNames.Length;
        int i = next++;
        if (Size < 0)
        {
            int skip = i % n;
            var all = new RoleBinding[n - 1];
            for (int r = 0, w = 0; r < n; r++)
            {
                if (r != skip)
                {
                    all[w++] = new RoleBinding(roleNames[r]);
                }
            }

            return new Subject("attacker", SubjectKind.User, all);
        }

        // A fresh pseudo-random draw each time: with 10,000 roles, a repeat of a set is vanishingly unlikely, and the cache
        // (16,384 sets, 64 MiB) would have evicted it first-in first-out long before.
        var random = new Random(i);
        var picked = new RoleBinding[Size];
        for (int k = 0; k < Size; k++)
        {
            picked[k] = new RoleBinding(roleNames[random.Next(n)]);
        }

        return new Subject("attacker", SubjectKind.User, picked);
    }
}
