using System.Runtime.CompilerServices;

namespace AiRbac;

/// <summary>
/// A read-only string → id map for names looked up on the request path (actions, tags, exact resources of large rule
/// lists). Open addressing over a power-of-two table and one ordinal comparison per probe. Small, well-spread key sets
/// use a cheap hash of the length and three characters (callgrind on the reference scenario: about a third of the
/// instructions of a FrozenDictionary lookup); when that hash clusters the keys, the full string hash is used instead.
/// </summary>
internal sealed class NameTable
{
    // Longest probe run accepted for the cheap hash before falling back to the full string hash.
    private const int MaxCheapProbe = 3;

    private readonly string?[] keys;
    private readonly int[] ids;
    private readonly int mask;
    private readonly bool fullHash;

    public NameTable(IEnumerable<KeyValuePair<string, int>> names)
    {
        var pairs = names.ToArray();
        int size = 4;
        while (size < pairs.Length * 4)
        {
            size <<= 1;
        }

        mask = size - 1;
        keys = new string?[size];
        ids = new int[size];
        if (Fill(pairs, full: false) > MaxCheapProbe)
        {
            Array.Clear(keys);
            fullHash = true;
            Fill(pairs, full: true);
        }
    }

    public int Count { get; private set; }

    private int Fill(KeyValuePair<string, int>[] pairs, bool full)
    {
        int longest = 0;
        Count = 0;
        foreach (var (name, id) in pairs)
        {
            int slot = (full ? FullHash(name) : CheapHash(name)) & mask;
            int probe = 0;
            while (keys[slot] is not null && !string.Equals(keys[slot], name, StringComparison.Ordinal))
            {
                slot = (slot + 1) & mask;
                probe++;
            }

            if (keys[slot] is null)
            {
                keys[slot] = name; // the first id given for a name wins
                ids[slot] = id;
                Count++;
            }

            longest = Math.Max(longest, probe);

            // Names the cheap hash clusters (same length and ends, like "x:10000" ... "x:99999") would make the rest
            // of this fill quadratic: give up at once, and the full hash is used instead.
            if (!full && longest > MaxCheapProbe)
            {
                return longest;
            }
        }

        return longest;
    }

    /// <summary>The id of <paramref name="name"/>, or -1.</summary>
    public int Find(string name)
    {
        if (name.Length == 0 || Count == 0)
        {
            return -1;
        }

        int slot = (fullHash ? FullHash(name) : CheapHash(name)) & mask;
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
    private static int CheapHash(string s)
    {
        int n = s.Length;
        return n == 0 ? 0 : (int)((uint)(n * -1640531535) ^ ((uint)s[0] * 31u) ^ ((uint)s[n - 1] * 131u) ^ ((uint)s[n >> 1] * 7919u));
    }

    // Randomized per process (Marvin), so request strings cannot be chosen to collide.
    private static int FullHash(string s) => StringComparer.Ordinal.GetHashCode(s);
}
