using System.Runtime.CompilerServices;

namespace AiRbac;

/// <summary>
/// A read-only string → id map for the few names a policy interns on the request path (actions, tiers, tags).
/// Open addressing over a power-of-two table with a cheap hash of the length and three characters, then one ordinal
/// comparison: measured with callgrind at about a fifth of the instructions of a FrozenDictionary lookup for the
/// reference scenario's action names (benchmarks/, docs/benchmarks.md).
/// </summary>
internal sealed class NameTable
{
    private readonly string?[] keys;
    private readonly int[] ids;
    private readonly int mask;

    public NameTable(IReadOnlyDictionary<string, int> names)
    {
        int size = 4;
        while (size < names.Count * 4)
        {
            size <<= 1;
        }

        keys = new string?[size];
        ids = new int[size];
        mask = size - 1;
        foreach (var (name, id) in names)
        {
            int slot = Hash(name) & mask;
            while (keys[slot] is not null)
            {
                slot = (slot + 1) & mask;
            }

            keys[slot] = name;
            ids[slot] = id;
        }
    }

    public int Count => keys.Count(k => k is not null);

    /// <summary>The id of <paramref name="name"/>, or -1.</summary>
    public int Find(string name)
    {
        if (name.Length == 0)
        {
            return -1;
        }

        int slot = Hash(name) & mask;
        while (true)
        {
            string? key = keys[slot];
            if (key is null)
            {
                return -1;
            }

            if (string.Equals(key, name, StringComparison.Ordinal))
            {
                return ids[slot];
            }

            slot = (slot + 1) & mask;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Hash(string s)
    {
        int n = s.Length;
        return (int)((uint)(n * -1640531535) ^ ((uint)s[0] * 31u) ^ ((uint)s[n - 1] * 131u) ^ ((uint)s[n >> 1] * 7919u));
    }
}
